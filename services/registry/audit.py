"""The audit log: every decision of every service, in one place, in one hash chain.

Each entry's hash covers its own fields and the hash of the entry before it, so an entry
changed or removed after the fact breaks the chain where it was, and `verify` says where.
The newest entry's number and hash are kept in `audit_head` too: a removed last entry shows
there. (Someone who can rewrite the whole table and its head can forge a new chain; keep the
head hash `verify` prints somewhere else, or an export, to compare against.)
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.registry.models import AuditEntry, AuditHead
from shared.bus.consumer import Message
from shared.db import utcnow

GENESIS = "0" * 64
HEAD_ID = 1
# Every field the log shows or is ordered by (recorded_at: the dashboard pages by it).
CHAINED = ("seq", "message_id", "occurred_at", "recorded_at", "service", "actor_role", "actor_id", "key_id", "action",
           "subject_kind", "subject_id", "reason", "before", "after", "previous_hash")
SHOWN = ("seq", "occurred_at", "recorded_at", "service", "actor_role", "actor_id", "key_id", "action",
         "subject_kind", "subject_id", "reason", "before", "after", "hash")


def _text(value) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def entry_hash(values: dict) -> str:
    """SHA-256 of the entry's chained fields as canonical JSON."""
    canonical = json.dumps({name: _text(values[name]) for name in CHAINED}, sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def recorded(session: Session, message: Message) -> None:
    """The handler of `audit.recorded`: add the entry at the end of the chain."""
    head = session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).scalar()
    if head is None:  # the first entry ever (a second worker racing here fails and retries)
        head = AuditHead(id=HEAD_ID, seq=0, hash=GENESIS)
        session.add(head)
    data = message.data
    values = {"seq": head.seq + 1, "message_id": message.id, "occurred_at": message.occurred_at,
              "recorded_at": utcnow(),
              "service": message.source[:20], "previous_hash": head.hash,
              **{name: data[name] for name in ("actor_role", "actor_id", "key_id", "action", "subject_kind",
                                               "subject_id", "reason", "before", "after")}}
    values["hash"] = entry_hash(values)
    session.add(AuditEntry(**values))
    head.seq, head.hash = values["seq"], values["hash"]
    session.flush()


HANDLERS = {"audit.recorded": recorded}


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: str
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 1000) -> Verdict:
    """Walk the whole chain; answer what does not hold, entry by entry."""
    problems: list[str] = []
    expected_seq, previous, count = 1, GENESIS, 0
    last_seq = 0
    while True:
        rows = session.execute(select(AuditEntry).where(AuditEntry.seq > last_seq)
                               .order_by(AuditEntry.seq).limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            count += 1
            values = {name: getattr(row, name) for name in CHAINED}
            if row.seq != expected_seq:
                problems.append(f"entries {expected_seq}–{row.seq - 1} are missing")
            if row.previous_hash != previous:
                problems.append(f"entry {row.seq} does not follow the entry before it (previous hash differs)")
            if entry_hash(values) != row.hash:
                problems.append(f"entry {row.seq} was changed after it was recorded (its hash does not match)")
            previous, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
            session.expunge(row)
    head = session.get(AuditHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (last_seq, previous):
        problems.append(f"the log's head says entry {head_seq} is the newest, but the chain ends at "
                        f"entry {last_seq}: entries were removed from the end or the head was changed")
    return Verdict(entries=count, head=previous, problems=problems)


def as_dict(entry: AuditEntry) -> dict:
    return {name: _text(getattr(entry, name)) for name in SHOWN}
