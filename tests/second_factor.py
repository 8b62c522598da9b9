"""Authenticator-app codes for tests: each code a test types is for a step not used before
(the registry takes a code once), as a person waiting for the app's next code would."""
from __future__ import annotations

import time

import pyotp

_last_step: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """A right code for `secret` that was not used yet: now's, or the next step's (which the
    registry accepts for clock drift); waits for the step after if both were used."""
    while True:
        now = int(time.time() // 30)
        step = max(now, _last_step.get(secret, now - 1) + 1)
        if step <= now + 1:
            _last_step[secret] = step
            return pyotp.TOTP(secret).generate_otp(step)
        time.sleep(1)  # both this step's and the next one's codes went: the app's next one


def secret_of(text: str) -> str:
    """The secret a page or an answer shows beside its QR code (base32, in groups or not)."""
    import re

    found = re.search(r'data-totp-secret="([A-Z2-7]+)"', text) or re.search(r"secret=([A-Z2-7]+)", text)
    assert found, "no authenticator secret on the page"
    return found.group(1)


def wrong_code(secret: str) -> str:
    """Six digits that are not a right code for `secret` now (nor a step either side)."""
    totp = pyotp.TOTP(secret)
    now = int(time.time() // 30)
    right = {totp.generate_otp(step) for step in range(now - 1, now + 3)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444") if code not in right)
