"""Every message type on the bus, declared once: who sends it, what it carries.

A message is named `<aggregate>.<past participle>`; the name is also its routing key.
Publishers validate `data` strictly against the schema; consumers validate too but ignore
fields they do not know, so a publisher can add a field without breaking older consumers.
Contact data (e-mail addresses, phone numbers) never travels on the bus.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from shared.fields import UUIDString


@dataclass(frozen=True)
class MessageType:
    name: str
    version: int
    schema: type[Schema]
    sender: str
    doc: str
    webhooks: bool = True  # may a webhook subscribe to it (notify forwards it)?


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


class PlaceData(Schema):
    """Where an event is, sent once, when its hidden address has just become public."""

    id = UUIDString(required=True)
    campaign_id = UUIDString(required=True)
    organisation_id = UUIDString(required=True)
    venue = fields.String(required=True, allow_none=True)
    address = fields.String(required=True, allow_none=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)


class ParticipationData(Schema):
    """How many will come to an event (people, not sign-ups): counts only, never who."""

    event_id = UUIDString(required=True)
    campaign_id = UUIDString(required=True)
    organisation_id = UUIDString(required=True)
    capacity = fields.Integer(required=True, allow_none=True)
    coming = fields.Integer(required=True)
    waiting = fields.Integer(required=True)
    cancelled = fields.Integer(required=True)
    checked_in = fields.Integer(required=True)  # people counted at the door, signed up or not


class CampaignData(Schema):
    """A campaign's public face: its name, its dates and its state."""

    id = UUIDString(required=True)
    name = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)
    day_of_action = fields.Date(required=True)
    window_start = fields.Date(required=True)
    window_end = fields.Date(required=True)
    list_date = fields.Date(required=True, allow_none=True)
    activity_types = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(["draft", "open", "closed"]))
    # Days after each event ends that its sign-ups are kept (null: the platform's setting); added
    # later, so a message without it reads as null.
    participation_keep_days = fields.Integer(load_default=None, allow_none=True)


class CampaignUpdatedData(CampaignData):
    changed = fields.List(fields.String(), required=True)


class CampaignRescheduledData(CampaignData):
    previous_day_of_action = fields.Date(required=True)
    previous_window_start = fields.Date(required=True)
    previous_window_end = fields.Date(required=True)
    # Events that now fall outside the window, so their organisations can be told.
    events_outside_window = fields.List(fields.Dict(), required=True)


class CampaignAdoptedData(Schema):
    id = UUIDString(required=True)
    endorsements = fields.Integer(required=True)
    threshold = fields.Integer(required=True)


class EndorsementData(Schema):
    campaign_id = UUIDString(required=True)
    organisation_id = UUIDString(required=True)
    number = fields.Integer(required=True, allow_none=True)


class EventData(Schema):
    """A local event, without its address: where exactly it happens stays in the events
    service, which decides when (and whether) anyone may see it."""

    id = UUIDString(required=True)
    campaign_id = UUIDString(required=True)
    organisation_id = UUIDString(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    activity_type = fields.String(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True)
    timezone = fields.String(required=True)
    starts_local = fields.String(required=True)
    ends_local = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True, format="iso")
    ends_at = fields.AwareDateTime(required=True, format="iso")
    status = fields.String(required=True)
    visibility = fields.String(required=True, validate=validate.OneOf(["public", "coordinators"]))
    # Organisations that accepted to host it too; absent from messages sent before co-hosts were.
    co_hosts = fields.List(UUIDString(), load_default=list)


class EventUpdatedData(EventData):
    changed = fields.List(fields.String(), required=True)


class EventRejectedData(EventData):
    reason = fields.String(required=True)


class CountryData(Schema):
    country = fields.String(required=True, validate=validate.Length(equal=2))


class MediaData(Schema):
    """An upload, without its content or anything taken from it: that stays in the media
    service, which publishes only what processing left clean."""

    id = UUIDString(required=True)
    organisation_id = UUIDString(required=True, allow_none=True)
    campaign_id = UUIDString(required=True)
    event_id = UUIDString(required=True, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(["photo", "video", "audio", "document"]))
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    status = fields.String(required=True)


class MediaRejectedData(MediaData):
    reason = fields.String(required=True)


class ReportData(Schema):
    """A report's public face (its text stays in the media service)."""

    id = UUIDString(required=True)
    campaign_id = UUIDString(required=True)
    event_id = UUIDString(required=True, allow_none=True)
    organisation_id = UUIDString(required=True)
    country = fields.String(required=True)
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)  # language → title
    language = fields.String(required=True)  # the original one, the first of `title`
    turnout = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(["submitted", "published", "rejected"]))

    @pre_load
    def _version_1(self, data, **kwargs):
        """Read (never sent): version 1 carried `title` as one string in `language`. A message sent
        before the upgrade and still queued is handled as {language: title}, not dead-lettered."""
        if self.unknown == EXCLUDE and isinstance(data, dict) and isinstance(data.get("title"), str):
            return {**data, "title": {str(data.get("language") or "en"): data["title"]}}
        return data


