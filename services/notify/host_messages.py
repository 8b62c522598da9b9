"""The hosts' messages to their event's participants ("the meeting point moved to the north
gate"), written in one or more languages: each participant with a confirmed address gets it
by e-mail in their language (or the message's first), every link's page shows it, and it is
kept for coordinators to see. A few a day per event: a message is not a newsletter."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from services.notify.fanout import add_notice, event_context, to_recipients
from services.notify.models import EventPlaces, HostMessage, KnownEvent, Participation
from services.notify.participation import ensure_places
from shared.db import utcnow
from shared.errors import DomainError
from shared.http.auth import Principal
from shared.languages import pick_language

PER_DAY = 10


class TooManyMessages(DomainError, status=429, type_="rate-limited"):
    """The event's hosts sent as many messages as a day allows."""


def send(session: Session, event: KnownEvent, principal: Principal, text: dict) -> HostMessage:
    now = utcnow()
    # One host's message at a time per event (the row's lock; on SQLite the write lock), so ten is ten.
    ensure_places(session, event.id)
    session.execute(select(EventPlaces.event_id).where(EventPlaces.event_id == event.id).with_for_update())
    day = session.execute(select(func.count(), func.min(HostMessage.created_at)).where(
        HostMessage.event_id == event.id, HostMessage.created_at > now - timedelta(days=1))).one()
    if day[0] >= PER_DAY:
        wait = max(int((day[1] + timedelta(days=1) - now).total_seconds()), 1)
        refusal = TooManyMessages(f"An event's hosts send at most {PER_DAY} messages a day; the next in "
                                  f"{wait // 60 + 1} minutes.")
        refusal.headers = {"Retry-After": str(wait)}
        raise refusal
    message = HostMessage(event_id=event.id, author_role=principal.role, author_id=principal.subject_id, text=text)
    session.add(message)
    session.flush()
    notice = f"host_message:{message.id}"
    add_notice(session, notice, "host_message", {"event": event_context(event), "text": text,
                                                 "languages": list(text)})
    to_recipients(session, notice, select(literal("subscription:").concat(Participation.subscription_id)).where(
        Participation.event_id == event.id, Participation.status.in_(("coming", "waiting")),
        Participation.subscription_id.is_not(None)))
    return message


def for_participant(session: Session, event_id: str, language: str) -> list[dict]:
    """The event's messages, newest first, each in the participant's language if written in it."""
    found = session.execute(select(HostMessage).where(HostMessage.event_id == event_id)
                            .order_by(HostMessage.created_at.desc(), HostMessage.id.desc())).scalars()
    shown = []
    for message in found:
        chosen = pick_language(message.text, list(message.text), [language])
        shown.append({"text": message.text[chosen], "language": chosen, "created_at": message.created_at})
    return shown
