"""Local times in IANA zones, with no I/O: which zones a country has, and turning a wall-clock
time into a UTC instant without guessing across DST changes.

A local event happens at a wall-clock time in its own zone. Twice a year that is not enough:
in a DST gap the time does not exist (refused), in a fold it happens twice (the caller must
say which offset it means). The zone data is the `tzdata` package's, so every machine agrees.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from importlib.resources import files
from zoneinfo import ZoneInfo


class LocalTimeError(ValueError):
    """A local time that cannot be placed; `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _tzdata(name: str) -> str:
    return (files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _links() -> dict[str, str]:
    """Old zone names and aliases (Europe/Kiev, Asia/Calcutta) → the zone they stand for."""
    links = {}
    for line in _tzdata("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


@lru_cache(maxsize=1)
def zones_by_country() -> dict[str, frozenset[str]]:
    """ISO 3166 code → the zones used there (zone.tab and zone1970.tab together)."""
    found: dict[str, set[str]] = {}
    for name in ("zone.tab", "zone1970.tab"):
        for line in _tzdata(name).splitlines():
            if line.startswith("#") or not line.strip():
                continue
            codes, _, zone = line.split("\t")[:3]
            for code in codes.split(","):
                found.setdefault(code, set()).add(zone)
    return {code: frozenset(zones) for code, zones in found.items()}


def canonical_zone(zone: str) -> str:
    seen = set()
    while zone in _links() and zone not in seen:
        seen.add(zone)
        zone = _links()[zone]
    return zone


def zone_in_country(zone: str, country: str) -> bool:
    zones = zones_by_country().get(country, frozenset())
    return zone in zones or canonical_zone(zone) in zones


def format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_utc(local: datetime, zone: str, field: str, offset: str | None = None) -> datetime:
    """The UTC instant of wall-clock `local` in `zone`. `offset` ("+02:00") picks one of the
    two instants of an ambiguous time; given for an unambiguous one, it must match."""
    if local.tzinfo is not None:
        raise LocalTimeError(field, "give the local time without an offset; the zone says it.")
    tz = ZoneInfo(zone)
    earlier, later = local.replace(tzinfo=tz, fold=0), local.replace(tzinfo=tz, fold=1)
    if earlier.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != local:
        before, after = format_offset(earlier.utcoffset()), format_offset(later.utcoffset())
        raise LocalTimeError(field, f"{local.isoformat(timespec='minutes')} does not exist in {zone}: the "
                                    f"clocks change there then (from {before} to {after}). Choose another time.")
    candidates = {format_offset(earlier.utcoffset()): earlier, format_offset(later.utcoffset()): later}
    if offset is not None:
        if offset not in candidates:
            raise LocalTimeError(f"{field}_offset", f"{zone} has the offset {' or '.join(candidates)} at "
                                                    f"{local.isoformat(timespec='minutes')}, not {offset}.")
        return candidates[offset].astimezone(timezone.utc)
    if len(candidates) > 1:
        raise LocalTimeError(f"{field}_offset", f"{local.isoformat(timespec='minutes')} happens twice in {zone} "
                                                f"(the clocks go back): say which with {field}_offset, "
                                                f"{' or '.join(candidates)}.")
    return earlier.astimezone(timezone.utc)
