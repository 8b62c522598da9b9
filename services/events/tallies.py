"""Running tallies of approved events, so a campaign's statistics read a few hundred rows
whatever the number of its events.

One row per (campaign, country, activity type, organisation, visibility) holds the count of
approved events and their expected participants. Every ORM write of a LocalEvent adjusts
its row in the same flush (mapper events below), so the tallies move in the same
transaction as the event and no use case can forget them. Writes that bypass the ORM
(bulk loads) call `rebuild`.
"""
from __future__ import annotations

from sqlalchemy import delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from services.events.models import EventTally, LocalEvent

KEY = ("country", "activity_type", "organisation_id", "visibility")
_TRACKED = (*KEY, "status", "campaign_id", "expected_participants")


def _share(values: dict) -> tuple[tuple, int] | None:
    """What one event adds to the tallies: its row's key and its expected participants."""
    if values.get("status") != "approved":
        return None
    return (values["campaign_id"], *(values[k] for k in KEY)), values.get("expected_participants") or 0


def _now(target: LocalEvent) -> dict:
    return {name: getattr(target, name) for name in _TRACKED}


def _before(target: LocalEvent) -> dict:
    """The tracked values as they were before this flush (attribute history still holds them)."""
    state = inspect(target)
    values = {}
    for name in _TRACKED:
        history = state.attrs[name].history
        values[name] = history.deleted[0] if history.deleted else getattr(target, name)
    return values


def _add(connection: Connection, key: tuple, events: int, people: int) -> None:
    values = dict(zip(("campaign_id", *KEY), key, strict=True), events=events, expected_participants=people)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(EventTally).values(**values)
    connection.execute(stmt.on_conflict_do_update(
        index_elements=["campaign_id", *KEY],
        set_={"events": EventTally.events + events,
              "expected_participants": EventTally.expected_participants + people}))


def _apply(connection: Connection, old: tuple[tuple, int] | None, new: tuple[tuple, int] | None) -> None:
    if old == new:
        return
    if old is not None:
        _add(connection, old[0], -1, -old[1])
    if new is not None:
        _add(connection, new[0], 1, new[1])


@event.listens_for(LocalEvent, "after_insert")
def _inserted(_mapper, connection, target) -> None:
    _apply(connection, None, _share(_now(target)))


@event.listens_for(LocalEvent, "after_update")
def _updated(_mapper, connection, target) -> None:
    _apply(connection, _share(_before(target)), _share(_now(target)))


@event.listens_for(LocalEvent, "after_delete")
def _deleted(_mapper, connection, target) -> None:
    _apply(connection, _share(_before(target)), None)


def rebuild(connection: Connection, campaign_id: str) -> None:
    """Count a campaign's tallies afresh from its events (after writes that bypassed the ORM)."""
    e = LocalEvent.__table__.c
    columns = [e.campaign_id, *(e[k] for k in KEY)]
    connection.execute(delete(EventTally).where(EventTally.campaign_id == campaign_id))
    connection.execute(insert(EventTally).from_select(
        ["campaign_id", *KEY, "events", "expected_participants"],
        select(*columns, func.count(), func.coalesce(func.sum(e.expected_participants), 0))
        .where(e.campaign_id == campaign_id, e.status == "approved").group_by(*columns)))
