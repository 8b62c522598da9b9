"""The moment an event's hidden address becomes public (its owner chose some hours before the
start), the bus is told where the event is — `event.place_disclosed` — so that notify can give
it to the confirmed participants then, not an hour later when they look. The address travels
on the bus only once it is public: before, it stays in this service."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.events.local_events import is_public, place_public_from
from services.events.models import LocalEvent
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.kernel import Kernel

log = logging.getLogger("doa.events.disclosures")
CHECK_SECONDS = 30
LONGEST_NOTICE = timedelta(hours=720)  # the most hours before its start an address may become public


def announce_due(session: Session, outbox: Outbox, now: datetime) -> int:
    """Tell the bus of every public event whose address has become public since it was last
    looked at (once each); answers how many."""
    candidates = session.execute(select(LocalEvent).where(
        LocalEvent.address_public == "before", LocalEvent.place_told_at.is_(None), LocalEvent.status == "approved",
        LocalEvent.visibility == "public", LocalEvent.starts_at <= now + LONGEST_NOTICE,
        LocalEvent.ends_at > now)).scalars().all()
    told = 0
    for event in candidates:
        public_from = place_public_from(event)
        if public_from is None or public_from > now or not is_public(session, event):
            continue
        outbox.add(session, "event.place_disclosed", {
            "id": event.id, "campaign_id": event.campaign_id, "organisation_id": event.organisation_id,
            "venue": event.venue, "address": event.address, "latitude": event.latitude,
            "longitude": event.longitude})
        event.place_told_at = now
        told += 1
    return told


def watch(kernel: Kernel):
    """The worker's loop: look every 30 s."""
    def run_forever(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with kernel.db.transaction() as session:
                    told = announce_due(session, kernel.outbox, utcnow())
                if told:
                    log.info("told the bus where %d events are (their addresses became public)", told)
            except Exception:
                log.exception("looking for addresses that became public failed; trying again shortly")
            stop.wait(CHECK_SECONDS)
    return run_forever
