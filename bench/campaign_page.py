"""HTTP: a campaign's public page (`GET /campaigns/<id>` of the web front) with 5,000 events,
against the events service's list endpoint alone, in the same run.

The page is rendered by the web front on its own (`services.web.wsgi`, as the Procfile runs it)
from two answers: the events service's overview of the campaign (campaign, signatories, every
public event) and the media service's (reports, materials, turnout), whatever the number of
events. Three gunicorn servers, each with deploy/gunicorn.conf.py, on one temporary folder:

- **events**: `services.events.app:create_app()` on the events bench's SQLite data
  (bench/events_seed.py): a campaign with 5,000 approved public events over 25 countries and
  their time zones, and one with 500 (to see how the page grows). Every event's place is made
  public (`address_public = "now"`), so the map draws a point for each: the worst case for the
  page (the seed's events keep their addresses to themselves, which would leave the map empty).
- **media**: `services.media.app:create_app()` on its own SQLite file that knows both
  campaigns (`KnownCampaign` rows, as the bus would have written them), with no reports and no
  materials: its overview answers 200 at once, as for a campaign that has just begun.
- **web**: `services.web.wsgi:create_app()` with `WEB_API_URL=registry=<events>,events=<events>,
  media=<media>,notify=<events>`. The page needs neither the registry nor notify (nobody signs in);
  pointing them at the events service means a stray request to either would be answered at once
  and show up in the events service's access log, which the check counts.

Checked first: the page answers 200 with the campaign's name and the sentence that counts its
events and countries (`n_events_in_countries` of the web's English catalogue, with 5000 and 25),
and the events service and the media service each received exactly one request for it (their
gunicorn access logs, `--access-logfile` through GUNICORN_CMD_ARGS: the overview of this
campaign). The whole list, paged through, must find exactly the events the overview gave.

Measured, one request at a time from this process (a fresh keep-alive connection per sample,
connected before the clock starts), time to last byte, alternating round by round, medians:

- the page with 5,000 events (and with 500);
- baseline 1: one page of the events list, `GET /api/events/events?campaign_id=<id>&limit=200`;
- baseline 2: the whole list, following `next` from that page to the last (25 requests, each
  answer parsed to find the next): what the page would cost if it asked the list for its events;
- for the details: the events overview alone (what the page waits for from the events service).

The table shows each as a rate (1 / median time): ratio = baseline time / page time, so above 1
means the page is faster than the baseline. Nothing asserts a time. BENCH_PAGE_PROFILE=1 adds a
details line that splits the web front's own time (in this process, with its own functions):
parsing the overview, the rest of the page's context, the map, the template.
"""
from __future__ import annotations

import http.client
import json
import os
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from bench import events_seed
from bench.common import Result, temp_dir
from bench.events_list import JWKS_URL
from bench.http_list import Gunicorn

SIZES = (500, 5_000)
SAMPLES = int(os.environ.get("BENCH_PAGE_REQUESTS", "15"))  # measured requests per kind
WARMUP = 3  # rounds before the measured ones (each kind once a round)
LIST_LIMIT = 200  # the list's largest page
COUNTRIES = len(events_seed.PLACES)


def _seed(var_dir: Path) -> dict[int, str]:
    """Both campaigns in the events database (places public), and known to the media service."""
    from sqlalchemy import update

    from services.events.models import LocalEvent
    from services.media.app import build as build_media
    from services.media.models import KnownCampaign
    from shared.config import Config

    kernel = events_seed.build_kernel(var_dir)
    campaigns, done = {}, 0
    for size in SIZES:
        campaigns[size] = events_seed.add_campaign(kernel, _name(size))
        # Numbered on from the first campaign's events: the seed adds its organisations once (start 0).
        events_seed.add_events(kernel, campaigns[size], size, start=done)
        done += size
    with kernel.db.transaction() as session:
        table = LocalEvent.__table__
        session.execute(update(table).where(table.c.campaign_id.in_(list(campaigns.values())))
                        .values(address_public="now"))
    for campaign in campaigns.values():
        events_seed.changed_past_the_orm(kernel, campaign)
    kernel.db.dispose()
    events_seed.checkpoint(var_dir)

    media = build_media(Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL="memory://", LOG_LEVEL="WARNING"),
                        jwks=lambda: {"keys": []})
    with media.db.transaction() as session:
        for size, campaign in campaigns.items():
            session.add(KnownCampaign(id=campaign, name=f"Day of action 2022 ({size})", status="open",
                                      as_of=datetime.now(timezone.utc)))
    media.db.dispose()
    return campaigns


