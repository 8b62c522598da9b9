"""Local events over HTTP: submitted in their own zone, decided by coordinators, found by
the public without what their owners keep private. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from services.events.models import LocalEvent
from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS, events_messages, table_count

EVENTS = "/api/events/events"


def event(**overrides) -> dict:
    return {"title": {"en": "Rally for solidarity", "sw": "Mkutano wa mshikamano"}, "activity_type": "rally",
            "city": "Nairobi", "country": "KE", "timezone": "Africa/Nairobi", "start": "2022-12-01T17:00:00",
            "end": "2022-12-01T19:00:00", "address": "Uhuru Park, gate 2", "venue": "Uhuru Park",
            "latitude": -1.29, "longitude": 36.82, **overrides}


def submit(api, setting, token=None, **overrides):
    return api.post(f"{CAMPAIGNS}/{setting['campaign']['id']}/events", token=token or setting["tokens"][0],
                    json=event(**overrides))


def accepted_change(api, coordinator, owner: str, event_id: str, changes: dict) -> dict:
    """An approved event's owner changes it and a coordinator accepts: the event as it then is."""
    proposed = api.patch(f"{EVENTS}/{event_id}", token=owner, json=changes)
    assert proposed.status_code == 200, proposed.json
    change = proposed.json["pending_change"]
    accepted = api.post(f"{EVENTS}/{event_id}/changes/{change['id']}/acceptance", token=coordinator)
    assert accepted.status_code == 200, accepted.json
    return accepted.json


def test_an_event_is_placed_in_its_own_zone(api, setting):
    response = submit(api, setting)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == f"{EVENTS}/{body['id']}"
    assert (body["start"], body["starts_at"]) == ("2022-12-01T17:00:00", "2022-12-01T14:00:00+00:00")
    assert body["status"] == "submitted" and body["address"] == "Uhuru Park, gate 2"  # its owner sees it
    kiritimati = submit(api, setting, country="KI", city="London", timezone="Pacific/Kiritimati",
                        start="2022-12-01T09:00:00", end="2022-12-01T10:00:00").json
    assert kiritimati["starts_at"] == "2022-11-30T19:00:00+00:00"
    [message] = [m for m in events_messages(api) if m["type"] == "event.submitted"][:1]
    assert "address" not in message["data"] and message["data"]["city"] == "Nairobi"


@pytest.mark.parametrize("overrides,field,words", [
    ({"country": "DE", "city": "Berlin", "timezone": "Europe/Berlin", "start": "2022-12-01T17:00:00",
      "end": "2022-12-01T16:00:00"}, "end", "after the start"),
    ({"timezone": "Europe/Berlin"}, "timezone", "not a time zone of KE"),
    ({"start": "2022-11-20T17:00:00", "end": "2022-11-20T18:00:00"}, "start", "outside the campaign's window"),
    ({"activity_type": "picnic"}, "activity_type", "one of the campaign's"),
    ({"activity_type": "online"}, "online_url", "needs its address"),
    ({"title": {"de": "Kundgebung"}, "languages": ["en", "de"]}, "title", "first language"),
    ({"latitude": 10}, "longitude", None),
    ({"address_public": "before"}, "address_public_hours", None),
    ({"start": "2022-12-01T17:00:00+03:00"}, "start", None),
])
def test_events_that_break_a_rule_get_a_422_naming_the_field(api, setting, overrides, field, words):
    before = table_count(api, LocalEvent)
    body = event(**overrides)
    if field == "longitude":  # a latitude without a longitude
        body.pop("longitude")
    response = api.post(f"{CAMPAIGNS}/{setting['campaign']['id']}/events", token=setting["tokens"][0], json=body)
    assert response.status_code == 422, response.json
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert field in errors and (words is None or words in errors[field])
    assert table_count(api, LocalEvent) == before


