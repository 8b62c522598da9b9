"""`GET /api/<service>/me`, on every service: who it takes the caller to be, for anyone
debugging a token (each service verifies tokens itself, so each can be asked)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.fields import UUIDString
from shared.http.routes import Blueprint, kernel, require_principal, requires

blp = Blueprint("caller", __name__, description="The caller, as this service sees the token.")


class SecondFactor(Schema):
    required = fields.Boolean(metadata={"description": "Coordinators must add one."})
    enrolled = fields.Boolean()
    factors = fields.List(fields.String(validate=validate.OneOf(["totp", "passkey"])))


class CallerOut(Schema):
    role = fields.String(validate=validate.OneOf(["organisation", "coordinator"]))
    subject_id = UUIDString(metadata={"description": "The organisation's or coordinator's id."})
    key_id = UUIDString(allow_none=True, metadata={"description": "The API key the token was made with."})
    # What the registry adds from its own records (the other services know only the token).
    amr = fields.List(fields.String(), metadata={
        "description": "Registry only: what the token's holder proved (`key`, `otp`, `hwk`, `rec`)."})
    session_id = UUIDString(allow_none=True, metadata={
        "description": "Registry only: the sign-in session the token came from, if any."})
    second_factor = fields.Nested(SecondFactor, metadata={"description": "Registry only."})


@blp.route("/me", methods=["GET"])
@requires()
@blp.response(200, CallerOut)
def me():
    """Who this service takes the caller to be."""
    principal = require_principal()
    about = kernel().dependencies.get("about_caller")  # the registry adds what it keeps of the holder
    return {"role": principal.role, "subject_id": principal.subject_id, "key_id": principal.key_id,
            **(about(principal) if about else {})}
