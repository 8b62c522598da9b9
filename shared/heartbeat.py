"""Keeping a claim alive while its work goes on: one thread per owner renews, every `interval`
seconds, whatever is held at the moment (a message taken off Redis, e-mails or webhook
deliveries claimed in the database). Claims can then be short: a worker that dies stops
renewing, and its work is taken up again within a lease, not ten minutes later.

    heartbeat = Heartbeat(10, "notify-webhooks")
    with heartbeat.keep(renew):      # renew() is called every 10 s until the block ends
        work()
"""
from __future__ import annotations

import itertools
import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger("doa.heartbeat")


class Heartbeat:
    """One daemon thread, started when first needed, that calls each held `renew` in turn.
    Holding costs a lock and a dict entry, so it is cheap enough for every message."""

    def __init__(self, interval: float, name: str = "heartbeat"):
        self.interval = max(float(interval), 0.05)
        self.name = name
        self._held: dict[int, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def keep(self, renew: Callable[[], None]) -> Iterator[None]:
        key = next(self._ids)
        with self._lock:
            self._held[key] = renew
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-heartbeat", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(key, None)

    def beat(self) -> None:
        """Renew everything held now (the thread does this every `interval`)."""
        with self._lock:
            held = list(self._held.values())
        for renew in held:
            try:
                renew()
            except Exception as exc:  # the broker or the database is away: the next beat tries again
                log.warning("could not renew a claim: %s", exc, extra={"heartbeat": self.name})

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def close(self) -> None:
        self._stop.set()
