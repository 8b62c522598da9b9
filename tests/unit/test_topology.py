"""The bus topology the composition roots derive from the services' handler declarations."""
import importlib
from types import SimpleNamespace

import pytest

from services.platform import TOPOLOGY
from shared.bus.catalogue import CATALOGUE, WEBHOOK_TYPES
from shared.bus.topology import Topology, topic_matches
from shared.bus.worker import BusWorker
from shared.config import SERVICES
from shared.kernel import Kernel

BINDINGS = TOPOLOGY.bindings


def declared() -> dict[str, tuple[str, ...]]:
    """What each service's handlers module declares it handles, read apart from the platform."""
    return {name: importlib.import_module(f"services.{name}.handlers").handles.types for name in SERVICES}


@pytest.mark.parametrize("pattern,key,expected", [
    ("organisation.registered", "organisation.registered", True),
    ("organisation.*", "organisation.registered", True),
    ("organisation.*", "organisation", False),
    ("organisation.*", "organisation.a.b", False),
    ("organisation.#", "organisation.a.b", True),
    ("organisation.#", "organisation", True),
    ("#", "anything.at.all", True),
    ("*.revoked", "key.revoked", True),
    ("*.revoked", "key.issued", False),
])
def test_topic_matching_follows_amqp_rules(pattern, key, expected):
    assert topic_matches(pattern, key) is expected


def test_a_type_nobody_consumes_has_no_consumer():
    assert TOPOLOGY.consumers_of("nothing.listens") == []
    assert set(TOPOLOGY.consumers_of("key.revoked")) == {"events", "media", "notify"}


def test_each_queue_is_bound_to_exactly_what_its_service_handles():
    assert BINDINGS == declared()
    assert set(BINDINGS) == {"events", "media", "notify", "registry"}  # every service consumes something


def test_a_service_that_handles_nothing_has_no_queue_and_types_are_sorted_once():
    topology = Topology.of({"b": ["y.done", "x.done", "x.done"], "a": ("z.done",), "idle": ()})
    assert topology.bindings == {"a": ("z.done",), "b": ("x.done", "y.done")}
    assert [q.name for q in topology.all_queues("t")] == ["t.a", "t.b", "t.dead-letter"]
    assert topology.bound_types("idle") == ()


def test_notify_takes_every_message_a_webhook_may_subscribe_to():
    assert set(WEBHOOK_TYPES) <= set(BINDINGS["notify"])


def test_audit_entries_reach_the_registry_and_never_a_webhook():
    assert TOPOLOGY.consumers_of("audit.recorded") == ["registry"]
    assert "audit.recorded" not in WEBHOOK_TYPES


def test_every_subscribed_type_is_in_the_catalogue():
    for keys in BINDINGS.values():
        assert set(keys) <= set(CATALOGUE)


def test_queues_are_durable_and_named_after_the_exchange():
    queues = TOPOLOGY.all_queues("doa")
    assert {q.name for q in queues} == {"doa.events", "doa.media", "doa.notify", "doa.registry", "doa.dead-letter"}
    assert all(q.durable and not q.auto_delete for q in queues)
    assert all(q.exchange is None or q.exchange.type == "topic" for q in queues if q.exchange and q.exchange.name)


def test_a_worker_refuses_to_start_if_its_service_handles_a_type_its_queue_is_not_bound_to():
    relay = SimpleNamespace(topology=Topology.of({"events": ["key.revoked"]}), run_forever=None)
    delivery = SimpleNamespace(service="events", handlers={"key.revoked": None, "organisation.registered": None})
    worker = BusWorker(relay, delivery, "memory://", "doa")
    with pytest.raises(RuntimeError, match=r"\['organisation.registered'\] but its queue is not bound"):
        worker.start()
    assert worker.consumer is None and not any(t.is_alive() for t in worker.threads)


def test_a_kernel_not_handed_the_topology_runs_no_relay():
    kernel = Kernel(name="events", config=None, db=None, tables={}, outbox=None, verifier=None)
    with pytest.raises(RuntimeError, match="composition root"):
        kernel.relay()
