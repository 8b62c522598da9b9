"""What the pages show of dates, times, countries, languages and time zones, in the reader's
language (Babel's CLDR data): one place, so every page names a country or a time the same way,
and every list a form offers is in the page's language."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_timezone_location

# English names the coalition uses where CLDR's differs.
_ENGLISH = {"PS": "Palestine", "CD": "DR Congo"}


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def country_name(code: str, language: str = "en") -> str:
    """A country's short common name in `language`; the code itself when unknown."""
    code = (code or "").upper()
    if language.startswith("en") and code in _ENGLISH:
        return _ENGLISH[code]
    return _locale(language).territories.get(code, code)


@lru_cache(maxsize=16)
def countries(language: str) -> list[tuple[str, str]]:
    """Every country (ISO 3166-1 alpha-2, and Kosovo) as (code, name), by name in `language`."""
    import pycountry

    codes = {c.alpha_2 for c in pycountry.countries} | {"XK"}
    return sorted(((code, country_name(code, language)) for code in codes), key=lambda item: _sort_key(item[1]))


def language_name(code: str, language: str = "en") -> str:
    """A language's name in `language` (Persian: «فارسی»), the code when unknown."""
    name = _locale(language).languages.get(code)
    return name[:1].upper() + name[1:] if name else code


@lru_cache(maxsize=16)
def languages(language: str) -> list[tuple[str, str]]:
    """The languages a form offers: every two-letter code CLDR names, by name in `language`."""
    names = _locale(language).languages
    return sorted(((code, language_name(code, language)) for code in names if len(code) == 2),
                  key=lambda item: _sort_key(item[1]))


@lru_cache(maxsize=16)
def time_zones(language: str) -> list[tuple[str, str]]:
    """Every IANA zone with a place a reader recognises: ("Africa/Nairobi", "Kenya (Nairobi) — Africa/Nairobi")."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "US/")))
    return [(zone, f"{zone_place(zone, language)} — {zone}") for zone in zones]


def country_zones(country: str, language: str) -> list[tuple[str, str]]:
    """The zones of one country (CLDR's list), as `time_zones` names them: offered first."""
    from babel.core import get_global

    named = dict(time_zones(language))
    return [(zone, named[zone]) for zone in get_global("territory_zones").get((country or "").upper(), ())
            if zone in named]


def zone_place(zone: str, language: str = "en") -> str:
    try:
        return get_timezone_location(zone, locale=_locale(language), return_city=True)
    except (LookupError, ValueError):
        return zone.rsplit("/", 1)[-1].replace("_", " ")


def local_time(local: str, language: str) -> str:
    """An event's local wall time ("2027-05-01T10:00:00") as "Sat 1 May, 10:00" in `language`."""
    try:
        moment = datetime.fromisoformat(local)
    except (TypeError, ValueError):
        return local or ""
    return day_and_time(moment, language)


def day_and_time(moment: datetime, language: str) -> str:
    """"Mon, Jan 18, 14:00", "دوشنبه 18 ژانویه،‏ 14:00", "Mo., 18. Jan., 14:00": the day as the
    language abbreviates it, the time on 24 hours, joined as the language joins them."""
    locale = _locale(language)
    joined = locale.datetime_formats.get("medium", "{1}, {0}")
    return str(joined).replace("{1}", format_skeleton("MMMEd", moment, locale=locale)).replace(
        "{0}", format_time(moment, "HH:mm", locale=locale))


def zoned_time(instant: str, zone: str, language: str) -> str | None:
    """A UTC instant in a reader's zone, with the zone's place: None for a zone that is not one."""
    try:
        moment = datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))
    except (KeyError, ValueError, OSError, TypeError):
        return None
    return f"{day_and_time(moment, language)} ({zone_place(zone, language)})"


def long_date(day: str | date, language: str) -> str:
    """A day as "Saturday, 1 May 2027" in `language`."""
    try:
        value = day if isinstance(day, date) else date.fromisoformat(day)
    except (TypeError, ValueError):
        return str(day)
    return format_date(value, "full", locale=_locale(language))


def label(code: str) -> str:
    """A machine name (women_solidarity) as words, for what has no translation."""
    words = (code or "").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _sort_key(name: str) -> str:
    return name.casefold()


def register(app) -> None:
    """The formats as Jinja filters: `{{ e.start | local_time(lang) }}`, `{{ code | country(lang) }}`."""
    app.jinja_env.filters.update(local_time=local_time, country=country_name, language_name=language_name,
                                 long_date=long_date, label=label)
