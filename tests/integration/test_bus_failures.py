"""The bus when things break: the broker goes away, a consumer dies mid-message."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from services.events.models import KnownOrganisation
from tests.conftest import need, wait_until
from tests.integration.conftest import BUS_URLS, ApiClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count(platform, what) -> int:
    kernel = platform.kernels["events"]
    table = kernel.tables["inbox"] if what == "inbox" else KnownOrganisation.__table__
    with kernel.db.transaction() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


class PrivateRedis:
    """A Redis of the test's own, that it may stop and start; it keeps its data on disk."""

    def __init__(self, directory: Path):
        need("redis")
        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_until(answers, 10, message="the private Redis to start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_writes_succeed_while_the_bus_is_down_and_every_message_arrives_after(make_platform, private_redis):
    platform = make_platform(bus="redis", BUS_URL=private_redis.url)
    platform.start_workers()
    api = ApiClient(platform)
    coordinator = api.coordinator_token()
    for i in range(3):
        api.register(coordinator, abbreviation=f"BEFORE{i}")
    wait_until(lambda: count(platform, "known") == 3, message="the first three copies")

    private_redis.kill()
    for i in range(10):  # the bus is gone; the API must not notice
        api.register(coordinator, abbreviation=f"DURING{i}")
    assert count(platform, "known") == 3

    private_redis.start()
    wait_until(lambda: count(platform, "known") == 13, 45, message="every message after the bus came back")
    assert count(platform, "inbox") == 13


def test_a_worker_cut_off_from_its_broker_stops_its_health_file_and_starts_it_again(make_platform, private_redis,
                                                                                   tmp_path):
    """`doa worker`'s health file (the containers' health check reads its age) is touched only
    while the worker reaches its broker: with Redis gone it goes stale; back, it is fresh again."""
    import threading

    platform = make_platform(bus="redis", BUS_URL=private_redis.url)
    worker = platform.kernels["notify"].worker().start()
    health = tmp_path / "heartbeat"
    waiting = threading.Thread(target=worker.wait, args=(health,), daemon=True)
    waiting.start()
    try:
        wait_until(health.exists, 15, message="the first heartbeat")
        private_redis.kill()
        wait_until(lambda: not worker.healthy(), 15, message="the worker to notice its broker is gone")
        before = health.stat().st_mtime
        time.sleep(4.5)  # two of wait()'s rounds: no touch while cut off
        assert health.stat().st_mtime == before
        private_redis.start()
        wait_until(lambda: health.stat().st_mtime > before, 45, message="the heartbeat after the broker came back")
    finally:
        worker.request_stop()
        waiting.join(15)


@pytest.mark.parametrize("others_running", [False, True])
@pytest.mark.parametrize("bus", ["redis", "amqp"])
def test_a_consumer_killed_mid_message_gets_it_again_and_its_effect_happens_once(bus, others_running, make_platform,
                                                                                 tmp_path, exchange_name):
    # With others running: organisation.registered goes to events, media and notify, one publish
    # and three copies. kombu gave the copies on Redis one delivery tag, so media's and notify's
    # acknowledgements removed what Redis kept for the events consumer that died: its message
    # never came back (issue 16).
    platform = make_platform(bus=bus)
    api = ApiClient(platform)
    api.register(api.coordinator_token())
    # organisation.registered, and its entry for the audit log (the registry's own queue)
    assert platform.kernels["registry"].relay().run_once() == 2
    marker = tmp_path / "in-handler"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    consumer = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.slow_consumer", str(tmp_path / "var"), BUS_URLS[bus],
         exchange_name, str(marker)], cwd=ROOT, env=env)
    try:
        wait_until(marker.exists, 30, message="the consumer to be inside the handler")
        others = [platform.kernels[name].worker().start() for name in ("media", "notify")] if others_running else []
        platform.workers.extend(others)
        wait_until(lambda: all(w.consumer.outcomes.get("handled") for w in others), 30,
                   message="the other services to handle and acknowledge their copies")
    finally:
        consumer.send_signal(signal.SIGKILL)
        consumer.wait()
    assert count(platform, "known") == 0  # it died before committing

    worker = platform.kernels["events"].worker().start()
    platform.workers.append(worker)
    wait_until(lambda: count(platform, "known") == 1, 30, message="the message to come back")
    assert count(platform, "inbox") == 1 and worker.consumer.outcomes == {"handled": 1}
    assert marker.read_text() == str(uuid.UUID(marker.read_text()))
    assert [w.consumer.outcomes for w in others] == [{"handled": 1}] * len(others)  # no copy came twice
