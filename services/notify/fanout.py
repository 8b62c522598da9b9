"""Who is told what: a message becomes one notice and one notification per recipient, written
set-wise (INSERT … SELECT), so 100,000 subscribers never pass through memory, and with a
unique key per (notice, recipient), so a message delivered twice is told once."""
from __future__ import annotations

from sqlalchemy import String, cast, func, literal, or_, select, true
from sqlalchemy.orm import Session

from services.notify import wakeups
from services.notify.models import Contact, KnownEvent, Notice, Notification, Subscription
from shared.db import insert_for, utcnow

WANTS = ("new_events", "changes", "reminders", "reports")


def add_notice(session: Session, notice_id: str, kind: str, context: dict) -> bool:
    """Record what a message says; False when it was recorded before (a repeated message)."""
    if session.get(Notice, notice_id) is not None:
        return False
    session.add(Notice(id=notice_id, kind=kind, context=context))
    session.flush()
    return True


def to_recipients(session: Session, notice_id: str, recipients: select) -> int:
    """Queue the notice for every recipient key the select yields (one column)."""
    now = utcnow()
    # WHERE true: SQLite cannot otherwise tell the upsert's ON from a join's.
    query = select(literal(notice_id), recipients.subquery().c[0], literal("pending"), literal(0),
                   literal(now)).where(true())
    stmt = insert_for(session, Notification).from_select(["notice_id", "recipient", "status", "attempts", "next_at"], query)
    count = session.execute(stmt.on_conflict_do_nothing()).rowcount or 0
    wakeups.after_commit(session, wakeups.MAIL)  # the e-mail loop looks at once (it also polls)
    return count


def one(recipient: str):
    """A single recipient key, as `to_recipients` takes them."""
    return select(literal(recipient))


def covering(wants: str, *, campaign_id: str | None = None, country: str | None = None,
             city: str | None = None, event_id: str | None = None):
    """SQL: a confirmed subscription that wants `wants` and whose scope covers the place."""
    scopes = []
    if campaign_id:
        scopes.append((Subscription.scope == "campaign") & (Subscription.scope_id == campaign_id))
    if country:
        scopes.append((Subscription.scope == "country") & (Subscription.scope_id == country)
                      & ((Subscription.campaign_id.is_(None)) | (Subscription.campaign_id == campaign_id)))
        if city:
            scopes.append((Subscription.scope == "city") & (Subscription.scope_id == city_key(country, city))
                          & ((Subscription.campaign_id.is_(None)) | (Subscription.campaign_id == campaign_id)))
    if event_id:
        scopes.append((Subscription.scope == "event") & (Subscription.scope_id == event_id))
    return (Subscription.status == "confirmed") & cast(Subscription.wants, String).like(f'%"{wants}"%') \
        & or_(*scopes)


def subscribers(*conditions):
    """One recipient per address among the subscriptions matching any condition (`covering`):
    a person subscribed to a country and to its capital hears of an event there once."""
    return (select(literal("subscription:") + func.min(Subscription.id))
            .where(or_(*conditions)).group_by(Subscription.email))


def contact_of(owner_id: str):
    return select(literal("contact:") + Contact.owner_id).where(Contact.owner_id == owner_id)


def coordinators():
    return select(literal("contact:") + Contact.owner_id).where(Contact.role == "coordinator")


def event_context(event: KnownEvent) -> dict:
    """What notices say of an event (never its address: the bus does not carry it)."""
    return {"id": event.id, "campaign_id": event.campaign_id, "title": event.title, "languages": event.languages,
            "city": event.city, "country": event.country, "timezone": event.timezone,
            "starts_local": event.starts_local, "starts_at": event.starts_at.isoformat(),
            "activity_type": event.activity_type}


def city_key(country: str, city: str) -> str:
    return f"{country.upper()}/{city.strip().casefold()}"


CITY_KEY_LENGTH = 250  # the column's; casefold() can make a name longer ("ß" → "ss")
