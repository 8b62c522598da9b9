"""Faults found by running the stack as it will run on the day (issue 16): nothing on a queue
stops a consumer or vanishes without a dead letter; a bad outbox row is parked and the rows
behind it flow; handled ids do not pile up for ever; a message being handled is not handed
to another consumer however long its handler runs."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import redis
from kombu import Connection
from sqlalchemy import func, select, text, update

from shared.bus.connection import connect
from shared.bus.dead_letters import list_parked, replay
from shared.bus.envelope import make_envelope
from shared.bus.topology import dead_letter_queue_name, queue_name
from shared.db import utcnow
from tests.conftest import wait_until
from tests.integration.bus_support import drain, publish_raw
from tests.integration.conftest import BUS_URLS
from tests.integration.test_bus import inbox_count, known, org_data


def alive(platform, name: str) -> bool:
    return all(t.is_alive() for w in platform.workers for t in w.threads if t.name == name)


def test_items_on_a_redis_queue_that_are_not_messages_are_parked_and_the_consumer_goes_on(make_platform, exchange_name):
    platform = make_platform(bus="redis")
    url, queue = BUS_URLS["redis"], queue_name(exchange_name, "events")
    client = redis.Redis.from_url(url)
    # What `redis-cli LPUSH doa.events …` leaves: plain text, JSON without kombu's envelope,
    # JSON that is not an object, a kombu-looking item whose body is not base64.
    items = ["garbage", json.dumps({"a": 1}), "[1, 2]",
             json.dumps({"body": "abc", "properties": {"body_encoding": "base64", "delivery_tag": "x",
                                                       "delivery_info": {"exchange": "", "routing_key": queue}}})]
    for item in items:
        client.lpush(queue, item)
    good = make_envelope("organisation.registered", 1, org_data(), "registry", None)
    with Connection(url) as conn:  # a real message behind them
        conn.Producer(conn.channel()).publish(json.dumps(good), exchange="", routing_key=queue,
                                              content_type="application/json", content_encoding="utf-8")
    platform.start_workers()
    wait_until(lambda: len(known(platform)) == 1, 15, message="the good message behind the bad items")
    parked = drain(url, exchange_name, dead_letter_queue_name(exchange_name), expect=len(items))
    assert sorted(body["raw"] for body, _ in parked) == sorted(items)
    assert all(h["x-dead-reason"].startswith("not a message: ") and h["x-dead-service"] == "events"
               for _, h in parked)
    reasons = {body["raw"]: h["x-dead-reason"] for body, h in parked}
    assert "not JSON" in reasons["garbage"] and "no kombu envelope" in reasons['{"a": 1}']
    assert alive(platform, "events-consumer")
    # and it still consumes what comes next
    with Connection(url) as conn:
        conn.Producer(conn.channel()).publish(
            json.dumps(make_envelope("organisation.registered", 1, org_data(), "registry", None)), exchange="",
            routing_key=queue, content_type="application/json", content_encoding="utf-8")
    wait_until(lambda: len(known(platform)) == 2, 15, message="a message after the bad items")


@pytest.mark.parametrize("bus", ["memory", "redis", "amqp"])
def test_a_message_without_our_envelope_is_dead_lettered_not_dropped(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus)
    # a valid kombu message, but not our envelope
    publish_raw(BUS_URLS[bus], exchange_name, queue_name(exchange_name, "events"), json.dumps({"a": 1}))
    platform.start_workers()
    [(body, headers)] = drain(BUS_URLS[bus], exchange_name, dead_letter_queue_name(exchange_name))
    assert body == {"a": 1} and headers["x-dead-reason"].startswith("invalid message")
    assert platform.workers[1].consumer.outcomes == {"dead": 1}


def insert_bad_row(kernel, headers_sql: str) -> None:
    """A row as a broken writer (or a hand-made repair) might leave it."""
    with kernel.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO bus_outbox (message_id, routing_key, queue, body, headers, available_at) "
                          f"VALUES ('bad', 'organisation.registered', NULL, :body, {headers_sql}, :at)"),
                     {"body": json.dumps(make_envelope("organisation.registered", 1, org_data(abbreviation="BAD"),
                                                       "registry", None)), "at": utcnow() - timedelta(seconds=5)})


@pytest.mark.parametrize("bus,db,headers_sql", [
    ("redis", "sqlite", "'not json'"), ("redis", "sqlite", "'[1, 2]'"), ("redis", "postgres", "'[1, 2]'"),
    ("amqp", "sqlite", "'[1, 2]'"),
    # JSON, but a number AMQP's header table cannot carry: the publish fails, the broker is fine
    ("amqp", "sqlite", "'{\"x-big\": 1180591620717411303424}'")])
def test_a_bad_outbox_row_is_parked_and_the_rows_behind_it_flow(bus, db, headers_sql, make_platform, exchange_name):
    platform = make_platform(bus=bus, db=db)
    registry = platform.kernels["registry"]
    insert_bad_row(registry, headers_sql)
    with registry.db.transaction() as session:
        for i in range(3):
            registry.outbox.add(session, "organisation.registered", org_data(abbreviation=f"GOOD{i}"))
    platform.start_workers()
    wait_until(lambda: len(known(platform)) == 3, 15, message="the rows behind the bad one")
    assert sorted(o.abbreviation for o in known(platform)) == ["GOOD0", "GOOD1", "GOOD2"]
    with registry.db.transaction() as session:
        outbox = registry.tables["outbox"]
        assert session.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar() == 0
    url = BUS_URLS[bus]
    [parked] = list_parked(url, exchange_name)
    assert parked.headers["x-dead-reason"].startswith("outbox row ")
    assert parked.headers["x-dead-routing-key"] == "organisation.registered"
    # the operator looked, it is a good message after all: replayed, it goes where it was going
    assert [p.id for p in replay(url, exchange_name)] == [parked.id]
    wait_until(lambda: len(known(platform)) == 4, 15, message="the replayed row")


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_handled_ids_older_than_the_setting_are_pruned_in_batches(db, make_platform):
    platform = make_platform(db=db, BUS_INBOX_KEEP_DAYS=2)
    events = platform.kernels["events"]
    delivery = events.delivery()
    for _ in range(7):
        assert delivery.handle(make_envelope("organisation.registered", 1, org_data(), "registry", None), {}) == "handled"
    inbox = events.tables["inbox"]
    with events.db.transaction() as session:
        ids = list(session.execute(select(inbox.c.message_id).order_by(inbox.c.message_id)).scalars())
        session.execute(update(inbox).where(inbox.c.message_id.in_(ids[:5]))
                        .values(handled_at=utcnow() - timedelta(days=3)))
    assert delivery.prune_inbox(batch=2) == 5
    assert inbox_count(platform) == 2
    # what is kept still recognises a redelivery
    with events.db.transaction() as session:
        kept = session.execute(select(inbox.c.message_id)).scalars().first()
    assert kept in ids[5:]


def test_the_worker_prunes_the_inbox_by_itself(make_platform):
    platform = make_platform(BUS_INBOX_KEEP_DAYS=1)
    events = platform.kernels["events"]
    events.delivery().handle(make_envelope("organisation.registered", 1, org_data(), "registry", None), {})
    inbox = events.tables["inbox"]
    with events.db.transaction() as session:
        session.execute(update(inbox).values(handled_at=utcnow() - timedelta(days=2)))
    platform.start_workers()
    wait_until(lambda: inbox_count(platform) == 0, 15, message="the worker's pruning")


def taken(exchange_name: str) -> list:
    """The messages of this test that Redis holds as taken by a consumer (the unacknowledged
    are kept per database; other tests' are told apart by the exchange)."""
    client = redis.Redis.from_url(BUS_URLS["redis"])
    return [v for v in client.hvals("unacked") if exchange_name.encode() in v]


def test_a_message_whose_handler_outlasts_the_visibility_timeout_is_not_handed_out_again(make_platform, exchange_name):
    platform = make_platform(bus="redis", BUS_VISIBILITY_TIMEOUT=1)
    events = platform.kernels["events"]
    original = events.handlers["organisation.registered"]
    calls = []
    inside, release = threading.Event(), threading.Event()

    def slow(session, message):
        calls.append(message.id)
        inside.set()
        release.wait(30)  # the work goes on until the test has looked
        original(session, message)

    events.handlers["organisation.registered"] = slow
    platform.start_workers()
    second = events.worker().start()  # a competing consumer of the same queue
    platform.workers.append(second)
    registry = platform.kernels["registry"]
    with registry.db.transaction() as session:
        registry.outbox.add(session, "organisation.registered", org_data())
    wait_until(inside.is_set, 15, message="the handler to start")
    time.sleep(3)  # three visibility timeouts into the work
    # What every idle consumer on this Redis does now and then: hand back what has been taken
    # for longer than the visibility timeout. The heartbeat keeps ours from being old enough.
    with connect(BUS_URLS["redis"], visibility_timeout=1) as conn:
        conn.default_channel.qos.restore_visible(num=1000, interval=1)
    held = taken(exchange_name)
    redis_client = redis.Redis.from_url(BUS_URLS["redis"])
    assert len(held) == 1 and redis_client.llen(queue_name(exchange_name, "events")) == 0
    release.set()
    wait_until(lambda: len(known(platform)) == 1 and not taken(exchange_name), 30, message="the handler to finish")
    outcomes = [w.consumer.outcomes for w in (platform.workers[1], second)]
    assert len(calls) == 1 and sorted(map(str, outcomes)) == ["{'handled': 1}", "{}"]
    assert inbox_count(platform) == 1



def test_what_is_not_a_message_in_the_dead_letter_queue_is_listed_not_a_crash(make_platform, exchange_name):
    make_platform(bus="redis")
    url, queue = BUS_URLS["redis"], dead_letter_queue_name(exchange_name)
    publish_raw(url, exchange_name, queue, json.dumps({"id": "1", "type": "x"}))  # a parked message
    redis.Redis.from_url(url).lpush(queue, "garbage")  # and something put there by hand
    listed = list_parked(url, exchange_name)
    assert [p.body.get("raw") for p in listed] == [None, "garbage"]
    assert listed[1].headers["x-dead-reason"].startswith("not a message: not JSON")
    # put back as a parked message of its own: the next listing reads the same
    again = list_parked(url, exchange_name)
    assert [(p.body, p.headers.get("x-dead-reason")) for p in again] == \
        [(p.body, p.headers.get("x-dead-reason")) for p in listed]
