"""The events service's public outputs — the campaign's, a country's and an organisation's
calendar feeds, the map and the campaign overview — are rendered once per change and kept:
a strong ETag, 304 to If-None-Match while nothing changed, and after every kind of change a
new ETag with what changed (never what was withdrawn), in every process. SQLite and
PostgreSQL."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from werkzeug.test import Client

from services.events.models import public_revisions
from services.platform import SPECS
from shared.db import Database
from shared.migrations import upgrade
from shared.rendered import RenderedCache
from shared.revisions import EVERY_CAMPAIGN, bump
from tests.conftest import wait_until
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_events_overview import counted_statements
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, accepted_change
from tests.integration.test_migrations import urls  # noqa: F401 - a fixture: empty databases, one per service


def outputs(setting, organisation_id: str) -> dict[str, str]:
    campaign = setting["campaign"]["id"]
    return {"campaign feed": f"{CAMPAIGNS}/{campaign}/events.ics",
            "country feed": "/api/events/countries/KE/events.ics",
            "organisation feed": f"/api/events/organisations/{organisation_id}/events.ics",
            "campaign map": f"{EVENTS}/map.geojson?campaign_id={campaign}",
            "whole map": f"{EVENTS}/map.geojson",
            "overview": f"{CAMPAIGNS}/{campaign}/overview"}


def fetch(api, paths: dict[str, str], **kwargs) -> dict[str, object]:
    """Each output's answer; every one must be a 200 with a strong ETag."""
    answers = {name: api.get(path, **kwargs) for name, path in paths.items()}
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.status_code)
        assert response.headers["ETag"].startswith('"'), name  # strong: not W/"…"
    return answers


def tags(answers: dict) -> dict[str, str]:
    return {name: response.headers["ETag"] for name, response in answers.items()}


def asked_again(api, path: str, etag: str):
    return api.get(path, headers={"If-None-Match": etag})


def all_changed(api, paths: dict[str, str], before: dict[str, str], names=None) -> dict[str, object]:
    """After a change: the outputs named (all by default) have a new ETag, and their old one
    no longer gets a 304 but the new rendering."""
    answers = fetch(api, paths)
    for name in names or paths:
        assert answers[name].headers["ETag"] != before[name], name
        again = asked_again(api, paths[name], before[name])
        assert again.status_code == 200 and again.data == answers[name].data, name
    return answers


def shows(response, event_id: str) -> bool:
    return event_id in response.get_data(as_text=True)


def test_what_did_not_change_is_answered_304_from_the_kept_rendering(api, coordinator, setting):
    made = approved(api, coordinator, setting, address_public="now")
    paths = outputs(setting, setting["orgs"][0]["id"])
    first = fetch(api, paths)
    for name, response in first.items():
        assert shows(response, made["id"]), name
        assert response.headers["Cache-Control"] == "public, no-cache", name
        assert "Accept-Language" in response.headers["Vary"], name
        again = asked_again(api, paths[name], response.headers["ETag"])
        assert again.status_code == 304 and again.data == b"", name
        assert again.headers["ETag"] == response.headers["ETag"], name
        assert asked_again(api, paths[name], '"something-else"').status_code == 200, name
    assert tags(fetch(api, paths)) == tags(first)
    assert fetch(api, paths, token=coordinator)["overview"].data == first["overview"].data  # the public's view

    # Kept: asked again, each output reads only its revision (one query), never the events.
    for name, path in paths.items():
        with counted_statements(api) as statements:
            assert api.get(path).status_code == 200
            assert asked_again(api, path, first[name].headers["ETag"]).status_code == 304
        assert len(statements) == 2 and all("public_revisions" in s for s in statements), (name, statements)

    # Another language is another rendering, kept beside the first.
    swahili = fetch(api, paths, headers={"Accept-Language": "sw"})
    assert "Mkutano wa mshikamano" in swahili["overview"].get_data(as_text=True)
    assert all(swahili[name].headers["ETag"] != first[name].headers["ETag"] for name in paths)
    assert tags(fetch(api, paths)) == tags(first)


