"""`doa status`: what an operator looks at first on the day — messages not yet sent on the bus,
how long the oldest has waited, the services' queues and the dead letters, e-mail and webhooks
waiting or failing, and the endpoints that stopped answering.

It reads each service's database (the outbox, notify's notifications and deliveries) and asks
the broker how deep its queues are, without taking anything off them. Like the CLI, it sits above
the services; it reads their tables by name and writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import make_url

from shared.bus.outbox import backlog
from shared.bus.tables import add_kernel_tables
from shared.bus.topology import dead_letter_queue_name, queue_name
from shared.config import Config
from shared.db import Database, utcnow

SERVICES = ("registry", "events", "media", "notify")


@dataclass
class Line:
    what: str
    value: int | float | str | None
    trouble: bool = False  # something an operator should act on


@dataclass
class Report:
    lines: list[Line] = field(default_factory=list)

    def add(self, what: str, value, trouble: bool = False) -> None:
        self.lines.append(Line(what, value, trouble))

    @property
    def healthy(self) -> bool:
        return not any(line.trouble for line in self.lines)

    def as_dict(self) -> dict:
        return {"healthy": self.healthy,
                "lines": [{"what": ln.what, "value": ln.value, "trouble": ln.trouble} for ln in self.lines]}


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round((now - since).total_seconds(), 1)


def _database(config: Config, service: str) -> Database | None:
    """The service's database, or None if it was never created (the service never started)."""
    url = config.database_url(service)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").exists():
        return None
    return Database(url)


def outbox(report: Report, config: Config, service: str, stuck_seconds: float) -> None:
    """Messages written but not yet on the bus, and how long the oldest due one has waited."""
    db = _database(config, service)
    if db is None:
        report.add(f"{service}: database", "not created yet (never started)", trouble=True)
        return
    table = add_kernel_tables(MetaData())["outbox"]
    now = utcnow()
    try:
        with db.transaction() as session:
            unsent, oldest = backlog(session, table, now)
    finally:
        db.dispose()
    age = _age(oldest, now)
    report.add(f"{service}: outbox, due and not sent", unsent)
    report.add(f"{service}: outbox, oldest due (s)", age, trouble=age is not None and age > stuck_seconds)


def notify_work(report: Report, config: Config, stuck_seconds: float) -> None:
    """E-mail and webhook deliveries waiting or failed, and the endpoints that stopped answering."""
    db = _database(config, "notify")
    if db is None:
        return
    tables = MetaData()
    tables.reflect(db.engine, only=("notifications", "webhook_deliveries", "webhook_endpoints"))
    mail, hooks, endpoints = (tables.tables[n] for n in ("notifications", "webhook_deliveries", "webhook_endpoints"))
    now = utcnow()
    try:
        with db.transaction() as session:
            for label, t in (("e-mail", mail), ("webhooks", hooks)):
                waiting, oldest = session.execute(select(func.count(), func.min(t.c.next_at)).where(
                    t.c.status.in_(("pending", "sending")), t.c.next_at <= now)).one()
                failed = session.execute(select(func.count()).where(t.c.status == "failed")).scalar_one()
                age = _age(oldest, now)
                report.add(f"notify: {label} due and waiting", waiting)
                report.add(f"notify: {label} oldest due (s)", age, trouble=age is not None and age > stuck_seconds)
                report.add(f"notify: {label} failed for good", failed, trouble=failed > 0)
            disabled = session.execute(select(endpoints.c.url).where(endpoints.c.status == "disabled")).scalars().all()
    finally:
        db.dispose()
    report.add("notify: webhook endpoints disabled", len(disabled), trouble=bool(disabled))
    for url in disabled:
        report.add("notify: disabled endpoint", url, trouble=True)


def queues(report: Report, config: Config) -> None:
    """How many messages wait in each service's queue and in the dead letters (nothing taken)."""
    if config.BUS_URL.startswith("memory://"):
        report.add("bus", "in-process (memory://): its queues live inside `doa run` and are not visible here")
        return
    from shared.bus.connection import connect

    names = [(service, queue_name(config.BUS_EXCHANGE, service)) for service in SERVICES]
    names.append(("dead letters", dead_letter_queue_name(config.BUS_EXCHANGE)))
    try:
        with connect(config.BUS_URL) as connection:
            channel = connection.channel()
            for label, name in names:
                try:
                    depth = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # noqa: BLE001 — a queue not declared yet has nothing in it
                    channel = connection.channel()
                    depth = 0
                report.add(f"bus: {label} queue", depth, trouble=label == "dead letters" and depth > 0)
    except Exception as exc:  # noqa: BLE001 — the broker not answering is the finding
        report.add("bus: broker", f"does not answer: {type(exc).__name__}: {exc}", trouble=True)


def status(config: Config, stuck_seconds: float = 60) -> Report:
    report = Report()
    for service in SERVICES:
        outbox(report, config, service, stuck_seconds)
    notify_work(report, config, stuck_seconds)
    queues(report, config)
    return report
