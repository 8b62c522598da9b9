"""The offline world map: an inline SVG drawn from country outlines the project ships.

No tile server, no script, no stylesheet, no external reference: the SVG works in a page without
JavaScript, under a strict Content-Security-Policy (colours are presentation attributes, not a
``<style>`` element, so ``style-src`` need not allow inline styles) and as a file on its own.

The outlines are ``data/world.json``, made by ``data/make_world.py`` from Natural Earth's 1:110m
Admin 0 countries (public domain), keyed by ISO 3166-1 alpha-2 (Kosovo as ``XK``). Small states that
the 1:110m scale leaves out (Malta, Singapore, most island states, ...) have no outline; their events
still appear as points when they have coordinates.

Public API: :func:`project`, :func:`render_map`, :func:`country_name`, :func:`load_world`, ``VIEWBOX``
and ``BINS``.
"""

from __future__ import annotations

import gettext
import hashlib
import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry

WIDTH = 1000.0
HEIGHT = 500.0
VIEWBOX = (0, 0, 1000, 500)
WORLD_FILE = Path(__file__).with_name("data") / "world.json"

# Shading: (lowest count, colour, legend label). Fixed steps, so that two maps compare.
BINS: tuple[tuple[int, str, str], ...] = (
    (1, "#fdd0a2", "1–4"),
    (5, "#fdae6b", "5–19"),
    (20, "#f16913", "20–99"),
    (100, "#a63603", "100+"),
)
LAND = "#dcdcdc"
SEA = "#f2f6f9"
BORDER = "#ffffff"
POINT = "#08306b"
HIGHLIGHT = "#000000"

_NAMES = {"XK": "Kosovo"}  # not in ISO 3166-1 (a user-assigned code), so not in pycountry
# Shorter English names where pycountry has only the formal one.
_SHORT = {"RU": "Russia", "CD": "DR Congo", "PS": "Palestine", "FK": "Falkland Islands", "VN": "Vietnam"}
# Characters XML 1.0 does not allow, even escaped: user text with them would break the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular projection into the 1000×500 viewBox: (0, 0) is the centre, (-180, 90) the top left."""
    return (lon + 180.0) * WIDTH / 360.0, (90.0 - lat) * HEIGHT / 180.0


@lru_cache(maxsize=1)
def load_world() -> dict[str, Any]:
    """The shipped outlines: {"viewbox": [...], "countries": {"DE": "<path d>", ...}, ...}."""
    return json.loads(WORLD_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=64)
def _translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def country_name(code: str, lang: str = "en") -> str:
    """A country's short name (pycountry's common name where it has one), translated where pycountry
    has the language; the code itself for an unknown code."""
    code = code.upper()
    if code in _NAMES:
        return _NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    common = getattr(country, "common_name", None)
    if not lang or lang.lower().startswith("en"):
        return _SHORT.get(code) or common or country.name
    translation = _translation(lang.replace("-", "_"))
    if common and translation.gettext(common) != common:
        return translation.gettext(common)
    return translation.gettext(country.name)


def _clean(text: Any) -> str:
    return _NOT_XML.sub("", "" if text is None else str(text))


def _text(value: Any) -> str:
    """Text content, escaped."""
    return _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: Any) -> str:
    """An attribute value (always written in double quotes), escaped."""
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def _num(value: float) -> str:
    out = f"{value:.1f}"
    out = out.rstrip("0").rstrip(".") if "." in out else out
    return "0" if out in ("-0", "") else out


def _events(n: int) -> str:
    if n <= 0:
        return "no events"
    return "1 event" if n == 1 else f"{n} events"


def _bin(n: int) -> int | None:
    """Index into BINS for a count, None for no events."""
    found = None
    for i, (low, _colour, _label) in enumerate(BINS):
        if n >= low:
            found = i
    return found


def _coordinates(point: dict) -> tuple[float, float] | None:
    lon = point.get("longitude", point.get("lon"))
    lat = point.get("latitude", point.get("lat"))
    if lon is None or lat is None or isinstance(lon, bool) or isinstance(lat, bool):
        return None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        return None
    return lon, lat


def _pick(value: Any, lang: str) -> str:
    """A text that may be given per language ({"en": ..., "de": ...})."""
    if isinstance(value, dict):
        if lang in value:
            return _clean(value[lang])
        return _clean(next(iter(value.values()), "")) if value else ""
    return _clean(value)