def test_dst_gaps_are_refused_and_folds_must_name_their_offset(api, coordinator, setting):
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        **CAMPAIGN_2022, "day_of_action": "2022-10-30", "window_start": "2022-03-01", "window_end": "2022-12-31",
        "list_date": None}).json
    path = f"{CAMPAIGNS}/{campaign['id']}/events"
    berlin = {"country": "DE", "city": "Berlin", "timezone": "Europe/Berlin"}
    gap = api.post(path, token=setting["tokens"][0], json=event(**berlin, start="2022-03-27T02:30:00",
                                                                   end="2022-03-27T04:00:00"))
    assert gap.status_code == 422 and "does not exist" in gap.json["errors"][0]["message"]
    fold = api.post(path, token=setting["tokens"][0], json=event(**berlin, start="2022-10-30T02:30:00",
                                                                    end="2022-10-30T04:00:00"))
    assert fold.status_code == 422 and fold.json["errors"][0]["field"] == "start_offset"
    chosen = api.post(path, token=setting["tokens"][0], json=event(**berlin, start="2022-10-30T02:30:00",
                                                                      start_offset="+01:00", end="2022-10-30T04:00:00"))
    assert chosen.status_code == 201 and chosen.json["starts_at"] == "2022-10-30T01:30:00+00:00"


