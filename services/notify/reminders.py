"""Reminders for subscribers to an event: at configured times in the event's zone (default
the day before at 11:00, and two hours before), never in the subscriber's quiet hours
except the last one. The schedule is stored, so a restart neither loses nor repeats one; a
moved event has its pending reminders planned again, a cancelled one has them cancelled.

Planning happens in the notify worker (it knows the settings): handlers only forget what an
event's change made wrong.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, delete, select, update
from sqlalchemy.orm import Session

from services.notify.models import KnownEvent, Reminder, Subscription

_SLOT = re.compile(r"^-(?:(\d+)d@(\d{1,2}):(\d{2})|(\d+)h|(\d+)m)$")


@dataclass(frozen=True)
class Slot:
    days_before: int | None = None  # with `at`: that many days before, at a local time
    at: time | None = None
    before: timedelta | None = None  # or this long before the start


def parse_slots(text: str) -> list[Slot]:
    """`-1d@11:00,-2h,-30m`; ValueError names what is wrong."""
    slots = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _SLOT.match(part)
        if not m:
            raise ValueError(f"{part!r} is not a reminder time (write -1d@11:00, -2h or -30m)")
        if m.group(1):
            slots.append(Slot(days_before=int(m.group(1)), at=_clock(m.group(2), m.group(3), part)))
        else:
            minutes = int(m.group(4)) * 60 if m.group(4) else int(m.group(5))
            slots.append(Slot(before=timedelta(minutes=minutes)))
    if not slots:
        raise ValueError("at least one reminder time is needed")
    return slots


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    if not text.strip():
        return None
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not m:
        raise ValueError(f"{text!r} is not a span of hours (write 22:00-08:00)")
    return _clock(m.group(1), m.group(2), text), _clock(m.group(3), m.group(4), text)


def _clock(hours: str, minutes: str, where: str) -> time:
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{where!r} holds {hours}:{minutes}, which is not a time of day")
    return time(int(hours), int(minutes))


def _in_quiet(local: datetime, quiet: tuple[time, time]) -> bool:
    start, end = quiet
    t = local.time()
    return (start <= t or t < end) if start > end else (start <= t < end)


def due_times(starts_at: datetime, event_zone: str, subscriber_zone: str | None, slots: list[Slot],
              quiet: tuple[time, time] | None) -> list[datetime]:
    """When each reminder is due (UTC), the last slot last. A reminder in the subscriber's
    quiet hours (in their zone, or the event's) is moved earlier, to just before they begin."""
    zone = ZoneInfo(event_zone)
    local_start = starts_at.astimezone(zone)
    out = []
    for slot in slots:
        if slot.before is not None:
            due = starts_at - slot.before
        else:
            day = local_start.date() - timedelta(days=slot.days_before)
            # A wall time in a DST gap comes out shifted by the gap, as zoneinfo resolves it.
            due = datetime.combine(day, slot.at, zone).astimezone(timezone.utc)
        out.append(due)
    order = sorted(range(len(out)), key=lambda i: out[i])
    last = order[-1] if order else None
    if quiet is not None:
        reader = ZoneInfo(subscriber_zone or event_zone)
        for i, due in enumerate(out):
            local = due.astimezone(reader)
            if i != last and _in_quiet(local, quiet):
                quiet_start = datetime.combine(local.date(), quiet[0], reader)
                if quiet_start > local:  # after midnight: the quiet hours began the evening before
                    quiet_start -= timedelta(days=1)
                out[i] = (quiet_start - timedelta(minutes=1)).astimezone(timezone.utc)
    return out


def plan(session: Session, now: datetime, slots: list[Slot], quiet: tuple[time, time] | None,
         limit: int = 500) -> int:
    """Give every confirmed subscriber to an approved, public, coming event who wants reminders
    the reminders not yet planned (a slot whose time has passed is skipped). Answers how many
    subscriptions were planned."""
    planned = select(Reminder.subscription_id).where(Reminder.subscription_id == Subscription.id).exists()
    rows = session.execute(
        select(Subscription, KnownEvent).join(KnownEvent, KnownEvent.id == Subscription.scope_id)
        .where(Subscription.scope == "event", Subscription.status == "confirmed",
               cast(Subscription.wants, String).like('%"reminders"%'), KnownEvent.status == "approved",
               KnownEvent.visibility == "public", KnownEvent.starts_at > now, ~planned)
        .limit(limit)).all()
    for subscription, event in rows:
        for number, due in enumerate(due_times(event.starts_at, event.timezone, subscription.timezone, slots, quiet)):
            session.add(Reminder(subscription_id=subscription.id, event_id=event.id, slot=number, due_at=due,
                                 status="pending" if due > now else "skipped"))
    session.flush()
    return len(rows)


def replan(session: Session, event_id: str) -> None:
    """The event moved: its reminders go, and the worker plans them again from the new time
    (a slot whose new time has passed is skipped, so nothing already due is sent twice)."""
    session.execute(delete(Reminder).where(Reminder.event_id == event_id, Reminder.status != "cancelled"))


def cancel_for_event(session: Session, event_id: str) -> None:
    session.execute(update(Reminder).where(Reminder.event_id == event_id, Reminder.status == "pending")
                    .values(status="cancelled"))
