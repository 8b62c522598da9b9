"""HTTP: public outputs served from the kept rendering (shared.rendered), under gunicorn, against
sending the same bytes from a file under the same gunicorn.

- `ical feed 10k cached`: `GET /api/events/campaigns/<id>/events.ics`, 10,000 approved public
  events with their places public (addresses in LOCATION);
- `geojson 10k cached`: `GET /api/events/events/map.geojson?campaign_id=<id>`, the same 10,000 as
  points;
- `atom feed cached`: `GET /api/media/campaigns/<id>/reports.atom`, the newest 100 of 120
  published reports with two photos each (enclosures);
- `overview 5k 304`: `GET /api/events/campaigns/<id>/overview` of a campaign of 5,000 events
  with `If-None-Match` holding its ETag: the conditional request a page or a proxy makes, 304.

Servers, each `gunicorn --config deploy/gunicorn.conf.py` on one temporary folder: the events
app and the media app (SQLite, seeded as for `events` and `page`, with JWKS_URL never fetched)
and the baseline, `bench/file_baseline_app.py`: any GET answered by `send_file` of a file that
holds the bytes the app answered for that path (checked equal before measuring), conditional
too (its own ETag -> 304).

Measured: the first (uncached) rendering, time to last byte of the first request to freshly
started workers, for each output (details); then, with every worker holding its rendering, the
load generator (bench/loadgen.py, 16 keep-alive connections spread evenly over the workers) in
rounds that alternate between the app and the baseline (a probe sizes them to about
BENCH_EVENTS_ROUND_SECONDS on the slower side, 3 rounds, medians). Ratio = app req/s / baseline
req/s (the same bytes a request); target 0.5.
"""
from __future__ import annotations

import http.client
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import events_seed
from bench.common import Result, temp_dir
from bench.events_list import JWKS_URL, ROUNDS, _measure, _summary
from bench.file_baseline_app import file_for
from bench.http_list import Gunicorn, _children
from bench.ical_feed import _connection_to

FEED_EVENTS, PAGE_EVENTS = 10_000, 5_000
REPORTS, PHOTOS_PER_REPORT = 120, 2
PROBE_REQUESTS = 128  # timed, after a request on each connection


def _seed_events(var_dir: Path) -> dict[str, str]:
    """The feeds' campaign (places public: the map shows every event) and the page's campaign."""
    from sqlalchemy import update

    from services.events.models import LocalEvent

    kernel = events_seed.build_kernel(var_dir)
    campaigns = {"feed": events_seed.add_campaign(kernel, "Day of action 2022 (feeds)"),
                 "page": events_seed.add_campaign(kernel, "Day of action 2022 (page)")}
    events_seed.add_events(kernel, campaigns["feed"], FEED_EVENTS)
    events_seed.add_events(kernel, campaigns["page"], PAGE_EVENTS, start=FEED_EVENTS)
    with kernel.db.transaction() as session:
        table = LocalEvent.__table__
        session.execute(update(table).where(table.c.campaign_id == campaigns["feed"]).values(address_public="now"))
    events_seed.changed_past_the_orm(kernel, campaigns["feed"])
    kernel.db.dispose()
    events_seed.checkpoint(var_dir)
    return campaigns


def _seed_reports(var_dir: Path, campaign_id: str) -> None:
    """The campaign known to media, with published reports on it, each with consented photos
    (processed, with their 1280 and 320 copies), through the ORM."""
    from services.media.app import build
    from services.media.models import KnownCampaign, MediaItem, Report, ReportMedia
    from shared.config import Config

    kernel = build(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"),
                   jwks=lambda: {"keys": []})
    start = datetime(2022, 12, 2, 8, tzinfo=timezone.utc)
    with kernel.db.transaction() as session:
        session.add(KnownCampaign(id=campaign_id, name="Day of action 2022 (feeds)", status="open", as_of=start))
        session.flush()
        for n in range(REPORTS):
            country, _, city = events_seed.PLACES[n % len(events_seed.PLACES)]
            when = start + timedelta(minutes=n)
            organisation = f"00000000-0000-4000-8000-{n:012d}"
            report = Report(campaign_id=campaign_id, organisation_id=organisation, country=country,
                            title={"en": f"{city} marched ({n})"}, language="en", turnout=100 + n,
                            status="published",
                            text={"en": f"Thousands marched in {city} for the day of action, with banners and "
                                        f"songs; speakers from five organisations; no arrests. ({n})"},
                            created_at=when, updated_at=when, published_at=when)
            session.add(report)
            session.flush()
            for p in range(PHOTOS_PER_REPORT):
                sha = f"{n:032x}{p:032x}"
                item = MediaItem(organisation_id=organisation, uploaded_by=organisation, campaign_id=campaign_id,
                                 kind="photo", content_type="image/jpeg", size=4_000_000, original_sha256=sha,
                                 consent=True, status="processed", clean_content_type="image/jpeg", width=4000,
                                 height=3000, variants={
                                     copy: {"sha256": sha, "content_type": "image/jpeg", "size": size, "width": width}
                                     for copy, width, size in (("1280", 1280, 310_000), ("320", 320, 24_000))})
                session.add(item)
                session.flush()
                session.add(ReportMedia(report_id=report.id, media_id=item.id, position=p))
    kernel.db.dispose()


