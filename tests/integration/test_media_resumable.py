"""Resumable uploads (tus 1.0.0) against a real HTTP server: a real tus client, an upload cut
off half-way and resumed, and the protocol's refusals."""
from __future__ import annotations

import base64
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from tests.integration.test_media_uploads import jpeg_with_secrets, processed

RESUMABLE = "/api/media/uploads/resumable"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def server(api):
    """The platform on a real socket (werkzeug's threaded server streams request bodies)."""
    http = make_server("127.0.0.1", 0, api.platform.wsgi, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def metadata(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in values.items())


def create(server, token, length: int, **values) -> requests.Response:
    return requests.post(server + RESUMABLE, headers={
        **TUS, "Authorization": f"Bearer {token}", "Upload-Length": str(length),
        "Upload-Metadata": metadata(**values)}, timeout=10)


def send_and_drop(url: str, token: str, offset: int, body: bytes, sent: int) -> None:
    """A PATCH that promises `body` but the connection dies after `sent` bytes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Upload-Offset: {offset}\r\nContent-Length: {len(body)}\r\n\r\n")
        sock.sendall(head.encode() + body[:sent])
        sock.shutdown(socket.SHUT_WR)
        try:
            sock.recv(1024)
        except OSError:
            pass


def test_an_upload_cut_off_half_way_continues_from_where_it_stopped(api, server, setting, media_campaign):
    token = setting["tokens"][0]
    photo = jpeg_with_secrets(2000, 1500)
    created = create(server, token, len(photo), campaign_id=media_campaign, consent="true", name="march.jpg")
    assert created.status_code == 201, created.text
    url = server + urlsplit(created.headers["Location"]).path
    send_and_drop(url, token, 0, photo, len(photo) // 2)

    def offset() -> int:
        head = requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10)
        assert head.status_code == 200 and head.headers["Cache-Control"] == "no-store"
        return int(head.headers["Upload-Offset"])

    arrived = offset()
    assert 0 < arrived <= len(photo) // 2
    wrong = requests.patch(url, data=photo[arrived:], headers={
        **TUS, "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0"}, timeout=10)
    assert wrong.status_code == 409 and wrong.json()["offset"] == arrived
    done = requests.patch(url, data=photo[arrived:], headers={
        **TUS, "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": str(arrived)}, timeout=10)
    assert done.status_code == 204 and done.headers["Upload-Offset"] == str(len(photo))
    item = processed(api, token, urlsplit(done.headers["Media-Location"]).path)
    assert item["status"] == "processed" and item["size"] == len(photo) and item["name"] == "march.jpg"


def test_a_real_tus_client_uploads_in_chunks(api, server, setting, media_campaign):
    from tusclient import client

    token = setting["tokens"][0]
    photo = jpeg_with_secrets(1200, 900)
    tus = client.TusClient(server + RESUMABLE, headers={"Authorization": f"Bearer {token}"})
    uploader = tus.uploader(file_stream=__import__("io").BytesIO(photo), chunk_size=16 * 1024,
                            metadata={"campaign_id": media_campaign, "name": "chunks.jpg"})
    uploader.upload()
    head = requests.head(uploader.url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10)
    assert head.headers["Upload-Offset"] == str(len(photo)) and "Media-Location" in head.headers


def test_the_protocol_refuses_what_it_must(api, server, setting, media_campaign):
    token, other = setting["tokens"]
    options = requests.options(server + RESUMABLE, timeout=10)
    assert options.status_code == 204 and "creation" in options.headers["Tus-Extension"]
    no_version = requests.post(server + RESUMABLE, headers={"Authorization": f"Bearer {token}",
                                                           "Upload-Length": "10"}, timeout=10)
    assert no_version.status_code == 412
    assert create(server, token, 10**12, campaign_id=media_campaign).status_code == 413
    assert create(server, token, 100, campaign_id="nope").status_code == 422
    odd = requests.post(server + RESUMABLE, headers={**TUS, "Authorization": f"Bearer {token}",
                                                     "Upload-Length": "\xb2"}, timeout=10)
    assert odd.status_code == 422  # a superscript two is a digit to str.isdigit(), not a length
    uppy = create(server, token, 100, campaign_id=media_campaign, filename="march.mp4", filetype="video/mp4")
    assert uppy.status_code == 201  # keys of the client's own are ignored
    html = b"<html><body>" + b"x" * 9000 + b"</body></html>"
    created = create(server, token, len(html), campaign_id=media_campaign)
    url = server + urlsplit(created.headers["Location"]).path
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {other}"}, timeout=10).status_code == 404
    refused = requests.patch(url, data=html, headers={
        **TUS, "Authorization": f"Bearer {token}", "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0"}, timeout=10)
    assert refused.status_code == 415
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10).status_code == 404
    gone = create(server, token, 100, campaign_id=media_campaign)
    gone_url = server + urlsplit(gone.headers["Location"]).path
    assert requests.delete(gone_url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10
                           ).status_code == 204
    assert requests.head(gone_url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10
                         ).status_code == 404


def test_an_upload_left_unfinished_expires_and_its_bytes_go(api, server, setting, media_campaign):
    from datetime import timedelta

    from services.media.models import ResumableUpload
    from services.media.processing import Processor
    from services.media.storage import work_dir
    from shared.db import utcnow

    token = setting["tokens"][0]
    created = create(server, token, 50_000, campaign_id=media_campaign)
    url = server + urlsplit(created.headers["Location"]).path
    upload_id = url.rsplit("/", 1)[1]
    kernel = api.platform.kernels["media"]
    part = work_dir(kernel.config) / f"{upload_id}.part"
    assert part.exists()
    with kernel.db.transaction() as session:  # as if a day had passed
        session.get(ResumableUpload, upload_id).expires_at = utcnow() - timedelta(seconds=1)
    assert requests.head(url, headers={**TUS, "Authorization": f"Bearer {token}"}, timeout=10).status_code == 410
    Processor(kernel, kernel.dependencies["storage"]).purge_expired_uploads()
    assert not part.exists()
    with kernel.db.transaction() as session:
        assert session.get(ResumableUpload, upload_id) is None
