"""Reading queues directly, for tests that check what the bus holds."""
from __future__ import annotations

import socket

from kombu import Connection, Consumer

from services.platform import TOPOLOGY
from shared.bus.connection import connect, declare_topology


def drain(url: str, exchange_name: str, queue_name: str, expect: int = 1, timeout: float = 10) -> list:
    """Take messages off `queue_name` (acknowledging them); answer [(body, headers)]."""
    got: list = []
    queue = next(q for q in TOPOLOGY.all_queues(exchange_name) if q.name == queue_name)
    with connect(url) as conn:
        channel = conn.channel()
        declare_topology(channel, exchange_name, TOPOLOGY)

        def on_message(body, message):
            got.append((body, dict(message.headers or {})))
            message.ack()

        with Consumer(channel, queues=[queue], callbacks=[on_message], accept=["json"]):
            import time

            deadline = time.monotonic() + timeout
            while len(got) < expect and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=0.2)
                except (socket.timeout, TimeoutError):
                    pass
    return got


def publish_raw(url: str, exchange_name: str, queue_name: str, body, content_type="application/json") -> None:
    """Put a message straight into a queue, as a broken or hostile publisher might."""
    with Connection(url) as conn:
        channel = conn.channel()
        declare_topology(channel, exchange_name, TOPOLOGY)
        conn.Producer(channel).publish(body, exchange="", routing_key=queue_name,
                                       content_type=content_type, content_encoding="utf-8")
