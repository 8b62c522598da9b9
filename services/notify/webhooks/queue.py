"""Which endpoints get a message: those whose owner picked its type and may see it. A
coordinator's endpoints get every message; an organisation's get what is public and what is
about itself — never another organisation's submissions or coordinators-only events."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.orm import Session

from services.notify.models import (
    DeliveryAttempt,
    KnownEvent,
    WebhookDelivery,
    WebhookEndpoint,
    country_holds,
    metadata,
)
from shared.bus.consumer import Message
from shared.country_holds import held_countries
from shared.db import insert_for, utcnow
from shared.ids import new_id

# Messages anyone may know of (their data is public by the catalogue's design), campaigns once
# out of draft. (`campaign.rescheduled` is not: it names every organisation's events outside
# the window.)
PUBLIC_TYPES = {"organisation.registered", "organisation.updated", "campaign.created", "campaign.updated",
                "campaign.adopted", "endorsement.added", "endorsement.withdrawn", "report.published",
                "material.published", "country.released"}


def visible_to_organisation(session: Session, type_: str, data: dict, organisation_id: str) -> bool:
    """May an organisation's endpoint receive this message? Runs before the handlers update
    notify's copy of an event, so `KnownEvent` says what the event was before."""
    if data.get("organisation_id") == organisation_id or data.get("id") == organisation_id:
        return True
    if type_.startswith("campaign.") and data.get("status") == "draft":
        return False
    if _held(session, data.get("country")):  # the emergency stop covers organisations' systems too
        return False
    if type_ in PUBLIC_TYPES:
        return True
    if type_ in ("event.approved", "event.updated", "event.cancelled"):
        if data.get("visibility") != "public":
            return False
        if type_ == "event.approved":
            return data.get("status") == "approved"
        known = session.get(KnownEvent, data.get("id"))
        was_public = known is not None and known.status == "approved"
        # A change that sent it back to the coordinators is not public yet.
        return was_public and (type_ == "event.cancelled" or data.get("status") == "approved")
    return False


def _held(session: Session, country: str | None) -> bool:
    return country is not None and session.execute(
        held_countries(country_holds).where(country_holds.c.country == country)).first() is not None


def queue_deliveries(session: Session, message: Message, body: str) -> int:
    """A delivery for every endpoint that takes the message: due now for an active endpoint,
    `held` (not sent, not retried) for a disabled one, so switching it on again can send what it
    missed (the worker keeps held ones within WEBHOOK_HELD_MAX and WEBHOOK_HELD_DAYS, see
    `drop_held`). Answers how many are due."""
    revocations = metadata.tables["access_revocations"]
    suspended = select(revocations.c.subject_id).where(revocations.c.kind == "organisation",
                                                       revocations.c.revoked.is_(True))
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.role, WebhookEndpoint.owner_id, WebhookEndpoint.status)
        .where(WebhookEndpoint.owner_id.not_in(suspended),
               cast(WebhookEndpoint.types, String).like(f'%"{message.type}"%'))).all()
    now = utcnow()
    rows = [{"id": new_id(), "endpoint_id": e.id, "message_id": message.id, "type": message.type, "body": body,
             "status": "pending" if e.status == "active" else "held", "attempts": 0, "next_at": now,
             "created_at": now}
            for e in endpoints
            if e.role == "coordinator" or visible_to_organisation(session, message.type, message.data, e.owner_id)]
    if not rows:
        return 0
    session.execute(insert_for(session, WebhookDelivery).values(rows).on_conflict_do_nothing())
    return sum(row["status"] == "pending" for row in rows)


def held_limits(config) -> tuple[int, float]:
    """WEBHOOK_HELD_MAX and WEBHOOK_HELD_DAYS."""
    return config.WEBHOOK_HELD_MAX, config.WEBHOOK_HELD_DAYS


def drop_held(session: Session, endpoint_id: str | None, keep: int, days: float, now: datetime) -> int:
    """Held deliveries past their time, and of one endpoint (or of each, with None) all but the
    newest `keep`, go, with any attempts they had: a disabled endpoint is no store that grows for
    ever. Answers how many went."""
    held = select(WebhookDelivery.id).where(WebhookDelivery.status == "held")
    if endpoint_id is not None:
        held = held.where(WebhookDelivery.endpoint_id == endpoint_id)
    ids = list(session.execute(held.where(WebhookDelivery.created_at < now - timedelta(days=days))).scalars())
    crowded = [endpoint_id] if endpoint_id is not None else list(session.execute(
        select(WebhookDelivery.endpoint_id).where(WebhookDelivery.status == "held")
        .group_by(WebhookDelivery.endpoint_id).having(func.count() > keep)).scalars())
    for one in crowded:
        ids += session.execute(held.where(WebhookDelivery.endpoint_id == one)
                               .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
                               .offset(keep)).scalars()
    ids = list(set(ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(chunk)))
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(chunk)))
    return len(ids)
