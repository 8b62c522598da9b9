"""`doa status` as an operator reads it on the day: an all-clear platform says so, and a stuck
outbox row, a message left in a service's queue, a dead letter, a failed e-mail and a disabled
webhook endpoint are each named, and make it exit 1. Real Redis."""
from __future__ import annotations

import json
from datetime import timedelta

from click.testing import CliRunner
from kombu import Producer
from sqlalchemy import insert, update

from services.cli import main
from services.notify.models import Notice, Notification, WebhookEndpoint
from shared.bus.connection import connect
from shared.bus.topology import dead_letter_queue_name, queue_name
from shared.db import utcnow


def run_status(platform, *args) -> tuple[int, dict]:
    env = {"DOA_VAR_DIR": str(platform.config.var_dir), "BUS_URL": platform.config.BUS_URL,
           "BUS_EXCHANGE": platform.config.BUS_EXCHANGE, "LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(main, ["status", "--json", *args], env=env)
    return result.exit_code, json.loads(result.output)


def value(report: dict, what: str):
    [line] = [line for line in report["lines"] if line["what"] == what]
    return line["value"], line["trouble"]


def test_status_names_what_is_stuck_and_exits_1(make_platform):
    platform = make_platform(bus="redis")  # the workers are not started: nothing is taken off the queues
    code, report = run_status(platform)
    assert code == 0 and report["healthy"], report
    assert value(report, "bus: notify queue") == (0, False)

    events = platform.kernels["events"]
    with events.db.transaction() as session:  # a message the relay should have sent five minutes ago
        events.outbox.add(session, "country.released", {"country": "KE"})
        session.execute(update(events.tables["outbox"]).values(available_at=utcnow() - timedelta(minutes=5)))
    config = platform.config
    with connect(config.BUS_URL) as connection:
        producer = Producer(connection.channel())
        producer.publish({"a": 1}, routing_key=queue_name(config.BUS_EXCHANGE, "notify"), serializer="json")
        producer.publish({"b": 2}, routing_key=dead_letter_queue_name(config.BUS_EXCHANGE), serializer="json")
    notify = platform.kernels["notify"]
    with notify.db.transaction() as session:
        session.add(Notice(id="n1", kind="new_event", context={}))
        session.flush()
        session.execute(insert(Notification), [{"notice_id": "n1", "recipient": "subscription:x", "status": "failed",
                                                "next_at": utcnow()}])
        session.add(WebhookEndpoint(owner_id="00000000-0000-4000-8000-000000000001", role="organisation",
                                    url="https://gone.example.org/hook", types=["event.approved"], secret="s",
                                    status="disabled"))

    code, report = run_status(platform, "--stuck-after", "60")
    assert code == 1 and not report["healthy"]
    assert value(report, "events: outbox, due and not sent") == (1, False)
    age, stuck = value(report, "events: outbox, oldest due (s)")
    assert age >= 300 and stuck
    assert value(report, "bus: notify queue") == (1, False)
    assert value(report, "bus: dead letters queue") == (1, True)
    assert value(report, "notify: e-mail failed for good") == (1, True)
    assert value(report, "notify: disabled endpoint") == ("https://gone.example.org/hook", True)
