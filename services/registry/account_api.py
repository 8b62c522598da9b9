"""The caller's own account in the registry: second factors and sign-in sessions. Every route
here acts for the token's holder only."""
from __future__ import annotations

from contextlib import contextmanager

from flask import url_for

from services.registry import account_schemas, second_factor, signin_sessions
from services.registry.models import Coordinator, Organisation, Passkey, SignInSession
from shared.auth import Principal
from shared.errors import Forbidden
from shared.http.contract import LOCATION, NO_STORE
from shared.http.pagination import keyset_page, lists, page_body
from shared.http.routes import Blueprint, MethodView, kernel, record, require_principal, requires
from shared.kernel import dependency

account = Blueprint("account", __name__, url_prefix="/me",
                    description="Your own second factors and sign-in sessions.")
SECRET = {"Cache-Control": "no-store"}


def holder_of(principal: Principal) -> second_factor.Holder:
    return principal.role, principal.subject_id


def sealer():
    return dependency("sealer")


def relying_party():
    return dependency("relying_party")


def about_caller(principal: Principal) -> dict:
    """What GET /me adds: what the token proved, and whether the holder must still add a factor."""
    holder = holder_of(principal)
    with kernel().db.transaction() as session:
        enrolled = second_factor.enrolled(session, holder)
    return {"amr": list(principal.amr), "session_id": principal.session_id,
            "second_factor": {"required": second_factor.required(holder),
                              "enrolled": bool(enrolled), "factors": enrolled}}


@contextmanager
def own_account(proven: str | None = "change your factors"):
    """(session, principal, holder) of the caller's account in one transaction. `proven`: what needs a
    token that proved a second factor, once the holder has any (a token made with the key alone
    before the first factor was set up does not)."""
    principal = require_principal()
    holder = holder_of(principal)
    with kernel().db.transaction() as session:
        if proven and second_factor.enrolled(session, holder) and not second_factor.SECOND_FACTORS & set(principal.amr):
            raise Forbidden(f"Sign in with your second factor to {proven}.")
        yield session, principal, holder


def with_a_secret(schema, status: int = 200):
    """The caller's own route whose answer holds a secret (documented and sent as `no-store`)."""
    def decorate(view):
        return requires()(account.response(status, schema, headers=NO_STORE)(view))
    return decorate


def own_list(page_schema):
    """The caller's own list route (passkeys, sessions): paged, any token of theirs reads it."""
    def decorate(view):
        return requires()(lists(account, page_schema)(view))
    return decorate


def _name_of(session, principal: Principal) -> str:
    owner = session.get(Coordinator if principal.is_coordinator else Organisation, principal.subject_id)
    name = getattr(owner, "name", None) or principal.subject_id
    return f"{name} ({principal.role})"


def _record(session, principal: Principal, action: str, after: dict | None = None) -> None:
    record(session, kernel().outbox, principal, action, principal.role, principal.subject_id, after=after)


@account.route("/factors", methods=["GET"])
@requires()
@account.response(200, account_schemas.FactorsOut)
def factors():
    """Your second factors: the app (never its secret), recovery codes left, passkeys."""
    with own_account(proven=None) as (session, principal, holder):
        return second_factor.describe(session, holder)


@account.route("/factors/totp")
class Totp(MethodView):
    @with_a_secret(account_schemas.TotpBegunOut)
    def post(self):
        """Start setting up an authenticator app: its secret and otpauth URI (the same while
        unconfirmed; never shown once confirmed: 409)."""
        with own_account() as (session, principal, holder):
            return second_factor.begin_totp(session, holder, _name_of(session, principal),
                                            sealer()), SECRET

    @requires()
    @account.response(204)
    def delete(self):
        """Remove the authenticator app (a coordinator's last factor stays: 409)."""
        with own_account() as (session, principal, holder):
            second_factor.remove_totp(session, holder)
            _record(session, principal, "account.factor_removed", {"factor": "totp"})
        return ""


@account.route("/factors/totp/confirmation", methods=["POST"])
@with_a_secret(account_schemas.RecoveryCodesOut)
@account.arguments(account_schemas.CodeIn)
def confirm_totp(body):
    """Confirm the app with its current code: it counts from now; answers ten recovery codes,
    shown this once. The caller's session counts as having proven it. A wrong code: 422 `rule`
    naming `code`."""
    with own_account(proven=None) as (session, principal, holder):
        codes = second_factor.confirm_totp(session, holder, body["code"], sealer())
        signin_sessions.add_proof(session, principal.session_id, "otp")
        _record(session, principal, "account.factor_added", {"factor": "totp"})
    return {"recovery_codes": codes}, SECRET


