"""Exchanges and queues, declared here and nowhere else.

One durable topic exchange carries every message with its type as routing key. Each
consuming service has one durable queue bound to the types it handles. Publishers declare
the whole topology too, so a message sent before its consumer ever started waits in that
consumer's queue (on Redis, kombu silently drops a message no queue is bound to). What
matches no binding goes to the dead-letter queue, never to nowhere. No fanout exchanges:
on Redis they are pub/sub and drop what nobody is listening for.

Which types each service's queue is bound to is derived from the services' handler
declarations (`shared.bus.handlers.Handlers`) and written down, generated, in `bindings.py`
beside this module: every process reads the whole topology there without importing, let
alone starting, another service (shared imports no service). A unit test
(tests/unit/test_topology.py) derives the table from the declarations and fails while the
module differs; running that test module writes it again. A worker refuses to start if its
service handles a type its queue is not bound to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from kombu import Exchange, Queue, binding

from shared.bus.bindings import BINDINGS

BINDINGS_MODULE = Path(__file__).with_name("bindings.py")


def write_bindings(bindings: Mapping[str, tuple[str, ...]], path: Path = BINDINGS_MODULE) -> None:
    """Write the bindings module from the services' declarations (service -> handled types)."""
    lines = ['"""Generated from the services\' handler declarations by tests/unit/test_topology.py',
             "(run it as a module to write this again): the message types each service's queue is",
             'bound to. Do not edit; see topology.py."""', "", "BINDINGS: dict[str, tuple[str, ...]] = {"]
    for service, keys in sorted(bindings.items()):
        if keys:
            lines += [f'    "{service}": (', *(f'        "{key}",' for key in sorted(keys)), "    ),"]
    path.write_text("\n".join([*lines, "}", ""]), encoding="utf-8")


def bound_types(service: str) -> tuple[str, ...]:
    """The types a service's queue is bound to (none: it consumes nothing)."""
    return BINDINGS.get(service, ())


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
                 bindings=[binding(ex, routing_key=key) for key in bound_types(service)])


def dead_letter_queue(exchange_name: str) -> Queue:
    # Bound to nothing: the relay puts messages into it through the default exchange.
    return Queue(dead_letter_queue_name(exchange_name), durable=True, auto_delete=False)


def all_queues(exchange_name: str) -> list[Queue]:
    return [service_queue(s, exchange_name) for s in BINDINGS] + [dead_letter_queue(exchange_name)]


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
    return [s for s, keys in BINDINGS.items() if any(topic_matches(k, routing_key) for k in keys)]
