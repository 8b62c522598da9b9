"""An endpoint that answers 410 Gone (issue 16): it is disabled and its owner told once; what
comes for it while it is off is held, within bounds; switching it on again sends the held
messages in their order, each once and signed — or drops them. SQLite and PostgreSQL, a real
SMTP server and a real webhook receiver on loopback."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.notify.models import Notification, WebhookDelivery
from services.notify.webhook_dispatch import WebhookDispatcher
from services.notify.webhooks.signing import verify
from shared.db import utcnow
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_finding_events import approved
from tests.integration.test_notify import count, receiver  # noqa: F401 - a fixture
from tests.integration.test_web_account import form, sign_in

HOOKS = "/api/notify/webhooks"
OWNER = "owner@example.org"


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform, mailbox):
    """One delivery at a time, so what is queued in order arrives in order."""
    return ApiClient(make_platform(db=request.param, SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port,
                                   SMTP_SECURITY="none", WEBHOOK_ALLOW="127.0.0.0/8", WEBHOOK_SCHEDULE="0,0.3,0.3",
                                   WEBHOOK_CONCURRENCY=1, PUBLIC_URL="http://doa.test"))


def gone_endpoint(api, coordinator, setting, receiver) -> tuple[str, dict]:  # noqa: F811
    """An organisation's endpoint that answers 410 to its first delivery: disabled after it."""
    token = setting["tokens"][0]
    assert api.put("/api/notify/contacts/me", token=token, json={"email": OWNER}).status_code in (200, 201)
    receiver.answers = [(410, {})]
    made = api.post(HOOKS, token=token, json={"url": receiver.url, "types": ["event.approved"]})
    assert made.status_code == 201, made.json
    endpoint = made.json
    first = approved(api, coordinator, setting)
    wait_until(lambda: shown(api, token, endpoint)["status"] == "disabled", message="the endpoint to be disabled")
    return token, {**endpoint, "first": first["id"]}


def told(mailbox) -> list:
    """The e-mails the owner got about its webhook (it also hears of its events' approvals)."""
    return [m for m in mailbox.to(OWNER) if "webhook" in m["Subject"].lower()]


def shown(api, token, endpoint) -> dict:
    response = api.get(f"{HOOKS}/{endpoint['id']}", token=token)
    assert response.status_code == 200, response.json
    return response.json


def missed(api, coordinator, setting, token, endpoint, n: int) -> list[str]:
    """n events approved while the endpoint is off, held for it."""
    ids = [approved(api, coordinator, setting, title={"en": f"Missed {i}"})["id"] for i in range(n)]
    wait_until(lambda: shown(api, token, endpoint)["held"] == n, message=f"{n} messages held")
    return ids


def event_ids(requests) -> list[str]:
    return [json.loads(r["body"])["data"]["id"] for r in requests]


def reactivate(api, token, endpoint, **body):
    return api.post(f"{HOOKS}/{endpoint['id']}/reactivation", token=token, json=body)


def test_a_gone_endpoint_tells_its_owner_and_a_backfill_sends_what_it_missed(
        api, coordinator, setting, receiver, mailbox):  # noqa: F811
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    wait_until(lambda: told(mailbox), message="the owner to be told")
    [mail] = told(mailbox)
    text = mail.get_body(("plain",)).get_content()
    assert "disabled" in mail["Subject"].lower() and "410 Gone" in text
    assert "switch it on again, you can choose to have it sent" in " ".join(text.split())
    assert shown(api, token, endpoint)["disabled_reason"] == "The endpoint answered 410 Gone."

    later = missed(api, coordinator, setting, token, endpoint, 5)
    assert len(receiver.requests) == 1  # held: not sent, not retried
    held = api.get(f"{HOOKS}/{endpoint['id']}/deliveries", token=token, query_string={"status": "held"}).json
    assert [d["status"] for d in held["items"]] == ["held"] * 5 and {d["attempts"] for d in held["items"]} == {0}

    answer = reactivate(api, token, endpoint, backfill=True)
    assert answer.status_code == 200, answer.json
    assert (answer.json["status"], answer.json["backfilled"]) == ("active", 5)
    wait_until(lambda: len(receiver.requests) == 6, message="the five missed messages")
    wait_until(lambda: not api.get(f"{HOOKS}/{endpoint['id']}/deliveries", token=token,
                                   query_string={"status": "pending"}).json["items"], message="the log to settle")
    assert event_ids(receiver.requests) == [endpoint["first"], *later]  # in order, the first not twice
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 6
    for request in receiver.requests[1:]:
        verify(endpoint["secret"], request["headers"], request["body"])
    assert shown(api, token, endpoint)["held"] == 0
    wait_until(lambda: count(api, Notification, Notification.status.in_(["pending", "sending"])) == 0,
               message="every e-mail to be sent")
    assert len(told(mailbox)) == 1  # told once for the one disabling


