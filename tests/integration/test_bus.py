"""The bus on each transport: memory://, the real Redis and the real RabbitMQ."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from services.events.models import KnownOrganisation
from shared.bus.envelope import make_envelope
from shared.bus.topology import Topology, dead_letter_queue_name, queue_name
from tests.conftest import wait_until
from tests.integration.bus_support import drain, publish_raw
from tests.integration.conftest import BUS_URLS, ApiClient

pytestmark = pytest.mark.parametrize("bus", ["memory", "redis", "amqp"])


def org_data(**overrides) -> dict:
    return {"id": str(uuid.uuid4()), "abbreviation": "CPK", "name": "Communist Party of Kenya",
            "name_en": "Communist Party of Kenya", "country": "KE", "timezone": "Africa/Nairobi",
            "languages": ["sw"], "website": None, "status": "active", **overrides}


def known(platform) -> list[KnownOrganisation]:
    with platform.kernels["events"].db.transaction() as s:
        return s.execute(select(KnownOrganisation)).scalars().all()


def inbox_count(platform, service="events") -> int:
    kernel = platform.kernels[service]
    with kernel.db.transaction() as s:
        return s.execute(select(func.count()).select_from(kernel.tables["inbox"])).scalar_one()


def test_a_registration_reaches_the_events_service(bus, make_platform):
    platform = make_platform(bus=bus)
    platform.start_workers()
    api = ApiClient(platform)
    org = api.register(api.coordinator_token(), abbreviation="ПКБ", name="Партия", name_en="Party",
                       country="RU", timezone="Europe/Moscow")
    wait_until(lambda: [o.id for o in known(platform)] == [org["id"]], message="the events copy")
    copy = known(platform)[0]
    assert (copy.abbreviation, copy.country, copy.status) == ("ПКБ", "RU", "active")


def test_a_message_sent_before_its_consumer_ever_started_waits_for_it(bus, make_platform):
    platform = make_platform(bus=bus)
    registry = platform.kernels["registry"]
    with registry.db.transaction() as session:
        registry.outbox.add(session, "organisation.registered", org_data())
    assert registry.relay().run_once() == 1  # published; no consumer has ever run
    platform.start_workers()
    wait_until(lambda: len(known(platform)) == 1, message="the waiting message to be consumed")


def test_what_no_queue_is_bound_to_goes_to_the_dead_letter_queue(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus)
    registry = platform.kernels["registry"]
    # No service takes organisation.registered in this topology.
    registry.topology = Topology.of({name: ("key.revoked",) for name in registry.topology.bindings})
    with registry.db.transaction() as session:
        sent = registry.outbox.add(session, "organisation.registered", org_data())
    registry.relay().run_once()
    [(body, headers)] = drain(BUS_URLS[bus], exchange_name, dead_letter_queue_name(exchange_name))
    assert body["id"] == sent["id"]
    assert headers["x-dead-reason"] == "unroutable: no queue is bound to organisation.registered"


def test_a_message_that_always_fails_is_retried_then_parked_with_its_reason(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus, BUS_MAX_ATTEMPTS=3)
    events = platform.kernels["events"]
    calls = []

    def broken(session, message):
        calls.append(message.id)
        raise RuntimeError("the handler is broken")

    events.handlers["organisation.registered"] = broken
    platform.start_workers()
    registry = platform.kernels["registry"]
    with registry.db.transaction() as session:
        sent = registry.outbox.add(session, "organisation.registered", org_data())
    [(body, headers)] = drain(BUS_URLS[bus], exchange_name, dead_letter_queue_name(exchange_name), timeout=15)
    assert body["id"] == sent["id"] and len(calls) == 3
    assert headers["x-attempts"] == 3 and headers["x-dead-service"] == "events"
    assert headers["x-dead-reason"] == "RuntimeError: the handler is broken"
    assert known(platform) == [] and inbox_count(platform) == 0


def test_a_message_delivered_twice_has_its_effect_once(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus)
    counted = []
    events = platform.kernels["events"]
    original = events.handlers["organisation.registered"]

    def counting(session, message):
        counted.append(message.id)
        original(session, message)

    events.handlers["organisation.registered"] = counting
    envelope = make_envelope("organisation.registered", 1, org_data(), "registry", None)
    for _ in range(3):
        publish_raw(BUS_URLS[bus], exchange_name, queue_name(exchange_name, "events"), json.dumps(envelope))
    platform.start_workers()
    wait_until(lambda: platform.workers[1].consumer.outcomes.get("duplicate") == 2, message="duplicates")
    assert len(known(platform)) == 1 and counted == [envelope["id"]] and inbox_count(platform) == 1


@pytest.mark.parametrize("body,reason", [
    ('{"no": "envelope"}', "invalid message"),
    ('{"id": "x", "type": "organisation.registered"}', "invalid message"),
    ("not json at all", "undecodable"),
])
def test_malformed_messages_are_parked_at_once(bus, make_platform, exchange_name, body, reason):
    platform = make_platform(bus=bus)
    publish_raw(BUS_URLS[bus], exchange_name, queue_name(exchange_name, "events"), body)
    platform.start_workers()
    [(_, headers)] = drain(BUS_URLS[bus], exchange_name, dead_letter_queue_name(exchange_name))
    assert headers["x-dead-reason"].startswith(reason) and headers["x-attempts"] == 1
