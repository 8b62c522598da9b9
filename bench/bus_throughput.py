"""Bus: messages per second from a committed outbox row to a committed inbox row, over Redis.

App: M `organisation.registered` messages are written into the registry's outbox (through
`kernel.outbox.add`, before timing, while no relay runs). The events service's bus worker
(its consumer) is started and left to idle; then the clock starts with the registry's relay
and stops when the events service's `bus_inbox` holds all M message ids. So the time covers:
relay reads the outbox, publishes to Redis through the topic exchange and marks the rows sent;
the consumer takes each message, validates it, runs the handler (a copy of the organisation),
records the id in its inbox, commits and acknowledges.

Baseline: raw kombu on the same Redis database. A kombu Consumer (same prefetch, acking each
message) idles on a durable queue bound to a durable topic exchange; the clock starts when a
producer begins publishing the same M JSON bodies (same size, persistent) and stops when the
consumer has acknowledged all M. No database on either side.

Each run starts from an empty Redis DB (BENCH_REDIS_URL, default redis://127.0.0.1:6379/14,
flushed before each run: only that DB) and its own SQLite files in a temporary folder.
"""
from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from bench.common import REDIS_URL, Result, flush_redis, temp_dir

MESSAGES = int(os.environ.get("BENCH_BUS_MESSAGES", "5000"))
PREPARE_BATCH = 500
PREFETCH = 50  # ServiceConsumer's default
TIMEOUT = 300.0
ROUNDS = 3


def organisation(i: int) -> dict:
    """The public data of a registered organisation, as the registry would send it."""
    return {"id": str(uuid.uuid4()), "status": "active", "abbreviation": f"ORG-{i:05d}",
            "name": f"Muungano wa Haki {i}", "name_en": f"Climate group {i}", "country": "KE",
            "timezone": "Africa/Nairobi", "languages": ["sw", "en"], "website": f"https://org{i}.example.org"}


def _config(var_dir: Path):
    from shared.config import Config

    return Config(environ={}, DOA_VAR_DIR=str(var_dir), BUS_URL=REDIS_URL, LOG_LEVEL="WARNING")


def run_app(count: int = MESSAGES) -> tuple[float, list[str]]:
    """Answer (seconds, the JSON bodies that went through the outbox)."""
    from services.platform import build_kernel

    flush_redis()
    with temp_dir("bus") as var_dir:
        config = _config(var_dir)
        registry = build_kernel("registry", config)
        events = build_kernel("events", config, jwks=lambda: {"keys": []})
        assert registry.db.url != events.db.url
        ids: set[str] = set()
        for start in range(0, count, PREPARE_BATCH):
            with registry.db.transaction() as session:
                for i in range(start, min(start + PREPARE_BATCH, count)):
                    ids.add(registry.outbox.add(session, "organisation.registered", organisation(i))["id"])
        with registry.db.transaction() as session:
            outbox = registry.tables["outbox"]
            bodies = [row.body for row in session.execute(outbox.select().order_by(outbox.c.seq))]

        worker = events.worker().start()
        inbox = sqlite3.connect(Path(events.db.engine.url.database), timeout=30)
        relay = registry.relay()
        stop = threading.Event()
        relay_thread = threading.Thread(target=relay.run_forever, args=(stop,), name="bench-relay", daemon=True)
        try:
            time.sleep(0.5)  # let the consumer connect and declare its queue
            start = time.perf_counter()
            relay_thread.start()
            deadline = start + TIMEOUT
            while inbox.execute("SELECT count(*) FROM bus_inbox").fetchone()[0] < count:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"bus app: not all {count} messages arrived in {TIMEOUT:.0f}s")
                if not all(t.is_alive() for t in worker.threads) or not relay_thread.is_alive():
                    raise RuntimeError("bus app: a bus thread died")
                time.sleep(0.01)
            elapsed = time.perf_counter() - start
        finally:
            stop.set()
            relay.wake.set()
            relay_thread.join(10)
            worker.stop()
        handled = {row[0] for row in inbox.execute("SELECT message_id FROM bus_inbox")}
        known = inbox.execute("SELECT count(*) FROM known_organisations").fetchone()[0]
        inbox.close()
        registry.db.dispose()
        events.db.dispose()
        if handled != ids or known != count:
            raise RuntimeError(f"bus app: inbox holds {len(handled & ids)} of {count} ids, {known} organisations")
        if worker.consumer.outcomes != {"handled": count}:
            raise RuntimeError(f"bus app: unexpected outcomes {worker.consumer.outcomes}")
    return elapsed, bodies


