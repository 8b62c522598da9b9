"""Messages the events service consumes: it keeps a copy of every organisation."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.events.models import KnownOrganisation, metadata
from shared.bus.consumer import Message, merge_handlers
from shared.revocations import revocation_handlers

COPIED = ("abbreviation", "name", "name_en", "country", "timezone", "languages", "website", "status")


def organisation_changed(session: Session, message: Message) -> None:
    data = message.data
    org = session.get(KnownOrganisation, data["id"])
    if org is None:
        session.add(KnownOrganisation(id=data["id"], as_of=message.occurred_at,
                                      **{f: data[f] for f in COPIED}))
    elif message.occurred_at >= org.as_of:
        for f in COPIED:
            setattr(org, f, data[f])
        org.as_of = message.occurred_at


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
