"""Rate limits (Flask-Limiter), counted in Redis when the deployment has one, so every
process of a service shares one count."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# One Limiter for every app; each service app registers itself with init_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


@limiter.request_filter
def _reads_are_not_limited() -> bool:
    # Limits guard writes (token requests); reads skip the check and its cost.
    return request.method in ("GET", "HEAD", "OPTIONS")


def init_rate_limits(app: Flask, storage_url: str) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = storage_url
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
