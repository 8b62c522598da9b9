"""Signing in with an API key, and what a signed-in organisation or coordinator does here.

The key never stays in the browser readable: the session cookie (HttpOnly, SameSite=Lax,
Secure behind https) holds it encrypted (Fernet, with WEB_SECRET_KEY), and the web front
exchanges it for a short-lived token when the last one is about to expire — with the secret of
the registry's sign-in session (sealed beside it), which the second factor opened: ended in the
registry (the Security page, another device), it makes no more tokens, and the registry refuses
the tokens it made at the next page. Every form carries a CSRF token tied
to the session.
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for

from services.web import dashboard, organisation, security
from services.web.client import ApiError, api
from services.web.pages import signed_in
from services.web.signouts import SignOuts

# The blueprints whose every POST needs the session's CSRF token in its form.
PROTECTED = {"account", "organisation", "dashboard", "security", "hosting", "door"}
# What a page's script (not a form) sends: JSON, the session's token in X-CSRF-Token.
SCRIPTS = {"door.actions"}
# How long the second step of signing in waits for its code or passkey.
SECOND_STEP_SECONDS = 600


# What needs no account and must not ask the registry (files, health checks).
NO_ACCOUNT = {"static", "healthz", "readyz"}


@dataclass(frozen=True)
class SignIns:
    """What sessions need besides the API, one per app: the key that seals what the cookie
    holds, the sessions signed out, and how long a session lasts (seconds from signing in)."""
    fernet: Fernet
    signouts: SignOuts
    lifetime: float


EXTENSION = "doa.web_sign_ins"  # where create_app keeps the app's SignIns


def sign_ins() -> SignIns:
    return current_app.extensions[EXTENSION]


bp = Blueprint("account", __name__)


def token_for(key: str, **body) -> dict:
    """A token for the key (and a second factor, or the registry's session); the browser's
    User-Agent goes along, for the session's name ("Firefox on Android")."""
    return api().post("/api/registry/tokens", json=body, headers={
        "Authorization": f"Bearer {key}", "User-Agent": request.headers.get("User-Agent", "")[:300]})


def seal(text: str) -> str:
    return sign_ins().fernet.encrypt(text.encode()).decode()


def open_(sealed: str) -> str:
    return sign_ins().fernet.decrypt(sealed.encode()).decode()


@bp.before_app_request
def _who():
    """The signed-in caller's token: kept (sealed) in the session until a minute before it
    expires, then made again from the key — not one token request per page."""
    g.token = g.role = g.subject = g.account_error = None
    if not session.get("key") or request.endpoint in NO_ACCOUNT:
        return
    sid, signing = session.get("sid"), sign_ins()
    if not sid or session.get("since", 0) + signing.lifetime < time.time() or signing.signouts.is_signed_out(sid):
        session.clear()  # too old, signed out (a copy of the cookie), or from before sessions had ids
        return
    try:
        if session.get("token_until", 0) > time.time():
            g.token = open_(session["token"])
        else:
            # The registry's sign-in session makes the token: ended there, it makes none.
            issued = token_for(open_(session["key"]), **({"session": open_(session["rsession"])}
                                                         if session.get("rsession") else {}))
            g.token = issued["access_token"]
            session["token"], session["token_until"] = seal(g.token), time.time() + issued["expires_in"] - 60
        me = api().get("/api/registry/me", token=g.token)
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
    factor = me.get("second_factor") or {}
    g.must_enrol = bool(factor.get("required") and not factor.get("enrolled"))


@bp.before_app_request
def _enrol_first():
    """A coordinator without a second factor sees nothing of the signed-in area but where
    to add one."""
    if g.get("must_enrol") and request.path.startswith("/me") and request.blueprint != "security":
        return redirect(url_for("security.page"), 303)


@bp.app_context_processor
def _account():
    return {"csrf": LazyCsrfToken(), "signed_in": g.get("role")}


@bp.before_app_request
def _check_csrf():
    if request.method == "POST" and request.blueprint in PROTECTED:
        sent = request.form.get("csrf", "")
        if request.endpoint in SCRIPTS and request.is_json:  # a page's script sends JSON, its token in a header
            sent = request.headers.get("X-CSRF-Token", "")
        if not sent or not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
            abort(400, "The form is out of date or came from elsewhere: reload the page and send it again.")


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    error = status = None
    if request.method == "POST":
        key = request.form.get("key", "").strip()
        try:
            issued = token_for(key, open_session=True)
        except ApiError as exc:
            if exc.status >= 500:
                raise  # the registry did not answer: not the key's fault (a 502 page)
            if exc.problem.get("type", "").endswith("second-factor-needed"):
                session.clear()  # the key is right: the second step asks for the factor
                session.update(pending=seal(key), pending_since=time.time(), csrf=secrets.token_urlsafe(32),
                               factors=[f for f in exc.problem.get("factors", []) if f in ("totp", "passkey")])
                return redirect(url_for("account.second_factor"), 303)
            # Catalogue keys: the page says it in the reader's language.
            error, status = ("too_many_tries", 429) if exc.status == 429 else ("key_not_valid", 401)
        else:
            return signed_in_with(key, issued)
    return render_template("signin.html", error=error), status if error else 200


def signed_in_with(key: str, issued: dict):
    session.clear()
    session.update(key=seal(key), sid=secrets.token_urlsafe(16), since=time.time(),
                   csrf=secrets.token_urlsafe(32))  # a new session, a new token
    if issued.get("session"):
        session.update(rsession=seal(issued["session"]["secret"]), rsid=issued["session"]["id"],
                       token=seal(issued["access_token"]), token_until=time.time() + issued["expires_in"] - 60)
    return redirect(url_for("account.home"), 303)


def pending_key() -> str | None:
    """The key of a sign-in waiting for its second step, if it is not too old."""
    if not session.get("pending") or session.get("pending_since", 0) + SECOND_STEP_SECONDS < time.time():
        return None
    try:
        return open_(session["pending"])
    except InvalidToken:
        return None


@bp.route("/signin/second-factor", methods=["GET", "POST"])
def second_factor():
    """The second step: the authenticator app's code, a recovery code, or the passkey (its
    answer put into the form by passkeys.js)."""
    key = pending_key()
    if key is None:
        return redirect(url_for("account.signin"), 303)
    error, status, headers = None, 200, {"Cache-Control": "no-store"}  # it carries the form's token
    if request.method == "POST":
        proof = security.proof_of(request.form)
        if not proof:
            error, status = "code_not_right", 422
        else:
            try:
                return signed_in_with(key, token_for(key, **proof))
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                if exc.status == 429:  # wrong answers are counted per key: a minute's wait
                    error, status = "too_many_tries", 429
                    headers["Retry-After"] = "60"
                else:
                    error, status = ("passkey_not_right" if "passkey" in proof else "code_not_right"), 401
    return render_template("second_factor.html", error=error, factors=session.get("factors", [])), status, headers


@bp.post("/signin/passkey-options")
def passkey_sign_in_options():
    """What passkeys.js hands to navigator.credentials.get (a challenge for this key)."""
    security.json_only()
    key = pending_key()
    if key is None:
        abort(401)
    return api().post("/api/registry/tokens/challenge", headers={"Authorization": f"Bearer {key}"})


@bp.post("/signout")
def signout():
    if session.get("sid"):  # a copy of this cookie kept elsewhere signs in no more
        signing = sign_ins()
        signing.signouts.sign_out(session["sid"], session.get("since", 0) + signing.lifetime)
    if session.get("rsid") and g.get("token"):  # nor does the registry's session make tokens
        try:
            api().request("DELETE", f"/api/registry/me/sessions/{session['rsid']}", token=g.token)
        except ApiError:
            pass  # the registry is down: the web's own sign-out above holds, the session expires
    session.clear()
    return redirect("/", 303)


@bp.get("/me")
@signed_in
def home():
    if g.role == "coordinator":
        return render_template("coordinator.html", **dashboard.page(api(), g.token))
    return render_template("organisation.html", **organisation.page(api(), g.token, g.subject), values={},
                           errors={})


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


