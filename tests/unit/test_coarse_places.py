"""Coarse until disclosed: the public's point for an event whose address is hidden is about a
kilometre off, never the place, the same every time, and drawn as an approximate place."""
import random

from services.events.places import coarse_point, metres_between
from services.web.worldmap import render_map

SECRET = bytes(range(32))


def random_places(n: int, seed: int = 13):
    chance = random.Random(seed)
    places = [(chance.uniform(-85, 85), chance.uniform(-180, 180)) for _ in range(n)]
    return places + [(-1.2921, 36.8219), (0.0, 0.0), (59.9139, 10.7522), (-33.8688, 151.2093),
                     (64.1466, -21.9426), (0.004, 179.999), (0.004, -179.999), (89.99, 12.0), (-89.99, -12.0)]


def test_the_coarse_point_is_within_a_kilometre_and_a_half_and_never_the_place():
    for number, (lat, lon) in enumerate(random_places(2000)):
        coarse = coarse_point(lat, lon, f"event-{number}", SECRET)
        away = metres_between(*coarse, lat, lon)
        assert 150 <= away <= 1500, (lat, lon, coarse, away)
        assert coarse != (lat, lon) and -90 <= coarse[0] <= 90 and -180 <= coarse[1] <= 180


def test_the_coarse_point_is_the_same_every_time_and_says_nothing_finer_than_its_cell():
    lat, lon = -1.2921, 36.8219
    first = coarse_point(lat, lon, "e1", SECRET)
    assert all(coarse_point(lat, lon, "e1", SECRET) == first for _ in range(100))
    # Moved a few metres within its cell, the event keeps its point: the fine digits do not show.
    assert coarse_point(-1.2925, 36.8213, "e1", SECRET) == first
    # Another event, or another server's secret, has another offset.
    assert coarse_point(lat, lon, "e2", SECRET) != first
    assert coarse_point(lat, lon, "e1", bytes(32)) != first


def test_events_in_one_place_are_spread_over_its_cell():
    """Averaging many events' points at one place does not find it: their offsets are the
    secret's, spread over the cell, not centred on the place."""
    lat, lon = 52.5200, 13.4050
    points = [coarse_point(lat, lon, f"event-{n}", SECRET) for n in range(400)]
    assert len(set(points)) > 80  # about a hundred places, a hundred metres apart, in the cell
    mean = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    assert metres_between(*mean, lat, lon) > 300  # the mean is the cell's middle, not the place


def test_the_map_draws_an_approximate_place_as_a_larger_circle_in_the_readers_words():
    words = {"approximate_place": "Ungefährer Ort (auf etwa 1 km genau)"}
    svg = render_map([{"latitude": -1.28, "longitude": 36.82, "title": "Kundgebung", "city": "Nairobi",
                       "country": "KE", "url": "/events/1", "approximate": True},
                      {"latitude": 52.52, "longitude": 13.40, "title": "Demo", "city": "Berlin", "country": "DE",
                       "url": "/events/2"}],
                     {"KE": 1, "DE": 1}, title="Tag", lang="de", words=lambda key, **kw: words.get(key, key))
    assert svg.count('class="worldmap-point worldmap-approximate"') == 1
    assert "<title>Kundgebung — Nairobi — Ungefährer Ort (auf etwa 1 km genau)</title>" in svg
    assert svg.count('class="worldmap-point"') == 1 and 'r="9"' in svg and 'r="6"' in svg
