"""Connecting to the broker named by BUS_URL and declaring the topology on it."""
from __future__ import annotations

from kombu import Connection

from shared.bus.topology import Topology, exchange


def connect(url: str, visibility_timeout: int = 300) -> Connection:
    options: dict = {}
    if url.startswith(("redis://", "rediss://")):
        # A message taken by a consumer that died comes back after this many seconds.
        options["visibility_timeout"] = visibility_timeout
    if url.startswith(("amqp://", "pyamqp://", "amqps://")):
        # The broker confirms every publish, so the relay marks sent only what it holds.
        options["confirm_publish"] = True
    return Connection(url, transport_options=options, connect_timeout=5)


def declare_topology(channel, exchange_name: str, topology: Topology) -> None:
    """The exchange and every queue with its bindings, the dead-letter queue among them."""
    exchange(exchange_name)(channel).declare()
    for queue in topology.all_queues(exchange_name):
        queue(channel).declare()
