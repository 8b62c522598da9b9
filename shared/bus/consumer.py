"""Consuming messages: validate, skip what was handled, commit, then acknowledge.

`Delivery.handle` holds the whole rule and knows nothing of kombu, so a test can run a
handler without a broker; `ServiceConsumer` feeds it from the service's queue.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from shared import tracing
from shared.bus.catalogue import UnknownMessageType, validate_incoming
from shared.bus.connection import FOREIGN, declare_topology, keep_invisible
from shared.bus.envelope import EnvelopeSchema
from shared.bus.outbox import Outbox
from shared.bus.topology import Topology, dead_letter_queue_name, queue_name
from shared.db import Database, utcnow
from shared.heartbeat import Heartbeat

log = logging.getLogger("doa.bus.consumer")

MAX_BACKOFF = 300.0
ENVELOPE = EnvelopeSchema()


@dataclass(frozen=True)
class Message:
    id: str
    type: str
    version: int
    occurred_at: datetime
    source: str
    correlation_id: str | None
    data: dict


Handler = Callable[[Session, Message], None]


class Delivery:
    """What happens to one message a service receives."""

    def __init__(self, service: str, db: Database, inbox: Table, outbox: Outbox,
                 handlers: dict[str, Handler], exchange_name: str, max_attempts: int = 5,
                 retry_base: float = 1.0, inbox_keep: timedelta = timedelta(days=7)):
        self.service = service
        self.exchange_name = exchange_name
        self.db = db
        self.inbox = inbox
        self.outbox = outbox
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.inbox_keep = inbox_keep
        self._remember = insert(inbox)  # built once: this runs for every message

    def handle(self, body, headers: dict | None) -> str:
        """Answer one of: handled, duplicate, ignored, retry, dead. Logged, and what the handler
        adds to the outbox sent on, in the trace the message's `traceparent` names."""
        with tracing.handling(headers):
            return self._handle(body, headers)

    def _handle(self, body, headers: dict | None) -> str:
        attempt = _attempt(headers)
        try:
            message = self._parse(body)
        except (ValidationError, UnknownMessageType, TypeError, ValueError) as exc:
            # A malformed message will not get better by trying again.
            return self.park(body, attempt, f"invalid message: {exc}")
        handler = self.handlers.get(message.type)
        if handler is None:
            return "ignored"
        try:
            with self.db.transaction() as session:
                # The id goes in first: a second delivery racing this one fails here.
                session.execute(self._remember, {"message_id": message.id, "type": message.type,
                                                 "handled_at": utcnow()})
                session.flush()
                handler(session, message)
            log.info("handled %s %s", message.type, message.id, extra={"service": self.service})
            return "handled"
        except IntegrityError as exc:
            if self._already_handled(message.id):
                return "duplicate"
            return self._retry_or_park(body, attempt, exc)
        except Exception as exc:
            return self._retry_or_park(body, attempt, exc)

    def _parse(self, body) -> Message:
        if not isinstance(body, dict):
            raise TypeError("the body is not a JSON object")
        env = ENVELOPE.load(body)
        data = validate_incoming(env["type"], env["data"])
        return Message(id=env["id"], type=env["type"], version=env["version"],
                       occurred_at=env["occurred_at"], source=env["source"],
                       correlation_id=env["correlation_id"], data=data)

    def prune_inbox(self, batch: int = 1000, pause: Callable[[], bool] = lambda: False) -> int:
        """Forget the ids of messages handled longer ago than `inbox_keep` (a redelivery comes
        within seconds or minutes; this is days). A batch at a time, each its own short
        transaction, so writers never wait long; `pause()` between batches answers True to stop
        (the worker is stopping). Answer how many went."""
        inbox = self.inbox
        cutoff = utcnow() - self.inbox_keep
        removed = 0
        while True:
            with self.db.transaction() as session:
                ids = select(inbox.c.message_id).where(inbox.c.handled_at < cutoff).limit(batch).scalar_subquery()
                gone = session.execute(delete(inbox).where(inbox.c.message_id.in_(ids))).rowcount
            removed += gone
            if gone < batch or pause():
                return removed

    def _already_handled(self, message_id: str) -> bool:
        with self.db.transaction() as session:
            return session.execute(
                self.inbox.select().where(self.inbox.c.message_id == message_id)
            ).first() is not None

    def _retry_or_park(self, body, attempt: int, exc: Exception) -> str:
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        if attempt >= self.max_attempts:
            return self.park(body, attempt, reason)
        delay = min(self.retry_base * 2 ** (attempt - 1), MAX_BACKOFF)
        log.warning("message failed, retry %d in %.1fs", attempt, delay,
                    extra={"service": self.service, "reason": reason})
        with self.db.transaction() as session:
            self.outbox.add_to_queue(session, queue_name(self.exchange_name, self.service), _as_envelope(body),
                                     {"x-attempts": attempt, "x-last-error": reason, **tracing.outgoing()},
                                     utcnow() + timedelta(seconds=delay))
        return "retry"

    def park(self, body, attempt: int, reason: str) -> str:
        """Put a message in the dead-letter queue with the reason, via the outbox."""
        log.error("message parked in the dead-letter queue",
                  extra={"service": self.service, "reason": reason, "attempts": attempt})
        with self.db.transaction() as session:
            self.outbox.add_to_queue(session, dead_letter_queue_name(self.exchange_name), _as_envelope(body), {
                "x-attempts": attempt, "x-dead-reason": reason, "x-dead-service": self.service,
                "x-dead-at": utcnow().isoformat(), **tracing.outgoing()}, utcnow())
        return "dead"


