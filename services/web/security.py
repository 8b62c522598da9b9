"""The Security page of the signed-in area: second factors (an authenticator app with its QR
code, passkeys, recovery codes shown once) and where one is signed in (each session can be
ended; this one is marked). A coordinator without a factor is sent here before anything else."""
from __future__ import annotations

import json

import segno
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from markupsafe import Markup

from services.web.client import ApiError, api
from services.web.pages import act, refusal_page, signed_in, wants_a_page

FACTORS = "/api/registry/me/factors"
SESSIONS = "/api/registry/me/sessions"
CREDENTIAL_LENGTH = 64 * 1024  # a passkey's answer as JSON: a few kilobytes at most


def proof_of(form) -> dict:
    """What the second step's form proves: a passkey's answer (with its challenge), the app's six
    digits, or a recovery code; {} for nothing usable."""
    if form.get("passkey"):
        credential = _json_object(form["passkey"])
        return {"passkey": credential, "challenge": form.get("challenge", "")[:36]} if credential else {}
    code = "".join(form.get("code", "").split())[:40]
    if not code:
        return {}
    return {"otp": code} if code.isascii() and code.isdigit() else {"recovery_code": code}


def _json_object(text: str) -> dict | None:
    if len(text) > CREDENTIAL_LENGTH:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def json_only() -> None:
    """The passkey options are for passkeys.js (it asks for JSON); a form sent to them is refused."""
    if wants_a_page() or not request.accept_mimetypes.accept_json:
        abort(406, "This address answers passkeys.js, in JSON.")


def qr_svg(uri: str, title: str = "QR code") -> Markup:
    """A URI (the otpauth one, a sign-up's private link) as an inline SVG QR code, made here: no
    outside service sees the secret."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff",
                                                        title=title, omitsize=True))


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


bp = Blueprint("security", __name__, url_prefix="/me/security")


def show_codes(codes: list[str]):
    """Recovery codes are shown once, on the next page: kept in the sealed cookie until then."""
    if codes:
        session["recovery_codes"] = codes
        return redirect(url_for("security.recovery_codes"), 303)
    return redirect(url_for("security.page"), 303)


def fresh_token() -> None:
    """The factor just added counts in this session: the next page makes a token that says so."""
    session["token_until"] = 0


@bp.get("")
@signed_in
def page():
    factors = api().get(FACTORS, token=g.token)
    sessions = [] if g.must_enrol else api().get(SESSIONS, token=g.token)["items"]
    return render_template("security.html", factors=factors, sessions=sessions, must_enrol=g.must_enrol)


@bp.route("/app", methods=["GET", "POST"])
@signed_in
def app():
    """Set up an authenticator app: its QR code and secret, then its first code."""
    error = None
    if request.method == "POST":
        try:
            codes = api().post(f"{FACTORS}/totp/confirmation", token=g.token,
                               json={"code": request.form.get("code", "")[:20]})["recovery_codes"]
        except ApiError as exc:
            if exc.status != 422:
                return refusal_page(exc)
            error = "code_not_right"
        else:
            fresh_token()
            flash("factor_added", "done")
            return show_codes(codes)
    try:
        begun = api().post(f"{FACTORS}/totp", token=g.token)
    except ApiError as exc:
        return refusal_page(exc)
    return render_template("totp_enrol.html", qr=qr_svg(begun["uri"]), secret=begun["secret"],
                           grouped_secret=grouped(begun["secret"]), error=error), 422 if error else 200


@bp.post("/app/removal")
@signed_in
def remove_app():
    return act(lambda: api().request("DELETE", f"{FACTORS}/totp", token=g.token), "/me/security", "factor_removed")


@bp.get("/recovery-codes")
@signed_in
def recovery_codes():
    codes = session.pop("recovery_codes", None)
    if not codes:
        return redirect(url_for("security.page"), 303)
    return render_template("recovery_codes.html", codes=codes)


@bp.post("/recovery-codes")
@signed_in
def renew_recovery_codes():
    try:
        codes = api().post(f"{FACTORS}/recovery-codes", token=g.token)["recovery_codes"]
    except ApiError as exc:
        return refusal_page(exc)
    return show_codes(codes)


@bp.post("/passkeys/options")
@signed_in
def passkey_options():
    """What passkeys.js hands to navigator.credentials.create."""
    json_only()
    return api().post(f"{FACTORS}/passkeys/options", token=g.token)


@bp.post("/passkeys")
@signed_in
def add_passkey():
    credential = _json_object(request.form.get("passkey", ""))
    if credential is None:
        abort(400, "The passkey's answer is missing: passkeys need JavaScript.")
    try:
        added = api().post(f"{FACTORS}/passkeys", token=g.token, json={
            "challenge": request.form.get("challenge", "")[:36], "credential": credential,
            "label": request.form.get("label", "").strip()[:100] or "Passkey"})
    except ApiError as exc:
        return refusal_page(exc)
    fresh_token()
    flash("factor_added", "done")
    return show_codes(added.get("recovery_codes") or [])


@bp.post("/passkeys/<uuid:passkey_id>/removal")
@signed_in
def remove_passkey(passkey_id):
    return act(lambda: api().request("DELETE", f"{FACTORS}/passkeys/{passkey_id}", token=g.token),
               "/me/security", "factor_removed")


@bp.post("/sessions/<uuid:session_id>/end")
@signed_in
def end_session(session_id):
    return act(lambda: api().request("DELETE", f"{SESSIONS}/{session_id}", token=g.token),
               "/me/security", "session_ended")


@bp.post("/sessions/others/end")
@signed_in
def end_other_sessions():
    return act(lambda: api().request("DELETE", SESSIONS, token=g.token), "/me/security", "sessions_ended")
