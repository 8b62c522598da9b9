"""What the public finds: the follow-the-sun timeline, statistics, the map and calendars."""
from __future__ import annotations

from icalendar import Calendar

from services.events.schemas import StatisticsOut
from tests.integration.test_local_events_api import EVENTS, accepted_change, submit

ZONES = [  # (country, city, zone, local start on the day): from where the day begins to where it ends
    ("KI", "Tarawa", "Pacific/Kiritimati", "2022-12-01T09:00:00"),
    ("NP", "Kathmandu", "Asia/Kathmandu", "2022-12-01T11:00:00"),
    ("IR", "Tehran", "Asia/Tehran", "2022-12-01T16:00:00"),
    ("CA", "St. John's", "America/St_Johns", "2022-12-01T12:00:00"),
    ("AS", "Pago Pago", "Pacific/Pago_Pago", "2022-12-01T18:00:00"),
]


def approved(api, coordinator, setting, **overrides):
    created = submit(api, setting, **overrides).json
    assert api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator).status_code == 200
    return created


def spread_over_the_day(api, coordinator, setting):
    made = []
    for country, city, zone, start in ZONES:
        made.append(approved(api, coordinator, setting, country=country, city=city, timezone=zone, start=start,
                             end=start[:11] + "23:00:00", expected_participants=100, address_public="now"))
    return made


def test_the_timeline_follows_the_sun_with_local_times(api, coordinator, setting):
    spread_over_the_day(api, coordinator, setting)
    submit(api, setting, visibility="coordinators")  # never on a public timeline
    day_before = approved(api, coordinator, setting, start="2022-11-30T20:00:00", end="2022-11-30T21:00:00")
    campaign = setting["campaign"]["id"]
    page = api.get(f"/api/events/campaigns/{campaign}/timeline?limit=3").json
    rest = api.get(page["next"]).json
    items = page["items"] + rest["items"]
    assert [i["timezone"] for i in items] == [z for _, _, z, _ in ZONES]
    assert [i["utc_offset"] for i in items] == ["+14:00", "+05:45", "+03:30", "-03:30", "-11:00"]
    assert items[0]["start"] == "2022-12-01T09:00:00" and items[0]["starts_at"] == "2022-11-30T19:00:00+00:00"
    assert day_before["id"] not in [i["id"] for i in items]


def test_statistics_count_what_each_reader_may_see(api, coordinator, setting):
    spread_over_the_day(api, coordinator, setting)
    hidden = approved(api, coordinator, setting, visibility="coordinators", expected_participants=40)
    stats = api.get(f"/api/events/campaigns/{setting['campaign']['id']}/statistics").json
    assert stats["total"] == {"events": 5, "expected_participants": 500}
    assert {c["key"] for c in stats["countries"]} == {"KI", "NP", "IR", "CA", "AS"}
    assert stats["organisations"][0]["abbreviation"] == "CPK"
    full = api.get(f"/api/events/campaigns/{setting['campaign']['id']}/statistics", token=coordinator).json
    assert full["total"]["events"] == 6 and hidden["country"] == "KE"
    assert StatisticsOut().dump(full) == full  # what the OpenAPI document promises


def _recounted(api, campaign_id: str) -> dict:
    """The tallies counted afresh from the events, to hold the running ones against."""
    from sqlalchemy import select

    from services.events import tallies
    from services.events.models import EventTally

    def rows(session):
        return {tuple(getattr(t, k) for k in (*tallies.KEY, "events", "expected_participants"))
                for t in session.execute(select(EventTally).where(EventTally.campaign_id == campaign_id,
                                                                  EventTally.events != 0)).scalars()}

    db = api.platform.kernels["events"].db
    with db.transaction() as session:
        running = rows(session)
        tallies.rebuild(session.connection(), campaign_id)
        recounted = rows(session)
        session.rollback()
    return {"running": running, "recounted": recounted}


