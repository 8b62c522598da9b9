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
    body = {"title": {"en": "Nairobi marched"}, "text": {"en": "Two thousand people marched to Uhuru Park."},
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
    assert api.patch(f"{REPORTS}/{report['id']}", token=mine, json={"title": {"en": "x"}}).status_code == 409
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
    response = send(api, setting["tokens"][0], campaign_id=media_campaign, country="KE", title={"en": "Bad \uffff char"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "title.en.value"


def test_lists_show_the_newest_first(api, setting, media_campaign):
    token = setting["tokens"][0]
    titles = [f"Report {n}" for n in range(3)]
    for title in titles:
        assert send(api, token, campaign_id=media_campaign, country="KE", title={"en": title}).status_code == 201
    page = api.get(f"{REPORTS}?limit=2", token=token).json
    rest = api.get(page["next"], token=token).json
    assert [r["title"] for r in page["items"] + rest["items"]] == titles[::-1]


PERSIAN_AND_ENGLISH = {"title": {"fa": "راهپیمایی در نایروبی", "en": "Nairobi marched"},
                       "text": {"fa": "دو هزار نفر راهپیمایی کردند.", "en": "Two thousand people marched."}}


def test_a_report_in_two_languages_answers_each_reader_in_theirs(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    sent = send(api, token, campaign_id=media_campaign, country="KE", **PERSIAN_AND_ENGLISH)
    assert sent.status_code == 201, sent.json
    path = f"{REPORTS}/{sent.json['id']}"
    assert (sent.json["language"], sent.json["title"]) == ("fa", "راهپیمایی در نایروبی")  # the original: fa first
    english = api.get(f"{path}?lang=en", token=token).json
    assert (english["language"], english["title"], english["text"]) == \
        ("en", "Nairobi marched", "Two thousand people marched.")
    assert english["titles"] == PERSIAN_AND_ENGLISH["title"] and english["texts"] == PERSIAN_AND_ENGLISH["text"]
    assert english["languages"] == ["fa", "en"]
    persian = api.get(path, token=token, headers={"Accept-Language": "fa-IR, en;q=0.5"}).json
    assert (persian["language"], persian["title"], persian["text"]) == \
        ("fa", "راهپیمایی در نایروبی", "دو هزار نفر راهپیمایی کردند.")
    german = api.get(f"{path}?lang=de", token=token, headers={"Accept-Language": "de"}).json
    assert german["language"] == "fa"  # no German: the original language
    api.post(f"{path}/publication", token=coordinator)
    [listed] = api.get(f"{REPORTS}?campaign_id={media_campaign}&lang=en").json["items"]
    assert (listed["language"], listed["title"]) == ("en", "Nairobi marched")
    overview = api.get(f"/api/media/campaigns/{media_campaign}/overview", headers={"Accept-Language": "en"})
    assert overview.json["reports"][0]["title"] == "Nairobi marched" and "Accept-Language" in overview.headers["Vary"]
    in_persian = api.get(f"/api/media/campaigns/{media_campaign}/overview?lang=fa").json["reports"][0]
    assert in_persian["title"] == "راهپیمایی در نایروبی"
    # The feed gives each report as it was written, and the bus carries every language.
    [entry] = ElementTree.fromstring(api.get(f"/api/media/campaigns/{media_campaign}/reports.atom").data
                                     ).findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "راهپیمایی در نایروبی"
    assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "fa"
    published = [m for m in media_messages(api) if m["type"] == "report.published"][-1]
    assert (published["version"], published["data"]["title"], published["data"]["language"]) == \
        (2, PERSIAN_AND_ENGLISH["title"], "fa")


def test_a_text_without_its_title_or_a_plain_string_is_refused(api, setting, media_campaign):
    token, where = setting["tokens"][0], {"campaign_id": media_campaign, "country": "KE"}
    plain = send(api, token, **where, title="Nairobi marched")
    assert plain.status_code == 422 and [e["field"] for e in plain.json["errors"]] == ["title"]
    untitled = send(api, token, **where, title={"en": "Nairobi marched"}, text={"en": "…", "sw": "…"})
    assert untitled.status_code == 422 and untitled.json["type"].endswith(":rule")
    assert untitled.json["errors"][0]["field"] == "text" and "sw" in untitled.json["errors"][0]["message"]
    no_original = send(api, token, **where, title={"fa": "راهپیمایی", "en": "Marched"}, text={"en": "…"})
    assert no_original.status_code == 422 and no_original.json["errors"][0]["field"] == "text"
    assert send(api, token, **where, language="en").status_code == 422  # the languages are the keys now
    assert api.get(REPORTS, token=token).json["items"] == []  # nothing was made

    fewer = send(api, token, **where, title={"fa": "راهپیمایی", "en": "Marched"}, text={"fa": "متن"}).json
    english = api.get(f"{REPORTS}/{fewer['id']}?lang=en", token=token).json
    assert (english["language"], english["title"], english["text"]) == ("en", "Marched", "متن")  # the original text
    changed = api.patch(f"{REPORTS}/{fewer['id']}", token=token, json={"title": {"en": "We marched", "fa": "ما"},
                                                                        "text": {"en": "Many came.", "fa": "متن"}})
    assert changed.status_code == 200 and changed.json["languages"] == ["en", "fa"]  # English is the original now
    assert changed.json["texts"] == {"en": "Many came.", "fa": "متن"}
    refused = api.patch(f"{REPORTS}/{fewer['id']}", token=token, json={"text": {"de": "Viele kamen."}})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "text"
    assert api.get(f"{REPORTS}/{fewer['id']}", token=token).json["titles"] == {"en": "We marched", "fa": "ما"}

