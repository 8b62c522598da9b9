from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from shared.auth import AUDIENCE, AuthError, TokenVerifier, digest, digest_matches, new_api_key, parse_api_key

KEY = Ed25519PrivateKey.generate()
JWKS = {"keys": [{**OKPAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1", "alg": "EdDSA"}]}


def token(key=KEY, kid="k1", **overrides):
    now = datetime.now(timezone.utc)
    claims = {"iss": "issuer", "aud": AUDIENCE, "sub": "org-1", "role": "organisation",
              "akid": "key-1", "iat": now, "exp": now + timedelta(minutes=15), **overrides}
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def verifier(revoked=()):
    return TokenVerifier(lambda: JWKS, "issuer", lambda key_id, sub: key_id in revoked or sub in revoked)


def test_a_valid_token_names_its_holder():
    principal = verifier().verify(token())
    assert (principal.role, principal.subject_id, principal.key_id) == ("organisation", "org-1", "key-1")
    assert principal.owns("org-1") and not principal.owns("org-2") and not principal.is_coordinator


@pytest.mark.parametrize("bad,reason", [
    (lambda: token(exp=datetime.now(timezone.utc) - timedelta(seconds=1)), "expired"),
    (lambda: token(iss="someone-else"), "not valid"),
    (lambda: token(aud="other"), "not valid"),
    (lambda: token(kid="unknown"), "unknown key"),
    (lambda: token(key=Ed25519PrivateKey.generate()), "not valid"),
    (lambda: token(role="admin"), "unknown role"),
    (lambda: "not-a-token", "not valid"),
    (lambda: jwt.encode({"sub": "x"}, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256",
                        headers={"kid": "k1"}), "not valid"),
])
def test_bad_tokens_are_refused_with_a_reason(bad, reason):
    with pytest.raises(AuthError) as err:
        verifier().verify(bad())
    assert reason in str(err.value)


def test_tokens_of_revoked_keys_and_suspended_holders_are_refused():
    with pytest.raises(AuthError):
        verifier(revoked={"key-1"}).verify(token())
    with pytest.raises(AuthError):
        verifier(revoked={"org-1"}).verify(token())


def test_api_keys_parse_and_only_their_digest_is_compared():
    key_id, key = new_api_key()
    parsed_id, secret = parse_api_key(key)
    assert parsed_id == key_id and secret not in digest(secret)
    assert digest_matches(secret, digest(secret)) and not digest_matches(secret + "x", digest(secret))


@pytest.mark.parametrize("bad", ["", "doa_", "doa_not-a-uuid_secretsecretsecretsecret", "Bearer x",
                                 "doa_6f1c7a48-4ad5-4b8c-9d6f-0d9b1f0c9a11_short"])
def test_malformed_api_keys_are_refused(bad):
    with pytest.raises(AuthError):
        parse_api_key(bad)
