"""What the token endpoint and the caller's own account (/me/…) accept and answer."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validates_schema

from services.registry.schemas import strings
from services.registry.second_factor import MAX_PASSKEYS
from shared.fields import Text, UUIDString
from shared.http.pagination import page_schema
from shared.http.problems import ProblemSchema

PROOFS = ("otp", "recovery_code", "passkey", "session")


def _otp(**kw):
    return Text(max_length=20, metadata={"description": "The authenticator app's six digits."}, **kw)


def _recovery_code(**kw):
    return Text(max_length=40, metadata={"description": "One of the ten recovery codes (case, spaces and "
                                                        "dashes do not count)."}, **kw)


def _passkey(**kw):
    return fields.Dict(metadata={"description": "The browser's PublicKeyCredential as JSON (base64url)."}, **kw)


def _challenge(**kw):
    return UUIDString(metadata={"description": "The `challenge` id the options were answered with."}, **kw)


def _session(**kw):
    return Text(max_length=100, metadata={"description": "A sign-in session's secret: a fresh token, no factor "
                                                         "asked."}, **kw)


def _open_session():
    return fields.Boolean(metadata={"description": "Open a session even without a factor (the web does)."})


class TokenIn(Schema):
    """What may come with the API key to POST /tokens: at most one proof, or a session (the
    document states it as `oneOf` the proofs below)."""

    otp = _otp()
    recovery_code = _recovery_code()
    passkey = _passkey()
    challenge = _challenge()
    session = _session()
    open_session = _open_session()

    @validates_schema
    def _one_proof(self, data, **kwargs):
        given = [name for name in PROOFS if name in data]
        if len(given) > 1:
            raise ValidationError(f"send one of otp, recovery_code, passkey, session; not {' and '.join(given)}.")
        if "passkey" in data and "challenge" not in data:
            raise ValidationError("a passkey's answer comes with its challenge.", "challenge")


class KeyAlone(Schema):
    """The key alone (or an empty object): a token, if the holder has no second factor."""

    open_session = _open_session()


class OtpProof(KeyAlone):
    otp = _otp(required=True)


class RecoveryCodeProof(KeyAlone):
    recovery_code = _recovery_code(required=True)


class PasskeyProof(KeyAlone):
    passkey = _passkey(required=True)
    challenge = _challenge(required=True)


class SessionProof(KeyAlone):
    session = _session(required=True)


TOKEN_BODY = {"required": False, "content": {"application/json": {"schema": {
    "oneOf": [KeyAlone, OtpProof, RecoveryCodeProof, PasskeyProof, SessionProof]}}}}


class OpenedSessionOut(Schema):
    id = UUIDString()
    secret = fields.String(metadata={"description": "Shown this once; send it as `session` for fresh tokens."})
    expires_at = fields.String()


class TokenOut(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class SignedInOut(TokenOut):
    session = fields.Nested(OpenedSessionOut, metadata={"description": "When a sign-in session opened."})


class SecondFactorProblem(ProblemSchema):
    """`second-factor-needed` (with `factors`), `second-factor-refused`, or `unauthenticated`."""

    factors = fields.List(fields.String(), metadata={"description": "`totp`, `passkey`: what the holder has."})


class CodeIn(Schema):
    code = Text(required=True, max_length=20, metadata={"description": "The app's current six digits."})


class PasskeyIn(Schema):
    challenge = UUIDString(required=True, metadata={"description": "The id POST …/passkeys/options answered."})
    credential = fields.Dict(required=True, metadata={
        "description": "What navigator.credentials.create answered, as JSON (base64url)."})
    label = Text(max_length=100)


class ChallengeOut(Schema):
    challenge = fields.String(metadata={"description": "Send it back with the browser's answer (5 minutes)."})
    options = fields.Dict(metadata={"description": "For navigator.credentials.create or .get, as JSON."})


class TotpBegunOut(Schema):
    secret = fields.String(metadata={"description": "Base32; the same until confirmed, never shown after."})
    uri = fields.String(metadata={"description": "otpauth:// for a QR code."})


class RecoveryCodesOut(Schema):
    recovery_codes = fields.List(fields.String(), metadata={"description": "Ten codes, each good once; shown this once."})


class PasskeyOut(Schema):
    id = UUIDString()
    label = fields.String()
    created_at = fields.AwareDateTime(format="iso")
    last_used_at = fields.AwareDateTime(format="iso", allow_none=True)


class PasskeyCreatedOut(PasskeyOut, RecoveryCodesOut):
    """The new passkey; `recovery_codes` are new codes when it is the first factor (else empty)."""


PasskeyPage = page_schema(PasskeyOut)


class TotpStateOut(Schema):
    enrolled = fields.Boolean()
    created_at = fields.AwareDateTime(format="iso", allow_none=True, metadata={"description": "When confirmed."})


class FactorsOut(Schema):
    required = fields.Boolean(metadata={"description": "Coordinators must have a second factor."})
    enrolled = fields.List(fields.String(), metadata={"description": "`totp`, `passkey`"})
    totp = fields.Nested(TotpStateOut)
    recovery_codes_left = fields.Integer()
    passkeys = fields.List(fields.Nested(PasskeyOut), metadata={
        "description": f"At most {MAX_PASSKEYS}, the oldest first (as GET …/factors/passkeys lists them)."})


class SessionOut(Schema):
    id = UUIDString()
    label = fields.String(metadata={"description": "A browser and a system (\"Firefox on Android\"), never an address."})
    created_at = fields.AwareDateTime(format="iso")
    last_used_at = fields.AwareDateTime(format="iso")
    expires_at = fields.AwareDateTime(format="iso")
    current = fields.Boolean(metadata={"description": "The session of the token that asks."})


SessionPage = page_schema(SessionOut)


class EndedOut(Schema):
    ended = fields.Integer(metadata={"description": "How many sessions ended."})


JwkOut = strings("JwkOut", "kty", "crv", "x", "kid", "use", "alg")


class JwksOut(Schema):
    keys = fields.List(fields.Nested(JwkOut), metadata={"description": "Pick the key by the token's `kid`."})
