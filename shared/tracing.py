"""W3C Trace Context (`traceparent`), carried from an HTTP request through the bus into the logs.

A request keeps the trace of the `traceparent` it came with (a new one when it came without,
or with one that is not valid) for its whole handling (flask `g`); a consumer handling a message
keeps the trace of the `traceparent` header the message carries. Every log line written
meanwhile names the trace id (shared.logs), every message added to the outbox carries it on
(shared.bus.outbox), and so one approval can be followed across the services by its trace id.

Each step is a span of its own: the trace id goes on, the parent id is new
(https://www.w3.org/TR/trace-context/). No sampling decision is made here: the flags given
are passed on, and a new trace is "sampled" (01).
"""
from __future__ import annotations

import re
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

HEADER = "traceparent"
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE, _ZERO_PARENT = "0" * 32, "0" * 16

# Outside a request: the traceparent of the message being handled in this thread.
_handling: ContextVar[str | None] = ContextVar("doa_traceparent", default=None)


def parse(value) -> tuple[str, str] | None:
    """(trace id, flags) of a valid traceparent, else None (version ff, zero ids, wrong shape;
    a later version's extra fields are allowed, as the spec asks)."""
    if not isinstance(value, str):
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        return None
    version, trace_id, parent_id, flags, extra = match.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT or (version == "00" and extra):
        return None
    return trace_id, flags


def continued(value=None) -> str:
    """A traceparent for the next span of `value`'s trace (a new trace when `value` is not valid)."""
    found = parse(value)
    trace_id, flags = found if found else (secrets.token_hex(16), "01")
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def current() -> str | None:
    """The traceparent of what this thread is doing: the request's, or the handled message's."""
    try:
        from flask import g, has_request_context

        if has_request_context() and "traceparent" in g:
            return g.traceparent
    except Exception:  # tracing must never fail because of Flask
        pass
    return _handling.get()


def current_trace_id() -> str | None:
    found = parse(current())
    return found[0] if found else None


def outgoing() -> dict:
    """The header to put on what this work sends on (a bus message, an HTTP call): empty when
    it is part of no trace."""
    now = current()
    return {HEADER: continued(now)} if now else {}


@contextmanager
def handling(headers) -> Iterator[str]:
    """While a message is handled: its trace (from its headers, a new one if it has none)."""
    given = headers.get(HEADER) if isinstance(headers, dict) else None
    token = _handling.set(continued(given))
    try:
        yield _handling.get()
    finally:
        _handling.reset(token)
