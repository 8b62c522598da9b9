"""Check-in on the day (docs/participation.md): the door's page counts people (+/−) and takes
a participant's QR code (their private link) or short code. The page keeps working with no
connection and sends its actions when it is back; each action carries an id the page made, so
one sent twice is counted once, and a participant checked in from two phones counts once."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.notify import participation as places
from services.notify.models import CheckIn, KnownEvent, Participation
from shared.bus.outbox import Outbox
from shared.db import insert_for, utcnow


def _recorded(session: Session, event_id: str, action: dict, kind: str, delta: int) -> bool:
    """Keep the action by its id; False if it was kept before (sent again)."""
    table = CheckIn.__table__
    return session.execute(insert_for(session, table).values(
        id=action["id"], event_id=event_id, kind=kind, delta=delta, at=action.get("at") or utcnow(),
        received_at=utcnow()).on_conflict_do_nothing(index_elements=["id"]).returning(table.c.id)).first() is not None


def _first_time(session: Session, found: Participation, at) -> bool:
    """Mark the participant checked in, if no phone did a moment ago (one UPDATE decides)."""
    marked = session.execute(update(Participation).where(Participation.id == found.id,
                                                         Participation.checked_in_at.is_(None))
                             .values(checked_in_at=at).execution_options(synchronize_session=False)).rowcount
    return marked == 1


def _participant(session: Session, event_id: str, action: dict, opened) -> Participation | None:
    if not (action.get("key") or action.get("code")):
        return None
    if action.get("key"):
        participation_id = opened(action["key"])
        where = Participation.id == participation_id
    else:
        where = Participation.code == (action.get("code") or "").upper().replace(" ", "").replace("-", "")
    return session.execute(select(Participation).where(Participation.event_id == event_id, where)).scalar()


def record(session: Session, outbox: Outbox, event: KnownEvent, actions: list[dict], opened) -> dict:
    """Apply the door's actions, each once. `opened(key)`: the sign-up id a link's key opens.
    Answers what was counted, what had been counted before, and the participants not on the list
    (a code nobody has, or a sign-up cancelled, waiting or unconfirmed)."""
    places.ensure_places(session, event.id)
    applied, repeated, unknown = 0, 0, []
    for action in actions:
        if action["kind"] == "door":
            delta = action["delta"]
            if not _recorded(session, event.id, action, "door", delta):
                repeated += 1
                continue
            counted = places.add_counts(session, event.id, places.PLACES.c.checked_in + delta >= 0, checked_in=delta)
            applied += counted  # one fewer than nobody changes nothing
            continue
        found = _participant(session, event.id, action, opened)
        if found is None or found.status != "coming":  # cancelled, waiting or unconfirmed: not on the list
            unknown.append(action["id"])
            continue
        if not _recorded(session, event.id, action, "participant", found.party_size) or not _first_time(
                session, found, action.get("at") or utcnow()):
            repeated += 1
            continue
        places.add_counts(session, event.id, checked_in=found.party_size)
        applied += 1
    if applied:
        places.announce(session, outbox, event)
    counted = session.execute(select(places.PLACES.c.checked_in).where(places.PLACES.c.event_id == event.id))
    return {"applied": applied, "repeated": repeated, "unknown": unknown, "checked_in": counted.scalar() or 0}
