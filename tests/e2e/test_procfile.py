"""Mode 2 for real: the Procfile under honcho, every service under gunicorn with its worker,
the bus on the real Redis; driven over HTTP like an operator and an organisation would."""
from __future__ import annotations

import subprocess
import time
import uuid

import jwt
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import need
from tests.e2e.conftest import BIN, ROOT, Http, base_env, find_key, free_port, stop_group, wait_http

SERVICES = ("registry", "events", "media", "notify")


@pytest.fixture
def topology(tmp_path):
    need("redis")
    ports = {name: free_port() for name in SERVICES}
    settings = {
        "BUS_URL": "redis://127.0.0.1:6379/13", "BUS_EXCHANGE": f"e2e-{uuid.uuid4().hex[:8]}",
        "JWKS_URL": f"http://127.0.0.1:{ports['registry']}/api/registry/.well-known/jwks.json",
        "DOA_VAR_DIR": tmp_path / "var", "WEB_CONCURRENCY": 1, "WEB_THREADS": 4,
        **{f"{name.upper()}_PORT": port for name, port in ports.items()},
    }
    env_file = tmp_path / "procfile.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    env = base_env(**settings)
    made = subprocess.run([BIN / "doa", "admin", "create-coordinator", "E2E office"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    process = subprocess.Popen([BIN / "honcho", "start", "-f", "Procfile", "-e", str(env_file)], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        for name, port in ports.items():
            wait_http(f"http://127.0.0.1:{port}/api/{name}/readyz", 90, process)
        yield {"ports": ports, "key": find_key(made.stdout), "var": tmp_path / "var", "process": process}
    finally:
        stop_group(process)
        output = process.stdout.read()
        print(output[-5000:])


def test_the_distributed_topology_serves_the_registry_and_spreads_its_messages(topology):
    ports = topology["ports"]
    registry = Http(f"http://127.0.0.1:{ports['registry']}")
    events = Http(f"http://127.0.0.1:{ports['events']}")
    notify = Http(f"http://127.0.0.1:{ports['notify']}")
    coordinator = registry.token(topology["key"])

    created = registry.call("POST", "/api/registry/organisations", token=coordinator, json={
        "abbreviation": "PCC-M", "name": "Partido Comunista de Colombia – Maoista",
        "name_en": "Communist Party of Colombia – Maoist", "country": "CO",
        "timezone": "America/Bogota", "languages": ["es"], "contact_email": "pcc@example.org"})
    assert created.status_code == 201, created.text
    org = created.json()
    listed = registry.call("GET", "/api/registry/organisations?country=CO").json()
    assert [o["name"] for o in listed["items"]] == ["Partido Comunista de Colombia – Maoista"]
    assert "contact_email" not in listed["items"][0]

    key = registry.call("POST", f"/api/registry/organisations/{org['id']}/keys", token=coordinator, json={}).json()["key"]
    token = registry.token(key)
    assert events.call("GET", "/api/events/me", token=token).json()["subject_id"] == org["id"]

    # The registration crossed the bus into the events service's own database.
    engine = create_engine(f"sqlite:///{topology['var']}/events.db")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM known_organisations")).scalars().all()
        if names:
            break
        time.sleep(0.2)
    assert names == ["Partido Comunista de Colombia – Maoista"]

    # Revoking the key: refused by the registry at once, by the others within seconds.
    key_id = jwt.decode(token, options={"verify_signature": False})["akid"]
    assert registry.call("DELETE", f"/api/registry/organisations/{org['id']}/keys/{key_id}",
                         token=coordinator).status_code == 204
    assert registry.call("POST", "/api/registry/tokens", token=key).status_code == 401
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and notify.call("GET", "/api/notify/me", token=token).status_code != 401:
        time.sleep(0.2)
    refused = events.call("GET", "/api/events/me", token=token)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/problem+json"
    assert notify.call("GET", "/api/notify/me", token=token).status_code == 401
