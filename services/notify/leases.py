"""Claims on e-mails and webhook deliveries: short, and renewed while the sending goes on.

A worker claims due rows by setting them `sending` with `next_at` at the end of its lease; a
row whose lease has run out is due again and another worker takes it. The lease is short
(NOTIFY_CLAIM_LEASE_SECONDS, 30 s) and a heartbeat renews it every third of that while the
batch is on its way, so a killed worker's rows are sent by another within seconds, and a slow
batch is never taken from a worker that is still sending it.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import update

from shared.db import Database, utcnow


class Lease:
    """Rows of `model` (with `id`, `status`, `next_at`) claimed until `until`: ours while they are
    `sending` and their `next_at` is still `until`. Hold `lock` while checking that a row is
    ours and writing it, so a renewal cannot move `until` in between."""

    def __init__(self, db: Database, model, ids: list, until: datetime, seconds: float):
        self.db = db
        self.model = model
        self.ids = list(ids)
        self.until = until
        self.seconds = seconds
        self.lock = threading.Lock()

    def renew(self) -> None:
        m = self.model
        with self.lock:
            new = utcnow() + timedelta(seconds=self.seconds)
            with self.db.engine.begin() as connection:  # one statement: no ORM session needed
                connection.execute(update(m).where(m.id.in_(self.ids), m.status == "sending",
                                                   m.next_at == self.until).values(next_at=new))
            self.until = new
