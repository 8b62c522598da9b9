"""Authenticator-app codes (TOTP, RFC 6238) and one-time recovery codes: the pure parts.

A code is good for its 30-second step and the steps either side (clocks drift), and only once:
the caller keeps the newest step accepted and passes it back, so a code seen over a shoulder or
phished is of no use a second time.
"""
from __future__ import annotations

import hmac
import secrets
import time
from pathlib import Path

import pyotp
from cryptography.fernet import Fernet, InvalidToken

from shared.auth import digest
from shared.errors import DomainError

STEP = 30
DRIFT = 1  # steps accepted either side of now
RECOVERY_CODES = 10
ISSUER = "dayofaction"


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, last_step: int, now: float | None = None) -> int | None:
    """The step `code` is right for, if it is newer than `last_step`; else None."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like `3f9a2-c81d0` (40 bits each: guessing is stopped by the rate limit)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_digest(code: str) -> str:
    """What is stored of a recovery code: case, spaces and dashes do not count."""
    return digest("".join(ch for ch in code.lower() if ch.isalnum()))


class SecretUnreadable(DomainError):
    """A sealed secret that this key does not open: the key was changed or lost (a setup fault)."""

    status = 503
    type_ = "unavailable"


class Sealer:
    """Seals TOTP secrets for the database with a key kept elsewhere (configured, or a file made
    when first needed: a process that never seals, such as a worker, makes none)."""

    def __init__(self, configured: str, var_dir: Path):
        self.configured, self.path = configured, var_dir / "registry-factor.key"
        self._fernet: Fernet | None = None

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            self._fernet = Fernet(self.configured.encode() if self.configured else _key_file(self.path))
        return self._fernet

    def seal(self, text: str) -> str:
        return self.fernet.encrypt(text.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self.fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("The registry cannot read authenticator-app secrets: REGISTRY_FACTOR_KEY "
                                   "(or var/registry-factor.key) is not the one they were sealed with. Sign in "
                                   "with a recovery code or passkey, or ask the operator.") from None


def _key_file(path: Path) -> bytes:
    """Made once; created exclusively, so processes starting together agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as f:
                f.write(Fernet.generate_key())
            path.chmod(0o600)
        except FileExistsError:
            pass
    for _ in range(50):  # another process may be writing it this instant
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.05)
    raise RuntimeError(f"{path} is empty")
