import pytest

from services.events.handlers import build_handlers as events_handlers
from services.media.handlers import build_handlers as media_handlers
from services.notify.handlers import build_handlers as notify_handlers
from services.registry.handlers import HANDLERS as registry_handlers
from shared.bus.catalogue import CATALOGUE, WEBHOOK_TYPES
from shared.bus.topology import SUBSCRIPTIONS, all_queues, consumers_of, topic_matches


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


@pytest.mark.parametrize("service,handlers", [
    ("events", events_handlers), ("media", media_handlers), ("notify", notify_handlers),
    ("registry", lambda: registry_handlers)])
def test_each_queue_is_bound_to_exactly_what_its_service_handles(service, handlers):
    assert set(SUBSCRIPTIONS[service]) == set(handlers())


def test_audit_entries_reach_the_registry_and_never_a_webhook():
    assert consumers_of("audit.recorded") == ["registry"]
    assert "audit.recorded" not in WEBHOOK_TYPES


def test_every_subscribed_type_is_in_the_catalogue():
    for keys in SUBSCRIPTIONS.values():
        assert set(keys) <= set(CATALOGUE)


def test_queues_are_durable_and_named_after_the_exchange():
    queues = all_queues("doa")
    assert {q.name for q in queues} == {"doa.events", "doa.media", "doa.notify", "doa.registry", "doa.dead-letter"}
    assert all(q.durable and not q.auto_delete for q in queues)
    assert all(q.exchange is None or q.exchange.type == "topic" for q in queues if q.exchange and q.exchange.name)
