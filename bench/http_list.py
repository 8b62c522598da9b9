"""HTTP: `GET /api/registry/organisations` (a page of 50 out of 10,000) under gunicorn.

The real registry app and the bare-Flask baseline (bench/baseline_app.py) run side by side
under the same gunicorn command line and config file (deploy/gunicorn.conf.py, so the same
workers and threads) on the same SQLite file. A load generator in its own process
(bench/loadgen.py) sends a fixed number of keep-alive GETs to each, in rounds that alternate
between the two. Page 1 and page 2 (the `next` link of page 1, i.e. the key-set cursor path)
are measured.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import REPO, Result, clean_environ, free_port, temp_dir

PATH = "/api/registry/organisations"
ORGANISATIONS = 10_000
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "4000"))  # per server and page, over all rounds
ROUNDS = 5  # the requests are split into rounds that alternate between app and baseline
WARMUP = 300
CONCURRENCY = 16  # 2 workers x 4 threads by default: two connections per thread, spread evenly

# (country, time zone, languages, a name in the country's script)
PLACES = [
    ("KE", "Africa/Nairobi", ["sw", "en"], "Muungano wa Haki"),
    ("DE", "Europe/Berlin", ["de"], "Bündnis für Klimagerechtigkeit"),
    ("UA", "Europe/Kyiv", ["uk", "en"], "Громадська ініціатива"),
    ("IR", "Asia/Tehran", ["fa"], "انجمن محیط زیست"),
    ("CO", "America/Bogota", ["es"], "Colectivo por la Tierra"),
    ("IN", "Asia/Kolkata", ["hi", "en"], "जलवायु न्याय मंच"),
    ("JP", "Asia/Tokyo", ["ja"], "気候正義ネットワーク"),
    ("BR", "America/Sao_Paulo", ["pt"], "Coletivo Clima Justo"),
    ("NG", "Africa/Lagos", ["en", "yo"], "Climate Justice Alliance Nigeria"),
    ("FR", "Europe/Paris", ["fr"], "Collectif pour le climat"),
    ("US", "America/Chicago", ["en", "es"], "Midwest Climate Coalition"),
    ("PH", "Asia/Manila", ["tl", "en"], "Samahan para sa Klima"),
]


def seed(var_dir: Path, count: int = ORGANISATIONS) -> None:
    """A registry database with `count` organisations, written through the ORM in one transaction."""
    from services.registry.app import build
    from services.registry.models import Organisation
    from services.registry.service import SKELETON_FIELDS, abbreviation_key, lookalike_key
    from shared.config import Config

    kernel = build(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"))
    kernel.dependencies["signer"].jwks()  # make the signing key now, not in two workers at once
    rng = random.Random(20240921)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with kernel.db.transaction() as session:
        rows = []
        for i in range(count):
            country, zone, languages, local_name = PLACES[i % len(PLACES)]
            abbreviation = f"ORG-{i:05d}"  # unique overall, so unique per country
            created = start + timedelta(seconds=i * 37, microseconds=rng.randrange(1_000_000))
            names = {"abbreviation": abbreviation, "name": f"{local_name} {i}", "name_en": f"Climate group {i}"}
            rows.append(Organisation(
                **names, abbreviation_key=abbreviation_key(abbreviation),
                **{f"{field}_skeleton": lookalike_key(names[field]) for field in SKELETON_FIELDS},
                country=country, timezone=zone,
                languages=languages, website=f"https://org{i}.example.org" if i % 3 else None,
                contact_email=f"contact@org{i}.example.org", status="suspended" if i % 50 == 0 else "active",
                suspension_reason="bench" if i % 50 == 0 else None, created_at=created, updated_at=created))
        session.add_all(rows)
    kernel.db.dispose()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


class Gunicorn:
    """One gunicorn master with the project's config file, on a free loopback port."""

    def __init__(self, app: str, var_dir: Path, log: Path, **env: str):
        self.app = app
        self.port = free_port()
        self.env = clean_environ(DOA_VAR_DIR=str(var_dir), LOG_LEVEL="WARNING", BUS_URL="memory://", **env)
        self.workers = int(self.env.get("WEB_CONCURRENCY", "2"))
        self.log = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
               "--bind", f"127.0.0.1:{self.port}", self.app]
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=self.env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn for {self.app} exited; see {self.log}:\n{self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn for {self.app} did not become ready; see {self.log}")
            try:
                status, _ = self.get("/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        # Every worker must have loaded the app before the load generator connects, or the
        # first one up would take all the keep-alive connections: wait until they all idle.
        previous = None
        while time.monotonic() < deadline:
            workers = _children(self.proc.pid)
            ticks = _cpu_ticks(workers)
            if len(workers) >= self.workers and previous is not None and ticks - previous <= 2:
                return
            previous = ticks
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn workers for {self.app} did not settle; see {self.log}")

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log_file.close()


def load(server: Gunicorn, path: str, requests: int, warmup: int, *options: str) -> dict:
    """One round of the load generator against `server`, spread evenly over its workers;
    `options` go to bench.loadgen as they are."""
    workers = ",".join(str(pid) for pid in _children(server.proc.pid))
    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", "--port", str(server.port), "--path", path,
         "--requests", str(requests), "--concurrency", str(CONCURRENCY), "--warmup", str(warmup),
         "--balance", workers, *options],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed on {path}:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout)
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} failed requests to {path} ({server.app})")
    return result


