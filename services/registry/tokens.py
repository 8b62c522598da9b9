"""Signing access tokens with the registry's Ed25519 keys, serving their public halves, and
rotating them with an overlap.

A rotation adds a new key and schedules the others to retire. The new key is in the JWKS
PUBLISH_BEFORE_USE seconds before it signs anything (every registry process has re-read its
keys by then, so a service that meets its key id finds it); the old ones stay in the JWKS until
no token they signed can still be valid, then their rows — private keys included — are deleted.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registry.models import SigningKey
from shared.audit import record
from shared.auth import ALGORITHM, AUDIENCE, CLOCK_SKEW, JWKS_CACHE_SECONDS, MAX_TOKEN_TTL, HttpJwks, Principal
from shared.bus.outbox import Outbox
from shared.db import Database, forget_after_commit, utcnow

MAX_TTL = MAX_TOKEN_TTL
FIRST_KID = "00000000-0000-4000-8000-000000000001"
JWKS_TTL = 60  # a registry process re-reads its keys (to sign, and its JWKS) this often
# A verifier that fetched the JWKS just before the key appeared asks again after REFRESH_EVERY.
PUBLISH_BEFORE_USE = JWKS_TTL + HttpJwks.REFRESH_EVERY + 20
# The old key keeps verifying while any token it signed may be valid: it may sign until every
# process uses the new key (PUBLISH_BEFORE_USE + JWKS_TTL), its last token lives MAX_TTL (and
# CLOCK_SKEW), and services keep a JWKS JWKS_CACHE_SECONDS.
MIN_OVERLAP = PUBLISH_BEFORE_USE + JWKS_TTL + MAX_TTL + CLOCK_SKEW + JWKS_CACHE_SECONDS
DEFAULT_OVERLAP = 3600


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _live(now: datetime):
    """Keys not retired yet: no retirement set, or one still to come (the overlap)."""
    return or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now)


def erase_retired(session: Session, now: datetime) -> list[str]:
    """Delete the keys whose retirement has come: they leave the JWKS and nothing of their
    private halves stays in the table. Answers their ids."""
    kids = list(session.execute(select(SigningKey.kid).where(SigningKey.retired_at <= now)).scalars())
    if kids:
        session.execute(delete(SigningKey).where(SigningKey.kid.in_(kids)))
        forget_after_commit(session, "signing_keys", rewrite=("signing_keys",))  # no copy left in the files
    return kids


def signing_row(session: Session, now: datetime) -> SigningKey | None:
    """The key to sign with: the newest live key published long enough ago; else (every key
    brand new) the oldest, which services have had the longest chance to know."""
    live = select(SigningKey).where(_live(now)).limit(1)
    published = live.where(SigningKey.created_at <= now - timedelta(seconds=PUBLISH_BEFORE_USE))
    return (session.execute(published.order_by(SigningKey.created_at.desc(), SigningKey.kid)).scalar()
            or session.execute(live.order_by(SigningKey.created_at, SigningKey.kid)).scalar())


@dataclass(frozen=True)
class Rotation:
    new_kid: str
    retiring: dict[str, datetime]  # the old keys' ids and when each leaves the JWKS
    erased: list[str]              # keys whose retirement had come, deleted now


def schedule_retirement(session: Session, outbox: Outbox | None, new_kid: str, overlap: int,
                        now: datetime) -> dict[str, datetime]:
    """Every live key but `new_kid` that has no retirement yet retires `overlap` seconds from now."""
    retire_at = now + timedelta(seconds=overlap)
    old = list(session.execute(select(SigningKey).where(SigningKey.retired_at.is_(None),
                                                        SigningKey.kid != new_kid)).scalars())
    for row in old:
        row.retired_at = retire_at
    if outbox is not None:
        record(session, outbox, None, "registry.signing_key_rotated", "signing_key", new_kid,
               before={"signing_kids": sorted(row.kid for row in old)},
               after={"signing_kid": new_kid, "old_keys_retire_at": retire_at})
    return {row.kid: retire_at for row in old}


def rotate(db: Database, outbox: Outbox, overlap: int = DEFAULT_OVERLAP) -> Rotation:
    """The operator's rotation (`doa registry rotate-signing-key`): a new key, and the old ones
    retired after `overlap` seconds (at least MIN_OVERLAP)."""
    if overlap < MIN_OVERLAP:
        raise ValueError(f"the overlap must be at least {MIN_OVERLAP} seconds, or tokens signed with the "
                         "old key would be refused while still valid")
    now = utcnow()
    with db.transaction() as session:
        erased = erase_retired(session, now)
        row = SigningKey(kid=str(uuid.uuid4()), private_pem=_pem(Ed25519PrivateKey.generate()), created_at=now)
        session.add(row)
        session.flush()
        retiring = schedule_retirement(session, outbox, row.kid, overlap, now)
    return Rotation(new_kid=row.kid, retiring=retiring, erased=erased)


class Signer:
    """Signs with the signing key (`signing_row`); `jwks()` lists every live key. Both are
    re-read every JWKS_TTL seconds, when retired keys are erased too."""

    def __init__(self, db: Database, issuer: str, ttl: int, configured_pem: str = ""):
        self.db = db
        self.issuer = issuer
        self.ttl = min(ttl, MAX_TTL)
        self._lock = threading.Lock()
        self._current: tuple[str, Ed25519PrivateKey] | None = None
        self._jwks: dict | None = None
        self._loaded_at = float("-inf")
        self._configured_pem = configured_pem

    def reload(self) -> None:
        """Read the keys again at the next use (not only after JWKS_TTL)."""
        with self._lock:
            self._loaded_at = float("-inf")

    def _load(self) -> tuple[tuple[str, Ed25519PrivateKey], dict]:
        with self._lock:
            if abs(time.monotonic() - self._loaded_at) > JWKS_TTL:
                try:
                    self._read_keys()
                except IntegrityError:  # another process made the first key at the same time
                    self._read_keys()
                self._loaded_at = time.monotonic()
            return self._current, self._jwks

    def _read_keys(self) -> None:
        now = utcnow()
        with self.db.transaction() as session:
            if self._configured_pem and self._current is None:  # once a process: the setting stays put
                self._ensure_configured(session, now)
            erase_retired(session, now)
            row = signing_row(session, now)
            if row is None:
                # First start: make a key and keep it, so restarts keep tokens valid. The
                # fixed id makes two processes starting together agree on one key.
                row = SigningKey(kid=FIRST_KID, private_pem=_pem(Ed25519PrivateKey.generate()), created_at=now)
                session.add(row)
                session.flush()
            self._current = (row.kid, serialization.load_pem_private_key(row.private_pem.encode(), password=None))
            self._jwks = {"keys": [_public_jwk(live) for live in
                                   session.execute(select(SigningKey).where(_live(now))
                                                   .order_by(SigningKey.created_at)).scalars()]}

    def _ensure_configured(self, session, now: datetime) -> None:
        """REGISTRY_SIGNING_KEY, kept as a key of the table; a new one (the operator changed the
        setting) is a rotation: the other keys retire after the overlap."""
        key = serialization.load_pem_private_key(self._configured_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("REGISTRY_SIGNING_KEY must be an Ed25519 private key in PEM")
        pem = _pem(key)
        if session.execute(select(SigningKey.kid).where(SigningKey.private_pem == pem, _live(now))).first() is None:
            row = SigningKey(kid=str(uuid.uuid4()), private_pem=pem, created_at=now)
            session.add(row)
            session.flush()
            schedule_retirement(session, None, row.kid, DEFAULT_OVERLAP, now)

    def sign(self, principal: Principal) -> tuple[str, int]:
        (kid, key), _ = self._load()
        now = utcnow()
        claims = {"iss": self.issuer, "aud": AUDIENCE, "sub": principal.subject_id,
                  "role": principal.role, "akid": principal.key_id, "iat": now,
                  "exp": now + timedelta(seconds=self.ttl), "jti": str(uuid.uuid4()),
                  "amr": list(principal.amr or ("key",))}
        if principal.session_id:
            claims["sid"] = principal.session_id
        return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid}), self.ttl

    def jwks(self) -> dict:
        return self._load()[1]


def _public_jwk(row: SigningKey) -> dict:
    public = serialization.load_pem_private_key(row.private_pem.encode(), None).public_key()
    return {**OKPAlgorithm.to_jwk(public, as_dict=True), "kid": row.kid, "use": "sig", "alg": ALGORITHM}
