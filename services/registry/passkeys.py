"""Passkeys (WebAuthn) with the `webauthn` library: the options a browser is given, and checking
what it answers. The relying party is the platform's public address (PUBLIC_URL)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

RP_NAME = "dayofaction"
TIMEOUT_MS = 120_000


class PasskeyRefused(Exception):
    """What the browser answered does not prove the passkey."""


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str

    @classmethod
    def of(cls, public_url: str) -> "RelyingParty":
        parts = urlsplit(public_url)
        return cls(rp_id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def registration_options(rp: RelyingParty, holder_id: str, name: str, known: list[str]) -> tuple[dict, str]:
    """(the options for navigator.credentials.create, as JSON; the challenge, base64url)."""
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=RP_NAME, user_id=holder_id.encode(), user_name=name, user_display_name=name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in known])
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def authentication_options(rp: RelyingParty, known: list[str]) -> tuple[dict, str]:
    options = generate_authentication_options(
        rp_id=rp.rp_id, timeout=TIMEOUT_MS, user_verification=UserVerificationRequirement.PREFERRED,
        allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in known])
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def verified_registration(rp: RelyingParty, credential: dict, challenge: str) -> tuple[str, str, int]:
    """(credential id, public key — both base64url —, sign count) of a new passkey."""
    try:
        found = verify_registration_response(credential=credential, expected_challenge=base64url_to_bytes(challenge),
                                             expected_rp_id=rp.rp_id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PasskeyRefused(str(exc)) from None
    return bytes_to_base64url(found.credential_id), bytes_to_base64url(found.credential_public_key), found.sign_count


def verified_sign_count(rp: RelyingParty, credential: dict, challenge: str, public_key: str, sign_count: int) -> int:
    """The passkey's new signature count, if `credential` is its answer to `challenge`."""
    try:
        found = verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge), expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PasskeyRefused(str(exc)) from None
    return found.new_sign_count


def credential_id_of(credential: dict) -> str | None:
    """The credential id a browser's answer names (its `id`, base64url), or None."""
    value = credential.get("id") if isinstance(credential, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 1400 else None
