"""Every message type on the bus, declared once: who sends it, what it carries.

A message is named `<aggregate>.<past participle>`; the name is also its routing key.
Publishers validate `data` strictly against the schema; consumers validate too but ignore
fields they do not know, so a publisher can add a field without breaking older consumers.
Contact data (e-mail addresses, phone numbers) never travels on the bus.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from shared.fields import UUIDString


@dataclass(frozen=True)
class MessageType:
    name: str
    version: int
    schema: type[Schema]
    sender: str
    doc: str


class OrganisationData(Schema):
    """The public face of an organisation, as other services keep a copy of it."""

    id = UUIDString(required=True)
    abbreviation = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    country = fields.String(required=True, validate=validate.Length(equal=2))
    timezone = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    website = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(["active", "suspended"]))


class OrganisationUpdatedData(OrganisationData):
    changed = fields.List(fields.String(), required=True)


class OrganisationSuspendedData(Schema):
    id = UUIDString(required=True)
    reason = fields.String(required=True)


class OrganisationReinstatedData(Schema):
    id = UUIDString(required=True)


class KeyRevokedData(Schema):
    key_id = UUIDString(required=True)
    owner_kind = fields.String(required=True, validate=validate.OneOf(["coordinator", "organisation"]))
    owner_id = UUIDString(required=True)


CATALOGUE: dict[str, MessageType] = {
    m.name: m
    for m in (
        MessageType("organisation.registered", 1, OrganisationData, "registry",
                    "A coordinator registered an organisation; carries its public fields."),
        MessageType("organisation.updated", 1, OrganisationUpdatedData, "registry",
                    "An organisation's public fields changed; `changed` names them."),
        MessageType("organisation.suspended", 1, OrganisationSuspendedData, "registry",
                    "A coordinator suspended an organisation: its tokens are refused everywhere."),
        MessageType("organisation.reinstated", 1, OrganisationReinstatedData, "registry",
                    "A coordinator lifted a suspension."),
        MessageType("key.revoked", 1, KeyRevokedData, "registry",
                    "An API key was revoked: tokens minted from it are refused everywhere."),
    )
}


class UnknownMessageType(LookupError):
    pass


def message_type(name: str) -> MessageType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownMessageType(name) from None


@lru_cache(maxsize=None)
def _schema(name: str, unknown: str) -> Schema:
    # Building a schema costs more than using it; each is made once and reused.
    return message_type(name).schema(unknown=unknown)


def validate_outgoing(name: str, data: dict) -> dict:
    """Strict: a publisher that sends what the catalogue does not say has a bug."""
    return _schema(name, RAISE).load(data)


def validate_incoming(name: str, data: dict) -> dict:
    return _schema(name, EXCLUDE).load(data)


def dump(name: str, data: dict) -> dict:
    return _schema(name, RAISE).dump(data)


__all__ = ["CATALOGUE", "MessageType", "UnknownMessageType", "ValidationError",
           "message_type", "validate_incoming", "validate_outgoing"]
