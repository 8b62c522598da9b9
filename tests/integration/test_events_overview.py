"""A campaign's overview: its public page's campaign, signatories and every public event in
one answer, the same as the separate endpoints give them. SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import event as sqlalchemy_event

from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS
from tests.integration.test_finding_events import approved, spread_over_the_day
from tests.integration.test_local_events_api import EVENTS, submit

COMPACT = {"id", "title", "language", "city", "country", "timezone", "start", "end", "starts_at", "ends_at",
           "utc_offset", "activity_type", "languages", "status", "longitude", "latitude", "approximate"}
SAME_AS_THE_LIST = ("title", "language", "city", "country", "timezone", "start", "end", "starts_at", "ends_at",
                    "activity_type", "languages", "status")


def overview(api, campaign_id: str, **kwargs):
    return api.get(f"{CAMPAIGNS}/{campaign_id}/overview", **kwargs)


def public_list(api, campaign_id: str, limit: int = 2, query: str = "", **kwargs) -> list[dict]:
    """Every event of the campaign the public list gives, page after page."""
    page = api.get(f"{EVENTS}?campaign_id={campaign_id}&limit={limit}{query}", **kwargs)
    assert page.status_code == 200, page.json
    items = page.json["items"]
    while page.json["next"]:
        page = api.get(page.json["next"], **kwargs)
        items += page.json["items"]
    return items


def test_the_overview_has_every_event_of_the_public_list_in_its_order(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    spread_over_the_day(api, coordinator, setting)
    twins = [approved(api, coordinator, setting, start="2022-12-02T10:00:00", end="2022-12-02T11:00:00")
             for _ in range(2)]  # the same start: the id decides, as in the list
    cancelled = approved(api, coordinator, setting, city="Mombasa", start="2022-12-03T10:00:00",
                         end="2022-12-03T12:00:00")
    assert api.post(f"{EVENTS}/{cancelled['id']}/cancellation", token=setting["tokens"][0]).status_code == 200
    waiting = submit(api, setting).json
    rejected = submit(api, setting).json
    api.post(f"{EVENTS}/{rejected['id']}/rejection", token=coordinator, json={"reason": "duplicate"})
    coordinators_only = approved(api, coordinator, setting, visibility="coordinators")
    other_campaign = api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, "name": "Another"}).json
    elsewhere = approved(api, coordinator, {**setting, "campaign": other_campaign})

    listed = public_list(api, campaign)
    response = overview(api, campaign)
    assert response.status_code == 200 and response.mimetype == "application/json"
    events = response.json["events"]
    assert [e["id"] for e in events] == [e["id"] for e in listed]
    assert len(events) == 8 and sorted(t["id"] for t in twins) == [e["id"] for e in events[5:7]]
    assert events[-1]["id"] == cancelled["id"] and events[-1]["status"] == "cancelled"
    ids = {e["id"] for e in events}
    assert not ids & {waiting["id"], rejected["id"], coordinators_only["id"], elsewhere["id"]}
    for compact, item in zip(events, listed, strict=True):
        assert set(compact) == COMPACT
        assert {k: compact[k] for k in SAME_AS_THE_LIST} == {k: item[k] for k in SAME_AS_THE_LIST}

    # A token changes nothing: coordinators and owners get the public's overview too.
    assert overview(api, campaign, token=coordinator).json == response.json
    assert overview(api, campaign, token=setting["tokens"][0]).json == response.json


def test_a_country_on_hold_leaves_the_overview_with_the_list(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    made = spread_over_the_day(api, coordinator, setting)
    nepal = [e["id"] for e in made if e["country"] == "NP"]
    assert nepal and nepal[0] in [e["id"] for e in overview(api, campaign).json["events"]]

    assert api.put("/api/events/countries/NP/hold", token=coordinator, json={"reason": "raids"}).status_code == 200
    held = [e["id"] for e in overview(api, campaign).json["events"]]
    assert held == [e["id"] for e in public_list(api, campaign)]
    assert len(held) == 4 and nepal[0] not in held
    assert nepal[0] not in [e["id"] for e in overview(api, campaign, token=coordinator).json["events"]]

    assert api.delete("/api/events/countries/NP/hold", token=coordinator).status_code == 204
    assert nepal[0] in [e["id"] for e in overview(api, campaign).json["events"]]


def test_the_campaign_and_signatories_are_what_their_own_endpoints_give(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    for token in setting["tokens"]:
        assert api.post(f"{CAMPAIGNS}/{campaign}/endorsements", token=token, json={}).status_code == 201
    body = overview(api, campaign).json
    assert set(body) == {"campaign", "signatories", "events"}
    assert body["campaign"] == api.get(f"{CAMPAIGNS}/{campaign}").json
    assert body["campaign"]["endorsements"] == 2
    assert body["signatories"] == api.get(f"{CAMPAIGNS}/{campaign}/signatories").json
    assert len(body["signatories"]["initial"] + body["signatories"]["subsequent"]) == 2
    assert body["events"] == []


def test_titles_are_in_the_language_the_list_would_choose(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    made = approved(api, coordinator, setting)  # titles in en (its first language) and sw
    for kwargs, expected in (({}, "Rally for solidarity"),
                             ({"query": "&lang=sw"}, "Mkutano wa mshikamano"),
                             ({"headers": {"Accept-Language": "sw, en;q=0.5"}}, "Mkutano wa mshikamano"),
                             ({"query": "&lang=en", "headers": {"Accept-Language": "sw"}}, "Rally for solidarity"),
                             ({"query": "&lang=fa"}, "Rally for solidarity")):  # no Persian: the first language
        query = kwargs.get("query", "")
        headers = kwargs.get("headers", {})
        [compact] = api.get(f"{CAMPAIGNS}/{campaign}/overview?{query.lstrip('&')}", headers=headers).json["events"]
        [item] = public_list(api, campaign, query=query, headers=headers)
        assert compact["id"] == made["id"]
        assert compact["title"] == item["title"] == expected, kwargs
        assert compact["language"] == item["language"]


def test_coordinates_only_where_the_map_shows_the_place(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    shown = approved(api, coordinator, setting, address_public="now")
    never = approved(api, coordinator, setting, address_public="never")
    past_before = approved(api, coordinator, setting, address_public="before", address_public_hours=2)  # 2022: past
    no_place = approved(api, coordinator, setting, address_public="now", latitude=None, longitude=None)
    events = {e["id"]: e for e in overview(api, campaign).json["events"]}
    assert (events[shown["id"]]["longitude"], events[shown["id"]]["latitude"]) == (36.82, -1.29)
    coarse = events[never["id"]]  # hidden: a point about 1 km off, never the place
    assert coarse["approximate"] and (coarse["longitude"], coarse["latitude"]) != (36.82, -1.29)
    assert coarse["latitude"] is not None and not events[shown["id"]]["approximate"]
    assert events[past_before["id"]]["latitude"] == -1.29
    assert (events[no_place["id"]]["longitude"], events[no_place["id"]]["latitude"]) == (None, None)
    features = api.get(f"{EVENTS}/map.geojson?campaign_id={campaign}").json["features"]
    on_the_map = {f["id"]: f["geometry"]["coordinates"] for f in features}
    assert on_the_map == {i: [e["longitude"], e["latitude"]] for i, e in events.items() if e["latitude"] is not None}


def test_an_address_public_hours_before_a_coming_event_is_not_yet_on_the_overview(api, coordinator, setting):
    soon = date.today() + timedelta(days=30)
    coming = api.post(CAMPAIGNS, token=coordinator, json={
        "name": "Next year", "description": "…", "languages": ["en"], "day_of_action": soon.isoformat(),
        "window_start": soon.isoformat(), "window_end": soon.isoformat(), "status": "open"}).json
    future = {**setting, "campaign": coming}
    later = approved(api, coordinator, future, start=f"{soon}T17:00:00", end=f"{soon}T19:00:00",
                     address_public="before", address_public_hours=2)
    now = approved(api, coordinator, future, start=f"{soon}T18:00:00", end=f"{soon}T19:00:00",
                   address_public="now")
    events = {e["id"]: e for e in overview(api, coming["id"]).json["events"]}
    assert events[later["id"]]["approximate"] and events[later["id"]]["latitude"] != -1.29  # the coarse point
    assert events[now["id"]]["latitude"] == -1.29
    itself = api.get(f"{EVENTS}/{later['id']}").json  # as the event itself shows it
    assert "address" not in itself and itself["place_approximate"]
    assert (itself["latitude"], itself["longitude"]) == (events[later["id"]]["latitude"], events[later["id"]]["longitude"])


def test_local_times_and_offsets_are_the_timelines(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    spread_over_the_day(api, coordinator, setting)
    timeline = api.get(f"{CAMPAIGNS}/{campaign}/timeline?limit=200").json["items"]
    events = overview(api, campaign).json["events"]
    assert [e["utc_offset"] for e in events] == ["+14:00", "+05:45", "+03:30", "-03:30", "-11:00"]
    keys = ("id", "start", "timezone", "utc_offset", "starts_at")
    assert [{k: e[k] for k in keys} for e in events] == [{k: t[k] for k in keys} for t in timeline]
    assert events[0]["ends_at"] == "2022-12-01T09:00:00+00:00" and events[0]["end"] == "2022-12-01T23:00:00"


def test_unknown_and_draft_campaigns_are_404_and_a_bad_language_is_named(api, coordinator, setting):
    missing = overview(api, str(uuid.uuid4()))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    draft = api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, "status": "draft"}).json
    assert api.get(f"{CAMPAIGNS}/{draft['id']}").status_code == 404  # what the public gets
    assert overview(api, draft["id"]).status_code == 404
    assert overview(api, draft["id"], token=coordinator).status_code == 404  # always the public's view
    bad = api.get(f"{CAMPAIGNS}/{setting['campaign']['id']}/overview?lang=english")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert [e["field"] for e in bad.json["errors"]] == ["lang"]
    assert overview(api, "not-a-uuid").status_code == 404


@contextmanager
def counted_statements(api):
    """The SQL statements the events service runs meanwhile for this thread's requests (not
    the bus worker's, which polls on threads of its own)."""
    engine = api.platform.kernels["events"].db.engine
    statements: list[str] = []
    mine = threading.get_ident()

    def count(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == mine:
            statements.append(statement)

    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)


def test_many_events_take_no_more_queries_than_a_few(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    approved(api, coordinator, setting)
    with counted_statements(api) as few:
        assert len(overview(api, campaign).json["events"]) == 1
    rows = "".join(f"Rally {n},rally,Nairobi,KE,Africa/Nairobi,2022-12-01T{8 + n % 12:02d}:{n % 60:02d},"
                   f"2022-12-01T21:00\n" for n in range(60))
    made = api.post(f"{CAMPAIGNS}/{campaign}/events.csv", token=setting["tokens"][0],
                    data="title_en,activity_type,city,country,timezone,start,end\n" + rows,
                    headers={"Content-Type": "text/csv"})
    assert made.status_code == 201, made.json
    for event_id in made.json["ids"]:
        assert api.post(f"{EVENTS}/{event_id}/approval", token=coordinator).status_code == 200
    with counted_statements(api) as many:
        events = overview(api, campaign).json["events"]
    assert len(events) == 61  # more than a page of the list (50): all of them
    assert [e["id"] for e in events] == [e["id"] for e in public_list(api, campaign, limit=50)]
    assert len(many) == len(few) <= 6, many
