"""Build ``world.json``, the country outlines of the offline world map, from Natural Earth data.

A one-off script, kept so that the shipped file can be rebuilt and checked. It runs offline, in plain
Python (``pycountry`` is the only package it needs), against ``countries-110m.json`` from the npm
package ``world-atlas`` 2.0.2 (ISC licence, Copyright 2013-2019 Michael Bostock), which redistributes
Natural Earth's 1:110m Admin 0 countries, version 4.1.0 (public domain), as TopoJSON::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/make_world.py package/countries-110m.json
    # sha256 of the input used for the shipped file:
    # 2516c915867c7baf18ddec727aec46c315541a07cfb3d79a6559b05d5e94eee8

What it does:

* decodes the TopoJSON topology: quantized, delta-encoded arcs, turned back into degrees with the
  file's ``transform``; a negative arc index means that arc reversed (``~i``);
* projects with the equirectangular projection of :func:`services.web.worldmap.project` (the same
  formula, repeated here so that the script has no import of the project): longitude -180..180 to
  x 0..1000, latitude 90..-90 to y 0..500, so the viewBox is ``0 0 1000 500``;
* splits rings that cross the antimeridian (a step of more than 180 degrees between two points):
  the ring is unwrapped so that it is continuous, clipped at the line x = 180 degrees, and the part
  beyond is moved back by 360 degrees, so that no edge runs across the whole map;
* rounds to 0.1 of a viewBox unit, drops repeated and collinear points, and rings that are left with
  fewer than three points;
* writes each country's outline as one SVG path: ``M`` with an absolute start, then relative
  ``l`` steps (computed from the rounded absolute points, so no error adds up), ``z`` per ring.

Keys are ISO 3166-1 alpha-2 codes, from the numeric ids through ``pycountry``. Antarctica (010) is
left out. Three Natural Earth shapes have no numeric id: "Kosovo" is keyed ``XK`` (the user-assigned
code that the EU, the IMF and most software use for it); "N. Cyprus" is added to ``CY`` and
"Somaliland" to ``SO``, whose areas they are in ISO 3166-1, so that the map has no holes there.
"""

from __future__ import annotations

import json
import sys
from itertools import pairwise
from pathlib import Path

import pycountry

WIDTH = 1000
HEIGHT = 500
DROP = {"010"}  # Antarctica
BY_NAME = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO"}
# Where the app reads it (services/web/worldmap.py), from the project's top level.
OUT = Path(__file__).resolve().parent.parent / "services" / "web" / "data" / "world.json"


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular: the same as services.web.worldmap.project."""
    return (lon + 180.0) * WIDTH / 360.0, (90.0 - lat) * HEIGHT / 180.0


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """The topology's arcs as lists of (lon, lat) in degrees."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = []
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            for dx, dy in arc:
                x += dx
                y += dy
                points.append((x * sx + tx, y * sy + ty))
        else:
            points = [(float(p[0]), float(p[1])) for p in arc]
        arcs.append(points)
    return arcs


