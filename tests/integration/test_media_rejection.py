"""A coordinator rejects one file of a report (a face that must not be seen): it is never
served again, to the public nor to its owner, it leaves the report, the overview and the
feed while the rest goes on, and its bytes leave storage unless another upload has the same
ones. SQLite and PostgreSQL."""
from __future__ import annotations

import io
from xml.etree import ElementTree

from PIL import Image
from sqlalchemy import select, update

from services.media.models import Blob, MediaItem
from services.media.storage import blob_key
from services.media.uploads import original_key
from tests.integration.test_finding_events import approved
from tests.integration.test_media_reports import ATOM, REPORTS, known_to_media, send, uploaded
from tests.integration.test_media_uploads import (
    MEDIA,
    jpeg_with_secrets,
    media_kernel,
    media_messages,
    processed,
    small_video,
    upload,
)

FACE = "A face that must not be seen: the woman at the front is wanted by the police."


def rejection(api, media_id: str, token=None, **body):
    return api.post(f"{MEDIA}/{media_id}/rejection", token=token, json=body)


def stored(api, item_id: str) -> dict[str, bool]:
    """Each blob the item's record names (the clean file, its variants): whether it is in
    storage and has its row."""
    kernel = media_kernel(api)
    with kernel.db.transaction() as s:
        item = s.get(MediaItem, item_id)
        shas = [item.clean_sha256, *(v["sha256"] for v in item.variants.values())]
        rows = set(s.execute(select(Blob.sha256).where(Blob.sha256.in_(shas))).scalars())
    return {sha: kernel.dependencies["storage"].exists(blob_key(sha)) and sha in rows for sha in shas}


def blob_state(api, shas) -> dict[str, tuple[bool, bool]]:
    """For each SHA-256: (in storage, has its row)."""
    kernel = media_kernel(api)
    with kernel.db.transaction() as s:
        rows = set(s.execute(select(Blob.sha256).where(Blob.sha256.in_(list(shas)))).scalars())
    return {sha: (kernel.dependencies["storage"].exists(blob_key(sha)), sha in rows) for sha in shas}


def shas_of(item: dict) -> set[str]:
    """The clean file's and the variants' SHA-256 of an item as its owner sees it."""
    return {v["sha256"] for v in item["variants"].values()} | {item["clean_sha256"]}


def with_clean_sha(api, item: dict) -> dict:
    with media_kernel(api).db.transaction() as s:
        return {**item, "clean_sha256": s.get(MediaItem, item["id"]).clean_sha256}


def published_pair(api, coordinator, setting, media_campaign):
    """A published report on an ended event with two consented photos (different bytes):
    (the report, the photo to reject, the one that stays), both public."""
    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])  # in 2022: long over
    face = uploaded(api, token, media_campaign, body=jpeg_with_secrets(1400, 1000, (200, 40, 40)), consent="true",
                    event_id=event)
    crowd = uploaded(api, token, media_campaign, body=jpeg_with_secrets(1400, 1000, (40, 40, 200)), consent="true",
                     event_id=event)
    sent = send(api, token, event_id=event, media_ids=[face["id"], crowd["id"]])
    assert sent.status_code == 201, sent.json
    decided = api.post(f"{REPORTS}/{sent.json['id']}/publication", token=coordinator)
    assert decided.status_code == 200, decided.json
    public = api.get(f"{REPORTS}/{sent.json['id']}").json
    assert [m["id"] for m in public["media"]] == [face["id"], crowd["id"]]
    return public, with_clean_sha(api, face), with_clean_sha(api, crowd)


def feed_enclosures(api, campaign_id: str) -> str:
    feed = ElementTree.fromstring(api.get(f"/api/media/campaigns/{campaign_id}/reports.atom").data)
    return " ".join(link.get("href") for link in feed.iter(f"{ATOM}link") if link.get("rel") == "enclosure")


