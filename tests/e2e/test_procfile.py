"""Mode 2 for real: the Procfile under honcho, every service under gunicorn with its worker,
the bus on the real Redis, and the web front reading them over HTTP; driven over HTTP like an
operator, an organisation and the public would."""
from __future__ import annotations

import re
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
    web_port = free_port()
    settings = {
        "BUS_URL": "redis://127.0.0.1:6379/13", "BUS_EXCHANGE": f"e2e-{uuid.uuid4().hex[:8]}",
        "JWKS_URL": f"http://127.0.0.1:{ports['registry']}/api/registry/.well-known/jwks.json",
        "DOA_VAR_DIR": tmp_path / "var", "WEB_CONCURRENCY": 1, "WEB_THREADS": 4,
        **{f"{name.upper()}_PORT": port for name, port in ports.items()}, "WEB_PORT": web_port,
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
        wait_http(f"http://127.0.0.1:{web_port}/readyz", 60, process)  # it asks each service in turn
        yield {"ports": ports, "web": web_port, "key": find_key(made.stdout), "var": tmp_path / "var",
               "process": process}
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


def test_the_distributed_topology_serves_the_public_site(topology):
    """The web front under gunicorn, with no gateway: the Procfile's WEB_API_URL sends each
    /api/<service>/ call to that service's own port."""
    ports = topology["ports"]
    registry = Http(f"http://127.0.0.1:{ports['registry']}")
    events = Http(f"http://127.0.0.1:{ports['events']}")
    web = Http(f"http://127.0.0.1:{topology['web']}")
    office = registry.token(topology["key"])
    made = events.call("POST", "/api/events/campaigns", token=office, json={
        "name": "Global day against imperialist war", "description": "The call, as it will be published.",
        "languages": ["en"], "day_of_action": "2027-05-01", "window_start": "2027-04-25",
        "window_end": "2027-05-10", "status": "open"})
    assert made.status_code == 201, made.text
    campaign = made.json()

    ready = web.call("GET", "/readyz")
    assert ready.status_code == 200 and ready.json()["services"] == {name: 200 for name in SERVICES}, ready.text

    home = web.call("GET", "/")
    assert home.status_code == 200 and home.headers["Content-Type"].startswith("text/html"), home.text[:500]
    assert "Global day against imperialist war" in home.text and f"/campaigns/{campaign['id']}" in home.text

    page = web.call("GET", f"/campaigns/{campaign['id']}")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"), page.text[:500]
    assert "Global day against imperialist war" in page.text and "The call, as it will be published." in page.text
    assert f"/api/events/campaigns/{campaign['id']}/events.ics" in page.text
    assert web.call("GET", f"/campaigns/{uuid.uuid4()}").status_code == 404

    # With no gateway, the pages' /api/ links answer on the web's port: relayed, as they came.
    feed = web.call("GET", f"/api/events/campaigns/{campaign['id']}/events.ics")
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    assert feed.text.startswith("BEGIN:VCALENDAR")
    relayed = web.call("POST", "/api/registry/tokens", token=topology["key"])
    assert relayed.status_code == 200 and relayed.json()["token_type"].lower() == "bearer", relayed.text
    refused = web.call("PATCH", f"/api/events/campaigns/{campaign['id']}", token=relayed.json()["access_token"],
                       json={"day_of_action": "not a date"})
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    assert web.call("GET", "/api/nowhere/x").status_code == 404

    # Signing in asks the registry; the session is sealed with the key file the workers share.
    form = web.call("GET", "/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    signed_in = web.call("POST", "/signin", data={"csrf": csrf, "key": topology["key"]}, allow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text[:500]
    # A coordinator without a second factor is sent to set one up before anything else.
    assert web.call("GET", "/me", allow_redirects=False).headers["Location"].endswith("/me/security")
    assert web.call("GET", "/me/security", allow_redirects=False).status_code == 200
    assert (topology["var"] / "web-secret.key").exists()


def test_the_web_front_refuses_to_start_without_the_apis(tmp_path):
    """gunicorn stops (it does not boot the worker again and again) and says what is missing."""
    env = base_env(DOA_VAR_DIR=tmp_path / "var", WEB_CONCURRENCY=1)
    env.pop("WEB_API_URL", None)
    started = subprocess.run([BIN / "gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind",
                              f"127.0.0.1:{free_port()}", "services.web.wsgi:create_app()"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "WEB_API_URL is empty" in started.stderr, started.stderr[-2000:]