class ReportRejectedData(ReportData):
    reason = fields.String(required=True)


class MaterialData(Schema):
    id = UUIDString(required=True)
    series_id = UUIDString(required=True)
    version = fields.Integer(required=True)
    campaign_id = UUIDString(required=True)
    kind = fields.String(required=True)
    language = fields.String(required=True)
    title = fields.String(required=True)


class AuditData(Schema):
    """One decision on record (shared/audit.py): who, what, to what, why, before and after."""

    actor_role = fields.String(required=True, validate=validate.OneOf(["coordinator", "organisation", "operator"]))
    actor_id = fields.String(required=True, allow_none=True, validate=validate.Length(max=36))
    key_id = fields.String(required=True, allow_none=True, validate=validate.Length(max=36))
    action = fields.String(required=True, validate=validate.Length(min=3, max=80))
    subject_kind = fields.String(required=True, validate=validate.Length(min=1, max=40))
    subject_id = fields.String(required=True, validate=validate.Length(min=1, max=80))
    reason = fields.String(required=True, allow_none=True)
    before = fields.Dict(keys=fields.String(), required=True)
    after = fields.Dict(keys=fields.String(), required=True)


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
        MessageType("campaign.created", 1, CampaignData, "events", "A coordinator opened a campaign (as a draft or open)."),
        MessageType("campaign.updated", 1, CampaignUpdatedData, "events",
                    "A campaign's fields other than its dates changed; `changed` names them."),
        MessageType("campaign.rescheduled", 1, CampaignRescheduledData, "events",
                    "The day of action or the window moved; carries the previous dates and the events "
                    "that now fall outside the window."),
        MessageType("campaign.adopted", 1, CampaignAdoptedData, "events",
                    "A campaign reached its threshold of endorsements."),
        MessageType("endorsement.added", 1, EndorsementData, "events",
                    "An organisation endorsed a campaign; `number` is its place in the signatory list."),
        MessageType("endorsement.withdrawn", 1, EndorsementData, "events",
                    "An organisation withdrew its endorsement (`number` is null)."),
        MessageType("event.submitted", 1, EventData, "events", "An organisation submitted a local event."),
        MessageType("event.approved", 1, EventData, "events", "A coordinator approved a local event."),
        MessageType("event.rejected", 1, EventRejectedData, "events",
                    "A coordinator rejected a local event, with the reason."),
        MessageType("event.cancelled", 1, EventData, "events", "The organisation cancelled its local event."),
        MessageType("event.updated", 1, EventUpdatedData, "events",
                    "The event changed (an approved one's change once a coordinator accepted it); `changed` "
                    "names the fields (time, place, text…)."),
        MessageType("event.place_disclosed", 1, PlaceData, "events",
                    "An event's address, hidden until some hours before its start, has just become public: "
                    "where it is (sent once, then as any event's place)."),
        MessageType("event.participation_changed", 1, ParticipationData, "notify",
                    "Someone signed up for a public event, cancelled, was counted at the door, or the hosts "
                    "changed its places: the counts as they are now."),
        MessageType("country.held", 1, CountryData, "events",
                    "A coordinator hid every event of a country from public outputs (an emergency); other services "
                    "hold back what they publish of it."),
        MessageType("country.released", 1, CountryData, "events", "The country's events are public again."),
        MessageType("media.uploaded", 1, MediaData, "media",
                    "An upload arrived and waits for privacy processing in the media worker."),
        MessageType("media.processed", 1, MediaData, "media",
                    "An upload was cleaned (metadata removed, faces blurred if asked) and can be used."),
        MessageType("media.rejected", 1, MediaRejectedData, "media",
                    "An upload was refused — it could not be processed (corrupt, a decompression bomb…) or a "
                    "coordinator rejected the file, with why; nothing of it is kept."),
        # Version 2: `title` is language → title (was one string, in `language`).
        MessageType("report.submitted", 2, ReportData, "media", "An organisation sent a report; it waits for a coordinator."),
        MessageType("report.published", 2, ReportData, "media", "A coordinator published a report."),
        MessageType("report.rejected", 2, ReportRejectedData, "media", "A coordinator rejected a report, with why."),
        MessageType("material.published", 1, MaterialData, "media",
                    "A coordinator published an item of the material package, or a new version of one."),
        MessageType("audit.recorded", 1, AuditData, "any",
                    "A moderation or administrative decision, for the registry's audit log; never sent to "
                    "webhooks.", webhooks=False),
    )
}

# What a webhook may subscribe to: every type but the internal ones (the audit log's entries
# name who decided what, and why).
WEBHOOK_TYPES: dict[str, MessageType] = {name: kind for name, kind in CATALOGUE.items() if kind.webhooks}


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


__all__ = ["CATALOGUE", "WEBHOOK_TYPES", "MessageType", "UnknownMessageType", "ValidationError",
           "message_type", "validate_incoming", "validate_outgoing"]
