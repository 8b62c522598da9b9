"""What the notify service takes and gives over HTTP."""
from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from shared.bus.catalogue import WEBHOOK_TYPES
from shared.fields import CountryCode, Email, LanguageCode, Text, TimeZone, UUIDString
from shared.http.pagination import PageArgs, page_schema

WANTS = ["new_events", "changes", "reminders", "reports"]


def _language():
    return LanguageCode(load_default="en", metadata={
        "description": "The e-mails' language (ISO 639-1); one they are not written in falls back to English."})


class SubscriptionIn(Schema):
    email = Email(required=True)
    language = _language()
    timezone = TimeZone(load_default=None, metadata={"description": "For reminders in your own time."})
    scope = fields.String(required=True, validate=validate.OneOf(["campaign", "country", "city", "event"]))
    campaign_id = UUIDString(load_default=None)
    country = CountryCode(load_default=None)
    city = Text(load_default=None, max_length=200)
    event_id = UUIDString(load_default=None)
    wants = fields.List(fields.String(validate=validate.OneOf(WANTS)), load_default=lambda: list(WANTS),
                        validate=validate.Length(min=1))


class Accepted(Schema):
    status = fields.String()
    detail = fields.String()


class ContactIn(Schema):
    email = Email(required=True)
    language = _language()


class ContactOut(Schema):
    email = fields.String()
    language = LanguageCode()
    role = fields.String()


# What the document can say of a webhook URL: http(s), no spaces, controls or backslashes. The
# rest (a host that resolves inside, credentials, a bad port) is answered 422 `unsafe-url`.
WEBHOOK_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\x00-\x20\x7f\\]+$"


def _webhook_url(**kwargs):
    return fields.String(validate=[validate.Length(min=1, max=2000), validate.Regexp(
        WEBHOOK_URL, error="must start with https:// or http:// and hold no spaces or control characters.")],
        metadata={"format": "uri", "description": "Where deliveries go: a public http(s) URL (one that "
                                                  "reaches a private or local address is refused)."}, **kwargs)


def _webhook_types(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(sorted(WEBHOOK_TYPES))),
                       validate=validate.Length(min=1, max=len(WEBHOOK_TYPES)), **kwargs)


class TakesURL(Schema):
    """A body with a webhook URL, taken without the spaces a paste leaves around it."""

    @pre_load
    def _strip(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            data = {**data, "url": data["url"].strip()}
        return data


class EndpointIn(TakesURL):
    url = _webhook_url(required=True)
    types = _webhook_types(required=True)


class EndpointPatch(TakesURL):
    url = _webhook_url()
    types = _webhook_types()
    status = fields.String(validate=validate.OneOf(["active"]), metadata={
        "description": "`active` switches a disabled endpoint on again."})


class EndpointOut(Schema):
    id = UUIDString()
    url = fields.String()
    types = fields.List(fields.String())
    status = fields.String()
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime(format="iso")
    held = fields.Integer(metadata={
        "description": "Messages held while the endpoint is switched off (at most WEBHOOK_HELD_MAX, for "
                       "WEBHOOK_HELD_DAYS): a reactivation with `backfill` sends them."})


class ReactivationIn(Schema):
    backfill = fields.Boolean(load_default=False, metadata={
        "description": "Also send, in their order, the messages held while it was off; without, they are dropped."})


class ReactivationOut(EndpointOut):
    backfilled = fields.Integer(metadata={"description": "Held messages queued to be sent now."})


class EndpointCreated(EndpointOut):
    secret = fields.String(metadata={"description": "Shown this once: verify each delivery's signature with it."})


EndpointPage = page_schema(EndpointOut, "EndpointPage")


class AttemptOut(Schema):
    number = fields.Integer()
    at = fields.AwareDateTime(format="iso")
    status_code = fields.Integer(allow_none=True)
    latency_ms = fields.Float()
    error = fields.String(allow_none=True)


class DeliveryOut(Schema):
    id = UUIDString()
    message_id = fields.String()
    type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_at = fields.AwareDateTime(format="iso")
    created_at = fields.AwareDateTime(format="iso")
    delivered_at = fields.AwareDateTime(format="iso", allow_none=True)
    log = fields.List(fields.Nested(AttemptOut))


DeliveryPage = page_schema(DeliveryOut, "DeliveryPage")


class DeliveryQuery(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "delivered", "failed", "held"]))


class WebhookProblemOut(Schema):
    endpoint_id = UUIDString()
    owner_id = UUIDString()
    owner_name = fields.String(allow_none=True, metadata={
        "description": "The organisation's name; null for a coordinator's endpoint."})
    owner_abbreviation = fields.String(allow_none=True, metadata={
        "description": "The organisation's abbreviation; null for a coordinator's endpoint."})
    role = fields.String(metadata={"description": "The owner's: `organisation` or `coordinator`."})
    url = fields.String(metadata={"description": "Where the endpoint points (`https://host/…`): its path and query "
                                                 "may hold the receiver's own secret and are not shown."})
    status = fields.String(metadata={"description": "`active` or `disabled`."})
    disabled_reason = fields.String(allow_none=True)
    failed = fields.Integer(metadata={"description": "Deliveries that failed for good."})
    retrying = fields.Integer(metadata={"description": "Deliveries that failed at least once and are tried again."})
    last_error = fields.String(allow_none=True, metadata={
        "description": "What the newest attempt that went wrong came to: its error, or `HTTP <status code>`."})
    last_attempt_at = fields.AwareDateTime(format="iso", allow_none=True, metadata={
        "description": "When that attempt was made."})


class EmailProblemsOut(Schema):
    failed = fields.Integer(metadata={"description": "E-mails that failed for good."})
    retrying = fields.Integer(metadata={"description": "E-mails that failed at least once and are tried again."})
    last_error = fields.String(allow_none=True, metadata={
        "description": "The newest error (the SMTP server's answer), e-mail addresses hidden."})
    last_at = fields.AwareDateTime(format="iso", allow_none=True, metadata={"description": "When it happened."})


class DeliveryProblemsOut(Schema):
    webhooks = fields.List(fields.Nested(WebhookProblemOut), metadata={
        "description": "Endpoints that are disabled or have failed or retrying deliveries, worst first: disabled "
                       "ones, then by failed + retrying."})
    email = fields.Nested(EmailProblemsOut)
