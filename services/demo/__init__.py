"""Demo data: the 29 signatories of the 2022 campaign (a copy of the reference list), the
campaign itself with its signatory list, and sample events from Kiritimati to Lima; and a day
of action to come, four weeks ahead, whose events take sign-ups (services/demo/upcoming.py).

This module sits above the services, like the CLI: it drives the registry and the events
service through their own use cases, and waits for the bus to carry the organisations from
one to the other, as in any deployment.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select

from shared.languages import LANGUAGES

SIGNATORIES_CSV = Path(str(files(__name__) / "signatories-2022.csv"))
CAMPAIGN_NAME = "Day of action in solidarity, 1 December 2022"
LIST_DATE = date(2022, 11, 28)

# (organisation, city, country, zone, local start, activity type, coordinates or None)
SAMPLE_EVENTS = [
    ("CPA/ML", "Kiritimati", "KI", "Pacific/Kiritimati", "10:00", "rally", None),
    ("CPA/ML", "Sydney", "AU", "Australia/Sydney", "12:00", "demonstration", (-33.87, 151.21)),
    ("NCP (Mashal)", "Kathmandu", "NP", "Asia/Kathmandu", "11:00", "demonstration", (27.72, 85.32)),
    ("CPB", "Dhaka", "BD", "Asia/Dhaka", "15:00", "rally", (23.81, 90.41)),
    ("CPI (ML) Red Star", "Kolkata", "IN", "Asia/Kolkata", "16:00", "lecture", None),
    ("RMP", "Moscow", "RU", "Europe/Moscow", "18:00", "discussion", None),
    ("CPK", "Nairobi", "KE", "Africa/Nairobi", "14:00", "rally", (-1.29, 36.82)),
    ("MLKP", "Istanbul", "TR", "Europe/Istanbul", "17:00", "womens_solidarity_action", (41.01, 28.98)),
    ("KSRD", "Kyiv", "UA", "Europe/Kyiv", "16:00", "discussion", None),
    ("БКП", "Sofia", "BG", "Europe/Sofia", "18:00", "lecture", None),
    ("MLPD", "Berlin", "DE", "Europe/Berlin", "17:00", "demonstration", (52.52, 13.40)),
    ("UC", "Paris", "FR", "Europe/Paris", "18:30", "cultural", (48.86, 2.35)),
    ("PPDS", "Tunis", "TN", "Africa/Tunis", "15:00", "rally", None),
    ("MMLPL", "Casablanca", "MA", "Africa/Casablanca", "16:00", "discussion", None),
    ("PCPCI", "Abidjan", "CI", "Africa/Abidjan", "15:00", "rally", None),
    ("UMLP", "Lisbon", "PT", "Europe/Lisbon", "18:00", "cultural", None),
    ("PC (ML)", "Santo Domingo", "DO", "America/Santo_Domingo", "17:00", "demonstration", None),
    ("PCC-M", "Bogotá", "CO", "America/Bogota", "16:00", "demonstration", (4.71, -74.07)),
    ("PCP (independiente)", "Asunción", "PY", "America/Asuncion", "18:00", "lecture", None),
    ("BDP", "Lima", "PE", "America/Lima", "19:00", "rally", (-12.05, -77.04)),
]


def load(registry, events, say: Callable[[str], None] = print, timeout: float = 60, notify=None) -> None:
    """Load the demo into the registry and events kernels (their bus workers must run), and,
    given notify's kernel (its worker running too), the places of the upcoming events."""
    from services.demo import upcoming
    from services.events.models import Campaign, KnownOrganisation
    from services.registry.importer import ImportReport, import_rows, parse

    rows, errors = parse(SIGNATORIES_CSV.read_text(encoding="utf-8"))
    assert not errors, errors  # the file ships with the code
    report = ImportReport()
    with registry.db.transaction() as session:
        import_rows(session, registry.outbox, rows, report)
    say(f"organisations: created {report.created}, unchanged {report.unchanged + report.updated}")

    deadline = time.monotonic() + timeout
    while True:  # the registrations travel to the events service over the bus
        with events.db.transaction() as session:
            known = session.execute(select(func.count()).select_from(KnownOrganisation)).scalar_one()
        if known >= len(rows):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the events service knows {known} of {len(rows)} organisations after "
                               f"{timeout:.0f}s: is its bus worker running?")
        time.sleep(0.2)

    with events.db.transaction() as session:
        ids = dict(session.execute(select(KnownOrganisation.abbreviation, KnownOrganisation.id)).all())
        if session.execute(select(Campaign.id).where(Campaign.name == CAMPAIGN_NAME)).first():
            say("the 2022 campaign is there already")
        else:
            _load_2022(session, events.outbox, ids, rows, say)
        places = upcoming.load(session, events.outbox, ids, date.today(), say)
    if notify is not None and places:
        _set_places(notify, places, deadline=time.monotonic() + timeout)


def _load_2022(session, outbox, ids: dict[str, str], rows, say: Callable[[str], None]) -> None:
    from services.events import campaigns, local_events
    from services.events.rules import DEFAULT_ACTIVITY_TYPES

    campaign = campaigns.create_campaign(session, outbox, {
        "name": CAMPAIGN_NAME, "description": "Demo: the worldwide day of action of the 2022 campaign.",
        "languages": list(LANGUAGES), "day_of_action": date(2022, 12, 1),
        "window_start": date(2022, 11, 25), "window_end": date(2022, 12, 10), "list_date": LIST_DATE,
        "activity_types": list(DEFAULT_ACTIVITY_TYPES), "status": "open", "adoption_threshold": None})
    for number, (_, fields) in enumerate(rows, start=1):
        endorsement, _ = campaigns.endorse(session, outbox, campaign, ids[fields["abbreviation"]])
        # As in 2022: 28 signed by the list date, the last one after it.
        signed = datetime(2022, 11, 20, tzinfo=timezone.utc) + timedelta(hours=number)
        endorsement.endorsed_at = signed if number < len(rows) else datetime(2022, 12, 5, tzinfo=timezone.utc)
    for abbreviation, city, country, zone, start, kind, place in SAMPLE_EVENTS:
        begins = datetime.fromisoformat(f"2022-12-01T{start}")
        event = local_events.submit(session, outbox, campaign, ids[abbreviation], {
            "title": {"en": f"{kind.replace('_', ' ').capitalize()} in {city}"}, "description": {},
            "languages": ["en"], "activity_type": kind, "city": city, "country": country, "venue": None,
            "address": f"{city}, central square" if place else None,
            "latitude": place[0] if place else None, "longitude": place[1] if place else None,
            "timezone": zone, "start": begins, "end": begins + timedelta(hours=2), "online_url": None,
            "expected_participants": 50 + 25 * len(city), "visibility": "public",
            "address_public": "now" if place else "never", "address_public_hours": None})
        local_events.decide(session, outbox, event, True, None)
    say(f"the 2022 campaign: {len(rows)} signatories, {len(SAMPLE_EVENTS)} approved events")


def _set_places(notify, places: list[tuple[str, int]], deadline: float) -> None:
    """The hosts' capacities, once the approved events have reached notify over the bus."""
    from services.notify import participation
    from services.notify.models import KnownEvent

    for event_id, capacity in places:
        while True:
            with notify.db.transaction() as session:
                if session.get(KnownEvent, event_id) is not None:
                    participation.set_places(session, notify.outbox, event_id, {"capacity": capacity})
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("notify does not know the demo's events: is its bus worker running?")
            time.sleep(0.2)