def test_every_kind_of_change_gives_new_etags_and_nothing_withdrawn_is_served(api, coordinator, setting):
    owner = setting["tokens"][0]
    kept = approved(api, coordinator, setting, address_public="now")
    paths = outputs(setting, setting["orgs"][0]["id"])
    before = tags(fetch(api, paths))

    # An approval: the new event is in every output.
    made = approved(api, coordinator, setting, address_public="now", city="Kisumu")
    after = all_changed(api, paths, before)
    assert all(shows(response, made["id"]) for response in after.values())

    # A change of place a coordinator accepted: shown at once.
    accepted_change(api, coordinator, owner, made["id"], {"city": "Mombasa"})
    after = all_changed(api, paths, tags(after))
    assert all("Mombasa" in response.get_data(as_text=True) for response in after.values())

    # A cancellation: calendars learn of it.
    assert api.post(f"{EVENTS}/{made['id']}/cancellation", token=owner).status_code == 200
    after = all_changed(api, paths, tags(after))
    assert "STATUS:CANCELLED" in after["campaign feed"].get_data(as_text=True)
    assert {e["id"]: e["status"] for e in after["overview"].json["events"]} == {kept["id"]: "approved",
                                                                             made["id"]: "cancelled"}

    # A country on hold: everything of it leaves every output at once, and comes back.
    assert api.put("/api/events/countries/KE/hold", token=coordinator, json={"reason": "raids"}).status_code == 200
    after = all_changed(api, paths, tags(after))
    assert not any(shows(response, kept["id"]) or shows(response, made["id"]) for response in after.values())
    assert api.delete("/api/events/countries/KE/hold", token=coordinator).status_code == 204
    after = all_changed(api, paths, tags(after))
    assert all(shows(response, kept["id"]) for response in after.values())

    # A change waiting for a coordinator: the outputs stay as they are, the event in them.
    assert api.patch(f"{EVENTS}/{kept['id']}", token=owner, json={"title": {"en": "New call"}}).status_code == 200
    assert tags(fetch(api, paths)) == tags(after)

    # The day of action moved, an endorsement: what the overview shows of the campaign.
    campaign = setting["campaign"]["id"]
    moved = api.patch(f"{CAMPAIGNS}/{campaign}", token=coordinator, json={"day_of_action": "2022-12-02"})
    assert moved.status_code == 200, moved.json
    after = all_changed(api, paths, tags(after), names=["overview"])
    assert after["overview"].json["campaign"]["day_of_action"] == "2022-12-02"
    assert api.post(f"{CAMPAIGNS}/{campaign}/endorsements", token=owner, json={}).status_code == 201
    after = all_changed(api, paths, tags(after), names=["overview"])
    assert after["overview"].json["campaign"]["endorsements"] == 1

    # The campaign back to draft: its own outputs are gone, the others leave its events out.
    assert api.patch(f"{CAMPAIGNS}/{campaign}", token=coordinator, json={"status": "draft"}).status_code == 200
    assert api.get(paths["overview"]).status_code == 404
    assert asked_again(api, paths["campaign feed"], after["campaign feed"].headers["ETag"]).status_code == 404
    spanning = ["country feed", "organisation feed", "campaign map", "whole map"]
    rest = all_changed(api, {name: paths[name] for name in spanning}, tags(after))
    assert not any(shows(response, made["id"]) for response in rest.values())


def test_an_organisation_renamed_at_the_registry_is_renamed_in_the_kept_overview(api, coordinator, setting):
    """The copy of an organisation is written with Core from a bus message, past the ORM."""
    organisation = setting["orgs"][0]
    campaign = setting["campaign"]["id"]
    assert api.post(f"{CAMPAIGNS}/{campaign}/endorsements", token=setting["tokens"][0], json={}).status_code == 201
    path = f"{CAMPAIGNS}/{campaign}/overview"
    before = api.get(path)
    assert before.json["signatories"]["subsequent"][0]["abbreviation"] == "CPK"
    renamed = api.patch(f"/api/registry/organisations/{organisation['id']}", token=coordinator,
                        json={"abbreviation": "CPK-R"})
    assert renamed.status_code == 200, renamed.json

    def renamed_in_overview():
        answer = asked_again(api, path, before.headers["ETag"])
        return answer.status_code == 200 and answer.json["signatories"]["subsequent"][0]["abbreviation"] == "CPK-R"

    wait_until(renamed_in_overview, message="the overview to show the new abbreviation")


def test_a_write_in_one_process_reaches_what_another_process_keeps(api, coordinator, setting):
    """Two gunicorn workers each keep their own renderings: the revision they check is in the
    database, so a write through one is seen by the other at once."""
    config, registry = api.platform.config, api.platform.kernels["registry"]
    other_kernel = SPECS["events"].build(config, jwks=registry.dependencies["signer"].jwks)
    other = Client(SPECS["events"].create_app(kernel=other_kernel))
    try:
        path = f"{CAMPAIGNS}/{setting['campaign']['id']}/events.ics"
        first = other.get(path)
        assert first.status_code == 200 and "BEGIN:VEVENT" not in first.get_data(as_text=True)
        assert other.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

        made = approved(api, coordinator, setting)  # through this process
        seen = other.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert seen.status_code == 200 and made["id"] in seen.get_data(as_text=True)
        assert seen.headers["ETag"] == api.get(path).headers["ETag"]  # the same bytes, the same tag
    finally:
        other_kernel.db.dispose()


