"""The material package: coordinators publish items in versions; everyone downloads the
current ones as one zip whose manifest names each file's SHA-256."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from tests.conftest import wait_until
from tests.integration.test_media_uploads import media_messages, upload

MATERIALS = "/api/media/materials"


def coordinator_upload(api, coordinator, campaign_id, body: bytes) -> str:
    response = upload(api, coordinator, body, campaign_id=campaign_id)
    assert response.status_code == 202, response.json
    return response.json["id"]


def wait_processed(api, coordinator, media_ids: list[str]) -> None:
    def all_done():
        items = {i["id"]: i["status"] for i in api.get(
            "/api/media/media?limit=200&status=processed", token=coordinator).json["items"]}
        return all(m in items for m in media_ids)

    wait_until(all_done, timeout=60, message="the worker to process every upload")


def test_a_package_of_200_items_streams_as_a_zip_that_matches_its_manifest(api, coordinator, media_campaign):
    languages = ("en", "de", "fa", "tr")
    uploads = [coordinator_upload(api, coordinator, media_campaign,
                                  f"Slogan {n}: Hoch die internationale Solidarität! ({languages[n % 4]})\n".encode())
               for n in range(200)]
    wait_processed(api, coordinator, uploads)
    path = f"/api/media/campaigns/{media_campaign}/materials"
    for n, media_id in enumerate(uploads):
        made = api.post(path, token=coordinator, json={"kind": "slogan", "language": languages[n % 4],
                                                       "title": f"Slogan {n}", "media_id": media_id})
        assert made.status_code == 201, made.json
    assert len(api.get(f"{path}?limit=200").json["items"]) == 200

    response = api.get(f"{path}.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert int(response.headers["Content-Length"]) == len(response.data)
    package = zipfile.ZipFile(io.BytesIO(response.data))
    manifest = json.loads(package.read("manifest.json"))
    assert len(manifest["files"]) == 200
    for entry in manifest["files"]:
        assert hashlib.sha256(package.read(entry["path"])).hexdigest() == entry["sha256"]
    index = package.read("INDEX.txt").decode()
    assert all(e["path"] in index and e["sha256"] in index for e in manifest["files"])
    assert sorted(package.namelist()) == sorted(["manifest.json", "INDEX.txt", *(e["path"] for e in
                                                                                  manifest["files"])])

    persian = zipfile.ZipFile(io.BytesIO(api.get(f"{path}.zip?language=fa").data))
    assert {e["language"] for e in json.loads(persian.read("manifest.json"))["files"]} == {"fa"}
    assert len([m for m in media_messages(api) if m["type"] == "material.published"]) == 200


def test_a_new_version_replaces_an_item_and_keeps_the_old_one(api, coordinator, setting, media_campaign):
    first, second = (coordinator_upload(api, coordinator, media_campaign, text)
                     for text in (b"The call, first draft.\n", b"The call, as adopted.\n"))
    wait_processed(api, coordinator, [first, second])
    made = api.post(f"/api/media/campaigns/{media_campaign}/materials", token=coordinator,
                    json={"kind": "statement", "language": "en", "title": "The call", "media_id": first}).json
    newer = api.post(f"{MATERIALS}/{made['id']}/versions", token=coordinator, json={"media_id": second})
    assert newer.status_code == 201 and newer.json["version"] == 2 and newer.json["title"] == "The call"
    history = api.get(f"{MATERIALS}/{made['id']}").json
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert [v["current"] for v in history["versions"]] == [True, False]
    current = api.get(f"/api/media/campaigns/{media_campaign}/materials").json["items"]
    assert [(i["version"], i["media_id"]) for i in current] == [(2, second)]
    package = zipfile.ZipFile(io.BytesIO(api.get(f"/api/media/campaigns/{media_campaign}/materials.zip").data))
    assert [n for n in package.namelist() if n.startswith("statement/")] == ["statement/en-the-call-v2.txt"]
    assert package.read("statement/en-the-call-v2.txt") == b"The call, as adopted.\n"


def test_only_coordinators_publish_processed_files_of_the_campaign(api, coordinator, setting, media_campaign):
    path = f"/api/media/campaigns/{media_campaign}/materials"
    waiting = coordinator_upload(api, coordinator, media_campaign, b"Not yet processed?\n")
    body = {"kind": "song", "language": "tr", "title": "Bella ciao", "media_id": waiting}
    assert api.post(path, token=setting["tokens"][0], json=body).status_code == 403
    assert api.post(path, token=coordinator, json={**body, "kind": "karaoke"}).status_code == 422
    assert api.post(path, token=coordinator, json={**body, "language": "xx"}).status_code == 422
    unknown = api.post(path, token=coordinator, json={**body, "media_id": "00000000-0000-4000-8000-000000000000"})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "media_id"
    assert api.get(path).json["items"] == []
    assert api.get(f"{MATERIALS}/00000000-0000-4000-8000-000000000000").status_code == 404


def test_an_organisations_upload_never_becomes_material(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    response = upload(api, token, b"An organisation's own leaflet.\n", campaign_id=media_campaign)
    wait_processed(api, coordinator, [response.json["id"]])
    refused = api.post(f"/api/media/campaigns/{media_campaign}/materials", token=coordinator,
                       json={"kind": "poster", "language": "en", "title": "P", "media_id": response.json["id"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "media_id"


def test_the_public_downloads_each_material(api, coordinator, media_campaign):
    media_id = coordinator_upload(api, coordinator, media_campaign, b"Bread and roses.\n")
    wait_processed(api, coordinator, [media_id])
    made = api.post(f"/api/media/campaigns/{media_campaign}/materials", token=coordinator,
                    json={"kind": "song", "language": "en", "title": "Bread and roses", "media_id": media_id}).json
    assert api.get(made["file_url"]).data == b"Bread and roses.\n"
