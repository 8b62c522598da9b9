"""What a coordinator sees of failing deliveries (GET /api/notify/delivery-problems): real
webhook receivers on loopback that answer 500, 503 or 410, a real SMTP server (aiosmtpd) that
refuses recipients, and never an address, a delivery's body or a URL's secret in the answer.
SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiosmtpd.controller import Controller

from services.notify.models import KnownOrganisation
from tests.conftest import free_port, wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_finding_events import approved
from tests.integration.webhook_receiver import serve_webhooks

PROBLEMS = "/api/notify/delivery-problems"
LATER = "later@example.org"
REFUSED = "refused@example.org"


class Receivers:
    """Webhook receivers on one loopback server, each path answering as it always does."""

    ANSWERS = {"/ok": (200, {}), "/broken": (500, {}), "/gone": (410, {}),
               "/busy": (503, {"Retry-After": "3600"}), "/slow": (503, {"Retry-After": "3600"})}

    def __init__(self):
        self.received: dict[str, int] = {}
        self.server = serve_webhooks(self._answer)
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def _answer(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        path = path.split("?")[0]
        self.received[path] = self.received.get(path, 0) + 1
        return self.ANSWERS[path]


class RefusingSmtp:
    """An SMTP server that refuses two recipients, naming them in its reply as real ones do:
    one for good (550), one for now (451); it accepts the others."""

    REPLIES = {LATER: f"451 4.3.0 <{LATER}>: Try again later",
               REFUSED: f"550 5.1.1 <{REFUSED}>: Recipient address rejected"}

    def __init__(self):
        self.accepted: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's
        if address in self.REPLIES:
            return self.REPLIES[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.accepted.extend(envelope.rcpt_tos)
        return "250 Message accepted"


@pytest.fixture
def receivers():
    r = Receivers()
    yield r
    r.server.shutdown()


@pytest.fixture
def smtp():
    handler = RefusingSmtp()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform, smtp):
    """The platform, its e-mail going to the refusing SMTP server, its webhooks allowed to
    reach loopback on a fast retry schedule (three attempts, then the endpoint is disabled)."""
    return ApiClient(make_platform(db=request.param, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port,
                                   SMTP_SECURITY="none", WEBHOOK_ALLOW="127.0.0.0/8", WEBHOOK_SCHEDULE="0,0.3,0.3",
                                   PUBLIC_URL="http://doa.test"))


def _endpoint(api, token, url, types=("event.approved",)) -> str:
    response = api.post("/api/notify/webhooks", token=token, json={"url": url, "types": list(types)})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _problems(api, token) -> dict:
    response = api.get(PROBLEMS, token=token)
    assert response.status_code == 200, response.json
    return response.json


def _notify_knows(api, organisations) -> bool:
    with api.platform.kernels["notify"].db.transaction() as s:
        return all(s.get(KnownOrganisation, o["id"]) is not None for o in organisations)


def test_a_coordinator_sees_failing_webhooks_worst_first(api, coordinator, setting, receivers):
    cpk, bkp = setting["tokens"]
    ok = _endpoint(api, bkp, f"{receivers.base}/ok")
    broken = _endpoint(api, cpk, f"{receivers.base}/broken")
    busy = _endpoint(api, cpk, f"{receivers.base}/busy", types=("event.submitted", "event.approved"))
    slow = _endpoint(api, bkp, f"{receivers.base}/slow")
    gone = _endpoint(api, coordinator, f"{receivers.base}/gone?token=receivers-own-secret")
    wait_until(lambda: _notify_knows(api, setting["orgs"]), message="notify to know the organisations")
    assert _problems(api, coordinator)["webhooks"] == []  # nothing has failed yet

    event = approved(api, coordinator, setting)  # one event.submitted (CPK's own), one event.approved for all

    def settled():
        rows = {row["endpoint_id"]: row for row in _problems(api, coordinator)["webhooks"]}
        return (rows.get(broken, {}).get("status") == "disabled" and rows.get(gone, {}).get("status") == "disabled"
                and rows.get(busy, {}).get("retrying") == 2 and rows.get(slow, {}).get("retrying") == 1)

    wait_until(settled, message="the failures to be recorded")
    wait_until(lambda: api.get(f"/api/notify/webhooks/{ok}/deliveries", token=bkp).json["items"][0]["status"]
               == "delivered", message="the healthy endpoint's delivery")
    response = api.get(PROBLEMS, token=coordinator)
    answer, text = response.json, response.get_data(as_text=True)
    rows = answer["webhooks"]

    # Disabled first (the one whose attempts went on longer before it), then by failed + retrying.
    assert [r["endpoint_id"] for r in rows] == [broken, gone, busy, slow]
    assert ok not in text  # a healthy endpoint is not listed
    by_id = {r["endpoint_id"]: r for r in rows}
    assert receivers.received["/broken"] == 3
    assert {k: by_id[broken][k] for k in ("status", "failed", "retrying", "last_error", "role", "owner_name",
                                          "owner_abbreviation", "owner_id", "url")} == {
        "status": "disabled", "failed": 1, "retrying": 0, "last_error": "HTTP 500", "role": "organisation",
        "owner_name": "Communist Party of Kenya", "owner_abbreviation": "CPK", "owner_id": setting["orgs"][0]["id"],
        "url": f"{receivers.base}/…"}
    assert "500" in by_id[broken]["disabled_reason"]
    assert {k: by_id[gone][k] for k in ("status", "failed", "retrying", "last_error", "disabled_reason", "role",
                                        "owner_name")} == {
        "status": "disabled", "failed": 1, "retrying": 0, "last_error": "HTTP 410",
        "disabled_reason": "The endpoint answered 410 Gone.", "role": "coordinator", "owner_name": None}
    assert {k: by_id[busy][k] for k in ("status", "failed", "retrying", "last_error", "disabled_reason")} == {
        "status": "active", "failed": 0, "retrying": 2, "last_error": "HTTP 503", "disabled_reason": None}
    assert (by_id[slow]["owner_name"], by_id[slow]["retrying"]) == ("Българска комунистическа партия", 1)
    for row in rows:
        attempted = datetime.fromisoformat(row["last_attempt_at"])
        assert attempted.tzinfo is not None and attempted <= datetime.now(timezone.utc)
    assert datetime.fromisoformat(by_id[broken]["last_attempt_at"]) > datetime.fromisoformat(
        by_id[gone]["last_attempt_at"])

    # What a delivery carried and what a URL hides stay out of it; so does any address.
    assert event["id"] not in text and "receivers-own-secret" not in text and "/gone" not in text
    assert "@" not in text
    assert response.headers["Cache-Control"] == "no-store"


def test_a_switched_on_endpoint_stays_listed_while_it_has_failed_deliveries(api, coordinator, setting, receivers):
    cpk = setting["tokens"][0]
    broken = _endpoint(api, cpk, f"{receivers.base}/broken")
    approved(api, coordinator, setting)
    wait_until(lambda: [r["status"] for r in _problems(api, coordinator)["webhooks"]] == ["disabled"],
               message="the endpoint to be disabled")
    assert api.patch(f"/api/notify/webhooks/{broken}", token=cpk, json={"status": "active"}).status_code == 200
    [row] = _problems(api, coordinator)["webhooks"]
    assert (row["endpoint_id"], row["status"], row["disabled_reason"], row["failed"]) == (broken, "active", None, 1)
    assert api.delete(f"/api/notify/webhooks/{broken}", token=cpk).status_code == 204
    assert _problems(api, coordinator)["webhooks"] == []


def test_a_coordinator_sees_failing_email_without_the_addresses(api, coordinator):
    api.platform.start_workers()
    assert _problems(api, coordinator)["email"] == {"failed": 0, "retrying": 0, "last_error": None, "last_at": None}
    subscribe = {"language": "en", "scope": "country", "country": "KE"}
    assert api.post("/api/notify/subscriptions", json={"email": LATER, **subscribe}).status_code == 202
    wait_until(lambda: _problems(api, coordinator)["email"]["retrying"] == 1, message="the temporary refusal")
    first = _problems(api, coordinator)["email"]
    assert first["failed"] == 0 and first["last_error"] == "451 4.3.0 [address hidden]: Try again later"
    started = datetime.now(timezone.utc)
    assert api.post("/api/notify/subscriptions", json={"email": "amina@example.org", **subscribe}
                    ).status_code == 202  # this one goes
    assert api.post("/api/notify/subscriptions", json={"email": REFUSED, **subscribe}).status_code == 202
    wait_until(lambda: _problems(api, coordinator)["email"]["failed"] == 1, message="the permanent refusal")

    response = api.get(PROBLEMS, token=coordinator)
    email = response.json["email"]
    assert (email["failed"], email["retrying"]) == (1, 1)
    assert email["last_error"] == "550 5.1.1 [address hidden]: Recipient address rejected"  # the newest
    assert started <= datetime.fromisoformat(email["last_at"]) <= datetime.now(timezone.utc)
    assert datetime.fromisoformat(first["last_at"]) < started
    text = response.get_data(as_text=True)
    assert "@" not in text and "example.org" not in text
    assert response.json["webhooks"] == []


def test_only_coordinators_see_delivery_problems(api, coordinator, setting):
    organisation = api.get(PROBLEMS, token=setting["tokens"][0])
    assert organisation.status_code == 403
    assert organisation.headers["Content-Type"].startswith("application/problem+json")
    assert "coordinator" in organisation.json["detail"]
    anonymous = api.get(PROBLEMS)
    assert anonymous.status_code == 401 and anonymous.headers["Content-Type"].startswith("application/problem+json")
    assert api.get(PROBLEMS, token="not-a-token").status_code == 401
    spec = api.get("/api/notify/openapi.json").json
    [path] = [p for p in spec["paths"] if p.endswith("/delivery-problems")]
    assert spec["paths"][path]["get"].get("security")
