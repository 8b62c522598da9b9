"""A service's kernel, built in one place: database, outbox, token verifier, bus worker."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from sqlalchemy import MetaData

from shared.auth import HttpJwks, JwksSource, TokenVerifier, token_lifetime
from shared.bus.consumer import Delivery, Handler
from shared.bus.outbox import Outbox
from shared.bus.relay import Relay
from shared.bus.tables import add_kernel_tables
from shared.bus.topology import Topology
from shared.bus.worker import BusWorker
from shared.config import Config
from shared.db import Database, utcnow
from shared.migrations import upgrade
from shared.rendered import RenderedCache
from shared.revocations import revocation_check


def _request_id() -> str | None:
    from flask import g, has_request_context

    return g.get("request_id") if has_request_context() else None


@dataclass
class Kernel:
    name: str
    config: Config
    db: Database
    tables: dict
    outbox: Outbox
    verifier: TokenVerifier
    handlers: dict[str, Handler] = field(default_factory=dict)
    # What the service's handlers and routes depend on, by name (bus, clock, db, config, and
    # what the service's bootstrap provides: media's storage…): handlers get them as named
    # parameters (shared.bus.handlers), routes through `dependency(name)`.
    dependencies: dict = field(default_factory=dict)
    # Public outputs rendered once per change and kept in this process (shared.rendered).
    rendered: RenderedCache = field(default_factory=RenderedCache)
    # Loops the service's worker runs beside its relay and consumer (name, run(stop_event)).
    background: list[tuple[str, Callable[[threading.Event], None]]] = field(default_factory=list)
    # The whole platform's bus topology, which the relay and the worker need: derived from every
    # service's handlers by the composition root that built this kernel (services/platform.py).
    # A service's HTTP process publishes through its outbox only and never needs it.
    topology: Topology | None = None

    def provide(self, **named) -> None:
        """The bootstrap's dependencies, by name."""
        self.dependencies.update(named)

    def relay(self) -> Relay:
        if self.topology is None:
            raise RuntimeError(f"{self.name}: no bus topology; build the kernel through the composition root "
                               "(services.platform.build_kernel), which derives it from every service's handlers")
        c = self.config
        return Relay(self.db, self.tables["outbox"], c.BUS_URL, c.BUS_EXCHANGE, self.topology,
                     batch=c.BUS_RELAY_BATCH, interval=c.BUS_RELAY_INTERVAL,
                     visibility_timeout=c.BUS_VISIBILITY_TIMEOUT)

    def delivery(self) -> Delivery:
        c = self.config
        return Delivery(self.name, self.db, self.tables["inbox"], self.outbox, self.handlers,
                        c.BUS_EXCHANGE, max_attempts=c.BUS_MAX_ATTEMPTS, retry_base=c.BUS_RETRY_BASE_SECONDS,
                        inbox_keep=timedelta(days=c.BUS_INBOX_KEEP_DAYS))

    def worker(self) -> BusWorker:
        c = self.config
        return BusWorker(self.relay(), self.delivery(), c.BUS_URL, c.BUS_EXCHANGE,
                         c.BUS_VISIBILITY_TIMEOUT, tasks=self.background)


def current_kernel() -> Kernel:
    """The kernel of the service whose request this is (`create_service_app` puts it there)."""
    from flask import current_app

    return current_app.extensions["doa"]


def dependency(name: str):
    """One of the dependencies of the service whose request this is, by name (for routes)."""
    return current_kernel().dependencies[name]


def build_kernel(name: str, config: Config, metadata: MetaData, migrations: str,
                 jwks: JwksSource | None = None) -> Kernel:
    """`metadata` is the service's own; the kernel's tables are added to it by the caller's
    models module (see `add_kernel_tables`). `jwks` defaults to fetching JWKS_URL."""
    db = Database(config.database_url(name))
    if config.AUTO_MIGRATE:
        upgrade(db, migrations)
    tables = {key: metadata.tables[f] for key, f in
              (("outbox", "bus_outbox"), ("inbox", "bus_inbox"), ("revocations", "access_revocations"),
               ("idempotency", "idempotency_keys"))}
    if jwks is None:
        if not config.JWKS_URL:
            raise RuntimeError(f"{name}: set JWKS_URL so the service can verify tokens")
        jwks = HttpJwks(config.JWKS_URL)
    verifier = TokenVerifier(jwks, config.TOKEN_ISSUER, revocation_check(db, tables["revocations"]),
                             max_ttl=token_lifetime(config.TOKEN_TTL_SECONDS))
    outbox = Outbox(tables["outbox"], name, _request_id)
    return Kernel(name=name, config=config, db=db, tables=tables, outbox=outbox, verifier=verifier,
                  dependencies={"bus": outbox, "clock": utcnow, "config": config, "db": db})


__all__ = ["Kernel", "build_kernel", "add_kernel_tables", "dependency"]
