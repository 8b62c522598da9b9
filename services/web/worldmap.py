"""The offline world map: an inline SVG drawn from country outlines the project ships.

No tile server, no script, no stylesheet, no external reference: the SVG works in a page without
JavaScript, under a strict Content-Security-Policy (colours are presentation attributes, not a
``<style>`` element, so ``style-src`` need not allow inline styles) and as a file on its own.

The outlines are ``data/world.json``, made by the project's ``scripts/make_world.py`` from Natural
Earth's 1:110m Admin 0 countries (public domain), keyed by ISO 3166-1 alpha-2 (Kosovo as ``XK``).
Small states that the 1:110m scale leaves out (Malta, Singapore, most island states, ...) have no
outline; their events still appear as points when they have coordinates.

Public API: :func:`project`, :func:`render_map`, :func:`legend`, :func:`load_world`, ``VIEWBOX`` and ``BINS``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from services.web.formats import country_name

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

# Characters XML 1.0 does not allow, even escaped: user text with them would break the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular projection into the 1000×500 viewBox: (0, 0) is the centre, (-180, 90) the top left."""
    return (lon + 180.0) * WIDTH / 360.0, (90.0 - lat) * HEIGHT / 180.0


@lru_cache(maxsize=1)
def load_world() -> dict[str, Any]:
    """The shipped outlines: {"viewbox": [...], "countries": {"DE": "<path d>", ...}, ...}."""
    return json.loads(WORLD_FILE.read_text(encoding="utf-8"))


def _clean(text: Any) -> str:
    return _NOT_XML.sub("", "" if text is None else str(text))


