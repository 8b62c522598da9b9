"""Campaigns, endorsements and the signatory list, over HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.events.models import Campaign, Endorsement, KnownOrganisation
from tests.conftest import wait_until

CAMPAIGNS = "/api/events/campaigns"
CAMPAIGN_2022 = {"name": "Solidarity with the people's war", "description": "The call…",
                 "languages": ["en", "de", "tr"], "day_of_action": "2022-12-01", "window_start": "2022-11-25",
                 "window_end": "2022-12-10", "list_date": "2022-11-28", "status": "open"}


def events_messages(api) -> list[dict]:
    kernel = api.platform.kernels["events"]
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        return [json.loads(b) for b in s.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()]


def table_count(api, model) -> int:
    with api.platform.kernels["events"].db.transaction() as s:
        return len(s.execute(select(model.id)).all())


def test_a_coordinator_opens_a_campaign_and_the_public_reads_it(api, coordinator):
    response = api.post(CAMPAIGNS, token=coordinator, json=CAMPAIGN_2022)
    assert response.status_code == 201
    campaign = response.json
    assert response.headers["Location"] == f"{CAMPAIGNS}/{campaign['id']}"
    assert campaign["day_of_action"] == "2022-12-01" and campaign["endorsements"] == 0
    assert "womens_solidarity_action" in campaign["activity_types"]
    assert api.get(f"{CAMPAIGNS}/{campaign['id']}").json["name"] == CAMPAIGN_2022["name"]
    assert [m["type"] for m in events_messages(api)] == ["campaign.created", "audit.recorded"]
    [record] = [m["data"] for m in events_messages(api) if m["type"] == "audit.recorded"]
    assert (record["action"], record["subject_id"], record["after"]["day_of_action"]) == (
        "campaign.created", campaign["id"], "2022-12-01")


def test_drafts_are_hidden_from_everyone_but_coordinators(api, coordinator):
    draft = api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, "status": "draft"}).json
    assert api.get(f"{CAMPAIGNS}/{draft['id']}").status_code == 404
    assert api.get(CAMPAIGNS).json["items"] == []
    assert [c["id"] for c in api.get(CAMPAIGNS, token=coordinator).json["items"]] == [draft["id"]]


@pytest.mark.parametrize("change,field", [
    ({"day_of_action": "2022-12-20"}, "day_of_action"),
    ({"window_start": "2022-12-11"}, "window_end"),
    ({"list_date": "2022-12-02"}, "list_date"),
    ({"day_of_action": "2022-02-30"}, "day_of_action"),
    ({"activity_types": ["Demo!"]}, "activity_types.0"),
    ({"activity_types": []}, "activity_types"),
    ({"status": "archived"}, "status"),
    ({"adoption_threshold": 0}, "adoption_threshold"),
])
def test_dates_and_fields_that_do_not_fit_are_refused_by_name(api, coordinator, change, field):
    response = api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, **change})
    assert response.status_code == 422 and field in [e["field"] for e in response.json["errors"]]
    assert table_count(api, Campaign) == 0 and events_messages(api) == []


def test_only_coordinators_open_and_change_campaigns(api, coordinator, organisations):
    _, org_token = api.organisation_token(coordinator, organisations[0]["id"])
    assert api.post(CAMPAIGNS, json=CAMPAIGN_2022).status_code == 401
    assert api.post(CAMPAIGNS, token=org_token, json=CAMPAIGN_2022).status_code == 403
    campaign = api.post(CAMPAIGNS, token=coordinator, json=CAMPAIGN_2022).json
    assert api.patch(f"{CAMPAIGNS}/{campaign['id']}", token=org_token, json={"name": "x"}).status_code == 403


def test_moving_the_day_of_action_is_announced_with_the_previous_dates(api, coordinator):
    campaign = api.post(CAMPAIGNS, token=coordinator, json=CAMPAIGN_2022).json
    moved = api.patch(f"{CAMPAIGNS}/{campaign['id']}", token=coordinator,
                      json={"day_of_action": "2022-12-03", "name": "Renamed"})
    assert moved.status_code == 200 and moved.json["day_of_action"] == "2022-12-03"
    by_type = {m["type"]: m["data"] for m in events_messages(api)}
    assert by_type["campaign.rescheduled"]["previous_day_of_action"] == "2022-12-01"
    assert by_type["campaign.rescheduled"]["day_of_action"] == "2022-12-03"
    assert by_type["campaign.updated"]["changed"] == ["name"]
    outside = api.patch(f"{CAMPAIGNS}/{campaign['id']}", token=coordinator, json={"window_end": "2022-12-02"})
    assert outside.status_code == 422 and outside.json["errors"][0]["field"] == "day_of_action"


def test_endorsements_make_a_numbered_signatory_list_split_by_the_list_date(api, coordinator, organisations):
    today = date.today()
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        **CAMPAIGN_2022, "day_of_action": (today + timedelta(days=3)).isoformat(),
        "window_start": (today - timedelta(days=5)).isoformat(),
        "window_end": (today + timedelta(days=10)).isoformat(),
        "list_date": today.isoformat(), "adoption_threshold": 3}).json
    path = f"{CAMPAIGNS}/{campaign['id']}"
    tokens = [api.organisation_token(coordinator, o["id"])[1] for o in organisations]
    first = api.post(f"{path}/endorsements", token=tokens[0], json={})
    assert first.status_code == 201 and first.json["number"] == 1
    assert api.post(f"{path}/endorsements", token=tokens[0], json={}).status_code == 409
    assert api.post(f"{path}/endorsements", token=tokens[1], json={"organisation_id": organisations[0]["id"]}
                    ).status_code == 403
    assert api.post(f"{path}/endorsements", token=coordinator, json={}).status_code == 422
    assert api.post(f"{path}/endorsements", token=coordinator,
                    json={"organisation_id": organisations[1]["id"]}).json["number"] == 2
    # the third endorses "after the list date": move its endorsement a day later
    with api.platform.kernels["events"].db.transaction() as s:
        api.post(f"{path}/endorsements", token=tokens[2], json={})
        row = s.execute(select(Endorsement).where(Endorsement.organisation_id == organisations[2]["id"])).scalar_one()
        row.endorsed_at = row.endorsed_at + timedelta(days=1)
    listing = api.get(f"{path}/signatories").json
    assert [(s["number"], s["abbreviation"]) for s in listing["initial"]] == [(1, "CPK"), (2, "БКП")]
    assert [(s["number"], s["name_en"]) for s in listing["subsequent"]] == [(3, "Marxist Leninist Communist Party")]
    assert listing["initial"][1]["name"] == "Българска комунистическа партия"
    assert api.get(path).json["adopted_at"] is not None
    types = [m["type"] for m in events_messages(api)]
    assert types.count("endorsement.added") == 3 and "campaign.adopted" in types

    assert api.delete(f"{path}/endorsements/{organisations[0]['id']}", token=tokens[1]).status_code == 403
    assert api.delete(f"{path}/endorsements/{organisations[0]['id']}", token=tokens[0]).status_code == 204
    assert api.delete(f"{path}/endorsements/{organisations[0]['id']}", token=tokens[0]).status_code == 404
    renumbered = api.get(f"{path}/signatories").json
    assert [s["number"] for s in renumbered["initial"] + renumbered["subsequent"]] == [1, 2]


def test_closed_campaigns_and_suspended_organisations_take_no_endorsements(api, coordinator, organisations):
    campaign = api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, "status": "closed"}).json
    _, token = api.organisation_token(coordinator, organisations[0]["id"])
    closed = api.post(f"{CAMPAIGNS}/{campaign['id']}/endorsements", token=token, json={})
    assert closed.status_code == 409 and closed.json["campaign_status"] == "closed"
    open_one = api.post(CAMPAIGNS, token=coordinator, json=CAMPAIGN_2022).json
    api.put(f"/api/registry/organisations/{organisations[1]['id']}/suspension", token=coordinator,
            json={"reason": "danger"})

    def copy_status():
        with api.platform.kernels["events"].db.transaction() as s:
            return s.get(KnownOrganisation, organisations[1]["id"]).status

    wait_until(lambda: copy_status() == "suspended", 10, message="events to know of the suspension")
    refused = api.post(f"{CAMPAIGNS}/{open_one['id']}/endorsements", token=coordinator,
                       json={"organisation_id": organisations[1]["id"]})
    assert refused.status_code == 403 and "suspended" in refused.json["detail"]
    assert table_count(api, Endorsement) == 0
