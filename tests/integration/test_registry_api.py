"""The registry over HTTP, as coordinators, organisations, the public and attackers use it.
Every test runs on SQLite and on the real PostgreSQL."""
from __future__ import annotations

import json
import uuid

import jwt
import pytest
from sqlalchemy import func, select

from services.registry.models import Organisation
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient

ORGS = "/api/registry/organisations"


def counts(api: ApiClient) -> tuple[int, int]:
    kernel = api.platform.kernels["registry"]
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        return (s.execute(select(func.count()).select_from(Organisation)).scalar_one(),
                s.execute(select(func.count()).select_from(outbox)).scalar_one())


def outbox_messages(api: ApiClient, audit: bool = False) -> list[dict]:
    """What the registry announced, in order: its domain messages, or (audit=True) its entries
    for the audit log, which every decision adds beside them."""
    kernel = api.platform.kernels["registry"]
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        sent = [json.loads(b) for b in s.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()]
    return [m for m in sent if (m["type"] == "audit.recorded") == audit]


def test_a_coordinator_registers_an_organisation_in_its_own_script(api, coordinator):
    response = api.post(ORGS, token=coordinator, json={
        "abbreviation": "БКП", "name": "Българска комунистическа партия",
        "name_en": "Bulgarian Communist Party", "country": "bg", "timezone": "Europe/Sofia",
        "languages": ["BG"], "website": "https://bkp.example", "contact_email": "office@bkp.example"})
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"] == f"{ORGS}/{body['id']}"
    assert (body["abbreviation"], body["country"], body["languages"], body["status"]) == ("БКП", "BG", ["bg"], "active")
    uuid.UUID(body["id"])
    again = api.get(response.headers["Location"], token=coordinator).json
    assert again["name"] == "Българска комунистическа партия" and again["contact_email"] == "office@bkp.example"
    [message] = outbox_messages(api)
    assert message["type"] == "organisation.registered" and message["data"]["id"] == body["id"]
    assert "contact_email" not in message["data"]


def test_contact_fields_are_shown_only_to_the_organisation_and_coordinators(api, coordinator):
    mine = api.register(coordinator)
    other = api.register(coordinator, abbreviation="PCC-M", country="CO", timezone="America/Bogota",
                         contact_email="x@pcc.example")
    _, org_token = api.organisation_token(coordinator, mine["id"])
    public = api.get(f"{ORGS}/{mine['id']}").json
    assert "contact_email" not in public and public["name_en"] == "Communist Party of Kenya"
    assert api.get(f"{ORGS}/{mine['id']}", token=org_token).json["contact_email"] == "office@cpk.example"
    assert "contact_email" not in api.get(f"{ORGS}/{other['id']}", token=org_token).json
    listed = {o["id"]: o for o in api.get(ORGS).json["items"]}
    assert all("contact_email" not in o for o in listed.values())
    as_coordinator = {o["id"]: o for o in api.get(ORGS, token=coordinator).json["items"]}
    assert as_coordinator[other["id"]]["contact_email"] == "x@pcc.example"


def test_the_same_abbreviation_twice_in_one_country_is_a_conflict(api, coordinator):
    first = api.register(coordinator)
    before = counts(api)
    response = api.post(ORGS, token=coordinator, json={
        "abbreviation": "cpk", "name": "Another", "name_en": "Another", "country": "KE",
        "timezone": "Africa/Nairobi"})
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["existing_id"] == first["id"] and "KE" in response.json["detail"]
    assert counts(api) == before
    api.register(coordinator, country="UG", timezone="Africa/Kampala",  # another country is fine
                 name="Communist Party of Uganda", name_en="Communist Party of Uganda")


@pytest.mark.parametrize("body,fields", [
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "XX", "timezone": "Europe/Berlin"}, {"country"}),
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "DE", "timezone": "Europe/Munich"}, {"timezone"}),
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "DE", "timezone": "Europe/Berlin",
      "languages": ["de", "xx"]}, {"languages.1"}),
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "DE", "timezone": "Europe/Berlin",
      "contact_email": "nobody"}, {"contact_email"}),
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "DE", "timezone": "Europe/Berlin",
      "website": "javascript:alert(1)"}, {"website"}),
    ({"abbreviation": "A", "name": "B", "name_en": "C", "country": "DE", "timezone": "Europe/Berlin",
      "status": "suspended"}, {"status"}),
    ({"abbreviation": 5, "name": ["B"], "name_en": None, "country": "DE", "timezone": "Europe/Berlin"},
     {"abbreviation", "name", "name_en"}),
    ({}, {"abbreviation", "name", "name_en", "country", "timezone"}),
    ([], {None}),
])
def test_invalid_fields_get_a_422_naming_each_and_change_nothing(api, coordinator, body, fields):
    before = counts(api)
    response = api.post(ORGS, token=coordinator, json=body)
    assert response.status_code == 422
    problem = response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert problem["type"].endswith(":validation") and problem["status"] == 422
    assert {e["field"] for e in problem["errors"]} == fields
    assert counts(api) == before


