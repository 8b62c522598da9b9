"""`make prove`: fault scenarios on the Procfile topology, one table (issue 16, "Faults, proven").

The topology is the one `bench/notify_latency.py` starts (its `Processes`, `_prepare`, `Api`):
gunicorn with `deploy/gunicorn.conf.py` for the registry, events and notify apps (events with two
gunicorn workers, the others one) and `doa worker registry|events|notify`, SQLite files in a
temporary folder. The bus is a private `redis-server` on a free port (append-only file, fsync on
every write, as a Redis that must not lose messages is run), so killing it harms nobody else;
then one scenario on the same topology with notify's database on PostgreSQL (a fresh database at
PROVE_PG_URL's server, dropped afterwards; PROVE_PG=0 leaves it out), whose connections are all
terminated mid-run; and a last one over RabbitMQ (PROVE_AMQP_URL; left out when no broker answers
there, or with PROVE_AMQP=0).

The receiver is in this process: a threaded HTTP server that records, for every request, its
arrival (`time.monotonic_ns()`), its path (which endpoint), its `webhook-id` header and the
envelope's `data.id` (the event). `/hooks/healthy` answers 200 at once; `/hooks/slow` after 5 s.

Each scenario: an organisation submits RATE x SECONDS events, then a coordinator approves them at
RATE per second (4 client threads keep the schedule); in the middle a fault is injected; then the
run waits until every accepted approval has its webhook at the healthy endpoint and notify has no
webhook delivery pending or being sent for it (or QUIET_TIMEOUT passes). Counted:

- accepted: approvals the API answered 2xx; failed: those it did not (or never answered);
- delivered: accepted approvals whose webhook reached the healthy endpoint (unique webhook-id);
- lost: accepted - delivered; duplicated: requests at the healthy endpoint with a webhook-id it had
  already received;
- p50 / p99: approval sent -> its first webhook arrival, over the accepted approvals delivered;
- recover: from the fault to the first webhook arriving for an approval sent after the fault;
- dead letters: parked messages added during the scenario (`doa bus dead-letters`).

Prints the table (markdown), writes it to var/prove/table.md, exits 1 if anything was lost.
Settings: PROVE_RATE (10/s), PROVE_SECONDS (20), PROVE_ONLY (comma-separated scenario names).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import redis as redis_client
import requests
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from bench.common import REPO, clean_environ, free_port, temp_dir
from bench.notify_latency import (
    BIN,
    CAMPAIGN,
    SERVICES,
    Api,
    Processes,
    _count,
    _prepare,
    _ready,
    _wait_until,
    event_body,
)

RATE = float(os.environ.get("PROVE_RATE", "10"))
SECONDS = float(os.environ.get("PROVE_SECONDS", "20"))
QUIET_TIMEOUT = float(os.environ.get("PROVE_QUIET_TIMEOUT", "60"))
PG_ADMIN_URL = os.environ.get("PROVE_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("PROVE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
CLIENTS = 4
SLOW_S = 5.0
OUT = REPO / "var" / "prove"


# -- the receiver -----------------------------------------------------------------------------

@dataclass
class Hit:
    ns: int
    path: str
    webhook_id: str
    event_id: str


class Receiver:
    """Webhook endpoints in this process: every request recorded, `/hooks/slow` answered late."""

    def __init__(self):
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.monotonic_ns()
                try:
                    event_id = json.loads(body)["data"]["id"]
                except (ValueError, KeyError, TypeError):
                    event_id = "?"
                with receiver.lock:
                    receiver.hits.append(Hit(arrived, self.path, self.headers.get("webhook-id", "?"), event_id))
                if self.path.endswith("/slow"):
                    time.sleep(SLOW_S)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def healthy(self, event_ids: set[str]) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == "/hooks/healthy" and h.event_id in event_ids]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the platform -----------------------------------------------------------------------------

class Redis:
    """A private redis-server on a free port, its append-only file in `folder` (fsync always)."""

    def __init__(self, folder: Path):
        self.port, self.folder = free_port(), folder
        folder.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=open(self.folder / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("prove: the private redis-server did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cli(self, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True).stdout


class Platform:
    """The Procfile's processes (registry, events, notify and their workers) on one bus, set up as
    an operator and an organisation would: a coordinator, an organisation, a campaign, a webhook
    endpoint for `event.approved` at the receiver's healthy path."""

    def __init__(self, var_dir: Path, bus_url: str, receiver: Receiver, notify_db: str = ""):
        self.var_dir, self.receiver, self.notify_db = var_dir, receiver, notify_db
        self.ports = {name: free_port() for name in SERVICES}
        self.env = clean_environ(
            **({"NOTIFY_DATABASE_URL": notify_db} if notify_db else {}),
            DOA_VAR_DIR=str(var_dir), BUS_URL=bus_url, BUS_EXCHANGE=f"prove-{uuid.uuid4().hex[:10]}",
            JWKS_URL=f"http://127.0.0.1:{self.ports['registry']}/api/registry/.well-known/jwks.json",
            WEBHOOK_ALLOW="127.0.0.0/8", LOG_LEVEL="WARNING", LOG_FORMAT="text", WEB_CONCURRENCY="1",
            WEB_THREADS="4", TOKEN_RATE_LIMIT="1000/minute", PYTHONUNBUFFERED="1",
            PATH=f"{BIN}:{os.environ.get('PATH', '')}")
        self.key = _prepare(var_dir, self.env)
        self.processes = Processes(var_dir, self.env)
        for name in SERVICES:
            self.start_web(name)
            self.start_worker(name)
        for name, port in self.ports.items():
            _wait_until(lambda port=port, name=name: _ready(port, name), f"{name} to answer", 120, self.processes)
        self.registry, self.events, self.notify = (Api(self.ports[n]) for n in SERVICES)
        office = self.coordinator()
        org = self.registry.call("POST", "/api/registry/organisations", token=office, expect=201, json={
            "abbreviation": "CPK", "name": "Communist Party of Kenya", "name_en": "Communist Party of Kenya",
            "country": "KE", "timezone": "Africa/Nairobi", "languages": ["sw", "en"],
            "contact_email": "office@cpk.example"})
        _wait_until(lambda: self.count("events", "SELECT count(*) FROM known_organisations WHERE id = ?",
                                   org["id"]) == 1, "events to know the organisation", 60, self.processes)
        self.org_key = self.registry.call("POST", f"/api/registry/organisations/{org['id']}/keys", token=office,
                                          expect=201, json={})["key"]
        self.campaign = self.events.call("POST", "/api/events/campaigns", token=office, expect=201, json=CAMPAIGN)["id"]
        self.endpoint(office, "healthy")

    def count(self, service: str, sql: str, *args) -> int:
        """A count in a service's database (SQLite file, or notify's PostgreSQL database)."""
        if service == "notify" and self.notify_db:
            engine = create_engine(self.notify_db, poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    return conn.exec_driver_sql(sql.replace("?", "%s"), tuple(args)).scalar() or 0
            finally:
                engine.dispose()
        return _count(self.var_dir / f"{service}.db", sql, *args)

    def start_web(self, name: str) -> None:
        # events with two gunicorn workers, so one can be killed while the other serves
        self.processes.env = dict(self.env, WEB_CONCURRENCY="2" if name == "events" else "1")
        self.processes.start(name, [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
                                    "--bind", f"127.0.0.1:{self.ports[name]}", f"services.{name}.app:create_app()"])
        self.processes.env = self.env

    def start_worker(self, name: str) -> None:
        self.processes.start(f"{name}-worker", [str(BIN / "doa"), "worker", name])

    def coordinator(self) -> str:
        return self.registry.call("POST", "/api/registry/tokens", token=self.key)["access_token"]

    def endpoint(self, office: str, name: str, url: str | None = None) -> str:
        return self.notify.call("POST", "/api/notify/webhooks", token=office, expect=201,
                                json={"url": url or self.receiver.url(name), "types": ["event.approved"]})["id"]

    def submit(self, count: int) -> list[str]:
        """`count` events submitted by the organisation; answers their ids once notify took them all."""
        token = self.registry.call("POST", "/api/registry/tokens", token=self.org_key)["access_token"]
        before = self.count("notify", "SELECT count(*) FROM bus_inbox WHERE type = ?", "event.submitted")
        ids = [self.events.call("POST", f"/api/events/campaigns/{self.campaign}/events", token=token, expect=201,
                                json=event_body(i))["id"] for i in range(count)]
        _wait_until(lambda: self.count("notify", "SELECT count(*) FROM bus_inbox WHERE type = ?",
                                   "event.submitted") >= before + count, "notify to take the submissions", 120,
                    self.processes)
        return ids

    def pending_deliveries(self) -> int:
        return self.count("notify",
                          "SELECT count(*) FROM webhook_deliveries WHERE status IN ('pending', 'sending') AND endpoint_id "
                      "IN (SELECT id FROM webhook_endpoints WHERE url = ?)", self.receiver.url("healthy"))

    def trace(self, event_id: str) -> str:
        """Where an approval's webhook got to: its outbox row at events, its delivery row at notify."""
        like = f'%"{event_id}"%'
        sent = self.count("events", "SELECT count(*) FROM bus_outbox WHERE routing_key = "
                      "'event.approved' AND body LIKE ? AND sent_at IS NOT NULL", like)
        unsent = self.count("events", "SELECT count(*) FROM bus_outbox WHERE routing_key = "
                        "'event.approved' AND body LIKE ? AND sent_at IS NULL", like)
        deliveries = [f"{status}: {self.count('notify', sql, like, status)}"
                      for status in ("pending", "sending", "delivered", "failed")
                      for sql in ["SELECT count(*) FROM webhook_deliveries WHERE body LIKE ? AND status = ? AND "
                                  "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE url = "
                                  f"'{self.receiver.url('healthy')}')"]]
        message_ids = self._strings(self.var_dir / "events.db", "SELECT message_id FROM bus_outbox WHERE "
                                    "routing_key = 'event.approved' AND body LIKE ?", like)
        handled = sum(self.count("notify", "SELECT count(*) FROM bus_inbox WHERE message_id = ?", m)
                      for m in message_ids)
        return (f"event {event_id}: outbox sent {sent} / unsent {unsent} (message {', '.join(message_ids)}); in "
                f"notify's inbox {handled}; healthy delivery rows {', '.join(deliveries)}; {self.bus_state()}")

    @staticmethod
    def _strings(db: Path, sql: str, *args) -> list[str]:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return [str(r[0]) for r in conn.execute(sql, args)]
        finally:
            conn.close()

    def bus_state(self) -> str:
        """On Redis: the depth of notify's queue and the messages taken but not acknowledged."""
        if not self.env["BUS_URL"].startswith("redis://"):
            return ""
        client = redis_client.Redis.from_url(self.env["BUS_URL"])
        try:
            queue = f"{self.env['BUS_EXCHANGE']}.notify"
            return f"Redis: {queue} holds {client.llen(queue)}, unacked {client.hlen('unacked')}"
        finally:
            client.close()

    def dead_letters(self) -> tuple[int, str]:
        """(how many messages are parked, `doa bus dead-letters`' output)."""
        out = subprocess.run([str(BIN / "doa"), "bus", "dead-letters"], cwd=REPO, env=self.env, capture_output=True,
                             text=True, timeout=60)
        match = re.search(r"(\d+) parked message", out.stdout)
        return (int(match.group(1)) if match else -1), (out.stdout + out.stderr).strip()

    def revive(self) -> list[str]:
        """Start again any process that exited (a finding: the Procfile's honcho would have stopped
        everything); answers their names."""
        dead = [name for name, proc in self.processes.procs.items() if proc.poll() is not None]
        for name in dead:
            if name.endswith("-worker"):
                self.start_worker(name.removesuffix("-worker"))
            else:
                self.start_web(name)
        return dead

    def gunicorn_workers(self, name: str) -> list[int]:
        master = self.processes.procs[name].pid
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self) -> None:
        self.processes.stop()


