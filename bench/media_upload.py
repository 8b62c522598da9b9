"""HTTP: a 1 GiB video uploaded through `POST /api/media/uploads` to the media app under gunicorn.

The body is streamed from a file (`requests.post(data=open(path, "rb"))` with an explicit
Content-Length); the service streams it into a work file, hashing it on the way
(services/media/receiving.py), and moves it into storage. Processing (ffmpeg) happens later in
the media worker, which the benchmark does not run: only the upload is measured, from the first
byte sent to the 202.

- **Throughput**: bytes/s of the upload against a plain copy of the same file on the same disk
  (a read/write loop of 1 MiB blocks from the source to a new file in the same folder), in the
  same run: 3 rounds of one copy and one upload (which goes first alternates), medians. Target:
  at least 0.3 of the copy. This VM gives memory that has been free for a second or two back to
  its host, and writing a file into such pages is about 10x slower than into pages just freed
  (by deleting a file): each measured side is preceded by `sync` and a pause (SETTLE), so
  neither starts on pages the other has just freed. A copy made straight after each upload's
  file is deleted (the fast case) is reported in the details, with the ratio against it.
- **Memory**: the peak RSS of the gunicorn worker that took the upload: VmHWM from
  /proc/<worker>/status after the upload (every repetition runs on workers gunicorn has just
  started afresh, each warmed up with a small upload first), and the highest VmRSS sampled
  every 5 ms while it streams. Target: under 150 MB.

The file is made once per run: a real (tiny) MP4 from ffmpeg's `testsrc`, so the service's
sniffer sees an ISO-BMFF `ftyp` box and takes it for video/mp4, followed by random bytes up to
the size. The app verifies a real Ed25519 token: the benchmark makes a key, serves its JWKS
over HTTP itself (JWKS_URL) and signs tokens with the claims the registry puts in them. The
campaign the upload is for is written into the media database beforehand, as the bus would.
BENCH_UPLOAD_MB sets a smaller size (MiB) for a quick check, BENCH_UPLOAD_SETTLE the pause (s).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import Result, temp_dir
from bench.http_list import Gunicorn, _cpu_ticks
from bench.ical_feed import _connection_to, _fresh_workers, _status_kb

MIB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_UPLOAD_MB", "1024")) * MIB
REPEATS = 3
TARGET = 0.3
MEMORY_LIMIT = 150_000_000  # bytes: the worker's peak RSS while an upload streams must stay under this
COPY_BLOCK = MIB
SETTLE = float(os.environ.get("BENCH_UPLOAD_SETTLE", "4"))  # seconds of pause before each measured side
WARMUP_BYTES = 64 * 1024
PATH = "/api/media/uploads"
ISSUER = "dayofaction-registry"  # TOKEN_ISSUER's default (the app runs without platform settings)
AUDIENCE = "dayofaction"
# A hand-made ftyp box, should ffmpeg be missing: all the sniffer reads of an MP4.
FTYP = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


class Issuer:
    """Plays the registry's part: an Ed25519 key, its JWKS served over HTTP, tokens signed with
    the claims services/registry/tokens.py puts in them."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from jwt.algorithms import OKPAlgorithm

        self.kid = str(uuid.uuid4())
        self.key = Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        body = json.dumps({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, organisation_id: str, key_id: str) -> str:
        import jwt

        now = datetime.now(timezone.utc)
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": organisation_id, "role": "organisation", "akid": key_id,
                  "iat": now, "exp": now + timedelta(seconds=900), "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def seed(var_dir: Path) -> str:
    """The media database (migrated by the service's own build) knowing one open campaign."""
    from services.media.app import build
    from services.media.models import KnownCampaign
    from shared.config import Config

    kernel = build(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"),
                   jwks=lambda: {"keys": []})
    campaign_id = str(uuid.uuid4())
    with kernel.db.transaction() as session:
        session.add(KnownCampaign(id=campaign_id, name="Day of action 2022", status="open",
                                  as_of=datetime.now(timezone.utc)))
    kernel.db.dispose()
    return campaign_id


def _mp4_head(folder: Path) -> bytes:
    """A real one-second MP4 (ffmpeg's test pattern), or a bare ftyp box without ffmpeg."""
    target = folder / "head.mp4"
    try:
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=10",
                        "-pix_fmt", "yuv420p", str(target)], check=True, capture_output=True, timeout=60)
        return target.read_bytes()
    except (OSError, subprocess.SubprocessError):
        return FTYP
    finally:
        target.unlink(missing_ok=True)


def make_video(path: Path, size: int, head: bytes) -> None:
    rng = random.Random(20221201)
    with open(path, "wb") as out:
        out.write(head[:size])
        left = size - min(size, len(head))
        while left:
            n = min(left, 8 * MIB)
            out.write(rng.randbytes(n))
            left -= n