def test_statistics_follow_every_approval_change_cancellation_and_hold(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    stats_path = f"/api/events/campaigns/{campaign}/statistics"
    kenyan = approved(api, coordinator, setting, expected_participants=100)
    approved(api, coordinator, setting, country="NP", city="Kathmandu", timezone="Asia/Kathmandu",
             expected_participants=30)
    submit(api, setting, expected_participants=1000)  # waiting for a decision: not counted
    assert api.get(stats_path).json["total"] == {"events": 2, "expected_participants": 130}

    # The owner's new figure counts once a coordinator accepts it, not before.
    api.patch(f"{EVENTS}/{kenyan['id']}", token=setting["tokens"][0], json={"expected_participants": 250})
    assert api.get(stats_path).json["total"] == {"events": 2, "expected_participants": 130}
    accepted_change(api, coordinator, setting["tokens"][0], kenyan["id"], {"expected_participants": 250})
    assert api.get(stats_path).json["total"] == {"events": 2, "expected_participants": 280}

    assert api.put("/api/events/countries/NP/hold", token=coordinator, json={"reason": "raids"}).status_code == 200
    assert [c["key"] for c in api.get(stats_path).json["countries"]] == ["KE"]
    assert [c["key"] for c in api.get(stats_path, token=coordinator).json["countries"]] == ["KE", "NP"]
    api.delete("/api/events/countries/NP/hold", token=coordinator)

    api.post(f"{EVENTS}/{kenyan['id']}/cancellation", token=setting["tokens"][0])
    stats = api.get(stats_path).json
    assert stats["total"] == {"events": 1, "expected_participants": 30}
    assert [a["key"] for a in stats["activity_types"]] == ["rally"] and len(stats["organisations"]) == 1
    counts = _recounted(api, campaign)
    assert counts["running"] == counts["recounted"]


def test_the_map_shows_exactly_only_places_their_owners_made_public(api, coordinator, setting):
    public_place = approved(api, coordinator, setting, address_public="now")
    hidden = approved(api, coordinator, setting, address_public="never")
    approved(api, coordinator, setting, address_public="before", address_public_hours=2)  # in 2022: long past
    response = api.get(f"{EVENTS}/map.geojson?campaign_id={setting['campaign']['id']}")
    assert response.headers["Content-Type"].startswith("application/geo+json")
    features = {f["id"]: f for f in response.json["features"]}
    assert len(features) == 3 and features[public_place["id"]]["properties"]["approximate"] is False
    assert features[public_place["id"]]["geometry"] == {"type": "Point", "coordinates": [36.82, -1.29]}
    coarse = features[hidden["id"]]
    assert coarse["properties"]["approximate"] is True and coarse["geometry"]["coordinates"] != [36.82, -1.29]


def test_calendar_feeds_keep_local_times_with_their_zones(api, coordinator, setting):
    made = spread_over_the_day(api, coordinator, setting)
    cancelled = approved(api, coordinator, setting, address_public="never")
    api.post(f"{EVENTS}/{cancelled['id']}/cancellation", token=setting["tokens"][0])
    submit(api, setting)  # not approved: not in any feed
    response = api.get(f"/api/events/campaigns/{setting['campaign']['id']}/events.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    zones = {str(z["TZID"]) for z in calendar.walk("VTIMEZONE")}
    assert {"Pacific/Kiritimati", "Asia/Kathmandu", "Africa/Nairobi"} <= zones
    vevents = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(vevents) == 6
    tarawa = vevents[f"{made[0]['id']}@dayofaction"]
    assert tarawa["DTSTART"].params["TZID"] == "Pacific/Kiritimati"
    assert tarawa.decoded("DTSTART").isoformat() == "2022-12-01T09:00:00+14:00"
    gone = vevents[f"{cancelled['id']}@dayofaction"]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 1
    assert "Uhuru" not in str(gone["LOCATION"])  # its address was never made public
    one = Calendar.from_ical(api.get(f"{EVENTS}/{made[1]['id']}.ics").data)
    assert [str(e["SUMMARY"]) for e in one.walk("VEVENT")] == ["Rally for solidarity"]
    by_country = Calendar.from_ical(api.get("/api/events/countries/np/events.ics").data)
    assert len(by_country.walk("VEVENT")) == 1
    organisation = api.get(f"/api/events/organisations/{setting['orgs'][0]['id']}/events.ics")
    assert len(Calendar.from_ical(organisation.data).walk("VEVENT")) == 6
