"""Exactly once, for real (issue 5): `doa worker notify` is SIGKILLed in the middle of a
fan-out to 400 subscribers and 100 webhook endpoints, the same message comes a second time
over the real Redis bus, the worker starts again — and then the real SMTP server and the
real webhook receiver are counted.

E-mail is exactly once per (message, recipient): the worker records an e-mail as sent just
before SMTP's final "." and a server drops a message whose connection dies before the dot,
so a killed worker repeats none and loses none (but in the microseconds between that record's
commit and the dot's write to the socket, where one would be lost rather than sent twice).

Webhooks cannot be made exactly once on the wire: HTTP has no final dot to hold back, and a
worker killed after the receiver answered 2xx but before it wrote that down cannot know the
request arrived, so it must send it again. Webhooks are at-least-once, and every attempt of
one delivery carries the same `webhook-id`, by which receivers drop repeats, as the Standard
Webhooks spec says. What the worker can promise is that a kill repeats only the deliveries
in flight at that moment (at most WEBHOOK_CONCURRENCY), not those answered and written down
before: here the receiver holds the last requests for seconds before the kill, so every
answered one has been written down and at most WEBHOOK_CONCURRENCY may come again.
"""
from __future__ import annotations

import asyncio
import email
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from aiosmtpd.controller import Controller
from kombu import Connection
from sqlalchemy import create_engine, func, select, text

from services.notify.models import Notification, Subscription, WebhookDelivery, WebhookEndpoint
from services.notify.webhooks.signing import new_secret, verify
from services.platform import TOPOLOGY, build_kernel
from shared.bus.outbox import Outbox
from shared.bus.topology import queue_name
from shared.config import Config
from shared.db import utcnow
from tests.conftest import PG_ADMIN_URL, REDIS_URL, need
from tests.e2e.conftest import BIN, ROOT, base_env, free_port, stop_group

pytestmark = pytest.mark.redis

BUS_URL = REDIS_URL  # the tests' Redis database (no benchmark flushes it); the exchange is the test's own
SUBSCRIBERS = 400
ENDPOINTS = 100
KILL_AFTER = 150          # e-mails the SMTP server has taken when the worker is SIGKILLed
CONCURRENCY = 4           # WEBHOOK_CONCURRENCY: the most webhook requests in flight at the kill
LEASE_SECONDS = 3         # NOTIFY_CLAIM_LEASE_SECONDS: a dead worker's claimed batch is taken up after this
SMTP_DELAY = 0.005        # per e-mail, so 400 take a few seconds
WEBHOOK_DELAY = 0.01      # per request


class Mailbox:
    """An aiosmtpd handler that notes each message's To, Message-ID and whether it is about
    `event_id`; it takes SMTP_DELAY over each, so the fan-out lasts a few seconds."""

    def __init__(self, kill_after: int):
        self.received: list[tuple[str, str, bool]] = []
        self.event_id = ""
        self.lock = threading.Lock()
        self.reached = threading.Event()
        self.kill_after = kill_after

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        about = self.event_id in message.get_body(("plain",)).get_content()
        await asyncio.sleep(SMTP_DELAY)
        with self.lock:
            self.received.append((str(message["To"]), str(message["Message-ID"]), about))
            if len(self.received) >= self.kill_after:
                self.reached.set()
        return "250 Message accepted"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class Receiver:
    """A webhook receiver that notes each request's path and webhook-id as it arrives and checks
    its signature. Once `hold_after` requests have been answered it answers no more until
    `release` is set, so a kill finds deliveries answered, in flight and not yet sent."""

    def __init__(self, hold_after: int):
        self.requests: list[tuple[str, str]] = []
        self.bad: list[str] = []
        self.secrets: dict[str, str] = {}   # path → the endpoint's secret
        self.lock = threading.Lock()
        self.hold_after = hold_after
        self.answered = 0
        self.held = 0
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    verify(receiver.secrets[self.path], self.headers, body)
                except Exception as exc:  # noqa: BLE001 - any failure is the finding
                    with receiver.lock:
                        receiver.bad.append(f"{self.path}: {exc!r}")
                with receiver.lock:
                    receiver.requests.append((self.path, self.headers.get("webhook-id", "")))
                    hold = receiver.answered >= receiver.hold_after and not receiver.release.is_set()
                    receiver.held += hold
                if hold:
                    receiver.release.wait(60)
                time.sleep(WEBHOOK_DELAY)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the worker was killed while this one waited
                    return
                with receiver.lock:
                    receiver.answered += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def holding(self) -> int:
        with self.lock:
            return self.held


