"""Notify's claims and logs as they run on the day (issue 16): a worker that dies leaves its
webhook deliveries to another within a short lease, not ten minutes later; a worker still
sending keeps them however long the receiver takes; finished deliveries, their attempts and
the records of sent e-mail do not pile up for ever."""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.notify.mail_dispatch import MailDispatcher
from services.notify.models import DeliveryAttempt, Notice, Notification, WebhookDelivery, WebhookEndpoint
from services.notify.webhook_dispatch import WebhookDispatcher
from shared.config import Config
from shared.db import utcnow
from tests.conftest import wait_until
from tests.integration.webhook_receiver import serve_webhooks


class SlowReceiver:
    """Answers 200 once the test lets it; counts what it was sent."""

    def __init__(self):
        self.requests: list[bytes] = []
        self.inside, self.release = threading.Event(), threading.Event()
        self.server = serve_webhooks(self._answer)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def _answer(self, path, headers, body):
        self.requests.append(body)
        self.inside.set()
        self.release.wait(30)
        return 200, {}


@pytest.fixture
def slow_receiver():
    receiver = SlowReceiver()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()


def notify(make_platform, **settings):
    return make_platform(WEBHOOK_ALLOW="127.0.0.0/8", **settings).kernels["notify"]


def add_delivery(kernel, url: str, status: str = "pending", finished_days_ago: float = 0, attempts: int = 0) -> str:
    now = utcnow()
    with kernel.db.transaction() as session:
        endpoint = WebhookEndpoint(id=str(uuid.uuid4()), owner_id=str(uuid.uuid4()), role="organisation", url=url,
                                   types=["event.approved"], secret="whsec_" + "A" * 32, status="active",
                                   created_at=now)
        session.add(endpoint)
        session.flush()
        delivery = WebhookDelivery(id=str(uuid.uuid4()), endpoint_id=endpoint.id, message_id=str(uuid.uuid4()),
                                   type="event.approved", body="{}", status=status, attempts=attempts,
                                   next_at=now - timedelta(days=finished_days_ago), created_at=now)
        session.add(delivery)
        session.flush()
        for number in range(1, attempts + 1):
            session.add(DeliveryAttempt(id=str(uuid.uuid4()), delivery_id=delivery.id, number=number, at=now,
                                        status_code=200, latency_ms=1.0))
        return delivery.id


def status_of(kernel, delivery_id: str) -> str | None:
    with kernel.db.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        return delivery.status if delivery else None


def test_by_default_a_dead_workers_claims_and_messages_come_back_within_a_minute():
    defaults = Config(environ={})
    assert defaults.NOTIFY_CLAIM_LEASE_SECONDS <= 60 and defaults.BUS_VISIBILITY_TIMEOUT <= 60


def test_a_dead_workers_deliveries_are_taken_up_when_its_short_lease_runs_out(make_platform, slow_receiver):
    kernel = notify(make_platform, NOTIFY_CLAIM_LEASE_SECONDS=1)
    delivery = add_delivery(kernel, slow_receiver.url)
    dead = WebhookDispatcher(kernel)
    assert [row[0] for row in dead.claim()] == [delivery]  # claimed, then the worker is killed
    alive = WebhookDispatcher(kernel)
    assert alive.claim() == []  # while the lease lasts, it is the dead worker's
    wait_until(lambda: alive.claim(), 10, message="the lease to run out")
    slow_receiver.release.set()
    with ThreadPoolExecutor(2) as pool:
        wait_until(lambda: alive.send_due(pool) or status_of(kernel, delivery) == "delivered", 10,
                   message="the delivery to be sent by the live worker")
    wait_until(lambda: status_of(kernel, delivery) == "delivered", 10, message="the delivery")
    assert len(slow_receiver.requests) == 1


def test_a_worker_still_sending_keeps_its_deliveries_past_the_lease(make_platform, slow_receiver):
    kernel = notify(make_platform, NOTIFY_CLAIM_LEASE_SECONDS=1)
    delivery = add_delivery(kernel, slow_receiver.url)
    first, second = WebhookDispatcher(kernel), WebhookDispatcher(kernel)
    with ThreadPoolExecutor(2) as pool:
        sending = threading.Thread(target=first.send_due, args=(pool,))
        sending.start()
        wait_until(slow_receiver.inside.is_set, 10, message="the receiver to be called")
        time.sleep(3)  # the receiver takes three leases to answer
        assert second.claim() == []  # the heartbeat kept it the first worker's
        slow_receiver.release.set()
        sending.join(30)
    assert status_of(kernel, delivery) == "delivered" and len(slow_receiver.requests) == 1
    first.heartbeat.close()


def test_finished_deliveries_their_attempts_and_sent_email_records_are_pruned_by_the_worker(make_platform):
    kernel = notify(make_platform, DELIVERY_LOG_KEEP_DAYS=30)
    url = "http://127.0.0.1:9/hooks"
    old_delivered = add_delivery(kernel, url, "delivered", finished_days_ago=31, attempts=2)
    old_failed = add_delivery(kernel, url, "failed", finished_days_ago=40, attempts=3)
    recent = add_delivery(kernel, url, "delivered", finished_days_ago=29, attempts=1)
    waiting = add_delivery(kernel, url, "pending", finished_days_ago=31)  # due long ago, still to be sent
    now = utcnow()
    with kernel.db.transaction() as session:
        session.add(Notice(id="n-old", kind="reminder", context={}, created_at=now - timedelta(days=40)))
        session.flush()
        session.add_all([
            Notification(notice_id="n-old", recipient="contact:a", status="sent", attempts=0,
                         next_at=now - timedelta(days=31), sent_at=now - timedelta(days=31)),
            Notification(notice_id="n-old", recipient="contact:b", status="sent", attempts=0,
                         next_at=now - timedelta(days=2), sent_at=now - timedelta(days=2)),
            Notification(notice_id="n-old", recipient="contact:c", status="failed", attempts=8,
                         next_at=now - timedelta(days=35))])
    MailDispatcher(kernel).housekeeping(force=True)
    with kernel.db.transaction() as session:
        left = set(session.execute(select(WebhookDelivery.id)).scalars())
        attempts = session.execute(select(func.count()).select_from(DeliveryAttempt)).scalar_one()
        recipients = set(session.execute(select(Notification.recipient)).scalars())
    assert left == {recent, waiting} and old_delivered not in left and old_failed not in left
    assert attempts == 1  # the recent delivery's
    assert recipients == {"contact:b"}
