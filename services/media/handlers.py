"""Messages the media service consumes: the campaigns and approved events uploads attach to,
revoked tokens, and its own `media.uploaded`, which wakes the processing worker."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.media import processing
from services.media.models import (
    KnownCampaign,
    KnownEvent,
    KnownOrganisation,
    country_holds,
    metadata,
    public_revisions,
)
from shared.bus.consumer import Handler, Message, merge_handlers
from shared.country_holds import country_hold_handlers
from shared.revisions import EVERY_CAMPAIGN, bump
from shared.revocations import revocation_handlers


def campaign_changed(session: Session, message: Message) -> None:
    data = message.data
    campaign = session.get(KnownCampaign, data["id"])
    if campaign is None:
        session.add(KnownCampaign(id=data["id"], name=data["name"], status=data["status"],
                                  as_of=message.occurred_at))
    elif message.occurred_at >= campaign.as_of:  # an older message arriving late changes nothing
        campaign.name, campaign.status, campaign.as_of = data["name"], data["status"], message.occurred_at


EVENT_FIELDS = ("campaign_id", "organisation_id", "country", "ends_at", "status", "visibility")


def event_approved(session: Session, message: Message) -> None:
    data = message.data
    event = session.get(KnownEvent, data["id"])
    if event is None:
        session.add(KnownEvent(id=data["id"], as_of=message.occurred_at, **{f: data[f] for f in EVENT_FIELDS}))
    elif message.occurred_at >= event.as_of:
        _copy(event, message)


def event_changed(session: Session, message: Message) -> None:
    """A change or cancellation of an event media know of (one never approved is not)."""
    event = session.get(KnownEvent, message.data["id"])
    if event is not None and message.occurred_at >= event.as_of:
        _copy(event, message)


def _copy(event: KnownEvent, message: Message) -> None:
    for name in EVENT_FIELDS:
        setattr(event, name, message.data[name])
    event.as_of = message.occurred_at


def organisation_changed(session: Session, message: Message) -> None:
    status = {"organisation.suspended": "suspended", "organisation.reinstated": "active"}.get(
        message.type, message.data.get("status", "active"))
    organisation = session.get(KnownOrganisation, message.data["id"])
    if organisation is None:
        session.add(KnownOrganisation(id=message.data["id"], status=status, as_of=message.occurred_at))
    elif message.occurred_at >= organisation.as_of:
        organisation.status, organisation.as_of = status, message.occurred_at


def media_uploaded(_session: Session, _message: Message) -> None:
    processing.WAKE.set()  # the item is in the database already; the worker picks it up


def _moving_every_revision(handler: Handler) -> Handler:
    """A country's hold changes every campaign's public reports, in a Core write the ORM does
    not see: move every campaign's revision with it."""
    def handle(session: Session, message: Message) -> None:
        handler(session, message)
        bump(session.connection(), public_revisions, EVERY_CAMPAIGN)

    return handle


def build_handlers() -> dict:
    holds = {name: _moving_every_revision(handler) for name, handler in country_hold_handlers(country_holds).items()}
    return merge_handlers(revocation_handlers(metadata.tables["access_revocations"]), holds, {
        "organisation.registered": organisation_changed,
        "organisation.updated": organisation_changed,
        "organisation.suspended": organisation_changed,
        "organisation.reinstated": organisation_changed,
        "campaign.created": campaign_changed,
        "campaign.updated": campaign_changed,
        "campaign.rescheduled": campaign_changed,
        "event.approved": event_approved,
        "event.updated": event_changed,
        "event.rejected": event_changed,
        "event.cancelled": event_changed,
        "media.uploaded": media_uploaded,
    })
