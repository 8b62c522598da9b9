"""Ids: random UUIDs (v4) for everything, except the facts other services keep copies of
(organisations, campaigns, events), whose ids are time-ordered (v7, RFC 9562). A service that
meets a reference it has no copy of yet can then tell the platform's own lag (an id minted a
moment ago: 503, try again) from a client's mistake (an old or made-up id: 4xx)."""
from __future__ import annotations

import os
import time
import uuid
from typing import NoReturn

from shared.errors import DomainError, NotYetKnown

# How long after an id is minted a copy may still lack it: far above the bus's usual lag
# (tens of milliseconds), short enough that a made-up id is soon refused for what it is.
LAG_GRACE_SECONDS = 30.0


def new_id() -> str:
    return str(uuid.uuid4())


def new_time_ordered_id(now: float | None = None) -> str:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis & (2**48 - 1)) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC 9562 variant
    return str(uuid.UUID(int=value))


def minted_recently(id_: str, now: float | None = None, grace: float = LAG_GRACE_SECONDS) -> bool:
    """True for a UUIDv7 minted within `grace` seconds (a little clock skew allowed ahead)."""
    try:
        parsed = uuid.UUID(str(id_))
    except ValueError:
        return False
    if parsed.version != 7:
        return False
    minted = (parsed.int >> 80) / 1000
    now = time.time() if now is None else now
    return now - grace <= minted <= now + 5


def refuse_unknown(reference_id: str, error: DomainError, what: str = "it") -> NoReturn:
    """A reference this service has no copy of: the platform's lag if the id is new (503 with
    Retry-After), else the caller's mistake (`error`)."""
    if minted_recently(reference_id):
        raise NotYetKnown(f"This service has not heard of {what} yet (it was made a moment ago): "
                          f"try again in a second.")
    raise error
