"""Signing access tokens with the registry's Ed25519 key, and serving its public half."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.registry.models import SigningKey
from shared.auth import ALGORITHM, AUDIENCE, Principal
from shared.db import Database, utcnow

MAX_TTL = 900
FIRST_KID = "00000000-0000-4000-8000-000000000001"
JWKS_TTL = 60


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


class Signer:
    """Signs with the newest signing key; `jwks()` lists every key not retired."""

    def __init__(self, db: Database, issuer: str, ttl: int, configured_pem: str = ""):
        self.db = db
        self.issuer = issuer
        self.ttl = min(ttl, MAX_TTL)
        self._lock = threading.Lock()
        self._current: tuple[str, Ed25519PrivateKey] | None = None
        self._jwks: dict | None = None
        self._jwks_at = 0.0
        self._configured_pem = configured_pem

    def _load(self) -> tuple[str, Ed25519PrivateKey]:
        with self._lock:
            if self._current is None:
                try:
                    row = self._newest_or_create()
                except IntegrityError:  # another process made the first key at the same time
                    row = self._newest_or_create()
                key = serialization.load_pem_private_key(row.private_pem.encode(), password=None)
                self._current = (row.kid, key)
            return self._current

    def _newest_or_create(self) -> SigningKey:
        with self.db.transaction() as session:
            if self._configured_pem:
                self._ensure_configured(session)
            row = session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))
                                  .order_by(SigningKey.created_at.desc()).limit(1)).scalar()
            if row is None:
                # First start: make a key and keep it, so restarts keep tokens valid. The
                # fixed id makes two processes starting together agree on one key.
                row = SigningKey(kid=FIRST_KID, private_pem=_pem(Ed25519PrivateKey.generate()))
                session.add(row)
            return row

    def _ensure_configured(self, session) -> None:
        key = serialization.load_pem_private_key(self._configured_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("REGISTRY_SIGNING_KEY must be an Ed25519 private key in PEM")
        pem = _pem(key)
        if session.execute(select(SigningKey.kid).where(SigningKey.private_pem == pem)).first() is None:
            session.add(SigningKey(kid=str(uuid.uuid4()), private_pem=pem, created_at=utcnow()))
            session.flush()

    def sign(self, principal: Principal) -> tuple[str, int]:
        kid, key = self._load()
        now = utcnow()
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": principal.subject_id,
                  "role": principal.role, "akid": principal.key_id, "iat": now,
                  "exp": now + timedelta(seconds=self.ttl), "jti": str(uuid.uuid4())}
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}), self.ttl

    def jwks(self) -> dict:
        if self._jwks is None or time.monotonic() - self._jwks_at > JWKS_TTL:
            self._load()
            with self.db.transaction() as session:
                rows = session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None))).scalars()
                keys = []
                for row in rows:
                    public = serialization.load_pem_private_key(row.private_pem.encode(), None).public_key()
                    jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
                    keys.append({**jwk, "kid": row.kid, "use": "sig", "alg": ALGORITHM})
            self._jwks = {"keys": keys}
            self._jwks_at = time.monotonic()
        return self._jwks
