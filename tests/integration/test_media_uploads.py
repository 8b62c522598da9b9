"""Uploads over HTTP: the type from the content, limits while streaming, the worker's privacy
processing, who may see what, and serving with ranges. SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from services.media.models import Blob, MediaItem
from tests.conftest import wait_until

UPLOADS = "/api/media/uploads"
MEDIA = "/api/media/media"


def jpeg_with_secrets(width: int = 1600, height: int = 1200, colour=(200, 40, 40)) -> bytes:
    """A photo as a phone makes it: GPS, make and model, time, rotated by EXIF."""
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.Base.Model] = "iPhone 14"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.DateTime] = "2022:12:01 14:03:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
                ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (13.0, 24.0, 18.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_bytes(width=64, height=48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def media_kernel(api):
    return api.platform.kernels["media"]


def media_count(api, model=MediaItem) -> int:
    with media_kernel(api).db.transaction() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def media_messages(api) -> list[dict]:
    kernel = media_kernel(api)
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        return [json.loads(b) for b in s.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()]


def upload(api, token, body: bytes, **options):
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return api.post(f"{UPLOADS}?{query}", token=token, data=body,
                    headers={"Content-Type": "application/octet-stream"})


def processed(api, token, location: str, states=("processed", "rejected", "held")) -> dict:
    seen = {}

    def done():
        seen.update(api.get(location, token=token).json)
        return seen.get("status") in states

    wait_until(done, timeout=30, message="the worker to process the upload")
    return seen


def test_a_photo_loses_its_location_device_and_time_and_gets_smaller_copies(api, setting, media_campaign):
    token = setting["tokens"][0]
    response = upload(api, token, jpeg_with_secrets(), campaign_id=media_campaign, consent="true", name="IMG_0042.jpg")
    assert response.status_code == 202, response.json
    assert response.json["status"] == "received" and response.json["kind"] == "photo"
    item = processed(api, token, response.headers["Location"])
    assert item["status"] == "processed", item
    assert (item["width"], item["height"]) == (1200, 1600)  # the EXIF rotation applied, then dropped
    clean = api.get(item["file_url"], token=token)
    assert clean.status_code == 200 and clean.mimetype == "image/jpeg"
    assert clean.headers["X-Content-Type-Options"] == "nosniff"
    for raw in [clean.data] + [api.get(v["url"], token=token).data for v in item["variants"].values()]:
        picture = Image.open(io.BytesIO(raw))
        assert not picture.getexif() and "exif" not in picture.info
        assert b"iPhone" not in raw and b"Apple" not in raw and b"2022:12:01" not in raw
    assert {name: v["width"] for name, v in item["variants"].items()} == {"320": 320, "1280": 1200}
    assert [m["type"] for m in media_messages(api)] == ["media.uploaded", "media.processed"]
    assert not (media_kernel(api).config.var_dir / "media" / "originals" / item["id"]).exists()


def test_the_type_comes_from_the_bytes_not_the_name(api, setting, media_campaign):
    token = setting["tokens"][0]
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    as_jpeg = upload(api, token, pdf, campaign_id=media_campaign, name="photo.jpg")
    assert as_jpeg.status_code == 202 and as_jpeg.json["kind"] == "document"
    assert as_jpeg.json["content_type"] == "application/pdf"
    before = media_count(api)
    html = upload(api, token, b"<!DOCTYPE html><html><script>alert(1)</script></html>", campaign_id=media_campaign,
                  name="cat.png")
    assert html.status_code == 415 and html.mimetype == "application/problem+json"
    assert media_count(api) == before
    assert list((media_kernel(api).config.var_dir / "media-work").glob("*.upload")) == []


def test_limits_are_held_while_the_bytes_stream_in(api, setting, media_campaign):
    kernel = media_kernel(api)
    kernel.config = kernel.config.replace(MEDIA_MAX_PHOTO_BYTES=20_000)  # as if configured so
    photo = jpeg_with_secrets(1600, 1200)
    assert len(photo) > 20_000
    response = upload(api, setting["tokens"][0], photo, campaign_id=media_campaign)
    assert response.status_code == 413 and "20,000 bytes" in response.json["detail"]
    assert media_count(api) == 0
    assert list((kernel.config.var_dir / "media-work").glob("*.upload")) == []


def test_the_same_content_twice_is_stored_once(api, setting, media_campaign):
    token = setting["tokens"][0]
    photo = jpeg_with_secrets(1800, 1400)
    first = processed(api, token, upload(api, token, photo, campaign_id=media_campaign).headers["Location"])
    second = processed(api, token, upload(api, token, photo, campaign_id=media_campaign).headers["Location"])
    assert first["id"] != second["id"]
    assert {n: v["sha256"] for n, v in first["variants"].items()} == \
        {n: v["sha256"] for n, v in second["variants"].items()}
    assert media_count(api, Blob) == 3  # the clean photo and its two smaller copies


def test_broken_files_are_rejected_with_the_reason_and_nothing_kept(api, setting, media_campaign):
    token = setting["tokens"][0]
    whole = png_bytes(400, 300)
    truncated = upload(api, token, whole[: len(whole) // 2], campaign_id=media_campaign)
    assert truncated.status_code == 202
    item = processed(api, token, truncated.headers["Location"])
    assert item["status"] == "rejected" and item["reason"]
    assert item["file_url"] is None and api.get(f"{MEDIA}/{item['id']}/file", token=token).status_code == 404
    assert not (media_kernel(api).config.var_dir / "media" / "originals" / item["id"]).exists()
    assert media_messages(api)[-1]["type"] == "media.rejected"


def test_only_the_owner_and_coordinators_see_an_upload(api, coordinator, setting, media_campaign):
    mine, theirs = setting["tokens"]
    location = upload(api, mine, png_bytes(), campaign_id=media_campaign).headers["Location"]
    item = processed(api, mine, location)
    assert api.get(location, token=theirs).status_code == 404
    assert api.get(location).status_code == 404  # nothing is public before a report publishes it
    assert api.get(f"{MEDIA}/{item['id']}/file", token=theirs).status_code == 404
    assert api.get(location, token=coordinator).status_code == 200
    assert [i["id"] for i in api.get(MEDIA, token=mine).json["items"]] == [item["id"]]
    assert api.get(MEDIA, token=theirs).json["items"] == []
    assert len(api.get(MEDIA, token=coordinator).json["items"]) == 1


@pytest.mark.parametrize("options,status,field", [
    ({}, 422, "campaign_id"),
    ({"campaign_id": "00000000-0000-4000-8000-000000000000"}, 422, "campaign_id"),
    ({"event_id": "00000000-0000-4000-8000-000000000000"}, 422, "event_id"),
    ({"consent": "maybe"}, 422, "consent"),
    ({"organisation_id": "00000000-0000-4000-8000-000000000000"}, 403, None),
])
def test_bad_upload_options_are_named_and_nothing_is_stored(api, setting, media_campaign, options, status, field):
    given = {"campaign_id": media_campaign, **options} if "campaign_id" not in options and options else options
    response = upload(api, setting["tokens"][0], png_bytes(), **given)
    assert response.status_code == status, response.json
    if field:
        assert field in {e["field"] for e in response.json["errors"]}
    assert media_count(api) == 0


def test_uploads_need_a_token(api, setting, media_campaign):
    assert upload(api, None, png_bytes(), campaign_id=media_campaign).status_code == 401


def test_files_are_served_in_ranges_with_etags(api, setting, media_campaign):
    token = setting["tokens"][0]
    text = "Solidarity forever!\n".encode() * 100
    item = processed(api, token, upload(api, token, text, campaign_id=media_campaign, name="Lied.txt").headers["Location"])
    assert item["status"] == "processed", item
    url = item["file_url"]
    whole = api.get(url, token=token)
    assert whole.data == text and whole.headers["Content-Disposition"].startswith("attachment")
    assert whole.mimetype == "text/plain"
    part = api.get(url, token=token, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == text[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(text)}"
    tail = api.get(url, token=token, headers={"Range": "bytes=-5"})
    assert tail.data == text[-5:]
    assert api.get(url, token=token, headers={"Range": f"bytes={len(text) + 10}-"}).status_code == 416
    again = api.get(url, token=token, headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def small_video(tmp_path, **metadata) -> bytes:
    """Two seconds of test picture and tone, tagged as a phone would tag them."""
    import subprocess

    target = tmp_path / "clip.mp4"
    tags = [arg for k, v in metadata.items() for arg in ("-metadata", f"{k}={v}")]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "mpeg4", "-c:a", "aac", "-shortest", *tags,
                    str(target)], check=True, timeout=60)
    return target.read_bytes()


def test_a_video_loses_its_tags_and_gets_a_poster(api, setting, media_campaign, tmp_path):
    token = setting["tokens"][0]
    video = small_video(tmp_path, location="+52.5200+013.4050/", make="Apple", model="iPhone 14")
    item = processed(api, token, upload(api, token, video, campaign_id=media_campaign).headers["Location"])
    assert item["status"] == "processed", item
    assert item["kind"] == "video" and round(item["duration"]) == 2
    clean = api.get(item["file_url"], token=token)
    assert clean.mimetype == "video/mp4" and b"iPhone" not in clean.data and b"52.5200" not in clean.data
    assert api.get(item["variants"]["poster"]["url"], token=token).mimetype == "image/jpeg"


def test_without_ffmpeg_a_video_is_held_and_never_served(api, setting, media_campaign, tmp_path):
    kernel = media_kernel(api)
    video = small_video(tmp_path)
    kernel.config = kernel.config.replace(FFMPEG="/nonexistent/ffmpeg")  # as on a machine without it
    token = setting["tokens"][0]
    item = processed(api, token, upload(api, token, video, campaign_id=media_campaign).headers["Location"])
    assert item["status"] == "held" and "ffmpeg" in item["reason"]
    assert item["file_url"] is None and api.get(f"{MEDIA}/{item['id']}/file", token=token).status_code == 404


def test_a_decompression_bomb_is_rejected(api, setting, media_campaign):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 megapixels in a few kilobytes
    token = setting["tokens"][0]
    item = processed(api, token, upload(api, token, bomb.getvalue(), campaign_id=media_campaign).headers["Location"])
    assert item["status"] == "rejected" and "bomb" in item["reason"]


def test_odd_range_units_and_weak_etags(api, setting, media_campaign):
    token = setting["tokens"][0]
    text = b"We shall overcome.\n" * 10
    item = processed(api, token, upload(api, token, text, campaign_id=media_campaign).headers["Location"])
    url = item["file_url"]
    assert api.get(url, token=token, headers={"Range": "items=0-1"}).status_code == 200
    etag = api.get(url, token=token).headers["ETag"]
    assert api.get(url, token=token, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
