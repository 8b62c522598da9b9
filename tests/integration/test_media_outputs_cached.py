"""The media service's public outputs — a campaign's reports feed (Atom) and its overview —
are rendered once per change and kept: a strong ETag, 304 to If-None-Match while nothing
changed, and after every kind of change a new ETag with what changed (never a withdrawn
file or report). SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.media.models import public_revisions
from tests.conftest import wait_until
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_events_outputs_cached import all_changed, asked_again, fetch, tags
from tests.integration.test_events_overview import counted_statements
from tests.integration.test_finding_events import approved
from tests.integration.test_media_materials import coordinator_upload, wait_processed
from tests.integration.test_media_overview import published
from tests.integration.test_media_rejection import published_pair, rejection
from tests.integration.test_media_reports import ATOM, known_to_media, uploaded
from tests.integration.test_media_uploads import media_kernel


def outputs(campaign_id: str) -> dict[str, str]:
    return {"feed": f"/api/media/campaigns/{campaign_id}/reports.atom",
            "country feed": f"/api/media/campaigns/{campaign_id}/reports.atom?country=KE",
            "overview": f"/api/media/campaigns/{campaign_id}/overview"}


def entries(response) -> list:
    return ElementTree.fromstring(response.data).findall(f"{ATOM}entry")


def media_statements(api):
    """The SQL statements the media service runs meanwhile for this thread's requests."""
    return counted_statements(SimpleNamespace(platform=SimpleNamespace(kernels={"events": media_kernel(api)})))


def test_what_did_not_change_is_answered_304_from_the_kept_rendering(api, coordinator, setting, media_campaign):
    report, face, crowd = published_pair(api, coordinator, setting, media_campaign)
    paths = outputs(media_campaign)
    first = fetch(api, paths)
    assert [e.find(f"{ATOM}title").text for e in entries(first["feed"])] == [report["title"]]
    assert face["id"] in first["feed"].get_data(as_text=True) and face["id"] in first["overview"].get_data(as_text=True)
    for name, response in first.items():
        assert response.headers["Cache-Control"] == "public, no-cache", name
        again = asked_again(api, paths[name], response.headers["ETag"])
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == response.headers["ETag"]
    assert tags(fetch(api, paths)) == tags(first)
    assert fetch(api, paths, token=coordinator)["overview"].data == first["overview"].data  # the public's view

    for name, path in paths.items():  # kept: one query, the revision
        with media_statements(api) as statements:
            assert asked_again(api, path, first[name].headers["ETag"]).status_code == 304
        assert len(statements) == 1 and "public_revisions" in statements[0], (name, statements)


def test_every_kind_of_change_gives_new_etags_and_nothing_withdrawn_is_served(api, coordinator, setting,
                                                                              media_campaign):
    token = setting["tokens"][0]
    report, face, crowd = published_pair(api, coordinator, setting, media_campaign)
    paths = outputs(media_campaign)
    before = tags(fetch(api, paths))

    # A report published.
    newer = published(api, coordinator, token, campaign_id=media_campaign, country="KE", title={"en": "Mombasa too"})
    after = all_changed(api, paths, before)
    assert all(newer["id"] in response.get_data(as_text=True) for response in after.values())

    # One file of a report rejected: it leaves the feed and the overview, the rest stays.
    assert rejection(api, face["id"], token=coordinator, reason="A face").status_code == 200
    after = all_changed(api, paths, tags(after))
    for response in after.values():
        assert face["id"] not in response.get_data(as_text=True) and crowd["id"] in response.get_data(as_text=True)

    # The campaign requires blurred faces: unblurred photos leave.
    policy = f"/api/media/campaigns/{media_campaign}/policy"
    assert api.put(policy, token=coordinator, json={"require_face_blur": True}).status_code == 200
    after = all_changed(api, paths, tags(after))
    assert not any(crowd["id"] in response.get_data(as_text=True) for response in after.values())

    # A material published: the overview's package.
    document = coordinator_upload(api, coordinator, media_campaign, b"Workers of the world, unite!\n")
    wait_processed(api, coordinator, [document])
    ready = tags(fetch(api, paths))  # processed, not yet published: kept again
    made = api.post(f"/api/media/campaigns/{media_campaign}/materials", token=coordinator,
                    json={"kind": "slogan", "language": "en", "title": "The slogan", "media_id": document})
    assert made.status_code == 201, made.json
    after = all_changed(api, paths, ready, names=["overview"])
    assert [m["title"] for m in after["overview"].json["materials"]] == ["The slogan"]

    # A country on hold (learnt from the bus, written past the ORM): its reports leave at once.
    held = tags(after)
    assert api.put("/api/events/countries/KE/hold", token=coordinator, json={"reason": "raids"}).status_code == 200
    wait_until(lambda: asked_again(api, paths["feed"], held["feed"]).status_code == 200,
               message="media to learn of the hold")
    after = all_changed(api, paths, held)
    assert all(entries(after[name]) == [] for name in ("feed", "country feed"))
    assert after["overview"].json["reports"] == [] and after["overview"].json["turnout"] == []
    assert api.delete("/api/events/countries/KE/hold", token=coordinator).status_code == 204
    wait_until(lambda: len(entries(api.get(paths["feed"]))) == 2, message="media to learn of the release")


def revision(api, campaign_id: str) -> int:
    with media_kernel(api).db.transaction() as session:
        return session.execute(select(public_revisions.c.revision)
                               .where(public_revisions.c.campaign_id == campaign_id)).scalar_one()


def test_the_files_of_an_event_that_ends_are_shown_without_any_write(api, coordinator, setting, organisations):
    nairobi = ZoneInfo("Africa/Nairobi")
    now = datetime.now(nairobi).replace(microsecond=0, tzinfo=None)
    today = now.date()
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        "name": "Today", "description": "…", "languages": ["en"], "day_of_action": today.isoformat(),
        "window_start": (today - timedelta(days=1)).isoformat(), "window_end": (today + timedelta(days=1)).isoformat(),
        "status": "open"}).json
    # An event under way that ends a few seconds from now: its files are private until then.
    ends = now + timedelta(seconds=8)
    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, {**setting, "campaign": campaign},
                                         start=(now - timedelta(hours=1)).isoformat(), end=ends.isoformat())["id"])
    photo = uploaded(api, token, campaign["id"], consent="true", event_id=event)
    report = published(api, coordinator, token, event_id=event, media_ids=[photo["id"]])
    paths = outputs(campaign["id"])
    before = fetch(api, paths)
    assert datetime.now(nairobi).replace(tzinfo=None) < ends, "the setting took too long for this test"
    assert [r["id"] for r in before["overview"].json["reports"]] == [report["id"]]
    assert photo["id"] not in before["overview"].get_data(as_text=True)
    assert photo["id"] not in before["feed"].get_data(as_text=True)
    revision_before = revision(api, campaign["id"])

    time.sleep(max(0.0, (ends - datetime.now(nairobi).replace(tzinfo=None)).total_seconds()) + 0.5)
    after = all_changed(api, paths, tags(before))
    assert [m["id"] for m in after["overview"].json["reports"][0]["media"]] == [photo["id"]]
    assert photo["id"] in after["feed"].get_data(as_text=True)
    assert revision(api, campaign["id"]) == revision_before  # time alone, no write