def ring_points(ring: list[int], arcs: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """A ring's points from its arc indices; each arc after the first repeats the previous one's end."""
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def clip(points: list[tuple[float, float]], limit: float, keep_below: bool) -> list[tuple[float, float]]:
    """Sutherland-Hodgman against one vertical line: the part of a closed ring with lon <= limit (or >=)."""

    def inside(p: tuple[float, float]) -> bool:
        return p[0] <= limit if keep_below else p[0] >= limit

    out: list[tuple[float, float]] = []
    for i, current in enumerate(points):
        previous = points[i - 1]
        if inside(current):
            if not inside(previous):
                out.append(_crossing(previous, current, limit))
            out.append(current)
        elif inside(previous):
            out.append(_crossing(previous, current, limit))
    return out


def _crossing(a: tuple[float, float], b: tuple[float, float], limit: float) -> tuple[float, float]:
    t = (limit - a[0]) / (b[0] - a[0])
    return limit, a[1] + t * (b[1] - a[1])


def split_antimeridian(points: list[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """The ring as one or more rings inside -180..180 with no jump across the map."""
    if all(abs(b[0] - a[0]) <= 180 for a, b in pairwise(points)):
        return [points]
    unwrapped = [points[0]]
    for lon, lat in points[1:]:
        previous = unwrapped[-1][0]
        while lon - previous > 180:
            lon -= 360
        while lon - previous < -180:
            lon += 360
        unwrapped.append((lon, lat))
    rings = []
    low = min(p[0] for p in unwrapped)
    high = max(p[0] for p in unwrapped)
    # Cut at every multiple of 360 degrees beyond the map's edges and shift each piece home.
    for shift in range(-360 * 2, 360 * 3, 360):
        left, right = -180 + shift, 180 + shift
        if high <= left or low >= right:
            continue
        piece = clip(clip(unwrapped, left, keep_below=False), right, keep_below=True)
        if len(piece) >= 3:
            rings.append([(lon - shift, lat) for lon, lat in piece])
    return rings


def ring_path(points: list[tuple[float, float]]) -> str | None:
    """One ring as ``M x y l dx dy ... z``, in tenths of a unit; None when nothing is left of it."""
    tenths: list[tuple[int, int]] = []
    for lon, lat in points:
        x, y = project(lon, lat)
        p = (round(x * 10), round(y * 10))
        if not tenths or tenths[-1] != p:
            tenths.append(p)
    while len(tenths) > 1 and tenths[0] == tenths[-1]:
        tenths.pop()  # "z" closes the ring
    tenths = _drop_collinear(tenths)
    if len(tenths) < 3:
        return None
    parts = [f"M{_num(tenths[0][0])} {_num(tenths[0][1])}l"]
    steps = []
    for (x0, y0), (x1, y1) in pairwise(tenths):
        dx, dy = _num(x1 - x0), _num(y1 - y0)
        steps.append(f"{dx}{dy}" if dy.startswith("-") else f"{dx} {dy}")
    parts.append(" ".join(steps))
    parts.append("z")
    return "".join(parts)


def _drop_collinear(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    changed = True
    while changed and len(points) > 3:
        changed = False
        out = []
        n = len(points)
        for i, (x, y) in enumerate(points):
            px, py = points[i - 1]
            nx, ny = points[(i + 1) % n]
            if (x - px) * (ny - y) - (y - py) * (nx - x) == 0 and (x - px) * (nx - x) + (y - py) * (ny - y) > 0:
                changed = True
                continue
            out.append((x, y))
        if len(out) < 3:
            break
        points = out
    return points


def _num(tenths: int) -> str:
    """Tenths as the shortest decimal: 12 -> '1.2', -5 -> '-.5', 30 -> '3'."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), 10)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole if whole else ''}.{frac}"


def polygons(geometry: dict) -> list[list[list[int]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["arcs"]]
    if geometry.get("type") == "MultiPolygon":
        return geometry["arcs"]
    return []


def country_key(geometry: dict) -> str | None:
    numeric = geometry.get("id")
    if numeric is None:
        return BY_NAME.get(geometry.get("properties", {}).get("name", ""))
    if numeric in DROP:
        return None
    country = pycountry.countries.get(numeric=numeric)
    if country is None:
        raise SystemExit(f"no ISO 3166-1 country for numeric id {numeric!r}")
    return country.alpha_2


def build(topology: dict) -> dict:
    arcs = decode_arcs(topology)
    paths: dict[str, list[str]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        key = country_key(geometry)
        if key is None:
            continue
        for polygon in polygons(geometry):
            for ring in polygon:
                for piece in split_antimeridian(ring_points(ring, arcs)):
                    d = ring_path(piece)
                    if d:
                        paths.setdefault(key, []).append(d)
    return {
        "viewbox": [0, 0, WIDTH, HEIGHT],
        "projection": "equirectangular",
        "source": "Natural Earth 1:110m Admin 0 countries 4.1.0 (public domain), via world-atlas 2.0.2 (ISC)",
        "countries": {key: "".join(paths[key]) for key in sorted(paths)},
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {Path(sys.argv[0]).name} countries-110m.json", file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    world = build(topology)
    OUT.write_text(json.dumps(world, separators=(",", ":"), ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(world['countries'])} countries, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
