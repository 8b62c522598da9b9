"""Bench data for the events service: a campaign and many approved public local events.

The database is made by `services.events.app.build` (so migrated like in production); the
events go in with SQLAlchemy Core (`insert(LocalEvent.__table__)`) in chunks, which is many
times faster than the ORM for 100,000 rows and stores exactly the same values.
"""
from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

CHUNK = 5_000
DAY_OF_ACTION = date(2022, 12, 1)
WINDOW = (date(2022, 11, 25), date(2022, 12, 10))
# A large coalition: 400 organisations, 16 in each country, holding every event of the bench
# (so 10,000 and 100,000 events differ in events, not in how many organisations hold them).
ORGANISATIONS = 400

# (country, time zone, city): 25 countries on every continent, from UTC+13 to UTC-5.
PLACES = [
    ("DE", "Europe/Berlin", "Berlin"), ("KE", "Africa/Nairobi", "Nairobi"), ("UA", "Europe/Kyiv", "Kyiv"),
    ("IR", "Asia/Tehran", "Tehran"), ("CO", "America/Bogota", "Bogotá"), ("IN", "Asia/Kolkata", "Mumbai"),
    ("JP", "Asia/Tokyo", "Tokyo"), ("BR", "America/Sao_Paulo", "São Paulo"), ("NG", "Africa/Lagos", "Lagos"),
    ("FR", "Europe/Paris", "Paris"), ("US", "America/Chicago", "Chicago"), ("PH", "Asia/Manila", "Manila"),
    ("GB", "Europe/London", "London"), ("ES", "Europe/Madrid", "Madrid"), ("IT", "Europe/Rome", "Rome"),
    ("PL", "Europe/Warsaw", "Kraków"), ("TR", "Europe/Istanbul", "İstanbul"), ("EG", "Africa/Cairo", "Cairo"),
    ("ZA", "Africa/Johannesburg", "Cape Town"), ("AR", "America/Argentina/Buenos_Aires", "Buenos Aires"),
    ("MX", "America/Mexico_City", "Ciudad de México"), ("CA", "America/Toronto", "Toronto"),
    ("AU", "Australia/Sydney", "Sydney"), ("NZ", "Pacific/Auckland", "Wellington"), ("ID", "Asia/Jakarta", "Jakarta"),
]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def build_kernel(var_dir: Path):
    from services.events.app import build
    from shared.config import Config

    return build(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"),
                 jwks=lambda: {"keys": []})


def add_campaign(kernel, name: str = "Day of action 2022") -> str:
    from services.events.models import Campaign
    from services.events.rules import DEFAULT_ACTIVITY_TYPES

    with kernel.db.transaction() as session:
        campaign = Campaign(name=name, description="The call.", languages=["en"], day_of_action=DAY_OF_ACTION,
                            window_start=WINDOW[0], window_end=WINDOW[1], activity_types=list(DEFAULT_ACTIVITY_TYPES),
                            status="open")
        session.add(campaign)
        session.flush()
        return campaign.id