@pytest.fixture
def mailbox():
    box = Mailbox(KILL_AFTER)
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture
def receiver():
    r = Receiver(hold_after=ENDPOINTS // 2)
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def exchange():
    need("redis")
    name = f"e2e-once-{uuid.uuid4().hex[:8]}"
    yield name
    with Connection(BUS_URL, connect_timeout=2) as conn:  # leave nothing behind in Redis
        channel = conn.channel()
        for queue in TOPOLOGY.all_queues(name):
            queue(channel).delete()
    client = redis.Redis.from_url(BUS_URL)
    leftovers = list(client.scan_iter(match=f"*{name}*"))  # kombu's bindings of the exchange
    if leftovers:
        client.delete(*leftovers)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'notify.db'}"
        return
    need("postgres")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"doa_e2e_once_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def approved_event() -> dict:
    """An approved public Kenyan event, as the catalogue's EventData has it."""
    starts = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=20)
    local = starts.astimezone(timezone(timedelta(hours=3)))  # Africa/Nairobi: UTC+3, no DST
    return {"id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()), "organisation_id": str(uuid.uuid4()),
            "title": {"en": "Rally at Uhuru Park", "sw": "Mkutano Uhuru Park"}, "languages": ["sw", "en"],
            "activity_type": "rally", "city": "Nairobi", "country": "KE", "timezone": "Africa/Nairobi",
            "starts_local": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "ends_local": (local + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"),
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "status": "approved", "visibility": "public"}


def start_worker(env: dict, log_path) -> subprocess.Popen:
    with open(log_path, "ab") as log:  # the child writes to its own copy of the descriptor
        return subprocess.Popen([BIN / "doa", "worker", "notify"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def sigkill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_a_worker_killed_mid_fanout_and_a_message_delivered_twice_notify_each_recipient_once(
        mailbox, receiver, exchange, database_url, tmp_path):
    settings = {"NOTIFY_DATABASE_URL": database_url, "BUS_URL": BUS_URL, "BUS_EXCHANGE": exchange,
                "SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_SECURITY": "none", "SMTP_BATCH": 50,
                "WEBHOOK_ALLOW": "127.0.0.0/8", "WEBHOOK_SCHEDULE": "0,1,1", "WEBHOOK_CONCURRENCY": CONCURRENCY,
                "NOTIFY_CLAIM_LEASE_SECONDS": LEASE_SECONDS, "DOA_VAR_DIR": tmp_path / "var",
                "JWKS_URL": "http://127.0.0.1:1/jwks.json", "LOG_LEVEL": "WARNING", "BUS_VISIBILITY_TIMEOUT": 2}
    kernel = build_kernel("notify", Config(environ={k: str(v) for k, v in settings.items()}),  # migrates
                          jwks=lambda: {"keys": []})
    worker = second = None
    try:
        addresses = [f"subscriber{i:03d}@example.org" for i in range(SUBSCRIBERS)]
        coordinator = str(uuid.uuid4())
        with kernel.db.transaction() as session:
            session.add_all(Subscription(email=a, language="en", scope="country", scope_id="KE",
                                         wants=["new_events"], status="confirmed", confirmed_at=utcnow())
                            for a in addresses)
            for i in range(ENDPOINTS):
                path = f"/hooks/{i:03d}"
                receiver.secrets[path] = new_secret()
                session.add(WebhookEndpoint(owner_id=coordinator, role="coordinator", url=receiver.base + path,
                                            types=["event.approved"], secret=receiver.secrets[path]))

        # The message, as the events service sends it: through an outbox and the relay.
        event = approved_event()
        mailbox.event_id = event["id"]
        relay = kernel.relay()
        with kernel.db.transaction() as session:
            envelope = Outbox(kernel.tables["outbox"], "events").add(session, "event.approved", event)
        assert relay.run_once() == 1

        env = base_env(**settings)
        worker_log = tmp_path / "worker.log"
        worker = start_worker(env, worker_log)
        # The kill comes with e-mails sent and e-mails to send, and with webhook requests answered,
        # in flight (held by the receiver) and not yet made; at a random moment of an e-mail's
        # SMTP transaction.
        deadline = time.monotonic() + 40
        while not (mailbox.reached.is_set() and receiver.holding() == CONCURRENCY):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no kill: {mailbox.count()} e-mails, {receiver.holding()} webhook requests held "
                            f"(worker exited: {worker.poll()})\n{worker_log.read_text()}")
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.05))
        sigkill(worker)
        receiver.release.set()
        at_kill = mailbox.count(), receiver.count()
        print(f"killed with {at_kill[0]} e-mails and {at_kill[1]} webhook requests received")
        assert at_kill[0] < SUBSCRIBERS and at_kill[1] < ENDPOINTS, "the fan-out was over before the kill"

        # The bus brings the same message once more, as it does when a consumer dies before it
        # acknowledges one: straight into notify's queue, as a retry goes.
        with kernel.db.transaction() as session:
            kernel.outbox.add_to_queue(session, queue_name(exchange, "notify"), envelope, {}, utcnow())
        assert relay.run_once() == 1
        relay.close()

        second = start_worker(env, worker_log)
        bus = redis.Redis.from_url(BUS_URL)

        def unsettled() -> tuple[int, int, int, bool]:
            with kernel.db.transaction() as s:
                mails = s.execute(select(func.count()).select_from(Notification).where(
                    Notification.status.in_(("pending", "sending")))).scalar_one()
                total = s.execute(select(func.count()).select_from(Notification)).scalar_one()
                hooks = s.execute(select(func.count()).select_from(WebhookDelivery).where(
                    WebhookDelivery.status.in_(("pending", "sending")))).scalar_one()
            # The second copy taken from notify's queue and acknowledged (kombu keeps what is
            # taken but not acknowledged in the `unacked` hash).
            on_bus = bus.llen(queue_name(exchange, "notify")) > 0 or any(
                exchange.encode() in taken for taken in bus.hvals("unacked"))
            return mails, total, hooks, on_bus

        deadline = time.monotonic() + 60
        while (state := unsettled()) != (0, SUBSCRIBERS, 0, False):
            if second.poll() is not None:
                pytest.fail(f"the worker exited with {second.returncode}\n{worker_log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"not settled within 60 s: (e-mails pending or sending, e-mails, deliveries pending "
                            f"or sending, message still on the bus) = {state}\n{worker_log.read_text()}")
            time.sleep(0.2)
        assert stop_group(second) == 0

        with kernel.db.transaction() as s:
            handled = s.execute(select(func.count()).select_from(kernel.tables["inbox"])).scalar_one()
            mails = dict(s.execute(select(Notification.status, func.count()).group_by(Notification.status)).all())
            hooks = dict(s.execute(select(WebhookDelivery.status, func.count())
                                   .group_by(WebhookDelivery.status)).all())
    finally:
        for process in (worker, second):
            if process is not None and process.poll() is None:
                sigkill(process)
        kernel.db.dispose()
    assert handled == 1  # the second copy was a duplicate

    # E-mail: exactly one to each subscriber, about the event, each with a Message-ID of its own.
    by_address = Counter(to for to, _, _ in mailbox.received)
    assert sorted(a for a, n in by_address.items() if n > 1) == [], "e-mails sent twice"
    assert sorted(set(addresses) - set(by_address)) == [], "e-mails never sent"
    assert set(by_address) == set(addresses)
    assert all(about for _, _, about in mailbox.received)
    assert len({message_id for _, message_id, _ in mailbox.received}) == len(mailbox.received) == SUBSCRIBERS
    assert mails == {"sent": SUBSCRIBERS}

    # Webhooks: every endpoint at least once, always with the message's id as webhook-id, and
    # repeats only of the requests in flight at the kill.
    assert receiver.bad == []
    assert hooks == {"delivered": ENDPOINTS}
    ids_by_endpoint: dict[str, set[str]] = defaultdict(set)
    for path, webhook_id in receiver.requests:
        ids_by_endpoint[path].add(webhook_id)
    assert sorted(ids_by_endpoint) == sorted(receiver.secrets), "endpoints that got nothing"
    assert all(ids == {envelope["id"]} for ids in ids_by_endpoint.values())
    repeated = len(receiver.requests) - ENDPOINTS
    print(f"webhook requests: {len(receiver.requests)} ({repeated} repeated)")
    assert repeated <= CONCURRENCY, (f"{repeated} webhook requests were repeated; only the {CONCURRENCY} in "
                                     f"flight at the kill may be")
