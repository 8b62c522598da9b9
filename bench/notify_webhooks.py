"""Notify: webhook fan-out of one message to 1,000 endpoints on loopback, deliveries per second.

Receiver (`bench/notify_servers.py http`, its own process): raw asyncio sockets on 4 loopback
ports, HTTP/1.1 keep-alive, every request answered 200 with an empty body; it reports how many
requests it took and the CPU it spent, which the details show (a few hundredths of a second per
1,000: it is not what limits either side).

App: the notify kernel built with `services.notify.app.build` (SQLite in a temporary folder,
migrated like in production), WEBHOOK_ALLOW=127.0.0.0/8, WEBHOOK_CONCURRENCY=16. 1,000
`WebhookEndpoint` rows of one coordinator, types ["event.approved"], each URL a distinct path
(`/hooks/<i>`) on one of the receiver's ports, in the canonical form `safety.check_url` gives at
registration, each with its own `whsec_` secret. Each round, one new `event.approved` envelope goes
through the real consumer path, `kernel.delivery().handle(envelope, {})` (inbox, the notify
handlers, `webhooks.queue.queue_deliveries`: 1,000 pending deliveries), before the clock starts.
The clock then times a fresh `WebhookDispatcher(kernel).send_due(pool)` loop, with a
ThreadPoolExecutor(WEBHOOK_CONCURRENCY) as `run_forever` makes it, until it has claimed all
1,000: claim (lease), sign (Standard Webhooks HMAC), POST through the SSRF-guarded transport
(one session per sending thread), log each attempt and mark each delivery. Afterwards every
delivery must be `delivered` with one attempt and the receiver must have taken 1,000 requests.

Baseline: a plain `requests` loop with the same concurrency: ThreadPoolExecutor(16), one
`requests.Session` per thread (made in the timed part, as the dispatcher's are), POSTing the same
envelope bytes (Content-Type: application/json) to the same 1,000 URLs and reading each answer.

5 rounds alternating which side goes first, medians (BENCH_WEBHOOK_ENDPOINTS, BENCH_WEBHOOK_ROUNDS).
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from bench.common import Result, sized, temp_dir
from bench.notify_servers import Server

ENDPOINTS = int(os.environ.get("BENCH_WEBHOOK_ENDPOINTS", "1000"))
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "5"))
CONCURRENCY = 16
PORTS = 4
TARGET = 0.7


def event_data(campaign_id: str, organisation_id: str) -> dict:
    """An approved public event, as the events service publishes it (EventData)."""
    start = datetime(2022, 12, 1, 14, 0, tzinfo=timezone.utc)
    return {"id": str(uuid.uuid4()), "campaign_id": campaign_id, "organisation_id": organisation_id,
            "title": {"en": "Rally for solidarity", "sw": "Mkutano wa mshikamano"}, "languages": ["sw", "en"],
            "activity_type": "rally", "city": "Nairobi", "country": "KE", "timezone": "Africa/Nairobi",
            "starts_local": "2022-12-01T17:00:00", "ends_local": "2022-12-01T19:00:00",
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(),
            "status": "approved", "visibility": "public"}


def approved_envelope(campaign_id: str, organisation_id: str) -> dict:
    """An `event.approved` message as it arrives from the bus (made as the events service's outbox would)."""
    from shared.bus.catalogue import dump, message_type, validate_outgoing
    from shared.bus.envelope import make_envelope

    data = event_data(campaign_id, organisation_id)
    return make_envelope("event.approved", message_type("event.approved").version,
                         dump("event.approved", validate_outgoing("event.approved", data)), "events", None)


def _kernel(var_dir: Path, **settings):
    from services.notify.app import build
    from shared.config import Config

    # Through `environ`, so each setting is read (and typed) as from the environment.
    config = Config(environ={"DOA_VAR_DIR": str(var_dir), "BUS_URL": "memory://", "LOG_LEVEL": "WARNING", **settings})
    return build(config, jwks=lambda: {"keys": []})


def _add_endpoints(kernel, ports: list[int], count: int) -> list[str]:
    from sqlalchemy import insert

    from services.notify.models import WebhookEndpoint
    from services.notify.webhook_endpoints import allow_list
    from services.notify.webhooks import safety, signing
    from shared.db import utcnow

    allow = allow_list(kernel.config)
    owner = str(uuid.uuid4())
    urls = [safety.check_url(f"http://127.0.0.1:{ports[i % len(ports)]}/hooks/{i}", allow) for i in range(count)]
    rows = [{"id": str(uuid.uuid4()), "owner_id": owner, "role": "coordinator", "url": url,
             "types": ["event.approved"], "secret": signing.new_secret(), "status": "active",
             "created_at": utcnow()} for url in urls]
    with kernel.db.transaction() as session:
        session.execute(insert(WebhookEndpoint), rows)
    return urls


def _queue_one_message(kernel, campaign_id: str, organisation_id: str) -> tuple[str, str, float]:
    """Answer (message id, the envelope as webhooks send it, seconds the consumer path took)."""
    from sqlalchemy import select

    from services.notify.models import WebhookDelivery

    envelope = approved_envelope(campaign_id, organisation_id)
    started = time.perf_counter()
    outcome = kernel.delivery().handle(envelope, {})
    seconds = time.perf_counter() - started
    if outcome != "handled":
        raise RuntimeError(f"webhooks: the event.approved message was {outcome}")
    with kernel.db.transaction() as session:
        bodies = session.execute(select(WebhookDelivery.body).where(
            WebhookDelivery.message_id == envelope["id"]).limit(1)).scalars().all()
    return envelope["id"], bodies[0], seconds


def run_app(kernel, message_id: str, count: int) -> float:
    from sqlalchemy import func, select

    from services.notify.models import DeliveryAttempt, WebhookDelivery
    from services.notify.webhook_dispatch import WebhookDispatcher

    dispatcher = WebhookDispatcher(kernel)
    with ThreadPoolExecutor(max_workers=kernel.config.WEBHOOK_CONCURRENCY, thread_name_prefix="webhook") as pool:
        started = time.perf_counter()
        claimed = 0
        while claimed < count:
            sent = dispatcher.send_due(pool)
            if not sent:
                break
            claimed += sent
        elapsed = time.perf_counter() - started
    with kernel.db.transaction() as session:
        delivered = session.execute(select(func.count()).select_from(WebhookDelivery).where(
            WebhookDelivery.message_id == message_id, WebhookDelivery.status == "delivered",
            WebhookDelivery.attempts == 1)).scalar_one()
        attempts = session.execute(select(func.count()).select_from(DeliveryAttempt).join(
            WebhookDelivery, WebhookDelivery.id == DeliveryAttempt.delivery_id).where(
            WebhookDelivery.message_id == message_id, DeliveryAttempt.status_code == 200)).scalar_one()
    if delivered != count or attempts != count:
        raise RuntimeError(f"webhooks app: {delivered} of {count} delivered at the first attempt "
                           f"({attempts} attempts logged with 200)")
    return elapsed


def run_baseline(urls: list[str], body: bytes) -> float:
    local = threading.local()

    def post(url: str) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=(5, 10))
        response.content  # noqa: B018 - read the (empty) answer, as the app does
        return response.status_code

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        started = time.perf_counter()
        codes = list(pool.map(post, urls))
        elapsed = time.perf_counter() - started
    if codes.count(200) != len(urls):
        raise RuntimeError(f"webhooks baseline: {codes.count(200)} of {len(urls)} answered 200")
    return elapsed


