"""A coordinator's second factor in a real browser (Debian's chromium, driven by Playwright):
setting up an authenticator app from its page and signing in with its codes; and setting up a
passkey and signing in with it, through Chromium's virtual authenticator (the DevTools protocol's
WebAuthn domain: a real WebAuthn ceremony, the registry checking real signatures). The pages of
both, in English and Persian, on a phone and a laptop, go to var/artifacts/screenshots."""
from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import APP_SECRETS, SHOTS, Http, chromium, doa_run
from tests.second_factor import fresh_code, wrong_code

SCREENS = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """`doa run` reached as http://localhost:<port>: a passkey's relying party is a name, never an
    address, and PUBLIC_URL says which."""
    executable = chromium()
    port = free_port()
    var = tmp_path_factory.mktemp("second-factor") / "var"
    with doa_run(var, PORT=port, PUBLIC_URL=f"http://localhost:{port}") as (_, first_key):
        base = f"http://localhost:{port}"
        http = Http(base)
        office = http.token(first_key)  # a key alone still makes API tokens before a factor is set up
        person = http.call("POST", "/api/registry/coordinators", token=office, json={"name": "Passkey office"})
        second = http.call("POST", f"/api/registry/coordinators/{person.json()['id']}/keys", token=office, json={})
        assert second.status_code == 201, second.text
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield executable, base, first_key, second.json()["key"]


@pytest.fixture(scope="module")
def browser(platform):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=platform[0], args=["--no-sandbox"])
        yield browser
        browser.close()


def shots(browser, url: str, storage_state, name: str) -> None:
    """The page in English and Persian, 390 px and 1280 px wide; nothing wider than the screen."""
    for lang in ("en", "fa"):
        for width, viewport in SCREENS.items():
            context = browser.new_context(viewport=viewport, locale=lang, storage_state=storage_state)
            page = context.new_page()
            page.goto(f"{url}?lang={lang}")
            assert page.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} in {lang} at {width} px is {overflow} px wider than the screen"
            page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
            context.close()


def submit(page, form: str, url: str) -> None:
    with page.expect_navigation(url=url):
        page.click(f"{form} button[type=submit]")


def test_a_coordinator_sets_up_an_app_and_signs_in_with_its_code(platform, browser):
    _, base, key, _ = platform
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/signin")
    page.fill("#key", key)
    submit(page, "form[action='/signin']", f"{base}/me/security")  # nothing else opens first
    assert page.locator("#enrol-first").is_visible()
    page.goto(f"{base}/me")
    assert page.url == f"{base}/me/security"

    page.click("a[href='/me/security/app']")
    assert page.locator("figure.qr svg").is_visible()
    shots(browser, f"{base}/me/security/app", context.storage_state(), "second-factor-enrol")
    secret = page.get_attribute("[data-totp-secret]", "data-totp-secret")  # as the app reads it from the QR code
    page.fill("#code", wrong_code(secret))
    submit(page, "form[action='/me/security/app']", f"{base}/me/security/app")
    assert page.locator("p[role=alert]").inner_text().startswith("That code is not right")
    page.fill("#code", fresh_code(secret))
    submit(page, "form[action='/me/security/app']", f"{base}/me/security/recovery-codes")
    assert page.locator("ul.recovery-codes li").count() == 10
    page.screenshot(path=str(SHOTS / "second-factor-recovery-codes.png"), full_page=True)
    with page.expect_navigation(url=f"{base}/me"):
        page.click("a.button[href='/me']")
    assert page.locator("nav .tabs, ul.tabs").first.is_visible()  # the dashboard
    APP_SECRETS[key] = secret

    phone = browser.new_context(viewport=SCREENS[390]).new_page()
    phone.goto(f"{base}/signin")
    phone.fill("#key", key)
    submit(phone, "form[action='/signin']", f"{base}/signin/second-factor")
    shots(browser, f"{base}/signin/second-factor", phone.context.storage_state(), "second-factor-code")
    phone.fill("#code", fresh_code(secret))
    submit(phone, "form:not([data-passkey])", f"{base}/me")
    phone.goto(f"{base}/me/security")
    assert phone.locator("li.card[aria-current=true]").count() == 1  # this device, marked
    assert phone.locator("#sessions ~ ul li.card").count() == 2  # and the laptop's
    phone.screenshot(path=str(SHOTS / "second-factor-sessions-en-390.png"), full_page=True)
    submit(phone, "form[action='/me/security/sessions/others/end']", f"{base}/me/security")
    page.goto(f"{base}/me")
    assert page.url.startswith(f"{base}/signin"), "the laptop's session was ended: it signs in again"
    context.close()


def test_a_coordinator_sets_up_a_passkey_and_signs_in_with_it(platform, browser):
    _, base, _, key = platform
    context = browser.new_context()
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})

    page.goto(f"{base}/signin")
    page.fill("#key", key)
    submit(page, "form[action='/signin']", f"{base}/me/security")
    page.fill("#passkey-label", "Laptop")
    submit(page, "form[data-passkey=create]", f"{base}/me/security/recovery-codes")  # the first factor: codes
    assert page.locator("ul.recovery-codes li").count() == 10
    with page.expect_navigation(url=f"{base}/me"):
        page.click("a.button[href='/me']")
    page.goto(f"{base}/me/security")
    assert "Laptop" in page.locator("#factors ~ div").inner_text()

    submit(page, "form[action='/signout']", f"{base}/")
    page.goto(f"{base}/signin")
    page.fill("#key", key)
    submit(page, "form[action='/signin']", f"{base}/signin/second-factor")
    assert page.locator("form[data-passkey=get] button").is_visible()
    page.screenshot(path=str(SHOTS / "second-factor-passkey-en-1280.png"), full_page=True)
    submit(page, "form[data-passkey=get]", f"{base}/me")  # the virtual authenticator signs the challenge
    page.goto(f"{base}/me/security")
    assert "Laptop" in page.inner_text("#factors ~ div") and page.locator("li.card[aria-current=true]").count() == 1
    context.close()
