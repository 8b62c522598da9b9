"""What the participation API takes and gives (docs/participation.md)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import Changes, CountryCode, Email, LanguageCode, Text, TimeZone, UUIDString, WholeNumber
from shared.http.dump import FastSchema
from shared.http.pagination import page_schema

STATUSES = ["unconfirmed", "coming", "waiting", "cancelled"]


class ParticipantIn(Schema):
    party_size = WholeNumber(load_default=1, validate=validate.Range(min=1, max=20),
                             metadata={"description": "How many people come, you included."})
    name = Text(load_default=None, max_length=100, metadata={"description": "A name or an alias; optional."})
    show_name = fields.Boolean(load_default=False, metadata={
        "description": "Show the name to the event's hosts (never to the public)."})
    email = Email(load_default=None, metadata={
        "description": "Optional: for reminders and changes, after it is confirmed. Without it, the answer "
                       "carries the private link (shown once)."})
    language = LanguageCode(required=True, metadata={"description": "Of the e-mails and the link's page."})
    timezone = TimeZone(load_default=None, metadata={"description": "For reminders in your own time."})


class EventBrief(FastSchema):
    id = UUIDString()
    title = fields.Dict(keys=LanguageCode(), values=fields.String())
    languages = fields.List(LanguageCode())
    city = fields.String()
    country = CountryCode()
    timezone = fields.String()
    start = fields.String(attribute="starts_local", metadata={"description": "Local wall-clock time in `timezone`."})
    starts_at = fields.AwareDateTime(format="iso")
    ends_at = fields.AwareDateTime(format="iso")
    status = fields.String()


class MessageShown(FastSchema):
    text = fields.String()
    language = LanguageCode()
    created_at = fields.AwareDateTime(format="iso")


class ParticipationOut(FastSchema):
    id = UUIDString()
    event_id = UUIDString()
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "unconfirmed (an address's sign-up, until the link of its e-mail is followed), coming, "
                       "waiting or cancelled."})
    position = fields.Integer(allow_none=True, metadata={"description": "While waiting: 1 is the next."})
    party_size = fields.Integer()
    name = fields.String(allow_none=True)
    show_name = fields.Boolean()
    with_email = fields.Boolean(metadata={"description": "An e-mail address was given (never shown)."})
    code = fields.String(metadata={"description": "The short code to give at the door instead of the QR code."})
    checked_in = fields.Boolean(metadata={"description": "Counted at the door."})
    language = LanguageCode()
    created_at = fields.AwareDateTime(format="iso")
    cancelled_at = fields.AwareDateTime(format="iso", allow_none=True)
    event = fields.Nested(EventBrief)
    messages = fields.List(fields.Nested(MessageShown), metadata={
        "description": "What the hosts wrote, newest first, in the sign-up's language where they wrote in it."})


class ParticipationCreated(ParticipationOut):
    key = fields.String(metadata={"description": "The private link's key: shown this once, never stored. "
                                                 "Anyone holding it can see, cancel and erase the sign-up."})
    url = fields.String(metadata={"description": "The private link's page on the site."})


class Shown(FastSchema):
    name = fields.String()
    party_size = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))


class PlacesOut(FastSchema):
    event_id = UUIDString()
    open = fields.Boolean(metadata={"description": "Whether one can sign up now."})
    capacity = fields.Integer(allow_none=True, metadata={"description": "Places (people); null: no limit."})
    coming = fields.Integer(metadata={"description": "People, not sign-ups."})
    waiting = fields.Integer()
    places_left = fields.Integer(allow_none=True)
    # The hosts' and coordinators' view only:
    cancelled = fields.Integer(metadata={"description": "Hosts and coordinators only."})
    checked_in = fields.Integer(metadata={"description": "Hosts and coordinators only: people counted at the door."})
    anonymous = fields.Integer(metadata={"description": "Hosts and coordinators only: people without an address."})
    anonymous_limit = fields.Integer(allow_none=True, metadata={"description": "Hosts and coordinators only."})
    names = fields.List(fields.Nested(Shown), metadata={
        "description": "Hosts and coordinators only: the names participants agreed to show them."})


class PlacesPatch(Changes):
    capacity = WholeNumber(allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    anonymous_limit = WholeNumber(allow_none=True, validate=validate.Range(min=0, max=1_000_000), metadata={
        "description": "At most this many people signed up without an e-mail address; null: no limit."})


class DoorAction(Schema):
    id = UUIDString(required=True, metadata={"description": "Made by the door's page, so that an action sent again "
                                                           "(after being offline) is counted once."})
    kind = fields.String(required=True, validate=validate.OneOf(["door", "participant"]))
    delta = fields.Integer(load_default=1, validate=validate.OneOf([1, -1]), metadata={
        "description": "door: one more person, or one fewer."})
    code = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9 -]{4,20}$"), metadata={
        "description": "participant: the short code (any case, spaces or dashes)."})
    key = fields.String(load_default=None, validate=validate.Length(equal=43), metadata={
        "description": "participant: the private link's key, as its QR code carries it."})
    at = fields.AwareDateTime(load_default=None, metadata={"description": "When the page recorded it."})



class DoorIn(Schema):
    actions = fields.List(fields.Nested(DoorAction), required=True, validate=validate.Length(min=1, max=500))


class DoorOut(FastSchema):
    applied = fields.Integer(metadata={"description": "Actions counted now."})
    repeated = fields.Integer(metadata={"description": "Actions counted before (sent again, or a participant "
                                                       "already checked in)."})
    unknown = fields.List(UUIDString(), metadata={
        "description": "Participant actions naming nobody signed up for the event (or naming nobody at all): the "
                       "rest of the batch counts all the same."})
    checked_in = fields.Integer(metadata={"description": "People counted at the door now."})


class HostMessageIn(Schema):
    text = fields.Dict(keys=LanguageCode(), values=Text(max_length=2000, multiline=True), required=True,
                       validate=validate.Length(min=1, max=30), metadata={
                           "description": "Language code → the message; each participant reads it in their "
                                          "language if it is here, else in the first.",
                           "example": {"en": "The meeting point moved to the north gate.",
                                       "fa": "محل تجمع به درِ شمالی منتقل شد."}})


class HostMessageOut(FastSchema):
    id = UUIDString()
    event_id = UUIDString()
    author_role = fields.String(validate=validate.OneOf(["organisation", "coordinator"]))
    text = fields.Dict(keys=LanguageCode(), values=fields.String())
    created_at = fields.AwareDateTime(format="iso")


HostMessagePage = page_schema(HostMessageOut, "HostMessagePage")
