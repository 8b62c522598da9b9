"""Changes to approved events: what an organisation changes of an event a coordinator approved
waits as a pending change until a coordinator accepts or rejects it. Meanwhile the event — and
every public output and bus message of it — stays as approved, so nobody publishes, by an edit,
what a coordinator never saw. An event not yet approved changes at once, as before; calling an
event off is always immediate (local_events.cancel withdraws its pending change).

One pending change per event: a second change builds on the pending one and replaces it. Each
use case takes a session and commits nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.events.local_events import (
    STATE,
    apply_state,
    check_editable,
    differing,
    edited_state,
    state_of,
)
from services.events.models import EventChange, LocalEvent
from shared.audit import record
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.errors import Conflict, Invalid, NotFound

TIMES = ("starts_at", "ends_at")  # instants: kept as ISO text in the change's JSON
# The API's names of the stored wall-clock times (what a PATCH sends).
API_NAMES = {"starts_local": "start", "ends_local": "end"}
# Where an event is, exactly, stays out of the audit log: the log is kept for ever, shown on
# the dashboard and exported, and a hidden address is what endangers people. It says that
# these changed, not to what.
NOT_ON_RECORD = ("address", "latitude", "longitude")
UNRECORDED = "(not recorded)"
SHOWN = ("pending", "accepted", "rejected")  # what an event's owner is told of (not replaced ones)


def _stored(state: dict) -> dict:
    return {f: state[f].isoformat() if f in TIMES else state[f] for f in STATE}


def _loaded(stored: dict) -> dict:
    return {f: datetime.fromisoformat(stored[f]) if f in TIMES else stored[f] for f in STATE}


def _on_record(values: dict) -> dict:
    return {f: UNRECORDED if f in NOT_ON_RECORD and v is not None else v for f, v in values.items()}


def _audit(session: Session, outbox: Outbox, principal: Principal, action: str, event_id: str,
           change: EventChange, reason: str | None = None) -> None:
    """Before and after of only the fields the change touches."""
    after = {f: change.proposed[f] for f in change.before}
    record(session, outbox, principal, action, "event", event_id, reason, _on_record(change.before),
           _on_record(after))


def _locked(session: Session, event: LocalEvent) -> None:
    """The event read again and held (PostgreSQL: FOR UPDATE) until the transaction ends, so two
    changes or two decisions at once are taken one after the other, each seeing the other's."""
    session.refresh(event, with_for_update=True)


def pending_of(session: Session, event_id: str) -> EventChange | None:
    return session.execute(select(EventChange).where(EventChange.event_id == event_id,
                                                     EventChange.status == "pending")).scalar_one_or_none()


def edit(session: Session, outbox: Outbox, event: LocalEvent, principal: Principal, changes: dict) -> None:
    """The owner's change: applied at once to an event not yet approved; kept aside for a
    coordinator's decision for an approved one."""
    _locked(session, event)
    check_editable(event, principal)
    if event.status == "submitted":
        apply_state(session, outbox, event, edited_state(session, event, changes))
    else:
        propose(session, outbox, event, principal, changes)


def propose(session: Session, outbox: Outbox, event: LocalEvent, principal: Principal,
            changes: dict) -> EventChange | None:
    """Keep the change as the event's pending one, checked by every rule an edit is checked by.
    It builds on the pending change, if any, and replaces it; a change that brings the event
    back to what was approved withdraws it. Answers the pending change (None if none is left)."""
    pending = pending_of(session, event.id)
    state = _stored(edited_state(session, event, changes, _loaded(pending.proposed) if pending else None))
    changed = differing(event, _loaded(state))
    if pending is not None:
        if pending.proposed == state:
            return pending  # the same again: nothing new to review
        pending.status = "replaced" if changed else "withdrawn"
        session.flush()  # before its successor exists: one pending change per event
    if not changed:
        return None
    stored_before = _stored(state_of(event))
    change = EventChange(event_id=event.id, proposed=state, before={f: stored_before[f] for f in changed},
                         proposed_by=principal.subject_id, proposed_at=utcnow(), status="pending")
    session.add(change)
    session.flush()
    _audit(session, outbox, principal, "event.change_proposed", event.id, change)
    return change


