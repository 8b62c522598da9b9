"""The outbox relay: publishes committed outbox rows, then marks them sent."""
from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import Table, Text, cast, delete, event, select, update

from shared.bus.connection import connect, declare_topology
from shared.bus.outbox import OUTBOX_DIRTY
from shared.bus.topology import Topology, dead_letter_queue_name, exchange
from shared.db import Database, utcnow

log = logging.getLogger("doa.bus.relay")

RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}
KEEP_SENT = timedelta(days=1)


class BadRow(ValueError):
    """An outbox row that cannot be sent as it is (its headers cannot be read)."""


def _headers(text: str | None) -> dict:
    try:
        headers = json.loads(text) if text else {}
    except ValueError as exc:
        raise BadRow(f"has unreadable headers ({exc})") from None
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise BadRow(f"has headers that are not an object ({type(headers).__name__})")
    return headers


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
        """Publish one batch of due rows; answer how many were published (parked rows count)."""
        t = self.table
        with self.db.transaction() as session:
            # The headers come as text and are read row by row: one row that cannot be read
            # must not fail the whole batch, and every batch after it.
            rows = session.execute(
                select(t.c.seq, t.c.routing_key, t.c.queue, t.c.body, cast(t.c.headers, Text).label("headers"))
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
                    try:
                        self._publish(producer, row)
                    except BadRow as exc:
                        self._park(producer, row, str(exc))
                    except Exception as exc:
                        if self._bus_trouble(exc):
                            raise
                        self._park(producer, row, f"cannot be published: {type(exc).__name__}: {exc}")
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

    def _bus_trouble(self, exc: Exception) -> bool:
        """The broker is away (try the row again later), rather than the row being bad."""
        conn = self._connection
        errors = (OSError, TimeoutError, KombuOperationalError) + (tuple(conn.connection_errors) + tuple(conn.channel_errors) if conn else ())
        return isinstance(exc, errors)

    def _publish(self, producer, row) -> None:
        common = dict(content_type="application/json", content_encoding="utf-8",
                      delivery_mode=2, retry=True, retry_policy=RETRY_POLICY)
        headers = _headers(row.headers)
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

    def _park(self, producer, row, why: str) -> None:
        """A row that cannot be sent as it is goes to the dead-letter queue, with why and where it
        was going (so `doa bus replay` can send it on once fixed), and the rows behind it flow on.
        If even that fails, the broker is in trouble: the row stays and is tried again."""
        reason = f"outbox row {row.seq} {why}"[:2000]
        log.error("outbox row parked in the dead-letter queue", extra={"seq": row.seq, "reason": reason})
        headers = {"x-dead-reason": reason, "x-attempts": 0, "x-dead-at": utcnow().isoformat(),
                   "x-dead-headers": str(row.headers)[:2000]}
        if row.queue:
            headers["x-dead-queue"] = row.queue
        else:
            headers["x-dead-routing-key"] = row.routing_key
        producer.publish(row.body, exchange="", routing_key=dead_letter_queue_name(self.exchange_name),
                         headers=headers, content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2, retry=True, retry_policy=RETRY_POLICY)

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
