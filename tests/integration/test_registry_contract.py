"""The registry keeps the API contract (docs/api.md): what an integrator sees on every route —
one shape for every list, a Location that answers for every 201, bare 204s, Retry-After only
where it means something, unknown query parameters refused, and problems whose members the
OpenAPI document names."""
from __future__ import annotations

import pytest

from services.registry import passkeys
from tests.integration.conftest import ApiClient
from tests.integration.test_registry_second_factor import a_coordinator, sign_in

REGISTRY = "/api/registry"
ORGS = f"{REGISTRY}/organisations"


@pytest.fixture
def spec(api) -> dict:
    return api.get(f"{REGISTRY}/openapi.json").json


def _schema(spec: dict, ref_or_schema: dict) -> dict:
    name = ref_or_schema.get("$ref", "").rsplit("/", 1)[-1]
    return spec["components"]["schemas"][name] if name else ref_or_schema


def _pages(api: ApiClient, path: str, token: str) -> list[list[dict]]:
    """Every page of a list, followed by its `next`, one item a page."""
    pages, url = [], f"{path}?limit=1"
    while url:
        page = api.get(url, token=token)
        assert page.status_code == 200, (path, page.json)
        assert set(page.json) == {"items", "next"}, path
        pages.append(page.json["items"])
        url = page.json["next"]
    return pages


def test_every_list_answers_items_and_next_and_pages_by_cursor(api, coordinator):
    org = api.register(coordinator)
    key, org_token = api.organisation_token(coordinator, org["id"])
    api.organisation_token(coordinator, org["id"])
    sign_in(api, key, open_session=True)
    signed = sign_in(api, key, open_session=True).json
    me = signed["access_token"]
    coordinator_id = api.get(f"{REGISTRY}/me", token=coordinator).json["subject_id"]
    for path, token, at_least in ((ORGS, None, 1), (f"{ORGS}/{org['id']}/keys", org_token, 2),
                                  (f"{REGISTRY}/coordinators", coordinator, 1),
                                  (f"{REGISTRY}/coordinators/{coordinator_id}/keys", coordinator, 1),
                                  (f"{REGISTRY}/me/sessions", me, 2), (f"{ORGS}/renames", coordinator, 0),
                                  (f"{REGISTRY}/me/factors/passkeys", me, 0)):
        pages = _pages(api, path, token)
        items = [item for page in pages for item in page]
        assert len(items) >= at_least and len({i.get("id") for i in items}) == len(items), path
    sessions = [s for page in _pages(api, f"{REGISTRY}/me/sessions", me) for s in page]
    assert [s["current"] for s in sessions] == [True, False]  # the most recently used first: this one


def test_every_201_has_a_location_that_answers_with_the_same_credentials(api, coordinator):
    made = api.post(ORGS, token=coordinator, json={
        "abbreviation": "PCM", "name": "Partido Comunista de México", "name_en": "Communist Party of Mexico",
        "country": "MX", "timezone": "America/Mexico_City", "website": "https://pcm.example/inicio?x=1#top"})
    person = api.post(f"{REGISTRY}/coordinators", token=coordinator, json={"name": "Second office"})
    org_key = api.post(f"{ORGS}/{made.json['id']}/keys", token=coordinator, json={"label": "web"})
    person_key = api.post(f"{REGISTRY}/coordinators/{person.json['id']}/keys", token=coordinator, json={})
    for response in (made, person, org_key, person_key):
        assert response.status_code == 201, response.json
        again = api.get(response.headers["Location"], token=coordinator)
        assert again.status_code == 200 and again.json["id"] == response.json["id"]
        assert "key" not in again.json  # a key is shown once, in the 201 only
    assert api.get(person.headers["Location"], token=coordinator).json["name"] == "Second office"
    assert org_key.headers["Cache-Control"] == "no-store"


def test_a_new_passkey_has_a_location_and_is_listed(make_platform, monkeypatch):
    """The browser's part is left out: the check of its answer is replaced by one that accepts it."""
    api = ApiClient(make_platform())
    monkeypatch.setattr(passkeys, "verified_registration", lambda rp, credential, challenge: ("Y3JlZA", "cHVi", 0))
    token = sign_in(api, a_coordinator(api), open_session=True).json["access_token"]
    options = api.post(f"{REGISTRY}/me/factors/passkeys/options", token=token).json
    added = api.post(f"{REGISTRY}/me/factors/passkeys", token=token, json={
        "challenge": options["challenge"], "credential": {"id": "Y3JlZA"}, "label": "Laptop"})
    assert added.status_code == 201 and len(added.json["recovery_codes"]) == 10
    one = api.get(added.headers["Location"], token=token)
    assert one.status_code == 200 and one.json == {k: added.json[k] for k in ("id", "label", "created_at",
                                                                              "last_used_at")}
    assert api.get(f"{REGISTRY}/me/factors/passkeys", token=token).json == {"items": [one.json], "next": None}


def test_a_token_carries_no_retry_after(api, coordinator):
    org = api.register(coordinator)
    key, _ = api.organisation_token(coordinator, org["id"])
    token = api.post(f"{REGISTRY}/tokens", headers={"Authorization": f"Bearer {key}"})
    assert token.status_code == 200 and token.headers["Cache-Control"] == "no-store"
    assert "Retry-After" not in token.headers


