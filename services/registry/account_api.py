"""The caller's own account in the registry: second factors and sign-in sessions, and what the
token endpoint reads of them. Every route here acts for the token's holder only."""
from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.registry import second_factor, signin_sessions
from services.registry.models import Coordinator, Organisation
from services.registry.schemas import TokenOut
from shared.audit import record
from shared.auth import AuthError, Principal, parse_api_key
from shared.errors import Forbidden
from shared.http.auth import bearer_token, require_principal, requires
from shared.http.dump import json_response
from shared.kernel import current_kernel as kernel

account = Blueprint("account", __name__, url_prefix="/me",
                    description="Your own second factors and sign-in sessions.")


class TokenIn(Schema):
    """What may come with the API key to POST /tokens: at most one proof, or a session."""

    otp = fields.String(validate=validate.Length(max=20), metadata={"description": "The app's six digits."})
    recovery_code = fields.String(validate=validate.Length(max=40))
    passkey = fields.Dict(metadata={"description": "The browser's PublicKeyCredential as JSON (base64url)."})
    challenge = fields.String(validate=validate.Length(max=36),
                              metadata={"description": "The id POST /tokens/challenge answered."})
    session = fields.String(validate=validate.Length(max=100),
                            metadata={"description": "A sign-in session's secret: a fresh token, no factor asked."})
    open_session = fields.Boolean(metadata={"description": "Open a session even without a factor (the web does)."})

    @validates_schema
    def _one_proof(self, data, **kwargs):
        given = [name for name in ("otp", "recovery_code", "passkey", "session") if name in data]
        if len(given) > 1:
            raise ValidationError(f"send one of otp, recovery_code, passkey, session; not {' and '.join(given)}.")
        if "passkey" in data and "challenge" not in data:
            raise ValidationError("a passkey's answer comes with its challenge.", "challenge")


class OpenedSessionOut(Schema):
    id = fields.String()
    secret = fields.String(metadata={"description": "Shown this once; send it as `session` for fresh tokens."})
    expires_at = fields.String()


class SignedInOut(TokenOut):
    session = fields.Nested(OpenedSessionOut, metadata={"description": "When a sign-in session opened."})


class CodeIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))


class PasskeyIn(Schema):
    challenge = fields.String(required=True, validate=validate.Length(max=36))
    credential = fields.Dict(required=True)
    label = fields.String(validate=validate.Length(max=100))


def holder_of(principal: Principal) -> second_factor.Holder:
    return principal.role, principal.subject_id


def sealer():
    return current_app.extensions["doa.sealer"]


def relying_party():
    return current_app.extensions["doa.rp"]


def sign_in(session, principal: Principal, body: dict, hours: int) -> tuple[Principal, dict | None]:
    """The token's principal (what was proven, which session) and a new session, if one opened."""
    holder = holder_of(principal)
    if body.get("session"):
        row = signin_sessions.resume(session, holder, principal.key_id, body["session"])
        return Principal(principal.role, principal.subject_id, principal.key_id, tuple(row.amr), row.id), None
    proofs = {name: body[name] for name in ("otp", "recovery_code", "passkey", "challenge") if name in body}
    if proofs or second_factor.enrolled(session, holder):
        try:
            amr = ["key", second_factor.prove(session, holder, proofs, sealer(), relying_party())]
        except second_factor.FactorRefused:
            g.factor_refused = True  # counted by the per-key limit of wrong answers
            raise
    elif body.get("open_session"):
        amr = ["key"]
    else:
        return principal, None
    row, secret = signin_sessions.open_session(session, holder, principal.key_id, amr,
                                               request.headers.get("User-Agent"), hours)
    opened = {"id": row.id, "secret": secret, "expires_at": row.expires_at.isoformat()}
    return Principal(principal.role, principal.subject_id, principal.key_id, tuple(amr), row.id), opened


def factor_refused() -> bool:
    return bool(g.get("factor_refused"))


def refreshes_a_session() -> bool:
    """A token asked for with a sign-in session alone proves nothing new: wrong answers of
    someone else holding the key must not lock its owner's signed-in browser out."""
    body = request.get_json(silent=True)
    return isinstance(body, dict) and bool(body.get("session")) and not any(
        body.get(name) is not None for name in ("otp", "recovery_code", "passkey"))


def key_id_of_request() -> str:
    """Wrong factor answers are counted per API key, wherever they come from (never an address)."""
    try:
        return "factor:" + parse_api_key(bearer_token() or "")[0]
    except AuthError:
        return "factor:none"


def about_caller(principal: Principal) -> dict:
    """What GET /me adds: what the token proved, and whether the holder must still add a factor."""
    with kernel().db.transaction() as session:
        enrolled = second_factor.enrolled(session, holder_of(principal))
    return {"amr": list(principal.amr), "session_id": principal.session_id,
            "second_factor": {"required": second_factor.required(holder_of(principal)),
                              "enrolled": bool(enrolled), "factors": enrolled}}


def _proven(session, principal: Principal, what: str = "change your factors") -> None:
    """Changing factors or ending sessions needs a token that proved one, once the holder has
    any (a token made with the key alone before the first factor was set up does not)."""
    if second_factor.enrolled(session, holder_of(principal)) and not second_factor.SECOND_FACTORS & set(principal.amr):
        raise Forbidden(f"Sign in with your second factor to {what}.")