def _pages(server: Gunicorn) -> tuple[dict, dict]:
    status, body = server.get(PATH)
    if status != 200:
        raise RuntimeError(f"{server.app}: GET {PATH} answered {status}: {body[:500]!r}")
    page1 = json.loads(body)
    if len(page1["items"]) != 50 or not page1["next"]:
        raise RuntimeError(f"{server.app}: page 1 has {len(page1['items'])} items, next={page1['next']!r}")
    status, body = server.get(page1["next"])
    if status != 200:
        raise RuntimeError(f"{server.app}: GET {page1['next']} answered {status}: {body[:500]!r}")
    return page1, json.loads(body)


def run() -> list[Result]:
    with temp_dir("http") as var_dir:
        t = time.perf_counter()
        seed(var_dir)
        print(f"  http: seeded {ORGANISATIONS:,} organisations in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        with Gunicorn("bench.baseline_app:create_app()", var_dir, var_dir / "gunicorn-baseline.log") as base, \
                Gunicorn("services.registry.app:create_app()", var_dir, var_dir / "gunicorn-app.log") as app:
            servers = {"app": app, "baseline": base}
            pages = {label: _pages(server) for label, server in servers.items()}
            if pages["app"] != pages["baseline"]:
                raise RuntimeError("the baseline answers other JSON than the app: the comparison would be unfair")
            paths = {"page 1": PATH, "page 2": pages["app"][0]["next"]}
            # Both servers stay up; the load alternates between them round by round, so a
            # slow spell of this (shared, virtual) machine hits both alike.
            runs: dict[tuple[str, str], list[dict]] = {}
            per_round = -(-REQUESTS // ROUNDS)
            for i in range(ROUNDS):
                order = ("baseline", "app") if i % 2 == 0 else ("app", "baseline")
                for page, path in paths.items():
                    for label in order:
                        r = load(servers[label], path, per_round, WARMUP if i == 0 else WARMUP // 3)
                        runs.setdefault((label, page), []).append(r)
                        print(f"  http: round {i + 1}/{ROUNDS} {page} {label:8s} {r['rps']:7.1f} req/s",
                              file=sys.stderr)

    results = []
    for page in paths:
        a, b = _summary(runs[("app", page)]), _summary(runs[("baseline", page)])
        name = f"http list {page}"
        results.append(Result(name, a["rps"], b["rps"], "req/s", details=[
            f"{name}: app p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms; baseline p50 {b['p50_ms']:.1f} ms, "
            f"p99 {b['p99_ms']:.1f} ms (medians of {ROUNDS} rounds of {per_round} requests, {CONCURRENCY} "
            f"keep-alive connections, {a['bytes']:,} bytes a response)"]))
    return results


def _summary(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms", "bytes")}
