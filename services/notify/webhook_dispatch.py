"""The notify worker's webhook loop: due deliveries are claimed, sent concurrently (each signed
as the Standard Webhooks spec says, through the SSRF guard), logged attempt by attempt, and
retried on the configured schedule. An endpoint that keeps failing past the schedule, or
answers 410 Gone, is disabled and its owner told; what it has not been sent yet is then held
(kept unsent, within WEBHOOK_HELD_MAX and WEBHOOK_HELD_DAYS) for a backfill when it is switched
on again."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update

from services.notify import wakeups
from services.notify.fanout import add_notice, contact_of, coordinators, to_recipients
from services.notify.leases import Lease
from services.notify.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from services.notify.webhook_endpoints import allow_list
from services.notify.webhooks import retry, signing
from services.notify.webhooks.delivery import Attempt, deliver
from services.notify.webhooks.queue import drop_held, held_limits
from services.notify.webhooks.transport import new_session
from shared.db import utcnow
from shared.heartbeat import Heartbeat
from shared.kernel import Kernel

log = logging.getLogger("doa.notify.webhooks")

BATCH = 200
HELD_SWEEP_SECONDS = 60.0  # how often held deliveries past their time or their number are dropped


class WebhookDispatcher:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        config = kernel.config
        self.schedule = retry.parse_schedule(config.WEBHOOK_SCHEDULE)
        self.allow = allow_list(config)
        self.local = threading.local()  # one guarded session (connection pool) per sending thread
        self.lease_seconds = config.NOTIFY_CLAIM_LEASE_SECONDS
        self.heartbeat = Heartbeat(self.lease_seconds / 3, "notify-webhooks")
        self._lease: Lease | None = None
        self._last_sweep = float("-inf")

    def run_forever(self, stop: threading.Event) -> None:
        with ThreadPoolExecutor(max_workers=self.kernel.config.WEBHOOK_CONCURRENCY,
                                thread_name_prefix="webhook") as pool:
            def step() -> int:
                self.sweep_held()
                return self.send_due(pool)

            wakeups.run_loop(stop, wakeups.WEBHOOKS, step, "webhook deliveries failed; trying again shortly")
        self.heartbeat.close()

    def claim(self) -> list[tuple]:
        now = utcnow()
        # A claimed delivery whose worker died is taken up again after this (send_due renews it).
        lease_until = now + timedelta(seconds=self.lease_seconds)
        with self.kernel.db.transaction() as session:
            ids = list(session.execute(
                select(WebhookDelivery.id).where(or_(WebhookDelivery.status == "pending",
                                                     WebhookDelivery.status == "sending"),
                                                 WebhookDelivery.next_at <= now)
                .order_by(WebhookDelivery.next_at).limit(BATCH)).scalars())
            if not ids:
                return []
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids), WebhookDelivery.next_at <= now)
                            .values(status="sending", next_at=lease_until))
            claimed = session.execute(
                select(WebhookDelivery.id, WebhookDelivery.message_id, WebhookDelivery.body, WebhookDelivery.attempts,
                       WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.status)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookDelivery.id.in_(ids), WebhookDelivery.next_at == lease_until)).all()
        order = {id_: n for n, id_ in enumerate(ids)}  # sent in the order they fell due
        claimed.sort(key=lambda row: order[row[0]])
        self._lease = Lease(self.kernel.db, WebhookDelivery, [row[0] for row in claimed], lease_until,
                            self.lease_seconds)
        return claimed

    def send_due(self, pool: ThreadPoolExecutor) -> int:
        """Send a claimed batch, writing down what has finished each time something finishes: a
        worker killed mid-batch repeats only what was in flight (receivers drop repeats by
        `webhook-id`), not everything the batch had already delivered."""
        claimed = self.claim()
        if not claimed:
            return 0
        with self.heartbeat.keep(self._lease.renew):  # ours for as long as we are sending
            rows = {pool.submit(self._attempt, row): row for row in claimed}
            pending = set(rows)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                self._record([rows[f] for f in done], [f.result() for f in done])
        return len(claimed)

    def sweep_held(self, force: bool = False) -> int:
        """Held deliveries past WEBHOOK_HELD_DAYS, or beyond WEBHOOK_HELD_MAX of an endpoint
        (the oldest), go; once a minute is often enough."""
        if not force and time.monotonic() - self._last_sweep < HELD_SWEEP_SECONDS:
            return 0
        self._last_sweep = time.monotonic()
        with self.kernel.db.transaction() as session:
            dropped = drop_held(session, None, *held_limits(self.kernel.config), now=utcnow())
        if dropped:
            log.info("dropped %d held webhook deliveries (too old, or too many for their endpoint)", dropped)
        return dropped

    def _attempt(self, row) -> Attempt | None:
        _, message_id, body, _, _, url, secret, status = row
        if status != "active":
            return None  # switched off meanwhile: held, not tried
        if not hasattr(self.local, "session"):
            self.local.session = new_session(self.allow)
        data = body.encode()
        headers = signing.headers(secret, message_id, int(time.time()), data)
        config = self.kernel.config
        return deliver(url, data, headers, allow=self.allow, connect_timeout=config.WEBHOOK_CONNECT_TIMEOUT,
                       read_timeout=config.WEBHOOK_READ_TIMEOUT, session=self.local.session)

    def _record(self, claimed: list[tuple], results: list[Attempt]) -> None:
        """Write a batch's attempts at once: one query for the deliveries, one for the
        endpoints, one for the attempt numbers (a row at a time costs more than the sending)."""
        now = utcnow()
        with self.kernel.db.transaction() as session, session.no_autoflush:
            ids = [row[0] for row in claimed]
            deliveries = {d.id: d for d in session.execute(
                select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))).scalars()}
            endpoints = {e.id: e for e in session.execute(select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_({row[4] for row in claimed}))).scalars()}
            numbers = dict(session.execute(select(DeliveryAttempt.delivery_id, func.max(DeliveryAttempt.number))
                                           .where(DeliveryAttempt.delivery_id.in_(ids))
                                           .group_by(DeliveryAttempt.delivery_id)).all())
            for row, attempt in zip(claimed, results, strict=True):
                delivery, endpoint = deliveries.get(row[0]), endpoints.get(row[4])
                if delivery is None or endpoint is None:  # removed meanwhile
                    continue
                if attempt is None:
                    delivery.status = "held"
                    continue
                session.add(DeliveryAttempt(delivery_id=delivery.id, number=(numbers.get(delivery.id) or 0) + 1,
                                            at=now, status_code=attempt.status_code, latency_ms=attempt.latency_ms,
                                            error=attempt.error))
                delivery.attempts += 1
                if attempt.ok:
                    delivery.status, delivery.delivered_at = "delivered", now
                    continue
                if endpoint.status != "active":  # disabled while this was on its way: sent on a backfill
                    delivery.status = "held"
                    continue
                if retry.disables_at_once(attempt.status_code):
                    delivery.status = "failed"
                    self._disable(session, endpoint, "The endpoint answered 410 Gone.")
                    continue
                delay = retry.delay_before(delivery.attempts + 1, self.schedule, retry_after=attempt.retry_after)
                if delay is None:
                    delivery.status = "failed"
                    session.flush()
                    if not self._succeeded_since(session, endpoint.id, delivery.created_at):
                        self._disable(session, endpoint, f"Deliveries kept failing "
                                                         f"({attempt.error or attempt.status_code}) for the whole "
                                                         f"retry schedule.")
                else:
                    delivery.status, delivery.next_at = "pending", now + timedelta(seconds=delay)

    @staticmethod
    def _succeeded_since(session, endpoint_id: str, since) -> bool:
        """One message type failing (a receiver refusing it) does not switch off an endpoint
        that takes the others."""
        return session.execute(select(WebhookDelivery.id).where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "delivered",
            WebhookDelivery.delivered_at >= since).limit(1)).first() is not None

    def _disable(self, session, endpoint: WebhookEndpoint, reason: str) -> None:
        """Switch the endpoint off, hold what it has not been sent yet, and tell its owner (and
        the coordinators) once."""
        endpoint.status, endpoint.disabled_reason = "disabled", reason
        session.flush()
        session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                      WebhookDelivery.status.in_(("pending", "sending")))
                        .values(status="held"), execution_options={"synchronize_session": False})
        log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
        notice = f"webhook-disabled:{endpoint.id}:{int(utcnow().timestamp())}"
        # Only where it points: a URL's path or query often holds the receiver's own secret.
        shown = urlsplit(endpoint.url)
        if add_notice(session, notice, "delivery_failing", {"url": f"{shown.scheme}://{shown.netloc}/… "
                                                                   f"(endpoint {endpoint.id})",
                                                            "reason": reason, "disabled": True}):
            to_recipients(session, notice, contact_of(endpoint.owner_id))
            to_recipients(session, notice, coordinators())  # they watch every delivery that keeps failing
