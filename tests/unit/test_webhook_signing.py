"""Standard Webhooks signing: the spec's published test vector, and what verify() refuses."""
from __future__ import annotations

import base64
import hmac

import pytest

from services.notify.webhooks import signing
from services.notify.webhooks.signing import InvalidSignature

# The published Standard Webhooks test vector (the spec's reference libraries test against it).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(signature: str = SIGNATURE) -> dict:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": signature}


def test_sign_reproduces_the_published_test_vector():
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_the_secret_prefix_is_optional_as_in_the_reference_libraries():
    assert signing.sign(SECRET.removeprefix("whsec_"), MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_headers_carry_id_timestamp_signature_and_content_type():
    assert signing.headers(SECRET, MSG_ID, TIMESTAMP, BODY) == {
        "webhook-id": MSG_ID, "webhook-timestamp": "1614265330", "webhook-signature": SIGNATURE,
        "Content-Type": "application/json"}


def test_headers_sign_with_every_secret_during_a_rotation():
    new = signing.new_secret()
    header = signing.headers([new, SECRET], MSG_ID, TIMESTAMP, BODY)["webhook-signature"]
    assert header.split(" ") == [signing.sign(new, MSG_ID, TIMESTAMP, BODY), SIGNATURE]
    signing.verify(SECRET, vector_headers(header), BODY, now=TIMESTAMP)
    signing.verify(new, vector_headers(header), BODY, now=TIMESTAMP)


def test_new_secret_is_whsec_and_32_random_bytes():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_a_new_secret_signs_and_verifies():
    secret = signing.new_secret()
    headers = signing.headers(secret, "msg_1", 1_700_000_000, b"{}")
    signing.verify(secret, headers, b"{}", now=1_700_000_000)


def test_verify_accepts_the_test_vector():
    signing.verify(SECRET, vector_headers(), BODY, now=TIMESTAMP)


def test_verify_accepts_any_matching_signature_among_several_and_skips_other_schemes():
    header = f"v1,bm9wZQ== v1a,c29tZXRoaW5nIGVsc2U= {SIGNATURE}"
    signing.verify(SECRET, vector_headers(header), BODY, now=TIMESTAMP)


def test_verify_reads_header_names_in_any_case():
    headers = {name.title(): value for name, value in vector_headers().items()}
    signing.verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_verify_compares_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    signing.verify(SECRET, vector_headers(), BODY, now=TIMESTAMP)
    assert calls


@pytest.mark.parametrize("headers, body, secret, now, message", [
    (vector_headers(), b'{"test": 2432232315}', SECRET, TIMESTAMP, "no webhook signature matches"),
    (vector_headers(), BODY, "whsec_" + base64.b64encode(b"x" * 24).decode(), TIMESTAMP, "no webhook signature"),
    (vector_headers("v1,bm9wZQ=="), BODY, SECRET, TIMESTAMP, "no webhook signature matches"),
    (vector_headers("v1a," + SIGNATURE[3:]), BODY, SECRET, TIMESTAMP, "no webhook signature matches"),
    ({**vector_headers(), "webhook-id": "msg_other"}, BODY, SECRET, TIMESTAMP, "no webhook signature matches"),
    (vector_headers(), BODY, SECRET, TIMESTAMP + 301, "too old"),
    (vector_headers(), BODY, SECRET, TIMESTAMP - 301, "in the future"),
    ({**vector_headers(), "webhook-timestamp": "1614265330.0"}, BODY, SECRET, TIMESTAMP, "whole seconds"),
    ({"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP)}, BODY, SECRET, TIMESTAMP, "signature header"),
    ({"webhook-signature": SIGNATURE, "webhook-timestamp": str(TIMESTAMP)}, BODY, SECRET, TIMESTAMP, "webhook-id"),
])
def test_verify_refuses(headers, body, secret, now, message):
    with pytest.raises(InvalidSignature, match=message):
        signing.verify(secret, headers, body, now=now)


def test_verify_tolerance_is_adjustable():
    signing.verify(SECRET, vector_headers(), BODY, tolerance_seconds=3600, now=TIMESTAMP + 3000)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode(),
                                    "whsec_" + base64.b64encode(b"x" * 65).decode()])
def test_malformed_secrets_are_programming_errors(secret):
    with pytest.raises(ValueError, match="webhook secret"):
        signing.sign(secret, MSG_ID, TIMESTAMP, BODY)


def test_message_ids_may_not_hold_a_full_stop():
    with pytest.raises(ValueError, match="no `.`"):
        signing.sign(SECRET, "msg.1", TIMESTAMP, BODY)


def test_the_body_is_bytes_and_the_timestamp_whole_seconds():
    with pytest.raises(TypeError):
        signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY.decode())
    with pytest.raises(TypeError):
        signing.sign(SECRET, MSG_ID, float(TIMESTAMP), BODY)