def revision(api, campaign_id: str) -> int:
    with api.platform.kernels["events"].db.transaction() as session:
        return session.execute(select(public_revisions.c.revision)
                               .where(public_revisions.c.campaign_id == campaign_id)).scalar_one()


def test_a_place_that_becomes_public_in_time_is_shown_without_any_write(api, coordinator, setting):
    nairobi = ZoneInfo("Africa/Nairobi")
    today = datetime.now(nairobi).date()
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        "name": "Today", "description": "…", "languages": ["en"], "day_of_action": today.isoformat(),
        "window_start": (today - timedelta(days=1)).isoformat(), "window_end": (today + timedelta(days=1)).isoformat(),
        "status": "open"}).json
    # The place is public 2 hours before the start: a few seconds from now.
    public_from = datetime.now(nairobi).replace(microsecond=0) + timedelta(seconds=6)
    start = public_from + timedelta(hours=2)
    made = approved(api, coordinator, {**setting, "campaign": campaign}, address_public="before",
                    address_public_hours=2, start=start.replace(tzinfo=None).isoformat(),
                    end=(start + timedelta(hours=1)).replace(tzinfo=None).isoformat())
    paths = {"feed": f"{CAMPAIGNS}/{campaign['id']}/events.ics",
             "map": f"{EVENTS}/map.geojson?campaign_id={campaign['id']}",
             "overview": f"{CAMPAIGNS}/{campaign['id']}/overview"}
    before = fetch(api, paths)
    assert "Uhuru Park" not in before["feed"].get_data(as_text=True)
    assert [f["properties"]["approximate"] for f in before["map"].json["features"]] == [True]  # the coarse point
    assert before["overview"].json["events"][0]["latitude"] != -1.29
    revision_before = revision(api, campaign["id"])
    assert asked_again(api, paths["map"], before["map"].headers["ETag"]).status_code == 304

    time.sleep(max(0.0, (public_from - datetime.now(nairobi)).total_seconds()) + 0.5)
    after = all_changed(api, paths, tags(before))
    assert "Uhuru Park" in after["feed"].get_data(as_text=True)
    assert [(f["id"], f["properties"]["approximate"]) for f in after["map"].json["features"]] == [(made["id"], False)]
    assert after["overview"].json["events"][0]["latitude"] == -1.29
    assert revision(api, campaign["id"]) == revision_before  # time alone, no write


def test_campaigns_from_before_the_revisions_get_one_that_every_campaign_write_moves(urls):  # noqa: F811
    """0003 adds the revisions: a campaign that existed before must have one, or a write that
    moves every campaign's (a country on hold) would pass it by and leave its feeds stale."""
    for service, table in (("events", "campaigns"), ("media", "known_campaigns")):
        db = Database(urls[service])
        upgrade(db, SPECS[service].migrations, revision="0002")
        with db.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {table} (id, name, description, languages, day_of_action, window_start, "
                              "window_end, activity_types, status, created_at, updated_at) VALUES ('c1', 'Day', '', "
                              "'[]', '2022-12-01', '2022-11-25', '2022-12-10', '[\"rally\"]', 'open', :now, :now)")
                         if service == "events" else
                         text(f"INSERT INTO {table} (id, name, status, require_face_blur, as_of) "
                              "VALUES ('c1', 'Day', 'open', false, :now)"), {"now": "2022-11-01 12:00:00+00:00"})
        upgrade(db, SPECS[service].migrations)
        with db.engine.begin() as conn:
            bump(conn, public_revisions, EVERY_CAMPAIGN)
            assert conn.execute(select(public_revisions.c.campaign_id, public_revisions.c.revision)).all() == \
                [("c1", 2)], service
        db.dispose()


def test_a_process_keeps_what_fits_its_budget_the_least_recently_used_first_out(api, coordinator, setting):
    approved(api, coordinator, setting)
    paths = outputs(setting, setting["orgs"][0]["id"])
    kernel = api.platform.kernels["events"]

    def renders(name: str) -> bool:
        """Whether answering this output now reads more than its revision (renders it)."""
        with counted_statements(api) as statements:
            assert api.get(paths[name]).status_code == 200
        return len(statements) > 1

    kernel.rendered = RenderedCache(max_bytes=10**6, max_entries=2)
    assert renders("overview") and renders("campaign feed")
    assert not renders("overview")  # kept; now the most recently used
    assert renders("country feed")  # a third: the campaign feed, least recently used, leaves
    assert not renders("overview") and not renders("country feed") and renders("campaign feed")

    small, large = sorted(("overview", "campaign feed"), key=lambda name: len(api.get(paths[name]).data))
    kernel.rendered = RenderedCache(max_bytes=len(api.get(paths[small]).data), max_entries=10)
    assert renders(large) and renders(large)  # larger than the whole budget: sent, never kept
    assert renders(small) and not renders(small)