@account.route("/factors/recovery-codes", methods=["POST"])
@with_a_secret(account_schemas.RecoveryCodesOut)
def renew_recovery_codes():
    """Ten new recovery codes, shown this once; the old ones stop working."""
    with own_account() as (session, principal, holder):
        if not second_factor.enrolled(session, holder):
            raise Forbidden("Recovery codes come with a second factor: add one first.")
        codes = second_factor.new_recovery_codes(session, holder)
        _record(session, principal, "account.recovery_codes_renewed")
    return {"recovery_codes": codes}, SECRET


@account.route("/factors/passkeys/options", methods=["POST"])
@with_a_secret(account_schemas.ChallengeOut)
def passkey_options():
    """Options for navigator.credentials.create, and the id of their challenge (5 minutes)."""
    with own_account() as (session, principal, holder):
        return second_factor.passkey_options(session, holder, _name_of(session, principal),
                                             relying_party()), SECRET


@account.route("/factors/passkeys")
class Passkeys(MethodView):
    @own_list(account_schemas.PasskeyPage)
    def get(self, args):
        """Your passkeys, the oldest first (never a public key)."""
        with own_account(proven=None) as (session, _, holder):
            return page_body(*keyset_page(session, second_factor.passkeys_of(holder),
                                          [Passkey.created_at, Passkey.id], args))

    @requires()
    @account.arguments(account_schemas.PasskeyIn)
    @account.response(201, account_schemas.PasskeyCreatedOut, headers={**LOCATION, **NO_STORE})
    def post(self, body):
        """Keep a passkey the browser made for the options' challenge. A first factor also answers
        ten recovery codes, shown this once; the caller's session counts as having proven it. An
        unknown or expired challenge, or an answer that makes no passkey: 422 `rule` naming
        `challenge` or `credential`."""
        with own_account() as (session, principal, holder):
            key, codes = second_factor.add_passkey(session, holder, body, relying_party())
            signin_sessions.add_proof(session, principal.session_id, "hwk")
            _record(session, principal, "account.factor_added", {"factor": "passkey", "label": key.label})
        key.recovery_codes = codes  # shown this once; never stored
        return key, {"Location": url_for("account.PasskeyById", passkey_id=key.id), **SECRET}


@account.route("/factors/passkeys/<uuid:passkey_id>")
class PasskeyById(MethodView):
    @requires()
    @account.response(200, account_schemas.PasskeyOut)
    def get(self, passkey_id):
        """One of your passkeys."""
        with own_account(proven=None) as (session, principal, holder):
            return second_factor.passkey_of(session, holder, str(passkey_id))

    @requires()
    @account.response(204)
    def delete(self, passkey_id):
        """Remove a passkey (a coordinator's last factor stays: 409)."""
        with own_account() as (session, principal, holder):
            key = second_factor.remove_passkey(session, holder, str(passkey_id))
            _record(session, principal, "account.factor_removed", {"factor": "passkey", "label": key.label})
        return ""


@account.route("/sessions")
class Sessions(MethodView):
    @own_list(account_schemas.SessionPage)
    def get(self, args):
        """Your live sign-in sessions, the most recently used first; `current` is the token's own."""
        with own_account(proven=None) as (session, principal, holder):
            rows, next_url = keyset_page(session, signin_sessions.live(holder),
                                         [SignInSession.last_used_at, SignInSession.id], args, descending=True)
            for row in rows:
                row.current = row.id == principal.session_id
            return page_body(rows, next_url)

    @requires()
    @account.response(200, account_schemas.EndedOut)
    def delete(self):
        """End every session of yours but the token's own."""
        with own_account("end sessions") as (session, principal, holder):
            ended = signin_sessions.end_others(session, holder, principal.session_id)
            _record(session, principal, "account.sessions_ended", {"ended": ended})
        return {"ended": ended}


@account.route("/sessions/<uuid:session_id>", methods=["DELETE"])
@requires()
@account.response(204)
def end_session(session_id):
    """End one session: it makes no more tokens, and the registry refuses its tokens at once."""
    with own_account("end sessions") as (session, principal, holder):
        signin_sessions.end(session, holder, str(session_id))
        _record(session, principal, "account.session_ended", {"session_id": str(session_id)})
    return ""