def decide(session: Session, outbox: Outbox, event: LocalEvent, change_id: str, principal: Principal,
           accept: bool, reason: str | None) -> EventChange:
    """A coordinator accepts a pending change (the event becomes what it proposes, announced
    as event.updated: subscribers are told now, calendars see a new SEQUENCE) or rejects it
    with a reason its owner is shown (the event stays as approved)."""
    _locked(session, event)
    change = session.get(EventChange, change_id)
    if change is None or change.event_id != event.id:
        raise NotFound(f"The event has no change with the id {change_id}.")
    if change.status != "pending":
        raise Conflict(f"The change is already {change.status}.", current_status=change.status)
    if not accept and not reason:
        raise Invalid("Say why the change is rejected.",
                      errors=[{"field": "reason", "location": "json", "message": "Missing data."}])
    if accept:
        try:  # the campaign's window may have moved since the change was proposed
            state = edited_state(session, event, {}, _loaded(change.proposed))
        except Invalid as exc:
            errors = exc.extra.get("errors") or []
            said = "; ".join(f"{e['field']} {e['message']}" for e in errors)
            raise Conflict(f"The change no longer fits: {said} Reject it, saying so.", errors=errors) from None
    # Decided once, whoever decides at the same moment: only the one that moves it from pending.
    decided = session.execute(
        update(EventChange).where(EventChange.id == change.id, EventChange.status == "pending")
        .values(status="accepted" if accept else "rejected", reason=None if accept else reason,
                decided_by=principal.subject_id, decided_at=utcnow())).rowcount
    session.refresh(change)
    if decided != 1:
        raise Conflict(f"The change is already {change.status}.", current_status=change.status)
    if accept:
        session.refresh(event)  # as it stands now that the decision is this one's
        apply_state(session, outbox, event, state)
    _audit(session, outbox, principal, "event.change_accepted" if accept else "event.change_rejected", event.id,
           change, None if accept else reason)
    return change


def view(change) -> dict:
    """A change as the API shows it (an ORM object or a plain row): each field it changes, from
    the approved value to the proposed one, by the names a PATCH uses."""
    return {"id": change.id, "event_id": change.event_id, "status": change.status,
            "proposed_at": change.proposed_at, "decided_at": change.decided_at, "reason": change.reason,
            "changes": {API_NAMES.get(f, f): {"from": old, "to": change.proposed[f]}
                        for f, old in change.before.items()}}


def told_to_owner(connection, event_ids: list[str]) -> dict[str, dict]:
    """For each event, what its owner and coordinators are told of its changes: the pending one,
    and the latest one's rejection (with its reason) if nothing newer came since."""
    told = {i: {"pending_change": None, "rejected_change": None} for i in event_ids}
    if not event_ids:
        return told
    rows = connection.execute(select(EventChange.__table__)
                              .where(EventChange.event_id.in_(event_ids), EventChange.status.in_(SHOWN))
                              .order_by(EventChange.proposed_at, EventChange.id))
    for row in rows:  # the latest one of each event last
        told[row.event_id] = {"pending_change": view(row) if row.status == "pending" else None,
                              "rejected_change": view(row) if row.status == "rejected" else None}
    return told


def queue_statement(args: dict, principal: Principal):
    """The changes a caller may see (coordinators every one, an organisation its events'),
    oldest first: the dashboard's queue asks for the pending ones."""
    stmt = select(EventChange)
    if args.get("status"):
        stmt = stmt.where(EventChange.status == args["status"])
    if args.get("event_id"):
        stmt = stmt.where(EventChange.event_id == args["event_id"])
    if not principal.is_coordinator:
        stmt = stmt.where(EventChange.event_id.in_(
            select(LocalEvent.id).where(LocalEvent.organisation_id == principal.subject_id)))
    return stmt
