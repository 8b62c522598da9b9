"""What the attack review found at the web front and its keys: a 429 says when to try again;
the session cookie is Secure behind a TLS-terminating proxy (and only a trusted proxy's word
counts); API keys show when they were last used, a write at most once a minute per key."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.registry import service as registry_service
from services.registry.models import ApiKey
from services.web import wsgi
from shared.config import Config
from shared.db import utcnow
from tests.integration.conftest import ApiClient
from tests.integration.test_web_account import csrf_of, sign_in

FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}


def visitor() -> dict:
    """A client address of this test's own: one rate limiter counts for every app in the process."""
    return {"REMOTE_ADDR": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}


@pytest.fixture
def api(make_platform):
    return ApiClient(make_platform(SUBSCRIBE_RATE_LIMIT="1/hour"))


def test_too_many_sign_ins_say_when_to_try_again_as_the_registry_said(make_platform):
    api = ApiClient(make_platform(TOKEN_RATE_LIMIT="2/hour"))
    address = visitor()
    page = api.get("/signin", environ_base=address)
    answers = [api.post("/signin", data={"key": "doa_nonsense", "csrf": csrf_of(page)}, headers=FORM,
                        environ_base=address) for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    # The registry's own wait (most of an hour), not a guess of the web front's.
    assert 60 < int(answers[-1].headers["Retry-After"]) <= 3600


def test_too_many_subscriptions_say_when_to_try_again(api, notify_campaign):
    address = visitor()

    def subscribe(n: int):
        return api.post(f"/campaigns/{notify_campaign}/subscription", data={"email": f"reader{n}@example.org"},
                        headers=FORM, environ_base=address)

    first, second = subscribe(1), subscribe(2)
    assert (first.status_code, second.status_code) == (303, 429)
    assert 60 < int(second.headers["Retry-After"]) <= 3600
    assert "Retry-After" not in first.headers


def web_front(tmp_path, **settings):
    """The web front on its own, as gunicorn runs it (the sign-in page asks no service)."""
    config = Config(environ={}, DOA_VAR_DIR=str(tmp_path), WEB_API_URL="http://127.0.0.1:9", LOG_LEVEL="WARNING",
                    **settings)
    return wsgi.create_app(config).test_client(use_cookies=False)  # each request a new visitor


def session_cookie(answer) -> str:
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("doa_session=")]
    return cookie


def test_behind_a_trusted_tls_proxy_the_session_cookie_is_secure(tmp_path):
    client = web_front(tmp_path, PROXY_HOPS=1)
    behind_tls = client.get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in session_cookie(behind_tls).split("; ")
    plain = client.get("/signin")  # the proxy says http: the cookie may travel unencrypted, so no flag
    assert "Secure" not in session_cookie(plain).split("; ")


def test_the_language_cookie_is_secure_behind_tls_too(tmp_path):
    answer = web_front(tmp_path, PROXY_HOPS=1).get("/signin?lang=de", headers={"X-Forwarded-Proto": "https"})
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert "Secure" in cookie.split("; ")


def test_without_a_trusted_proxy_a_forwarded_scheme_is_ignored(tmp_path):
    client = web_front(tmp_path)
    answer = client.get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in session_cookie(answer).split("; ")
    https_site = web_front(tmp_path, PUBLIC_URL="https://day.example.org")
    assert "Secure" in session_cookie(https_site.get("/signin")).split("; ")  # as before


def test_the_embedded_platform_believes_its_proxy_too(make_platform):
    api = ApiClient(make_platform(PROXY_HOPS=1))
    answer = api.get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in session_cookie(answer).split("; ")


def last_used(api, key_id: str):
    with api.platform.kernels["registry"].db.transaction() as session:
        return session.get(ApiKey, key_id).last_used_at


def test_a_key_records_its_last_use_at_most_once_a_minute(make_platform):
    api = ApiClient(make_platform())
    with api.platform.kernels["registry"].db.transaction() as session:
        coordinator = registry_service.create_coordinator(session, "Office")
        row, key = registry_service.issue_key(session, "coordinator", coordinator.id, None)
    assert last_used(api, row.id) is None
    api.token_for_key(key)
    first = last_used(api, row.id)
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    api.token_for_key(key)
    assert last_used(api, row.id) == first  # no write for every token
    with api.platform.kernels["registry"].db.transaction() as session:
        session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=first - timedelta(minutes=2)))
    api.token_for_key(key)
    assert last_used(api, row.id) > first - timedelta(seconds=1)


def test_an_organisation_and_a_coordinator_see_when_each_key_was_last_used(make_platform, tmp_path):
    api = ApiClient(make_platform())
    coordinator = api.coordinator_token()
    organisation = api.register(coordinator)
    key, _ = api.organisation_token(coordinator, organisation["id"])  # used: exchanged for a token
    unused = api.post(f"/api/registry/organisations/{organisation['id']}/keys", token=coordinator,
                      json={"label": "spare"}).json
    listed = api.get(f"/api/registry/organisations/{organisation['id']}/keys", token=coordinator).json["items"]
    used_at = {k["id"]: k["last_used_at"] for k in listed}
    assert used_at[unused["id"]] is None and used_at[key.split("_")[1]] is not None

    assert sign_in(api, key).status_code == 303
    own = api.get("/me/keys").data.decode()
    assert "Last used" in own and f"{used_at[key.split('_')[1]][:16].replace('T', ' ')} UTC" in own
    assert "spare" in own and "Never" in own
    assert api.get(f"/me/organisations/{organisation['id']}/keys").status_code == 403  # coordinators only

    office = ApiClient(api.platform)
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, office_key = registry_service.issue_key(session, "coordinator", person.id, "laptop")
    assert sign_in(office, office_key).status_code == 303
    assert f"/me/organisations/{organisation['id']}/keys" in office.get("/me/organisations").data.decode()
    theirs = office.get(f"/me/organisations/{organisation['id']}/keys").data.decode()
    assert organisation["abbreviation"] in theirs and "spare" in theirs and "Never" in theirs
    assert f"{used_at[key.split('_')[1]][:16].replace('T', ' ')} UTC" in theirs
    mine = office.get("/me/keys").data.decode()
    assert "laptop" in mine and "Never" not in mine  # signing in used it