def _name_of(session, principal: Principal) -> str:
    owner = session.get(Coordinator if principal.is_coordinator else Organisation, principal.subject_id)
    name = getattr(owner, "name", None) or principal.subject_id
    return f"{name} ({principal.role})"


def _record(session, principal: Principal, action: str, after: dict | None = None) -> None:
    record(session, kernel().outbox, principal, action, principal.role, principal.subject_id, after=after)


@account.route("/factors")
@requires()
def factors():
    """Your second factors: the app (never its secret), recovery codes left, passkeys."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        return json_response(second_factor.describe(session, holder_of(principal)))


@account.route("/factors/totp")
class Totp(MethodView):
    @requires()
    def post(self):
        """Start setting up an authenticator app: its secret and otpauth URI (the same while
        unconfirmed; never shown once confirmed)."""
        principal = require_principal()
        with kernel().db.transaction() as session:
            _proven(session, principal)
            begun = second_factor.begin_totp(session, holder_of(principal), _name_of(session, principal), sealer())
        return json_response(begun, 200, {"Cache-Control": "no-store"})

    @requires()
    @account.response(204)
    def delete(self):
        """Remove the authenticator app (a coordinator's last factor stays)."""
        principal = require_principal()
        with kernel().db.transaction() as session:
            _proven(session, principal)
            second_factor.remove_totp(session, holder_of(principal))
            _record(session, principal, "account.factor_removed", {"factor": "totp"})


@account.route("/factors/totp/confirmation", methods=["POST"])
@requires()
@account.arguments(CodeIn)
def confirm_totp(body):
    """Confirm the app with its current code: it counts from now; answers ten recovery codes,
    shown this once. The caller's session counts as having proven it."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        codes = second_factor.confirm_totp(session, holder_of(principal), body["code"], sealer())
        signin_sessions.add_proof(session, principal.session_id, "otp")
        _record(session, principal, "account.factor_added", {"factor": "totp"})
    return json_response({"recovery_codes": codes}, 200, {"Cache-Control": "no-store"})


@account.route("/factors/recovery-codes", methods=["POST"])
@requires()
def renew_recovery_codes():
    """Ten new recovery codes, shown this once; the old ones stop working."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        _proven(session, principal)
        if not second_factor.enrolled(session, holder_of(principal)):
            raise Forbidden("Recovery codes come with a second factor: add one first.")
        codes = second_factor.new_recovery_codes(session, holder_of(principal))
        _record(session, principal, "account.recovery_codes_renewed")
    return json_response({"recovery_codes": codes}, 200, {"Cache-Control": "no-store"})


@account.route("/factors/passkeys/options", methods=["POST"])
@requires()
def passkey_options():
    """Options for navigator.credentials.create, and the id of their challenge (5 minutes)."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        _proven(session, principal)
        options = second_factor.passkey_options(session, holder_of(principal), _name_of(session, principal),
                                                relying_party())
    return json_response(options, 200, {"Cache-Control": "no-store"})


@account.route("/factors/passkeys", methods=["POST"])
@requires()
@account.arguments(PasskeyIn)
def add_passkey(body):
    """Keep a passkey the browser made for the options' challenge. A first factor also answers
    ten recovery codes, shown this once; the caller's session counts as having proven it."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        _proven(session, principal)
        key, codes = second_factor.add_passkey(session, holder_of(principal), body, relying_party())
        signin_sessions.add_proof(session, principal.session_id, "hwk")
        _record(session, principal, "account.factor_added", {"factor": "passkey", "label": key.label})
        answer = {"id": key.id, "label": key.label, "created_at": key.created_at.isoformat(),
                  "recovery_codes": codes}
    return json_response(answer, 201, {"Cache-Control": "no-store"})


@account.route("/factors/passkeys/<uuid:passkey_id>", methods=["DELETE"])
@requires()
@account.response(204)
def remove_passkey(passkey_id):
    """Remove a passkey (a coordinator's last factor stays)."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        _proven(session, principal)
        key = second_factor.remove_passkey(session, holder_of(principal), str(passkey_id))
        _record(session, principal, "account.factor_removed", {"factor": "passkey", "label": key.label})


def _present(row, current: str | None) -> dict:
    return {"id": row.id, "label": row.label, "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat(), "expires_at": row.expires_at.isoformat(),
            "current": row.id == current}


@account.route("/sessions")
class Sessions(MethodView):
    @requires()
    def get(self):
        """Your live sign-in sessions, the newest used first; `current` is the token's own."""
        principal = require_principal()
        with kernel().db.transaction() as session:
            rows = signin_sessions.live(session, holder_of(principal))
            return json_response({"items": [_present(r, principal.session_id) for r in rows]})

    @requires()
    def delete(self):
        """End every session of yours but the token's own."""
        principal = require_principal()
        with kernel().db.transaction() as session:
            _proven(session, principal, "end sessions")
            ended = signin_sessions.end_others(session, holder_of(principal), principal.session_id)
            _record(session, principal, "account.sessions_ended", {"ended": ended})
        return json_response({"ended": ended})


@account.route("/sessions/<uuid:session_id>", methods=["DELETE"])
@requires()
@account.response(204)
def end_session(session_id):
    """End one session: it makes no more tokens, and the registry refuses its tokens at once."""
    principal = require_principal()
    with kernel().db.transaction() as session:
        _proven(session, principal, "end sessions")
        signin_sessions.end(session, holder_of(principal), str(session_id))
        _record(session, principal, "account.session_ended", {"session_id": str(session_id)})
