"""Writing messages: into the outbox, in the caller's transaction."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from shared import tracing
from shared.bus.catalogue import dump, message_type, validate_outgoing
from shared.bus.envelope import make_envelope
from shared.db import utcnow

OUTBOX_DIRTY = "bus_outbox_dirty"


def _clean(value):
    """Text that can be encoded anywhere (a lone surrogate becomes its escape), recursively."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return _clean(repr(value))


def _jsonable(headers: dict) -> dict:
    return _clean(headers)


class Outbox:
    """Adds messages to a service's outbox table; the relay sends them after commit."""

    def __init__(self, table: Table, source: str,
                 correlation_id: Callable[[], str | None] = lambda: None):
        self.table = table
        self.source = source
        self.correlation_id = correlation_id
        self._statement = table.insert()  # built once: one per message cost more than the row's write

    def add(self, session: Session, type_: str, data: dict) -> dict:
        """Validate and queue one message; it is published only if `session` commits."""
        kind = message_type(type_)
        clean = dump(type_, validate_outgoing(type_, data))
        envelope = make_envelope(type_, kind.version, clean, self.source, self.correlation_id())
        # The trace of the request, or of the message being handled, goes on with the message.
        self._insert(session, envelope["id"], type_, None, envelope, tracing.outgoing(), utcnow())
        return envelope

    def add_to_queue(self, session: Session, queue: str, envelope: dict, headers: dict,
                     available_at: datetime) -> None:
        """Queue an existing message for one queue only: a retry or a dead letter."""
        # The envelope may be malformed (that can be why it is parked): keep ids in bounds.
        self._insert(session, _clean(str(envelope.get("id", "?")))[:36],
                     _clean(str(envelope.get("type", "?")))[:200], queue, envelope, headers, available_at)

    def _insert(self, session, message_id, routing_key, queue, envelope, headers, available_at):
        session.execute(self._statement, {
            "message_id": message_id, "routing_key": routing_key, "queue": queue,
            # ASCII escapes keep even a broken string (a lone surrogate) storable; repr()
            # stands in for what JSON cannot hold (bytes a hostile publisher smuggled in).
            "body": json.dumps(envelope, default=repr), "headers": _jsonable(headers),
            "available_at": available_at, "sent_at": None,
        })
        session.info[OUTBOX_DIRTY] = True


def backlog(session: Session, table: Table, now: datetime) -> tuple[int, datetime | None]:
    """How many of an outbox's messages are due and not yet on the bus, and since when the
    oldest of them is due (None: none is): what `doa status` and the metrics report."""
    return tuple(session.execute(select(func.count(), func.min(table.c.available_at)).where(
        table.c.sent_at.is_(None), table.c.available_at <= now)).one())