def test_one_rejected_photo_leaves_the_report_and_is_never_served_again(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    report, face, crowd = published_pair(api, coordinator, setting, media_campaign)
    urls = [f"{MEDIA}/{face['id']}/file"] + [v["url"] for v in face["variants"].values()]
    assert len(urls) == 3 and all(api.get(url).status_code == 200 for url in urls)  # public before
    assert face["id"] in feed_enclosures(api, media_campaign)
    assert all(blob_state(api, shas_of(face)).get(sha) == (True, True) for sha in shas_of(face))

    response = rejection(api, face["id"], token=coordinator, reason=FACE)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["id"], body["status"], body["reason"]) == (face["id"], "rejected", FACE)
    assert body["file_url"] is None and body["variants"] == {}
    assert body["name"] == face["name"] and body["organisation_id"] == face["organisation_id"]  # as `present` gives it

    # The report goes on with the other photo: its page, the overview and the Atom feed.
    public = api.get(f"{REPORTS}/{report['id']}").json
    assert public["status"] == "published" and [m["id"] for m in public["media"]] == [crowd["id"]]
    overview = api.get(f"/api/media/campaigns/{media_campaign}/overview").json
    assert [[m["id"] for m in r["media"]] for r in overview["reports"]] == [[crowd["id"]]]
    enclosures = feed_enclosures(api, media_campaign)
    assert crowd["id"] in enclosures and face["id"] not in enclosures
    assert api.get(f"{MEDIA}/{crowd['id']}/file").status_code == 200

    # Not to the public, not to its owner (nor to coordinators): not the file, not a variant.
    assert api.get(f"{MEDIA}/{face['id']}").status_code == 404
    for url in urls:
        assert api.get(url).status_code == 404, url
        assert api.get(url, token=token).status_code == 404, url
        assert api.get(url, token=coordinator).status_code == 404, url
    seen = api.get(f"{MEDIA}/{face['id']}", token=token)
    assert seen.status_code == 200
    assert (seen.json["status"], seen.json["reason"], seen.json["file_url"]) == ("rejected", FACE, None)
    owners_report = api.get(f"{REPORTS}/{report['id']}", token=token).json
    assert {m["id"]: m["status"] for m in owners_report["media"]} == {face["id"]: "rejected", crowd["id"]: "processed"}

    # The same message the worker sends, with the reason, in the same transaction's outbox.
    [message] = [m for m in media_messages(api) if m["type"] == "media.rejected"]
    assert message["data"]["id"] == face["id"] and message["data"]["reason"] == FACE
    assert message["data"]["status"] == "rejected" and message["data"]["organisation_id"] == face["organisation_id"]

    # No one else has these bytes: the clean file and its variants are gone, rows and all.
    assert blob_state(api, shas_of(face)) == {sha: (False, False) for sha in shas_of(face)}
    assert all(stored(api, crowd["id"]).values())


def test_bytes_another_upload_has_are_kept_until_its_last_item_is_rejected(api, coordinator, setting,
                                                                           media_campaign):
    mine, theirs = setting["tokens"]
    photo = jpeg_with_secrets(1800, 1400, (30, 160, 60))  # 1400 wide once turned: three files
    first = with_clean_sha(api, uploaded(api, mine, media_campaign, body=photo))
    second = with_clean_sha(api, uploaded(api, theirs, media_campaign, body=photo))
    assert shas_of(first) == shas_of(second) and len(shas_of(first)) == 3  # stored once

    assert rejection(api, first["id"], token=coordinator, reason=FACE).status_code == 200
    assert blob_state(api, shas_of(first)) == {sha: (True, True) for sha in shas_of(first)}
    kept = api.get(second["file_url"], token=theirs)
    assert kept.status_code == 200 and kept.data  # the other upload is whole
    assert all(api.get(v["url"], token=theirs).status_code == 200 for v in second["variants"].values())
    assert api.get(first["file_url"], token=mine).status_code == 404

    assert rejection(api, second["id"], token=coordinator, reason=FACE).status_code == 200
    assert blob_state(api, shas_of(first)) == {sha: (False, False) for sha in shas_of(first)}


