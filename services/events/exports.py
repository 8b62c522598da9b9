"""Coordinators' exports of events and endorsements: every row the list's filters select, with
the fields a coordinator may see, read in batches (one short transaction each) and streamed, so
memory stays flat for 100,000 rows (`make bench export`)."""
from __future__ import annotations

from typing import Callable, Iterator

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.events import local_events
from services.events.models import Endorsement, KnownOrganisation, LocalEvent
from services.events.schemas import EventFilters
from shared.db import Database
from shared.languages import pick_language

BATCH = 1000


class ExportFormat(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]),
                           metadata={"description": "`csv` (UTF-8, streamed) or `xlsx` (a spreadsheet)."})


class EventExportQuery(EventFilters, ExportFormat):
    pass


# (column, how a row gives it): what a coordinator sees of an event, addresses and hidden ones included.
EVENT_COLUMNS: list[tuple[str, Callable]] = [
    ("id", lambda e: e.id), ("status", lambda e: e.status), ("campaign_id", lambda e: e.campaign_id),
    ("organisation_id", lambda e: e.organisation_id),
    ("organisation", lambda e: e.organisation_abbreviation or ""),
    ("co_hosts", lambda e: e.co_hosts or []),
    ("title", lambda e: _title(e)), ("languages", lambda e: e.languages),
    ("activity_type", lambda e: e.activity_type), ("country", lambda e: e.country),
    ("city", lambda e: e.city), ("venue", lambda e: e.venue), ("address", lambda e: e.address),
    ("latitude", lambda e: e.latitude), ("longitude", lambda e: e.longitude),
    ("timezone", lambda e: e.timezone), ("start_local", lambda e: e.starts_local),
    ("end_local", lambda e: e.ends_local), ("starts_at_utc", lambda e: e.starts_at),
    ("online_url", lambda e: e.online_url), ("expected_participants", lambda e: e.expected_participants),
    ("visibility", lambda e: e.visibility), ("address_public", lambda e: e.address_public),
    ("outside_window", lambda e: e.outside_window), ("rejection_reason", lambda e: e.rejection_reason),
    ("approved_at", lambda e: e.approved_at), ("created_at", lambda e: e.created_at),
]
# The event's columns those read (not its search text, nor what only the service needs).
EXPORTED = [LocalEvent.__table__.c[name] for name in (
    "id", "status", "campaign_id", "organisation_id", "co_hosts", "title", "languages", "activity_type", "country",
    "city", "venue", "address", "latitude", "longitude", "timezone", "starts_local", "ends_local", "starts_at",
    "online_url", "expected_participants", "visibility", "address_public", "outside_window", "rejection_reason",
    "approved_at", "created_at")]
ENDORSEMENT_COLUMNS = ["campaign_id", "organisation_id", "organisation", "name", "country", "endorsed_at",
                       "withdrawn_at"]


def _title(event) -> str:
    """The title in the event's original language (the list's fallback, shared.languages)."""
    texts = event.title or {}
    return texts.get(pick_language(texts, event.languages, ()), "")


def event_rows(db: Database, args: dict, principal) -> Iterator[list]:
    """Every event the filters select (as the list's, for this principal), oldest id first:
    plain rows (no ORM objects), in batches of BATCH, each batch in a short transaction."""
    stmt = (local_events.list_statement(args, principal)
            .with_only_columns(*EXPORTED, KnownOrganisation.abbreviation.label("organisation_abbreviation"))
            .outerjoin(KnownOrganisation, KnownOrganisation.id == LocalEvent.organisation_id)
            .order_by(LocalEvent.id).limit(BATCH))
    last = ""
    while True:
        with db.engine.connect() as connection:
            batch = [[get(row) for _, get in EVENT_COLUMNS]
                     for row in connection.execute(stmt.where(LocalEvent.id > last))]
        if not batch:
            return
        yield from batch
        last = batch[-1][0]


def endorsement_rows(db: Database, campaign_id: str) -> list[list]:
    """A campaign's endorsements, withdrawn ones too (with when), in the order they came (one
    query: a campaign has one per organisation, hundreds at most)."""
    with db.transaction() as session:
        rows = session.execute(
            select(Endorsement, KnownOrganisation)
            .outerjoin(KnownOrganisation, KnownOrganisation.id == Endorsement.organisation_id)
            .where(Endorsement.campaign_id == campaign_id).order_by(Endorsement.endorsed_at, Endorsement.id)).all()
        return [[e.campaign_id, e.organisation_id, o.abbreviation if o else "", o.name if o else "",
                 o.country if o else "", e.endorsed_at, e.withdrawn_at] for e, o in rows]