def _first(server: Gunicorn, path: str, headers: dict | None = None) -> tuple[float, int, bytes, str]:
    """Time to last byte of one GET: (seconds, status, body, ETag)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.connect()
        start = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return time.perf_counter() - start, response.status, body, response.getheader("ETag") or ""
    finally:
        conn.close()


def _render_on_every_worker(server: Gunicorn, path: str) -> None:
    """A request to each worker: a connection kept waiting for a rendering by the load would
    leave the others idle past gunicorn's keep-alive."""
    workers = sorted(_children(server.proc.pid))
    for pid in workers:
        conn = _connection_to(server, pid, workers)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status} on worker {pid}")


def run() -> list[Result]:
    with temp_dir("feeds") as var_dir:
        t = time.perf_counter()
        campaigns = _seed_events(var_dir)
        _seed_reports(var_dir, campaigns["feed"])
        print(f"  feeds: seeded {FEED_EVENTS + PAGE_EVENTS:,} events and {REPORTS} reports in "
              f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
        outputs = {  # name: (server, path)
            "ical feed 10k cached": ("events", f"/api/events/campaigns/{campaigns['feed']}/events.ics"),
            "geojson 10k cached": ("events", f"/api/events/events/map.geojson?campaign_id={campaigns['feed']}"),
            "atom feed cached": ("media", f"/api/media/campaigns/{campaigns['feed']}/reports.atom"),
            "overview 5k 304": ("events", f"/api/events/campaigns/{campaigns['page']}/overview"),
        }
        with Gunicorn("services.events.app:create_app()", var_dir, var_dir / "gunicorn-events.log",
                      JWKS_URL=JWKS_URL) as events, \
                Gunicorn("services.media.app:create_app()", var_dir, var_dir / "gunicorn-media.log",
                         JWKS_URL=JWKS_URL) as media, \
                Gunicorn("bench.file_baseline_app:create_app()", var_dir, var_dir / "gunicorn-baseline.log") as base:
            apps = {"events": events, "media": media}
            first: dict[str, dict] = {}
            for name, (app, path) in outputs.items():  # fresh workers: the first request renders
                seconds, status, body, etag = _first(apps[app], path)
                again, status_again, _, etag_again = _first(apps[app], path, {"If-None-Match": etag})
                if status != 200 or status_again != 304 or etag_again != etag:
                    raise RuntimeError(f"{path}: {status} then {status_again} ({etag!r}, {etag_again!r})")
                target = file_for(var_dir, path)
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(body)
                _, base_status, base_body, base_etag = _first(base, path)
                if base_status != 200 or base_body != body:
                    raise RuntimeError(f"the baseline sends other bytes than the app for {path}")
                first[name] = {"seconds": seconds, "bytes": len(body), "etag": etag, "base_etag": base_etag}
                print(f"  feeds: {name}: first rendering {seconds:.2f} s, {len(body) / 1e6:.2f} MB", file=sys.stderr)

            for app, path in outputs.values():  # every worker keeps its rendering before the load
                _render_on_every_worker(apps[app], path)

            summaries: dict[str, dict[str, dict]] = {}
            for name, (app, path) in outputs.items():
                options = None
                if name.endswith("304"):  # each side asked with its own ETag
                    options = {side: ("--header", f"If-None-Match: {first[name][key]}", "--expect", "304")
                               for side, key in (("app", "etag"), ("baseline", "base_etag"))}
                runs = _measure({"app": apps[app], "baseline": base}, path, f"feeds: {name}", options,
                                probe_requests=PROBE_REQUESTS)
                summaries[name] = {side: _summary(r) for side, r in runs.items()}

    results = []
    for name in outputs:
        a, b, f = summaries[name]["app"], summaries[name]["baseline"], first[name]
        sent = "a 304" if name.endswith("304") else f"{f['bytes'] / 1e6:.2f} MB a response"
        details = [f"{name}: app p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms; baseline (send_file of the same "
                   f"bytes) p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms (medians of {ROUNDS} rounds of "
                   f"{a['requests']:.0f} requests, {sent}); first, uncached rendering {f['seconds'] * 1000:,.0f} ms "
                   f"({f['bytes'] / 1e6:.2f} MB)"]
        results.append(Result(name, a["rps"], b["rps"], "req/s", details=details))
    return results
