"""HTTP: sign-ups to one hot event, `POST /api/notify/events/{id}/participants`, under gunicorn.

The real notify app and a bare transactional insert (bench/participation_baseline_app.py: in
one transaction read the event's counter row, add to `coming` or `waiting`, insert the
sign-up) run side by side under the same gunicorn command line and config file
(deploy/gunicorn.conf.py: the same workers and threads), each on its own notify database
built with notify's migrations and seeded alike: one approved public event that ends in the
future, its places limited to two thirds of the sign-ups both sides will get, so the rounds
first take places and then fill the waiting list. The load generator (bench/loadgen.py, its
own process, 16 keep-alive connections spread evenly over the workers) posts
`{"language": "en"}` in rounds that alternate between the two; each side reports its median
round. Afterwards both databases must show no place oversold, every sign-up answered 201
counted once, and the waiting list in distinct arrival order behind every place taken.
"""
from __future__ import annotations

import json
import os
import sqlite3
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.common import Result, sized, temp_dir
from bench.events_list import JWKS_URL
from bench.http_list import CONCURRENCY, Gunicorn, _summary, load

SIGNUPS = int(os.environ.get("BENCH_PARTICIPATION_SIGNUPS", "3000"))  # timed, per side, over all rounds
ROUNDS = 5
WARMUP = (100, 32)  # sign-ups before the clock in the first round, and in each later one (counted too)
PARTY = {"language": "en"}  # party_size 1
PRETIX_PER_MINUTE = (300, 400)  # pretix's documented limit of orders per minute and event, for scale


def capacity_for(total: int) -> int:
    """Two thirds of the sign-ups get a place; the rest wait."""
    return total * 2 // 3


def seed(var_dir: Path, event_id: str, capacity: int | None) -> None:
    """A notify database (migrated like in production) knowing one approved public event that
    ends in a week, and its places; the link secret is made now, not by two workers at once."""
    from services.notify.app import build
    from services.notify.links import link_secret
    from services.notify.models import EventPlaces, KnownEvent
    from shared.config import Config
    from shared.db import utcnow

    kernel = build(Config(environ={"DOA_VAR_DIR": str(var_dir), "BUS_URL": "memory://", "LOG_LEVEL": "WARNING"}),
                   jwks=lambda: {"keys": []})
    now = utcnow()
    starts = (now + timedelta(days=6)).replace(microsecond=0)
    try:
        with kernel.db.transaction() as session:
            session.add(KnownEvent(
                id=event_id, campaign_id=str(uuid.uuid4()), organisation_id=str(uuid.uuid4()),
                title={"en": "Hot event"}, languages=["en"], city="Berlin", country="DE", timezone="Europe/Berlin",
                starts_local=(starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), starts_at=starts,
                ends_at=starts + timedelta(hours=2), status="approved", visibility="public", activity_type="rally",
                as_of=now))
            session.add(EventPlaces(event_id=event_id, capacity=capacity, coming=0, waiting=0, anonymous=0,
                                    cancelled=0, updated_at=now))
            link_secret(session, kernel.config)
    finally:
        kernel.db.dispose()


def check(database: Path, event_id: str, capacity: int, answered: int, side: str) -> dict:
    """What the database holds after the run; RuntimeError unless no place is oversold, every
    sign-up answered 201 is counted once, and the waiting list is in arrival order."""
    with sqlite3.connect(database) as conn:
        coming, waiting = conn.execute("SELECT coming, waiting FROM event_places WHERE event_id = ?",
                                       (event_id,)).fetchone()
        rows = dict(conn.execute("SELECT status, sum(party_size) FROM participations WHERE event_id = ? "
                                 "GROUP BY status", (event_id,)).fetchall())
        last_coming, first_waiting, waiting_rows, distinct_seqs = conn.execute(
            "SELECT (SELECT max(seq) FROM participations WHERE event_id = :e AND status = 'coming'), "
            "(SELECT min(seq) FROM participations WHERE event_id = :e AND status = 'waiting'), "
            "(SELECT count(*) FROM participations WHERE event_id = :e AND status = 'waiting'), "
            "(SELECT count(DISTINCT seq) FROM participations WHERE event_id = :e AND status = 'waiting')",
            {"e": event_id}).fetchone()
    found = {"coming": coming, "waiting": waiting, "oversold": max(coming - capacity, 0)}
    problems = []
    if coming != capacity:
        problems.append(f"coming {coming} != capacity {capacity} ({coming - capacity:+d})")
    if coming + waiting != answered:
        problems.append(f"coming {coming} + waiting {waiting} != {answered} sign-ups answered 201")
    if rows.get("coming", 0) != coming or rows.get("waiting", 0) != waiting:
        problems.append(f"the counters ({coming} coming, {waiting} waiting) are not the rows {rows}")
    if distinct_seqs != waiting_rows:
        problems.append(f"{waiting_rows} waiting sign-ups have {distinct_seqs} distinct arrival orders")
    if first_waiting is not None and last_coming is not None and first_waiting < last_coming:
        problems.append(f"a sign-up that arrived earlier ({first_waiting}) waits behind a later one ({last_coming})")
    if problems:
        raise RuntimeError(f"participation {side}: " + "; ".join(problems))
    return found