def test_a_204_is_bare(api, coordinator):
    org = api.register(coordinator)
    api.organisation_token(coordinator, org["id"])
    key_id = api.get(f"{ORGS}/{org['id']}/keys", token=coordinator).json["items"][-1]["id"]
    revoked = api.delete(f"{ORGS}/{org['id']}/keys/{key_id}", token=coordinator)
    assert revoked.status_code == 204 and revoked.data == b"" and "Content-Type" not in revoked.headers


@pytest.mark.parametrize("path, wrong", [(ORGS, "organisation"), (f"{REGISTRY}/audit", "actor"),
                                         (f"{REGISTRY}/audit", "subject"), (f"{REGISTRY}/me/sessions", "all")])
def test_a_query_parameter_not_in_the_document_is_refused(api, coordinator, path, wrong):
    refused = api.get(path, token=coordinator, query_string={wrong: "x"})
    assert refused.status_code == 400 and refused.json["type"].endswith(":unknown-parameter")
    assert refused.json["errors"] == [{"field": wrong, "location": "query", "message": "Unknown parameter."}]


def test_the_audit_log_filters_are_named_like_its_fields(api, coordinator):
    org = api.register(coordinator)
    me = api.get(f"{REGISTRY}/me", token=coordinator).json["subject_id"]
    found = api.get(f"{REGISTRY}/audit", token=coordinator, query_string={"actor_id": me, "subject_id": org["id"]})
    assert found.status_code == 200, found.json


def test_conflicts_carry_the_members_the_document_names(api, coordinator, spec):
    first = api.register(coordinator)
    again = api.post(ORGS, token=coordinator, json={"abbreviation": "cpk", "name": "Another", "name_en": "Another",
                                                    "country": "KE", "timezone": "Africa/Nairobi"})
    lookalike = api.post(ORGS, token=coordinator, json={"abbreviation": "KCP", "name": "Communist Party of Kenya",
                                                        "name_en": "X", "country": "UG", "timezone": "Africa/Kampala"})
    documented = spec["paths"][ORGS]["post"]["responses"]["409"]["content"]["application/problem+json"]
    members = set(_schema(spec, documented["schema"])["properties"])
    for refused in (again, lookalike):
        assert refused.status_code == 409 and refused.json["existing_id"] == first["id"]
        assert set(refused.json) <= members
    assert lookalike.json["looks_like"]["name_en"] == "Communist Party of Kenya"


def test_bad_rows_of_an_import_are_a_rule_broken_with_their_lines(api, coordinator, spec):
    rows = "abbreviation,name,name_en,country,timezone\nA,Name A,Name A,KE,Africa/Nairobi\nB,N,N,XX,Europe/Berlin\n"
    refused = api.post(f"{ORGS}/import", token=coordinator, data=rows.encode(), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422 and refused.json["type"].endswith(":rule")
    assert refused.json["errors"] == [{"line": 3, "field": "country", "location": "body",
                                       "message": refused.json["errors"][0]["message"]}]
    documented = spec["paths"][f"{ORGS}/import"]["post"]["responses"]["422"]["content"]["application/problem+json"]
    item = _schema(spec, _schema(spec, documented["schema"])["properties"]["errors"]["items"])
    assert "line" in item["properties"]


@pytest.mark.parametrize("website, accepted", [
    ("https://cpk.example", True), ("http://www.cpk.example:8080/a/b%20c?x=1&y=2#top", True),
    ("HTTPS://CPK.EXAMPLE/", False), ("https://localhost", False), ("https://cpk.example/päth", False),
    ("ftp://cpk.example", False), ("https://cpk.example/a b", False), ("javascript:alert(1)", False)])
def test_a_website_is_what_its_documented_pattern_says(api, coordinator, spec, website, accepted):
    import re

    org = api.register(coordinator)
    patched = api.patch(f"{ORGS}/{org['id']}", token=coordinator, json={"website": website})
    assert patched.status_code == (200 if accepted else 422), patched.json
    documented = _schema(spec, spec["components"]["schemas"]["OrganisationIn"])["properties"]["website"]
    assert documented["format"] == "uri" and bool(re.search(documented["pattern"], website)) is accepted


def test_every_success_is_documented_with_its_schema(spec):
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete") and not path.endswith("/me")]
    for path, method, op in operations:
        successes = {status: r for status, r in op["responses"].items() if status.startswith("2")}
        assert successes, (method, path)
        for status, response in successes.items():
            if status != "204":
                assert response.get("content"), (method, path, status)
            if status == "201":
                assert "Location" in response["headers"], (method, path)
    export = spec["paths"][f"{REGISTRY}/audit/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {"application/jsonl", "text/csv"}


def test_languages_are_documented_as_unique_codes_and_a_repeat_is_malformed(api, coordinator, spec):
    org = api.register(coordinator)
    documented = spec["components"]["schemas"]["OrganisationIn"]["properties"]["languages"]
    assert documented["uniqueItems"] is True and "en" in documented["items"]["enum"]
    repeated = api.patch(f"{ORGS}/{org['id']}", token=coordinator, json={"languages": ["en", "en"]})
    assert repeated.status_code == 422 and repeated.json["type"].endswith(":validation")
    assert api.patch(f"{ORGS}/{org['id']}", token=coordinator, json={"languages": ["en", "sw"]}).status_code == 200