def _lossless(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return out.getvalue()


def test_a_smaller_copy_another_upload_shares_is_kept(api, coordinator, setting, media_campaign):
    """The same pixels as PNG and as WebP: two clean files, but the same JPEG copies."""
    token = setting["tokens"][0]
    pixels = Image.radial_gradient("L").resize((600, 400)).convert("RGB")
    png = with_clean_sha(api, uploaded(api, token, media_campaign, body=_lossless(pixels, "PNG")))
    webp = with_clean_sha(api, uploaded(api, token, media_campaign, body=_lossless(pixels, "WEBP")))
    shared = {v["sha256"] for v in png["variants"].values()}
    assert png["clean_sha256"] != webp["clean_sha256"] and shared == {v["sha256"] for v in webp["variants"].values()}

    assert rejection(api, png["id"], token=coordinator, reason=FACE).status_code == 200
    assert blob_state(api, [png["clean_sha256"]]) == {png["clean_sha256"]: (False, False)}
    assert blob_state(api, shared) == {sha: (True, True) for sha in shared}
    assert all(api.get(v["url"], token=token).status_code == 200 for v in webp["variants"].values())


def test_a_held_video_can_be_rejected_and_its_upload_goes(api, coordinator, setting, media_campaign, tmp_path):
    kernel = media_kernel(api)
    video = small_video(tmp_path)
    kernel.config = kernel.config.replace(FFMPEG="/nonexistent/ffmpeg")  # as on a machine without it
    token = setting["tokens"][0]
    item = processed(api, token, upload(api, token, video, campaign_id=media_campaign).headers["Location"])
    assert item["status"] == "held" and kernel.dependencies["storage"].exists(original_key(item["id"]))

    response = rejection(api, item["id"], token=coordinator, reason=FACE)
    assert response.status_code == 200 and response.json["status"] == "rejected"
    assert not kernel.dependencies["storage"].exists(original_key(item["id"]))
    assert api.get(f"{MEDIA}/{item['id']}/file", token=token).status_code == 404


def test_a_decision_is_made_once_by_a_coordinator_with_a_reason(api, coordinator, setting, media_campaign):
    token = setting["tokens"][0]
    report, face, _ = published_pair(api, coordinator, setting, media_campaign)

    def unchanged():
        item = api.get(f"{MEDIA}/{face['id']}", token=token).json
        assert (item["status"], item["reason"]) == ("processed", None)
        assert api.get(f"{MEDIA}/{face['id']}/file").status_code == 200
        assert face["id"] in [m["id"] for m in api.get(f"{REPORTS}/{report['id']}").json["media"]]
        assert all(stored(api, face["id"]).values())
        assert "media.rejected" not in [m["type"] for m in media_messages(api)]

    assert rejection(api, face["id"], reason=FACE).status_code == 401
    assert rejection(api, face["id"], token=token, reason=FACE).status_code == 403  # even its owner
    for body in ({"reason": "   "}, {}, {"reason": "x" * 2001}, {"reason": "Turned \u202earound"}, {"reason": 5}):
        refused = rejection(api, face["id"], token=coordinator, **body)
        assert refused.status_code == 422, body
        assert refused.mimetype == "application/problem+json"
        assert "reason" in {e["field"] for e in refused.json["errors"]}, refused.json
    unknown = rejection(api, "00000000-0000-4000-8000-000000000000", token=coordinator, reason=FACE)
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"
    unchanged()

    with media_kernel(api).db.transaction() as s:  # the worker has it (as if claimed again)
        s.execute(update(MediaItem).where(MediaItem.id == face["id"]).values(status="processing"))
    busy = rejection(api, face["id"], token=coordinator, reason=FACE)
    assert busy.status_code == 409 and busy.json["current_status"] == "processing"
    with media_kernel(api).db.transaction() as s:
        s.execute(update(MediaItem).where(MediaItem.id == face["id"]).values(status="processed"))
    unchanged()

    assert rejection(api, face["id"], token=coordinator, reason=FACE).status_code == 200
    again = rejection(api, face["id"], token=coordinator, reason="Another reason")
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert again.json["current_status"] == "rejected" and again.json["reason"] == FACE
    assert [m["type"] for m in media_messages(api)].count("media.rejected") == 1
    assert api.get(f"{MEDIA}/{face['id']}", token=token).json["reason"] == FACE
