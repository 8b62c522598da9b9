"""The delivery logs' retention: finished webhook deliveries (delivered or failed, with their
attempts) and the records of sent or failed e-mails older than DELIVERY_LOG_KEEP_DAYS go, a
batch at a time, each batch its own short transaction. Their `next_at` is when they finished
(the end of the claim they were sent under, or when they failed), so the status-and-time
indexes find them."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from services.notify.models import DeliveryAttempt, Notification, WebhookDelivery
from shared.db import Database

BATCH = 500


def prune_delivery_logs(db: Database, keep_days: float, now: datetime, batch: int = BATCH,
                        rounds: int = 200) -> dict[str, int]:
    """Answer how many webhook deliveries and e-mail records went (at most `rounds` batches of
    each per call: a long backlog is worked through over several housekeeping rounds)."""
    cutoff = now - timedelta(days=keep_days)
    removed = {"webhook_deliveries": 0, "emails": 0}
    for _ in range(rounds):
        with db.transaction() as session:
            ids = list(session.execute(select(WebhookDelivery.id).where(
                WebhookDelivery.status.in_(("delivered", "failed")), WebhookDelivery.next_at < cutoff)
                .limit(batch)).scalars())
            if ids:
                session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
                session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        removed["webhook_deliveries"] += len(ids)
        if len(ids) < batch:
            break
    for _ in range(rounds):
        with db.transaction() as session:
            ids = list(session.execute(select(Notification.id).where(
                Notification.status.in_(("sent", "failed")), Notification.next_at < cutoff).limit(batch)).scalars())
            if ids:
                session.execute(delete(Notification).where(Notification.id.in_(ids)))
        removed["emails"] += len(ids)
        if len(ids) < batch:
            break
    return removed
