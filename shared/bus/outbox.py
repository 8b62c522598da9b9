"""Writing messages: into the outbox, in the caller's transaction."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from sqlalchemy import Table
from sqlalchemy.orm import Session

from shared.bus.catalogue import message_type, validate_outgoing
from shared.bus.envelope import make_envelope
from shared.db import utcnow

OUTBOX_DIRTY = "bus_outbox_dirty"


class Outbox:
    """Adds messages to a service's outbox table; the relay sends them after commit."""

    def __init__(self, table: Table, source: str,
                 correlation_id: Callable[[], str | None] = lambda: None):
        self.table = table
        self.source = source
        self.correlation_id = correlation_id

    def add(self, session: Session, type_: str, data: dict) -> dict:
        """Validate and queue one message; it is published only if `session` commits."""
        kind = message_type(type_)
        clean = kind.schema().dump(validate_outgoing(type_, data))
        envelope = make_envelope(type_, kind.version, clean, self.source, self.correlation_id())
        self._insert(session, envelope["id"], type_, None, envelope, {}, utcnow())
        return envelope

    def add_to_queue(self, session: Session, queue: str, envelope: dict, headers: dict,
                     available_at: datetime) -> None:
        """Queue an existing message for one queue only: a retry or a dead letter."""
        # The envelope may be malformed (that can be why it is parked): keep ids in bounds.
        self._insert(session, str(envelope.get("id", "?"))[:36], str(envelope.get("type", "?"))[:200],
                     queue, envelope, headers, available_at)

    def _insert(self, session, message_id, routing_key, queue, envelope, headers, available_at):
        session.execute(self.table.insert().values(
            message_id=message_id, routing_key=routing_key, queue=queue,
            body=json.dumps(envelope, ensure_ascii=False), headers=headers,
            available_at=available_at, sent_at=None,
        ))
        session.info[OUTBOX_DIRTY] = True
