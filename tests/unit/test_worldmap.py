"""The offline world map: the shipped outlines, the projection and the SVG that render_map writes."""

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pycountry
import pytest

from services.web import worldmap
from services.web.worldmap import BINS, LAND, project, render_map

SVG = "{http://www.w3.org/2000/svg}"
DATA = Path(worldmap.__file__).with_name("data")
SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"  # the build script of data/world.json
WORLD = json.loads((DATA / "world.json").read_text(encoding="utf-8"))
TOKEN = re.compile(r"[MmLlZz]|-?(?:\d+(?:\.\d*)?|\.\d+)")


def subpaths(d: str) -> list[list[tuple[float, float]]]:
    """The absolute points of each closed subpath of a path made of M/m, L/l and Z/z."""
    assert re.fullmatch(r"(?:[MmLlZz]|-?(?:\d+(?:\.\d*)?|\.\d+)|[\s,])+", d), d[:80]
    out: list[list[tuple[float, float]]] = []
    command, numbers, x, y = None, [], 0.0, 0.0
    current: list[tuple[float, float]] = []
    for token in TOKEN.findall(d) + ["Z"]:
        if token in "MmLlZz":
            assert not numbers, "a coordinate without its pair"
            if token in "Zz":
                if current:
                    current.append(current[0])  # the closing edge
                    out.append(current)
                current = []
            command = token
            continue
        numbers.append(float(token))
        if len(numbers) == 2:
            dx, dy = numbers
            numbers = []
            if command in "ML":
                x, y = dx, dy
            else:
                x, y = round(x + dx, 1), round(y + dy, 1)  # the data is in tenths
            if command in "Mm":
                assert not current, "a subpath opened before the last was closed"
                command = "l" if command == "m" else "L"
            current.append((x, y))
    return out


def render(points=(), counts=None, **kwargs) -> tuple[str, ET.Element]:
    svg = render_map(list(points), counts or {}, title=kwargs.pop("title", "Events"), **kwargs)
    return svg, ET.fromstring(svg)


def country_path(root: ET.Element, code: str) -> ET.Element:
    found = [p for p in root.iter(f"{SVG}path") if p.get("data-country") == code]
    assert len(found) == 1
    return found[0]


def circles(root: ET.Element) -> list[ET.Element]:
    """The drawn points and clusters (not the larger, transparent areas a finger may touch)."""
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "worldmap-points")
    return [c for c in group.iter(f"{SVG}circle") if c.get("class") in ("worldmap-point", "worldmap-cluster")]


# --- the shipped data ---------------------------------------------------------------------------------------------

def test_world_file_is_small_and_keyed_by_alpha_2():
    assert (DATA / "world.json").stat().st_size < 250_000
    assert WORLD["viewbox"] == [0, 0, 1000, 500]
    assert "AQ" not in WORLD["countries"]  # Antarctica is left out
    for code in WORLD["countries"]:
        assert code == "XK" or pycountry.countries.get(alpha_2=code) is not None, code


def test_every_country_has_a_valid_path_inside_the_map():
    assert len(WORLD["countries"]) > 150
    for code, d in WORLD["countries"].items():
        rings = subpaths(d)
        assert rings, code
        for ring in rings:
            assert len(ring) >= 4, code  # three corners at least, and the closing point
            for x, y in ring:
                assert 0 <= x <= 1000 and 0 <= y <= 500, (code, x, y)


@pytest.mark.parametrize("code", ["DE", "KE", "IR", "CO", "IN", "JP", "BR", "US", "AU", "NZ", "RU", "FJ", "XK"])
def test_the_countries_we_expect_are_there(code):
    assert code in WORLD["countries"]


def test_no_segment_crosses_the_map():
    """Russia and Fiji cross the antimeridian: split, not joined by a line across the world."""
    for code, d in WORLD["countries"].items():
        for ring in subpaths(d):
            for (x0, _y0), (x1, _y1) in zip(ring, ring[1:], strict=False):
                assert abs(x1 - x0) <= 500, code


@pytest.mark.parametrize("code", ["RU", "FJ"])
def test_countries_across_the_antimeridian_touch_both_edges(code):
    xs = [x for ring in subpaths(WORLD["countries"][code]) for x, _y in ring]
    assert min(xs) == 0 and max(xs) == 1000


