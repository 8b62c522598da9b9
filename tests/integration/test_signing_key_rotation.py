"""Rotating the registry's signing key with an overlap: tokens signed before the rotation keep
working in the other services, which fetch the JWKS over HTTP, until the old key retires; new
tokens name the new key; a retired key leaves the JWKS and its private half the table."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from werkzeug.serving import make_server

from services.cli import main
from services.registry import app as registry_app
from services.registry import service as registry_service
from services.registry import tokens
from services.registry.models import SigningKey
from shared.auth import HttpJwks
from shared.config import Config
from shared.db import utcnow
from tests.integration.conftest import ApiClient

JWKS = "/api/registry/.well-known/jwks.json"
CHANGES = "/api/events/events/changes"  # needs a token: events verifies it with the JWKS it fetched


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def kids(answer) -> set[str]:
    return {key["kid"] for key in answer.json["keys"]}


def audit_entries(kernel) -> list[dict]:
    with kernel.db.transaction() as s:
        bodies = [json.loads(b) for b in s.execute(select(kernel.tables["outbox"].c.body)).scalars()]
    return [b["data"] for b in bodies if b["type"] == "audit.recorded"]


@pytest.fixture(params=["sqlite", "postgres"])
def served(make_platform, request):
    """The platform, its registry answering over HTTP; events fetches the JWKS from it."""
    platform = make_platform(db=request.param)
    server = make_server("127.0.0.1", 0, platform.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    events = platform.kernels["events"]
    events.verifier.jwks = HttpJwks(f"http://127.0.0.1:{server.server_port}{JWKS}")
    yield ApiClient(platform)
    server.shutdown()
    thread.join()


def test_tokens_survive_a_rotation_until_the_old_key_retires(served, tmp_path):
    api = served
    registry = api.platform.kernels["registry"]
    signer = registry.dependencies["signer"]
    events_jwks = api.platform.kernels["events"].verifier.jwks
    with registry.db.transaction() as session:
        coordinator = registry_service.create_coordinator(session, "Office")
        _, key = registry_service.issue_key(session, "coordinator", coordinator.id, None)
    before = api.token_for_key(key)
    old_kid = kid_of(before)
    assert api.get(CHANGES, token=before).status_code == 200

    rotation = tokens.rotate(registry.db, registry.outbox)
    signer.reload()
    assert rotation.retiring == {old_kid: rotation.retiring[old_kid]}
    assert rotation.retiring[old_kid] - utcnow() > timedelta(seconds=tokens.MIN_OVERLAP)
    assert kids(api.get(JWKS)) == {old_kid, rotation.new_kid}  # published before it signs
    assert kid_of(api.token_for_key(key)) == old_kid

    # The publication delay passes (for the registry's keys and for events' copy of the JWKS).
    with registry.db.transaction() as session:
        session.execute(update(SigningKey).where(SigningKey.kid == rotation.new_kid)
                        .values(created_at=utcnow() - timedelta(seconds=tokens.PUBLISH_BEFORE_USE)))
    events_jwks._fetched -= tokens.PUBLISH_BEFORE_USE
    signer.reload()
    after = api.token_for_key(key)
    assert kid_of(after) == rotation.new_kid
    assert api.get(CHANGES, token=after).status_code == 200  # events learns the new key on first sight
    assert api.get(CHANGES, token=before).status_code == 200  # the overlap: the old key still verifies

    # The overlap ends.
    with registry.db.transaction() as session:
        old_private = session.get(SigningKey, old_kid).private_pem
        session.execute(update(SigningKey).where(SigningKey.kid == old_kid)
                        .values(retired_at=utcnow() - timedelta(seconds=1)))
    signer.reload()
    assert kids(api.get(JWKS)) == {rotation.new_kid}
    with registry.db.transaction() as session:
        assert list(session.execute(select(SigningKey.kid)).scalars()) == [rotation.new_kid]  # erased
    secret = "".join(old_private.splitlines()[1:-1]).encode()  # the PEM's base64 body
    if registry.db.engine.dialect.name == "sqlite":
        files = list((tmp_path / "var").glob("registry.db*"))
        assert files and not [f.name for f in files if secret in f.read_bytes()]  # nor left in the files
    events_jwks._fetched = float("-inf")  # events' copy of the JWKS expires
    refused = api.get(CHANGES, token=before)
    assert refused.status_code == 401 and "unknown key" in refused.json["detail"]
    assert api.get(CHANGES, token=after).status_code == 200

    [entry] = [e for e in audit_entries(registry) if e["action"] == "registry.signing_key_rotated"]
    assert (entry["actor_role"], entry["subject_id"]) == ("operator", rotation.new_kid)
    assert entry["before"] == {"signing_kids": [old_kid]} and entry["after"]["signing_kid"] == rotation.new_kid
    assert "private" not in json.dumps(entry) and "PRIVATE" not in json.dumps(entry)


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("DOA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("REGISTRY_SIGNING_KEY", raising=False)
    return CliRunner()


def registry_kernel(tmp_path, **settings):
    return registry_app.build(Config(environ={}, DOA_VAR_DIR=str(tmp_path / "var"), **settings))


def live_kids(kernel) -> list[str]:
    return [key["kid"] for key in kernel.dependencies["signer"].jwks()["keys"]]


def test_the_operator_rotates_from_the_command_line(runner, tmp_path):
    first = live_kids(registry_kernel(tmp_path))
    result = runner.invoke(main, ["registry", "rotate-signing-key"])
    assert result.exit_code == 0, result.output
    assert f"old key {first[0]} leaves the JWKS at" in result.output
    kernel = registry_kernel(tmp_path)
    new = [kid for kid in live_kids(kernel) if kid not in first]
    assert len(new) == 1 and f"new signing key {new[0]}" in result.output
    assert [e["action"] for e in audit_entries(kernel)] == ["registry.signing_key_rotated"]


def test_an_overlap_shorter_than_a_token_lives_is_refused_and_changes_nothing(runner, tmp_path):
    first = live_kids(registry_kernel(tmp_path))
    result = runner.invoke(main, ["registry", "rotate-signing-key", "--overlap", "600"])
    assert result.exit_code == 2 and f"at least {tokens.MIN_OVERLAP} seconds" in result.output
    assert live_kids(registry_kernel(tmp_path)) == first


def pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def test_a_configured_key_is_rotated_by_changing_the_setting(runner, tmp_path, monkeypatch):
    old = live_kids(registry_kernel(tmp_path, REGISTRY_SIGNING_KEY=pem()))
    monkeypatch.setenv("REGISTRY_SIGNING_KEY", pem())
    refused = runner.invoke(main, ["registry", "rotate-signing-key"])
    assert refused.exit_code == 1 and "put the new key there" in refused.output
    kernel = registry_kernel(tmp_path, REGISTRY_SIGNING_KEY=pem())
    assert len(live_kids(kernel)) == 2 and live_kids(kernel)[0] == old[0]  # both, during the overlap
    with kernel.db.transaction() as session:
        retiring = session.execute(select(SigningKey.retired_at).where(SigningKey.kid == old[0])).scalar_one()
    assert retiring - utcnow() > timedelta(seconds=tokens.MIN_OVERLAP)
