"""API keys and signed access tokens: the parts every service shares.

The registry issues API keys (shown once, stored as a SHA-256 digest: a key holds 256 bits of
randomness, so a slow password hash would add nothing) and signs short-lived tokens with
Ed25519. Every service verifies tokens itself with the registry's public keys, and refuses
those of revoked keys and suspended organisations it learnt about from the bus.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import jwt
import requests

ROLES = ("coordinator", "organisation")
KEY_PREFIX = "doa_"
ALGORITHM = "EdDSA"
AUDIENCE = "dayofaction"
MAX_TOKEN_TTL = 900  # no token lives longer than 15 minutes, whatever TOKEN_TTL_SECONDS says
# A token's `exp - iat` may exceed the configured lifetime by this much (rounding), and its
# `iat` may lie this far ahead of our clock (the registry's clock runs a little ahead).
LIFETIME_LEEWAY = 5
CLOCK_SKEW = 30
JWKS_CACHE_SECONDS = 300  # how long a service keeps the registry's public keys before asking again


class AuthError(Exception):
    """The caller could not be authenticated (401)."""


@dataclass(frozen=True)
class Principal:
    role: str            # coordinator or organisation
    subject_id: str      # the coordinator's or the organisation's id
    key_id: str          # the API key the token was minted from
    amr: tuple[str, ...] = ()       # what was proven (RFC 8176): "key", and "otp", "hwk" or "rec"
    session_id: str | None = None   # the registry's sign-in session the token came from, if any

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    def owns(self, organisation_id: str) -> bool:
        return self.role == "organisation" and self.subject_id == organisation_id


def new_api_key() -> tuple[str, str]:
    """Answer (key id, the key as the holder uses it)."""
    key_id = str(uuid.uuid4())
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_api_key(key: str) -> tuple[str, str]:
    """Answer (key id, secret) or raise AuthError."""
    if not key.startswith(KEY_PREFIX):
        raise AuthError("not an API key")
    key_id, sep, secret = key[len(KEY_PREFIX):].partition("_")
    try:
        uuid.UUID(key_id)
    except ValueError:
        raise AuthError("not an API key") from None
    if not sep or len(secret) < 20:
        raise AuthError("not an API key")
    return key_id, secret


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def digest_matches(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)


JwksSource = Callable[[], dict]


def token_lifetime(configured: int) -> int:
    """The lifetime of the platform's tokens: TOKEN_TTL_SECONDS, at most MAX_TOKEN_TTL."""
    return min(configured, MAX_TOKEN_TTL)


class TokenVerifier:
    """Verifies access tokens against a JWKS and a revocation check. A token that claims to
    live longer than `max_ttl` is refused: a stolen signing key (or a signer's bug) cannot
    mint tokens that outlive a key's revocation by days."""

    def __init__(self, jwks: JwksSource, issuer: str,
                 is_revoked: Callable[[str, str], bool] = lambda key_id, subject_id: False,
                 max_ttl: int = MAX_TOKEN_TTL):
        self.jwks = jwks
        self.issuer = issuer
        self.is_revoked = is_revoked
        # The registry's own check of sign-in sessions (other services learn of none).
        self.session_ended: Callable[[str], bool] | None = None
        self.max_ttl = max_ttl

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            key = self._key(header.get("kid"))
            claims = jwt.decode(token, key=key, algorithms=[ALGORITHM], issuer=self.issuer,
                                audience=AUDIENCE,
                                options={"require": ["exp", "iat", "iss", "sub", "role", "akid"],
                                         "verify_iat": False})  # checked below, with CLOCK_SKEW
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        self._check_lifetime(claims)
        if claims["role"] not in ROLES:
            raise AuthError("the token names an unknown role")
        amr = claims.get("amr")
        principal = Principal(role=claims["role"], subject_id=claims["sub"], key_id=claims["akid"],
                              amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
                              session_id=claims["sid"] if isinstance(claims.get("sid"), str) else None)
        if self.is_revoked(principal.key_id, principal.subject_id):
            raise AuthError("the key behind this token was revoked or its holder suspended")
        if principal.session_id and self.session_ended is not None and self.session_ended(principal.session_id):
            raise AuthError("the sign-in session of this token was ended")
        return principal

    def _check_lifetime(self, claims: dict) -> None:
        issued, expires = claims["iat"], claims["exp"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (issued, expires)):
            raise AuthError("the token is not valid: iat and exp must be numbers")
        if expires - issued > self.max_ttl + LIFETIME_LEEWAY:
            raise AuthError(f"the token claims to live longer than {self.max_ttl} seconds")
        if issued > time.time() + CLOCK_SKEW:
            raise AuthError("the token was issued in the future")

    def _key(self, kid):
        if not kid:
            raise jwt.InvalidTokenError("no key id")
        entry = self._find(kid)
        refresh = getattr(self.jwks, "refresh", None)
        if entry is None and refresh is not None and refresh():
            entry = self._find(kid)  # the registry may have rotated its key since we last asked
        if entry is None:
            raise jwt.InvalidTokenError("signed by an unknown key")
        return jwt.PyJWK(entry, algorithm=ALGORITHM)

    def _find(self, kid) -> dict | None:
        return next((entry for entry in self.jwks().get("keys", []) if entry.get("kid") == kid), None)


class HttpJwks:
    """The registry's JWKS fetched over HTTP and cached for `ttl` seconds."""

    REFRESH_EVERY = 10

    def __init__(self, url: str, ttl: float = JWKS_CACHE_SECONDS):
        self.url = url
        self.ttl = ttl
        self._keys: dict = {"keys": []}
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> dict:
        with self._lock:
            if time.monotonic() - self._fetched > self.ttl:
                response = requests.get(self.url, timeout=5)
                response.raise_for_status()
                self._keys = response.json()
                self._fetched = time.monotonic()
            return self._keys

    def refresh(self) -> bool:
        """Forget the cache (a token named a key id we do not know yet), at most once in
        REFRESH_EVERY seconds (tokens naming made-up key ids do not make us ask each time).
        Answers whether asking again may find it."""
        with self._lock:
            if time.monotonic() - self._fetched > self.REFRESH_EVERY:
                self._fetched = float("-inf")
                return True
            return False