def test_the_outlines_are_where_the_countries_are():
    def bbox(code):
        points = [p for ring in subpaths(WORLD["countries"][code]) for p in ring]
        return min(x for x, _ in points), min(y for _, y in points), max(x for x, _ in points), max(y for _, y in points)

    for code, lon, lat in [("DE", 10.0, 51.0), ("KE", 37.9, 0.0), ("BR", -51.9, -14.2), ("AU", 134.0, -25.0),
                           ("JP", 138.3, 36.2), ("CO", -74.3, 4.6)]:
        x, y = project(lon, lat)
        x0, y0, x1, y1 = bbox(code)
        assert x0 <= x <= x1 and y0 <= y <= y1, code


# --- the projection -----------------------------------------------------------------------------------------------

def test_the_origin_projects_to_the_centre():
    assert project(0, 0) == (500.0, 250.0)
    assert project(-180, 90) == (0.0, 0.0)
    assert project(180, -90) == (1000.0, 500.0)


def test_kiritimati_is_at_the_far_west_not_wrapped():
    x, y = project(-157.4, 1.9)
    assert x == pytest.approx(62.78, abs=0.01)
    assert y == pytest.approx(244.72, abs=0.01)
    _svg, root = render([{"title": "Kiritimati", "city": "London", "latitude": 1.9, "longitude": -157.4}])
    (circle,) = circles(root)
    assert (circle.get("cx"), circle.get("cy")) == ("62.8", "244.7")


# --- the SVG ------------------------------------------------------------------------------------------------------

def test_the_svg_is_accessible():
    _svg, root = render(title="Events of the day of action")
    # A group, not an image: its points are links (an image may hold nothing interactive).
    assert root.tag == f"{SVG}svg" and root.get("role") == "group"
    ids = {e.get("id"): e for e in root.iter() if e.get("id")}
    labels = root.get("aria-labelledby").split()
    assert labels and all(label in ids for label in labels)
    assert ids[labels[0]].tag == f"{SVG}title" and ids[labels[0]].text == "Events of the day of action"


def test_counts_shade_the_countries_and_title_them():
    _svg, root = render(counts={"DE": 3, "ke": 1, "BR": 250, "IR": 0, "ZZ": 4})
    germany, kenya, brazil, iran = (country_path(root, c) for c in ("DE", "KE", "BR", "IR"))
    assert germany.get("fill") == BINS[0][1] and "worldmap-c1" in germany.get("class")
    assert brazil.get("fill") == BINS[-1][1]
    assert iran.get("fill") == LAND
    assert germany.find(f"{SVG}title").text == "Germany: 3 events"
    assert kenya.find(f"{SVG}title").text == "Kenya: 1 event"
    assert iran.find(f"{SVG}title").text == "Iran: no events"
    desc = root.find(f"{SVG}desc").text
    assert desc.startswith("258 events in 4 countries.") and "Brazil: 250" in desc


def test_the_shading_steps():
    _svg, root = render(counts={"DE": 4, "FR": 5, "IT": 19, "ES": 20, "PL": 99, "CZ": 100})
    fills = {c: country_path(root, c).get("fill") for c in ("DE", "FR", "IT", "ES", "PL", "CZ")}
    assert fills == {"DE": BINS[0][1], "FR": BINS[1][1], "IT": BINS[1][1], "ES": BINS[2][1], "PL": BINS[2][1],
                     "CZ": BINS[3][1]}


def test_user_text_is_escaped():
    evil = "<script>alert(1)</script>"
    quoty = '"&<>'
    svg, root = render([{"title": evil, "city": quoty, "latitude": 52.5, "longitude": 13.4},
                        {"title": "bad \x00\x1b char", "city": quoty, "latitude": 1, "longitude": 1}],
                       title=f"Map {quoty}")
    assert "<script" not in svg and not list(root.iter(f"{SVG}script"))
    titles = sorted(c.find(f"{SVG}title").text for c in circles(root))
    assert titles == [f"{evil} — {quoty}", f"bad  char — {quoty}"]
    assert root.find(f"{SVG}title").text == f"Map {quoty}"


