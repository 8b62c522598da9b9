"""Reports after the day: sent by organisations, decided by coordinators, and on the website
only with the media the public may see. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

from services.media.models import KnownEvent
from tests.conftest import wait_until
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_finding_events import approved
from tests.integration.test_media_uploads import MEDIA, jpeg_with_secrets, media_messages, processed, upload

REPORTS = "/api/media/reports"
ATOM = "{http://www.w3.org/2005/Atom}"


def known_to_media(api, event_id: str) -> str:
    def known():
        with api.platform.kernels["media"].db.transaction() as s:
            return s.get(KnownEvent, event_id) is not None

    wait_until(known, message="media to know the approved event")
    return event_id


def uploaded(api, token, campaign_id, body=None, **options) -> dict:
    response = upload(api, token, body or jpeg_with_secrets(1400, 1000), campaign_id=campaign_id, **options)
    assert response.status_code == 202, response.json
    item = processed(api, token, response.headers["Location"])
    assert item["status"] == "processed", item
    return item


def send(api, token, **fields):
    body = {"title": "Nairobi marched", "text": "Two thousand people marched to Uhuru Park.", "language": "en",
            "turnout": 2000, **fields}
    return api.post(REPORTS, token=token, json=body)


def test_a_published_report_shows_only_what_the_public_may_see(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])  # in 2022: long over
    consented = uploaded(api, token, media_campaign, consent="true", event_id=event, name="jane-smith.jpg")
    unconsented = uploaded(api, token, media_campaign, event_id=event)
    leaflet = uploaded(api, token, media_campaign, body=b"Workers of the world, unite!\n")
    sent = send(api, token, event_id=event, media_ids=[consented["id"], unconsented["id"], leaflet["id"]])
    assert sent.status_code == 201, sent.json
    report = sent.json
    assert report["status"] == "submitted" and report["country"] == "KE" and len(report["media"]) == 3
    assert api.get(f"{REPORTS}/{report['id']}").status_code == 404  # not before a coordinator decides
    assert api.get(f"{REPORTS}?campaign_id={media_campaign}").json["items"] == []

    published = api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    assert published.status_code == 200 and published.json["status"] == "published"
    public = api.get(f"{REPORTS}/{report['id']}").json
    assert [m["id"] for m in public["media"]] == [consented["id"], leaflet["id"]]
    photo = api.get(f"{MEDIA}/{consented['id']}").json
    assert "name" not in photo and "organisation_id" not in photo and "sha256" not in photo
    served = api.get(photo["variants"]["1280"]["url"])
    assert served.status_code == 200 and served.headers["Cache-Control"].startswith("public")
    assert api.get(f"{MEDIA}/{unconsented['id']}").status_code == 404
    assert api.get(f"{MEDIA}/{unconsented['id']}/file").status_code == 404

    feed = api.get(f"/api/media/campaigns/{media_campaign}/reports.atom?country=ke")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    [entry] = ElementTree.fromstring(feed.data).findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Nairobi marched"
    enclosures = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert enclosures and consented["id"] in enclosures[0] and unconsented["id"] not in "".join(enclosures)
    elsewhere = api.get(f"/api/media/campaigns/{media_campaign}/reports.atom?country=DE")
    assert ElementTree.fromstring(elsewhere.data).findall(f"{ATOM}entry") == []
    turnout = api.get(f"/api/media/campaigns/{media_campaign}/turnout").json
    assert turnout["countries"] == [{"country": "KE", "reports": 1, "turnout": 2000}] and turnout["total"] == 2000
    assert [m["type"] for m in media_messages(api) if m["type"].startswith("report.")] == \
        ["report.submitted", "report.published"]


def a_coming_event(api, coordinator, setting) -> tuple[dict, str]:
    """A campaign a month ahead, endorsed by the first organisation, and its approved event
    (known to media): (the campaign, the event's id)."""
    soon = date.today() + timedelta(days=30)
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        "name": "Next year", "description": "…", "languages": ["en"], "day_of_action": soon.isoformat(),
        "window_start": soon.isoformat(), "window_end": soon.isoformat(), "status": "open"}).json
    endorsed = api.post(f"{CAMPAIGNS}/{campaign['id']}/endorsements", token=setting["tokens"][0], json={})
    assert endorsed.status_code in (200, 201)
    future = {**setting, "campaign": campaign}
    return campaign, known_to_media(api, approved(api, coordinator, future, start=f"{soon}T17:00:00",
                                                  end=f"{soon}T19:00:00")["id"])


def test_media_of_an_event_stay_private_until_it_has_ended(api, coordinator, setting, organisations):
    campaign, event = a_coming_event(api, coordinator, setting)
    token = setting["tokens"][0]
    photo = uploaded(api, token, campaign["id"], consent="true", event_id=event)
    report = send(api, token, event_id=event, media_ids=[photo["id"]]).json
    api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    assert api.get(f"{REPORTS}/{report['id']}").json["media"] == []
    assert api.get(f"{MEDIA}/{photo['id']}").status_code == 404