def _attempt(headers) -> int:
    """Which try this is, from the header a retry carries (anything odd counts as the first)."""
    try:
        return max(int((headers or {}).get("x-attempts", 0)), 0) + 1
    except (TypeError, ValueError):
        return 1


def _as_envelope(body) -> dict:
    return body if isinstance(body, dict) else {"type": "?", "id": "?", "raw": repr(body)[:10000]}


class ServiceConsumer(ConsumerMixin):
    """A kombu worker that feeds a service's queue (as `topology` binds it) to its Delivery.

    Nothing a queue holds stops it: what is not a message is parked with the reason, and an
    unexpected error is logged and consuming goes on (the message it was on comes back). While
    a message is handled a heartbeat keeps it from being handed to another consumer on Redis,
    so the visibility timeout can be short."""

    def __init__(self, connection, delivery: Delivery, topology: Topology, prefetch: int = 50,
                 heartbeat: Heartbeat | None = None):
        self.connection = connection
        self.delivery = delivery
        self.topology = topology
        self.exchange_name = delivery.exchange_name
        self.prefetch = prefetch
        self.heartbeat = heartbeat
        self.outcomes: dict[str, int] = {}
        # Whether the broker answers: false from a connection error until kombu has consumed
        # again (the worker's health file says so: a worker cut off from its queue is not well).
        self.broker_ok = False

    def get_consumers(self, Consumer, channel):  # noqa: N803 - kombu's signature
        declare_topology(channel, self.exchange_name, self.topology)
        return [Consumer(queues=[self.topology.service_queue(self.delivery.service, self.exchange_name)],
                         callbacks=[self.on_message], accept=["json"],
                         prefetch_count=self.prefetch)]

    def run(self, _tokens: int = 1, **kwargs) -> None:
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except Exception:  # not the connection (kombu reconnects itself): log, pause, go on
                log.exception("the consumer of %s failed; consuming again in a second", self.delivery.service)
                self._count("consumer_error")
                time.sleep(1)

    def on_consume_ready(self, connection, channel, consumers, **kwargs) -> None:
        self.broker_ok = True

    def on_connection_error(self, exc, interval) -> None:
        self.broker_ok = False
        super().on_connection_error(exc, interval)

    def on_message(self, body, message) -> None:
        try:
            if self.heartbeat is None:
                outcome = self.delivery.handle(body, message.headers)
            else:
                with self.heartbeat.keep(lambda: keep_invisible(message)):
                    outcome = self.delivery.handle(body, message.headers)
        except (OperationalError, InterfaceError):
            # Even the retry could not be written (the database is away): give it back
            # and pause, rather than spin through the queue.
            log.exception("could not record the outcome of a message; requeueing")
            time.sleep(1)
            message.requeue()
            return
        except Exception as exc:
            # Something no handler path expected (odd headers…): park what can be kept of it.
            log.exception("a message could not be handled; parking it")
            outcome = self.delivery.park({"type": "?", "id": "?", "raw": repr(body)[:10000]}, 1,
                                         f"unhandled: {type(exc).__name__}: {exc}"[:2000])
        self._count(outcome)
        message.ack()  # only now: the effect, or the retry, is committed

    def on_decode_error(self, message, exc) -> None:
        # Not JSON, a content type we refuse, or not a message at all: park it rather than lose it.
        raw = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else message.body
        if message.content_type == FOREIGN:
            reason = f"not a message: {(message.headers or {}).get('x-foreign-reason', '?')}"
        else:
            reason = f"undecodable message: {exc}"
        self.delivery.park({"type": "?", "id": "?", "raw": str(raw)[:10000]}, 1, reason)
        self._count("dead")
        message.ack()

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
