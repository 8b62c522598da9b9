"""Revisions of what the public sees of each campaign: a counter per campaign, moved in the
same transaction as every write that changes one of its public outputs (feeds, map,
overviews). A rendering cached under (what was asked, the revision read before rendering)
is then never served once something it shows has changed, in any process: the counter
lives in the database, beside the data.

A service declares once which of its models change which campaigns' outputs (`track`);
every ORM write of them moves the counters in the same flush, so no use case can forget
it. Writes that pass the ORM by (Core statements in message handlers, bulk loads) call
`bump` themselves. An output that spans campaigns (a country's feed) reads
`overall_revision`: the sum of the counters, which grows with any of them.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable, Union

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


class _EveryCampaign:
    def __repr__(self) -> str:
        return "EVERY_CAMPAIGN"


EVERY_CAMPAIGN = _EveryCampaign()  # a write that changes every campaign's outputs (a country on hold)
# What a write changes: some campaigns by id, the campaigns a query selects, or every campaign.
Campaigns = Union[Iterable[str], Select, _EveryCampaign]


def add_public_revisions_table(metadata: MetaData) -> Table:
    return Table("public_revisions", metadata,
                 Column("campaign_id", String(36), primary_key=True),
                 Column("revision", BigInteger, nullable=False))


def bump(connection: Connection, table: Table, campaigns: Campaigns) -> None:
    """Move the revisions of these campaigns (a campaign seen for the first time starts at 1)."""
    moved = table.c.revision + 1
    if campaigns is EVERY_CAMPAIGN:
        connection.execute(update(table).values(revision=moved))
    elif isinstance(campaigns, Select):
        connection.execute(update(table).where(table.c.campaign_id.in_(campaigns)).values(revision=moved))
    else:
        ids = sorted({c for c in campaigns if c is not None})  # one order: no deadlock between two writers
        if ids:
            insert = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(table)
            connection.execute(insert.on_conflict_do_update(index_elements=[table.c.campaign_id],
                                                            set_={"revision": moved}),
                               [{"campaign_id": c, "revision": 1} for c in ids])


def revision_of(table: Table, campaign_id) -> object:
    """The campaign's revision as a column expression (0 before its first write), to read it in
    the same query that checks the campaign exists."""
    return func.coalesce(select(table.c.revision).where(table.c.campaign_id == campaign_id).scalar_subquery(), 0)


@lru_cache(maxsize=None)
def _reads(table: Table) -> dict:
    """The reads, built once: building one costs more than running it, and one runs on every
    request for a public output."""
    return {"campaign": select(revision_of(table, bindparam("campaign_id"))),
            "overall": select(func.coalesce(func.sum(table.c.revision), 0))}


@lru_cache(maxsize=None)
def _status_read(table: Table, campaigns):
    return select(campaigns.status, revision_of(table, campaigns.id)).where(campaigns.id == bindparam("campaign_id"))


def status_and_revision(connection: Connection, table: Table, campaigns, campaign_id: str):
    """The campaign's status and revision, in the one query a public output makes per request
    (None for a campaign unknown here); `campaigns` is the service's model of them."""
    return connection.execute(_status_read(table, campaigns), {"campaign_id": campaign_id}).first()


def campaign_revision(connection: Connection, table: Table, campaign_id: str) -> int:
    return connection.execute(_reads(table)["campaign"], {"campaign_id": campaign_id}).scalar_one()


def overall_revision(connection: Connection, table: Table) -> int:
    """A revision of everything public: the counters only grow, so their sum moves with any."""
    return connection.execute(_reads(table)["overall"]).scalar_one()


def value_before(instance, name: str):
    """An attribute's value before the flush under way (its history still holds it)."""
    history = inspect(instance).attrs[name].history
    return history.deleted[0] if history.deleted else getattr(instance, name)


Rule = Callable[[object], Campaigns]


def track(table: Table, rules: dict[type, Rule]) -> None:
    """After every flush, move the revisions of the campaigns that its ORM writes of these
    models change: `rules[model](instance)` names them (inserted, changed or deleted alike)."""

    def moved_in_flush(session: Session, _context) -> None:
        # In after_flush the session still lists what the flush wrote, with its history; an
        # object merely touched (set to the value it had) is listed as dirty but wrote nothing.
        changed = (o for o in session.dirty if type(o) in rules and session.is_modified(o))
        written = [*(o for o in session.new if type(o) in rules), *changed,
                   *(o for o in session.deleted if type(o) in rules)]
        ids: set[str] = set()
        for instance in written:
            campaigns = rules[type(instance)](instance)
            if campaigns is EVERY_CAMPAIGN or isinstance(campaigns, Select):
                bump(session.connection(), table, campaigns)
            else:
                ids.update(campaigns)
        if ids:
            bump(session.connection(), table, ids)

    event.listen(Session, "after_flush", moved_in_flush)
