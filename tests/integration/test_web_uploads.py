"""Resumable uploads from the browser through the web front: the tus protocol relayed to the
media service on behalf of the signed-in organisation (its token never leaves the server),
every change guarded by the session's CSRF token, the media API's refusals passed on."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from services.media.models import MediaItem, ResumableUpload
from tests.integration import test_media_resumable
from tests.integration.conftest import ApiClient
from tests.integration.test_media_resumable import metadata
from tests.integration.test_media_uploads import jpeg_with_secrets, processed
from tests.integration.test_web_account import csrf_of, sign_in

TUS = {"Tus-Resumable": "1.0.0"}
PROBLEM = "application/problem+json"


def signed_in(api, coordinator, setting) -> str:
    """Sign the first organisation in, as a browser; answer the CSRF token its pages carry."""
    key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    assert sign_in(api, key).status_code == 303
    return csrf_of(api.get("/me"))


def create(api, csrf: str | None, length: int, **values):
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(**values)}
    if csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return api.post("/me/uploads", headers=headers)


def patch(api, url: str, csrf: str, offset: int, body: bytes):
    return api.patch(url, data=body, headers={**TUS, "X-CSRF-Token": csrf, "Upload-Offset": str(offset),
                                               "Content-Type": "application/offset+octet-stream"})


def counts(api) -> tuple[int, int]:
    with api.platform.kernels["media"].db.transaction() as session:
        return (session.execute(select(func.count()).select_from(MediaItem)).scalar_one(),
                session.execute(select(func.count()).select_from(ResumableUpload)).scalar_one())


def test_a_photo_goes_up_in_parts_through_the_web_front(api, coordinator, setting, media_campaign, monkeypatch):
    from services.media import resumable

    csrf = signed_in(api, coordinator, setting)
    offered = api.request("OPTIONS", "/me/uploads")
    assert offered.status_code == 204 and "creation" in offered.headers["Tus-Extension"]
    photo = jpeg_with_secrets(1600, 1200)
    created = create(api, csrf, len(photo), campaign_id=media_campaign, consent="true", blur_faces="false",
                     name="march.jpg")
    assert created.status_code == 201, created.data
    url = created.headers["Location"]
    assert urlsplit(url).path.startswith("/me/uploads/") and "/api/" not in url  # the web's own address
    assert created.headers["Tus-Resumable"] == "1.0.0" and created.headers["Upload-Offset"] == "0"

    # The media app reads the PATCH body from the relay as a stream, not as bytes the relay read whole.
    streams = []
    append = resumable.append

    def spying(part, offset, length, stream, config):
        from flask import request

        streams.append(type(request.environ["wsgi.input"]).__name__)
        return append(part, offset, length, stream, config)

    monkeypatch.setattr(resumable, "append", spying)

    thirds = [0, len(photo) // 3, 2 * len(photo) // 3, len(photo)]
    first = patch(api, url, csrf, 0, photo[:thirds[1]])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(thirds[1])
    head = api.request("HEAD", url, headers=TUS)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(thirds[1])
    assert head.headers["Upload-Length"] == str(len(photo)) and head.headers["Cache-Control"] == "no-store"
    assert "Media-Location" not in head.headers and "Upload-Expires" in head.headers

    out_of_step = patch(api, url, csrf, 0, photo[:10])
    assert out_of_step.status_code == 409 and out_of_step.mimetype == PROBLEM
    assert out_of_step.json["offset"] == thirds[1]

    assert patch(api, url, csrf, thirds[1], photo[thirds[1]:thirds[2]]).status_code == 204
    done = patch(api, url, csrf, thirds[2], photo[thirds[2]:])
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(photo))
    assert streams == ["StreamBody"] * 3
    media_url = done.headers["Media-Location"]
    item = processed(api, setting["tokens"][0], urlsplit(media_url).path)
    assert item["status"] == "processed", item
    assert item["size"] == len(photo) and item["name"] == "march.jpg" and item["consent"] is True
    assert item["organisation_id"] == setting["orgs"][0]["id"]
    assert api.request("HEAD", url, headers=TUS).headers["Media-Location"] == media_url

    # The page's form then names it: the report carries the media sent before it.
    sent = api.post("/me/reports", data={
        "csrf": csrf, "campaign_id": media_campaign, "title": "Nairobi marched", "text": "Thousands came.",
        "country": "KE", "language": "en", "consent": "on", "media_ids": item["id"]},
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert sent.status_code == 303, sent.data
    report = api.get("/api/media/reports", token=setting["tokens"][0]).json["items"][0]
    assert [m["id"] for m in report["media"]] == [item["id"]]


def test_only_a_signed_in_organisation_with_the_pages_csrf_token_uploads(api, coordinator, setting, media_campaign):
    stranger = ApiClient(api.platform)
    refused = create(stranger, "anything", 100, campaign_id=media_campaign)
    assert refused.status_code == 401 and refused.mimetype == PROBLEM
    some_id = "00000000-0000-4000-8000-000000000000"
    assert stranger.request("HEAD", f"/me/uploads/{some_id}", headers=TUS).status_code == 401
    assert patch(stranger, f"/me/uploads/{some_id}", "anything", 0, b"x").status_code == 401

    csrf = signed_in(api, coordinator, setting)
    for wrong in (None, "", "forged", csrf[:-1] + ("A" if csrf[-1] != "A" else "B"), "ü"):
        refused = create(api, wrong, 100, campaign_id=media_campaign)
        assert refused.status_code == 400 and refused.mimetype == PROBLEM, wrong
        assert "X-CSRF-Token" in refused.json["detail"]
    assert counts(api) == (0, 0)  # nothing started

    created = create(api, csrf, 100, campaign_id=media_campaign)
    url = created.headers["Location"]
    assert patch(api, url, "forged", 0, b"x" * 100).status_code == 400
    assert api.delete(url, headers={**TUS}).status_code == 400
    assert api.request("HEAD", url, headers=TUS).headers["Upload-Offset"] == "0"  # HEAD changes nothing: no token
    assert api.delete(url, headers={**TUS, "X-CSRF-Token": csrf}).status_code == 204
    assert api.request("HEAD", url, headers=TUS).status_code == 404
    assert counts(api) == (0, 0)


def test_the_media_services_refusals_come_back_as_problems_and_nothing_stays(api, coordinator, setting,
                                                                              media_campaign):
    from services.media.storage import work_dir

    csrf = signed_in(api, coordinator, setting)
    page = b"<!DOCTYPE html><html><body><script>alert(1)</script>" + b"x" * 9000 + b"</body></html>"
    created = create(api, csrf, len(page), campaign_id=media_campaign, name="photo.png", consent="true")
    assert created.status_code == 201
    url = created.headers["Location"]
    refused = patch(api, url, csrf, 0, page)
    assert refused.status_code == 415 and refused.mimetype == PROBLEM
    assert "not taken" in refused.json["detail"] and refused.headers["Tus-Resumable"] == "1.0.0"
    assert api.request("HEAD", url, headers=TUS).status_code == 404
    assert counts(api) == (0, 0)
    assert not list(work_dir(api.platform.kernels["media"].config).glob("*.part"))
    assert api.get("/api/media/media", token=setting["tokens"][0]).json["items"] == []

    too_large = create(api, csrf, 10**12, campaign_id=media_campaign)
    assert too_large.status_code == 413 and too_large.mimetype == PROBLEM
    not_a_campaign = create(api, csrf, 100, campaign_id="nope")
    assert not_a_campaign.status_code == 422 and not_a_campaign.json["errors"][0]["field"] == "campaign_id"
    other = create(api, csrf, 100, campaign_id=media_campaign).headers["Location"]
    wrong_type = api.patch(other, data=b"x", headers={**TUS, "X-CSRF-Token": csrf, "Upload-Offset": "0",
                                                      "Content-Type": "application/octet-stream"})
    assert wrong_type.status_code == 415 and wrong_type.mimetype == PROBLEM  # a bare 415, given a problem's body
    no_version = api.post("/me/uploads", headers={"X-CSRF-Token": csrf, "Upload-Length": "10"})
    assert no_version.status_code == 412 and no_version.mimetype == PROBLEM


def test_the_report_form_is_ready_for_the_script_and_works_without_it(api, coordinator, setting, media_campaign):
    signed_in(api, coordinator, setting)
    html = api.get("/me/reports").data.decode()  # the organisation area's section for reports
    assert 'id="report-form"' in html and 'data-uploads="/me/uploads"' in html
    assert '<script src="/static/upload.js" defer></script>' in html
    assert 'name="files" type="file"' in html and 'action="/me/reports"' in html
    script = api.get("/static/upload.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert "default-src 'self'" in script.headers["Content-Security-Policy"]  # the script is a file of the site


server = test_media_resumable.server  # the platform on a real socket: the web front reaches it over HTTP


def test_over_http_the_relay_streams_and_passes_refusals_on(api, server, coordinator, setting, media_campaign):
    """Distributed mode: the web front on its own, the media service at the far end of a socket."""
    import io
    import os
    from types import SimpleNamespace

    from PIL import Image

    from services.web.app import create_app
    from services.web.client import Api

    browser = ApiClient(SimpleNamespace(wsgi=create_app(api.platform.config, Api(server))))
    key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    assert sign_in(browser, key).status_code == 303
    csrf = csrf_of(browser.get("/me"))
    out = io.BytesIO()
    Image.frombytes("RGB", (1400, 1000), os.urandom(1400 * 1000 * 3)).save(out, "JPEG", quality=90)
    photo = out.getvalue()
    assert len(photo) > 4 * 256 * 1024  # more than one read of the relay's

    created = create(browser, csrf, len(photo), campaign_id=media_campaign, name="noise.jpg")
    assert created.status_code == 201 and created.headers["Location"].startswith("/me/uploads/")
    url = created.headers["Location"]
    half = len(photo) // 2
    assert patch(browser, url, csrf, 0, photo[:half]).status_code == 204
    assert browser.request("HEAD", url, headers=TUS).headers["Upload-Offset"] == str(half)
    done = patch(browser, url, csrf, half, photo[half:])
    assert done.status_code == 204 and urlsplit(done.headers["Media-Location"]).path.startswith("/api/media/media/")
    item = processed(api, setting["tokens"][0], urlsplit(done.headers["Media-Location"]).path)
    assert item["size"] == len(photo) and item["name"] == "noise.jpg"

    # A web page of 2 MB named like a photo: the media service refuses it after its first bytes.
    page = b"<!DOCTYPE html><html><body>" + b"x" * (2 * 1024 * 1024) + b"</body></html>"
    other = create(browser, csrf, len(page), campaign_id=media_campaign, name="photo.png").headers["Location"]
    refused = patch(browser, other, csrf, 0, page)
    assert refused.status_code == 415 and refused.mimetype == PROBLEM and "not taken" in refused.json["detail"]
    assert browser.request("HEAD", other, headers=TUS).status_code == 404