def test_a_campaign_can_require_blurred_faces_for_every_public_photo(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    blurred = uploaded(api, token, media_campaign, consent="true", blur_faces="true")
    plain = uploaded(api, token, media_campaign, consent="true")
    report = send(api, token, campaign_id=media_campaign, country="KE", media_ids=[blurred["id"], plain["id"]]).json
    api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    assert len(api.get(f"{REPORTS}/{report['id']}").json["media"]) == 2
    policy = f"/api/media/campaigns/{media_campaign}/policy"
    assert api.put(policy, token=token, json={"require_face_blur": True}).status_code == 403
    assert api.put(policy, token=coordinator, json={"require_face_blur": True}).status_code == 200
    assert [m["id"] for m in api.get(f"{REPORTS}/{report['id']}").json["media"]] == [blurred["id"]]
    assert api.get(f"{MEDIA}/{plain['id']}").status_code == 404


def test_reports_refuse_what_breaks_a_rule_and_change_nothing(api, coordinator, setting, media_campaign):
    mine, theirs = setting["tokens"]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])
    their_photo = uploaded(api, theirs, media_campaign)
    assert send(api, mine, campaign_id=media_campaign, country="KE", media_ids=[their_photo["id"]]).status_code == 422
    assert send(api, theirs, event_id=event).status_code == 403  # not their event
    no_campaign = send(api, mine)
    assert no_campaign.status_code == 422 and no_campaign.json["errors"][0]["field"] == "campaign_id"
    no_country = send(api, mine, campaign_id=media_campaign)
    assert no_country.status_code == 422 and no_country.json["errors"][0]["field"] == "country"
    assert send(api, mine, campaign_id=media_campaign, country="KE", turnout=-5).status_code == 422
    assert send(api, mine, event_id=event, country="DE").status_code == 422
    assert api.get(REPORTS, token=coordinator).json["items"] == []

    report = send(api, mine, event_id=event).json
    assert api.get(f"{REPORTS}/{report['id']}", token=theirs).status_code == 404
    assert api.post(f"{REPORTS}/{report['id']}/publication", token=mine).status_code == 403
    no_reason = api.post(f"{REPORTS}/{report['id']}/rejection", token=coordinator, json={"reason": "  "})
    assert no_reason.status_code == 422
    rejected = api.post(f"{REPORTS}/{report['id']}/rejection", token=coordinator, json={"reason": "Faces visible"})
    assert rejected.status_code == 200 and rejected.json["reason"] == "Faces visible"
    again = api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    assert again.status_code == 409 and again.json["current_status"] == "rejected"
    assert api.patch(f"{REPORTS}/{report['id']}", token=mine, json={"title": "x"}).status_code == 409
    assert api.get(f"{REPORTS}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.get(f"{REPORTS}/{report['id']}").status_code == 404  # rejected: never public


def test_a_report_cannot_lift_an_embargo_or_use_a_cancelled_event(api, coordinator, setting, organisations):
    campaign, event = a_coming_event(api, coordinator, setting)
    token = setting["tokens"][0]
    loose = uploaded(api, token, campaign["id"], consent="true")  # uploaded for no event
    report = send(api, token, event_id=event, media_ids=[loose["id"]]).json
    api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    assert api.get(f"{MEDIA}/{loose['id']}").status_code == 404  # the report's event has not ended

    assert api.post(f"/api/events/events/{event}/cancellation", token=token).status_code == 200

    def cancelled():
        with api.platform.kernels["media"].db.transaction() as s:
            return s.get(KnownEvent, event).status == "cancelled"

    wait_until(cancelled, message="media to hear of the cancellation")
    late = upload(api, token, jpeg_with_secrets(), campaign_id=campaign["id"], event_id=event)
    assert late.status_code == 422 and late.json["errors"][0]["field"] == "event_id"
    assert send(api, token, event_id=event).status_code == 422


def test_coordinators_act_only_for_organisations_that_exist(api, coordinator, setting, media_campaign):
    nobody = "00000000-0000-4000-8000-000000000000"
    made_up = send(api, coordinator, campaign_id=media_campaign, country="DE", organisation_id=nobody)
    assert made_up.status_code == 422 and made_up.json["errors"][0]["field"] == "organisation_id"
    assert send(api, coordinator, campaign_id=media_campaign, country="DE").status_code == 422
    real = setting["orgs"][0]["id"]
    assert send(api, coordinator, campaign_id=media_campaign, country="KE", organisation_id=real).status_code == 201


def test_text_a_feed_cannot_hold_is_refused(api, setting, media_campaign):
    response = send(api, setting["tokens"][0], campaign_id=media_campaign, country="KE", title="Bad \uffff char")
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "title"


def test_lists_show_the_newest_first(api, setting, media_campaign):
    token = setting["tokens"][0]
    titles = [f"Report {n}" for n in range(3)]
    for title in titles:
        assert send(api, token, campaign_id=media_campaign, country="KE", title=title).status_code == 201
    page = api.get(f"{REPORTS}?limit=2", token=token).json
    rest = api.get(page["next"], token=token).json
    assert [r["title"] for r in page["items"] + rest["items"]] == titles[::-1]