# -- a scenario -------------------------------------------------------------------------------

@dataclass
class Approval:
    event_id: str
    sent_ns: int
    status: int  # 0: no answer


@dataclass
class Row:
    name: str
    accepted: int = 0
    failed: int = 0
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    p50: float = float("nan")
    p99: float = float("nan")
    recover: float | None = None
    dead: int = 0
    notes: list[str] = field(default_factory=list)
    lost_ids: dict[str, int] = field(default_factory=dict)  # event id -> when its approval was sent


def rank(values: list[float], q: float) -> float:
    """The nearest-rank percentile (nan for none)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * q / 100) - 1)] if ordered else float("nan")


def drive(platform: Platform, ids: list[str], fault: Callable[[], None] | None, fault_at: float) -> tuple[list[Approval], int | None]:
    """Approve `ids` at RATE per second; run `fault` (in a thread of its own) `fault_at` seconds in.
    Answers the approvals and when the fault began (monotonic ns)."""
    token = platform.coordinator()
    approvals: list[Approval] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    next_index = iter(range(len(ids)))
    fault_ns: list[int] = []

    def client() -> None:
        session = requests.Session()
        session.trust_env = False
        url = platform.events.base + "/api/events/events/{}/approval"
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            time.sleep(max(0.0, start + i / RATE - time.monotonic()))
            sent = time.monotonic_ns()
            try:
                status = session.post(url.format(ids[i]), headers={"Authorization": f"Bearer {token}"},
                                      timeout=15).status_code
            except requests.RequestException:
                status = 0
            with lock:
                approvals.append(Approval(ids[i], sent, status))

    def injector() -> None:
        time.sleep(max(0.0, start + fault_at - time.monotonic()))
        fault_ns.append(time.monotonic_ns())
        fault()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    if fault is not None:
        threads.append(threading.Thread(target=injector, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return approvals, (fault_ns[0] if fault_ns else None)


def measure(platform: Platform, name: str, fault: Callable[[], None] | None = None,
            extra: Callable[[Row], None] | None = None) -> Row:
    count = int(RATE * SECONDS)
    ids = platform.submit(count)
    dead_before, _ = platform.dead_letters()
    approvals, fault_ns = drive(platform, ids, fault, SECONDS / 2)
    row = Row(name)
    accepted = {a.event_id: a for a in approvals if 200 <= a.status < 300}
    row.accepted, row.failed = len(accepted), len(approvals) - len(accepted)
    wanted = set(accepted)

    def quiet() -> bool:
        arrived = {h.event_id for h in platform.receiver.healthy(wanted)}
        return arrived >= wanted and platform.pending_deliveries() == 0

    deadline = time.monotonic() + QUIET_TIMEOUT
    while not quiet() and time.monotonic() < deadline:
        time.sleep(0.5)
    if not quiet():
        row.notes.append(f"not quiet after {QUIET_TIMEOUT:.0f}s (pending deliveries: {platform.pending_deliveries()})")
    time.sleep(1.0)  # a straggler or a duplicate on its way
    hits = platform.receiver.healthy(set(ids))
    first: dict[str, int] = {}
    seen: set[str] = set()
    for hit in sorted(hits, key=lambda h: h.ns):
        if hit.webhook_id in seen:
            row.duplicated += 1
            again = (hit.ns - min(h.ns for h in hits if h.webhook_id == hit.webhook_id)) / 1e9
            row.notes.append(f"webhook-id {hit.webhook_id} again {again:.1f} s after its first arrival")
        seen.add(hit.webhook_id)
        first.setdefault(hit.event_id, hit.ns)
    row.delivered = len(wanted & set(first))
    row.lost = row.accepted - row.delivered
    row.lost_ids = {e: accepted[e].sent_ns for e in wanted - set(first)}
    for event_id in sorted(wanted - set(first))[:3]:
        row.notes.append("lost " + platform.trace(event_id))
    extra_delivered = len(set(first) - wanted)
    if extra_delivered:
        row.notes.append(f"{extra_delivered} webhook(s) for approvals whose request failed (committed, answer lost)")
    latencies = [(first[e] - a.sent_ns) / 1e6 for e, a in accepted.items() if e in first]
    row.p50, row.p99 = rank(latencies, 50), rank(latencies, 99)
    if fault_ns is not None:
        after = [first[a.event_id] for a in approvals if a.sent_ns >= fault_ns and a.event_id in first]
        row.recover = (min(after) - fault_ns) / 1e9 if after else None
        if not after:
            row.notes.append("no delivery for an approval made after the fault")
    dead_after, listing = platform.dead_letters()
    row.dead = dead_after - dead_before
    if extra is not None:
        extra(row)
    revived = platform.revive()
    if revived:
        row.notes.append(f"exited and restarted by the runner: {', '.join(revived)}")
    if row.failed:
        codes: dict[int, int] = {}
        for a in approvals:
            if not 200 <= a.status < 300:
                codes[a.status] = codes.get(a.status, 0) + 1
        row.notes.append("failed requests: " + ", ".join(f"{n}x {c or 'no answer'}" for c, n in sorted(codes.items())))
    return row


# -- the scenarios ----------------------------------------------------------------------------

def kill_worker(platform: Platform, name: str, pause: float) -> Callable[[], None]:
    def fault() -> None:
        proc = platform.processes.procs[f"{name}-worker"]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(pause)
        platform.start_worker(name)
    return fault


def scenarios(platform: Platform, redis: Redis | None) -> list[tuple[str, Callable[[], Row]]]:
    def baseline() -> Row:
        return measure(platform, "baseline (no fault)")

    def notify_worker() -> Row:
        return measure(platform, "notify worker SIGKILLed, restarted after 2 s", kill_worker(platform, "notify", 2))

    def redis_kill() -> Row:
        def fault() -> None:
            redis.kill()
            time.sleep(3)
            redis.start()
        return measure(platform, "Redis SIGKILLed, restarted after 3 s (AOF, fsync always)", fault)

    def gunicorn_worker() -> Row:
        def fault() -> None:
            os.kill(platform.gunicorn_workers("events")[0], signal.SIGKILL)
        return measure(platform, "a gunicorn worker of events SIGKILLed", fault)

    def bad_endpoints() -> Row:
        office = platform.coordinator()
        dead_port = free_port()  # nothing listens there
        added = [platform.endpoint(office, "dead", f"http://127.0.0.1:{dead_port}/hooks/dead"),
                 platform.endpoint(office, "slow")]
        try:
            row = measure(platform, f"a dead and a slow ({SLOW_S:.0f} s) endpoint beside the healthy one")
        finally:
            for endpoint_id in added:
                platform.notify.call("DELETE", f"/api/notify/webhooks/{endpoint_id}", token=office, expect=204)
        slow = [h for h in platform.receiver.hits if h.path == "/hooks/slow"]
        row.notes.append(f"slow endpoint got {len(slow)} request(s) meanwhile")
        return row

    def junk() -> Row:
        def fault() -> None:
            queue = f"{platform.env['BUS_EXCHANGE']}.notify"
            redis.cli("LPUSH", queue, "garbage")
            from sqlalchemy import text

            from services.platform import build_kernel
            from shared.config import Config
            from shared.db import utcnow

            kernel = build_kernel("events", Config(environ=platform.env), jwks=lambda: {"keys": []})
            try:
                with kernel.db.engine.begin() as conn:
                    conn.execute(text("INSERT INTO bus_outbox (message_id, routing_key, queue, body, headers, "
                                      "available_at) VALUES (:id, 'event.approved', NULL, 'not json', 'not json', :at)"),
                                 {"id": str(uuid.uuid4()), "at": utcnow() - timedelta(seconds=1)})
            finally:
                kernel.db.dispose()

        def check(row: Row) -> None:
            if row.dead != 2:
                row.notes.append(f"expected 2 new dead letters (the junk item, the bad row), saw {row.dead}")
            alive = [n for n in ("events-worker", "notify-worker") if platform.processes.procs[n].poll() is None]
            row.notes.append(f"dead-lettered: {row.dead}; workers still running: {', '.join(alive) or 'none'}")
        return measure(platform, "junk on notify's queue + a bad outbox row", fault, check)

    def database() -> Row:
        def fault() -> None:
            engine = create_engine(PG_ADMIN_URL, poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                                         "AND pid <> pg_backend_pid()", (platform.notify_db.rsplit("/", 1)[1],))
                    conn.commit()
            finally:
                engine.dispose()
        return measure(platform, "notify's PostgreSQL connections dropped (pg_terminate_backend)", fault)

    if platform.notify_db:
        return [("database", database)]
    chosen = []
    for name, run in (("baseline", baseline), ("notify-worker", notify_worker), ("redis", redis_kill),
                      ("gunicorn", gunicorn_worker), ("endpoints", bad_endpoints), ("junk", junk)):
        if redis is None and name in ("redis", "junk"):
            continue
        chosen.append((name, run))
    return chosen


def table(rows: list[Row]) -> str:
    def ms(v: float) -> str:
        return "–" if math.isnan(v) else f"{v:.0f} ms"

    lines = ["| scenario | accepted | delivered | lost | duplicated on the wire | p50 | p99 | time to recover | "
             "dead letters | notes |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        recover = "–" if r.recover is None else f"{r.recover:.1f} s"
        lines.append(f"| {r.name} | {r.accepted} | {r.delivered} | {r.lost} | {r.duplicated} | {ms(r.p50)} | "
                     f"{ms(r.p99)} | {recover} | {r.dead} | {'; '.join(r.notes) or ''} |")
    return "\n".join(lines)


def late_arrivals(rows: list[Row], receiver: Receiver) -> None:
    """A lost webhook that came after all, later in the run, is noted with how late."""
    for row in rows:
        for hit in receiver.healthy(set(row.lost_ids)):
            if hit.event_id in row.lost_ids:
                row.notes.append(f"the webhook for {hit.event_id} came after all, "
                                 f"{(hit.ns - row.lost_ids.pop(hit.event_id)) / 1e9:.0f} s after its approval")


@contextmanager
def postgres_database(wanted: bool) -> Iterator[str]:
    """A fresh PostgreSQL database for notify (dropped afterwards), or "" when not wanted."""
    if not wanted:
        yield ""
        return
    name = f"prove_{uuid.uuid4().hex[:10]}_notify"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_on(bus: str, only: set[str] | None, receiver: Receiver, rows: list[Row]) -> None:
    """Adds to `rows`. `bus`: redis (every scenario), amqp (the notify worker kill), postgres
    (Redis, notify's database on PostgreSQL: its connections dropped). A run that breaks (the
    topology does not start) is a row of its own, and the next run goes on."""
    try:
        _run_on(bus, only, receiver, rows)
    except Exception as exc:  # noqa: BLE001 - reported in the table, not hidden
        print(f"prove: {bus}: {exc!r}", file=sys.stderr)
        rows.append(Row(f"({bus} run broke off)", notes=[f"{type(exc).__name__}: {str(exc)[:300]}"]))


def _run_on(bus: str, only: set[str] | None, receiver: Receiver, rows: list[Row]) -> None:
    start_at = len(rows)
    with temp_dir(f"prove-{bus}") as var_dir, postgres_database(bus == "postgres") as notify_db:
        redis = Redis(var_dir / "redis") if bus in ("redis", "postgres") else None
        platform = None
        try:
            started = time.monotonic()
            platform = Platform(var_dir, redis.url if redis else AMQP_URL, receiver, notify_db)
            print(f"prove: {bus}: topology up in {time.monotonic() - started:.0f}s", file=sys.stderr)
            for name, scenario in scenarios(platform, redis):
                if bus == "amqp" and name != "notify-worker":
                    continue
                if only and name not in only:
                    continue
                t0 = time.monotonic()
                row = scenario()
                if bus == "amqp":
                    row.name += " — bus on RabbitMQ"
                rows.append(row)
                print(f"prove: {row.name}: {time.monotonic() - t0:.0f}s\n{table([row])}", file=sys.stderr)
            late_arrivals(rows[start_at:], receiver)
        finally:
            if platform is not None:
                platform.stop()
            if redis is not None:
                redis.kill()


def broker_answers(url: str, default_port: int = 5672) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2).close()
        return True
    except OSError:
        return False


def main() -> int:
    only = set(filter(None, os.environ.get("PROVE_ONLY", "").split(","))) or None
    receiver = Receiver()
    started = time.monotonic()
    try:
        rows: list[Row] = []
        if not only or only - {"database"}:
            run_on("redis", only, receiver, rows)
        if os.environ.get("PROVE_PG", "1") == "1" and (not only or "database" in only):
            if broker_answers(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), 5432):
                run_on("postgres", only, receiver, rows)
            else:
                print(f"prove: no PostgreSQL at {PG_ADMIN_URL}: its scenario is left out", file=sys.stderr)
        if os.environ.get("PROVE_AMQP", "1") == "1":
            if broker_answers(AMQP_URL):
                run_on("amqp", only, receiver, rows)
            else:
                print(f"prove: no RabbitMQ at {AMQP_URL}: its scenario is left out (PROVE_AMQP=0 to say so)",
                      file=sys.stderr)
    finally:
        receiver.close()
    text = (f"{table(rows)}\n\n{RATE:g} approvals/s for {SECONDS:g} s per scenario, the fault at {SECONDS / 2:g} s; "
            f"whole run {time.monotonic() - started:.0f} s.\n")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "table.md").write_text(text)
    print(text)
    return 1 if any(r.lost for r in rows) or any(r.name.endswith("broke off)") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