def test_points_without_coordinates_are_skipped():
    _svg, root = render([{"title": "no place", "city": "x"},
                         {"title": "none", "city": "x", "latitude": None, "longitude": None},
                         {"title": "half", "city": "x", "latitude": 1.0},
                         {"title": "nonsense", "city": "x", "latitude": "north", "longitude": 2},
                         {"title": "off the map", "city": "x", "latitude": 91, "longitude": 2},
                         {"title": "nan", "city": "x", "latitude": float("nan"), "longitude": 2},
                         {"title": {"de": "Demo", "en": "Rally"}, "city": "Nairobi", "lat": -1.29, "lon": 36.82}])
    (circle,) = circles(root)
    assert circle.find(f"{SVG}title").text == "Rally — Nairobi"


def test_nothing_external():
    points = [{"title": "a", "city": "b", "latitude": 10, "longitude": 20, "url": "/events/1"},
              {"title": "c", "city": "d", "latitude": 30, "longitude": 40, "url": "https://example.org/"},
              {"title": "e", "city": "f", "latitude": 50, "longitude": 60, "url": "//example.org/"},
              {"title": "g", "city": "h", "latitude": 70, "longitude": 80, "url": "javascript:alert(1)"}]
    svg, root = render(points, {"DE": 2})
    assert re.findall(r"https?:", svg) == ["http:"]
    assert "http://www.w3.org/2000/svg" in svg
    assert "javascript" not in svg and "//example" not in svg
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ["/events/1"]
    for tag in ("script", "style", "image", "foreignObject", "use"):
        assert not list(root.iter(f"{SVG}{tag}")), tag
    assert len(circles(root)) == 4


def test_the_output_is_deterministic():
    points = [{"title": f"event {i}", "city": "c", "latitude": (i * 37) % 80, "longitude": (i * 53) % 300 - 150}
              for i in range(20)]
    counts = {"DE": 3, "KE": 2, "US": 9}
    first = render_map(points, counts, title="t")
    again = render_map(list(reversed(points)), dict(reversed(list(counts.items()))), title="t")
    assert first == again
    xs = [(float(c.get("cx")), float(c.get("cy"))) for c in circles(ET.fromstring(first))]
    assert xs == sorted(xs)


def test_highlight_draws_the_country_last_with_an_outline():
    _svg, root = render(counts={"KE": 2}, highlight="ke")
    paths = [p for p in root.iter(f"{SVG}path")]
    assert paths[-1].get("data-country") == "KE"
    assert "worldmap-highlight" in paths[-1].get("class") and paths[-1].get("stroke")


def test_language():
    _svg, root = render(counts={"DE": 2}, lang="de")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "de"
    assert country_path(root, "DE").find(f"{SVG}title").text.startswith("Deutschland: ")


# --- the converter ------------------------------------------------------------------------------------------------

def _make_world():
    spec = importlib.util.spec_from_file_location("make_world", SCRIPTS / "make_world.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_converter_decodes_topojson_and_splits_at_the_antimeridian():
    make_world = _make_world()
    # One degree per quantum, from (-180, -90). Arc 0 runs 175..185 E along 10 S (crossing 180 as -175),
    # arc 1 comes back along 20 S; the ring uses arc 1 reversed (~1) to check the sign convention.
    topology = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [-180, -90]},
        "arcs": [[[355, 80], [5, 0], [-355, 0], [5, 0]],  # 175 E, 180, -175 (wrapped), -170
                 [[355, 80], [0, -10], [-345, 0], [0, 10]]],  # 175 E 10 S, 175 E 20 S, -170 20 S, -170 10 S
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0, ~1]], "id": "242", "properties": {"name": "Fiji"}},
            {"type": "Polygon", "arcs": [[0, ~1]], "id": "010", "properties": {"name": "Antarctica"}},
            {"type": "Polygon", "arcs": [[0, ~1]], "properties": {"name": "Kosovo"}},
        ]}},
    }
    arcs = make_world.decode_arcs(topology)
    assert arcs[0] == [(175, -10), (180, -10), (-175, -10), (-170, -10)]
    world = make_world.build(topology)
    assert world["viewbox"] == [0, 0, 1000, 500]
    assert sorted(world["countries"]) == ["FJ", "XK"]
    rings = subpaths(world["countries"]["FJ"])
    assert len(rings) == 2
    for ring in rings:
        for (x0, _y0), (x1, _y1) in zip(ring, ring[1:], strict=False):
            assert abs(x1 - x0) <= 500
    edges = sorted((min(x for x, _ in r), max(x for x, _ in r)) for r in rings)
    assert edges[0][0] == 0 and edges[1][1] == 1000


