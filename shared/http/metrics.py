"""`GET /api/<service>/metrics`: a service's numbers in Prometheus' text format.

- `doa_http_request_seconds{service,route,method,status}`: a histogram of request latency. The
  route is the URL rule (`/api/events/events/<id>`), never the path: ids and private links'
  keys do not become labels; a request no route matched counts under `route="unmatched"`.
  The status is the class (`2xx`, `4xx`…).
- Gauges read from the service's own tables when Prometheus scrapes: the outbox (messages due
  and not yet on the bus, the oldest one's age, dead letters parked in the last day), the inbox
  (messages remembered as handled, seconds since the last one), and for notify the e-mails
  and webhook deliveries by status.

Each app has a registry of its own (several apps share one process in `doa run`). The
endpoint is not in the OpenAPI document (it is for Prometheus, like the health checks),
GETs are never rate limited, and the gateway does not route it (deploy/nginx.conf): it is
for the scraper inside the deployment's network. See docs/operations.md.
"""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from shared.bus.outbox import backlog
from shared.bus.topology import dead_letter_queue_name
from shared.db import utcnow
from shared.kernel import Kernel

log = logging.getLogger("doa.metrics")

# Seconds: from a cached read (a millisecond) to a slow upload.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Tables with a `status` column whose rows are work to be done, counted per status (notify's).
STATUS_TABLES = {"notifications": "doa_notify_notifications",
                 "webhook_deliveries": "doa_notify_webhook_deliveries"}
READABLE = "1 when the service's tables could be read for this scrape, else 0."


def _age(since, now) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


class TableCollector:
    """Gauges read from the service's tables at scrape time."""

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.outbox = kernel.tables["outbox"]
        self.inbox = kernel.tables["inbox"]
        own = self.outbox.metadata.tables
        self.status_tables = {name: own[table] for table, name in STATUS_TABLES.items() if table in own}

    def describe(self):
        return []  # read at scrape time only; nothing to check when registering

    def collect(self):
        name = self.kernel.name
        now = utcnow()
        try:
            due, oldest, dead, handled, last, by_status = self._read(now)
        except Exception as exc:  # the database is away: say so, and still answer the scrape
            log.warning("metrics: the tables could not be read: %s", type(exc).__name__)
            yield _gauge("doa_tables_readable", READABLE, name, 0)
            return
        yield _gauge("doa_tables_readable", READABLE, name, 1)
        yield _gauge("doa_outbox_due", "Messages due and not yet on the bus.", name, due)
        yield _gauge("doa_outbox_oldest_due_seconds", "How long the oldest due, unsent message has waited "
                     "(0 when none waits).", name, _age(oldest, now))
        yield _gauge("doa_dead_letters_recent", "Messages this service parked in the dead-letter queue "
                     "that the outbox still keeps (sent rows are kept a day).", name, dead)
        yield _gauge("doa_inbox_messages", "Messages remembered as handled (kept for BUS_INBOX_KEEP_DAYS).",
                     name, handled)
        yield _gauge("doa_inbox_last_handled_age_seconds", "Seconds since the last message was handled "
                     "(0 when none has been).", name, _age(last, now))
        for metric, rows in by_status.items():
            family = GaugeMetricFamily(metric, f"{metric.removeprefix('doa_notify_')} by status.",
                                       labels=["service", "status"])
            for status, count in rows:
                family.add_metric([name, str(status)], count)
            yield family

    def _read(self, now):
        out, inbox = self.outbox, self.inbox
        dead_queue = dead_letter_queue_name(self.kernel.config.BUS_EXCHANGE)
        with self.kernel.db.transaction() as session:
            due, oldest = backlog(session, out, now)
            dead = session.execute(select(func.count()).where(out.c.queue == dead_queue)).scalar_one()
            handled, last = session.execute(select(func.count(), func.max(inbox.c.handled_at))).one()
            by_status = {metric: session.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
                         for metric, t in self.status_tables.items()}
        return due, oldest, dead, handled, last, by_status


def _gauge(metric: str, doc: str, service: str, value) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric, doc, labels=["service"])
    family.add_metric([service], value)
    return family


def status_class(code: int) -> str:
    return f"{code // 100}xx"


def install_metrics(app: Flask, kernel: Kernel, prefix: str) -> CollectorRegistry:
    """Time every request of `app` and serve `{prefix}/metrics`; answer the app's registry."""
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram("doa_http_request_seconds", "Time to answer a request, by route template.",
                        ["service", "route", "method", "status"], registry=registry, buckets=BUCKETS)
    registry.register(TableCollector(kernel))
    app.extensions["doa.metrics"] = registry
    name = kernel.name

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            latency.labels(name, route, request.method, status_class(response.status_code)).observe(
                time.perf_counter() - started)
        return response

    def metrics():
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule(f"{prefix}/metrics", "metrics", metrics)
    return registry