def add_events(kernel, campaign_id: str, count: int, start: int = 0) -> None:
    """`count` approved public events of the campaign, spread over 25 countries, the activity
    types and the campaign's window (40% on the day of action), each held by one of the
    organisations of its country (known to the service, as the bus would have told it).
    `start` numbers them on from an earlier call's events."""
    from services.events import local_events
    from services.events.models import KnownOrganisation, LocalEvent
    from services.events.rules import DEFAULT_ACTIVITY_TYPES

    try:
        from services.events import tallies
    except ImportError:  # an older service, without them
        tallies = None
    rng = random.Random(f"{campaign_id}-{start}-{count}")
    organisations = [str(uuid.UUID(int=i + 1, version=4)) for i in range(ORGANISATIONS)]
    now = datetime(2022, 11, 1, 12, tzinfo=timezone.utc)
    days = (WINDOW[1] - WINDOW[0]).days + 1
    zones = {zone: ZoneInfo(zone) for _, zone, _ in PLACES}
    with kernel.db.transaction() as session:  # once per database, however many campaigns are seeded
        if session.get(KnownOrganisation, organisations[0]) is None:
            session.execute(insert(KnownOrganisation.__table__), [
                {"id": org, "abbreviation": f"ORG-{i:05d}", "name": f"Climate group {i}",
                 "name_en": f"Climate group {i}", "country": PLACES[i % len(PLACES)][0],
                 "timezone": PLACES[i % len(PLACES)][1], "languages": ["en"], "website": None,
                 "status": "active", "as_of": now} for i, org in enumerate(organisations)])
    table = LocalEvent.__table__
    per_country = ORGANISATIONS // len(PLACES)
    search = getattr(local_events, "search_text", None)
    for first in range(start, start + count, CHUNK):
        rows = []
        for i in range(first, min(first + CHUNK, start + count)):
            country, zone, city = PLACES[i % len(PLACES)]
            activity = DEFAULT_ACTIVITY_TYPES[(i // len(PLACES)) % len(DEFAULT_ACTIVITY_TYPES)]
            day = DAY_OF_ACTION if rng.random() < 0.4 else WINDOW[0] + timedelta(days=rng.randrange(days))
            local = datetime(day.year, day.month, day.day, 8 + rng.randrange(12), rng.choice((0, 15, 30, 45)))
            starts_at = local.replace(tzinfo=zones[zone]).astimezone(timezone.utc)
            ends_local = local + timedelta(hours=2)
            created = now + timedelta(seconds=i, microseconds=rng.randrange(1_000_000))
            rows.append({
                "id": _uuid(rng), "campaign_id": campaign_id,
                "organisation_id": organisations[i % len(PLACES) + len(PLACES) * rng.randrange(per_country)],
                "title": {"en": f"{activity.replace('_', ' ').capitalize()} in {city} #{i}"},
                "description": {"en": f"Join us in {city} for the day of action: bring friends, banners and "
                                      f"warm clothes. Meeting point announced a day before. ({i})"},
                "languages": ["en"], "activity_type": activity, "city": city, "country": country,
                "venue": f"Central square {i % 97}", "address": f"Street {i % 211} no. {i % 37 + 1}",
                "latitude": round(rng.uniform(-60, 60), 5), "longitude": round(rng.uniform(-170, 170), 5),
                "timezone": zone, "starts_local": local.isoformat(timespec="seconds"),
                "ends_local": ends_local.isoformat(timespec="seconds"), "starts_at": starts_at,
                "ends_at": ends_local.replace(tzinfo=zones[zone]).astimezone(timezone.utc),
                "online_url": f"https://meet.example.org/{i}" if activity == "online" else None,
                "expected_participants": None if rng.random() < 0.1 else rng.choice((10, 25, 50, 120, 300, 1500)),
                "visibility": "public", "address_public": "never", "address_public_hours": None,
                "status": "approved", "rejection_reason": None, "outside_window": False, "sequence": 0,
                "created_at": created, "updated_at": created})
            row = rows[-1]
            # Columns newer services have: set as approving / submitting them would.
            if "approved_at" in table.c:
                row["approved_at"] = created + timedelta(hours=1)
            if "search_text" in table.c and search is not None:
                row["search_text"] = search(row["title"], row["description"], city)
        with kernel.db.transaction() as session:
            session.execute(insert(table), rows)
    if tallies is not None:  # Core inserts pass the ORM by: count the statistics' tallies afresh
        with kernel.db.transaction() as session:
            tallies.rebuild(session.connection(), campaign_id)
    changed_past_the_orm(kernel, campaign_id)


def changed_past_the_orm(kernel, campaign_id: str) -> None:
    """Core writes pass the ORM by: move the campaign's public revision, so kept feeds and
    overviews of a server that runs meanwhile are rendered again (services without: nothing)."""
    try:
        from services.events.models import public_revisions
        from shared.revisions import bump
    except ImportError:  # an older service, without them
        return
    with kernel.db.transaction() as session:
        bump(session.connection(), public_revisions, [campaign_id])


def checkpoint(var_dir: Path) -> None:
    """Fold the write-ahead log into the database file, so readers do not wade through it."""
    conn = sqlite3.connect(var_dir / "events.db")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
