"""An event's time as its reader should see it: the wall-clock in the event's own zone, in the reader's
language, with the IANA zone named so it cannot be mistaken (EST, IST and CST each mean several zones).

A 24-hour clock and English with the day before the month (en_GB) keep a worldwide audience from misreading.
Persian dates are Gregorian: Babel has no Solar Hijri calendar.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime, format_interval

from shared.languages import BABEL_LOCALES


def babel_locale(language: str) -> Locale:
    return Locale.parse(BABEL_LOCALES.get(language, "en_GB"))


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def as_utc(instant: datetime | str) -> datetime:
    """An aware instant from a datetime or an ISO string off the bus; a naive one is taken as UTC."""
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return instant.replace(tzinfo=timezone.utc) if instant.tzinfo is None else instant.astimezone(timezone.utc)


def _pattern(locale: Locale) -> str:
    """The locale's full date with its short time, joined as the locale joins a date and a time."""
    joined = locale.datetime_formats["full"]
    date_pattern, time_pattern = locale.date_formats["full"].pattern, locale.time_formats["short"].pattern
    return joined.replace("{1}", date_pattern).replace("{0}", time_pattern)


def _zone_label(local: datetime, zone_name: str) -> str:
    """ "Africa/Nairobi, EAT"; where the zone has no letter abbreviation (+0545), its offset from UTC."""
    abbreviation = local.tzname() or ""
    if not abbreviation.isalpha():
        offset = local.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
        abbreviation = f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return zone_name if abbreviation == zone_name else f"{zone_name}, {abbreviation}"


def format_event_time(starts_at_utc: datetime | str, timezone_name: str, language: str) -> str:
    """ "Thursday, 1 December 2022, 17:00 (Africa/Nairobi, EAT)". An unknown zone shows the time in UTC."""
    zone = zone_or_none(timezone_name)
    if zone is None:
        zone, timezone_name = ZoneInfo("UTC"), "UTC"
    local = as_utc(starts_at_utc).astimezone(zone)
    locale = babel_locale(language)
    shown = format_datetime(local, _pattern(locale), tzinfo=zone, locale=locale)
    return f"{shown} ({_zone_label(local, timezone_name)})"


def format_local_time(start_local: str, timezone_name: str, language: str) -> str:
    """The same, from the wall-clock time an organisation gave ("2022-12-01T17:00:00") and its zone."""
    zone = zone_or_none(timezone_name) or ZoneInfo("UTC")
    return format_event_time(datetime.fromisoformat(start_local).replace(tzinfo=zone), timezone_name, language)


def format_reader_time(starts_at_utc: datetime | str, event_timezone: str, reader_timezone: str | None,
                       language: str) -> str | None:
    """The event's time in the reader's zone, or None when that adds nothing: the reader's zone is unknown
    or shows the same wall-clock at that instant."""
    reader, event = zone_or_none(reader_timezone), zone_or_none(event_timezone) or ZoneInfo("UTC")
    if reader is None:
        return None
    instant = as_utc(starts_at_utc)
    if instant.astimezone(reader).utcoffset() == instant.astimezone(event).utcoffset():
        return None
    return format_event_time(instant, reader_timezone, language)


def format_date_range(first: date | str, last: date | str, language: str) -> str:
    """ "25 Nov – 3 Dec 2022", as the language writes a range of days."""
    first, last = (date.fromisoformat(d) if isinstance(d, str) else d for d in (first, last))
    return format_interval(first, last, "yMMMMd", locale=babel_locale(language))
