"""Integration fixtures: whole platforms in this process, on SQLite or the real PostgreSQL,
over the in-process bus, the real Redis or the real RabbitMQ."""
from __future__ import annotations

import email
import importlib
import os
import uuid
from email import policy

import pytest
from aiosmtpd.controller import Controller
from kombu import Connection
from sqlalchemy import create_engine, text
from werkzeug.test import Client

from services.events.places import keep_place_secret
from services.platform import TOPOLOGY, EmbeddedPlatform
from services.registry import service as registry_service
from shared.config import SERVICES, Config
from tests.conftest import AMQP_URL, PG_ADMIN_URL, REDIS_URL, free_port, need, wait_until

BUS_URLS = {"memory": "memory://", "redis": REDIS_URL, "amqp": AMQP_URL}


@pytest.fixture(scope="session")
def pg_databases():
    """One PostgreSQL database per service for this test session, dropped at its end."""
    need("postgres")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    prefix = f"doa_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    urls = {}
    with admin.connect() as conn:
        for name in SERVICES:
            conn.execute(text(f'CREATE DATABASE "{prefix}_{name}"'))
            urls[name] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}_{name}"
    yield urls
    with admin.connect() as conn:
        for name in SERVICES:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(platform: EmbeddedPlatform) -> None:
    for kernel in platform.kernels.values():
        with kernel.db.engine.begin() as conn:
            names = [t.name for t in reversed(kernel.tables["outbox"].metadata.sorted_tables)]
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def make_platform(tmp_path, exchange_name, request):
    """Build a platform: make_platform(bus="memory"|"redis"|"amqp", db="sqlite"|"postgres")."""
    made: list[EmbeddedPlatform] = []
    used_urls: set[str] = set()

    def make(bus: str = "memory", db: str = "sqlite", **overrides) -> EmbeddedPlatform:
        if bus != "memory":
            need(bus)
        settings = dict(DOA_VAR_DIR=str(tmp_path / "var"), BUS_URL=BUS_URLS[bus],
                        BUS_EXCHANGE=exchange_name, LOG_FORMAT="text", LOG_LEVEL="WARNING",
                        BUS_RELAY_INTERVAL=0.05, BUS_RETRY_BASE_SECONDS=0.05,
                        BUS_VISIBILITY_TIMEOUT=2,
                        # One limiter counts for every app in this process: keep tests apart.
                        TOKEN_RATE_LIMIT="10000/minute", SUBSCRIBE_RATE_LIMIT="10000/minute")
        if db == "postgres":
            urls = request.getfixturevalue("pg_databases")
            settings.update({f"{n.upper()}_DATABASE_URL": u for n, u in urls.items()})
        settings.update(overrides)
        platform = EmbeddedPlatform(Config(environ={}, **settings))
        if db == "postgres" and not made:
            _truncate_all(platform)  # the databases live for the session; each test starts empty
            keep_place_secret(platform.kernels["events"])  # as events makes it when it starts, emptied with the rest
        made.append(platform)
        used_urls.add(settings["BUS_URL"])
        return platform

    yield make
    for platform in made:
        platform.stop()
    for url in used_urls - {"memory://"}:
        try:
            with Connection(url, connect_timeout=2) as conn:
                channel = conn.channel()
                for queue in TOPOLOGY.all_queues(exchange_name):
                    queue(channel).delete()
        except Exception:  # a broker of the test's own may be gone already
            pass


