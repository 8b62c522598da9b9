"""Media storage against a real server that speaks the S3 API: moto's server mode, started
here as a process of its own on a free loopback port and stopped at the session's end.

The same checks run on LocalStorage and S3Storage (the two must behave alike), then the whole
platform keeps its files in the bucket: uploaded, processed, served with ranges and ETags,
and nothing written to the local media folder. Skipped when moto's server cannot start,
unless DOA_REQUIRE_SERVICES=1 (CI sets it) makes that a failure."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from PIL import Image

from services.media.storage import CHUNK, LocalStorage, S3Storage, blob_key
from shared.config import Config
from tests.integration.conftest import ApiClient
from tests.integration.test_media_uploads import jpeg_with_secrets, png_bytes, processed, upload

KEYS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": "us-east-1"}
PREFIX = "media"
TEXT = b"Workers of the world, unite!\n"  # 29 bytes


# --- the S3 server -------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unavailable(message: str):
    if os.environ.get("DOA_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _start_moto(log_path: Path) -> tuple[subprocess.Popen, str] | str:
    """moto's server on a free port, once it answers; or why it did not start."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            return f"moto's server exited with {process.returncode}: {' | '.join(tail) or 'no output'}"
        try:
            if requests.get(f"{url}/moto-api/", timeout=1).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.1)
    _stop(process)
    return f"moto's server did not answer on {url} within 20 s"


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> str:
    """The endpoint URL of a moto server of this session's own (`python -m moto.server`)."""
    folder = tmp_path_factory.mktemp("moto")
    why = "moto's server was not tried"
    for attempt in range(3):  # another process may take the free port before moto binds it
        started = _start_moto(folder / f"moto-{attempt}.log")
        if not isinstance(started, str):
            break
        why = started
    else:
        _unavailable(f"no S3 server to test against: {why} (pip install 'moto[server]')")
    process, url = started
    yield url
    _stop(process)


