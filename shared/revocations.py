"""Revoked keys and suspended organisations, as each service learns them from the bus: a copy
(shared.copies) in the kernel's table `access_revocations`, which every service's token
verifier reads. A lifted revocation (a reinstatement) keeps its row with `revoked` false, so
that a late, older suspension cannot undo a newer reinstatement, nor the other way round.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, MetaData, String, Table, and_, or_, select
from sqlalchemy.orm import Session

from shared.copies import Copy, copied, copy_of
from shared.db import Database


def _id(message) -> str:
    return message.data["id"]


def add_revocations_table(metadata: MetaData) -> Table:
    return Copy(metadata, "access_revocations",
                # kind is "key" (an API key id) or "organisation" (a suspended organisation's id)
                key={"kind": String(20), "subject_id": String(36)}, columns={"revoked": Boolean}, feeds={
                    "key.revoked": copied(kind="key", subject_id=lambda m: m.data["key_id"], revoked=True),
                    "organisation.suspended": copied(kind="organisation", subject_id=_id, revoked=True),
                    "organisation.reinstated": copied(kind="organisation", subject_id=_id, revoked=False),
                }).table


def revocations(metadata: MetaData) -> Copy:
    """The copy in a service's metadata, whose handlers every consuming service includes."""
    return copy_of(metadata.tables["access_revocations"])


def set_revoked(session: Session, table: Table, kind: str, subject_id: str, revoked: bool,
                as_of: datetime) -> None:
    """Record that `subject_id` is (or is no longer) revoked, as of `as_of` (the registry's own
    decisions, with the time of the message that announces them)."""
    copy_of(table).write(session, {"kind": kind, "subject_id": subject_id, "revoked": revoked, "as_of": as_of})


def revocation_check(db: Database, table: Table):
    """A function (key id, subject id) -> revoked? for the token verifier."""

    def is_revoked(key_id: str, subject_id: str) -> bool:
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.kind).where(table.c.revoked.is_(True), or_(
                and_(table.c.kind == "key", table.c.subject_id == key_id),
                and_(table.c.kind == "organisation", table.c.subject_id == subject_id),
            )).limit(1)).first() is not None

    return is_revoked