class ApiClient:
    """The platform over HTTP (WSGI, in process), with helpers for tokens."""

    def __init__(self, platform: EmbeddedPlatform):
        self.platform = platform
        self.http = Client(platform.wsgi)

    def request(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def token_for_key(self, key: str) -> str:
        response = self.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.json
        return response.json["access_token"]

    def coordinator_token(self) -> str:
        kernel = self.platform.kernels["registry"]
        with kernel.db.transaction() as session:
            coordinator = registry_service.create_coordinator(session, "Test office")
            _, key = registry_service.issue_key(session, "coordinator", coordinator.id, None)
        return self.token_for_key(key)

    def register(self, token: str, **fields) -> dict:
        body = {"abbreviation": "CPK", "name": "Communist Party of Kenya",
                "name_en": "Communist Party of Kenya", "country": "KE",
                "timezone": "Africa/Nairobi", "languages": ["sw", "en"],
                "contact_email": "office@cpk.example", **fields}
        if body["abbreviation"] != "CPK" and "name" not in fields:  # no two organisations share a name
            body["name"] = f"Organisation {body['abbreviation']} of {body['country']}"
            body["name_en"] = fields.get("name_en", body["name"])
        response = self.post("/api/registry/organisations", token=token, json=body)
        assert response.status_code == 201, response.json
        return response.json

    def organisation_token(self, coordinator: str, organisation_id: str) -> tuple[str, str]:
        """Answer (key, token) for a new key of the organisation."""
        response = self.post(f"/api/registry/organisations/{organisation_id}/keys", token=coordinator, json={})
        assert response.status_code == 201, response.json
        key = response.json["key"]
        return key, self.token_for_key(key)


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform) -> ApiClient:
    """The platform over HTTP, once on SQLite and once on the real PostgreSQL."""
    return ApiClient(make_platform(db=request.param))


@pytest.fixture
def coordinator(api) -> str:
    return api.coordinator_token()


def _known_count(api) -> int:
    from sqlalchemy import func, select

    from services.events.models import KnownOrganisation

    with api.platform.kernels["events"].db.transaction() as s:
        return s.execute(select(func.count()).select_from(KnownOrganisation)).scalar_one()


@pytest.fixture
def organisations(api, coordinator):
    """Three organisations registered at the registry and known to events via the bus."""
    api.platform.start_workers()
    orgs = [api.register(coordinator, abbreviation=a, name=n, name_en=e, country=c, timezone=z)
            for a, n, e, c, z in (("CPK", "Communist Party of Kenya", "Communist Party of Kenya", "KE", "Africa/Nairobi"),
                                  ("БКП", "Българска комунистическа партия", "Bulgarian Communist Party", "BG",
                                   "Europe/Sofia"),
                                  ("MLKP", "Marksist Leninist Komünist Parti", "Marxist Leninist Communist Party",
                                   "TR", "Europe/Istanbul"))]
    # 30 s, not the default 10: once in some 2,000 tests a CI run saw the bus take longer (unexplained yet).
    wait_until(lambda: _known_count(api) == 3, 30, message="events to know the organisations")
    return orgs


@pytest.fixture
def setting(api, coordinator, organisations):
    """An open 2022 campaign; tokens of two organisations."""
    from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS

    campaign = api.post(CAMPAIGNS, token=coordinator, json=CAMPAIGN_2022).json
    tokens = [api.organisation_token(coordinator, o["id"])[1] for o in organisations[:2]]
    return {"campaign": campaign, "tokens": tokens, "orgs": organisations}


def known_campaign(api, setting, service: str) -> str:
    """The open 2022 campaign's id, once `service` has learnt of it from the bus."""
    campaign_id = setting["campaign"]["id"]
    model = importlib.import_module(f"services.{service}.models").KnownCampaign

    def known():
        with api.platform.kernels[service].db.transaction() as s:
            return s.get(model, campaign_id) is not None

    wait_until(known, message=f"{service} to know the campaign")
    return campaign_id


@pytest.fixture
def media_campaign(api, setting) -> str:
    return known_campaign(api, setting, "media")


@pytest.fixture
def notify_campaign(api, setting) -> str:
    return known_campaign(api, setting, "notify")


class Mailbox:
    """What the test SMTP server received, as parsed messages."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def pytest_collection_modifyitems(config, items):
    """The web front's tests run on SQLite only: the front talks to the services over HTTP and
    holds no database of theirs, so its pages and refusals do not depend on the services'
    dialect — which every service's own tests cover on both SQLite and PostgreSQL. (Some 90
    tests and several minutes of `make test`.)"""
    kept, dropped = [], []
    for item in items:
        on_postgres = getattr(item, "callspec", None) is not None and item.callspec.params.get("api") == "postgres"
        (dropped if on_postgres and item.module.__name__.rsplit(".", 1)[-1].startswith("test_web_") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