def _text(value: Any) -> str:
    """Text content, escaped."""
    return _clean(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: Any) -> str:
    """An attribute value (always written in double quotes), escaped."""
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def _size(value: float) -> str:
    """A size that stays in proportion in a zoomed map (a tenth of a unit is a lot there)."""
    return f"{value:.3g}"


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
               highlight: str | None = None, words: Callable[..., str] | None = None, focus: str | None = None,
               cluster_link: Callable[[str | None, str | None], str] | None = None) -> str:
    """The world map as a standalone SVG document string (no XML declaration, so it can be inlined in HTML).

    ``points``: events as dicts with ``latitude``/``longitude`` (or ``lat``/``lon``), ``title`` (a string,
    or a dict per language), ``city`` and ``country``; those without valid coordinates are skipped. An
    optional ``url`` that starts with a single "/" (a link within the site) makes the point a link; other
    URLs are ignored. ``counts``: events per ISO 3166-1 alpha-2 code; countries with events are shaded by
    ``BINS`` and each country's ``<title>`` says "<name>: N events". ``highlight``: a country drawn with a
    dark outline. ``focus``: a country whose points the map zooms to. ``words``: the page's translator
    (``t(key, **values)``) for the map's own words (keys ``map_no_events``, ``map_summary``,
    ``map_cluster``); without it, English.

    Points are sized for a finger on a phone whatever the zoom: points closer than a fingertip are one
    circle that says how many, a link (``cluster_link(country, city)``, the country and city they share)
    to the list of them; a single event's point links to the event.
    All text is XML-escaped; the output is the same for the same input.
    """
    tally = _tally(counts)
    mark = highlight.upper() if highlight else None
    uid = "worldmap-" + hashlib.sha1(_clean(title).encode("utf-8")).hexdigest()[:8]
    lang = _clean(lang) or "en"

    placed = _placed(points, lang)
    view = _view([p for p in placed if focus and p.country == focus.upper()])
    scale = view[2] / WIDTH  # sizes below are for the whole world; a zoomed map keeps them on screen
    desc = _summary(tally, lang, words)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{" ".join(_num(v) for v in view)}" role="group" '
        f'aria-labelledby="{uid}-title {uid}-desc" xml:lang="{_attr(lang)}" lang="{_attr(lang)}" '
        f'class="worldmap" font-family="sans-serif" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{uid}-title">{_text(title)}</title>',
        f'<desc id="{uid}-desc">{_text(desc)}</desc>',
        f'<rect class="worldmap-sea" x="0" y="0" width="{VIEWBOX[2]}" height="{VIEWBOX[3]}" fill="{SEA}"/>',
        f'<g class="worldmap-countries" stroke="{BORDER}" stroke-width="{_num(max(0.4 * scale, 0.05))}" '
        f'stroke-linejoin="round">',
    ]
    out += _countries(tally, mark, scale, lang)
    out.append("</g>")
    out.append(f'<g class="worldmap-points" fill="{POINT}" stroke="#ffffff" stroke-width="{_num(1.2 * scale)}">')
    for group in _clustered(placed, CLUSTER_CELL * scale):
        out.append(_drawn(group, scale, words, cluster_link))
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tally(counts: dict[str, int]) -> dict[str, int]:
    """Events per country code in upper case; what is not a code and a positive count is left out."""
    tally: dict[str, int] = {}
    for code, n in counts.items():
        if isinstance(code, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0:
            tally[code.upper()] = tally.get(code.upper(), 0) + n
    return tally


def _countries(tally: dict[str, int], mark: str | None, scale: float, lang: str) -> list[str]:
    """Each country's outline, shaded by its events, with a title that names it and counts them."""
    outlines: dict[str, str] = load_world()["countries"]
    paths = []
    for code in sorted(outlines, key=lambda c: (c == mark, c)):  # the highlighted one last: its outline on top
        n = tally.get(code, 0)
        index = _bin(n)
        fill = LAND if index is None else BINS[index][1]
        classes = "worldmap-country" + ("" if index is None else f" worldmap-c{index + 1}")
        extra = ""
        if code == mark:
            classes += " worldmap-highlight"
            extra = f' stroke="{HIGHLIGHT}" stroke-width="{_num(1.2 * scale)}"'
        paths.append(f'<path class="{classes}" data-country="{_attr(code)}" fill="{fill}"{extra} '
                     f'd="{_attr(outlines[code])}"><title>{_text(country_name(code, lang))}: {_events(n)}</title></path>')
    return paths


class _Point(NamedTuple):
    x: float
    y: float
    label: str
    url: str
    country: str
    city: str
    approximate: bool = False  # the event's coarse point, its address not public yet


def _placed(points: list[dict], lang: str) -> list[_Point]:
    """The points with a place on the map, projected, in a fixed order (the same map for the same events)."""
    placed = []
    for point in points:
        where = _coordinates(point)
        if where is None:
            continue
        x, y = project(*where)
        name, city = _pick(point.get("title"), lang), _pick(point.get("city"), lang)
        label = f"{name} — {city}" if name and city else (name or city)
        url = point.get("url")
        url = url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") else ""
        country = point.get("country")
        placed.append(_Point(round(x, 1), round(y, 1), label, url, country.upper() if isinstance(country, str) else "",
                             city, point.get("approximate") is True))
    placed.sort()
    return placed


def _view(points: list[_Point]) -> tuple[float, float, float, float]:
    """The whole world; or, zoomed to a country's points, a box around them of the map's own
    proportions, never smaller than a region (a single city would fill the screen) nor off the map."""
    if not points:
        return VIEWBOX
    xs, ys = [p.x for p in points], [p.y for p in points]
    width = max(max(xs) - min(xs), 2 * (max(ys) - min(ys)), MIN_ZOOM_WIDTH) * 1.3
    width = min(width, WIDTH)
    height = width * HEIGHT / WIDTH
    x = min(max((max(xs) + min(xs)) / 2 - width / 2, 0), WIDTH - width)
    y = min(max((max(ys) + min(ys)) / 2 - height / 2, 0), HEIGHT - height)
    return (round(x, 1), round(y, 1), round(width, 1), round(height, 1))


def _drawn(group: list[_Point], scale: float, words, cluster_link) -> str:
    """One point, or one circle for several with their number in it; a link where there is one to follow."""
    first = group[0]
    hit = f'<circle class="worldmap-hit" cx="{_num(first.x)}" cy="{_num(first.y)}" r="{_size(HIT * scale)}" ' \
          f'fill="transparent" stroke="none"/>'
    if len(group) == 1 and first.approximate:  # a larger, lighter circle: somewhere within about 1 km
        place = words("approximate_place") if words else "Approximate place (within about 1 km)"
        circle = f'<circle class="worldmap-point worldmap-approximate" cx="{_num(first.x)}" cy="{_num(first.y)}" ' \
                 f'r="{_size(APPROXIMATE_RADIUS * scale)}" fill-opacity="0.35" stroke="{POINT}" stroke-dasharray=' \
                 f'"{_size(2 * scale)} {_size(1.5 * scale)}"><title>{_text(first.label)} — {_text(place)}</title></circle>'
        if not first.url:
            return circle
        return f'<a href="{_attr(first.url)}" aria-label="{_attr(first.label)} — {_attr(place)}" tabindex="-1">' \
               f'{hit}{circle}</a>'
    if len(group) == 1:
        circle = f'<circle class="worldmap-point" cx="{_num(first.x)}" cy="{_num(first.y)}" ' \
                 f'r="{_size(POINT_RADIUS * scale)}"><title>{_text(first.label)}</title></circle>'
        if not first.url:
            return circle
        return f'<a href="{_attr(first.url)}" aria-label="{_attr(first.label)}" tabindex="-1">{hit}{circle}</a>'
    names = "; ".join(p.label for p in group[:CLUSTER_NAMES]) + ("; …" if len(group) > CLUSTER_NAMES else "")
    text = words("map_cluster", n=len(group), names=names) if words else f"{len(group)} events here: {names}"
    radius = min(POINT_RADIUS + 2.0 * math.log2(len(group)), 2.2 * POINT_RADIUS) * scale
    drawn = (f'<circle class="worldmap-cluster" cx="{_num(first.x)}" cy="{_num(first.y)}" r="{_size(radius)}" '
             f'fill-opacity="0.85"><title>{_text(text)}</title></circle>'
             f'<text x="{_num(first.x)}" y="{_num(first.y)}" dy="0.35em" text-anchor="middle" fill="#ffffff" '
             f'stroke="none" font-size="{_size(radius * 1.1)}" font-weight="bold" aria-hidden="true">'
             f'{len(group)}</text>')
    countries = {p.country for p in group}
    cities = {p.city for p in group}
    if cluster_link is None or len(countries) != 1 or not first.country:
        return f"<g>{drawn}</g>"
    link = cluster_link(first.country, first.city if len(cities) == 1 else None)
    return f'<a href="{_attr(link)}" aria-label="{_attr(text)}" tabindex="-1">{hit}{drawn}</a>'


CLUSTER_CELL = 18.0  # map units of the whole world (1000 wide): points closer than this are drawn as one
CLUSTER_NAMES = 5  # a drawn cluster names this many of its events
POINT_RADIUS = 6.0  # about 2 mm on a phone showing the whole world
APPROXIMATE_RADIUS = 9.0  # a place known only to about 1 km: a larger circle than an exact one
HIT = 14.0  # the area a finger may touch around a point
MIN_ZOOM_WIDTH = 40.0  # a zoomed map shows at least this much of the world's width (about 14 degrees)


def _clustered(placed: list[_Point], cell: float) -> list[list[_Point]]:
    """Points closer than a fingertip (a cell of the grid) as one circle each: a map of thousands
    of events stays small and readable. In the order of their first point."""
    cells: dict[tuple[int, int], list[_Point]] = {}
    for point in placed:
        cells.setdefault((int(point.x // cell), int(point.y // cell)), []).append(point)
    return list(cells.values())


def legend() -> list[tuple[str, str]]:
    """The shading's steps as (colour, label), for the page to show beside the map in its own type."""
    return [(colour, label) for _low, colour, label in BINS]


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
