"""What the public finds: the follow-the-sun timeline, statistics, the map (GeoJSON) and
calendars (iCalendar). Every output here starts from `public_condition`, so coordinators-only
events, countries on hold and addresses not yet public never leak into it (coordinates of a
place not yet public are the event's coarse point, places.py)."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterator

from icalendar import Calendar, Event, Timezone
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from services.events.local_events import (
    address_visible,
    list_statement,
    pick_language,
    place_public_from,
    public_condition,
)
from services.events.localtime import format_offset
from services.events.models import Campaign, CountryHold, EventTally, KnownOrganisation, LocalEvent
from services.events.places import public_point

ICAL_PRODID = "-//dayofaction//events//EN"


def on_the_day(campaign: Campaign):
    """Events whose local date (in their own zone) is the day of action."""
    return LocalEvent.starts_local.startswith(campaign.day_of_action.isoformat())


def timeline_statement(campaign: Campaign):
    return select(LocalEvent).where(LocalEvent.campaign_id == campaign.id, LocalEvent.status == "approved",
                                    public_condition(), on_the_day(campaign))


def utc_offset(event) -> str:
    """The offset from UTC of the event's zone at its start ("+05:45"), from the local time
    it was given in and the instant that means."""
    return format_offset(datetime.fromisoformat(event.starts_local) - event.starts_at.replace(tzinfo=None))


def timeline_item(event: LocalEvent, wanted: list[str]) -> dict:
    language = pick_language(event.title, event.languages, wanted)
    return {"id": event.id, "starts_at": event.starts_at, "start": event.starts_local, "timezone": event.timezone,
            "utc_offset": utc_offset(event), "city": event.city, "country": event.country,
            "activity_type": event.activity_type, "title": event.title.get(language, ""), "language": language}


@lru_cache(maxsize=2)
def _statistics_statements(everything: bool) -> dict:
    """The three sums over a campaign's tallies (bound to :campaign_id), built once: building
    them costs more than running them."""
    condition = EventTally.campaign_id == bindparam("campaign_id")
    if not everything:  # what `public_condition` lets through, as far as approved events go
        condition &= (EventTally.visibility == "public") & EventTally.country.not_in(select(CountryHold.country))
    events, people = func.sum(EventTally.events), func.sum(EventTally.expected_participants)
    statements = {}
    for name, column in (("countries", EventTally.country), ("activity_types", EventTally.activity_type),
                         ("organisations", EventTally.organisation_id)):
        statements[name] = (select(column, events, people).where(condition).group_by(column)
                            .having(events > 0).order_by(events.desc(), column))
    statements["organisations"] = (  # with the abbreviation each is known by
        statements["organisations"].add_columns(KnownOrganisation.abbreviation)
        .outerjoin(KnownOrganisation, KnownOrganisation.id == EventTally.organisation_id)
        .group_by(KnownOrganisation.abbreviation))
    return statements


def statistics(session: Session, campaign: Campaign, everything: bool) -> dict:
    """Counts and expected participants per country, activity type and organisation, added
    up from the campaign's tallies (a few rows per organisation, however many events)."""
    out: dict = {"campaign_id": campaign.id}
    for name, stmt in _statistics_statements(everything).items():
        out[name] = [{"key": row[0], "events": int(row[1]), "expected_participants": int(row[2] or 0),
                      **({"abbreviation": row[3]} if len(row) > 3 else {})}
                     for row in session.execute(stmt, {"campaign_id": campaign.id})]
    out["total"] = {"events": sum(r["events"] for r in out["countries"]),
                    "expected_participants": sum(r["expected_participants"] for r in out["countries"])}
    return out


class PublicPlaces:
    """May the public see where an event is (its address, and its coordinates, which would give
    the address away)? What the map, the calendars and the overview ask, as of `now`. Also
    keeps the earliest moment after `now` at which a place asked about becomes public: what
    was rendered from the answers holds until then (`changes_at`)."""

    def __init__(self, now: datetime):
        self.now, self.changes_at = now, None

    def shown(self, event) -> bool:
        if address_visible(event, None, self.now):
            return True
        public_from = place_public_from(event)
        if public_from is not None and (self.changes_at is None or public_from < self.changes_at):
            self.changes_at = public_from
        return False

    def point(self, event) -> tuple[float | None, float | None, bool]:
        """(latitude, longitude, approximate): exact where the place is public, else the event's
        coarse point (places.py), never the exact one."""
        return public_point(event, self.shown(event))


def geojson_features(session: Session, stmt, wanted: list[str], places: PublicPlaces) -> Iterator[dict]:
    """Public events with coordinates: exact where their owners made the place public, else a
    point about 1 km off (`approximate`), since exact coordinates would give the address away."""
    for event in session.execute(stmt.where(LocalEvent.latitude.is_not(None))).scalars():
        properties = overview_item(event, wanted, places)  # the feature's schema leaves out id and point
        yield {"type": "Feature", "id": event.id,
               "geometry": {"type": "Point", "coordinates": [properties["longitude"], properties["latitude"]]},
               "properties": properties}


