"""The outbox relay: publishes committed outbox rows, then marks them sent."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Table, delete, event, select, update

from shared.bus.connection import connect, declare_topology
from shared.bus.outbox import OUTBOX_DIRTY
from shared.bus.topology import Topology, dead_letter_queue_name, exchange
from shared.db import Database, utcnow

log = logging.getLogger("doa.bus.relay")

RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}
KEEP_SENT = timedelta(days=1)


class Relay:
    """`topology` is the whole platform's (its composition root derives it): the relay declares
    every queue and sends what no queue is bound to to the dead-letter queue."""

    def __init__(self, db: Database, table: Table, bus_url: str, exchange_name: str, topology: Topology,
                 batch: int = 500, interval: float = 0.2, visibility_timeout: int = 300):
        self.db = db
        self.topology = topology
        self.table = table
        self.bus_url = bus_url
        self.exchange = exchange(exchange_name)
        self.exchange_name = exchange_name
        self.batch = batch
        self.interval = interval
        self.visibility_timeout = visibility_timeout
        self.wake = threading.Event()
        self._connection = None
        self._producer = None
        self._last_purge = utcnow()
        # Wake at once when a transaction that wrote to the outbox commits in this process.
        event.listen(db.sessions, "after_commit", self._after_commit)
        event.listen(db.sessions, "after_soft_rollback", self._after_rollback)

    def _after_commit(self, session) -> None:
        if session.info.pop(OUTBOX_DIRTY, False):
            self.wake.set()

    @staticmethod
    def _after_rollback(session, _previous) -> None:
        session.info.pop(OUTBOX_DIRTY, None)

    def _ensure_producer(self):
        if self._producer is None:
            self._connection = connect(self.bus_url, self.visibility_timeout)
            self._connection.ensure_connection(max_retries=1)
            channel = self._connection.channel()
            declare_topology(channel, self.exchange_name, self.topology)
            self._producer = self._connection.Producer(channel)
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection may fail too; nothing to do
                pass
        self._connection = self._producer = None

    def run_once(self) -> int:
        """Publish one batch of due rows; answer how many were published."""
        t = self.table
        with self.db.transaction() as session:
            rows = session.execute(
                select(t.c.seq, t.c.routing_key, t.c.queue, t.c.body, t.c.headers)
                .where(t.c.sent_at.is_(None), t.c.available_at <= utcnow())
                .order_by(t.c.seq).limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            producer = self._ensure_producer()
            sent: list[int] = []
            failure: Exception | None = None
            try:
                for row in rows:
                    self._publish(producer, row)
                    sent.append(row.seq)
            except Exception as exc:  # keep what went out marked, then report the failure
                failure = exc
                self.close()
            if sent:
                session.execute(update(t).where(t.c.seq.in_(sent)).values(sent_at=utcnow()))
        if failure is not None:
            raise failure
        self._purge_sent()
        return len(sent)

    def _publish(self, producer, row) -> None:
        common = dict(content_type="application/json", content_encoding="utf-8",
                      delivery_mode=2, retry=True, retry_policy=RETRY_POLICY)
        headers = dict(row.headers or {})
        if row.queue:
            producer.publish(row.body, exchange="", routing_key=row.queue, headers=headers, **common)
        elif self.topology.consumers_of(row.routing_key):
            producer.publish(row.body, exchange=self.exchange, routing_key=row.routing_key,
                             headers=headers, **common)
        else:
            # Nobody consumes this type: keep it where an operator can see it, with why.
            headers.update({"x-dead-reason": f"unroutable: no queue is bound to {row.routing_key}",
                            "x-attempts": 0})
            producer.publish(row.body, exchange="", routing_key=dead_letter_queue_name(self.exchange_name),
                             headers=headers, **common)

    def _purge_sent(self) -> None:
        now = utcnow()
        if now - self._last_purge < timedelta(minutes=10):
            return
        self._last_purge = now
        with self.db.transaction() as session:
            session.execute(delete(self.table).where(self.table.c.sent_at < now - KEEP_SENT))

    def run_forever(self, stop: threading.Event) -> None:
        backoff = self.interval
        while not stop.is_set():
            try:
                published = self.run_once()
                backoff = self.interval
            except Exception as exc:  # the bus or the database is away: keep the rows, try later
                log.warning("relay could not publish, retrying in %.1fs: %s", backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if published < self.batch:
                self.wake.wait(self.interval)
                self.wake.clear()
        self.close()
