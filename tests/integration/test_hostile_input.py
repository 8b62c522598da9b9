"""What careless and hostile clients send: forged cursors, crafted JSON, look-alike names,
races. Each gets a clear 4xx (never a 500) and changes nothing. SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import json
import threading

import pytest

from tests.integration.test_registry_api import ORGS, counts

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def forged(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    forged([["v", {"a": 1}], ["v", None]]), forged([["v", [1]], ["v", "a"]]),
    forged([["v", "x"], ["v", "y"]]), forged([["v", 1], ["v", 2]]), forged([["d", "yesterday"], ["v", "a"]]),
    forged([["d", "2026-01-01T00:00:00"], ["v", "a"]]), forged([["d", "2026-01-01T00:00:00+00:00"], ["v", "a\u0000"]]),
    forged([["d", "2026-01-01T00:00:00+00:00"], ["v", "\ud800"]]), forged({"a": 1}), "%%%", "A" * 400,
])
def test_forged_cursors_are_refused(api, coordinator, cursor):
    for path in (ORGS, "/api/registry/coordinators"):
        response = api.get(path, query_string={"cursor": cursor}, token=coordinator)
        assert response.status_code == 400 and response.json["type"].endswith(":bad-cursor"), response.json


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000,
                                  '{"abbreviation": ' + "9" * 5000 + "}",
                                  '{"name": "\\ud800" ', b'{"name": "\xff"}'])
def test_json_that_would_crash_a_parser_is_a_400(api, coordinator, body):
    before = counts(api)
    response = api.post(ORGS, data=body, token=coordinator, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["type"].endswith(":malformed-json")
    assert counts(api) == before


@pytest.mark.parametrize("field,value", [
    ("name", "\ud800"), ("name", "Party\u202eytraP"), ("abbreviation", "C\x00PK"),
    ("website", "https://x.example/\u0000"), ("website", "https://x.example/\x01"),
])
def test_unsafe_characters_are_refused_by_name(api, coordinator, field, value):
    body = {"abbreviation": "A", "name": "N", "name_en": "N", "country": "DE", "timezone": "Europe/Berlin",
            field: value}
    response = api.post(ORGS, data=json.dumps(body), token=coordinator, headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and [e["field"] for e in response.json["errors"]] == [field]


def test_persian_names_keep_their_joiners(api, coordinator):
    org = api.register(coordinator, abbreviation="حکما", name="حزب کمونیست ایران\u200c(م‌ل‌م)",
                       name_en="Communist Party of Iran (MLM)", country="IR", timezone="Asia/Tehran")
    assert "\u200c" in org["name"]


@pytest.mark.parametrize("look_alike", ["ＣＰＫ", "CPK\u200b", " cpk ", "C P K".replace(" ", "")])
def test_look_alike_abbreviations_are_the_same_organisation(api, coordinator, look_alike):
    api.register(coordinator)
    response = api.post(ORGS, token=coordinator, json={
        "abbreviation": look_alike, "name": "N", "name_en": "N", "country": "KE", "timezone": "Africa/Nairobi"})
    assert response.status_code == 409


def test_abbreviations_that_grow_when_folded_are_stored(api, coordinator):
    org = api.register(coordinator, abbreviation="ß" * 40, country="DE", timezone="Europe/Berlin")
    assert org["abbreviation"] == "ß" * 40


def test_registrations_racing_for_one_abbreviation_give_one_201_and_409s(api, coordinator):
    answers, start = [], threading.Barrier(8)

    def register():
        start.wait()
        answers.append(api.post(ORGS, token=coordinator, json={
            "abbreviation": "RACE", "name": "N", "name_en": "N", "country": "DE",
            "timezone": "Europe/Berlin"}).status_code)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201] + [409] * 7


def test_the_media_type_check_does_not_hide_404_and_405(api, coordinator):
    form = {"Content-Type": "text/plain"}
    assert api.post("/api/registry/nowhere", data="x", headers=form).status_code == 404
    assert api.post(f"{ORGS}/00000000-0000-4000-8000-000000000000", data="x", headers=form).status_code == 405
    odd = api.post(ORGS, data='{"abbreviation": 5}', token=coordinator, headers={"Content-Type": "text/x+json"})
    assert odd.status_code == 415


def test_the_platform_root_answers_problems_too(api):
    for method, path, status in (("PUT", "/", 405), ("DELETE", "/healthz", 405), ("GET", "/nowhere", 404)):
        response = api.request(method, path)
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/problem+json" and response.json["request_id"]
