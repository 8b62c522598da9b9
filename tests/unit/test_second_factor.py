"""The pure parts of the second factor: which code is good when, and only once; recovery
codes as typed; a session's coarse name of the browser, with nothing more in it."""
from __future__ import annotations

import pyotp

from services.registry import totp
from services.registry.signin_sessions import device_label

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_000.0  # a fixed instant: step 60,000,000
STEP = int(NOW // 30)


def code_at(step: int) -> str:
    return pyotp.TOTP(SECRET).generate_otp(step)


def test_now_and_the_steps_either_side_are_good_and_no_further():
    for offset in (-1, 0, 1):
        assert totp.accepted_step(SECRET, code_at(STEP + offset), 0, NOW) == STEP + offset
    assert totp.accepted_step(SECRET, code_at(STEP - 2), 0, NOW) is None
    assert totp.accepted_step(SECRET, code_at(STEP + 2), 0, NOW) is None


def test_a_code_is_good_once_and_an_older_one_after_it_never():
    assert totp.accepted_step(SECRET, code_at(STEP), STEP, NOW) is None  # that step was used
    assert totp.accepted_step(SECRET, code_at(STEP - 1), STEP, NOW) is None  # older than the one used
    assert totp.accepted_step(SECRET, code_at(STEP + 1), STEP, NOW) == STEP + 1  # the next one is fine


def test_codes_are_six_digits_as_typed():
    code = code_at(STEP)
    assert totp.accepted_step(SECRET, f" {code[:3]} {code[3:]} ", 0, NOW) == STEP  # the app shows "123 456"
    for wrong in ("", "12345", "1234567", "abcdef", "१२३४५६"):
        assert totp.accepted_step(SECRET, wrong, 0, NOW) is None


def test_recovery_codes_are_ten_different_and_typed_in_any_case():
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    assert totp.recovery_digest(codes[0]) == totp.recovery_digest(codes[0].upper().replace("-", " "))
    assert totp.recovery_digest(codes[0]) != totp.recovery_digest(codes[1])
    assert codes[0] not in totp.recovery_digest(codes[0])


def test_secrets_are_sealed_with_a_key_kept_apart(tmp_path):
    import pytest
    from cryptography.fernet import Fernet

    totp.Sealer("", tmp_path / "worker")
    assert not (tmp_path / "worker" / "registry-factor.key").exists()  # made only when first needed
    sealer = totp.Sealer("", tmp_path)
    sealed = sealer.seal(SECRET)
    assert SECRET not in sealed and totp.Sealer("", tmp_path).open(sealed) == SECRET  # the same key, kept
    with pytest.raises(totp.SecretUnreadable) as refused:  # another key: said, not a crash
        totp.Sealer(Fernet.generate_key().decode(), tmp_path).open(sealed)
    assert refused.value.status == 503 and "REGISTRY_FACTOR_KEY" in refused.value.detail


def test_a_session_is_named_by_browser_and_system_only():
    assert device_label("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/131.0.0.0 Safari/537.36") == "Chrome on Linux"
    assert device_label("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1") == "Safari on iOS"
    assert device_label("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0") == "Firefox on Android"
    assert device_label("curl/8.5.0") == "curl"
    assert device_label(None) == "Unknown"


def test_passkeys_belong_to_the_public_address():
    from services.registry.passkeys import RelyingParty

    assert RelyingParty.of("https://dayofaction.example.org/") == RelyingParty(
        "dayofaction.example.org", "https://dayofaction.example.org")
    assert RelyingParty.of("http://localhost:8000") == RelyingParty("localhost", "http://localhost:8000")
