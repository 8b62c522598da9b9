"""HTTP: a campaign's material package of 1 GiB, `GET /api/media/campaigns/<id>/materials.zip`,
from the media app under gunicorn.

The service builds the zip while it sends it (services/media/materials.py `zip_stream`: every
file read from storage in chunks and stored uncompressed, with a manifest of every file's
SHA-256). The issue's target: "`materials.zip` of 1 GB: peak memory under 100 MB" of the
process that serves it.

- **Data**: a media SQLite database in a temporary folder, built with `services.media.app.build`
  (so migrated like in production), with an open campaign (a `KnownCampaign` row, as the bus
  would have written it) and 208 coordinator uploads (organisation None) published in it: 8
  videos of 100 MiB (video/mp4) and 200 small files of about 0.2-2 MB (PDFs, JPEG posters, MP3
  songs; 224 MiB together), 1 GiB in all, random bytes. Each is a processed `MediaItem` whose
  clean file is a `Blob` row and a file stored through the service's `LocalStorage` under
  `blob_key(sha256)`, and a current `Material` (version 1, its own series). A second campaign
  holds one 64 KiB file for the warm-up.
- **App**: `gunicorn --config deploy/gunicorn.conf.py ... 'services.media.app:create_app()'`
  (no request carries a token: the download is public).
- **Check** (once, outside the timed runs): the zip is downloaded to a file and opened with
  `zipfile`: manifest.json must list every file (path, size, SHA-256), the member names and
  sizes must match it, every member's CRC must hold (`testzip`), and three files (the first
  video and two small ones) must have the SHA-256 the database has.
- **Baseline**: `send_from_directory` of that saved zip (the same bytes) from a bare Flask app
  (this module's `create_baseline_app`, bench/baseline_support.py's pattern) under the same
  gunicorn command and config file, i.e. the cost of only sending that much (gunicorn sends a
  file with sendfile(2)). The table shows both as MB/s; there is no target for the ratio.
- **Rounds**: 5; the client is `requests` (`stream=True`, `iter_content` of 1 MiB, discarded);
  time to last byte. Each round runs on media workers gunicorn has just started afresh (SIGHUP
  to the master), each warmed up with a download of the warm-up campaign's zip; zip and
  baseline alternate which goes first. Medians.
- **Memory**: the peak RSS of the worker that served the zip (the one holding the server's end
  of the connection, found in /proc/net/tcp and the workers' fds): VmHWM from
  /proc/<worker>/status after the download, the growth during it (after - before), and the
  highest VmRSS sampled every 5 ms. Target: under 100 MB, checked in the details.

BENCH_ZIP_MB sets a smaller package (MiB) for a quick check. The run needs about twice the
package in free disk (the stored files and the saved zip); with less it shrinks the package
and says so.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, send_from_directory

from bench.baseline_support import bare_flask
from bench.common import Result, temp_dir

MIB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_ZIP_MB", "1024")) * MIB
LARGE_FILES = 8  # videos of 100 MiB at 1 GiB (the package's 100/1024 each), the rest in small files
SMALL_FILES = 200
REPEATS = 5
MEMORY_LIMIT = 100_000_000  # bytes: the serving worker's peak RSS must stay under this
CHUNK = MIB  # the client's read size
WARMUP_BYTES = 64 * 1024
DISK_MARGIN = 512 * MIB
MIN_SIZE = 16 * MIB
JWKS_URL = "http://127.0.0.1:1/jwks.json"  # never fetched: no request here carries a token
ZIP_NAME = "materials.zip"  # the saved download, which the baseline sends
SMALL_KINDS = (("statement", "application/pdf"), ("lecture", "application/pdf"), ("poster", "image/jpeg"),
               ("song", "audio/mpeg"))
LANGUAGES = ("en", "de", "fr", "es", "pt", "sw")


def create_baseline_app() -> Flask:
    """The baseline: bare Flask sending a file of DOA_VAR_DIR as it is. Run it under gunicorn
    like the real app: `gunicorn ... 'bench.media_zip:create_baseline_app()'`."""
    folder = Path(os.environ.get("DOA_VAR_DIR", "var")).resolve()
    app = bare_flask("bench.media_zip.baseline")

    @app.get("/files/<name>")
    def file(name: str):
        return send_from_directory(folder, name, mimetype="application/zip")

    return app


def _plan(size: int) -> list[dict]:
    """What the package holds: LARGE_FILES videos and SMALL_FILES small files, `size` bytes in all."""
    rng = random.Random(20221201)
    large = size * 100 // 1024
    weights = [rng.uniform(0.2, 2.0) for _ in range(SMALL_FILES)]
    rest = size - LARGE_FILES * large
    sizes = [max(1, int(rest * w / sum(weights))) for w in weights]
    sizes[-1] += rest - sum(sizes)
    files = [{"size": large, "kind": "video", "content_type": "video/mp4", "language": LANGUAGES[i % 3],
              "title": f"Day of action film {i + 1}"} for i in range(LARGE_FILES)]
    for i, n in enumerate(sizes):
        kind, content_type = SMALL_KINDS[i % len(SMALL_KINDS)]
        files.append({"size": n, "kind": kind, "content_type": content_type,
                      "language": LANGUAGES[i % len(LANGUAGES)], "title": f"{kind.title()} {i + 1}: climate justice now"})
    return files


def _store(storage, folder: Path, size: int, rng: random.Random) -> str:
    """`size` random bytes into storage under blob_key(their SHA-256); answer the SHA-256."""
    from services.media.storage import blob_key

    work = folder / f"{uuid.uuid4()}.part"
    digest = hashlib.sha256()
    with open(work, "wb") as out:
        left = size
        while left:
            chunk = rng.randbytes(min(left, 8 * MIB))
            digest.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    sha = digest.hexdigest()
    storage.put(work, blob_key(sha), "application/octet-stream")  # a rename, as the worker does
    return sha


def _publish(session, campaign_id: str, files: list[dict]) -> None:
    """Blob, processed MediaItem and current Material rows for `files` (dicts with their sha256)."""
    from services.media.models import Blob, Material, MediaItem
    from services.media.sniff import ALLOWED

    coordinator = str(uuid.uuid4())
    session.add_all(Blob(sha256=f["sha256"], size=f["size"], content_type=f["content_type"]) for f in files)
    session.flush()
    items = [MediaItem(id=str(uuid.uuid4()), organisation_id=None, uploaded_by=coordinator, campaign_id=campaign_id,
                       kind=ALLOWED[f["content_type"]],
                       content_type=f["content_type"], size=f["size"], name=f"{f['title']}.bin",
                       original_sha256=f["sha256"], consent=True, status="processed",
                       clean_sha256=f["sha256"], clean_content_type=f["content_type"],
                       processed_at=datetime.now(timezone.utc)) for f in files]
    session.add_all(items)
    session.flush()
    for f, item in zip(files, items, strict=True):
        series = str(uuid.uuid4())
        session.add(Material(id=series, series_id=series, version=1, current=True, campaign_id=campaign_id,
                             kind=f["kind"], language=f["language"], title=f["title"],
                             description=f"{f['title']}, for the day of action.", media_id=item.id,
                             published_by=coordinator))
    session.flush()


def seed(var_dir: Path, files: list[dict]) -> tuple[str, str]:
    """The media database (migrated by the service's own build) with the package's campaign and a
    warm-up campaign, their files in the service's storage; `files` get their sha256. Answers
    (campaign id, warm-up campaign id)."""
    from services.media.app import build
    from services.media.models import KnownCampaign
    from shared.config import Config

    kernel = build(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"),
                   jwks=lambda: {"keys": []})
    storage = kernel.dependencies["storage"]
    rng = random.Random(20221202)
    for f in files:
        f["sha256"] = _store(storage, var_dir, f["size"], rng)
    warm = [{"size": WARMUP_BYTES, "kind": "poster", "content_type": "image/jpeg", "language": "en",
             "title": "Warm-up poster"}]
    warm[0]["sha256"] = _store(storage, var_dir, WARMUP_BYTES, rng)
    campaign_id, warm_id = str(uuid.uuid4()), str(uuid.uuid4())
    with kernel.db.transaction() as session:
        for id_, name in ((campaign_id, "Day of action 2022"), (warm_id, "Warm-up")):
            session.add(KnownCampaign(id=id_, name=name, status="open", as_of=datetime.now(timezone.utc)))
        session.flush()
        _publish(session, campaign_id, files)
        _publish(session, warm_id, warm)
    kernel.db.dispose()
    return campaign_id, warm_id


def _zip_path(campaign_id: str) -> str:
    return f"/api/media/campaigns/{campaign_id}/materials.zip"


def _download(port: int, path: str, sink=None, session=None) -> tuple[float, int, int | None]:
    """Time to last byte, bytes and the client's port of one streamed GET (each chunk written to
    `sink`, or dropped). With a `session`, the connection stays open afterwards."""
    import requests

    start = time.perf_counter()
    with (session or requests).get(f"http://127.0.0.1:{port}{path}", stream=True, timeout=120) as response:
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:500]}")
        length = int(response.headers["Content-Length"])
        try:  # which connection: the worker holding its other end served it
            client_port = response.raw.connection.sock.getsockname()[1]
        except (AttributeError, OSError):
            client_port = None
        got = 0
        for chunk in response.iter_content(CHUNK):
            got += len(chunk)
            if sink is not None:
                sink.write(chunk)
    seconds = time.perf_counter() - start
    if got != length:
        raise RuntimeError(f"GET {path} sent {got:,} bytes of the {length:,} its Content-Length announced")
    return seconds, got, client_port


def _warm_up(app, workers: list[int], path: str) -> None:
    """The warm-up campaign's zip on each fresh worker: lazy imports (zipstream), the first
    database connection and the code path are behind it before the measured download."""
    from bench.ical_feed import _connection_to

    for pid in workers:
        conn = _connection_to(app, pid, workers)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or not body.startswith(b"PK"):
                raise RuntimeError(f"the warm-up zip answered {response.status}: {body[:300]!r}")
        finally:
            conn.close()


def _measured(server, workers: list[int], path: str, expected: int) -> dict:
    """One download, with the memory and CPU time of the worker that served it."""
    import requests

    from bench.http_list import _cpu_ticks
    from bench.ical_feed import _status_kb
    from bench.loadgen import _owner, _server_sockets
    from bench.media_upload import _Sampler

    before = {pid: (_status_kb(pid, "VmHWM"), _status_kb(pid, "VmRSS"), _cpu_ticks([pid])) for pid in workers}
    sampler = _Sampler(workers)
    with requests.Session() as session:
        sampler.start()
        try:
            seconds, got, client_port = _download(server.port, path, session=session)
        finally:
            peaks = sampler.stop()
        # The keep-alive connection is still open: the worker holding its other end served it.
        inode = _server_sockets(server.port).get(client_port) if client_port else None
        pid = _owner(inode, workers) if inode else None
    if got != expected:
        raise RuntimeError(f"GET {path} sent {got:,} bytes, the checked zip has {expected:,}")
    found_by = "socket"
    if pid is None:  # else the one that spent the CPU time
        pid, found_by = max(workers, key=lambda p: _cpu_ticks([p]) - before[p][2]), "CPU time"
    hwm_before, rss_before, ticks_before = before[pid]
    return {"seconds": seconds, "pid": pid, "found_by": found_by, "hwm_kb": _status_kb(pid, "VmHWM"), "hwm_before_kb": hwm_before,
            "rss_before_kb": rss_before, "rss_peak_kb": peaks[pid], "cpu_s": (_cpu_ticks([pid]) - ticks_before) / 100}


def _check(saved: Path, campaign_id: str, files: list[dict]) -> str:
    """Open the saved zip: the manifest lists every file, the members match it, every CRC holds,
    three files have their SHA-256. Answers a line for the details."""
    with zipfile.ZipFile(saved) as package:
        manifest = json.loads(package.read("manifest.json"))
        if manifest["campaign"]["id"] != campaign_id:
            raise RuntimeError(f"the manifest is of campaign {manifest['campaign']['id']}, not {campaign_id}")
        listed = sorted((e["sha256"], e["size"]) for e in manifest["files"])
        if listed != sorted((f["sha256"], f["size"]) for f in files):
            raise RuntimeError(f"the manifest lists {len(listed)} files, not the {len(files)} published")
        members = {info.filename: info for info in package.infolist()}
        paths = [e["path"] for e in manifest["files"]]
        if set(members) != {"manifest.json", "INDEX.txt", *paths} or len(members) != len(paths) + 2:
            raise RuntimeError(f"the zip's members are not the manifest's files: {sorted(members)[:10]}...")
        for e in manifest["files"]:
            if members[e["path"]].file_size != e["size"] or members[e["path"]].compress_type != zipfile.ZIP_STORED:
                raise RuntimeError(f"{e['path']} is stored with {members[e['path']].file_size:,} bytes, "
                                   f"the manifest says {e['size']:,}")
        bad = package.testzip()
        if bad is not None:
            raise RuntimeError(f"{bad} fails its CRC")
        by_sha = {e["sha256"]: e for e in manifest["files"]}
        rng = random.Random(7)
        picked = [files[0], *rng.sample(files[LARGE_FILES:], 2)]
        for f in picked:
            digest = hashlib.sha256()
            with package.open(by_sha[f["sha256"]]["path"]) as member:
                while block := member.read(CHUNK):
                    digest.update(block)
            if digest.hexdigest() != f["sha256"]:
                raise RuntimeError(f"{by_sha[f['sha256']]['path']} has SHA-256 {digest.hexdigest()}, "
                                   f"stored as {f['sha256']}")
    return (f"manifest.json lists all {len(files)} files (path, size, SHA-256), the members match it, every "
            f"member's CRC holds (zipfile.testzip), and the SHA-256 of {', '.join(by_sha[f['sha256']]['path'] for f in picked)} "
            f"({', '.join(format(f['size'] / 1e6, '.1f') for f in picked)} MB) match")


def _size(wanted: int) -> tuple[int, str | None]:
    """The package's size, shrunk (with a note why) when the temporary folder's disk is short."""
    free = shutil.disk_usage(tempfile.gettempdir()).free
    need = 2 * wanted + DISK_MARGIN
    if free >= need:
        return wanted, None
    size = (free - DISK_MARGIN) // 2 // MIB * MIB
    if size < MIN_SIZE:
        raise RuntimeError(f"zip: {free / 1e9:.1f} GB free in {tempfile.gettempdir()}; even a "
                           f"{MIN_SIZE // MIB} MiB package needs {(2 * MIN_SIZE + DISK_MARGIN) / 1e9:.1f} GB")
    note = (f"only {free / 1e9:.1f} GB free in {tempfile.gettempdir()} ({need / 1e9:.1f} GB needed: the stored "
            f"files and the saved zip): the package is shrunk to {size // MIB} MiB")
    print(f"  zip: {note}", file=sys.stderr)
    return size, note


def run() -> list[Result]:
    from bench.http_list import Gunicorn, _children
    from bench.ical_feed import _fresh_workers, _status_kb
    from bench.media_upload import _size_label

    size, shrunk = _size(SIZE)
    name = f"media zip {_size_label(size)}"
    files = _plan(size)
    runs: list[dict] = []
    base_runs: list[dict] = []
    mb = 1e6
    with temp_dir("zip") as var_dir:
        t = time.perf_counter()
        campaign, warm = seed(var_dir, files)
        print(f"  zip: stored {len(files)} files, {size / mb:,.0f} MB, in {time.perf_counter() - t:.1f}s",
              file=sys.stderr)
        saved = var_dir / ZIP_NAME
        with Gunicorn("bench.media_zip:create_baseline_app()", var_dir, var_dir / "gunicorn-baseline.log") as base, \
                Gunicorn("services.media.app:create_app()", var_dir, var_dir / "gunicorn-app.log",
                         JWKS_URL=JWKS_URL) as app:
            t = time.perf_counter()
            with open(saved, "wb") as sink:
                first_s, zip_bytes, _ = _download(app.port, _zip_path(campaign), sink)
            checked = _check(saved, campaign, files)
            print(f"  zip: downloaded and checked the zip ({zip_bytes:,} bytes; the download {first_s:.1f} s) "
                  f"in {time.perf_counter() - t:.1f}s", file=sys.stderr)
            with open(saved, "rb") as whole:
                (var_dir / "warm.zip").write_bytes(whole.read(WARMUP_BYTES))  # the baseline's warm-up
            base_workers = sorted(_children(base.proc.pid))
            for i in range(REPEATS):
                workers = _fresh_workers(app)
                _warm_up(app, workers, _zip_path(warm))
                _download(base.port, "/files/warm.zip")
                for side in (("zip", "baseline") if i % 2 == 0 else ("baseline", "zip")):
                    if side == "zip":
                        runs.append(_measured(app, workers, _zip_path(campaign), zip_bytes))
                    else:
                        base_runs.append(_measured(base, base_workers, f"/files/{ZIP_NAME}", zip_bytes))
                r, b = runs[-1], base_runs[-1]
                print(f"  zip: round {i + 1}/{REPEATS} zip {r['seconds']:5.2f} s ({zip_bytes / r['seconds'] / mb:4.0f} "
                      f"MB/s, worker CPU {r['cpu_s']:.1f} s), baseline {b['seconds']:5.2f} s "
                      f"({zip_bytes / b['seconds'] / mb:4.0f} MB/s, worker CPU {b['cpu_s']:.1f} s); worker {r['pid']} "
                      f"(by its {r['found_by']}) peak RSS {r['hwm_kb'] * 1024 / mb:.0f} MB (+{(r['hwm_kb'] - r['hwm_before_kb']) * 1024 / mb:.1f})",
                      file=sys.stderr)
            base_hwm = max(_status_kb(pid, "VmHWM") for pid in base_workers) * 1024

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    zip_s, base_s = med(runs, "seconds"), med(base_runs, "seconds")
    hwm = max(r["hwm_kb"] for r in runs) * 1024
    growth = med(runs, "hwm_kb") - med(runs, "hwm_before_kb")
    verdict = "ok" if hwm < MEMORY_LIMIT else "ABOVE TARGET"
    large = files[0]["size"]
    small = [f["size"] for f in files[LARGE_FILES:]]
    details = [
        f"{name}: time to last byte (median of {REPEATS}) zip {zip_s:.2f} s = {zip_bytes / zip_s / mb:.0f} MB/s "
        f"({min(r['seconds'] for r in runs):.2f}-{max(r['seconds'] for r in runs):.2f} s), the serving worker spent "
        f"{med(runs, 'cpu_s'):.1f} s of CPU; baseline (send_file of the same {zip_bytes:,} bytes, sendfile(2)) "
        f"{base_s:.2f} s = {zip_bytes / base_s / mb:.0f} MB/s ({min(r['seconds'] for r in base_runs):.2f}-"
        f"{max(r['seconds'] for r in base_runs):.2f} s), worker CPU {med(base_runs, 'cpu_s'):.1f} s; the package: "
        f"{len(files)} files, {LARGE_FILES} videos of {large / mb:.1f} MB and {len(small)} files of "
        f"{min(small) / mb:.2f}-{max(small) / mb:.2f} MB",
        f"{name} memory: worker peak RSS (VmHWM, fresh worker warmed up with a one-file zip) highest of {REPEATS} "
        f"{hwm / mb:.0f} MB (target: under {MEMORY_LIMIT / mb:.0f} MB) {verdict}; growth during the download "
        f"(VmHWM after - before, median) +{growth * 1024 / mb:.1f} MB over {med(runs, 'rss_before_kb') * 1024 / mb:.0f} "
        f"MB; highest VmRSS sampled every 5 ms {max(r['rss_peak_kb'] for r in runs) * 1024 / mb:.0f} MB; the "
        f"baseline's workers peaked at {base_hwm / mb:.0f} MB",
        f"{name} check: {checked}",
    ]
    if shrunk:
        details.append(f"{name}: {shrunk}")
    return [Result(name, zip_bytes / zip_s / mb, zip_bytes / base_s / mb, "MB/s", target=None, details=details)]
