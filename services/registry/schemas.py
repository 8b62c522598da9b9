"""What the registry's API accepts and answers."""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.fields import CountryCode, Email, LanguageCode, Text, TimeZone
from shared.http.auth import current_principal
from shared.http.dump import compile_dumper
from shared.http.pagination import PageArgs
from shared.http.problems import FieldError, ProblemSchema

STATUSES = ("active", "suspended")
LOCATION = {"Location": {"description": "The URL of what was made: GET it with the same credentials.",
                         "schema": {"type": "string", "format": "uri-reference"}}}
NO_STORE = {"Cache-Control": {"description": "`no-store`: the answer holds a secret.", "schema": {"type": "string"}}}

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
WEBSITE_PATTERN = (rf"^https?://{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?(?:/(?:{_PCHAR}|/)*)?"
                   rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?$")
_WEBSITE = re.compile(WEBSITE_PATTERN)


class WebAddress(fields.String):
    """An http(s) address with a host name that has a dot; in ASCII (percent-encoded), as a URI is."""

    def openapi(self) -> dict:
        return {"format": "uri", "pattern": WEBSITE_PATTERN, "maxLength": 500}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 500 or not _WEBSITE.match(text):
            raise ValidationError("must be an http:// or https:// address with a host name (example.org), "
                                  "in ASCII: percent-encode other characters.")
        return text


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A collection's answer: `{"items": [...], "next": url or null}` (docs/api.md, Lists)."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item)),
                             "next": fields.String(allow_none=True, metadata={
                                 "description": "The next page's URL; null on the last page."})}, name=name)


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("must not repeat a language.")


class OrganisationIn(Schema):
    abbreviation = Text(required=True, max_length=40)
    name = Text(required=True, max_length=300, metadata={"description": "As the organisation writes it, in any script."})
    name_en = Text(required=True, max_length=300)
    country = CountryCode(required=True, metadata={"description": "ISO 3166-1 alpha-2", "example": "KE"})
    timezone = TimeZone(required=True, metadata={"example": "Africa/Nairobi"})
    languages = fields.List(LanguageCode(), load_default=list, validate=[validate.Length(max=20), _unique],
                            metadata={"description": "ISO 639-1 codes, each once", "example": ["sw", "en"],
                                      "uniqueItems": True})
    website = WebAddress(allow_none=True, load_default=None, metadata={"example": "https://cpk.example"})
    contact_email = Email(allow_none=True, load_default=None,
                          metadata={"description": "Private: shown only to the organisation and coordinators."})


class OrganisationPatch(OrganisationIn):
    """The fields to change (at least one); those left out stay as they are."""

    OPENAPI = {"minProperties": 1}  # shared.http.openapi adds it to the document

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one field to change.")


PRIVATE_FIELDS = ("contact_email", "suspension_reason")


class OrganisationOut(Schema):
    """Contact fields are shown only to the organisation itself and to coordinators."""

    id = fields.String(dump_only=True)
    abbreviation = fields.String()
    name = fields.String()
    name_en = fields.String()
    country = fields.String()
    timezone = fields.String()
    languages = fields.List(fields.String())
    website = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")
    contact_email = fields.String(allow_none=True, metadata={
        "description": "Private: present only for the organisation itself and coordinators."})
    suspension_reason = fields.String(allow_none=True, metadata={
        "description": "Private: present only for the organisation itself and coordinators."})


class PendingRenameOut(Schema):
    id = fields.String()
    proposed = fields.Dict(metadata={"description": "The fields as the organisation would have them."})
    proposed_at = fields.AwareDateTime(format="iso")


class OrganisationReadOut(OrganisationOut):
    pending_rename = fields.Nested(PendingRenameOut, allow_none=True, metadata={
        "description": "Private: a new name, abbreviation or country the organisation asked for, waiting "
                       "for a coordinator; the fields above stay as approved."})


OrganisationPage = page_of(OrganisationOut, "OrganisationPage")


# The hot list's items, compiled from the page's own item schema (shared/http/dump.py).
_ITEM = OrganisationPage().fields["items"].inner.schema
_PUBLIC = compile_dumper(_ITEM.__class__(exclude=PRIVATE_FIELDS))
_FULL = compile_dumper(_ITEM)


def _sees_private(org_id: str) -> bool:
    principal = current_principal()
    return principal is not None and (principal.is_coordinator or principal.owns(org_id))


def present_organisations(orgs) -> list[dict]:
    """Organisations as the caller may see them: contact fields for coordinators and for
    the organisation itself only."""
    principal = current_principal()
    if principal is not None and principal.is_coordinator:
        return [_FULL(org) for org in orgs]
    own = principal.subject_id if principal is not None and principal.role == "organisation" else None
    return [_FULL(org) if org.id == own else _PUBLIC(org) for org in orgs]


