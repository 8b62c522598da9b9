"""Which endpoints get a message: those whose owner picked its type and may see it. A
coordinator's endpoints get every message; an organisation's get what is public and what is
about itself — never another organisation's submissions or coordinators-only events."""
from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notify.models import WebhookDelivery, WebhookEndpoint
from shared.bus.consumer import Message
from shared.db import new_id, utcnow

# Messages anyone may know of (their data is public by the catalogue's design).
# (`campaign.rescheduled` is not: it names every organisation's events outside the window.)
PUBLIC_TYPES = {"organisation.registered", "organisation.updated", "campaign.created", "campaign.updated",
                "campaign.adopted", "endorsement.added", "endorsement.withdrawn", "report.published",
                "material.published"}
PUBLIC_EVENT_TYPES = {"event.approved", "event.updated", "event.cancelled"}


def visible_to_organisation(type_: str, data: dict, organisation_id: str) -> bool:
    if data.get("organisation_id") == organisation_id or data.get("id") == organisation_id:
        return True
    if type_ in PUBLIC_TYPES:
        return True
    if type_ in PUBLIC_EVENT_TYPES:
        return data.get("visibility") == "public" and data.get("status") in ("approved", "cancelled")
    return False


def queue_deliveries(session: Session, message: Message, body: str) -> int:
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.role, WebhookEndpoint.owner_id)
        .where(WebhookEndpoint.status == "active",
               cast(WebhookEndpoint.types, String).like(f'%"{message.type}"%'))).all()
    rows = [{"id": new_id(), "endpoint_id": e.id, "message_id": message.id, "type": message.type, "body": body,
             "status": "pending", "attempts": 0, "next_at": utcnow(), "created_at": utcnow()}
            for e in endpoints
            if e.role == "coordinator" or visible_to_organisation(message.type, message.data, e.owner_id)]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(WebhookDelivery).values(rows).on_conflict_do_nothing())
    return len(rows)
