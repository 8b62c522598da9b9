"""HTTP: the events service's public reads under gunicorn, with 10,000 and then 100,000 events.

- `events list`: `GET /api/events/events?campaign_id=<id>&country=DE&limit=50`, a filtered page of
  50 (one country out of 25, so 400 of 10,000 and 4,000 of 100,000 events match).
- `events stats`: `GET /api/events/campaigns/<id>/statistics`, events and expected participants
  per country, activity type and organisation (500 organisations at 10k, 5,000 at 100k).

The real events app and the bare-Flask baseline (bench/events_baseline_app.py: the same SQL
on the `sqlite3` module, the same JSON by hand) run side by side under the same gunicorn
command line and config file on the same SQLite file. The load generator (bench/loadgen.py,
its own process, 16 keep-alive connections spread evenly over the workers) sends rounds that
alternate between the two; each side reports its median round. Rounds are sized to take about
ROUND_SECONDS on the slower side (measured by a probe first), so a 0.5 s statistics request
and a 5 ms list request both get a sensible number. The 100,000 are the 10,000 plus 90,000
more, added while both servers keep running.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

from bench import events_seed
from bench.common import Result, temp_dir
from bench.http_list import Gunicorn, load

SIZES = (10_000, 100_000)
ROUNDS = 3
ROUND_SECONDS = float(os.environ.get("BENCH_EVENTS_ROUND_SECONDS", "1.5"))
MAX_PER_ROUND = 4_000
CONCURRENCY = 16  # 2 workers x 4 threads by default: two connections per thread, spread evenly
JWKS_URL = "http://127.0.0.1:1/jwks.json"  # never fetched: no request here carries a token


def _load(server: Gunicorn, path: str, requests: int, warmup: int, *options: str) -> dict:
    return load(server, path, requests, warmup, "--balance-path", "/healthz", *options)


def _same_answers(servers: dict[str, Gunicorn], paths: dict[str, str]) -> None:
    """Both sides must answer the same JSON, or the comparison would be unfair."""
    for kind, path in paths.items():
        bodies = {}
        for label, server in servers.items():
            status, body = server.get(path)
            if status != 200:
                raise RuntimeError(f"{server.app}: GET {path} answered {status}: {body[:500]!r}")
            bodies[label] = json.loads(body)
        if bodies["app"] != bodies["baseline"]:
            raise RuntimeError(f"the baseline answers other JSON than the app for {kind}")
        if kind == "list" and (len(bodies["app"]["items"]) != 50 or not bodies["app"]["next"]):
            raise RuntimeError(f"the list page has {len(bodies['app']['items'])} items")


def _measure(servers: dict[str, Gunicorn], path: str, name: str, options: dict[str, tuple[str, ...]] | None = None,
             probe_requests: int = CONCURRENCY) -> dict[str, list[dict]]:
    """Rounds of `path` alternating between the app and the baseline; `options`: more load
    generator arguments for each side; `probe_requests`: more for fast paths, whose rate a
    probe of one request a connection (the connecting included) would underrate."""
    options = options or {}
    # A probe (which also warms both servers up) sizes the rounds.
    probe_warmup = CONCURRENCY if probe_requests > CONCURRENCY else 0  # a request a connection
    probe = {label: _load(server, path, probe_requests, probe_warmup, *options.get(label, ()))
             for label, server in servers.items()}
    slower = min(r["rps"] for r in probe.values())
    per_round = max(CONCURRENCY, min(MAX_PER_ROUND, int(slower * ROUND_SECONDS)))
    # A short warm-up per round (fresh connections), never so long that a connection waiting
    # for the others would outlast gunicorn's 2 s keep-alive.
    warmup = min(300, int(slower * 0.25))
    runs: dict[str, list[dict]] = {"app": [], "baseline": []}
    for i in range(ROUNDS):
        for label in (("baseline", "app") if i % 2 == 0 else ("app", "baseline")):
            r = _load(servers[label], path, per_round, warmup, *options.get(label, ()))
            runs[label].append(r)
            print(f"  {name} round {i + 1}/{ROUNDS} {label:8s} {r['rps']:7.1f} req/s "
                  f"p99 {r['p99_ms']:.0f} ms", file=sys.stderr)
    return runs


def _summary(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms", "bytes", "requests")}


def run() -> list[Result]:
    summaries: dict[tuple[str, int], dict[str, dict]] = {}
    with temp_dir("events") as var_dir:
        t = time.perf_counter()
        kernel = events_seed.build_kernel(var_dir)
        campaign = events_seed.add_campaign(kernel)
        events_seed.add_events(kernel, campaign, SIZES[0])
        kernel.db.dispose()
        events_seed.checkpoint(var_dir)
        print(f"  events: seeded {SIZES[0]:,} events in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        paths = {"list": f"/api/events/events?campaign_id={campaign}&country=DE&limit=50",
                 "stats": f"/api/events/campaigns/{campaign}/statistics"}
        with Gunicorn("bench.events_baseline_app:create_app()", var_dir, var_dir / "gunicorn-baseline.log") as base, \
                Gunicorn("services.events.app:create_app()", var_dir, var_dir / "gunicorn-app.log",
                         JWKS_URL=JWKS_URL) as app:
            servers = {"app": app, "baseline": base}
            done = SIZES[0]
            for size in SIZES:
                if size > done:
                    t = time.perf_counter()
                    kernel = events_seed.build_kernel(var_dir)
                    events_seed.add_events(kernel, campaign, size - done, start=done)
                    kernel.db.dispose()
                    events_seed.checkpoint(var_dir)
                    print(f"  events: added {size - done:,} events in {time.perf_counter() - t:.1f}s",
                          file=sys.stderr)
                    done = size
                _same_answers(servers, paths)
                for kind, path in paths.items():
                    runs = _measure(servers, path, f"events: {size // 1000}k {kind}")
                    summaries[(kind, size)] = {label: _summary(r) for label, r in runs.items()}

    results = []
    for kind, label in (("list", "events list"), ("stats", "events stats")):
        for size in SIZES:
            a, b = summaries[(kind, size)]["app"], summaries[(kind, size)]["baseline"]
            name = f"{label} {size // 1000}k"
            details = [f"{name}: app p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms; baseline p50 "
                       f"{b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms (medians of {ROUNDS} rounds of "
                       f"{a['requests']:.0f} requests, {CONCURRENCY} keep-alive connections, {a['bytes']:,.0f} bytes "
                       f"a response)"]
            if size == SIZES[-1]:
                small, big = summaries[(kind, SIZES[0])], summaries[(kind, size)]
                growth = " and ".join(
                    f"{side} p50 {small[side]['p50_ms']:.1f} -> {big[side]['p50_ms']:.1f} ms "
                    f"(x{big[side]['p50_ms'] / small[side]['p50_ms']:.1f}), p99 {small[side]['p99_ms']:.1f} -> "
                    f"{big[side]['p99_ms']:.1f} ms (x{big[side]['p99_ms'] / small[side]['p99_ms']:.1f})"
                    for side in ("app", "baseline"))
                details.append(f"{label} {SIZES[0] // 1000}k -> {size // 1000}k events (x{size // SIZES[0]}): {growth}")
            results.append(Result(name, a["rps"], b["rps"], "req/s", details=details))
    return results
