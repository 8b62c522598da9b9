"""A second factor in the registry: a coordinator's key alone makes no token once an
authenticator app is set up; a code is taken once; recovery codes work once; sign-in sessions
make fresh tokens until their holder ends them; organisations without a factor sign in as before."""
from __future__ import annotations

import pytest

from services.registry import service as registry_service
from tests.integration.conftest import ApiClient
from tests.second_factor import fresh_code, wrong_code

TOKENS = "/api/registry/tokens"


def a_coordinator(api: ApiClient) -> str:
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, key = registry_service.issue_key(session, "coordinator", person.id, None)
    return key


def sign_in(api: ApiClient, key: str, user_agent: str = "python-requests/2", **body):
    return api.post(TOKENS, headers={"Authorization": f"Bearer {key}", "User-Agent": user_agent}, json=body)


def with_app(api: ApiClient, key: str) -> tuple[str, list[str], dict]:
    """Sign in with the key alone, set up an authenticator app: (its secret, the recovery codes,
    the first sign-in's answer)."""
    first = sign_in(api, key, open_session=True)
    assert first.status_code == 200, first.json
    token = first.json["access_token"]
    me = api.get("/api/registry/me", token=token).json
    assert me["second_factor"] == {"required": True, "enrolled": False, "factors": []} and me["amr"] == ["key"]
    begun = api.post("/api/registry/me/factors/totp", token=token)
    assert begun.status_code == 200 and begun.json["uri"].startswith("otpauth://totp/")
    secret = begun.json["secret"]
    assert api.post("/api/registry/me/factors/totp", token=token).json["secret"] == secret  # the same, until confirmed
    wrong = api.post("/api/registry/me/factors/totp/confirmation", token=token, json={"code": "000000"})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "code"
    confirmed = api.post("/api/registry/me/factors/totp/confirmation", token=token, json={"code": fresh_code(secret)})
    assert confirmed.status_code == 200, confirmed.json
    codes = confirmed.json["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes, first.json


def test_a_coordinator_with_an_app_needs_a_code_once(api):
    key = a_coordinator(api)
    secret, _, first = with_app(api, key)
    # The session it was set up in proved the app; refreshing it needs no code.
    refreshed = sign_in(api, key, session=first["session"]["secret"])
    assert refreshed.status_code == 200
    assert api.get("/api/registry/me", token=refreshed.json["access_token"]).json["amr"] == ["key", "otp"]
    again = api.post("/api/registry/me/factors/totp", token=refreshed.json["access_token"])
    assert again.status_code == 409  # the secret is never shown again

    alone = sign_in(api, key)
    assert alone.status_code == 401
    assert alone.json["type"].endswith("second-factor-needed") and alone.json["factors"] == ["totp"]
    assert alone.json["title"] == "A second factor is needed"
    wrong = sign_in(api, key, otp=wrong_code(secret))
    assert wrong.status_code == 401 and wrong.json["type"].endswith("second-factor-refused")

    code = fresh_code(secret)
    signed = sign_in(api, key, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36", otp=code)
    assert signed.status_code == 200, signed.json
    assert set(signed.json["session"]) == {"id", "secret", "expires_at"}
    me = api.get("/api/registry/me", token=signed.json["access_token"]).json
    assert me["amr"] == ["key", "otp"] and me["session_id"] == signed.json["session"]["id"]
    assert me["second_factor"] == {"required": True, "enrolled": True, "factors": ["totp"]}
    replayed = sign_in(api, key, otp=code)
    assert replayed.status_code == 401 and "used already" in replayed.json["detail"]


def test_a_wrong_code_changes_nothing_and_too_many_are_stopped(make_platform):
    api = ApiClient(make_platform(FACTOR_RATE_LIMIT="3/minute"))
    key = a_coordinator(api)
    secret, _, first = with_app(api, key)
    wrong = wrong_code(secret)
    for _ in range(3):
        assert sign_in(api, key, otp=wrong).status_code == 401
    stopped = sign_in(api, key, otp=fresh_code(secret))  # even a right code, now
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0
    # Whoever guesses with a stolen key does not sign the owner's open session out.
    assert sign_in(api, key, session=first["session"]["secret"]).status_code == 200
    assert sign_in(api, key, session=first["session"]["secret"], otp=wrong).status_code == 429
    other = a_coordinator(api)  # counted per key: another coordinator is not stopped
    assert sign_in(api, other).status_code == 200


def test_a_recovery_code_works_once(api):
    key = a_coordinator(api)
    _, codes, _ = with_app(api, key)
    used = sign_in(api, key, recovery_code=codes[0].upper().replace("-", " "))  # as typed, in any case
    assert used.status_code == 200 and used.json["session"]
    assert api.get("/api/registry/me", token=used.json["access_token"]).json["amr"] == ["key", "rec"]
    assert sign_in(api, key, recovery_code=codes[0]).status_code == 401
    left = api.get("/api/registry/me/factors", token=used.json["access_token"]).json
    assert left["recovery_codes_left"] == 9 and left["totp"]["enrolled"] is True and "secret" not in str(left)


def test_sessions_are_listed_and_ended(api):
    key = a_coordinator(api)
    secret, _, first = with_app(api, key)
    phone = sign_in(api, key, user_agent="Mozilla/5.0 (Linux; Android 14) Firefox/133.0", otp=fresh_code(secret))
    laptop = sign_in(api, key, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", otp=fresh_code(secret))
    token = laptop.json["access_token"]
    listed = api.get("/api/registry/me/sessions", token=token).json["items"]
    assert {s["label"] for s in listed} == {"python-requests", "Firefox on Android", "Chrome on Linux"}
    assert [s["current"] for s in listed if s["id"] == laptop.json["session"]["id"]] == [True]
    assert "127.0.0.1" not in str(listed)  # no address is kept

    phone_token = phone.json["access_token"]
    assert api.delete(f"/api/registry/me/sessions/{phone.json['session']['id']}", token=token).status_code == 204
    assert api.get("/api/registry/me", token=phone_token).status_code == 401  # at once, not when the token expires
    assert sign_in(api, key, session=phone.json["session"]["secret"]).status_code == 401
    ended = api.delete("/api/registry/me/sessions", token=token)
    assert ended.status_code == 200 and ended.json["ended"] == 1  # the first sign-in's; not this one
    assert sign_in(api, key, session=first["session"]["secret"]).status_code == 401
    assert [s["id"] for s in api.get("/api/registry/me/sessions", token=token).json["items"]] == \
        [laptop.json["session"]["id"]]
    assert sign_in(api, key, session=laptop.json["session"]["secret"]).status_code == 200
    assert api.delete(f"/api/registry/me/sessions/{phone.json['session']['id']}", token=phone_token).status_code == 401


def test_a_coordinators_last_factor_stays_and_others_hold_their_own(api, coordinator):
    key = a_coordinator(api)
    secret, _, _ = with_app(api, key)
    token = sign_in(api, key, otp=fresh_code(secret)).json["access_token"]
    refused = api.delete("/api/registry/me/factors/totp", token=token)
    assert refused.status_code == 409 and "at least one" in refused.json["detail"]
    assert sign_in(api, key).status_code == 401  # still needed
    other = sign_in(api, a_coordinator(api)).json["access_token"]
    listed = api.get("/api/registry/me/sessions", token=other).json["items"]
    assert listed == []  # a key alone, without asking for a session, opens none; and none of the other's


def test_an_organisation_signs_in_with_its_key_alone_until_it_adds_a_factor(api, coordinator):
    org = api.register(coordinator)
    key, _ = api.organisation_token(coordinator, org["id"])
    plain = sign_in(api, key)
    assert plain.status_code == 200 and "session" not in plain.json
    me = api.get("/api/registry/me", token=plain.json["access_token"]).json
    assert me["second_factor"] == {"required": False, "enrolled": False, "factors": []}
    kept = sign_in(api, key, open_session=True)
    assert kept.status_code == 200 and kept.json["session"]["id"]
    token = kept.json["access_token"]
    secret = api.post("/api/registry/me/factors/totp", token=token).json["secret"]
    assert api.post("/api/registry/me/factors/totp/confirmation", token=token,
                    json={"code": fresh_code(secret)}).status_code == 200
    assert sign_in(api, key).status_code == 401  # now it holds the organisation too
    proven = sign_in(api, key, otp=fresh_code(secret)).json["access_token"]
    assert api.delete("/api/registry/me/factors/totp", token=proven).status_code == 204  # optional: may go
    assert sign_in(api, key).status_code == 200


@pytest.mark.parametrize("body, field", [({"otp": "1", "session": "x"}, None), ({"passkey": {}}, "challenge"),
                                          ({"otp": 5}, "otp")])
def test_bad_token_requests_name_their_field(make_platform, body, field):
    api = ApiClient(make_platform())
    answer = sign_in(api, a_coordinator(api), **body)
    assert answer.status_code == 422
    assert any((e["field"] or "").endswith(field or "_schema") or e["field"] is None for e in answer.json["errors"])


def test_a_passkey_answer_that_proves_nothing_is_refused(make_platform):
    api = ApiClient(make_platform())
    key = a_coordinator(api)
    no_passkey = api.post(f"{TOKENS}/challenge", headers={"Authorization": f"Bearer {key}"})
    assert no_passkey.status_code == 409
    token = sign_in(api, key, open_session=True).json["access_token"]
    options = api.post("/api/registry/me/factors/passkeys/options", token=token).json
    assert options["options"]["rp"]["id"] == "127.0.0.1" and options["options"]["challenge"]
    forged = api.post("/api/registry/me/factors/passkeys", token=token, json={
        "challenge": options["challenge"], "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                                                          "response": {}}})
    assert forged.status_code == 422 and forged.json["errors"][0]["field"] == "credential"
    unknown = api.post("/api/registry/me/factors/passkeys", token=token, json={
        "challenge": "6f1c1d6e-0000-4000-8000-000000000000", "credential": {}})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "challenge"
    assert api.get("/api/registry/me/factors", token=token).json["passkeys"] == []


def test_sessions_long_over_are_forgotten(make_platform):
    from datetime import timedelta

    from services.registry.models import SignInSession
    from shared.db import utcnow

    api = ApiClient(make_platform())
    key = a_coordinator(api)
    old = sign_in(api, key, open_session=True).json["session"]["id"]
    recent = sign_in(api, key, open_session=True).json["session"]["id"]
    with api.platform.kernels["registry"].db.transaction() as session:
        session.get(SignInSession, old).ended_at = utcnow() - timedelta(days=31)
        session.get(SignInSession, recent).ended_at = utcnow() - timedelta(days=1)
    sign_in(api, key, open_session=True)
    with api.platform.kernels["registry"].db.transaction() as session:
        assert session.get(SignInSession, old) is None and session.get(SignInSession, recent) is not None


def test_factors_change_only_with_a_token_that_proved_one(make_platform):
    api = ApiClient(make_platform())
    key = a_coordinator(api)
    before = sign_in(api, key).json["access_token"]  # the key alone, before the app was set up
    secret, _, first = with_app(api, key)
    for method, path in (("POST", "/api/registry/me/factors/passkeys/options"),
                         ("POST", "/api/registry/me/factors/recovery-codes"),
                         ("DELETE", "/api/registry/me/factors/totp")):
        refused = api.request(method, path, token=before)
        assert refused.status_code == 403 and "second factor" in refused.json["detail"], path
    assert api.get("/api/registry/me/factors", token=before).json["totp"]["enrolled"] is True  # reading is fine
    proven = sign_in(api, key, otp=fresh_code(secret)).json["access_token"]
    renewed = api.post("/api/registry/me/factors/recovery-codes", token=proven)
    assert renewed.status_code == 200 and len(renewed.json["recovery_codes"]) == 10


def test_a_session_begun_with_the_key_alone_ends_when_a_factor_is_added_elsewhere(api, coordinator):
    org = api.register(coordinator)
    key, _ = api.organisation_token(coordinator, org["id"])
    laptop = sign_in(api, key, open_session=True).json["session"]["secret"]
    phone = sign_in(api, key, open_session=True).json
    secret = api.post("/api/registry/me/factors/totp", token=phone["access_token"]).json["secret"]
    assert api.post("/api/registry/me/factors/totp/confirmation", token=phone["access_token"],
                    json={"code": fresh_code(secret)}).status_code == 200
    stale = sign_in(api, key, session=laptop)
    assert stale.status_code == 401 and stale.json["type"].endswith("second-factor-needed")
    assert sign_in(api, key, session=phone["session"]["secret"]).status_code == 200  # it proved the app


@pytest.mark.parametrize("proof", ["otp", "recovery_code"])
def test_one_code_sent_twice_at_once_signs_in_once(make_platform, monkeypatch, proof):
    """A code relayed by a phishing proxy and typed by its owner at the same moment: the second
    request read the factor before the first wrote it (as SQLite lets it), and must still lose."""
    from services.registry import second_factor

    api = ApiClient(make_platform())
    key = a_coordinator(api)
    secret, codes, _ = with_app(api, key)
    answer = {"otp": fresh_code(secret)} if proof == "otp" else {"recovery_code": codes[0]}
    outcomes: list[int] = []
    raced: list[bool] = []
    racer = ApiClient(api.platform)
    # Called once the first request has read its factor (the code's step; the time it marks a
    # recovery code used with), before it writes.
    target, name = (second_factor.totp, "accepted_step") if proof == "otp" else (second_factor, "utcnow")
    real = getattr(target, name)

    def the_other_request_first(*args):
        if not raced:  # the first request has read its factor: the other one runs whole now
            raced.append(True)
            outcomes.append(sign_in(racer, key, **answer).status_code)
        return real(*args)

    monkeypatch.setattr(target, name, the_other_request_first)
    first = sign_in(api, key, **answer)
    assert sorted([first.status_code, *outcomes]) == [200, 401], (first.json, outcomes)


def test_a_token_made_with_the_key_alone_before_the_first_factor_cannot_end_sessions(api):
    key = a_coordinator(api)
    early = sign_in(api, key).json["access_token"]  # before any factor: the key alone
    secret, _, first = with_app(api, key)
    signed = sign_in(api, key, otp=fresh_code(secret)).json
    for call in (lambda: api.delete("/api/registry/me/sessions", token=early),
                 lambda: api.delete(f"/api/registry/me/sessions/{signed['session']['id']}", token=early)):
        refused = call()
        assert refused.status_code == 403 and "second factor" in refused.json["detail"]
    mine = api.get("/api/registry/me/sessions", token=signed["access_token"]).json["items"]
    assert signed["session"]["id"] in {s["id"] for s in mine}  # nothing was ended
    assert api.delete("/api/registry/me/sessions", token=signed["access_token"]).status_code == 200
