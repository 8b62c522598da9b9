"""What the registry's API accepts and answers."""
from __future__ import annotations

from operator import attrgetter

from marshmallow import Schema, fields, validate

from shared.fields import Changes, CountryCode, Email, LanguageCode, Text, TimeZone, UniqueItems, UUIDString, WebAddress
from shared.http.auth import current_principal
from shared.http.dump import FastSchema
from shared.http.pagination import PageArgs, page_schema
from shared.http.problems import FieldError, ProblemSchema

STATUSES = ("active", "suspended")


class OrganisationIn(Schema):
    abbreviation = Text(required=True, max_length=40)
    name = Text(required=True, max_length=300, metadata={"description": "As the organisation writes it, in any script."})
    name_en = Text(required=True, max_length=300)
    country = CountryCode(required=True, metadata={"description": "ISO 3166-1 alpha-2", "example": "KE"})
    timezone = TimeZone(required=True, metadata={"example": "Africa/Nairobi"})
    languages = fields.List(LanguageCode(), load_default=list, validate=[validate.Length(max=20), UniqueItems()],
                            metadata={"description": "ISO 639-1 codes, each once", "example": ["sw", "en"]})
    website = WebAddress(allow_none=True, load_default=None, metadata={"example": "https://cpk.example"})
    contact_email = Email(allow_none=True, load_default=None,
                          metadata={"description": "Private: shown only to the organisation and coordinators."})


class OrganisationPatch(OrganisationIn, Changes):
    """The fields to change (at least one); those left out stay as they are."""


PRIVATE_FIELDS = ("contact_email", "suspension_reason")


class OrganisationOut(FastSchema):
    """Contact fields are shown only to the organisation itself and to coordinators."""

    id = UUIDString(dump_only=True)
    abbreviation = fields.String()
    name = fields.String()
    name_en = fields.String()
    country = CountryCode()
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
    id = UUIDString()
    proposed = fields.Dict(metadata={"description": "The fields as the organisation would have them."})
    proposed_at = fields.AwareDateTime(format="iso")


class OrganisationReadOut(OrganisationOut):
    pending_rename = fields.Nested(PendingRenameOut, allow_none=True, metadata={
        "description": "Private: a new name, abbreviation or country the organisation asked for, waiting "
                       "for a coordinator; the fields above stay as approved."})


OrganisationPage = page_schema(OrganisationOut)


_SHOWN = tuple(OrganisationOut._declared_fields)
_PUBLIC = tuple(name for name in _SHOWN if name not in PRIVATE_FIELDS)
_shown, _public = attrgetter(*_SHOWN), attrgetter(*_PUBLIC)  # one C call a row: the list is hot


def _sees_private(principal, org_id: str) -> bool:
    return principal is not None and (principal.is_coordinator or principal.owns(org_id))


def visible(org, **more) -> dict:
    """The organisation's fields the caller may see, for the route's schema to dump: contact
    fields (and `more`) for coordinators and the organisation itself only."""
    if _sees_private(current_principal(), org.id):
        return {**dict(zip(_SHOWN, _shown(org), strict=True)), **more}
    return dict(zip(_PUBLIC, _public(org), strict=True))


def visible_each(orgs) -> list[dict]:
    """`visible` of each organisation of a page, the caller looked up once (the list is hot)."""
    principal = current_principal()
    if principal is None:
        return [dict(zip(_PUBLIC, _public(org), strict=True)) for org in orgs]
    return [visible(org) for org in orgs]


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

    existing_id = UUIDString(metadata={"description": "The organisation it is, or looks like."})
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
    id = UUIDString()
    name = fields.String()
    created_at = fields.AwareDateTime(format="iso")


CoordinatorPage = page_schema(CoordinatorOut)


class KeyIn(Schema):
    label = Text(load_default=None, allow_none=True, max_length=100)


class KeyOut(Schema):
    id = UUIDString()
    label = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    last_used_at = fields.AwareDateTime(format="iso", allow_none=True)
    revoked_at = fields.AwareDateTime(format="iso", allow_none=True)


class KeyCreatedOut(KeyOut):
    key = fields.String(metadata={"description": "The API key. Shown this once: store it now."})


KeyPage = page_schema(KeyOut)


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

    id = UUIDString()
    organisation_id = UUIDString()
    proposed = fields.Dict(metadata={"description": "The fields as the organisation would have them."})
    before = fields.Dict(metadata={"description": "Their approved values when the rename was proposed."})
    status = fields.String(metadata={"description": ", ".join(RENAME_STATUSES)})
    proposed_at = fields.AwareDateTime(format="iso")
    decided_at = fields.AwareDateTime(format="iso", allow_none=True)
    reason = fields.String(allow_none=True)
    warnings = fields.List(fields.Nested(LookalikeWarningOut), metadata={
        "description": "What to look at before accepting (pending renames only)."})


RenamePage = page_schema(RenameOut)