def plain_copy(source: Path, target: Path) -> float:
    """Seconds to copy `source` to `target` with a read/write loop of COPY_BLOCK blocks."""
    buffer = bytearray(COPY_BLOCK)
    view = memoryview(buffer)
    start = time.perf_counter()
    with open(source, "rb", buffering=0) as src, open(target, "wb", buffering=0) as dst:
        while n := src.readinto(buffer):
            dst.write(view[:n])
    return time.perf_counter() - start


class _Sampler(threading.Thread):
    """The highest VmRSS of each of `pids`, sampled every 5 ms."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.peaks = {pid: _status_kb(pid, "VmRSS") for pid in pids}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.005):
            for pid in self.peaks:
                self.peaks[pid] = max(self.peaks[pid], _status_kb(pid, "VmRSS"))

    def stop(self) -> dict[int, int]:
        self._stop_event.set()
        self.join()
        return self.peaks


def _query(campaign_id: str, name: str) -> str:
    return f"{PATH}?campaign_id={campaign_id}&consent=true&name={name}"


def _warm_up(app: Gunicorn, workers: list[int], issuer: Issuer, who: tuple[str, str], campaign: str,
             head: bytes) -> None:
    """A small upload on each fresh worker: the first token check (JWKS fetch), the first
    database connection, lazy imports are behind it before the measured upload."""
    body = (head + bytes(WARMUP_BYTES))[:WARMUP_BYTES]
    for pid in workers:
        conn = _connection_to(app, pid, workers)
        try:
            conn.request("POST", _query(campaign, "warm-up.mp4"), body=body,
                         headers={"Authorization": f"Bearer {issuer.token(*who)}",
                                  "Content-Type": "application/octet-stream"})
            response = conn.getresponse()
            answer = response.read()
            if response.status != 202:
                raise RuntimeError(f"the warm-up upload answered {response.status}: {answer[:500]!r}")
        finally:
            conn.close()


def _upload(app: Gunicorn, source: Path, token: str, campaign: str) -> tuple[float, dict]:
    import requests

    with open(source, "rb") as body:
        start = time.perf_counter()
        response = requests.post(f"http://127.0.0.1:{app.port}{_query(campaign, 'video.mp4')}", data=body,
                                 headers={"Authorization": f"Bearer {token}",
                                          "Content-Type": "application/octet-stream",
                                          "Content-Length": str(source.stat().st_size)}, timeout=900)
        seconds = time.perf_counter() - start
    if response.status_code != 202:
        raise RuntimeError(f"the upload answered {response.status_code}: {response.text[:500]}")
    item = response.json()
    if item["kind"] != "video" or item["content_type"] != "video/mp4" or item["size"] != source.stat().st_size:
        raise RuntimeError(f"the upload was taken for something else: {item}")
    return seconds, item


def _clear(var_dir: Path) -> None:
    """Stored originals and work files go between repetitions (originals are kept per item)."""
    for folder in (var_dir / "media" / "originals", var_dir / "media-work"):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.is_file():
                    path.unlink()
                else:
                    shutil.rmtree(path, ignore_errors=True)


def _size_label(size: int) -> str:
    return f"{size // (1024 * MIB)} GiB" if size % (1024 * MIB) == 0 else f"{size // MIB} MiB"


def _measured_upload(app: Gunicorn, workers: list[int], source: Path, token: str, campaign: str,
                     var_dir: Path) -> dict:
    """One upload, with the memory and CPU time of the worker that took it."""
    before = {pid: (_status_kb(pid, "VmHWM"), _status_kb(pid, "VmRSS"), _cpu_ticks([pid])) for pid in workers}
    sampler = _Sampler(workers)
    sampler.start()
    try:
        seconds, item = _upload(app, source, token, campaign)
    finally:
        peaks = sampler.stop()
    pid = max(workers, key=lambda p: _cpu_ticks([p]) - before[p][2])  # the one that spent the CPU time
    stored = var_dir / "media" / "originals" / item["id"]
    if stored.stat().st_size != SIZE:
        raise RuntimeError(f"stored {stored.stat().st_size:,} bytes of {SIZE:,}")
    hwm_before, rss_before, ticks_before = before[pid]
    return {"seconds": seconds, "pid": pid, "hwm_kb": _status_kb(pid, "VmHWM"), "hwm_before_kb": hwm_before,
            "rss_before_kb": rss_before, "rss_peak_kb": peaks[pid],
            "cpu_s": (_cpu_ticks([pid]) - ticks_before) / 100}


def run() -> list[Result]:
    name = f"media upload {_size_label(SIZE)}"
    issuer = Issuer()
    who = (str(uuid.uuid4()), str(uuid.uuid4()))  # (organisation id, API key id)
    copies: list[float] = []
    warm_copies: list[float] = []
    runs: list[dict] = []
    mb = 1e6
    try:
        with temp_dir("upload") as var_dir:
            campaign = seed(var_dir)
            head = _mp4_head(var_dir)
            source = var_dir / "source.mp4"
            t = time.perf_counter()
            make_video(source, SIZE, head)
            print(f"  upload: wrote a {_size_label(SIZE)} video ({len(head):,} bytes of real MP4 first) in "
                  f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
            with Gunicorn("services.media.app:create_app()", var_dir, var_dir / "gunicorn-app.log",
                          JWKS_URL=issuer.url) as app:
                for i in range(REPEATS):
                    workers = _fresh_workers(app)
                    _warm_up(app, workers, issuer, who, campaign, head)
                    _clear(var_dir)
                    # This VM gives memory freed for more than a second or two back to its host, and
                    # writing a file into such pages is ~10x slower than into pages just freed (as after
                    # deleting a file). Each measured side starts after a pause, so neither inherits
                    # pages the other has just freed; which goes first alternates.
                    for side in (("copy", "upload") if i % 2 == 0 else ("upload", "copy")):
                        os.sync()  # and with no dirty pages of the other's writing
                        time.sleep(SETTLE)
                        if side == "copy":
                            copies.append(plain_copy(source, var_dir / "copy.mp4"))
                            (var_dir / "copy.mp4").unlink()
                        else:
                            runs.append(_measured_upload(app, workers, source, issuer.token(*who), campaign, var_dir))
                            _clear(var_dir)
                            # For the details only: a copy straight after the upload's file is gone.
                            warm_copies.append(plain_copy(source, var_dir / "copy.mp4"))
                            (var_dir / "copy.mp4").unlink()
                    r = runs[-1]
                    print(f"  upload: round {i + 1}/{REPEATS} upload {r['seconds']:5.2f} s "
                          f"({SIZE / r['seconds'] / mb:4.0f} MB/s, worker CPU {r['cpu_s']:.1f} s), copy {copies[-1]:5.2f} s "
                          f"({SIZE / copies[-1] / mb:4.0f} MB/s; {SIZE / warm_copies[-1] / mb:4.0f} MB/s straight "
                          f"after a delete); worker {r['pid']} peak RSS "
                          f"{r['hwm_kb'] * 1024 / mb:.0f} MB (+{(r['hwm_kb'] - r['hwm_before_kb']) * 1024 / mb:.1f})",
                          file=sys.stderr)
    finally:
        issuer.close()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    upload_s, copy_s = med("seconds"), statistics.median(copies)
    hwm = max(r["hwm_kb"] for r in runs) * 1024
    growth = med("hwm_kb") - med("hwm_before_kb")
    verdict = "ok" if hwm < MEMORY_LIMIT else "ABOVE TARGET"
    details = [
        f"{name}: upload (first byte sent to the 202) median {upload_s:.2f} s = {SIZE / upload_s / mb:.0f} MB/s "
        f"(of {REPEATS}, {min(r['seconds'] for r in runs):.2f}-{max(r['seconds'] for r in runs):.2f} s); plain "
        f"read/write copy of the same file in the same folder median {copy_s:.2f} s = {SIZE / copy_s / mb:.0f} MB/s "
        f"(of {len(copies)}, {min(copies):.2f}-{max(copies):.2f} s); the worker spent {med('cpu_s'):.1f} s of CPU "
        f"on an upload ({med('cpu_s') / upload_s:.0%} of its time)",
        f"{name}: each side measured after a {SETTLE:.0f} s pause (this VM hands memory freed for a few seconds back "
        f"to its host, and writing into it is slow); a copy straight after deleting the upload's file, into pages "
        f"just freed, takes {statistics.median(warm_copies):.2f} s = {SIZE / statistics.median(warm_copies) / mb:.0f} "
        f"MB/s (median of {len(warm_copies)}): against that the upload would be "
        f"{statistics.median(warm_copies) / upload_s:.2f} of the copy",
        f"{name} memory: worker peak RSS (VmHWM, fresh worker warmed up with a {WARMUP_BYTES // 1024} KiB upload) "
        f"highest of {REPEATS} {hwm / mb:.0f} MB (target: under {MEMORY_LIMIT / mb:.0f} MB) {verdict}; "
        f"growth during the upload (VmHWM after - before, median) +{growth * 1024 / mb:.1f} MB over "
        f"{med('rss_before_kb') * 1024 / mb:.0f} MB; highest VmRSS sampled every 5 ms "
        f"{max(r['rss_peak_kb'] for r in runs) * 1024 / mb:.0f} MB",
    ]
    return [Result(name, SIZE / upload_s / mb, SIZE / copy_s / mb, "MB/s", target=TARGET, details=details)]
