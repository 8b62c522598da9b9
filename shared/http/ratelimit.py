"""Rate limits (Flask-Limiter), counted in Redis when the deployment has one, so every
process of a service shares one count."""
from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# One Limiter for every app; each service app registers itself with init_app.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def init_rate_limits(app: Flask, storage_url: str) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = storage_url
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)


def token_limit() -> str:
    return current_app.extensions["doa"].config.TOKEN_RATE_LIMIT
