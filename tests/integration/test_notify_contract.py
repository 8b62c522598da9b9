"""The notify API keeps the contract every service keeps (docs/api.md), as an integrator sees
it: lists are pages with `next`, a 201's Location answers GET, a query parameter the document
does not name is refused by name, a 204 is bare, the platform's own lag is a 503 and not the
caller's mistake, and a refusal of well-formed input says which rule it broke."""
from __future__ import annotations

import uuid

import pytest

from shared.ids import new_time_ordered_id
from tests.integration.conftest import ApiClient

WEBHOOKS = "/api/notify/webhooks"
PROBLEM = "urn:dayofaction:problem:"


@pytest.fixture
def api(make_platform):
    return ApiClient(make_platform(WEBHOOK_ALLOW="127.0.0.0/8"))


@pytest.fixture
def token(api):
    """An organisation's token."""
    coordinator = api.coordinator_token()
    return api.organisation_token(coordinator, api.register(coordinator)["id"])[1]


def _register(api, token, path="hook") -> dict:
    response = api.post(WEBHOOKS, token=token, json={"url": f"http://127.0.0.1:9/{path}", "types": ["event.approved"]})
    assert response.status_code == 201, response.json
    return response


def test_the_webhooks_list_is_a_page_with_next(api, token):
    made = [_register(api, token, f"hook-{i}").json["id"] for i in range(3)]
    first = api.get(WEBHOOKS, token=token, query_string={"limit": 2})
    assert first.status_code == 200 and set(first.json) == {"items", "next"}
    assert [e["id"] for e in first.json["items"]] == made[:2]
    assert "secret" not in first.json["items"][0]
    second = api.get(first.json["next"], token=token)
    assert [e["id"] for e in second.json["items"]] == made[2:] and second.json["next"] is None
    assert api.get(WEBHOOKS, token=token).json == {"items": first.json["items"] + second.json["items"], "next": None}


def test_a_new_endpoints_location_answers_get_with_the_same_token(api, token):
    created = _register(api, token)
    shown = api.get(created.headers["Location"], token=token)
    assert shown.status_code == 200
    assert shown.json == {k: v for k, v in created.json.items() if k != "secret"}
    spec = api.get("/api/notify/openapi.json").json
    answer = spec["paths"]["/api/notify/webhooks"]["post"]["responses"]["201"]
    assert answer["headers"]["Location"]["required"] is True


@pytest.mark.parametrize("path", [WEBHOOKS, "/api/notify/contacts/me", "/api/notify/unsubscribe?token=x"])
def test_an_unknown_query_parameter_is_refused_by_name(api, token, path):
    response = api.get(path + ("&" if "?" in path else "?") + "lang=de&owner_id=x", token=token)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEM + "unknown-parameter"
    assert [e["field"] for e in response.json["errors"]] == ["lang", "owner_id"]


def test_a_204_has_no_body_and_no_content_type(api, token):
    endpoint = _register(api, token).json
    assert api.put("/api/notify/contacts/me", token=token, json={"email": "cpk@example.org"}).status_code == 200
    for path in (f"{WEBHOOKS}/{endpoint['id']}", "/api/notify/contacts/me"):
        gone = api.delete(path, token=token)
        assert gone.status_code == 204 and gone.data == b"" and "Content-Type" not in gone.headers
    assert api.get(f"{WEBHOOKS}/{endpoint['id']}", token=token).status_code == 404


def test_an_event_made_a_moment_ago_is_the_platforms_lag_not_a_mistake(api):
    body = {"email": "a@example.org", "scope": "event"}
    fresh = api.post("/api/notify/subscriptions", json={**body, "event_id": new_time_ordered_id()})
    # Its own Retry-After (1 s), not the rate limiter's window on this route (60 s).
    assert fresh.status_code == 503 and fresh.headers["Retry-After"] == "1"
    assert fresh.json["type"] == PROBLEM + "not-yet-known"
    made_up = api.post("/api/notify/subscriptions", json={**body, "event_id": str(uuid.uuid4())})
    assert made_up.status_code == 422 and made_up.json["type"] == PROBLEM + "rule"
    assert made_up.json["errors"][0]["field"] == "event_id"


def test_a_webhook_url_is_refused_as_malformed_or_as_unsafe(api, token):
    malformed = api.post(WEBHOOKS, token=token, json={"url": "ftp://example.org/hook", "types": ["event.approved"]})
    assert malformed.status_code == 422 and malformed.json["type"] == PROBLEM + "validation"
    unsafe = api.post(WEBHOOKS, token=token, json={"url": "http://10.0.0.7/hook", "types": ["event.approved"]})
    assert unsafe.status_code == 422 and unsafe.json["type"] == PROBLEM + "unsafe-url"
    assert unsafe.json["errors"] == [{"field": "url", "location": "json", "message": unsafe.json["errors"][0]["message"]}]
    assert "private address" in unsafe.json["errors"][0]["message"]
    spec = api.get("/api/notify/openapi.json").json
    url = spec["components"]["schemas"]["EndpointIn"]["properties"]["url"]
    assert url["pattern"].startswith("^[Hh][Tt][Tt][Pp][Ss]?://") and url["format"] == "uri"


def test_the_language_of_the_emails_is_a_language_code(api, token):
    assert api.put("/api/notify/contacts/me", token=token, json={"email": "cpk@example.org", "language": "SW"}
                   ).json == {"email": "cpk@example.org", "language": "sw", "role": "organisation"}
    refused = api.put("/api/notify/contacts/me", token=token, json={"email": "cpk@example.org", "language": "xx"})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "language"


def test_the_pages_of_the_links_in_emails_are_documented_as_html(api):
    operation = api.get("/api/notify/openapi.json").json["paths"]["/api/notify/unsubscribe"]["post"]
    assert set(operation["responses"]["200"]["content"]) == {"text/html"}
    assert set(operation["responses"]["400"]["content"]) == {"text/html", "application/problem+json"}
    assert set(operation["responses"]["410"]["content"]) == {"text/html"}
    page = api.get("/api/notify/unsubscribe?token=changed")
    assert page.status_code == 400 and page.mimetype == "text/html"


def test_a_pasted_url_is_taken_without_its_surrounding_spaces_when_changed_too(api, token):
    endpoint = _register(api, token).json
    moved = api.patch(f"{WEBHOOKS}/{endpoint['id']}", token=token, json={"url": " http://127.0.0.1:9/moved\n"})
    assert moved.status_code == 200 and moved.json["url"] == "http://127.0.0.1:9/moved"
