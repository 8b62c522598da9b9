"""The operator's view of the dead-letter queue: list parked messages, replay them.

Brokers cannot show a queue without taking from it, so both operations take every parked
message and put back what they do not replay, in the same order. Run one at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.bus.connection import FOREIGN, connect
from shared.bus.topology import dead_letter_queue, dead_letter_queue_name, exchange, queue_name


@dataclass
class Parked:
    body: object
    headers: dict

    @property
    def id(self) -> str:
        return str(self.body.get("id", "?")) if isinstance(self.body, dict) else "?"

    @property
    def service(self) -> str | None:
        return self.headers.get("x-dead-service")


def _take_all(conn, exchange_name: str) -> list[tuple[Parked, object]]:
    """Take every parked message one by one (basic_get: nothing is prefetched)."""
    channel = conn.channel()
    queue = dead_letter_queue(exchange_name)(channel)
    # Only the dead-letter queue: a replayed message goes to the queue its service declared
    # (it parked the message), so no other queue, nor the whole topology, is needed here.
    queue.declare()
    taken: list = []
    while (message := queue.get(no_ack=False, accept=["json"])) is not None:
        taken.append((_parked(message), message))
    return taken


def _parked(message) -> Parked:
    """What was parked; something put on the queue by hand that is not a message (or not JSON)
    is shown, and put back, as a parked message with its text and why."""
    headers = dict(message.headers or {})
    try:
        return Parked(message.decode(), headers)
    except Exception as exc:
        raw = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else str(message.body)
        why = headers.get("x-foreign-reason") if message.content_type == FOREIGN else f"{type(exc).__name__}: {exc}"
        return Parked({"type": "?", "id": "?", "raw": raw[:10000]},
                      {"x-dead-reason": f"not a message: {why}"[:2000], "x-attempts": 0})


def _publish(conn, queue: str, parked: Parked, headers: dict) -> None:
    conn.Producer(conn.channel()).publish(parked.body, exchange="", routing_key=queue, headers=headers,
                                          serializer="json", delivery_mode=2)


def _send_back(conn, exchange_name: str, parked: Parked) -> bool:
    """Where a parked message came from: the service that parked it, or (an outbox row the relay
    could not send as it was) the queue or the routing key it was going to. Answer False for
    one that has nowhere to go (unroutable)."""
    headers = parked.headers
    if parked.service:
        _publish(conn, queue_name(exchange_name, parked.service), parked, {})
    elif headers.get("x-dead-queue"):
        _publish(conn, str(headers["x-dead-queue"]), parked, {})
    elif headers.get("x-dead-routing-key"):
        conn.Producer(conn.channel()).publish(parked.body, exchange=exchange(exchange_name),
                                              routing_key=str(headers["x-dead-routing-key"]),
                                              serializer="json", delivery_mode=2)
    else:
        return False
    return True


def list_parked(url: str, exchange_name: str) -> list[Parked]:
    with connect(url) as conn:
        taken = _take_all(conn, exchange_name)
        for parked, message in taken:  # back, in order, before acknowledging the originals
            _publish(conn, dead_letter_queue_name(exchange_name), parked, parked.headers)
            message.ack()
    return [parked for parked, _ in taken]


def replay(url: str, exchange_name: str, ids: set[str] | None = None) -> list[Parked]:
    """Send parked messages (all, or those with these ids) back to the service that parked
    them, with a fresh count of tries. Unroutable ones stay parked. Answer the replayed."""
    replayed = []
    with connect(url) as conn:
        for parked, message in _take_all(conn, exchange_name):
            if (ids is None or parked.id in ids) and _send_back(conn, exchange_name, parked):
                replayed.append(parked)
            else:
                _publish(conn, dead_letter_queue_name(exchange_name), parked, parked.headers)
            message.ack()
    return replayed
