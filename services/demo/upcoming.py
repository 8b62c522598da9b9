"""The demo's upcoming day of action: a campaign four weeks after the day the demo is loaded,
with events a newcomer can sign up for ("I'll come"), in English and Persian, one with few
places and one whose address is disclosed only shortly before it starts.

The 2022 campaign (services/demo/__init__.py) shows a finished day; this one shows a day to come.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import select

from shared.languages import LANGUAGES

NAME = "Next day of action (demo)"
DAYS_AHEAD = 28

# (organisation, city, country, zone, local start, activity type, title by language,
#  coordinates or None, when the address is public, places or None)
EVENTS = [
    ("CPA/ML", "Sydney", "AU", "Australia/Sydney", "12:00", "demonstration",
     {"en": "March for peace in Sydney"}, (-33.87, 151.21), "now", None),
    ("CPK", "Nairobi", "KE", "Africa/Nairobi", "14:00", "rally",
     {"en": "Solidarity rally in Nairobi"}, (-1.29, 36.82), "now", 40),
    ("MLPD", "Berlin", "DE", "Europe/Berlin", "17:00", "discussion",
     {"fa": "گفت‌وگوی همبستگی در برلین", "en": "Solidarity talk in Berlin"}, (52.52, 13.40), "before", 30),
    ("MLKP", "Istanbul", "TR", "Europe/Istanbul", "17:00", "womens_solidarity_action",
     {"en": "Women's solidarity action in Istanbul", "fa": "اقدام همبستگی زنان در استانبول"},
     (41.01, 28.98), "before", None),
    ("PCC-M", "Bogotá", "CO", "America/Bogota", "16:00", "demonstration",
     {"es": "Manifestación en Bogotá", "en": "Demonstration in Bogotá"}, (4.71, -74.07), "now", None),
]


def load(session, outbox, ids: dict[str, str], today: date, say: Callable[[str], None]) -> list[tuple[str, int]]:
    """The campaign and its approved events, unless there; the events that have places, with
    how many (notify keeps the places: the caller sets them once notify knows the events)."""
    from services.events import campaigns, local_events
    from services.events.models import Campaign
    from services.events.rules import DEFAULT_ACTIVITY_TYPES

    if session.execute(select(Campaign.id).where(Campaign.name == NAME)).first():
        say("the upcoming demo campaign is there already")
        return []
    day = today + timedelta(days=DAYS_AHEAD)
    campaign = campaigns.create_campaign(session, outbox, {
        "name": NAME, "description": "Demo: a day of action to come. Say \"I'll come\" to any of its events.",
        "languages": list(LANGUAGES), "day_of_action": day, "window_start": day - timedelta(days=3),
        "window_end": day + timedelta(days=3), "list_date": None,
        "activity_types": list(DEFAULT_ACTIVITY_TYPES), "status": "open", "adoption_threshold": None})
    places = []
    for abbreviation, city, country, zone, start, kind, title, (lat, lon), public, capacity in EVENTS:
        campaigns.endorse(session, outbox, campaign, ids[abbreviation])
        begins = datetime.fromisoformat(f"{day.isoformat()}T{start}")
        event = local_events.submit(session, outbox, campaign, ids[abbreviation], {
            "title": title, "description": {}, "languages": list(title), "activity_type": kind,
            "city": city, "country": country, "venue": None, "address": f"{city}, central square",
            "latitude": lat, "longitude": lon, "timezone": zone, "start": begins,
            "end": begins + timedelta(hours=2), "online_url": None, "expected_participants": 60,
            "visibility": "public", "address_public": public,
            "address_public_hours": 24 if public == "before" else None})
        local_events.decide(session, outbox, event, True, None)
        if capacity:
            places.append((event.id, capacity))
    say(f"the upcoming campaign on {day.isoformat()}: {len(EVENTS)} approved events to sign up for")
    return places
