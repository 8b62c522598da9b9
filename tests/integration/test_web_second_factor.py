"""The second factor on the web: a coordinator's first sign-in leads to setting up an
authenticator app before anything else; later sign-ins ask for its code (each once) or a
recovery code; the Security page lists where one is signed in, this device marked, and ends
the others at once. Organisations sign in with their key alone until they add a factor."""
from __future__ import annotations

import re

from services.registry import service as registry_service
from tests.integration.conftest import ApiClient
from tests.integration.test_web_account import APP_SECRETS, FORM, csrf_of, sign_in
from tests.second_factor import fresh_code, secret_of, wrong_code

BROWSER = {**FORM, "Accept": "text/html,*/*;q=0.8"}


def a_coordinator_key(api) -> str:
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, key = registry_service.issue_key(session, "coordinator", person.id, None)
    return key


def key_only(browser, key: str):
    return browser.post("/signin", data={"key": key, "csrf": csrf_of(browser.get("/signin"))}, headers=BROWSER)


def second_step(browser, code: str):
    page = browser.get("/signin/second-factor")
    return browser.post("/signin/second-factor", data={"code": code, "csrf": csrf_of(page)}, headers=BROWSER)


def test_a_coordinator_sets_up_an_app_first_then_signs_in_with_its_codes(make_platform):
    api = ApiClient(make_platform())
    key = a_coordinator_key(api)
    assert key_only(api, key).status_code == 303
    for path in ("/me", "/me/campaigns", "/me/webhooks"):  # nothing but setting up a factor
        assert api.get(path).headers["Location"].endswith("/me/security")
    security = api.get("/me/security").data.decode()
    assert "Coordinators protect their account with a second factor" in security
    assert "Where you are signed in" not in security

    enrol = api.get("/me/security/app")
    html = enrol.data.decode()
    assert "<svg" in html and "QR code" in html and "http" not in html.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")  # made here: no outside address in it
    secret = secret_of(html)
    wrong = api.post("/me/security/app", data={"code": "12", "csrf": csrf_of(enrol)}, headers=BROWSER)
    assert wrong.status_code == 422 and "That code is not right" in wrong.data.decode()
    assert secret_of(wrong.data.decode()) == secret  # the same secret, until confirmed
    done = api.post("/me/security/app", data={"code": fresh_code(secret), "csrf": csrf_of(enrol)}, headers=BROWSER)
    assert done.headers["Location"].endswith("/me/security/recovery-codes")
    shown = api.get("/me/security/recovery-codes").data.decode()
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", shown)
    assert len(codes) == 10 and "shown only now" in shown
    assert api.get("/me/security/recovery-codes").status_code == 303  # once
    assert api.get("/me").status_code == 200  # the dashboard opens now
    assert "An authenticator app is set up." in api.get("/me/security").data.decode()

    phone = ApiClient(api.platform)
    asked = key_only(phone, key)
    assert asked.headers["Location"].endswith("/signin/second-factor")
    assert phone.get("/me").status_code == 302  # not signed in by the key alone
    refused = second_step(phone, wrong_code(secret))
    assert refused.status_code == 401 and "That code is not right" in refused.data.decode()
    code = fresh_code(secret)
    assert second_step(phone, code).headers["Location"].endswith("/me")
    assert phone.get("/me").status_code == 200

    laptop = ApiClient(api.platform)
    key_only(laptop, key)
    assert second_step(laptop, code).status_code == 401  # a code is good once
    assert second_step(laptop, codes[0]).status_code == 303  # a recovery code, once
    assert laptop.get("/me").status_code == 200
    again = ApiClient(api.platform)
    key_only(again, key)
    assert second_step(again, codes[0]).status_code == 401

    page = laptop.get("/me/security")
    html = page.data.decode()
    assert html.count("this device") == 1 and "Sign out everywhere else" in html
    assert "127.0.0.1" not in html  # no address is kept, so none is shown
    ended = laptop.post("/me/security/sessions/others/end", data={"csrf": csrf_of(page)}, headers=BROWSER)
    assert ended.status_code == 303
    assert "Every other session was signed out." in laptop.get(ended.headers["Location"]).data.decode()
    assert phone.get("/me").status_code == 302  # at its next page, not when its token expires
    assert api.get("/me").status_code == 302
    assert laptop.get("/me").status_code == 200


def test_signing_out_ends_the_registrys_session_too(make_platform):
    api = ApiClient(make_platform())
    key = a_coordinator_key(api)
    assert sign_in(api, key).status_code == 303  # sets the app up
    other = ApiClient(api.platform)
    sign_in(other, key)
    page = other.get("/me/security")
    assert page.data.decode().count("Sign out there") == 1  # the first browser's session
    other.post("/signout", data={"csrf": csrf_of(page)}, headers=BROWSER)
    assert "Sign out there" not in api.get("/me/security").data.decode()  # gone from the list


def test_an_organisation_signs_in_with_its_key_and_may_add_a_factor(api, coordinator, setting):
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    assert sign_in(api, org_key).headers["Location"].endswith("/me")
    assert api.get("/me").status_code == 200
    security = api.get("/me/security").data.decode()
    assert "optional for organisations" in security and "this device" in security
    enrol = api.get("/me/security/app")
    secret = secret_of(enrol.data.decode())
    api.post("/me/security/app", data={"code": fresh_code(secret), "csrf": csrf_of(enrol)}, headers=BROWSER)
    assert api.get("/me").status_code == 200  # this session proved the app: it goes on
    later = ApiClient(api.platform)
    assert key_only(later, org_key).headers["Location"].endswith("/signin/second-factor")
    assert second_step(later, fresh_code(secret)).headers["Location"].endswith("/me")


def test_the_second_step_waits_for_a_key_and_is_said_in_persian(make_platform):
    api = ApiClient(make_platform())
    assert api.get("/signin/second-factor").headers["Location"].endswith("/signin")  # no key given yet
    key = a_coordinator_key(api)
    sign_in(api, key)
    other = ApiClient(api.platform)
    key_only(other, key)
    page = other.get("/signin/second-factor?lang=fa").data.decode()
    assert 'dir="rtl"' in page and "مرحلهٔ دوم ورود" in page and 'autocomplete="one-time-code"' in page
    assert other.get("/signin/second-factor").headers["Cache-Control"] == "no-store"


def test_too_many_wrong_codes_are_stopped_with_retry_after(make_platform):
    api = ApiClient(make_platform(FACTOR_RATE_LIMIT="2/minute"))
    key = a_coordinator_key(api)
    sign_in(api, key)
    other = ApiClient(api.platform)
    key_only(other, key)
    for _ in range(2):
        assert second_step(other, wrong_code(APP_SECRETS[key])).status_code == 401
    stopped = second_step(other, fresh_code(APP_SECRETS[key]))
    assert stopped.status_code == 429 and stopped.headers["Retry-After"] == "60"
    assert "Too many" in stopped.data.decode() or "too many" in stopped.data.decode()