def ical_stream(session: Session, stmt, name: str, wanted: list[str], places: PublicPlaces,
                base_url: str) -> Iterator[bytes]:
    """An iCalendar feed, written event by event (the API keeps the whole, once per change):
    local times with TZID and a VTIMEZONE per zone, stable UIDs, SEQUENCE, cancelled as
    CANCELLED."""
    zones = session.execute(stmt.with_only_columns(LocalEvent.timezone).distinct().order_by(None)).scalars().all()
    span = session.execute(stmt.with_only_columns(func.min(LocalEvent.starts_at), func.max(LocalEvent.ends_at))
                           .order_by(None)).one()
    head = Calendar()
    head.add("prodid", ICAL_PRODID)
    head.add("version", "2.0")
    head.add("x-wr-calname", name)
    yield head.to_ical().replace(b"END:VCALENDAR\r\n", b"")
    if zones:  # each zone's rules over the feed's years, no more (a VTIMEZONE lists every change)
        first, last = span[0].date().replace(month=1, day=1), span[1].date().replace(month=12, day=31)
        for zone in sorted(zones):
            yield Timezone.from_tzid(zone, first_date=first, last_date=last).to_ical()
    for event in session.execute(stmt.execution_options(yield_per=500)).scalars():
        yield _vevent(event, wanted, places, base_url).to_ical()
    yield b"END:VCALENDAR\r\n"


def _vevent(event: LocalEvent, wanted: list[str], places: PublicPlaces, base_url: str) -> Event:
    from zoneinfo import ZoneInfo

    language = pick_language(event.title, event.languages, wanted)
    tz = ZoneInfo(event.timezone)
    vevent = Event()
    vevent.add("uid", f"{event.id}@dayofaction")
    vevent.add("dtstamp", event.updated_at.astimezone(timezone.utc))
    vevent.add("dtstart", event.starts_at.astimezone(tz))
    vevent.add("dtend", event.ends_at.astimezone(tz))
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.title.get(language, ""))
    description = (event.description or {}).get(language)
    if description:
        vevent.add("description", description)
    place = [event.city, event.country]
    if event.address and places.shown(event):
        place = [event.address, *place]
    vevent.add("location", ", ".join(p for p in place if p))
    latitude, longitude, _ = places.point(event)
    if latitude is not None:  # GEO: exact where the place is public, else the coarse point
        vevent.add("geo", (latitude, longitude))
    vevent.add("status", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    vevent.add("url", f"{base_url}/api/events/events/{event.id}")
    return vevent


# The overview: every public event of a campaign in one answer, for pages that show them all.
# Only the columns it shows (and those that decide what it may show) are read: no
# descriptions, which can be long in thirty languages.
OVERVIEW_COLUMNS = (LocalEvent.id, LocalEvent.title, LocalEvent.languages, LocalEvent.activity_type,
                    LocalEvent.city, LocalEvent.country, LocalEvent.timezone, LocalEvent.starts_local,
                    LocalEvent.ends_local, LocalEvent.starts_at, LocalEvent.ends_at, LocalEvent.status,
                    LocalEvent.latitude, LocalEvent.longitude, LocalEvent.address_public,
                    LocalEvent.address_public_hours, LocalEvent.organisation_id)


def overview_statement(campaign_id: str):
    """The campaign's events exactly as the public's list finds them (`list_statement`, no
    principal: the same conditions, so the two cannot differ), all of them, in the list's
    order (start in UTC, then id)."""
    return (list_statement({"campaign_id": campaign_id}, None).with_only_columns(*OVERVIEW_COLUMNS)
            .order_by(LocalEvent.starts_at, LocalEvent.id))


def overview_item(event, wanted: list[str], places: PublicPlaces) -> dict:
    """One event of the overview, as the public sees it: the title in the language the list
    would choose, local and UTC times, and coordinates as the map shows them (coarse until the
    place is public)."""
    language = pick_language(event.title, event.languages, wanted)
    latitude, longitude, approximate = places.point(event)
    return {"id": event.id, "title": event.title.get(language, ""), "language": language, "city": event.city,
            "country": event.country, "timezone": event.timezone, "start": event.starts_local,
            "end": event.ends_local, "starts_at": event.starts_at, "ends_at": event.ends_at,
            "utc_offset": utc_offset(event), "activity_type": event.activity_type, "languages": event.languages,
            "status": event.status, "longitude": longitude, "latitude": latitude, "approximate": approximate}


def overview_events(connection, campaign_id: str, wanted: list[str], places: PublicPlaces) -> list[dict]:
    """Every public event of the campaign: one query, plain rows (no ORM objects)."""
    return [overview_item(row, wanted, places) for row in connection.execute(overview_statement(campaign_id))]
