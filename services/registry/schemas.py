"""What the registry's API accepts and answers."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.fields import CountryCode, Email, LanguageCode, Text, TimeZone, no_unsafe_characters
from shared.http.auth import current_principal
from shared.http.dump import compile_dumper
from shared.http.pagination import PageArgs

STATUSES = ("active", "suspended")


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
                            metadata={"description": "ISO 639-1 codes", "example": ["sw", "en"]})
    website = fields.Url(allow_none=True, load_default=None, schemes={"http", "https"},
                         validate=[validate.Length(max=500), no_unsafe_characters])
    contact_email = Email(allow_none=True, load_default=None, validate=validate.Length(max=320),
                          metadata={"description": "Private: shown only to the organisation and coordinators."})


class OrganisationPatch(OrganisationIn):
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


class OrganisationReadOut(OrganisationOut):
    pending_rename = fields.Dict(allow_none=True, metadata={
        "description": "Private: a new name, abbreviation or country the organisation asked for, waiting "
                       "for a coordinator (id, proposed, proposed_at); the fields above stay as approved."})


_PUBLIC = compile_dumper(OrganisationOut(exclude=PRIVATE_FIELDS))
_FULL = compile_dumper(OrganisationOut())


def present_organisations(orgs) -> list[dict]:
    """Organisations as the caller may see them: contact fields for coordinators and for
    the organisation itself only."""
    principal = current_principal()
    if principal is not None and principal.is_coordinator:
        return [_FULL(org) for org in orgs]
    own = principal.subject_id if principal is not None and principal.role == "organisation" else None
    return [_FULL(org) if org.id == own else _PUBLIC(org) for org in orgs]


def present_organisation(org) -> dict:
    return present_organisations([org])[0]


class OrganisationPage(Schema):
    items = fields.List(fields.Nested(OrganisationOut))
    next = fields.String(allow_none=True)


class OrganisationQuery(PageArgs):
    country = CountryCode()
    status = fields.String(validate=validate.OneOf(STATUSES))


class ImportQuery(Schema):
    skip_bad = fields.Boolean(load_default=False, metadata={
        "description": "Import the good rows even if some are bad (else nothing is imported)."})


class RowErrorOut(Schema):
    line = fields.Integer()
    field = fields.String(allow_none=True)
    message = fields.String()


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


class CoordinatorPage(Schema):
    items = fields.List(fields.Nested(CoordinatorOut))
    next = fields.String(allow_none=True)


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


class KeyPage(Schema):
    items = fields.List(fields.Nested(KeyOut))
    next = fields.String(allow_none=True)


class TokenOut(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


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
    organisation = fields.Dict(metadata={"description": "looks_like: id, abbreviation, name and country of "
                                                        "the organisation it looks like."})


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


class RenamePage(Schema):
    items = fields.List(fields.Nested(RenameOut))
    next = fields.String(allow_none=True)