def test_a_submission_changed_after_the_coordinator_read_it_is_not_decided_unread(api, coordinator, setting):
    read = submit(api, setting, title={"en": "Harmless picnic"}).json
    owner = setting["tokens"][0]
    changed = api.patch(f"{EVENTS}/{read['id']}", token=owner, json={"title": {"en": "Something else"}, "city": "Mombasa"})
    assert changed.status_code == 200 and changed.json["updated_at"] != read["updated_at"]
    for decision, body in (("approval", {}), ("rejection", {"reason": "No."})):
        late = api.post(f"{EVENTS}/{read['id']}/{decision}", token=coordinator, json={**body, "updated_at": read["updated_at"]})
        assert late.status_code == 409 and "changed since you read it" in late.json["detail"]
        assert late.json["updated_at"] == changed.json["updated_at"]
    assert api.get(f"{EVENTS}/{read['id']}", token=coordinator).json["status"] == "submitted"  # nothing decided
    assert api.get(f"{EVENTS}/{read['id']}").status_code == 404
    approved = api.post(f"{EVENTS}/{read['id']}/approval", token=coordinator,
                        json={"updated_at": changed.json["updated_at"]})  # read again: the new version
    assert approved.status_code == 200 and approved.json["title"] == "Something else"
    bad = api.post(f"{EVENTS}/{read['id']}/approval", token=coordinator, json={"updated_at": "yesterday"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "updated_at"


def test_coordinators_decide_once_and_the_public_then_sees_what_it_may(api, coordinator, setting):
    public = submit(api, setting, address_public="never").json
    hidden = submit(api, setting, visibility="coordinators", start="2022-12-01T10:00:00",
                    end="2022-12-01T11:00:00").json
    assert api.get(f"{EVENTS}/{public['id']}").status_code == 404  # not approved yet
    assert api.post(f"{EVENTS}/{public['id']}/approval", token=setting["tokens"][0]).status_code == 403
    approved = api.post(f"{EVENTS}/{public['id']}/approval", token=coordinator)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    twice = api.post(f"{EVENTS}/{public['id']}/approval", token=coordinator)
    assert twice.status_code == 409 and twice.json["current_status"] == "approved"
    api.post(f"{EVENTS}/{hidden['id']}/approval", token=coordinator)
    seen = api.get(f"{EVENTS}/{public['id']}", headers={"Accept-Language": "sw, en;q=0.5"}).json
    assert seen["title"] == "Mkutano wa mshikamano" and seen["language"] == "sw"
    assert "address" not in seen and seen["city"] == "Nairobi"
    assert seen["place_approximate"] and (seen["latitude"], seen["longitude"]) != (-1.29, 36.82)  # coarse
    assert api.get(f"{EVENTS}/{public['id']}?lang=fa").json["title"] == "Rally for solidarity"  # fallback
    listed = api.get(f"{EVENTS}?campaign_id={setting['campaign']['id']}").json["items"]
    assert [e["id"] for e in listed] == [public["id"]]  # the coordinators-only event never shows
    assert api.get(f"{EVENTS}/{hidden['id']}").status_code == 404
    everything = api.get(EVENTS, token=coordinator).json["items"]
    assert [e["id"] for e in everything] == [hidden["id"], public["id"]]  # in UTC order


def test_rejections_need_a_reason_and_only_owners_cancel(api, coordinator, setting):
    first = submit(api, setting).json
    assert api.post(f"{EVENTS}/{first['id']}/rejection", token=coordinator, json={}).status_code == 422
    rejected = api.post(f"{EVENTS}/{first['id']}/rejection", token=coordinator, json={"reason": "duplicate"})
    assert rejected.status_code == 200 and rejected.json["rejection_reason"] == "duplicate"
    second = submit(api, setting).json
    other = setting["tokens"][1]
    assert api.post(f"{EVENTS}/{second['id']}/cancellation", token=other).status_code == 404  # not theirs to see
    cancelled = api.post(f"{EVENTS}/{second['id']}/cancellation", token=setting["tokens"][0])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.post(f"{EVENTS}/{second['id']}/cancellation", token=setting["tokens"][0]).status_code == 409
    types = [m["type"] for m in events_messages(api)]
    assert types.count("event.rejected") == 1 and types.count("event.cancelled") == 1


def test_an_address_public_now_is_shown_to_everyone(api, coordinator, setting):
    created = submit(api, setting, address_public="now").json
    api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
    seen = api.get(f"{EVENTS}/{created['id']}").json
    assert seen["address"] == "Uhuru Park, gate 2" and seen["latitude"] == -1.29


def test_moving_the_window_flags_events_outside_it_and_names_them(api, coordinator, setting):
    early = submit(api, setting, start="2022-11-26T12:00:00", end="2022-11-26T13:00:00").json
    on_the_day = submit(api, setting).json
    path = f"{CAMPAIGNS}/{setting['campaign']['id']}"
    assert api.patch(path, token=coordinator, json={"window_start": "2022-11-28"}).status_code == 200
    rescheduled = [m for m in events_messages(api) if m["type"] == "campaign.rescheduled"][-1]["data"]
    assert [e["id"] for e in rescheduled["events_outside_window"]] == [early["id"]]
    assert rescheduled["events_outside_window"][0]["organisation_id"] == setting["orgs"][0]["id"]
    assert api.get(f"{EVENTS}/{early['id']}", token=coordinator).json["outside_window"] is True
    assert api.get(f"{EVENTS}/{on_the_day['id']}", token=coordinator).json["outside_window"] is False
    api.patch(path, token=coordinator, json={"window_start": "2022-11-20"})
    assert api.get(f"{EVENTS}/{early['id']}", token=coordinator).json["outside_window"] is False


def test_an_owner_changes_time_and_place_and_the_change_is_announced(api, coordinator, setting):
    created = submit(api, setting).json
    api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
    path = f"{EVENTS}/{created['id']}"
    moved = accepted_change(api, coordinator, setting["tokens"][0], created["id"],
                            {"start": "2022-12-01T18:00:00", "venue": "Kamukunji"})
    assert moved["starts_at"] == "2022-12-01T15:00:00+00:00"
    [updated] = [m["data"] for m in events_messages(api) if m["type"] == "event.updated"]
    assert set(updated["changed"]) == {"venue", "starts_local", "starts_at"}
    same = api.patch(path, token=setting["tokens"][0], json={"venue": "Kamukunji"})  # no change
    assert same.status_code == 200 and same.json["pending_change"] is None
    assert len([m for m in events_messages(api) if m["type"] == "event.updated"]) == 1
    late = api.patch(path, token=setting["tokens"][0], json={"end": "2022-12-01T17:30:00"})
    assert late.status_code == 422 and late.json["errors"][0]["field"] == "end"
    elsewhere = api.patch(path, token=setting["tokens"][0], json={"timezone": "Asia/Tehran"})
    assert elsewhere.status_code == 422 and elsewhere.json["errors"][0]["field"] == "timezone"
    assert api.patch(path, token=setting["tokens"][1], json={"venue": "x"}).status_code == 403
    assert api.patch(path, token=coordinator, json={"venue": "x"}).status_code == 403
    assert api.get(path).json["venue"] == "Kamukunji"


def test_a_country_on_hold_vanishes_from_every_public_output_and_comes_back(api, coordinator, setting):
    kenyan = submit(api, setting).json
    api.post(f"{EVENTS}/{kenyan['id']}/approval", token=coordinator)
    assert api.put("/api/events/countries/ke/hold", token=setting["tokens"][0], json={"reason": "x"}).status_code == 403
    held = api.put("/api/events/countries/ke/hold", token=coordinator, json={"reason": "arrests announced"})
    assert held.status_code == 200 and held.json["country"] == "KE"
    assert api.get(EVENTS).json["items"] == [] and api.get(f"{EVENTS}/{kenyan['id']}").status_code == 404
    assert api.get(f"{EVENTS}/{kenyan['id']}", token=setting["tokens"][0]).status_code == 200  # its owner still sees it
    assert api.put("/api/events/countries/XX/hold", token=coordinator, json={"reason": "x"}).status_code == 422
    assert api.delete("/api/events/countries/KE/hold", token=coordinator).status_code == 204
    assert [e["id"] for e in api.get(EVENTS).json["items"]] == [kenyan["id"]]


def test_the_list_filters_by_city_language_time_and_free_text(api, coordinator, setting):
    ids = {}
    for key, overrides in {"nairobi": {}, "mombasa": {"city": "Mombasa", "title": {"sw": "Maandamano Mombasa"},
                                                      "start": "2022-12-02T10:00:00", "end": "2022-12-02T12:00:00"}}.items():
        created = submit(api, setting, **overrides).json
        api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
        ids[key] = created["id"]
    found = lambda query: [e["id"] for e in api.get(f"{EVENTS}?{query}").json["items"]]  # noqa: E731
    assert found("city=mombasa") == [ids["mombasa"]]
    assert found("language=en") == [ids["nairobi"]]
    assert found("starts_from=2022-12-02T00:00:00%2B00:00") == [ids["mombasa"]]
    assert found("starts_before=2022-12-02T00:00:00%2B00:00") == [ids["nairobi"]]
    assert found("q=MAANDAMANO") == [ids["mombasa"]] and found("q=solidarity") == [ids["nairobi"]]
    assert found("q=100%25_") == []
    assert api.get(f"{EVENTS}?starts_from=yesterday").status_code == 422


CSV_HEADER = "title_en,title_de,activity_type,city,country,timezone,start,end,expected_participants\n"
CSV_GOOD = ("Rally,Kundgebung,rally,Nairobi,KE,Africa/Nairobi,2022-12-01T17:00,2022-12-01T19:00,200\n"
            "Lecture,,lecture,Mombasa,KE,Africa/Nairobi,2022-12-02T10:00,2022-12-02T12:00,\n")
CSV_BAD = ("Bad zone,,rally,Berlin,DE,Africa/Nairobi,2022-12-01T17:00,2022-12-01T19:00,\n"
           ",,rally,Berlin,DE,Europe/Berlin,2022-12-01T17:00,2022-12-01T19:00,lots\n")


def test_a_csv_of_events_is_all_or_nothing_unless_bad_rows_are_skipped(api, coordinator, setting):
    path = f"{CAMPAIGNS}/{setting['campaign']['id']}/events.csv"
    csv_type = {"Content-Type": "text/csv"}
    refused = api.post(path, token=setting["tokens"][0], data=CSV_HEADER + CSV_GOOD + CSV_BAD, headers=csv_type)
    assert refused.status_code == 422 and "nothing was created" in refused.json["detail"]
    assert {(e["line"], e["field"]) for e in refused.json["errors"]} == {
        (4, "timezone"), (5, "title"), (5, "expected_participants")}
    assert table_count(api, LocalEvent) == 0
    skipped = api.post(f"{path}?skip_bad=true", token=setting["tokens"][0], data=CSV_HEADER + CSV_GOOD + CSV_BAD,
                       headers=csv_type)
    assert skipped.status_code == 201 and skipped.json["created"] == 2 and len(skipped.json["skipped"]) == 3
    first = api.get(f"{EVENTS}/{skipped.json['ids'][0]}", token=coordinator, headers={"Accept-Language": "de"}).json
    assert first["title"] == "Kundgebung" and first["starts_at"] == "2022-12-01T14:00:00+00:00"
    assert api.post(path, token=coordinator, data=CSV_HEADER + CSV_GOOD, headers=csv_type).status_code == 422
    on_behalf = api.post(f"{path}?organisation_id={setting['orgs'][1]['id']}", token=coordinator,
                         data=CSV_HEADER + CSV_GOOD, headers=csv_type)
    assert on_behalf.status_code == 201 and on_behalf.json["created"] == 2
    assert api.post(path, token=setting["tokens"][0], data=b"\xff\xfe", headers=csv_type).status_code == 422
    assert api.post(path, token=setting["tokens"][0], data=CSV_HEADER, headers=csv_type).status_code == 422
    assert api.post(path, token=setting["tokens"][0], json={"a": 1}).status_code == 415


def test_a_suspended_organisation_cannot_submit(api, coordinator, setting):
    from tests.conftest import wait_until

    api.put(f"/api/registry/organisations/{setting['orgs'][0]['id']}/suspension", token=coordinator,
            json={"reason": "danger"})
    wait_until(lambda: _status(api, setting) == "suspended", 10, message="events to learn of the suspension")
    refused = api.post(f"{CAMPAIGNS}/{setting['campaign']['id']}/events", token=coordinator,
                       json=event(organisation_id=setting["orgs"][0]["id"]))
    assert refused.status_code == 403 and table_count(api, LocalEvent) == 0


def _status(api, setting):
    from services.events.models import KnownOrganisation

    with api.platform.kernels["events"].db.transaction() as s:
        return s.get(KnownOrganisation, setting["orgs"][0]["id"]).status


def test_a_cancelled_submission_never_becomes_public(api, setting):
    created = submit(api, setting).json
    api.post(f"{EVENTS}/{created['id']}/cancellation", token=setting["tokens"][0])
    assert api.get(f"{EVENTS}/{created['id']}").status_code == 404 and api.get(EVENTS).json["items"] == []
    assert b"VEVENT" not in api.get(f"{CAMPAIGNS}/{setting['campaign']['id']}/events.ics").data


def test_changing_text_or_audience_after_approval_waits_and_keeps_the_approved_event(api, coordinator, setting):
    created = submit(api, setting, visibility="coordinators").json
    api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
    changed = api.patch(f"{EVENTS}/{created['id']}", token=setting["tokens"][0],
                        json={"visibility": "public", "title": {"en": "Changed after approval"}})
    assert changed.status_code == 200 and changed.json["status"] == "approved"
    assert changed.json["visibility"] == "coordinators" and set(changed.json["pending_change"]["changes"]) == {
        "visibility", "title"}
    assert api.get(f"{EVENTS}/{created['id']}").status_code == 404  # still for coordinators only
    shown = submit(api, setting).json  # a public event stays public, as approved, while its change waits
    api.post(f"{EVENTS}/{shown['id']}/approval", token=coordinator)
    later = api.patch(f"{EVENTS}/{shown['id']}", token=setting["tokens"][0], json={"title": {"en": "New words"}})
    assert later.json["status"] == "approved" and later.json["title"] == "Rally for solidarity"
    assert api.get(f"{EVENTS}/{shown['id']}").json["title"] == "Rally for solidarity"


def test_events_of_a_campaign_set_back_to_draft_leave_every_public_output(api, coordinator, setting):
    created = submit(api, setting).json
    api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
    api.patch(f"{CAMPAIGNS}/{setting['campaign']['id']}", token=coordinator, json={"status": "draft"})
    assert api.get(EVENTS).json["items"] == [] and api.get(f"{EVENTS}/{created['id']}").status_code == 404
    assert api.get(f"{EVENTS}/map.geojson").json["features"] == []


def test_free_text_matches_words_not_the_stored_json(api, coordinator, setting):
    created = submit(api, setting).json
    api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator)
    assert api.get(f"{EVENTS}?q=en").json["items"] == [] and api.get(f'{EVENTS}?q="').json["items"] == []
    assert len(api.get(f"{EVENTS}?q=mshikamano").json["items"]) == 1


def test_moving_to_another_zone_needs_no_offset_from_the_old_one(api, setting):
    created = submit(api, setting).json
    moved = api.patch(f"{EVENTS}/{created['id']}", token=setting["tokens"][0],
                      json={"country": "UG", "city": "Kampala", "timezone": "Africa/Kampala"})
    assert moved.status_code == 200 and moved.json["timezone"] == "Africa/Kampala"


def test_csv_files_from_old_spreadsheets_and_broken_ones(api, setting):
    path = f"{CAMPAIGNS}/{setting['campaign']['id']}/events.csv"
    csv_type = {"Content-Type": "text/csv"}
    huge_cell = CSV_HEADER + "x" * 200_000 + ",,rally,A,KE,Africa/Nairobi,2022-12-01T17:00,2022-12-01T19:00,\n"
    refused = api.post(path, token=setting["tokens"][0], data=huge_cell, headers=csv_type)
    assert refused.status_code == 422 and "not readable as CSV" in refused.json["errors"][0]["message"]
    assert table_count(api, LocalEvent) == 0
    old_mac = (CSV_HEADER + CSV_GOOD).replace("\n", "\r")  # bare CR line ends
    assert api.post(path, token=setting["tokens"][0], data=old_mac, headers=csv_type).json["created"] == 2
