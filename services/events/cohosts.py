"""Co-hosts: a joint event of several signatories. The event's owner (or a coordinator)
invites another organisation; once it accepts, it is one of the event's `co_hosts` — it shares
the hosts' view of the participants, their messages and the door (notify reads `co_hosts` from
the event's messages), and the event is listed with its own events. Only the owner changes the
event itself. Each use case takes a session and commits nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.events.local_events import event_data, get_event, is_public
from services.events.models import EventHost, KnownOrganisation, LocalEvent
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound


def event_for(session: Session, event_id: str, principal: Principal) -> LocalEvent:
    """The event, for one who may see it — or who is invited to host it, before it is public."""
    event = session.get(LocalEvent, event_id)
    if event is not None and session.get(EventHost, (event_id, principal.subject_id)) is not None:
        return event
    return get_event(session, event_id, principal)


def _changed(session: Session, outbox: Outbox, event: LocalEvent) -> None:
    """Whoever keeps a copy of a public event learns its hosts (no one is mailed for it)."""
    event.updated_at = utcnow()
    if is_public(session, event):
        outbox.add(session, "event.updated", {**event_data(event), "changed": ["co_hosts"]})


def invite(session: Session, event: LocalEvent, principal: Principal, organisation_id: str) -> EventHost:
    if not (principal.is_coordinator or principal.owns(event.organisation_id)):
        raise Forbidden("Only the event's organisation and coordinators invite co-hosts.")
    if event.status not in ("submitted", "approved"):
        raise Conflict(f"The event is {event.status}: it takes no co-hosts.")
    organisation = session.get(KnownOrganisation, organisation_id)
    if organisation is None or organisation.status != "active" or organisation_id == event.organisation_id:
        raise Invalid("Invite another active organisation.", errors=[
            {"field": "organisation_id", "location": "json", "message": "Not another active organisation."}])
    if session.get(EventHost, (event.id, organisation_id)) is not None:
        raise Conflict("This organisation is invited already.")
    host = EventHost(event_id=event.id, organisation_id=organisation_id, status="invited", invited_at=utcnow())
    session.add(host)
    session.flush()
    return host


def invitation(session: Session, event: LocalEvent, principal: Principal, organisation_id: str) -> EventHost:
    """An invitation as its event's organisation, the invited one or a coordinator sees it."""
    host = session.get(EventHost, (event.id, organisation_id))
    may_see = principal.is_coordinator or principal.owns(event.organisation_id) or principal.owns(organisation_id)
    if host is None or not may_see:
        raise NotFound("This organisation is not invited to host the event.")
    return host


def accept(session: Session, outbox: Outbox, event: LocalEvent, principal: Principal,
           organisation_id: str) -> EventHost:
    if not principal.owns(organisation_id):
        raise Forbidden("Only the invited organisation accepts.")
    host = invitation(session, event, principal, organisation_id)
    if host.status != "accepted":
        host.status, host.accepted_at = "accepted", utcnow()
        event.co_hosts = [*event.co_hosts, organisation_id]
        _changed(session, outbox, event)
    return host


def remove(session: Session, outbox: Outbox, event: LocalEvent, principal: Principal, organisation_id: str) -> None:
    """The owner or a coordinator withdraws an invitation or a co-host; the invited declines or leaves."""
    host = invitation(session, event, principal, organisation_id)
    session.delete(host)
    if organisation_id in event.co_hosts:
        event.co_hosts = [h for h in event.co_hosts if h != organisation_id]
        _changed(session, outbox, event)


def hosts_of(event: LocalEvent, principal: Principal):
    """The event's invitations as the caller may list them: all for its organisation and
    coordinators, the accepted ones (its public co-hosts) and the caller's own for others."""
    stmt = select(EventHost).where(EventHost.event_id == event.id)
    if not (principal.is_coordinator or principal.owns(event.organisation_id)):
        stmt = stmt.where((EventHost.status == "accepted") | (EventHost.organisation_id == principal.subject_id))
    return stmt


def invitations_of(organisation_id: str, status: str | None):
    """An organisation's invitations to host others' events, to list."""
    stmt = select(EventHost).where(EventHost.organisation_id == organisation_id)
    return stmt if status is None else stmt.where(EventHost.status == status)