def render_map(points: list[dict], counts: dict[str, int], *, title: str, lang: str = "en",
               highlight: str | None = None, words: Callable[..., str] | None = None) -> str:
    """The world map as a standalone SVG document string (no XML declaration, so it can be inlined in HTML).

    ``points``: events as dicts with ``latitude``/``longitude`` (or ``lat``/``lon``), ``title`` (a string,
    or a dict per language) and ``city``; those without valid coordinates are skipped. An optional ``url``
    that starts with a single "/" (a link within the site) makes the point a link; other URLs are ignored.
    ``counts``: events per ISO 3166-1 alpha-2 code; countries with events are shaded by ``BINS`` and each
    country's ``<title>`` says "<name>: N events". ``highlight``: a country drawn with a dark outline.
    ``words``: the page's translator (``t(key, **values)``) for the map's own words — the legend and
    the summary (keys ``events_per_country``, ``map_event``, ``map_no_events``, ``map_summary``,
    ``map_cluster``); points on the same spot are drawn as one circle naming how many;
    without it, English.
    All text is XML-escaped; the output is the same for the same input.
    """
    world = load_world()
    outlines: dict[str, str] = world["countries"]
    tally: dict[str, int] = {}
    for code, n in counts.items():
        if isinstance(code, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0:
            tally[code.upper()] = tally.get(code.upper(), 0) + n
    mark = highlight.upper() if highlight else None
    uid = "worldmap-" + hashlib.sha1(_clean(title).encode("utf-8")).hexdigest()[:8]
    lang = _clean(lang) or "en"

    desc = _summary(tally, lang, words)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{" ".join(str(v) for v in VIEWBOX)}" role="img" '
        f'aria-labelledby="{uid}-title {uid}-desc" xml:lang="{_attr(lang)}" lang="{_attr(lang)}" '
        f'class="worldmap" font-family="sans-serif">',
        f'<title id="{uid}-title">{_text(title)}</title>',
        f'<desc id="{uid}-desc">{_text(desc)}</desc>',
        f'<rect class="worldmap-sea" x="0" y="0" width="{VIEWBOX[2]}" height="{VIEWBOX[3]}" fill="{SEA}"/>',
        f'<g class="worldmap-countries" stroke="{BORDER}" stroke-width="0.4" stroke-linejoin="round">',
    ]
    for code in sorted(outlines, key=lambda c: (c == mark, c)):  # the highlighted one last: its outline on top
        n = tally.get(code, 0)
        index = _bin(n)
        fill = LAND if index is None else BINS[index][1]
        classes = "worldmap-country" + ("" if index is None else f" worldmap-c{index + 1}")
        extra = ""
        if code == mark:
            classes += " worldmap-highlight"
            extra = f' stroke="{HIGHLIGHT}" stroke-width="1.2"'
        out.append(f'<path class="{classes}" data-country="{_attr(code)}" fill="{fill}"{extra} '
                   f'd="{_attr(outlines[code])}"><title>{_text(country_name(code, lang))}: {_events(n)}</title></path>')
    out.append("</g>")

    placed = []
    for point in points:
        where = _coordinates(point)
        if where is None:
            continue
        x, y = project(*where)
        name, city = _pick(point.get("title"), lang), _pick(point.get("city"), lang)
        label = f"{name} — {city}" if name and city else (name or city)
        url = point.get("url")
        url = url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else None
        placed.append((_num(x), _num(y), round(x, 1), round(y, 1), label, url or ""))
    placed.sort(key=lambda p: (p[2], p[3], p[4], p[5]))
    out.append(f'<g class="worldmap-points" fill="{POINT}" stroke="#ffffff" stroke-width="0.6">')
    for group in _clustered(placed):
        sx, sy, _x, _y, label, url = group[0]
        if len(group) == 1:
            circle = f'<circle cx="{sx}" cy="{sy}" r="2.5"><title>{_text(label)}</title></circle>'
            out.append(f'<a href="{_attr(url)}">{circle}</a>' if url else circle)
            continue
        names = "; ".join(p[4] for p in group[:CLUSTER_NAMES]) + ("; …" if len(group) > CLUSTER_NAMES else "")
        text = words("map_cluster", n=len(group), names=names) if words else f"{len(group)} events here: {names}"
        radius = _num(min(2.5 + 1.2 * math.log2(len(group)), 9.0))
        out.append(f'<circle class="worldmap-cluster" cx="{sx}" cy="{sy}" r="{radius}" fill-opacity="0.8">'
                   f"<title>{_text(text)}</title></circle>")
    out.append("</g>")
    out.extend(_legend(words))
    out.append("</svg>")
    return "\n".join(out) + "\n"


CLUSTER_CELL = 2.0  # map units (the map is 1000 wide): points closer than this are drawn as one
CLUSTER_NAMES = 5  # a drawn cluster names this many of its events


def _clustered(placed: list[tuple]) -> list[list[tuple]]:
    """Points that fall on the same spot (the same city, mostly) as one circle each: a map of
    thousands of events stays small and readable. In the order of their first point."""
    cells: dict[tuple[int, int], list[tuple]] = {}
    for point in placed:
        cells.setdefault((int(point[2] // CLUSTER_CELL), int(point[3] // CLUSTER_CELL)), []).append(point)
    return list(cells.values())


def _summary(tally: dict[str, int], lang: str, words: Callable[..., str] | None = None) -> str:
    if not tally:
        return words("map_no_events") if words else "No events yet."
    total = sum(tally.values())
    parts = [f"{country_name(code, lang)}: {n}"
             for code, n in sorted(tally.items(), key=lambda item: (-item[1], country_name(item[0], lang), item[0]))]
    if words:
        return words("map_summary", n=total, countries=len(tally)) + " " + "; ".join(parts) + "."
    places = "1 country" if len(tally) == 1 else f"{len(tally)} countries"
    return f"{_events(total).capitalize()} in {places}. " + "; ".join(parts) + "."


def _legend(words: Callable[..., str] | None = None) -> list[str]:
    x0, y0, size = 20, 430, 12
    heading = words("events_per_country") if words else "Events per country"
    out = ['<g class="worldmap-legend" font-size="11" fill="#333333" aria-hidden="true">',
           f'<text x="{x0}" y="{y0 - 6}">{_text(heading)}</text>']
    for i, (_low, colour, label) in enumerate(BINS):
        x = x0 + i * 62
        out.append(f'<rect x="{x}" y="{y0}" width="{size}" height="{size}" fill="{colour}"/>')
        out.append(f'<text x="{x + size + 4}" y="{y0 + size - 2}">{_text(label)}</text>')
    out.append(f'<circle cx="{x0 + 4 * 62 + 6}" cy="{y0 + size // 2}" r="2.5" fill="{POINT}"/>')
    out.append(f'<text x="{x0 + 4 * 62 + 14}" y="{y0 + size - 2}">{_text(words("map_event") if words else "event")}</text>')
    out.append("</g>")
    return out
