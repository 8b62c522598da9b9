"""Messages the events service consumes: it keeps a copy of every organisation."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.events.models import KnownOrganisation, metadata, public_revisions
from services.events.revisions import endorsed_by
from shared.bus.consumer import Message, merge_handlers
from shared.revisions import bump
from shared.revocations import revocation_handlers

COPIED = ("abbreviation", "name", "name_en", "country", "timezone", "languages", "website", "status")


@lru_cache(maxsize=None)
def _upsert(dialect: str):
    """Insert the copy, or update it unless it is newer than the message (one statement,
    built once per dialect: this runs for every organisation message)."""
    table = KnownOrganisation.__table__
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={name: statement.excluded[name] for name in COPIED + ("as_of",)},
        where=table.c.as_of <= statement.excluded.as_of)


def organisation_changed(session: Session, message: Message) -> None:
    data = message.data
    session.execute(_upsert(session.get_bind().dialect.name),
                    {"id": data["id"], "as_of": message.occurred_at, **{f: data[f] for f in COPIED}})
    # A Core write: the signatory lists that name the organisation change without the ORM knowing.
    bump(session.connection(), public_revisions, endorsed_by(data["id"]))


class NotKnownYet(Exception):
    """A status change for an organisation whose registration has not arrived yet: the
    consumer retries it later, by when the registration will have come."""


def _status_setter(status: str):
    def set_status(session: Session, message: Message) -> None:
        org = session.get(KnownOrganisation, message.data["id"])
        if org is None:
            raise NotKnownYet(f"organisation {message.data['id']} is not known yet")
        if message.occurred_at >= org.as_of:
            org.status, org.as_of = status, message.occurred_at

    return set_status


def build_handlers() -> dict:
    return merge_handlers(revocation_handlers(metadata.tables["access_revocations"]), {
        "organisation.registered": organisation_changed,
        "organisation.updated": organisation_changed,
        "organisation.suspended": _status_setter("suspended"),
        "organisation.reinstated": _status_setter("active"),
    })
