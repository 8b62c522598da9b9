"""When to try a webhook again: the Standard Webhooks schedule with jitter, the receiver's
Retry-After, and which answers are worth another attempt."""
from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Sequence
from datetime import timezone

# Seconds before each attempt: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.10  # spreads retries so endpoints that failed together are not all hit again at once
MAX_RETRY_AFTER = 24 * 3600  # a receiver may slow us down, not park a delivery for ever
_rng = random.Random()


def parse_schedule(text: str) -> tuple[float, ...]:
    """`"0,5,300"` → (0.0, 5.0, 300.0); ValueError names the bad part."""
    delays = []
    for part in text.split(","):
        part = part.strip()
        try:
            delay = float(part)
        except ValueError:
            raise ValueError(f"a webhook schedule is comma-separated seconds; {part!r} is not a number") from None
        if not math.isfinite(delay) or delay < 0:
            raise ValueError(f"a webhook schedule's delays are finite and not negative; {part!r} is not")
        delays.append(delay)
    return tuple(delays)


def delay_before(attempt: int, schedule: Sequence[float] = DEFAULT_SCHEDULE, rng: random.Random | None = None,
                 retry_after: float | None = None) -> float | None:
    """Seconds to wait before attempt number `attempt` (1-based), or None once the schedule is
    used up — the delivery has failed for good. A Retry-After only ever lengthens the wait."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    delay = max(0.0, base * (1 + (rng or _rng).uniform(-JITTER, JITTER)))
    if retry_after is not None:
        delay = max(delay, min(max(0.0, retry_after), MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header, as delta-seconds or an HTTP-date, capped at 24 h;
    None when absent or unreadable (a receiver's typo is no reason to fail the attempt)."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # asctime dates carry no zone; HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(0.0, seconds), float(MAX_RETRY_AFTER))


def should_retry(status_code: int | None, error: str | None = None) -> bool:
    """As the spec has it: anything but a 2xx is a failure worth retrying, except 410 Gone."""
    if status_code is None:
        return True  # no answer at all: timeout, refused connection, TLS failure…
    if 200 <= status_code <= 299:
        return False
    return not disables_at_once(status_code)


def disables_at_once(status_code: int | None) -> bool:
    """410 Gone: the receiver asks us to stop, so the endpoint is disabled without more attempts."""
    return status_code == 410