def visible(org, **more) -> dict:
    """The organisation's fields the caller may see (for its schema to dump), and `more`, which
    only the organisation itself and coordinators see."""
    shown = [name for name in OrganisationOut().fields if name not in PRIVATE_FIELDS or _sees_private(org.id)]
    return {**{name: getattr(org, name) for name in shown}, **(more if _sees_private(org.id) else {})}


class OrganisationQuery(PageArgs):
    country = CountryCode()
    status = fields.String(validate=validate.OneOf(STATUSES))


class ImportQuery(Schema):
    skip_bad = fields.Boolean(load_default=False, metadata={
        "description": "Import the good rows even if some are bad (else nothing is imported)."})


class RowErrorOut(Schema):
    line = fields.Integer(metadata={"description": "The file's line (1: the header)."})
    field = fields.String(allow_none=True)
    message = fields.String()


class RowFieldError(FieldError):
    line = fields.Integer(metadata={"description": "The file's line (1: the header), for a bad row."})


class ImportProblem(ProblemSchema):
    """`rule`: rows of the file are bad (each named with its line); `validation`: a bad query."""

    errors = fields.List(fields.Nested(RowFieldError))


def strings(name: str, *names: str) -> type[Schema]:
    """An output schema of plain text fields."""
    return Schema.from_dict({field: fields.String() for field in names}, name=name)


LookalikeOrganisationOut = strings("LookalikeOrganisationOut", "id", "abbreviation", "name", "name_en", "country")


class ConflictProblem(ProblemSchema):
    """`conflict`: the abbreviation is another organisation's in that country, or the name looks like one."""

    existing_id = fields.String(metadata={"description": "The organisation it is, or looks like."})
    looks_like = fields.Nested(LookalikeOrganisationOut, metadata={"description": "The organisation it looks like."})


class DecidedProblem(ConflictProblem):
    """`conflict`: decided already (`current_status`), or the new name now looks like another's."""

    current_status = fields.String()


class ImportOut(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer(metadata={"description": "Rows that match an organisation as it is."})
    skipped = fields.List(fields.Nested(RowErrorOut), metadata={"description": "The bad rows left out, and why."})


class SuspensionIn(Schema):
    reason = Text(required=True, max_length=1000, multiline=True)


class CoordinatorIn(Schema):
    name = Text(required=True, max_length=200)


class CoordinatorOut(Schema):
    id = fields.String()
    name = fields.String()
    created_at = fields.AwareDateTime(format="iso")


CoordinatorPage = page_of(CoordinatorOut, "CoordinatorPage")


class KeyIn(Schema):
    label = Text(load_default=None, allow_none=True, max_length=100)


class KeyOut(Schema):
    id = fields.String()
    label = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    last_used_at = fields.AwareDateTime(format="iso", allow_none=True)
    revoked_at = fields.AwareDateTime(format="iso", allow_none=True)


class KeyCreatedOut(KeyOut):
    key = fields.String(metadata={"description": "The API key. Shown this once: store it now."})


KeyPage = page_of(KeyOut, "KeyPage")


RENAME_STATUSES = ("pending", "accepted", "rejected", "withdrawn")


class RenameQuery(PageArgs):
    status = fields.String(load_default="pending", validate=validate.OneOf(RENAME_STATUSES))


class RenameRejectionIn(Schema):
    reason = Text(required=True, max_length=1000, multiline=True)


class LookalikeWarningOut(Schema):
    kind = fields.String(metadata={"description": "`mixed_script` (a word mixes scripts, as in 'СPK') or "
                                                  "`looks_like` (another organisation's look-alike)."})
    field = fields.String()
    words = fields.List(fields.String(), metadata={"description": "mixed_script: the words that mix scripts."})
    organisation = fields.Nested(LookalikeOrganisationOut, metadata={
        "description": "looks_like: the organisation it looks like."})


class RenameOut(Schema):
    """An organisation's new name waiting for (or decided by) a coordinator."""

    id = fields.String()
    organisation_id = fields.String()
    proposed = fields.Dict(metadata={"description": "The fields as the organisation would have them."})
    before = fields.Dict(metadata={"description": "Their approved values when the rename was proposed."})
    status = fields.String(metadata={"description": ", ".join(RENAME_STATUSES)})
    proposed_at = fields.AwareDateTime(format="iso")
    decided_at = fields.AwareDateTime(format="iso", allow_none=True)
    reason = fields.String(allow_none=True)
    warnings = fields.List(fields.Nested(LookalikeWarningOut), metadata={
        "description": "What to look at before accepting (pending renames only)."})


RenamePage = page_of(RenameOut, "RenamePage")
