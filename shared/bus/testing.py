"""Running a service's handlers without a broker (nameko's testing helpers are the model): a
message as a consumer would receive it, handed to the handler its service declared, in a
session the test owns.

    session.execute(...)  # the state before
    deliver(handles, session, message("organisation.registered", data, occurred_at=t0))
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Mapping

from sqlalchemy.orm import Session

from shared.bus.catalogue import message_type, validate_incoming
from shared.bus.consumer import Handler, Message
from shared.bus.handlers import Handlers
from shared.db import utcnow


def message(type_: str, data: dict, occurred_at: datetime | None = None, source: str = "test") -> Message:
    """A message of a catalogued type, its data validated as a consumer validates it."""
    return Message(id=str(uuid.uuid4()), type=type_, version=message_type(type_).version,
                   occurred_at=occurred_at or utcnow(), source=source, correlation_id=None,
                   data=validate_incoming(type_, data))


def deliver(handlers: Handlers | Mapping[str, Handler], session: Session, msg: Message, **dependencies) -> None:
    """Run what `handlers` declare for this message's type (nothing if none), as a consumer
    would; `dependencies` are what the service's bootstrap would provide (fakes, in a test)."""
    handler_map = handlers.map(dependencies) if isinstance(handlers, Handlers) else handlers
    handler = handler_map.get(msg.type)
    if handler is not None:
        handler(session, msg)