def _name(size: int) -> str:
    return f"Day of action 2022 ({'large' if size == SIZES[-1] else 'small'})"


def _connect(port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.connect()
    return conn


def _fetch(port: int, path: str) -> tuple[float, bytes]:
    """Time to last byte of one GET on a fresh connection (connected before the clock)."""
    conn = _connect(port)
    try:
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} on port {port} answered {response.status}: {body[:500]!r}")
    return elapsed, body


def _walk(port: int, path: str) -> tuple[float, list[dict], int, int]:
    """The whole list from `path` on, following `next` on one keep-alive connection: time,
    items, requests and bytes."""
    conn = _connect(port)
    items: list[dict] = []
    requests = size = 0
    try:
        start = time.perf_counter()
        while path:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {body[:500]!r}")
            page = json.loads(body)
            items += page["items"]
            requests, size = requests + 1, size + len(body)
            path = page["next"] and _path(page["next"])
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return elapsed, items, requests, size


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _lines(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines() if log.exists() else []


def _requests_during(logs: dict[str, Path], call) -> dict[str, list[str]]:
    """The access-log lines each server wrote while `call()` ran (a line is written just after
    its answer is sent: wait until no more come)."""
    before = {name: len(_lines(log)) for name, log in logs.items()}
    call()
    seen, quiet_since = None, time.monotonic()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = {name: len(_lines(log)) for name, log in logs.items()}
        if now != seen:
            seen, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since > 0.5:
            break
        time.sleep(0.05)
    return {name: _lines(log)[before[name]:] for name, log in logs.items()}


def _check(web: Gunicorn, events: Gunicorn, logs: dict[str, Path], campaigns: dict[int, str]) -> dict[int, dict]:
    """The page is right and asks each service once; the list finds the overview's events."""
    from markupsafe import escape

    from services.web.i18n import translator

    facts: dict[int, dict] = {}
    for size, campaign in campaigns.items():
        page: dict = {}

        def get_page(campaign=campaign, page=page):
            page["seconds"], page["body"] = _fetch(web.port, f"/campaigns/{campaign}")

        # The web front's requests (its client is requests); a line of the bench's own earlier
        # requests may be written late, and is not the page's.
        seen = {name: [line for line in lines if '"python-requests/' in line]
                for name, lines in _requests_during(logs, get_page).items()}
        html = page["body"].decode()
        name = _name(size)
        # The page's own words for "5000 events in 25 countries.", as its English catalogue has
        # them, escaped as the template escapes them.
        sentence = str(escape(translator("en")("n_events_in_countries", n=size, countries=COUNTRIES)))
        for wanted in (name, sentence):
            if wanted not in html:
                raise RuntimeError(f"the campaign page ({size:,} events) lacks {wanted!r}")
        overview = f"/api/events/campaigns/{campaign}/overview?lang=en"
        if len(seen["events"]) != 1 or f"GET {overview} " not in seen["events"][0] or '" 200 ' not in seen["events"][0]:
            raise RuntimeError(f"the page ({size:,} events) should ask the events service once, for {overview}; "
                               f"it asked {len(seen['events'])} times: {seen['events'][:5]}")
        media = f"/api/media/campaigns/{campaign}/overview?lang=en"  # reports in the reader's language
        if len(seen["media"]) != 1 or f"GET {media} " not in seen["media"][0] or '" 200 ' not in seen["media"][0]:
            raise RuntimeError(f"the page ({size:,} events) should ask the media service once, for {media}; "
                               f"it asked {len(seen['media'])} times: {seen['media'][:5]}")
        _, body = _fetch(events.port, overview)
        listed = json.loads(body)["events"]
        _, items, requests, size_bytes = _walk(events.port, _list_path(campaign))
        if len(listed) != size or sorted(e["id"] for e in items) != sorted(e["id"] for e in listed):
            raise RuntimeError(f"the overview gives {len(listed):,} events, the list {len(items):,}: not the same")
        points = sum(1 for e in listed if e["longitude"] is not None)
        facts[size] = {"page_bytes": len(page["body"]), "overview_bytes": len(body), "points": points,
                       "walk_requests": requests, "walk_bytes": size_bytes,
                       "rows": html.count('class="card event-card"'),
                       "first_ms": page["seconds"] * 1000}  # the first request: rendered, nothing kept yet
    return facts


def _median_ms(call, times: int = 7) -> float:
    call()
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _profile(var_dir: Path, events: Gunicorn, media: Gunicorn, campaign: str) -> list[str]:
    """BENCH_PAGE_PROFILE=1: where the web front's own time goes, in this process with the web's
    own functions as its `campaign` view calls them, on the two answers fetched beforehand (no
    HTTP): parsing the overview, the page's context, the map, the template."""
    from flask import render_template, request
    from markupsafe import Markup

    from services.web import campaign_page
    from services.web.app import create_app
    from services.web.formats import countries
    from services.web.worldmap import legend, render_map
    from shared.config import Config

    overview = _fetch(events.port, f"/api/events/campaigns/{campaign}/overview?lang=en")[1]
    reports = _fetch(media.port, f"/api/media/campaigns/{campaign}/overview")[1]

    class Answers:  # the view's two requests, answered with the bytes above, parsed as Api.get does
        def get(self, path: str, **kwargs):
            return json.loads(overview if path.startswith("/api/events/") else reports)

        def get_if_changed(self, path: str, etag, **kwargs):  # no ETag: every view renders (what is timed)
            return self.get(path), None

    app = create_app(Config(environ={}, DOA_VAR_DIR=str(var_dir), LOG_LEVEL="WARNING"), Answers())
    parsed, parsed_media = json.loads(overview), json.loads(reports)
    with app.test_request_context(f"/campaigns/{campaign}"):
        parse = _median_ms(lambda: json.loads(overview))
        context = _median_ms(lambda: campaign_page.context(parsed, parsed_media, "en", request.args))
        page = campaign_page.context(parsed, parsed_media, "en", request.args)
        points, counts = page.pop("points"), page.pop("counts")
        drawing = _median_ms(lambda: render_map(points, counts, title=page["campaign"]["name"], lang="en"))
        world = Markup(render_map(points, counts, title=page["campaign"]["name"], lang="en"))
        extra = {"legend": legend(), "sub": {"values": {}, "errors": {}}, "all_countries": countries("en"),
                 "subscribed": False}
        rendering = _median_ms(lambda: render_template("campaign.html", **page, world=world, **extra))
        html = render_template("campaign.html", **page, world=world, **extra)
        timeline = html.find('id="reports"') - html.find('id="timeline"')
    client = app.test_client()
    whole = _median_ms(lambda: client.get(f"/campaigns/{campaign}").data)
    return [f"campaign page profile (BENCH_PAGE_PROFILE, in-process, medians of 7): the web's view, rendering "
            f"(nothing kept) {whole:.0f} ms = "
            f"parsing the overview's JSON {parse:.0f} ms + the rest of the context (filters, counts, timeline, map "
            f"points) {context - parse:.0f} ms + the map {drawing:.0f} ms ({len(world):,} bytes of SVG) + the template "
            f"{rendering:.0f} ms ({len(html):,} bytes, of which the timeline's {len(page['timeline'])} hours "
            f"{timeline:,}); not counted here: receiving the answers over HTTP"]


def _list_path(campaign: str) -> str:
    return f"/api/events/events?campaign_id={campaign}&limit={LIST_LIMIT}"


def run() -> list[Result]:
    big, small = SIZES[-1], SIZES[0]
    with temp_dir("page") as var_dir:
        t = time.perf_counter()
        campaigns = _seed(var_dir)
        print(f"  page: seeded {sum(SIZES):,} events in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        logs = {"events": var_dir / "events-access.log", "media": var_dir / "media-access.log"}
        with Gunicorn("services.events.app:create_app()", var_dir, var_dir / "gunicorn-events.log",
                      JWKS_URL=JWKS_URL, GUNICORN_CMD_ARGS=f"--access-logfile {shlex.quote(str(logs['events']))}") \
                as events, \
                Gunicorn("services.media.app:create_app()", var_dir, var_dir / "gunicorn-media.log",
                         JWKS_URL=JWKS_URL, GUNICORN_CMD_ARGS=f"--access-logfile {shlex.quote(str(logs['media']))}") \
                as media:
            ev, md = f"http://127.0.0.1:{events.port}", f"http://127.0.0.1:{media.port}"
            with Gunicorn("services.web.wsgi:create_app()", var_dir, var_dir / "gunicorn-web.log",
                          WEB_API_URL=f"registry={ev},events={ev},media={md},notify={ev}") as web:
                facts = _check(web, events, logs, campaigns)
                print(f"  page: checked: one request to events and one to media per page; "
                      f"{facts[big]['page_bytes']:,} bytes at {big:,} events", file=sys.stderr)
                kinds = {
                    ("page", big): lambda: _fetch(web.port, f"/campaigns/{campaigns[big]}")[0],
                    ("page", small): lambda: _fetch(web.port, f"/campaigns/{campaigns[small]}")[0],
                    ("list", big): lambda: _fetch(events.port, _list_path(campaigns[big]))[0],
                    ("walk", big): lambda: _walk(events.port, _list_path(campaigns[big]))[0],
                    ("overview", big): lambda: _fetch(
                        events.port, f"/api/events/campaigns/{campaigns[big]}/overview?lang=en")[0],
                }
                order = list(kinds)
                times: dict[tuple[str, int], list[float]] = {kind: [] for kind in kinds}
                for i in range(WARMUP + SAMPLES):
                    shift = i % len(order)
                    for kind in order[shift:] + order[:shift]:
                        seconds = kinds[kind]()
                        if i >= WARMUP:
                            times[kind].append(seconds)
                    if i >= WARMUP and (i - WARMUP) % 5 == 4:
                        print(f"  page: {i - WARMUP + 1}/{SAMPLES} rounds; page {big:,} p50 so far "
                              f"{statistics.median(times[('page', big)]) * 1000:.0f} ms", file=sys.stderr)
                profile = _profile(var_dir, events, media, campaigns[big]) \
                    if os.environ.get("BENCH_PAGE_PROFILE") == "1" else []

    p50 = {kind: statistics.median(values) for kind, values in times.items()}
    ms = {kind: value * 1000 for kind, value in p50.items()}
    page, listing, walk, overview = ms[("page", big)], ms[("list", big)], ms[("walk", big)], ms[("overview", big)]
    f_big, f_small = facts[big], facts[small]
    spread = {kind: (min(v) * 1000, max(v) * 1000) for kind, v in times.items()}
    details = [
        f"campaign page {big // 1000}k: p50 {page:.0f} ms (min {spread[('page', big)][0]:.0f}, max "
        f"{spread[('page', big)][1]:.0f}; median of {SAMPLES}, one at a time, time to last byte), "
        f"{f_big['page_bytes']:,} bytes of HTML ({f_big['rows']} events listed, {f_big['points']:,} points on the "
        f"map); one request to the events service (its overview, {f_big['overview_bytes']:,} bytes of JSON, p50 "
        f"{overview:.0f} ms alone, so {page - overview:.0f} ms is the web's own) and one to media (empty overview)",
        f"campaign page {big // 1000}k baselines: one list page of {LIST_LIMIT} p50 {listing:.1f} ms "
        f"(page/list x{page / listing:.1f}); the whole list, {f_big['walk_requests']} requests following `next`, "
        f"{f_big['walk_bytes']:,} bytes, p50 {walk:.0f} ms (walk/page x{walk / page:.2f})",
        f"campaign page {big // 1000}k, its first request (rendered, nothing kept yet): {f_big['first_ms']:.0f} ms; "
        f"after that each request asks both services with the ETags it holds (304) and sends the page it kept",
        f"campaign page {small:,} -> {big:,} events (x{big // small}): p50 {ms[('page', small)]:.0f} -> {page:.0f} ms "
        f"(x{page / ms[('page', small)]:.1f}), {f_small['page_bytes']:,} -> {f_big['page_bytes']:,} bytes "
        f"(x{f_big['page_bytes'] / f_small['page_bytes']:.1f})",
        *profile,
    ]
    name = f"campaign page {big // 1000}k"
    return [
        Result(f"{name} / list page", 1 / p50[("page", big)], 1 / p50[("list", big)], "/s", target=0.5,
               details=details),
        Result(f"{name} / whole list", 1 / p50[("page", big)], 1 / p50[("walk", big)], "/s", target=None),
    ]
