"""A verifier believes no expiry the signer wrote beyond the platform's token lifetime, and no
token issued in the future; a key id it does not know yet is looked up before refusing."""
from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.auth import AUDIENCE, CLOCK_SKEW, LIFETIME_LEEWAY, AuthError, TokenVerifier, token_lifetime
from shared.config import Config

KEY = Ed25519PrivateKey.generate()
JWK = {**OKPAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1", "alg": "EdDSA"}


def token(issued_ago: float = 0, lives: float = 300, kid: str = "k1", **overrides) -> str:
    iat = int(time.time() - issued_ago)
    claims = {"iss": "issuer", "aud": AUDIENCE, "sub": "org-1", "role": "organisation", "akid": "key-1",
              "iat": iat, "exp": int(iat + lives), **overrides}
    return jwt.encode(claims, KEY, algorithm="EdDSA", headers={"kid": kid})


def verifier(max_ttl: int = 300) -> TokenVerifier:
    return TokenVerifier(lambda: {"keys": [JWK]}, "issuer", max_ttl=max_ttl)


def refused_because(text: str, **kwargs) -> str:
    with pytest.raises(AuthError) as err:
        verifier(**kwargs).verify(text)
    return str(err.value)


def test_a_token_of_the_configured_lifetime_is_accepted():
    assert verifier().verify(token(lives=300)).subject_id == "org-1"
    assert verifier().verify(token(lives=300 + LIFETIME_LEEWAY)).subject_id == "org-1"  # rounding


def test_a_token_that_claims_a_longer_life_is_refused_though_its_signature_is_good():
    assert "longer than 300 seconds" in refused_because(token(lives=301 + LIFETIME_LEEWAY))
    assert "longer than 300 seconds" in refused_because(token(lives=30 * 86400))


def test_the_cap_is_the_configured_ttl_and_never_more_than_fifteen_minutes():
    assert token_lifetime(Config(environ={"TOKEN_TTL_SECONDS": "120"}).TOKEN_TTL_SECONDS) == 120
    assert token_lifetime(Config(environ={"TOKEN_TTL_SECONDS": "86400"}).TOKEN_TTL_SECONDS) == 900
    assert "longer than 120 seconds" in refused_because(token(lives=300), max_ttl=120)


def test_every_service_verifies_with_the_configured_lifetime(tmp_path):
    from services.platform import build_kernels

    config = Config(environ={}, DOA_VAR_DIR=str(tmp_path), TOKEN_TTL_SECONDS=120, LOG_LEVEL="WARNING")
    kernels = build_kernels(config)
    try:
        assert {name: k.verifier.max_ttl for name, k in kernels.items()} == \
            {"registry": 120, "events": 120, "media": 120, "notify": 120}
    finally:
        for k in kernels.values():
            k.db.dispose()


def test_a_token_issued_in_the_future_is_refused_beyond_a_small_clock_skew():
    assert verifier().verify(token(issued_ago=-(CLOCK_SKEW - 5))).subject_id == "org-1"
    assert "issued in the future" in refused_because(token(issued_ago=-(CLOCK_SKEW + 60)))


@pytest.mark.parametrize("claims", [{"iat": "1700000000"}, {"iat": True}, {"exp": "soon"}])
def test_times_that_are_not_numbers_are_refused(claims):
    assert "not valid" in refused_because(token(**claims))


class RotatingJwks:
    """A JWKS source that learns of a new key when asked again (as HttpJwks after refresh)."""

    def __init__(self):
        self.keys, self.refreshed = [], 0

    def __call__(self):
        return {"keys": list(self.keys)}

    def refresh(self):
        self.refreshed += 1
        self.keys = [JWK]
        return True


def test_a_token_of_a_key_not_yet_known_is_verified_after_one_refresh():
    jwks = RotatingJwks()
    principal = TokenVerifier(jwks, "issuer").verify(token())
    assert (principal.subject_id, jwks.refreshed) == ("org-1", 1)
