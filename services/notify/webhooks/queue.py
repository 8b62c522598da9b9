"""Which endpoints get a message: those whose owner picked its type and may see it. A
coordinator's endpoints get every message; an organisation's get what is public and what is
about itself — never another organisation's submissions or coordinators-only events."""
from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notify.models import KnownEvent, WebhookDelivery, WebhookEndpoint, country_holds, metadata
from shared.bus.consumer import Message
from shared.country_holds import held_countries
from shared.db import utcnow
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
    revocations = metadata.tables["access_revocations"]
    suspended = select(revocations.c.subject_id).where(revocations.c.kind == "organisation",
                                                       revocations.c.revoked.is_(True))
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.role, WebhookEndpoint.owner_id)
        .where(WebhookEndpoint.status == "active", WebhookEndpoint.owner_id.not_in(suspended),
               cast(WebhookEndpoint.types, String).like(f'%"{message.type}"%'))).all()
    rows = [{"id": new_id(), "endpoint_id": e.id, "message_id": message.id, "type": message.type, "body": body,
             "status": "pending", "attempts": 0, "next_at": utcnow(), "created_at": utcnow()}
            for e in endpoints
            if e.role == "coordinator" or visible_to_organisation(session, message.type, message.data, e.owner_id)]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(WebhookDelivery).values(rows).on_conflict_do_nothing())
    return len(rows)
