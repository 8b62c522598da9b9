"""Revoked keys and suspended organisations, as each service learns them from the bus."""
from __future__ import annotations

from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.bus.consumer import Message
from shared.db import Database, utcnow


def revoke(session: Session, table: Table, kind: str, subject_id: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(table).values(kind=kind, subject_id=subject_id, revoked_at=utcnow())
                    .on_conflict_do_nothing())


def restore(session: Session, table: Table, kind: str, subject_id: str) -> None:
    session.execute(delete(table).where(table.c.kind == kind, table.c.subject_id == subject_id))


def revocation_check(db: Database, table: Table):
    """A function (key id, subject id) -> revoked? for the token verifier."""

    def is_revoked(key_id: str, subject_id: str) -> bool:
        with db.engine.connect() as conn:
            return conn.execute(select(table.c.kind).where(or_(
                and_(table.c.kind == "key", table.c.subject_id == key_id),
                and_(table.c.kind == "organisation", table.c.subject_id == subject_id),
            )).limit(1)).first() is not None

    return is_revoked


def revocation_handlers(table: Table) -> dict:
    """The bus handlers every consuming service includes."""

    def key_revoked(session: Session, message: Message) -> None:
        revoke(session, table, "key", message.data["key_id"])

    def organisation_suspended(session: Session, message: Message) -> None:
        revoke(session, table, "organisation", message.data["id"])

    def organisation_reinstated(session: Session, message: Message) -> None:
        restore(session, table, "organisation", message.data["id"])

    return {"key.revoked": key_revoked, "organisation.suspended": organisation_suspended,
            "organisation.reinstated": organisation_reinstated}
