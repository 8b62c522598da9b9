"""What the events service's API accepts and answers."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.events.rules import DEFAULT_ACTIVITY_TYPES
from shared.fields import LanguageCode, Text, UUIDString
from shared.http.pagination import PageArgs

STATUSES = ("draft", "open", "closed")
SLUG = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="must be lower-case letters, digits and _ (e.g. womens_solidarity_action).")


def _unique(values):
    if len(set(values)) != len(values):
        raise ValidationError("must not repeat an item.")


class CampaignIn(Schema):
    name = Text(required=True, max_length=300)
    description = Text(load_default="", max_length=20000, multiline=True,
                       metadata={"description": "The call, as it will be published."})
    languages = fields.List(LanguageCode(), load_default=list, validate=[validate.Length(max=30), _unique])
    day_of_action = fields.Date(required=True, metadata={"example": "2022-12-01"})
    window_start = fields.Date(required=True, metadata={"description": "First date on which an event counts."})
    window_end = fields.Date(required=True, metadata={"description": "Last date on which an event counts."})
    list_date = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Organisations endorsing after this date are listed as subsequent signatories."})
    activity_types = fields.List(fields.String(validate=SLUG), load_default=lambda: list(DEFAULT_ACTIVITY_TYPES),
                                 validate=[validate.Length(min=1, max=40), _unique])
    status = fields.String(load_default="draft", validate=validate.OneOf(STATUSES))
    adoption_threshold = fields.Integer(load_default=None, allow_none=True, strict=True,
                                        validate=validate.Range(min=1, max=100000))


class CampaignPatch(CampaignIn):
    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("name at least one field to change.")


class CampaignOut(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    languages = fields.List(fields.String())
    day_of_action = fields.Date()
    window_start = fields.Date()
    window_end = fields.Date()
    list_date = fields.Date(allow_none=True)
    activity_types = fields.List(fields.String())
    status = fields.String()
    adoption_threshold = fields.Integer(allow_none=True)
    adopted_at = fields.AwareDateTime(format="iso", allow_none=True)
    endorsements = fields.Integer(metadata={"description": "Organisations endorsing it now."})
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


class CampaignPage(Schema):
    items = fields.List(fields.Nested(CampaignOut))
    next = fields.String(allow_none=True)


class CampaignQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class EndorsementIn(Schema):
    organisation_id = UUIDString(load_default=None, metadata={
        "description": "Coordinators endorsing on an organisation's behalf name it; an organisation may leave it out."})


class EndorsementOut(Schema):
    campaign_id = fields.String()
    organisation_id = fields.String()
    number = fields.Integer()
    endorsed_at = fields.AwareDateTime(format="iso")


class Signatory(Schema):
    number = fields.Integer()
    organisation_id = fields.String()
    abbreviation = fields.String()
    name = fields.String(metadata={"description": "As the organisation writes it."})
    name_en = fields.String()
    country = fields.String()
    endorsed_at = fields.AwareDateTime(format="iso")


class SignatoryList(Schema):
    campaign_id = fields.String()
    list_date = fields.Date(allow_none=True)
    initial = fields.List(fields.Nested(Signatory))
    subsequent = fields.List(fields.Nested(Signatory))
