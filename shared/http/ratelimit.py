"""Rate limits (Flask-Limiter), counted in Redis when the deployment has one, so every
process of a service shares one count."""
from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

# One Limiter for every app; each service app registers itself with init_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Limits guard writes (token requests); reads skip the check and its cost.
    return request.method in ("GET", "HEAD", "OPTIONS")


class QuietMemoryStorage(MemoryStorage):
    """limits' in-memory counters (`memory://`), without the thread it starts 10 ms after any
    count whenever the last one has ended, to drop expired counters: under steady traffic that
    is a new thread about every 10 ms in each process (a tenth of a sign-up's cost). Each
    counter is still checked for expiry whenever it is read; the others are swept inline, at
    most once a second."""

    STORAGE_SCHEME = ["doa-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        self.timer.cancel()  # the first sweep's, started by the constructor
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private method that starts the thread
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


def storage_uri(storage_url: str) -> str:
    """The limits storage for RATE_LIMIT_STORAGE_URL: `memory://` is counted by QuietMemoryStorage."""
    return "doa-memory://" if storage_url.startswith("memory://") else storage_url


def init_rate_limits(app: Flask, storage_url: str) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(storage_url)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


def token_limit() -> str:
    return current_app.extensions["doa"].config.TOKEN_RATE_LIMIT


def factor_limit() -> str:
    return current_app.extensions["doa"].config.FACTOR_RATE_LIMIT


def subscribe_limit() -> str:
    return current_app.extensions["doa"].config.SUBSCRIBE_RATE_LIMIT


def participate_limit() -> str:
    return current_app.extensions["doa"].config.PARTICIPATE_RATE_LIMIT