def test_points_on_the_same_spot_are_one_circle_that_says_how_many():
    nairobi = [{"title": f"Rally {i}", "city": "Nairobi", "latitude": -1.29 + i * 0.001, "longitude": 36.82,
                "url": f"/events/{i}"} for i in range(30)]
    berlin = {"title": "Kundgebung", "city": "Berlin", "latitude": 52.52, "longitude": 13.4, "url": "/events/b"}
    svg, root = render([*nairobi, berlin])
    drawn = circles(root)
    assert len(drawn) == 2
    cluster = next(c for c in drawn if c.get("class") == "worldmap-cluster")
    title = cluster.find(f"{SVG}title").text
    assert title.startswith("30 events here: Rally ") and title.count("— Nairobi") == 5 and title.endswith("; …")
    assert float(cluster.get("r")) > 2.5
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ["/events/b"]  # one event, one link


def test_a_cluster_links_to_the_list_of_its_events_and_says_how_many():
    nairobi = [{"title": f"Rally {i}", "city": "Nairobi", "country": "KE", "latitude": -1.29, "longitude": 36.82,
                "url": f"/events/{i}"} for i in range(3)]
    mombasa = {"title": "Rally", "city": "Mombasa", "country": "KE", "latitude": -4.05, "longitude": 39.67,
               "url": "/events/m"}
    _svg, root = render([*nairobi, mombasa], cluster_link=lambda country, city: f"/list?country={country}&city={city}")
    links = {a.get("href"): a for a in root.iter(f"{SVG}a")}
    # Nairobi and Mombasa are a fingertip apart on the whole world: one circle, the country's list.
    assert list(links) == ["/list?country=KE&city=None"]
    assert links["/list?country=KE&city=None"].get("aria-label").startswith("4 events here: ")
    assert [t.text for t in root.iter(f"{SVG}text")] == ["4"]
    # Out of the Tab order: the list beside the map holds the same links, one Tab each.
    assert all(a.get("tabindex") == "-1" for a in root.iter(f"{SVG}a"))


def test_focus_zooms_to_a_country_and_its_points_stay_a_finger_wide():
    kenya = [{"title": "Rally", "city": "Nairobi", "country": "KE", "latitude": -1.29, "longitude": 36.82, "url": "/e/1"},
             {"title": "Rally", "city": "Mombasa", "country": "KE", "latitude": -4.05, "longitude": 39.67, "url": "/e/2"},
             {"title": "Demo", "city": "Berlin", "country": "DE", "latitude": 52.5, "longitude": 13.4, "url": "/e/3"}]
    _svg, world = render(kenya)
    _svg, zoomed = render(kenya, focus="ke")
    x, y, width, height = (float(v) for v in zoomed.get("viewBox").split())
    assert width < 100 and height == pytest.approx(width / 2, abs=0.2)
    nairobi_x, _ = project(36.82, -1.29)
    assert x < nairobi_x < x + width
    # Zoomed, Nairobi and Mombasa are two points, each its own link; their size keeps its share of the view.
    assert sorted(a.get("href") for a in zoomed.iter(f"{SVG}a")) == ["/e/1", "/e/2", "/e/3"]
    radius = {float(c.get("r")) / float(root.get("viewBox").split()[2])
              for root in (world, zoomed) for c in circles(root) if c.get("class") == "worldmap-point"}
    assert max(radius) == pytest.approx(min(radius), rel=0.02)
    hit = [c for c in zoomed.iter(f"{SVG}circle") if c.get("class") == "worldmap-hit"]
    assert hit and all(float(c.get("r")) > 2 * float(circles(zoomed)[0].get("r")) for c in hit)
