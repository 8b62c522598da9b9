"""Signing in: an API key (and a second factor, or a sign-in session) for a short-lived token;
the public keys that verify tokens."""
from __future__ import annotations

from flask import g, request

from services.registry import account_schemas, second_factor, service, signin_sessions
from services.registry.account_api import SECRET, holder_of, relying_party, sealer
from shared.auth import AuthError, Principal, parse_api_key
from shared.errors import Unauthenticated
from shared.http.app import PROBLEM_JSON
from shared.http.auth import bearer_token
from shared.http.contract import NO_STORE
from shared.http.problems import PROBLEM_BASE
from shared.http.ratelimit import factor_limit, limiter, token_limit
from shared.http.routes import Blueprint, kernel
from shared.kernel import dependency

tokens = Blueprint("tokens", __name__, url_prefix="",
                   description="Exchange an API key for a short-lived signed token; the public keys.")
KEY_AS_BEARER = {"security": [{"bearer": []}]}


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


def _key_holder(session) -> Principal:
    key = bearer_token()
    if key is None:
        raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
    return service.principal_for_key(session, key)


@tokens.route("/tokens", methods=["POST"])
@limiter.limit(token_limit)
@limiter.limit(factor_limit, key_func=key_id_of_request, deduct_when=lambda _: factor_refused(),
               exempt_when=refreshes_a_session)
@tokens.arguments(account_schemas.TokenIn)
@tokens.response(200, account_schemas.SignedInOut, headers=NO_STORE)
@tokens.alt_response(401, schema=account_schemas.SecondFactorProblem, content_type=PROBLEM_JSON, description=(
    f"No key, a wrong or revoked key; `{PROBLEM_BASE}second-factor-needed` naming the holder's `factors`, "
    f"or `{PROBLEM_BASE}second-factor-refused`."))
@tokens.doc(**KEY_AS_BEARER, requestBody=account_schemas.TOKEN_BODY, description="Send `Authorization: Bearer <API key>`; "
            "the answer follows OAuth 2.0 (RFC 6749 §5.1). A holder with a second factor sends it too "
            "(`otp`, `recovery_code`, or `passkey` with `challenge`) and gets a sign-in `session`, whose "
            "`secret` then makes fresh tokens (`{\"session\": secret}`); without it the answer is 401 "
            "`second-factor-needed` naming the holder's `factors`.")
def issue_token(body):
    """Exchange an API key (and a second factor, or a session) for an access token (at most 15 minutes)."""
    k = kernel()
    with k.db.transaction() as session:
        principal, opened = sign_in(session, _key_holder(session), body, k.config.REGISTRY_SESSION_HOURS)
    token, ttl = dependency("signer").sign(principal)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
    if opened:
        answer["session"] = opened
    return answer, {**SECRET, "Pragma": "no-cache"}


@tokens.route("/tokens/challenge", methods=["POST"])
@limiter.limit(token_limit)
@tokens.response(200, account_schemas.ChallengeOut, headers=NO_STORE)
@tokens.doc(**KEY_AS_BEARER)
def passkey_challenge():
    """A passkey challenge for signing in with the API key: `options` for
    navigator.credentials.get, and the `challenge` id to send back with the answer (5 minutes).
    409 if the holder has no passkey."""
    with kernel().db.transaction() as session:
        principal = _key_holder(session)
        return second_factor.sign_in_challenge(session, holder_of(principal), relying_party()), SECRET


@tokens.route("/.well-known/jwks.json", methods=["GET"])
@tokens.response(200, account_schemas.JwksOut, headers={"Cache-Control": {"description": "`public, max-age=60`",
                                                          "schema": {"type": "string"}}})
def jwks():
    """The public keys that verify access tokens (JWKS)."""
    return dependency("signer").jwks(), {"Cache-Control": "public, max-age=60"}
