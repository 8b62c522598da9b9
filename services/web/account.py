"""Signing in with an API key, and what a signed-in organisation or coordinator does here.

The key never stays in the browser readable: the session cookie (HttpOnly, SameSite=Lax,
Secure behind https) holds it encrypted (Fernet, with WEB_SECRET_KEY), and the web front
exchanges it for a short-lived token at each request. Every form carries a CSRF token tied
to the session.
"""
from __future__ import annotations

import hmac
import secrets
import time

from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from services.web import audit_log, dashboard, organisation
from services.web.client import Api, ApiError
from services.web.pages import signed_in
from services.web.signouts import SignOuts

# The blueprints whose every POST needs the session's CSRF token in its form.
PROTECTED = {"account", "organisation", "dashboard"}


# What needs no account and must not ask the registry (files, health checks).
NO_ACCOUNT = {"static", "healthz", "readyz"}


def register(app, api: Api, fernet: Fernet, signouts: SignOuts, hours: int) -> None:
    """Signing in, the organisation area and the coordinator dashboard; a session lasts
    `hours` from signing in."""
    for bp in (blueprint(api, fernet, signouts, hours * 3600), organisation.blueprint(api), dashboard.blueprint(api), audit_log.blueprint(api)):
        app.register_blueprint(bp)


def blueprint(api: Api, fernet: Fernet, signouts: SignOuts, lifetime: float) -> Blueprint:
    bp = Blueprint("account", __name__)

    def token_for(key: str) -> dict:
        return api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"})

    def seal(text: str) -> str:
        return fernet.encrypt(text.encode()).decode()

    def open_(sealed: str) -> str:
        return fernet.decrypt(sealed.encode()).decode()

    @bp.before_app_request
    def _who():
        """The signed-in caller's token: kept (sealed) in the session until a minute before it
        expires, then made again from the key — not one token request per page."""
        g.token = g.role = g.subject = g.account_error = None
        if not session.get("key") or request.endpoint in NO_ACCOUNT:
            return
        sid = session.get("sid")
        if not sid or session.get("since", 0) + lifetime < time.time() or signouts.is_signed_out(sid):
            session.clear()  # too old, signed out (a copy of the cookie), or from before sessions had ids
            return
        try:
            if session.get("token_until", 0) > time.time():
                g.token = open_(session["token"])
            else:
                issued = token_for(open_(session["key"]))
                g.token = issued["access_token"]
                session["token"], session["token_until"] = seal(g.token), time.time() + issued["expires_in"] - 60
            me = api.get("/api/registry/me", token=g.token)
        except InvalidToken:  # sealed with another secret
            session.clear()
            return
        except ApiError as exc:
            if exc.status in (400, 401, 403):  # a revoked key, a suspended organisation
                session.clear()
            else:  # the registry is down or busy: the session stays, pages that need it say so
                g.account_error = exc
            return
        g.role, g.subject = me["role"], me["subject_id"]

    @bp.app_context_processor
    def _account():
        return {"csrf": LazyCsrfToken(), "signed_in": g.get("role")}

    @bp.before_app_request
    def _check_csrf():
        if request.method == "POST" and request.blueprint in PROTECTED:
            sent = request.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
                abort(400, "The form is out of date or came from elsewhere: reload the page and send it again.")

    @bp.route("/signin", methods=["GET", "POST"])
    def signin():
        error = status = None
        if request.method == "POST":
            key = request.form.get("key", "").strip()
            try:
                token_for(key)
            except ApiError as exc:
                if exc.status >= 500:
                    raise  # the registry did not answer: not the key's fault (a 502 page)
                # Catalogue keys: the page says it in the reader's language.
                error, status = ("too_many_tries", 429) if exc.status == 429 else ("key_not_valid", 401)
            else:
                session.clear()
                session.update(key=seal(key), sid=secrets.token_urlsafe(16), since=time.time(),
                               csrf=secrets.token_urlsafe(32))  # a new session, a new token
                return redirect(url_for("account.home"), 303)
        return render_template("signin.html", error=error), status if error else 200

    @bp.post("/signout")
    def signout():
        if session.get("sid"):  # a copy of this cookie kept elsewhere signs in no more
            signouts.sign_out(session["sid"], session.get("since", 0) + lifetime)
        session.clear()
        return redirect("/", 303)

    @bp.get("/me")
    @signed_in
    def home():
        if g.role == "coordinator":
            return render_template("coordinator.html", **dashboard.page(api, g.token))
        return render_template("organisation.html", **organisation.page(api, g.token, g.subject), values={},
                               errors={})

    return bp


def csrf_token() -> str:
    """The session's CSRF token, made when a form first needs one: a page without such a form
    (the public site, to a reader who never signs in) sets no cookie at all."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


class LazyCsrfToken:
    """`{{ csrf }}` in a template: the token, made only if the template writes it."""

    def __str__(self) -> str:
        return csrf_token()

    __html__ = __str__


def session_settings(app, secure: bool) -> None:
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
                      SESSION_COOKIE_NAME="doa_session")


