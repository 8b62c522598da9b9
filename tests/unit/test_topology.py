import importlib

import pytest

from shared.bus import topology
from shared.bus.catalogue import CATALOGUE, WEBHOOK_TYPES
from shared.bus.topology import BINDINGS, all_queues, consumers_of, topic_matches
from shared.config import SERVICES


def declared() -> dict[str, tuple[str, ...]]:
    """What each service's handlers declare they handle (the platform lists the services once)."""
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
    assert consumers_of("nothing.listens") == []
    assert set(consumers_of("key.revoked")) == {"events", "media", "notify"}


def test_each_queue_is_bound_to_exactly_what_its_service_handles():
    # shared/bus/bindings.py is generated: `.venv/bin/python -m tests.unit.test_topology` writes it again.
    assert BINDINGS == declared(), "the bindings are out of date: run python -m tests.unit.test_topology"


def test_notify_takes_every_message_a_webhook_may_subscribe_to():
    assert set(WEBHOOK_TYPES) <= set(BINDINGS["notify"])


def test_audit_entries_reach_the_registry_and_never_a_webhook():
    assert consumers_of("audit.recorded") == ["registry"]
    assert "audit.recorded" not in WEBHOOK_TYPES


def test_every_subscribed_type_is_in_the_catalogue():
    for keys in BINDINGS.values():
        assert set(keys) <= set(CATALOGUE)


def test_queues_are_durable_and_named_after_the_exchange():
    queues = all_queues("doa")
    assert {q.name for q in queues} == {"doa.events", "doa.media", "doa.notify", "doa.registry", "doa.dead-letter"}
    assert all(q.durable and not q.auto_delete for q in queues)
    assert all(q.exchange is None or q.exchange.type == "topic" for q in queues if q.exchange and q.exchange.name)


def test_the_bindings_module_is_written_as_it_is_read(tmp_path):
    path = tmp_path / "bindings.py"
    topology.write_bindings({"b": ("y.done", "x.done"), "a": ("z.done",), "idle": ()}, path)
    namespace: dict = {}
    exec(path.read_text(), namespace)
    assert namespace["BINDINGS"] == {"a": ("z.done",), "b": ("x.done", "y.done")}


if __name__ == "__main__":  # write shared/bus/bindings.py from the declarations
    topology.write_bindings(declared())
