"""Coarse until disclosed, over HTTP on SQLite and PostgreSQL: while an event's address is hidden,
every public output — the event, the list, the campaign's overview, the GeoJSON map and the
iCalendar feed's GEO — gives the same point about a kilometre off, never the place; once the
address is public, and always to its owner and coordinators, the exact one."""
from __future__ import annotations

import json
import random
import subprocess
import sys

from icalendar import Calendar

from services.events.places import metres_between
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, event

DAY_2030 = {"name": "Day", "description": "…", "languages": ["en"], "day_of_action": "2030-12-01",
            "window_start": "2030-11-25", "window_end": "2030-12-10", "status": "open"}
WHEN = {"start": "2030-12-01T17:00:00", "end": "2030-12-01T19:00:00"}
HIDDEN = ({"address_public": "never"}, {"address_public": "before", "address_public_hours": 2})  # hours before 2030


def places(n: int) -> list[tuple[float, float]]:
    chance = random.Random(2022)
    return [(round(chance.uniform(-60, 70), 5), round(chance.uniform(-179, 179), 5)) for _ in range(n)]


def public_points(api, campaign_id: str) -> dict[str, dict[str, tuple]]:
    """Every public output's coordinates of each event, by output and event id (latitude, longitude)."""
    listed = api.get(f"{EVENTS}?campaign_id={campaign_id}&limit=100").json["items"]
    overview = api.get(f"{CAMPAIGNS}/{campaign_id}/overview").json["events"]
    features = api.get(f"{EVENTS}/map.geojson?campaign_id={campaign_id}").json["features"]
    feed = Calendar.from_ical(api.get(f"{CAMPAIGNS}/{campaign_id}/events.ics").data)
    return {
        "event": {e["id"]: _pair(api.get(f"{EVENTS}/{e['id']}").json) for e in listed},
        "list": {e["id"]: _pair(e) for e in listed},
        "overview": {e["id"]: _pair(e) for e in overview},
        "geojson": {f["id"]: tuple(reversed(f["geometry"]["coordinates"])) for f in features},
        "ical": {str(v["uid"]).split("@")[0]: (v["geo"].latitude, v["geo"].longitude)
                 for v in feed.walk("VEVENT") if "geo" in v},
    }


def _pair(item: dict) -> tuple:
    return item["latitude"], item["longitude"]


def test_every_public_output_gives_one_coarse_point_until_the_address_is_public(api, coordinator, setting):
    later = api.post(CAMPAIGNS, token=coordinator, json=DAY_2030).json  # its places are not public yet
    target = {**setting, "campaign": later}
    exact = {}
    for number, (lat, lon) in enumerate(places(8)):
        made = approved(api, coordinator, target, latitude=lat, longitude=lon, **WHEN, **HIDDEN[number % 2])
        exact[made["id"]] = (lat, lon)
    public = approved(api, coordinator, target, latitude=48.85661, longitude=2.35222, address_public="now", **WHEN)

    seen = public_points(api, later["id"])
    assert public_points(api, later["id"]) == seen  # asked again: the same points
    for output, points in seen.items():
        assert points[public["id"]] == (48.85661, 2.35222), output  # its address is public: exact
        for event_id, place in exact.items():
            coarse = points[event_id]
            assert coarse == seen["event"][event_id], output  # one point in every output
            assert coarse != place and 100 <= metres_between(*coarse, *place) <= 1500, (output, place, coarse)

    owner, other = setting["tokens"]
    for event_id, place in exact.items():
        for token in (owner, coordinator):  # its owner and coordinators see the place
            mine = api.get(f"{EVENTS}/{event_id}", token=token).json
            assert (_pair(mine), mine["place_approximate"]) == (place, False)
        theirs = api.get(f"{EVENTS}/{event_id}", token=other).json
        assert theirs["place_approximate"] and _pair(theirs) == seen["event"][event_id]


def test_the_coarse_point_is_the_same_in_another_process(make_platform, tmp_path):
    api = ApiClient(make_platform())  # on SQLite, whose files another process opens too
    coordinator = api.coordinator_token()
    api.platform.start_workers()
    org = api.register(coordinator)
    _, token = api.organisation_token(coordinator, org["id"])
    campaign = api.post(CAMPAIGNS, token=coordinator, json=DAY_2030).json

    def submitted():
        answer = api.post(f"{CAMPAIGNS}/{campaign['id']}/events", token=token, json=event(
            **WHEN, latitude=-1.2921, longitude=36.8219, address_public="never"))
        return answer.json if answer.status_code == 201 else None

    made = wait_until(submitted, message="events to know the organisation")
    assert api.post(f"{EVENTS}/{made['id']}/approval", token=coordinator).status_code == 200
    here = _pair(api.get(f"{EVENTS}/{made['id']}").json)
    program = (
        "import json\n"
        "from werkzeug.test import Client\n"
        "from services.platform import EmbeddedPlatform\n"
        "from shared.config import Config\n"
        f"platform = EmbeddedPlatform(Config(environ={{}}, DOA_VAR_DIR={str(tmp_path / 'var')!r}, LOG_LEVEL='ERROR'))\n"
        f"print(json.dumps(Client(platform.wsgi).get('{EVENTS}/{made['id']}').get_json()))\n"
        "platform.stop()\n")
    ran = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=True)
    there = json.loads(ran.stdout.strip().splitlines()[-1])
    assert there["place_approximate"] and _pair(there) == here != (-1.2921, 36.8219)
