"""A service's bus worker: its outbox relay and its consumer, as threads."""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from shared.bus.connection import connect
from shared.bus.consumer import Delivery, ServiceConsumer
from shared.bus.relay import Relay
from shared.heartbeat import Heartbeat

log = logging.getLogger("doa.bus.worker")


class BusWorker:
    """Runs `relay`, for a service that consumes a consumer of `delivery`, and the service's
    own background `tasks`, each `run(stop_event)` returning when the event is set. The
    consumer's queue is bound as the relay's topology says: one value for both."""

    def __init__(self, relay: Relay, delivery: Delivery | None, bus_url: str,
                 exchange_name: str, visibility_timeout: int = 300,
                 tasks: list[tuple[str, Callable[[threading.Event], None]]] | None = None,
                 housekeeping_interval: float = 600):
        self.relay = relay
        self.delivery = delivery
        self.bus_url = bus_url
        self.exchange_name = exchange_name
        self.visibility_timeout = visibility_timeout
        self.stop_event = threading.Event()
        self.consumer: ServiceConsumer | None = None
        self.threads: list[threading.Thread] = []
        self.tasks = tasks or []
        self.housekeeping_interval = housekeeping_interval
        self.heartbeat: Heartbeat | None = None

    def start(self) -> "BusWorker":
        name = self.delivery.service if self.delivery else "relay"
        self.threads.append(threading.Thread(target=self.relay.run_forever, args=(self.stop_event,),
                                             name=f"{name}-relay", daemon=True))
        if self.delivery is not None and self.delivery.handlers:
            topology = self.relay.topology
            unbound = set(self.delivery.handlers) - set(topology.bound_types(self.delivery.service))
            if unbound:  # they would never arrive
                raise RuntimeError(f"{name} handles {sorted(unbound)} but its queue is not bound to them: "
                                   "the topology was not derived from its handlers (see shared/bus/topology.py)")
            connection = connect(self.bus_url, self.visibility_timeout)
            # Three beats to a visibility timeout: one late beat still keeps a message ours.
            self.heartbeat = Heartbeat(max(self.visibility_timeout / 3, 0.1), f"{name}-consumer")
            self.consumer = ServiceConsumer(connection, self.delivery, topology, heartbeat=self.heartbeat)
            # A short safety interval lets stop() return quickly.
            self.threads.append(threading.Thread(target=self.consumer.run, kwargs={"safety_interval": 0.25},
                                                 name=f"{name}-consumer", daemon=True))
            self.threads.append(threading.Thread(target=self.housekeeping, args=(self.stop_event,),
                                                 name=f"{name}-bus-housekeeping", daemon=True))
        for task_name, run in self.tasks:  # the service's own loops (media processing…)
            self.threads.append(threading.Thread(target=run, args=(self.stop_event,), name=f"{name}-{task_name}",
                                                 daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def housekeeping(self, stop: threading.Event) -> None:
        """The inbox's retention: old handled ids pruned at start and every `housekeeping_interval`."""
        while not stop.is_set():
            try:
                removed = self.delivery.prune_inbox(pause=lambda: stop.wait(0.05))
                if removed:
                    log.info("forgot %d handled message ids older than %s", removed, self.delivery.inbox_keep)
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("could not prune the inbox: %s", exc)
            stop.wait(self.housekeeping_interval)

    def request_stop(self) -> None:
        """Ask the threads to finish; `stop` also waits for them."""
        self.stop_event.set()
        self.relay.wake.set()
        if self.consumer is not None:
            self.consumer.should_stop = True

    def stop(self, timeout: float = 10) -> None:
        self.request_stop()
        for thread in self.threads:
            thread.join(timeout)
        if self.consumer is not None:
            self.consumer.connection.release()
        if self.heartbeat is not None:
            self.heartbeat.close()

    def healthy(self) -> bool:
        """Every thread lives, and the consumer (if any) reaches its broker."""
        return all(t.is_alive() for t in self.threads) and (self.consumer is None or self.consumer.broker_ok)

    def wait(self, heartbeat: Path | None = None) -> None:
        """Block until `request_stop` (a signal handler calls it), touching `heartbeat` every
        two seconds while the worker is `healthy` (a health check reads its age: a worker cut
        off from its broker shows as unhealthy within the check's window); then stop."""
        try:
            while not self.stop_event.wait(2):
                if not all(t.is_alive() for t in self.threads):
                    raise RuntimeError("a bus thread died")
                if heartbeat is not None and self.healthy():
                    heartbeat.touch()
        finally:
            self.stop()