def run() -> list[Result]:
    app_runs: list[float] = []
    base_runs: list[float] = []
    queue_runs: list[float] = []
    receiver_cpu: dict[str, list[float]] = {"app": [], "baseline": []}
    campaign_id, organisation_id = str(uuid.uuid4()), str(uuid.uuid4())
    with temp_dir("webhooks") as var_dir, Server("http", ports=PORTS) as receiver:
        kernel = _kernel(var_dir, WEBHOOK_ALLOW="127.0.0.0/8", WEBHOOK_CONCURRENCY=str(CONCURRENCY))
        try:
            urls = _add_endpoints(kernel, receiver.ports, ENDPOINTS)
            body = b""
            for i in range(ROUNDS):
                # This round's message, queued before either side runs: the baseline posts its bytes.
                message_id, envelope, queued_s = _queue_one_message(kernel, campaign_id, organisation_id)
                body = envelope.encode()
                queue_runs.append(queued_s)
                for side in (("app", "baseline") if i % 2 == 0 else ("baseline", "app")):
                    before, cpu_before = receiver.count()
                    if side == "app":
                        seconds = run_app(kernel, message_id, ENDPOINTS)
                        app_runs.append(seconds)
                    else:
                        seconds = run_baseline(urls, body)
                        base_runs.append(seconds)
                    after, cpu_after = receiver.count()
                    if after - before != ENDPOINTS:
                        raise RuntimeError(f"webhooks {side}: the receiver took {after - before} of {ENDPOINTS}")
                    receiver_cpu[side].append(cpu_after - cpu_before)
                    print(f"  webhooks: round {i + 1}/{ROUNDS} {side:8s} {ENDPOINTS / seconds:7.1f} deliveries/s "
                          f"({ENDPOINTS} in {seconds:.2f}s; receiver CPU {cpu_after - cpu_before:.2f}s)",
                          file=sys.stderr)
        finally:
            kernel.db.dispose()
    app_s, base_s = statistics.median(app_runs), statistics.median(base_runs)
    name = sized("notify webhooks", ENDPOINTS)
    details = [
        f"{name}: one event.approved ({len(body)} bytes) to {ENDPOINTS} endpoints on {PORTS} loopback ports, "
        f"concurrency {CONCURRENCY}, medians of {ROUNDS} rounds: WebhookDispatcher.send_due loop {app_s:.2f}s "
        f"(claim, sign, guarded POST, attempt log), plain requests loop {base_s:.2f}s; queueing the deliveries "
        f"through kernel.delivery().handle (before the clock) {statistics.median(queue_runs):.2f}s; receiver CPU "
        f"per round {statistics.median(receiver_cpu['app']):.2f}s (app) / "
        f"{statistics.median(receiver_cpu['baseline']):.2f}s (baseline)",
    ]
    return [Result(name, ENDPOINTS / app_s, ENDPOINTS / base_s, "deliveries/s", target=TARGET, details=details)]
