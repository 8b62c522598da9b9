"""A campaign's media overview: the newest published reports, the material package and the
turnout in one answer, the same as the separate endpoints give them. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

from services.media.models import EventCheckIns
from tests.conftest import wait_until
from tests.integration.test_finding_events import approved
from tests.integration.test_media_materials import coordinator_upload, wait_processed
from tests.integration.test_media_reports import REPORTS, known_to_media, send, uploaded
from tests.integration.test_participation import notify_knows


def overview(api, campaign_id: str, **kwargs):
    return api.get(f"/api/media/campaigns/{campaign_id}/overview", **kwargs)


def published(api, coordinator, token, **fields) -> dict:
    report = send(api, token, **fields)
    assert report.status_code == 201, report.json
    decided = api.post(f"{REPORTS}/{report.json['id']}/publication", token=coordinator)
    assert decided.status_code == 200, decided.json
    return decided.json


def test_reports_are_the_public_lists_newest_twenty_with_only_public_media(api, coordinator, setting,
                                                                            media_campaign):
    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])  # in 2022: long over
    consented = uploaded(api, token, media_campaign, consent="true", event_id=event)
    unconsented = uploaded(api, token, media_campaign, event_id=event)
    with_photos = published(api, coordinator, token, event_id=event, media_ids=[consented["id"], unconsented["id"]])
    many = [published(api, coordinator, token, campaign_id=media_campaign, country="KE", title={"en": f"Report {n}"},
                      turnout=10) for n in range(20)]
    waiting = send(api, token, campaign_id=media_campaign, country="KE", title={"en": "Not yet decided"}).json
    rejected = send(api, token, campaign_id=media_campaign, country="KE").json
    api.post(f"{REPORTS}/{rejected['id']}/rejection", token=coordinator, json={"reason": "Faces visible"})

    response = overview(api, media_campaign)
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"reports", "materials", "turnout"}
    listed = api.get(f"{REPORTS}?campaign_id={media_campaign}&limit=20").json["items"]
    assert body["reports"] == listed
    assert [r["id"] for r in body["reports"]] == [r["id"] for r in reversed(many)]  # newest first, 20 of 21
    ids = {r["id"] for r in body["reports"]}
    assert with_photos["id"] not in ids and not ids & {waiting["id"], rejected["id"]}
    second = api.get(f"{REPORTS}?campaign_id={media_campaign}&limit=20").json["next"]
    assert [r["id"] for r in api.get(second).json["items"]] == [with_photos["id"]]  # the oldest: not here

    # A token changes nothing: the report's owner and coordinators get the public's overview.
    assert overview(api, media_campaign, token=coordinator).json == body
    assert overview(api, media_campaign, token=token).json == body
    everything = api.get(f"{REPORTS}?campaign_id={media_campaign}&limit=20", token=coordinator).json["items"]
    assert [r["id"] for r in everything] != [r["id"] for r in body["reports"]]  # they would see more


def test_the_public_media_of_a_report_are_the_lists(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])
    consented = uploaded(api, token, media_campaign, consent="true", event_id=event)
    unconsented = uploaded(api, token, media_campaign, event_id=event)
    report = published(api, coordinator, token, event_id=event, media_ids=[consented["id"], unconsented["id"]])
    assert len(report["media"]) == 2  # a coordinator sees both
    [shown] = overview(api, media_campaign, token=coordinator).json["reports"]
    assert shown == api.get(f"{REPORTS}?campaign_id={media_campaign}&limit=20").json["items"][0]
    assert [m["id"] for m in shown["media"]] == [consented["id"]]
    assert "name" not in shown["media"][0] and "organisation_id" not in shown["media"][0]


def test_materials_and_turnout_are_what_their_own_endpoints_give(api, coordinator, setting, media_campaign):
    kenya, bulgaria = setting["tokens"]
    assert overview(api, media_campaign).json == {"reports": [], "materials": [], "turnout": []}
    uploads = [coordinator_upload(api, coordinator, media_campaign, f"Slogan {n}\n".encode()) for n in range(3)]
    wait_processed(api, coordinator, uploads)
    path = f"/api/media/campaigns/{media_campaign}/materials"
    for n, (media_id, language) in enumerate(zip(uploads, ("tr", "en", "de"), strict=True)):
        made = api.post(path, token=coordinator, json={"kind": "slogan", "language": language,
                                                       "title": f"Slogan {n}", "media_id": media_id})
        assert made.status_code == 201, made.json
    published(api, coordinator, kenya, campaign_id=media_campaign, country="KE", turnout=2000)
    published(api, coordinator, kenya, campaign_id=media_campaign, country="KE", turnout=500)
    published(api, coordinator, bulgaria, campaign_id=media_campaign, country="BG", turnout=3000)
    send(api, bulgaria, campaign_id=media_campaign, country="BG", turnout=99999)  # not published: not counted

    body = overview(api, media_campaign).json
    assert body["materials"] == api.get(path).json["items"]
    assert [m["language"] for m in body["materials"]] == ["de", "en", "tr"]
    assert body["turnout"] == api.get(f"/api/media/campaigns/{media_campaign}/turnout").json["countries"]
    assert body["turnout"] == [{"country": "BG", "reports": 1, "turnout": 3000},
                               {"country": "KE", "reports": 2, "turnout": 2500}]


def test_a_country_on_hold_leaves_the_overview_with_the_list(api, coordinator, setting, media_campaign):
    kenya, bulgaria = setting["tokens"]
    published(api, coordinator, kenya, campaign_id=media_campaign, country="KE", turnout=10)
    held = published(api, coordinator, bulgaria, campaign_id=media_campaign, country="BG", turnout=20)
    assert held["id"] in [r["id"] for r in overview(api, media_campaign).json["reports"]]
    assert api.put("/api/events/countries/BG/hold", token=coordinator, json={"reason": "raids"}).status_code == 200
    listed_path = f"{REPORTS}?campaign_id={media_campaign}&limit=20"
    wait_until(lambda: len(api.get(listed_path).json["items"]) == 1, message="media to hold back Bulgaria")
    body = overview(api, media_campaign).json
    assert body["reports"] == api.get(listed_path).json["items"]
    assert [r["country"] for r in body["reports"]] == ["KE"]
    assert body["turnout"] == [{"country": "KE", "reports": 1, "turnout": 10}]


def test_an_unknown_campaign_is_404_like_its_materials(api, coordinator, setting, media_campaign):
    unknown = str(uuid.uuid4())
    response = overview(api, unknown)
    materials = api.get(f"/api/media/campaigns/{unknown}/materials")
    assert response.status_code == materials.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == materials.json["type"]
    assert overview(api, unknown, token=coordinator).status_code == 404
    assert overview(api, media_campaign).status_code == 200


def test_several_reports_of_one_event_count_its_turnout_once_the_latest_figure(api, coordinator, setting,
                                                                                 media_campaign):
    """A host who reports again corrects the figure: the campaign's turnout takes one figure
    per event (its latest published report that gives one), and every report of no event."""
    kenya = setting["tokens"][0]
    rally = known_to_media(api, approved(api, coordinator, setting)["id"])
    published(api, coordinator, kenya, event_id=rally, turnout=800)
    published(api, coordinator, kenya, event_id=rally, turnout=1200)  # the corrected figure
    published(api, coordinator, kenya, event_id=rally, turnout=None)  # no figure: the last figure stands
    published(api, coordinator, kenya, campaign_id=media_campaign, country="KE", turnout=300)  # no event
    countries = api.get(f"/api/media/campaigns/{media_campaign}/turnout").json
    assert countries["countries"] == [{"country": "KE", "reports": 4, "turnout": 1500}]
    assert countries["total"] == 1500


def counted_at_door(api, token, event_id: str, people: int) -> None:
    """The hosts count `people` at the event's door (notify's check-in), and media hears of it."""
    doors = [{"id": str(uuid.uuid4()), "kind": "door", "delta": 1} for _ in range(people)]
    counted = api.post(f"/api/notify/events/{event_id}/check-ins", token=token, json={"actions": doors})
    assert counted.status_code == 200, counted.json

    def heard():
        with api.platform.kernels["media"].db.transaction() as s:
            row = s.get(EventCheckIns, event_id)
            return row is not None and row.checked_in == people

    wait_until(heard, message="media to hear the door count")


def test_the_door_count_is_an_events_turnout_where_there_is_one(api, coordinator, setting, media_campaign):
    """One figure per event: the people counted at its door where the hosts checked anyone in,
    else its latest reported figure."""
    kenya = setting["tokens"][0]
    rally = known_to_media(api, approved(api, coordinator, setting)["id"])
    unreported = known_to_media(api, approved(api, coordinator, setting, city="Mombasa")["id"])
    wait_until(lambda: all(notify_knows(api, e) for e in (rally, unreported)),
               message="notify to know the events")
    published(api, coordinator, kenya, event_id=rally, turnout=800)  # the host's estimate
    published(api, coordinator, kenya, campaign_id=media_campaign, country="KE", turnout=300)  # no event
    turnout = f"/api/media/campaigns/{media_campaign}/turnout"
    assert api.get(turnout).json["countries"] == [{"country": "KE", "reports": 2, "turnout": 1100}]

    counted_at_door(api, kenya, rally, 3)
    counted_at_door(api, kenya, unreported, 5)
    body = api.get(turnout).json
    assert body["countries"] == [{"country": "KE", "reports": 2, "turnout": 3 + 5 + 300}]
    assert body["total"] == 308
    assert overview(api, media_campaign).json["turnout"] == body["countries"]
