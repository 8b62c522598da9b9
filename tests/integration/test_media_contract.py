"""The API contract as an integrator meets it on the media service: what a 201 points to
answers, the material package pages like every list, a query parameter the document does not
name is refused by name, the platform's own lag is never the caller's fault, and the document
says what the answers are."""
from __future__ import annotations

import uuid

from shared.ids import new_time_ordered_id
from tests.integration.test_media_materials import coordinator_upload, wait_processed
from tests.integration.test_media_resumable import metadata

MATERIALS = "/api/media/materials"


def materials_of(campaign_id: str) -> str:
    return f"/api/media/campaigns/{campaign_id}/materials"


def published(api, coordinator, campaign_id: str, texts: list[bytes], language: str = "en") -> list[dict]:
    media_ids = [coordinator_upload(api, coordinator, campaign_id, text) for text in texts]
    wait_processed(api, coordinator, media_ids)
    made = [api.post(materials_of(campaign_id), token=coordinator,
                     json={"kind": "slogan", "language": language, "title": f"Slogan {n}", "media_id": media_id})
            for n, media_id in enumerate(media_ids)]
    assert all(m.status_code == 201 for m in made), [m.json for m in made]
    return made


def test_what_a_201_points_to_answers_get_with_the_same_credentials(api, coordinator, setting, media_campaign):
    first, second = published(api, coordinator, media_campaign, [b"The call.\n", b"The call, adopted.\n"])
    assert api.get(first.headers["Location"], token=coordinator).json["id"] == first.json["id"]

    replacement = coordinator_upload(api, coordinator, media_campaign, b"The call, final.\n")
    wait_processed(api, coordinator, [replacement])
    newer = api.post(f"{MATERIALS}/{first.json['id']}/versions", token=coordinator, json={"media_id": replacement})
    assert newer.status_code == 201
    shown = api.get(newer.headers["Location"], token=coordinator).json
    assert shown["id"] == newer.json["id"] and shown["version"] == 2

    token = setting["tokens"][0]
    report = api.post("/api/media/reports", token=token, json={
        "campaign_id": media_campaign, "country": "KE", "title": {"en": "We marched"},
        "text": {"en": "Many came."}})
    assert report.status_code == 201
    assert api.get(report.headers["Location"], token=token).json == report.json


def test_a_resumable_upload_answers_get_where_its_201_points(api, setting, media_campaign):
    token, other = setting["tokens"]
    created = api.post("/api/media/uploads/resumable", token=token, headers={
        "Tus-Resumable": "1.0.0", "Upload-Length": "11", "Upload-Metadata": metadata(campaign_id=media_campaign)})
    assert created.status_code == 201
    shown = api.get(created.headers["Location"], token=token)
    assert shown.status_code == 200 and shown.json["offset"] == 0 and shown.json["length"] == 11
    assert shown.json["media_id"] is None
    assert api.get(created.headers["Location"], token=other).status_code == 404


def test_the_material_package_pages_by_key_with_next(api, coordinator, media_campaign):
    published(api, coordinator, media_campaign, [f"Slogan {n}\n".encode() for n in range(3)])
    first = api.get(f"{materials_of(media_campaign)}?limit=2").json
    assert len(first["items"]) == 2 and first["next"]
    rest = api.get(first["next"]).json
    assert len(rest["items"]) == 1 and rest["next"] is None
    seen = [i["id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(i["id"] for i in api.get(materials_of(media_campaign)).json["items"])
    assert len(set(seen)) == 3


def test_the_content_language_is_language_and_an_unknown_parameter_is_refused_by_name(api, coordinator,
                                                                                     media_campaign):
    published(api, coordinator, media_campaign, [b"Hoch die Solidaritaet!\n"], language="de")
    assert [i["language"] for i in api.get(f"{materials_of(media_campaign)}?language=de").json["items"]] == ["de"]
    assert api.get(f"{materials_of(media_campaign)}?language=fa").json["items"] == []
    for path in (f"{materials_of(media_campaign)}?lang=de", f"{materials_of(media_campaign)}.zip?lang=de"):
        refused = api.get(path)
        assert refused.status_code == 400 and refused.json["type"].endswith(":unknown-parameter")
        assert [e["field"] for e in refused.json["errors"]] == ["lang"]
    typo = api.post(f"/api/media/uploads?campaign={media_campaign}", token=coordinator, data=b"Text.\n",
                    headers={"Content-Type": "application/octet-stream"})
    assert typo.status_code == 400 and "campaign" in typo.json["detail"]


def test_the_upload_options_are_documented_as_they_are_taken(api):
    spec = api.get("/api/media/openapi.json").json
    parameters = {p["name"]: p for p in spec["paths"]["/api/media/uploads"]["post"]["parameters"]}
    assert parameters["campaign_id"]["required"] is True and parameters["campaign_id"]["in"] == "query"
    assert not parameters["event_id"].get("required") and parameters["consent"]["schema"]["type"] == "boolean"
    made = spec["paths"]["/api/media/campaigns/{campaign_id}/materials"]["post"]["responses"]["201"]
    assert "Location" in made["headers"]
    listed = spec["paths"]["/api/media/campaigns/{campaign_id}/materials"]["get"]["responses"]["200"]
    page = listed["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(spec["components"]["schemas"][page]["properties"]) == {"items", "next"}


def test_a_campaign_made_a_moment_ago_is_the_platforms_lag_not_the_callers_mistake(api, coordinator, setting):
    fresh, made_up = new_time_ordered_id(), str(uuid.uuid4())
    token = setting["tokens"][0]
    for campaign_id, status in ((fresh, 503), (made_up, 422)):
        answer = api.post(f"/api/media/uploads?campaign_id={campaign_id}", token=token, data=b"Text.\n",
                          headers={"Content-Type": "application/octet-stream"})
        assert answer.status_code == status, answer.json
        report = api.post("/api/media/reports", token=token, json={
            "campaign_id": campaign_id, "country": "KE", "title": {"en": "T"}, "text": {"en": "X"}})
        assert report.status_code == status, report.json
    for campaign_id, status in ((fresh, 503), (made_up, 404)):
        for path in (materials_of(campaign_id), f"/api/media/campaigns/{campaign_id}/overview",
                     f"/api/media/campaigns/{campaign_id}/turnout"):
            answer = api.get(path)
            assert answer.status_code == status, (path, answer.json)
            assert ("Retry-After" in answer.headers) == (status == 503)
    lagging = api.get(materials_of(fresh))
    assert lagging.headers["Retry-After"] == "1" and lagging.json["type"].endswith(":not-yet-known")