@pytest.fixture
def s3(s3_server):
    import boto3

    return boto3.client("s3", endpoint_url=s3_server, region_name=KEYS["S3_REGION"],
                        aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"])


@pytest.fixture
def bucket(s3) -> str:
    """A bucket of this test's own (the server lives for the session)."""
    name = f"doa-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def s3_config(endpoint: str, **overrides) -> Config:
    return Config(environ={}, S3_ENDPOINT_URL=endpoint, **KEYS, **overrides)


def stored_keys(s3, bucket: str, prefix: str = "") -> set[str]:
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {entry["Key"] for entry in page.get("Contents", [])}
    return keys


# --- one contract, two backends ------------------------------------------------------------

@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """LocalStorage, then S3Storage on moto: every test below runs on both."""
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    endpoint, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("bucket")
    return S3Storage(bucket, f"/{PREFIX}/", s3_config(endpoint))


def a_file(folder: Path, content: bytes, name: str = "source") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def read_all(store, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.read(key, start, end))


def test_put_stores_the_file_and_removes_the_source(store, tmp_path):
    source = a_file(tmp_path / "work", TEXT)
    assert not store.exists("originals/one")
    store.put(source, "originals/one", "text/plain")
    assert not source.exists()
    assert store.exists("originals/one")
    assert read_all(store, "originals/one") == TEXT


def test_exists_names_objects_only(store, tmp_path):
    key = blob_key(hashlib.sha256(TEXT).hexdigest())
    store.put(a_file(tmp_path / "work", TEXT), key, "text/plain")
    assert store.exists(key)
    assert not store.exists(key.rsplit("/", 1)[0])  # the "folder" above it is no object
    assert not store.exists(key + "x")
    assert not store.exists("never/stored")


@pytest.mark.parametrize("start,end,expected", [
    (0, None, TEXT),
    (0, 0, TEXT[:1]),
    (0, 9, TEXT[:10]),
    (3, 7, TEXT[3:8]),
    (len(TEXT) - 1, len(TEXT) - 1, TEXT[-1:]),  # the last byte alone
    (len(TEXT) - 1, None, TEXT[-1:]),
    (10, None, TEXT[10:]),
    (20, len(TEXT) + 100, TEXT[20:]),  # an end past the last byte stops at it
], ids=["whole", "0-0", "0-9", "3-7", "last-last", "last-", "10-", "20-beyond"])
def test_read_gives_the_bytes_from_start_to_end_inclusive(store, tmp_path, start, end, expected):
    store.put(a_file(tmp_path / "work", TEXT), "k", "text/plain")
    assert read_all(store, "k", start, end) == expected


def test_a_read_given_up_half_way_closes_cleanly(store, tmp_path):
    content = os.urandom(3 * CHUNK + 17)
    store.put(a_file(tmp_path / "work", content), "k", "application/octet-stream")
    chunks = store.read("k")
    assert next(chunks) == content[:CHUNK]
    chunks.close()  # what the WSGI server does when a client goes away
    assert read_all(store, "k") == content  # and the store still answers


def test_an_empty_file_reads_as_nothing(store, tmp_path):
    store.put(a_file(tmp_path / "work", b""), "empty", "text/plain")
    assert store.exists("empty")
    assert read_all(store, "empty") == b""


def test_fetch_copies_the_object_to_a_local_file(store, tmp_path):
    store.put(a_file(tmp_path / "work", TEXT), "k", "text/plain")
    target = tmp_path / "processing" / "original"
    target.parent.mkdir()
    store.fetch("k", target)
    assert target.read_bytes() == TEXT
    assert store.exists("k")  # a copy: the object stays


def test_delete_removes_and_a_missing_key_is_no_error(store, tmp_path):
    store.put(a_file(tmp_path / "work", TEXT), "originals/x", "text/plain")
    store.put(a_file(tmp_path / "work", TEXT[::-1]), "originals/y", "text/plain")
    store.delete("originals/x")
    assert not store.exists("originals/x")
    assert store.exists("originals/y")  # only the key named
    store.delete("originals/x")
    store.delete("never/stored")


def test_a_large_file_goes_in_and_out_in_chunks(store, tmp_path):
    size = 20 * 1024 * 1024 + 12_345  # above boto3's multipart threshold (8 MB), not a whole number of parts
    content = os.urandom(size)
    digest = hashlib.sha256(content).hexdigest()
    source = a_file(tmp_path / "work", content)
    key = blob_key(digest)
    store.put(source, key, "video/mp4")
    assert not source.exists() and store.exists(key)

    streamed, count, largest = hashlib.sha256(), 0, 0
    for chunk in store.read(key):
        streamed.update(chunk)
        count, largest = count + 1, max(largest, len(chunk))
    assert streamed.hexdigest() == digest
    assert largest <= CHUNK and count >= size // CHUNK  # never the whole file in memory

    start, end = CHUNK - 3, 5 * CHUNK + 2  # across chunk boundaries
    assert read_all(store, key, start, end) == content[start:end + 1]
    assert read_all(store, key, size - 10) == content[-10:]

    target = tmp_path / "fetched"
    store.fetch(key, target)
    assert target.stat().st_size == size
    with open(target, "rb") as f:
        assert hashlib.file_digest(f, "sha256").hexdigest() == digest


# --- S3 only: where the objects are --------------------------------------------------------

def test_s3_keeps_objects_under_the_prefix_with_their_type(s3_server, s3, bucket, tmp_path):
    store = S3Storage(bucket, "/media/", s3_config(s3_server))
    store.put(a_file(tmp_path, TEXT), "originals/abc", "text/plain")
    assert stored_keys(s3, bucket) == {"media/originals/abc"}
    assert s3.head_object(Bucket=bucket, Key="media/originals/abc")["ContentType"] == "text/plain"
    bare = S3Storage(bucket, "", s3_config(s3_server))  # s3://bucket with no prefix
    bare.put(a_file(tmp_path, TEXT), "originals/abc", "text/plain")
    assert stored_keys(s3, bucket) == {"media/originals/abc", "originals/abc"}


# --- the whole platform on the bucket ------------------------------------------------------

@pytest.fixture
def s3_settings(s3_server, bucket) -> dict:
    return {"MEDIA_STORAGE_URL": f"s3://{bucket}/{PREFIX}", "S3_ENDPOINT_URL": s3_server, **KEYS}


@pytest.fixture
def api(make_platform, s3_settings) -> ApiClient:
    """Shadows conftest's `api` (SQLite only): coordinator, organisations, setting and
    media_campaign build on this platform, whose media live in the bucket."""
    return ApiClient(make_platform(db="sqlite", **s3_settings))


def local_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_photo_is_kept_in_the_bucket_and_served_from_it(api, setting, media_campaign, s3, bucket):
    token = setting["tokens"][0]
    photo = jpeg_with_secrets(2000, 1500)  # wider than the largest copy: three different files
    response = upload(api, token, photo, campaign_id=media_campaign, consent="true", name="march.jpg")
    assert response.status_code == 202, response.json
    # The original went up into the bucket before the answer (unless the worker was quicker still
    # and has already dropped it).
    original_stored = f"{PREFIX}/originals/{response.json['id']}" in stored_keys(s3, bucket)
    assert original_stored or api.get(response.headers["Location"], token=token).json["status"] == "processed"
    item = processed(api, token, response.headers["Location"])
    assert item["status"] == "processed", item

    clean = api.get(item["file_url"], token=token)
    assert clean.status_code == 200 and clean.mimetype == "image/jpeg"
    data, etag = clean.data, clean.headers["ETag"]
    assert Image.open(io.BytesIO(data)).size == (1500, 2000)  # turned as its EXIF said
    sha = hashlib.sha256(data).hexdigest()
    assert etag == f'"{sha}"' and int(clean.headers["Content-Length"]) == len(data)

    part = api.get(item["file_url"], token=token, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    first = api.get(item["file_url"], token=token, headers={"Range": "bytes=0-0"})
    assert first.status_code == 206 and first.data == data[:1]
    tail = api.get(item["file_url"], token=token, headers={"Range": "bytes=-7"})
    assert tail.status_code == 206 and tail.data == data[-7:]
    assert api.get(item["file_url"], token=token,
                   headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    again = api.get(item["file_url"], token=token, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    small = item["variants"]["320"]
    variant = api.get(small["url"], token=token)
    assert variant.status_code == 200 and variant.mimetype == "image/jpeg"
    assert hashlib.sha256(variant.data).hexdigest() == small["sha256"]
    assert Image.open(io.BytesIO(variant.data)).width == 320
    part = api.get(small["url"], token=token, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == variant.data[10:20]
    assert api.get(small["url"], token=token,
                   headers={"If-None-Match": variant.headers["ETag"]}).status_code == 304

    shas = {sha} | {v["sha256"] for v in item["variants"].values()}
    assert len(shas) == 3  # the clean photo, 320 and 1280
    assert stored_keys(s3, bucket) == {f"{PREFIX}/{blob_key(s)}" for s in shas}  # the original is gone
    assert stored_keys(s3, bucket, f"{PREFIX}/originals/") == set()
    stored = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{blob_key(sha)}")
    assert stored["ContentType"] == "image/jpeg" and stored["Body"].read() == data

    var_dir = api.platform.kernels["media"].config.var_dir
    assert not (var_dir / "media").exists(), local_files(var_dir / "media")
    assert local_files(var_dir / "media-work") == []  # the upload and the worker's copies are cleaned up


def test_the_same_photo_twice_is_one_set_of_objects(api, setting, media_campaign, s3, bucket):
    token = setting["tokens"][0]
    photo = jpeg_with_secrets(2000, 1500)
    first = processed(api, token, upload(api, token, photo, campaign_id=media_campaign).headers["Location"])
    second = processed(api, token, upload(api, token, photo, campaign_id=media_campaign).headers["Location"])
    assert first["status"] == second["status"] == "processed"
    assert first["id"] != second["id"]
    assert len(stored_keys(s3, bucket, f"{PREFIX}/blobs/")) == 3
    assert stored_keys(s3, bucket, f"{PREFIX}/originals/") == set()


def test_a_rejected_upload_leaves_nothing_in_the_bucket(api, setting, media_campaign, s3, bucket):
    token = setting["tokens"][0]
    whole = png_bytes(400, 300)
    item = processed(api, token, upload(api, token, whole[: len(whole) // 2], campaign_id=media_campaign)
                     .headers["Location"])
    assert item["status"] == "rejected" and item["reason"]
    assert stored_keys(s3, bucket) == set()
    assert not (api.platform.kernels["media"].config.var_dir / "media").exists()
