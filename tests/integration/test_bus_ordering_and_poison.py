"""Messages out of order and messages built to hurt: a late, older message never undoes a
newer one, and nothing blocks a queue."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from shared.bus.envelope import make_envelope
from shared.bus.topology import dead_letter_queue_name, queue_name
from tests.conftest import wait_until
from tests.integration.bus_support import drain, publish_raw
from tests.integration.conftest import BUS_URLS
from tests.integration.test_bus import known, org_data


def envelope(type_, data, at):
    env = make_envelope(type_, 1, data, "registry", None)
    env["occurred_at"] = at.isoformat()
    return env


def test_a_late_older_suspension_does_not_undo_a_newer_reinstatement(make_platform):
    platform = make_platform()
    events = platform.kernels["events"]
    delivery = events.delivery()
    org = org_data()
    t0 = datetime.now(timezone.utc)
    assert delivery.handle(envelope("organisation.registered", org, t0), {}) == "handled"
    assert delivery.handle(envelope("organisation.reinstated", {"id": org["id"]}, t0 + timedelta(seconds=2)), {}) == "handled"
    late = envelope("organisation.suspended", {"id": org["id"], "reason": "retried"}, t0 + timedelta(seconds=1))
    assert delivery.handle(late, {}) == "handled"
    assert not events.verifier.is_revoked("any-key", org["id"])
    assert known(platform)[0].status == "active"
    # and the other way round: a late reinstatement does not lift a newer suspension
    delivery.handle(envelope("organisation.suspended", {"id": org["id"], "reason": "x"}, t0 + timedelta(seconds=4)), {})
    delivery.handle(envelope("organisation.reinstated", {"id": org["id"]}, t0 + timedelta(seconds=3)), {})
    assert events.verifier.is_revoked("any-key", org["id"]) and known(platform)[0].status == "suspended"


def test_a_suspension_that_overtakes_the_registration_is_retried_until_it_applies(make_platform):
    platform = make_platform()
    delivery = platform.kernels["events"].delivery()
    org = org_data()
    t0 = datetime.now(timezone.utc)
    suspended = envelope("organisation.suspended", {"id": org["id"], "reason": "x"}, t0 + timedelta(seconds=1))
    assert delivery.handle(suspended, {}) == "retry"
    assert delivery.handle(envelope("organisation.registered", org, t0), {}) == "handled"
    assert delivery.handle(suspended, {"x-attempts": 1}) == "handled"
    assert known(platform)[0].status == "suspended"


@pytest.mark.parametrize("bus", ["memory", "redis"])
def test_poison_messages_are_parked_and_the_queue_moves_on(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus)
    url, queue = BUS_URLS[bus], queue_name(exchange_name, "events")
    good = make_envelope("organisation.registered", 1, org_data(), "registry", None)
    with_surrogate = make_envelope("key.revoked\ud800", 1, {}, "registry", None)
    smuggled_bytes = {**make_envelope("key.revoked", 1, {}, "registry", None),
                      "data": {"__type__": "bytes", "__value__": "abc"}}
    publish_raw(url, exchange_name, queue, json.dumps(with_surrogate))
    publish_raw(url, exchange_name, queue, json.dumps(smuggled_bytes))
    from kombu import Connection

    with Connection(url) as conn:  # a retry header that is not a number
        conn.Producer(conn.channel()).publish(json.dumps(good), exchange="", routing_key=queue,
                                              headers={"x-attempts": "abc"}, content_type="application/json",
                                              content_encoding="utf-8")
    platform.start_workers()
    wait_until(lambda: len(known(platform)) == 1, 10, message="the good message behind the poison")
    parked = drain(url, exchange_name, dead_letter_queue_name(exchange_name), expect=2)
    assert len(parked) == 2 and all("invalid message" in h["x-dead-reason"] for _, h in parked)
    assert uuid.UUID(known(platform)[0].id)