def run_baseline(bodies: list[str]) -> float:
    flush_redis()
    count = len(bodies)
    exchange = Exchange("bench-raw", type="topic", durable=True, delivery_mode="persistent")
    queue = Queue("bench-raw.events", exchange=exchange, routing_key="organisation.registered", durable=True)
    received: set[str] = set()
    all_in = threading.Event()
    ready = threading.Event()
    failure: list[BaseException] = []

    def on_message(body, message) -> None:
        received.add(body["id"])
        message.ack()
        if len(received) >= count:
            all_in.set()

    def consume() -> None:
        try:
            with Connection(REDIS_URL, transport_options={"visibility_timeout": 300}) as conn:
                with conn.channel() as channel, Consumer(channel, queues=[queue], callbacks=[on_message],
                                                         accept=["json"], prefetch_count=PREFETCH):
                    ready.set()
                    while not all_in.is_set():
                        try:
                            conn.drain_events(timeout=1)
                        except TimeoutError:
                            pass
        except BaseException as exc:  # surface it in the main thread
            failure.append(exc)
            ready.set()
            all_in.set()

    consumer = threading.Thread(target=consume, name="bench-raw-consumer", daemon=True)
    consumer.start()
    ready.wait(30)
    with Connection(REDIS_URL, transport_options={"visibility_timeout": 300}) as conn:
        channel = conn.channel()
        exchange(channel).declare()
        producer = Producer(channel, exchange=exchange)
        time.sleep(0.5)  # as for the app: the consumer idles before the clock starts
        start = time.perf_counter()
        for body in bodies:
            producer.publish(body, routing_key="organisation.registered", content_type="application/json",
                             content_encoding="utf-8", delivery_mode=2, headers={})
        if not all_in.wait(TIMEOUT):
            raise RuntimeError(f"bus baseline: not all {count} messages arrived in {TIMEOUT:.0f}s")
        elapsed = time.perf_counter() - start
    consumer.join(10)
    if failure:
        raise failure[0]
    if len(received) != count:
        raise RuntimeError(f"bus baseline: received {len(received)} of {count}")
    return elapsed


def run() -> list[Result]:
    # Rounds alternate which side goes first, so a slow spell of this (shared, virtual)
    # machine hits both alike; each side reports its median round.
    app_runs: list[float] = []
    base_runs: list[float] = []
    bodies: list[str] = []
    for i in range(ROUNDS):
        for side in (("app", "baseline") if i % 2 == 0 else ("baseline", "app")):
            if side == "app":
                seconds, bodies = run_app()
                app_runs.append(seconds)
            else:
                seconds = run_baseline(bodies)
                base_runs.append(seconds)
            print(f"  bus: round {i + 1}/{ROUNDS} {side:8s} {len(bodies) / seconds:7.1f} msg/s "
                  f"({len(bodies)} in {seconds:.2f}s)", file=sys.stderr)
    flush_redis()
    count = len(bodies)
    app_seconds, base_seconds = statistics.median(app_runs), statistics.median(base_runs)
    size = sum(len(b.encode()) for b in bodies) / count
    return [Result("bus outbox->inbox", count / app_seconds, count / base_seconds, "msg/s", details=[
        f"bus outbox->inbox: {count} messages of {size:.0f} bytes, medians of {ROUNDS} rounds: app "
        f"{app_seconds:.2f}s, raw kombu {base_seconds:.2f}s (Redis {REDIS_URL})"])]
