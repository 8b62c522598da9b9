"""Exchanges and queues, declared here and nowhere else.

One durable topic exchange carries every message with its type as routing key. Each
consuming service has one durable queue bound to the types it handles. Publishers declare
the whole topology too, so a message sent before its consumer ever started waits in that
consumer's queue (on Redis, kombu silently drops a message no queue is bound to). What
matches no binding goes to the dead-letter queue, never to nowhere. No fanout exchanges:
on Redis they are pub/sub and drop what nobody is listening for.
"""
from __future__ import annotations

from kombu import Exchange, Queue, binding

from shared.bus.catalogue import WEBHOOK_TYPES

# Which message types each service consumes. A publisher needs this too (see above), so it
# lives in the kernel; tests check it against each service's handler map.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "events": ("organisation.registered", "organisation.updated", "organisation.suspended",
               "organisation.reinstated", "key.revoked"),
    "media": ("organisation.registered", "organisation.updated", "organisation.suspended",
              "organisation.reinstated", "key.revoked", "campaign.created", "campaign.updated",
              "campaign.rescheduled", "event.approved", "event.updated", "event.rejected", "event.cancelled",
              "country.held", "country.released", "media.uploaded"),
    # notify takes every message a webhook may subscribe to.
    "notify": tuple(WEBHOOK_TYPES),
    # The audit log keeps every decision in one place.
    "registry": ("audit.recorded",),
}


def queue_name(exchange_name: str, service: str) -> str:
    """Queues are named after their exchange, so two platforms can share one broker."""
    return f"{exchange_name}.{service}"


def dead_letter_queue_name(exchange_name: str) -> str:
    return f"{exchange_name}.dead-letter"


def exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True, delivery_mode="persistent")


def service_queue(service: str, exchange_name: str) -> Queue:
    ex = exchange(exchange_name)
    return Queue(queue_name(exchange_name, service), exchange=ex, durable=True, auto_delete=False,
                 bindings=[binding(ex, routing_key=key) for key in SUBSCRIPTIONS[service]])


def dead_letter_queue(exchange_name: str) -> Queue:
    # Bound to nothing: the relay puts messages into it through the default exchange.
    return Queue(dead_letter_queue_name(exchange_name), durable=True, auto_delete=False)


def all_queues(exchange_name: str) -> list[Queue]:
    return [service_queue(s, exchange_name) for s in SUBSCRIPTIONS] + [dead_letter_queue(exchange_name)]


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: `*` is one word, `#` is zero or more."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


def consumers_of(routing_key: str) -> list[str]:
    return [s for s, keys in SUBSCRIPTIONS.items() if any(topic_matches(k, routing_key) for k in keys)]
