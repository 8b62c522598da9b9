"""Exchanges and queues, declared here and nowhere else.

One durable topic exchange carries every message with its type as routing key. Each
consuming service has one durable queue bound to the types it handles. Publishers declare
the whole topology too, so a message sent before its consumer ever started waits in that
consumer's queue (on Redis, kombu silently drops a message no queue is bound to). What
matches no binding goes to the dead-letter queue, never to nowhere. No fanout exchanges:
on Redis they are pub/sub and drop what nobody is listening for.

Which types each service's queue is bound to is a `Topology` value, derived when a process
starts from the services' handler declarations (`shared.bus.handlers.Handlers.types`) by the
composition roots (services/platform.py, and the CLI through it), which alone know every
service; they hand it to the kernels, whose relay and worker need it. Nothing is generated
and shared imports no service. A worker refuses to start if its service handles a type its
queue is not bound to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from kombu import Exchange, Queue, binding


@dataclass(frozen=True)
class Topology:
    """The message types each consuming service's queue is bound to (service -> types)."""

    bindings: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, handled: Mapping[str, Iterable[str]]) -> "Topology":
        """From what each service's handlers declare; a service that handles nothing has no queue."""
        bindings = {service: tuple(sorted(set(types))) for service, types in sorted(handled.items())}
        return cls({service: types for service, types in bindings.items() if types})

    def bound_types(self, service: str) -> tuple[str, ...]:
        """The types a service's queue is bound to (none: it consumes nothing)."""
        return self.bindings.get(service, ())

    def service_queue(self, service: str, exchange_name: str) -> Queue:
        ex = exchange(exchange_name)
        return Queue(queue_name(exchange_name, service), exchange=ex, durable=True, auto_delete=False,
                     bindings=[binding(ex, routing_key=key) for key in self.bound_types(service)])

    def all_queues(self, exchange_name: str) -> list[Queue]:
        """Every consuming service's queue, and the dead-letter queue."""
        return [self.service_queue(s, exchange_name) for s in self.bindings] + [dead_letter_queue(exchange_name)]

    def consumers_of(self, routing_key: str) -> list[str]:
        return [s for s, keys in self.bindings.items() if any(topic_matches(k, routing_key) for k in keys)]


def queue_name(exchange_name: str, service: str) -> str:
    """Queues are named after their exchange, so two platforms can share one broker."""
    return f"{exchange_name}.{service}"


def dead_letter_queue_name(exchange_name: str) -> str:
    return f"{exchange_name}.dead-letter"


def exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True, delivery_mode="persistent")


def dead_letter_queue(exchange_name: str) -> Queue:
    # Bound to nothing: the relay puts messages into it through the default exchange.
    return Queue(dead_letter_queue_name(exchange_name), durable=True, auto_delete=False)


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

