"""What the events service's API accepts and answers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.events.rules import DEFAULT_ACTIVITY_TYPES
from shared.fields import (
    Changes,
    CountryCode,
    LanguageCode,
    LocalDateTime,
    Text,
    TimeZone,
    UniqueItems,
    UUIDString,
    WebAddress,
    WholeNumber,
)
from shared.http.dump import FastSchema
from shared.http.pagination import PageArgs, page_schema

STATUSES = ("draft", "open", "closed")
SLUG = validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$", error="must be lower-case letters, digits and _ (e.g. womens_solidarity_action).")


class CampaignIn(Schema):
    name = Text(required=True, max_length=300)
    description = Text(load_default="", max_length=20000, multiline=True,
                       metadata={"description": "The call, as it will be published."})
    languages = fields.List(LanguageCode(), load_default=list, validate=[validate.Length(max=30), UniqueItems()])
    day_of_action = fields.Date(required=True, metadata={"example": "2022-12-01"})
    window_start = fields.Date(required=True, metadata={"description": "First date on which an event counts."})
    window_end = fields.Date(required=True, metadata={"description": "Last date on which an event counts."})
    list_date = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Organisations endorsing after this date are listed as subsequent signatories."})
    activity_types = fields.List(fields.String(validate=SLUG), load_default=lambda: list(DEFAULT_ACTIVITY_TYPES),
                                 validate=[validate.Length(min=1, max=40), UniqueItems()])
    status = fields.String(load_default="draft", validate=validate.OneOf(STATUSES))
    adoption_threshold = WholeNumber(load_default=None, allow_none=True,
                                        validate=validate.Range(min=1, max=100000))
    participation_keep_days = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=0, max=365),
                                          metadata={"description": (
                                              "Days after each event ends that its participants' sign-ups (names, "
                                              "addresses) are kept before they are shredded; only counts stay. "
                                              "null: the platform's PARTICIPATION_KEEP_DAYS.")})


class CampaignPatch(CampaignIn, Changes):
    pass


class CampaignOut(FastSchema):
    id = UUIDString()
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
    participation_keep_days = fields.Integer(allow_none=True)
    adopted_at = fields.AwareDateTime(format="iso", allow_none=True)
    endorsements = fields.Integer(metadata={"description": "Organisations endorsing it now."})
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")


CampaignPage = page_schema(CampaignOut, "CampaignPage")


class CampaignQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))


class EndorsementIn(Schema):
    organisation_id = UUIDString(load_default=None, metadata={
        "description": "Coordinators endorsing on an organisation's behalf name it; an organisation may leave it out."})


class EndorsementOut(FastSchema):
    campaign_id = UUIDString()
    organisation_id = UUIDString()
    number = fields.Integer()
    endorsed_at = fields.AwareDateTime(format="iso")


class Signatory(FastSchema):
    number = fields.Integer()
    organisation_id = UUIDString()
    abbreviation = fields.String()
    name = fields.String(metadata={"description": "As the organisation writes it."})
    name_en = fields.String()
    country = CountryCode()
    endorsed_at = fields.AwareDateTime(format="iso")


class SignatoryList(FastSchema):
    campaign_id = UUIDString()
    list_date = fields.Date(allow_none=True)
    initial = fields.List(fields.Nested(Signatory))
    subsequent = fields.List(fields.Nested(Signatory))


OFFSET = validate.Regexp(r"^[+-]\d{2}:\d{2}$", error="must be an offset like +02:00 or -03:30.")


class LocalEventIn(Schema):
    organisation_id = UUIDString(load_default=None, metadata={
        "description": "Coordinators submitting on an organisation's behalf name it."})
    title = fields.Dict(keys=LanguageCode(), values=Text(max_length=300), required=True,
                        validate=validate.Length(min=1, max=30), metadata={"example": {"en": "Rally", "de": "Kundgebung"}})
    description = fields.Dict(keys=LanguageCode(), values=Text(max_length=20000, multiline=True),
                              load_default=dict, validate=validate.Length(max=30))
    languages = fields.List(LanguageCode(), load_default=None, validate=[validate.Length(min=1, max=30), UniqueItems()],
                            metadata={"description": "The first is the fallback; default: the title's languages."})
    activity_type = fields.String(required=True, validate=SLUG)
    city = Text(required=True, max_length=200)
    country = CountryCode(required=True)
    venue = Text(load_default=None, allow_none=True, max_length=300)
    address = Text(load_default=None, allow_none=True, max_length=500)
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))
    timezone = TimeZone(required=True)
    start = LocalDateTime(required=True, metadata={"description": "Local wall-clock time in `timezone`, no "
                                                                  "offset (`start_offset` settles a time the "
                                                                  "clocks go back through)."})
    end = LocalDateTime(required=True)
    start_offset = fields.String(load_default=None, allow_none=True, validate=OFFSET, metadata={
        "description": "Only for a time that happens twice (the clocks go back): which one."})
    end_offset = fields.String(load_default=None, allow_none=True, validate=OFFSET)
    online_url = WebAddress(load_default=None, allow_none=True)
    expected_participants = WholeNumber(load_default=None, allow_none=True,
                                           validate=validate.Range(min=0, max=10_000_000))
    visibility = fields.String(load_default="public", validate=validate.OneOf(["public", "coordinators"]))
    address_public = fields.String(load_default="never", validate=validate.OneOf(["never", "now", "before"]),
                                   metadata={"description": "When the exact address becomes public."})
    address_public_hours = WholeNumber(load_default=None, allow_none=True,
                                          validate=validate.Range(min=1, max=720))



def inconsistencies(data: dict) -> dict[str, str]:
    """The rules that tie an event's fields together (no schema can state them): field → what
    is wrong. Checked on the whole event, as submitted or as a change leaves it."""
    errors = {}
    languages = data.get("languages") or list(data.get("title", {}))
    if data.get("title") and languages and languages[0] not in data["title"]:
        errors["title"] = f"needs a title in the first language ({languages[0]})."
    if (data.get("latitude") is None) != (data.get("longitude") is None):
        errors["longitude" if data.get("longitude") is None else "latitude"] = "give both coordinates or neither."
    if data.get("address_public") == "before" and data.get("address_public_hours") is None:
        errors["address_public_hours"] = "say how many hours before the start the address becomes public."
    if data.get("activity_type") == "online" and not data.get("online_url"):
        errors["online_url"] = "an online event needs its address on the web."
    return errors


class LocalEventPatch(LocalEventIn, Changes):
    """The fields to change; the event as it then stands must still follow every rule."""


class DecisionIn(Schema):
    reason = Text(load_default=None, allow_none=True, max_length=2000, multiline=True)


class ApprovalIn(Schema):
    updated_at = fields.AwareDateTime(load_default=None, metadata={
        "description": "The event's `updated_at` as you read it: if the organisation changed the event since, "
                       "the decision is refused (409) and nothing changes."})


class EventDecisionIn(DecisionIn, ApprovalIn):
    pass


class FieldChange(FastSchema):
    from_ = fields.Raw(data_key="from", attribute="from", allow_none=True, metadata={"description": "The approved value."})
    to = fields.Raw(allow_none=True, metadata={"description": "The proposed value."})


class EventChangeOut(FastSchema):
    id = UUIDString()
    event_id = UUIDString()
    status = fields.String(metadata={"description": "pending, accepted, rejected, replaced or withdrawn."})
    proposed_at = fields.AwareDateTime(format="iso")
    decided_at = fields.AwareDateTime(format="iso", allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why a coordinator rejected it."})
    changes = fields.Dict(keys=fields.String(), values=fields.Nested(FieldChange), metadata={
        "description": "Each field it changes, by the name a PATCH uses (start and end: local wall-clock "
                       "times; starts_at and ends_at: the instants they mean)."})


class LocalEventOut(FastSchema):
    id = UUIDString()
    campaign_id = UUIDString()
    organisation_id = UUIDString()
    co_hosts = fields.List(UUIDString(), metadata={"description": "Organisations hosting it too (they accepted)."})
    language = LanguageCode(metadata={"description": "The language `title` and `description` are in."})
    title = fields.String()
    description = fields.String()
    titles = fields.Dict(keys=fields.String(), values=fields.String())
    descriptions = fields.Dict(keys=fields.String(), values=fields.String())
    languages = fields.List(fields.String())
    activity_type = fields.String()
    city = fields.String()
    country = CountryCode()
    venue = fields.String(allow_none=True)
    address = fields.String(allow_none=True, metadata={"description": "Absent until its owner made it public."})
    latitude = fields.Float(allow_none=True, metadata={
        "description": "Exact once the address is public (and for its owner and coordinators); until then a "
                       "point about 1 km off, the same every time (`place_approximate`)."})
    longitude = fields.Float(allow_none=True)
    place_approximate = fields.Boolean(metadata={
        "description": "True while the coordinates are the coarse point, not the place."})
    timezone = fields.String()
    start = fields.String(metadata={"description": "Local wall-clock time in `timezone`."})
    end = fields.String()
    starts_at = fields.AwareDateTime(format="iso")
    ends_at = fields.AwareDateTime(format="iso")
    online_url = fields.String(allow_none=True)
    expected_participants = fields.Integer(allow_none=True)
    visibility = fields.String()
    address_public = fields.String()
    address_public_hours = fields.Integer(allow_none=True)
    status = fields.String()
    rejection_reason = fields.String(allow_none=True)
    outside_window = fields.Boolean()
    created_at = fields.AwareDateTime(format="iso")
    updated_at = fields.AwareDateTime(format="iso")
    pending_change = fields.Nested(EventChangeOut, allow_none=True, metadata={
        "description": "Its owner and coordinators only: the change waiting for a coordinator (the event's "
                       "other fields are the approved version the public sees)."})
    rejected_change = fields.Nested(EventChangeOut, allow_none=True, metadata={
        "description": "Its owner and coordinators only: the latest change, if a coordinator rejected it "
                       "(with the reason) and nothing newer was proposed since."})


LocalEventPage = page_schema(LocalEventOut, "LocalEventPage")


class EventFilters(Schema):
    """What the events list and its export filter by."""

    campaign_id = UUIDString()
    country = CountryCode()
    organisation_id = UUIDString()
    activity_type = fields.String(validate=SLUG)
    status = fields.String(validate=validate.OneOf(["submitted", "approved", "rejected", "cancelled"]))
    city = Text(max_length=200)
    language = LanguageCode(metadata={"description": "Events held in this language."})
    starts_from = fields.AwareDateTime(metadata={"description": "Starting at or after this instant."})
    starts_before = fields.AwareDateTime(metadata={"description": "Starting before this instant."})
    q = Text(max_length=200, metadata={"description": "Free text in titles, descriptions and cities."})
    lang = LanguageCode(metadata={"description": "The language to answer in (else Accept-Language)."})


class LocalEventQuery(EventFilters, PageArgs):
    pass


class EventChangeQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(["pending", "accepted", "rejected", "replaced", "withdrawn"]))
    event_id = UUIDString(metadata={"description": "The changes of this event."})
    lang = LanguageCode(metadata={"description": "The language of the events' titles (else Accept-Language)."})


class QueuedChange(EventChangeOut):
    event = fields.Nested(LocalEventOut, metadata={"description": "The event as approved (as GET gives it)."})


EventChangePage = page_schema(QueuedChange, "EventChangePage")


class EventHostIn(Schema):
    organisation_id = UUIDString(required=True, metadata={"description": "The organisation invited to host it too."})


class EventHostOut(FastSchema):
    event_id = UUIDString()
    organisation_id = UUIDString()
    status = fields.String(validate=validate.OneOf(["invited", "accepted"]))
    invited_at = fields.AwareDateTime(format="iso")
    accepted_at = fields.AwareDateTime(format="iso", allow_none=True)


EventHostPage = page_schema(EventHostOut, "EventHostPage")


class InvitationQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(["invited", "accepted"]), metadata={
        "description": "Only invitations still waiting (invited) or accepted."})


class HoldIn(Schema):
    reason = Text(required=True, max_length=2000, multiline=True)


class HoldOut(FastSchema):
    country = CountryCode()
    reason = fields.String()
    held_at = fields.AwareDateTime(format="iso")
    held_by = fields.String()


class TimelineQuery(PageArgs):
    lang = LanguageCode()


class TimelineItem(FastSchema):
    id = UUIDString()
    starts_at = fields.AwareDateTime(format="iso")
    start = fields.String(metadata={"description": "Local wall-clock time."})
    timezone = fields.String()
    utc_offset = fields.String()
    city = fields.String()
    country = CountryCode()
    activity_type = fields.String()
    title = fields.String()
    language = LanguageCode()


TimelinePage = page_schema(TimelineItem, "TimelinePage")


class Tally(FastSchema):
    key = fields.String()
    abbreviation = fields.String(allow_none=True)
    events = fields.Integer()
    expected_participants = fields.Integer()


class Totals(FastSchema):
    events = fields.Integer()
    expected_participants = fields.Integer()


class StatisticsOut(FastSchema):
    campaign_id = UUIDString()
    countries = fields.List(fields.Nested(Tally))
    activity_types = fields.List(fields.Nested(Tally))
    organisations = fields.List(fields.Nested(Tally))
    total = fields.Nested(Totals)


class BulkQuery(Schema):
    skip_bad = fields.Boolean(load_default=False, metadata={"description": "Create the good rows anyway."})
    organisation_id = UUIDString(load_default=None, metadata={"description": "Coordinators: for whom."})


class RowError(FastSchema):
    line = fields.Integer()
    field = fields.String(allow_none=True)
    message = fields.String()


class BulkOut(FastSchema):
    created = fields.Integer()
    ids = fields.List(fields.String())
    skipped = fields.List(fields.Nested(RowError))


class OverviewQuery(Schema):
    lang = LanguageCode(metadata={"description": "The language of the titles (else Accept-Language)."})


class OverviewEvent(FastSchema):
    id = UUIDString()
    title = fields.String(metadata={"description": "In `?lang=`, else Accept-Language, else the event's first "
                                                   "language: as the list chooses."})
    language = LanguageCode(metadata={"description": "The language `title` is in."})
    city = fields.String()
    country = CountryCode()
    timezone = fields.String()
    start = fields.String(metadata={"description": "Local wall-clock time in `timezone`."})
    end = fields.String()
    starts_at = fields.AwareDateTime(format="iso")
    ends_at = fields.AwareDateTime(format="iso")
    utc_offset = fields.String(metadata={"description": "The zone's offset at the start, as the timeline gives it."})
    activity_type = fields.String()
    languages = fields.List(fields.String())
    status = fields.String(metadata={"description": "approved, or cancelled (after its approval)."})
    longitude = fields.Float(allow_none=True, metadata={
        "description": "Exact where its owner made the place public; until then a point about 1 km off "
                       "(`approximate`); null without coordinates."})
    latitude = fields.Float(allow_none=True)
    approximate = fields.Boolean(metadata={"description": "True while the coordinates are the coarse point."})


class CampaignOverview(FastSchema):
    campaign = fields.Nested(CampaignOut, metadata={"description": "As GET /campaigns/{id} gives it."})
    signatories = fields.Nested(SignatoryList, metadata={"description": "As GET /campaigns/{id}/signatories."})
    events = fields.List(fields.Nested(OverviewEvent), metadata={
        "description": "Every event the public list of the campaign finds, over all its pages, in its order."})

