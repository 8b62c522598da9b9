"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
`{msg_id}.{timestamp}.{body}` with a `whsec_` secret, so receivers can use any of the spec's libraries."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64


class InvalidSignature(Exception):
    """A webhook whose signature, or timestamp, does not verify."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    # The reference libraries accept the secret with or without its prefix; so do we.
    encoded = secret.removeprefix(PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is `whsec_` followed by base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}")
    return key


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    # A `.` in the id would let one (id, timestamp) pair pass for another (the spec forbids it).
    if "." in msg_id or not msg_id:
        raise ValueError("a webhook message id must be non-empty and hold no `.`")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("the webhook timestamp is whole seconds since the epoch")
    if not isinstance(body, bytes):
        raise TypeError("the webhook body is signed as the exact bytes sent")
    return "v1," + _digest(_key(secret), msg_id, timestamp, body)


def headers(secret: str | Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The request headers of one attempt. Several secrets (the new one first) sign with each, for a
    rotation without downtime: receivers accept any signature that verifies."""
    keys = [secret] if isinstance(secret, str) else list(secret)
    if not keys:
        raise ValueError("at least one webhook secret is needed")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(key, msg_id, timestamp, body) for key in keys),
        "Content-Type": "application/json",
    }


def _header(headers: Mapping, name: str) -> str:
    value = headers.get(name)
    if value is None:  # a plain dict may spell the name in any case
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        raise InvalidSignature(f"the {name} header is missing")
    return value


def verify(secret: str, headers: Mapping, body: bytes, tolerance_seconds: int = 300, now: float | None = None) -> None:
    """Raise InvalidSignature unless one `v1` signature matches and the timestamp is within tolerance
    (which is what stops a captured request being replayed later)."""
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not stamp.isascii() or not stamp.isdigit():
        raise InvalidSignature("the webhook-timestamp header is not whole seconds since the epoch")
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if timestamp < now - tolerance_seconds:
        raise InvalidSignature("the webhook timestamp is too old")
    if timestamp > now + tolerance_seconds:
        raise InvalidSignature("the webhook timestamp is in the future")
    expected = _digest(_key(secret), msg_id, timestamp, body).encode()
    matched = False
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        # Every candidate is compared, in constant time, so timing says nothing about which matched.
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            matched = True
    if not matched:
        raise InvalidSignature("no webhook signature matches")
