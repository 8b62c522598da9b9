"""The session cookie is Secure when the page came over https: PUBLIC_URL says so, or the
request itself did — directly, or through a TLS-terminating proxy whose X-Forwarded-Proto the
app believes (PROXY_HOPS; with 0 no forwarded header is believed, so a visitor cannot make
its cookie lose or gain the flag by sending one)."""
from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface


class SessionOverTls(SecureCookieSessionInterface):
    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