def test_malformed_json_oversized_bodies_and_other_media_types_are_refused(api, coordinator):
    before = counts(api)
    auth = {"Authorization": f"Bearer {coordinator}"}
    bad_json = api.post(ORGS, data='{"abbreviation": ', headers={**auth, "Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json["detail"]
    huge = api.post(ORGS, data="x" * 2_000_000, headers={**auth, "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.json["status"] == 413
    form = api.post(ORGS, data="a=b", headers={**auth, "Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415 and "application/json" in form.json["detail"]
    assert counts(api) == before


def test_who_may_do_what(api, coordinator):
    org = api.register(coordinator)
    other = api.register(coordinator, abbreviation="PCM", country="MX", timezone="America/Mexico_City")
    key, org_token = api.organisation_token(coordinator, org["id"])
    body = {"abbreviation": "N", "name": "N", "name_en": "N", "country": "DE", "timezone": "Europe/Berlin"}
    before = counts(api)
    assert api.post(ORGS, json=body).status_code == 401
    assert api.post(ORGS, json=body).headers["WWW-Authenticate"].startswith("Bearer")
    assert api.post(ORGS, json=body, token="garbage").status_code == 401
    assert api.post(ORGS, json=body, token=key).status_code == 401  # a key is not a token
    assert api.post(ORGS, json=body, token=org_token).status_code == 403
    assert api.patch(f"{ORGS}/{other['id']}", json={"name": "Mine now"}, token=org_token).status_code == 403
    assert api.put(f"{ORGS}/{org['id']}/suspension", json={"reason": "x"}, token=org_token).status_code == 403
    assert api.post(f"{ORGS}/{other['id']}/keys", json={}, token=org_token).status_code == 403
    assert api.get(f"{ORGS}/{other['id']}/keys", token=org_token).status_code == 403
    assert api.get("/api/registry/coordinators", token=org_token).status_code == 403
    assert counts(api) == before
    patched = api.patch(f"{ORGS}/{org['id']}", json={"website": "https://cpk.example"}, token=org_token)
    assert patched.status_code == 200 and patched.json["website"] == "https://cpk.example"


def test_an_organisation_updates_itself_and_only_real_changes_are_announced(api, coordinator):
    org = api.register(coordinator)
    _, token = api.organisation_token(coordinator, org["id"])
    path = f"{ORGS}/{org['id']}"
    assert api.patch(path, json={"website": "https://cpk.example", "languages": ["en"]}, token=token).status_code == 200
    assert api.patch(path, json={"website": "https://cpk.example"}, token=token).status_code == 200  # no change
    assert api.patch(path, json={"contact_email": "new@cpk.example"}, token=token).status_code == 200
    empty = api.patch(path, json={}, token=token)
    assert empty.status_code == 422
    types = [(m["type"], m["data"].get("changed")) for m in outbox_messages(api) if m["type"] != "audit.recorded"]
    assert types == [("organisation.registered", None), ("organisation.updated", ["languages", "website"])]
    assert api.get(path).json["website"] == "https://cpk.example"


def test_lists_page_by_cursor_and_filter_by_country_and_status(api, coordinator):
    ids = [api.register(coordinator, abbreviation=f"O{i}", country="DE" if i % 2 else "FR",
                        timezone="Europe/Berlin")["id"] for i in range(7)]
    seen, url, pages = [], f"{ORGS}?limit=3", 0
    while url:
        page = api.get(url).json
        seen += [o["id"] for o in page["items"]]
        url, pages = page["next"], pages + 1
    assert seen == ids and pages == 3
    german = api.get(f"{ORGS}?country=de&limit=2").json
    assert [o["country"] for o in german["items"]] == ["DE", "DE"] and "country=de" in german["next"]
    assert len(api.get(german["next"]).json["items"]) == 1
    api.put(f"{ORGS}/{ids[0]}/suspension", json={"reason": "endangers members"}, token=coordinator)
    assert [o["id"] for o in api.get(f"{ORGS}?status=suspended").json["items"]] == [ids[0]]
    for bad in ("limit=0", "limit=201", "limit=x", "country=XX", "status=gone"):
        assert api.get(f"{ORGS}?{bad}").status_code == 422, bad
    assert api.get(f"{ORGS}?cursor=nonsense").status_code == 400


def test_tokens_follow_oauth_and_verify_with_the_published_keys(api, coordinator):
    org = api.register(coordinator)
    key, _ = api.organisation_token(coordinator, org["id"])
    response = api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"})
    body = response.json
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 900
    assert response.headers["Cache-Control"] == "no-store"
    jwks = api.get("/api/registry/.well-known/jwks.json").json
    [entry] = [k for k in jwks["keys"] if k["kid"] == jwt.get_unverified_header(body["access_token"])["kid"]]
    assert "d" not in entry  # the private part never leaves the registry
    claims = jwt.decode(body["access_token"], jwt.PyJWK(entry, algorithm="EdDSA"), algorithms=["EdDSA"],
                        audience="dayofaction")
    assert claims["sub"] == org["id"] and claims["role"] == "organisation"
    assert claims["exp"] - claims["iat"] <= 900
    assert api.post("/api/registry/tokens").status_code == 401
    assert api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}x"}).status_code == 401


def test_keys_are_shown_once_listed_without_secrets_and_revoked(api, coordinator):
    org = api.register(coordinator)
    key, org_token = api.organisation_token(coordinator, org["id"])
    rotated = api.post(f"{ORGS}/{org['id']}/keys", json={"label": "rotation"}, token=org_token)
    assert rotated.status_code == 201 and rotated.json["key"].startswith("doa_")
    listed = api.get(f"{ORGS}/{org['id']}/keys", token=org_token).json["items"]
    assert len(listed) == 2 and all("key" not in k and "digest" not in k for k in listed)
    assert key.split("_", 2)[2] not in json.dumps(listed)
    old_id = listed[0]["id"]
    assert api.delete(f"{ORGS}/{org['id']}/keys/{old_id}", token=org_token).status_code == 204
    assert api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    # The token minted from the revoked key is refused at once by the registry itself.
    assert api.get(f"{ORGS}/{org['id']}/keys", token=org_token).status_code == 401
    assert api.delete(f"{ORGS}/{org['id']}/keys/{uuid.uuid4()}", token=coordinator).status_code == 404
    [message] = [m for m in outbox_messages(api) if m["type"] == "key.revoked"]
    assert message["data"] == {"key_id": old_id, "owner_kind": "organisation", "owner_id": org["id"]}


def test_revocation_and_suspension_reach_every_service_within_seconds(api, coordinator):
    api.platform.start_workers()
    org = api.register(coordinator)
    key, token = api.organisation_token(coordinator, org["id"])
    assert api.get("/api/events/me", token=token).json["subject_id"] == org["id"]
    api.put(f"{ORGS}/{org['id']}/suspension", json={"reason": "danger"}, token=coordinator)
    for service in ("events", "media", "notify"):
        wait_until(lambda s=service: api.get(f"/api/{s}/me", token=token).status_code == 401, 10,
                   message=f"{service} to refuse a suspended organisation's token")
    assert api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    api.delete(f"{ORGS}/{org['id']}/suspension", token=coordinator)
    wait_until(lambda: api.get("/api/events/me", token=token).status_code == 200, 10,
               message="events to accept the reinstated organisation again")
    key_id = jwt.decode(token, options={"verify_signature": False})["akid"]
    api.delete(f"{ORGS}/{org['id']}/keys/{key_id}", token=coordinator)
    wait_until(lambda: api.get("/api/notify/me", token=token).status_code == 401, 10,
               message="notify to refuse a revoked key's token")


def test_request_ids_are_returned_and_carried_on_messages(api, coordinator):
    response = api.post(ORGS, token=coordinator, headers={"X-Request-ID": "trace-123"}, json={
        "abbreviation": "CPK", "name": "N", "name_en": "N", "country": "KE", "timezone": "Africa/Nairobi"})
    assert response.headers["X-Request-ID"] == "trace-123"
    assert outbox_messages(api)[0]["correlation_id"] == "trace-123"
    made_up = api.get(ORGS, headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    uuid.UUID(made_up)


def test_every_error_is_problem_json(api):
    not_allowed = api.request("PUT", ORGS)
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["Allow"]
    missing = api.get(f"{ORGS}/{uuid.uuid4()}")
    for response, status in ((not_allowed, 405), (missing, 404), (api.get(f"{ORGS}/not-a-uuid"), 404),
                             (api.get("/api/registry/nowhere"), 404), (api.get("/nowhere"), 404)):
        assert response.status_code == status
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["status"] == status and response.json["detail"]


def test_docs_health_and_readiness(api):
    spec = api.get("/api/registry/openapi.json").json
    assert "/api/registry/organisations" in spec["paths"] and spec["openapi"].startswith("3.")
    docs = api.get("/api/registry/docs")
    assert docs.status_code == 200 and "/api/registry/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn." not in docs.text  # Swagger UI's files are the platform's own (tests/e2e: no request leaves)
    script = api.get("/api/registry/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    for other in ("index.html", "VERSION", "..%2F__init__.py"):
        assert api.get(f"/api/registry/docs/assets/{other}").status_code == 404
    for service in ("registry", "events", "media", "notify"):
        assert api.get(f"/api/{service}/healthz").json["status"] == "alive"
        ready = api.get(f"/api/{service}/readyz")
        assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "bus": "ok"}


def test_token_requests_are_rate_limited_per_client(make_platform):
    api = ApiClient(make_platform(TOKEN_RATE_LIMIT="3/minute"))
    answers = [api.post("/api/registry/tokens", headers={"Authorization": "Bearer doa_x"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    limited = answers[-1]
    assert limited.headers["Content-Type"] == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0 and "3 per 1 minute" in limited.json["detail"]


IMPORT_HEADER = "number,abbreviation,name,name_en,country,timezone,languages,list\n"


def test_a_coordinator_imports_organisations_from_a_csv_file_and_a_rerun_changes_nothing(api, coordinator):
    good = IMPORT_HEADER + ("1,CPK,Communist Party of Kenya,Communist Party of Kenya,KE,Africa/Nairobi,sw en,initial\n"
                            "2,БКП,Българска комунистическа партия,Bulgarian Communist Party,BG,Europe/Sofia,bg,initial\n")
    bad = good + "3,X,Name,Name,XX,Europe/Berlin,de,initial\n"
    csv = {"Content-Type": "text/csv"}
    refused = api.post(f"{ORGS}/import", token=coordinator, data=bad.encode(), headers=csv)
    assert refused.status_code == 422 and counts(api) == (0, 0)  # nothing imported
    assert [(e["line"], e["field"]) for e in refused.json["errors"]] == [(4, "country")]
    done = api.post(f"{ORGS}/import", token=coordinator, data=bad.encode(), headers=csv,
                    query_string={"skip_bad": "true"})
    assert done.status_code == 200, done.json
    assert (done.json["created"], done.json["updated"], done.json["unchanged"]) == (2, 0, 0)
    assert [(e["line"], e["field"]) for e in done.json["skipped"]] == [(4, "country")]
    again = api.post(f"{ORGS}/import", token=coordinator, data=good.encode(), headers=csv).json
    assert (again["created"], again["updated"], again["unchanged"], again["skipped"]) == (0, 0, 2, [])
    assert counts(api)[0] == 2


def test_only_coordinators_import_and_only_csv_text(api, coordinator):
    org = api.register(coordinator)
    _, org_token = api.organisation_token(coordinator, org["id"])
    row = IMPORT_HEADER + "1,MLKP,Marksist Leninist Komünist Parti,MLKP,TR,Europe/Istanbul,tr,initial\n"
    assert api.post(f"{ORGS}/import", token=org_token, data=row.encode(),
                    headers={"Content-Type": "text/csv"}).status_code == 403
    assert api.post(f"{ORGS}/import", data=row.encode(), headers={"Content-Type": "text/csv"}).status_code == 401
    assert api.post(f"{ORGS}/import", token=coordinator, json={"x": 1}).status_code == 415
    utf16 = api.post(f"{ORGS}/import", token=coordinator, data=row.encode("utf-16"), headers={"Content-Type": "text/csv"})
    assert utf16.status_code == 422 and counts(api)[0] == 1


def test_a_file_that_is_not_csv_is_a_bad_row_not_a_failure(api, coordinator):
    """A stray carriage return in a header (found by the fuzzer: a 500), a cell past the csv
    module's limit: refused rows, nothing imported."""
    csv = {"Content-Type": "text/csv"}
    stray = api.post(f"{ORGS}/import", token=coordinator, data="\U0005e3b2{\x9cÙK\r\U000c7470".encode(), headers=csv)
    assert stray.status_code == 422 and stray.mimetype == "application/problem+json"
    huge = IMPORT_HEADER + '1,CPK,"' + "x" * 200_000 + '",CPK,KE,Africa/Nairobi,en,initial\n'
    refused = api.post(f"{ORGS}/import", token=coordinator, data=huge.encode(), headers=csv)
    assert refused.status_code in (413, 422) and refused.mimetype == "application/problem+json"
    assert counts(api) == (0, 0)
