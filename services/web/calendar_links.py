"""Add an event to a calendar: the .ics file (Apple, Outlook, Thunderbird…) is the service's
own feed; Google Calendar takes a link with the event's fields, built here. The link goes to
Google only when the reader follows it."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

GOOGLE = "https://calendar.google.com/calendar/render"


def google_calendar_link(event: dict) -> str:
    place = ", ".join(part for part in (event.get("venue"), event.get("address"), event.get("city"),
                                        event.get("country")) if part)
    return GOOGLE + "?" + urlencode({
        "action": "TEMPLATE", "text": event.get("title") or "",
        "dates": f"{_stamp(event['starts_at'])}/{_stamp(event['ends_at'])}",
        "ctz": event.get("timezone") or "UTC", "details": (event.get("description") or "")[:1000],
        "location": place})


def _stamp(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
