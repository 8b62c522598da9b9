"""Revoked keys and suspended organisations, as each service learns them from the bus.

Messages may arrive out of order (a retried one comes back late), so each row remembers the
time of the message that set it, and an older message never overrides a newer one.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from shared.bus.consumer import Message
from shared.db import Database


def set_revoked(session: Session, table: Table, kind: str, subject_id: str, revoked: bool,
                as_of: datetime) -> None:
    """Record that `subject_id` is (or is no longer) revoked, as of `as_of`."""
    row = session.execute(select(table.c.as_of).where(
        table.c.kind == kind, table.c.subject_id == subject_id).with_for_update()).first()
    if row is None:
        session.execute(table.insert().values(kind=kind, subject_id=subject_id, revoked=revoked, as_of=as_of))
    elif as_of >= row.as_of:
        session.execute(update(table).where(table.c.kind == kind, table.c.subject_id == subject_id)
                        .values(revoked=revoked, as_of=as_of))


def revocation_check(db: Database, table: Table):
    """A function (key id, subject id) -> revoked? for the token verifier."""

    def is_revoked(key_id: str, subject_id: str) -> bool:
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.kind).where(table.c.revoked.is_(True), or_(
                and_(table.c.kind == "key", table.c.subject_id == key_id),
                and_(table.c.kind == "organisation", table.c.subject_id == subject_id),
            )).limit(1)).first() is not None

    return is_revoked


def revocation_handlers(table: Table) -> dict:
    """The bus handlers every consuming service includes."""

    def key_revoked(session: Session, message: Message) -> None:
        set_revoked(session, table, "key", message.data["key_id"], True, message.occurred_at)

    def organisation_suspended(session: Session, message: Message) -> None:
        set_revoked(session, table, "organisation", message.data["id"], True, message.occurred_at)

    def organisation_reinstated(session: Session, message: Message) -> None:
        set_revoked(session, table, "organisation", message.data["id"], False, message.occurred_at)

    return {"key.revoked": key_revoked, "organisation.suspended": organisation_suspended,
            "organisation.reinstated": organisation_reinstated}
