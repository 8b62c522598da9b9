"""Fixtures shared by every tier. Integration and e2e tests talk to the real Redis,
PostgreSQL and RabbitMQ on loopback; where one does not answer the test is skipped, unless
DOA_REQUIRE_SERVICES=1 (CI sets it) makes that a failure."""
from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG_ADMIN_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need(kind: str) -> None:
    """Skip (or fail, in CI) when the real `kind` server is not there."""
    port = {"redis": 6379, "postgres": 5432, "amqp": 5672}[kind]
    if _port_answers("127.0.0.1", port):
        return
    message = f"{kind} does not answer on 127.0.0.1:{port}"
    if os.environ.get("DOA_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it answers truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def exchange_name() -> str:
    """A bus exchange (and so queue names) of this test's own."""
    return f"test-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    """A port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