def test_switching_on_without_a_backfill_drops_what_was_held(api, coordinator, setting, receiver):  # noqa: F811
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    missed(api, coordinator, setting, token, endpoint, 3)
    answer = reactivate(api, token, endpoint)
    assert answer.status_code == 200 and (answer.json["status"], answer.json["backfilled"]) == ("active", 0)
    assert shown(api, token, endpoint)["held"] == 0
    news = approved(api, coordinator, setting, title={"en": "After"})
    wait_until(lambda: len(receiver.requests) == 2, message="the new message")
    assert event_ids(receiver.requests) == [endpoint["first"], news["id"]]
    again = reactivate(api, token, endpoint, backfill=True)  # on already: nothing happens
    assert again.status_code == 200 and again.json["backfilled"] == 0


def test_switching_on_by_patch_drops_what_was_held_too(api, coordinator, setting, receiver):  # noqa: F811
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    missed(api, coordinator, setting, token, endpoint, 2)
    assert api.patch(f"{HOOKS}/{endpoint['id']}", token=token, json={"status": "active"}).status_code == 200
    after = shown(api, token, endpoint)
    assert (after["status"], after["held"], after["disabled_reason"]) == ("active", 0, None)


def test_held_messages_are_bounded_in_number_and_time(api, coordinator, setting, receiver):  # noqa: F811
    kernel = api.platform.kernels["notify"]
    kernel.config = kernel.config.replace(WEBHOOK_HELD_MAX=2)
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    later = missed(api, coordinator, setting, token, endpoint, 4)
    dispatcher = WebhookDispatcher(api.platform.kernels["notify"])
    assert dispatcher.sweep_held(force=True) == 2  # the oldest two
    assert shown(api, token, endpoint)["held"] == 2
    with api.platform.kernels["notify"].db.transaction() as s:  # the older of the two, past WEBHOOK_HELD_DAYS
        s.execute(update(WebhookDelivery).where(WebhookDelivery.message_id == _message_of(s, later[2]))
                  .values(created_at=utcnow() - timedelta(days=kernel.config.WEBHOOK_HELD_DAYS + 1)))
    assert dispatcher.sweep_held(force=True) == 1
    answer = reactivate(api, token, endpoint, backfill=True)
    assert answer.status_code == 200 and answer.json["backfilled"] == 1
    wait_until(lambda: len(receiver.requests) == 2, message="the one held message")
    assert event_ids(receiver.requests) == [endpoint["first"], later[3]]


def _message_of(session, event_id: str) -> str:
    for delivery in session.execute(select(WebhookDelivery).where(WebhookDelivery.status == "held")).scalars():
        if json.loads(delivery.body)["data"]["id"] == event_id:
            return delivery.message_id
    raise AssertionError(f"no held delivery of {event_id}")


def test_a_reactivation_with_bad_input_is_refused(api, coordinator, setting, receiver):  # noqa: F811
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    missed(api, coordinator, setting, token, endpoint, 1)
    bad = reactivate(api, token, endpoint, backfill="perhaps")
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert shown(api, token, endpoint)["status"] == "disabled" and shown(api, token, endpoint)["held"] == 1
    other = api.post(f"{HOOKS}/{endpoint['id']}/reactivation", token=setting["tokens"][1], json={"backfill": True})
    assert other.status_code == 404


def test_the_organisation_area_offers_the_backfill_when_switching_on(api, coordinator, setting, receiver):  # noqa: F811
    token, endpoint = gone_endpoint(api, coordinator, setting, receiver)
    later = missed(api, coordinator, setting, token, endpoint, 2)
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    path = f"/me/webhooks/{endpoint['id']}"
    page = api.get(path)
    html = page.data.decode()
    assert 'name="backfill"' in html and "Also send the messages it missed while it was off (2)" in html
    assert "held" in api.get(f"{path}?status=held").data.decode()
    switched = form(api, f"{path}/activation", page, backfill="on")
    assert switched.status_code == 303
    wait_until(lambda: len(receiver.requests) == 3, message="the two missed messages")
    assert event_ids(receiver.requests) == [endpoint["first"], *later]
    assert 'name="backfill"' not in api.get(path).data.decode()  # on again: nothing to offer