def run() -> list[Result]:
    event_id = str(uuid.uuid4())
    path = f"/api/notify/events/{event_id}/participants"
    per_round = -(-SIGNUPS // ROUNDS)
    total = per_round * ROUNDS + WARMUP[0] + WARMUP[1] * (ROUNDS - 1)  # per side, warm-up included
    capacity = capacity_for(total)
    options = ("--method", "POST", "--body", json.dumps(PARTY), "--expect", "201", "--balance-path", "/healthz")
    with temp_dir("participation") as var_dir:
        dirs = {"app": var_dir / "app", "baseline": var_dir / "baseline"}
        t = time.perf_counter()
        for folder in dirs.values():
            seed(folder, event_id, capacity)
        print(f"  participation: seeded one event of {capacity:,} places for {total:,} sign-ups a side in "
              f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
        with Gunicorn("bench.participation_baseline_app:create_app()", dirs["baseline"],
                      var_dir / "gunicorn-baseline.log") as base, \
                Gunicorn("services.notify.app:create_app()", dirs["app"], var_dir / "gunicorn-app.log",
                         JWKS_URL=JWKS_URL, PARTICIPATE_RATE_LIMIT="1000000/minute") as app:
            servers = {"app": app, "baseline": base}
            runs: dict[str, list[dict]] = {"app": [], "baseline": []}
            for i in range(ROUNDS):
                for label in (("baseline", "app") if i % 2 == 0 else ("app", "baseline")):
                    r = load(servers[label], path, per_round, WARMUP[min(i, 1)], *options)
                    runs[label].append(r)
                    print(f"  participation: round {i + 1}/{ROUNDS} {label:8s} {r['rps']:7.1f} sign-ups/s "
                          f"(p99 {r['p99_ms']:.0f} ms)", file=sys.stderr)
        found = {label: check(dirs[label] / "notify.db", event_id, capacity, sum(r["answered"] for r in runs[label]),
                              label) for label in dirs}

    a, b = _summary(runs["app"]), _summary(runs["baseline"])
    name = sized("participation sign-ups", SIGNUPS)
    rounds = ", ".join(f"{r['rps']:.0f}" for r in runs["app"])
    paths = {label: _by_path(side_runs, capacity) for label, side_runs in runs.items()}
    by_path = "; ".join(f"{kind} app {paths['app'][kind]:.0f}/s, baseline {paths['baseline'][kind]:.0f}/s "
                        f"({paths['app'][kind] / paths['baseline'][kind]:.2f})"
                        for kind in ("places taken", "waiting list") if kind in paths["app"])
    low, high = PRETIX_PER_MINUTE
    return [Result(name, a["rps"], b["rps"], "sign-ups/s", details=[
        f"{name}: one event of {capacity:,} places, {total:,} sign-ups a side ({ROUNDS} rounds of {per_round:,} "
        f"timed, {CONCURRENCY} keep-alive connections, warm-ups counted): app p50 {a['p50_ms']:.1f} ms, "
        f"p99 {a['p99_ms']:.1f} ms; baseline p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms (medians of rounds)",
        f"{name}: app rounds {rounds} sign-ups/s; rounds wholly on one path: {by_path}",
        f"{name}: oversold app {found['app']['oversold']}, baseline {found['baseline']['oversold']}; app coming "
        f"{found['app']['coming']:,} + waiting {found['app']['waiting']:,}",
        f"{name}: app {a['rps'] * 60:,.0f} sign-ups/minute to one event (pretix documents some {low}-{high} "
        f"orders per minute per event: {a['rps'] * 60 / high:.0f}-{a['rps'] * 60 / low:.0f}x)"])]



def _by_path(runs: list[dict], capacity: int) -> dict[str, float]:
    """The median rate of the rounds that only took places, and of those that only filled the
    waiting list (a round that crossed the capacity is in neither)."""
    kinds: dict[str, list[float]] = {}
    before = 0
    for r in runs:
        after = before + r["answered"]
        kind = "places taken" if after <= capacity else "waiting list" if before >= capacity else None
        if kind:
            kinds.setdefault(kind, []).append(r["rps"])
        before = after
    return {kind: statistics.median(rates) for kind, rates in kinds.items()}
