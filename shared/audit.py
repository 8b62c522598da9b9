"""A record of every decision: each moderation or administrative act puts one entry on the
bus, in the same transaction as the act itself (so an act and its record happen together or
not at all). The registry keeps them all, hash-chained, in one place (services/registry/audit.py).

An entry says who acted, what they did to what, why, and the fields before and after — never
a participant's or subscriber's personal data, an e-mail address or a secret: callers pass
only the public fields that changed.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.bus.outbox import Outbox

OPERATOR = "operator"  # the actor of an act done on the command line, with no token


def _plain(value: Any) -> Any:
    """JSON values: dates as ISO text, tuples as lists, the rest as it is."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def record(session: Session, outbox: Outbox, actor: Principal | None, action: str, subject_kind: str,
           subject_id: str, reason: str | None = None, before: dict | None = None,
           after: dict | None = None) -> None:
    """Put one decision on record; it is published only if `session` commits."""
    outbox.add(session, "audit.recorded", {
        "actor_role": actor.role if actor else OPERATOR,
        "actor_id": actor.subject_id if actor else None,
        "key_id": actor.key_id if actor else None,
        "action": action, "subject_kind": subject_kind, "subject_id": str(subject_id),
        "reason": reason, "before": _plain(before or {}), "after": _plain(after or {}),
    })


def changes(old: dict, new: dict) -> tuple[dict, dict]:
    """(before, after) of only the fields whose values differ."""
    differing = [name for name in new if old.get(name) != new[name]]
    return {name: old.get(name) for name in differing}, {name: new[name] for name in differing}
