"""End-to-end helpers: real processes, driven over HTTP on loopback."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHOTS = ROOT / "var" / "artifacts" / "screenshots"  # what the browser tests saw (docs/screenshots.md)


def base_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")}
    env.update({"PATH": f"{BIN}:{env.get('PATH', '')}", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_http(url: str, timeout: float = 60, process: subprocess.Popen | None = None) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process exited with {process.returncode} before {url} answered")
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except requests.RequestException:  # not up yet
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout}s")


def stop_group(process: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM the process group, as an operator's Ctrl-C would; SIGKILL if it hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail("the processes did not stop on SIGTERM")
    return process.returncode


def find_key(text: str) -> str | None:
    match = re.search(r"\bdoa_[0-9a-f-]{36}_[A-Za-z0-9_-]+", text)
    return match.group(0) if match else None


class Http:
    """A user of the API over real HTTP."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def token(self, key: str) -> str:
        response = self.call("POST", "/api/registry/tokens", token=key)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


@contextmanager
def doa_run(var: Path, **env) -> Iterator[tuple[str, str | None]]:
    """`doa run` on a free port with `var` as its var folder (its e-mail written there as .eml
    files): yields (its base URL, the coordinator key it printed at first start). PORT in `env`
    picks the port (to name it in PUBLIC_URL beforehand)."""
    port = int(env.pop("PORT", 0)) or free_port()
    process = subprocess.Popen([str(BIN / "doa"), "run"], cwd=ROOT,
                               env=base_env(PORT=port, DOA_VAR_DIR=var, **env), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/readyz", 60, process)
        deadline = time.monotonic() + 30
        while not find_key("".join(lines)) and time.monotonic() < deadline:
            time.sleep(0.1)
        yield base, find_key("".join(lines))
    finally:
        stop_group(process)


def chromium() -> str:
    """Debian's chromium, for Playwright (no browser download): skipped where it is missing,
    a failure under DOA_REQUIRE_SERVICES=1."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("DOA_REQUIRE_SERVICES") == "1":
            pytest.fail("chromium is not installed (.ci/run installs it: apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


APP_SECRETS: dict[str, str] = {}  # the authenticator app each coordinator key's holder set up in the browser


def sign_in_page(page, base: str, key: str) -> None:
    """Sign `page` in as a person would, ending on /me: the key; then a coordinator's app code —
    or, the first time, setting the app up from the secret the page shows beside its QR code, and
    going on past the recovery codes."""
    from tests.second_factor import fresh_code

    page.goto(f"{base}/signin")
    page.fill("#key", key)
    with page.expect_navigation():
        page.click("form[action='/signin'] button[type=submit]")
    if page.url == f"{base}/signin/second-factor":
        page.fill("#code", fresh_code(APP_SECRETS[key]))
        with page.expect_navigation(url=f"{base}/me"):
            page.click("form:not([data-passkey]) button[type=submit]")
        return
    if page.url == f"{base}/me/security":  # a coordinator's first time: nothing opens before a factor
        page.goto(f"{base}/me/security/app")
        APP_SECRETS[key] = page.get_attribute("[data-totp-secret]", "data-totp-secret")
        page.fill("#code", fresh_code(APP_SECRETS[key]))
        with page.expect_navigation(url=f"{base}/me/security/recovery-codes"):
            page.click("form[action='/me/security/app'] button[type=submit]")
        with page.expect_navigation(url=f"{base}/me"):
            page.click("a.button[href='/me']")
    assert page.url == f"{base}/me", f"{key[:12]}… could not sign in: {page.url}"


def make_photo(path, size: tuple[int, int] = (640, 480), colour: tuple[int, int, int] = (30, 120, 200)) -> None:
    from PIL import Image

    Image.new("RGB", size, colour).save(path, "JPEG")


def an_organisation(http: Http, office: str, **fields) -> tuple[dict, str]:
    """Register an organisation (as the coordinator whose token is `office`) and give it an API
    key: answers (the organisation, its key)."""
    created = http.call("POST", "/api/registry/organisations", token=office, json=fields)
    assert created.status_code == 201, created.text
    organisation = created.json()
    key = http.call("POST", f"/api/registry/organisations/{organisation['id']}/keys", token=office, json={})
    assert key.status_code == 201, key.text
    return organisation, key.json()["key"]


def a_campaign(http: Http, office: str, **fields) -> str:
    """Open a campaign; answers its id once media knows it (a report or an upload may follow)."""
    created = http.call("POST", "/api/events/campaigns", token=office, json={"status": "open", **fields})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    wait_until(lambda: http.call("GET", f"/api/media/campaigns/{campaign_id}/turnout").status_code == 200,
               timeout=30, message="media to know the campaign")
    return campaign_id


def an_organisation_and_a_campaign(base: str, coordinator_key: str) -> tuple[Http, str, str, str]:
    """Answer (http, the organisation's key, a token of it, an open campaign's id known to media)."""
    http = Http(base)
    office = http.token(coordinator_key)
    _, org_key = an_organisation(
        http, office, abbreviation="CPK", name="Communist Party of Kenya", name_en="Communist Party of Kenya",
        country="KE", timezone="Africa/Nairobi", languages=["en"], contact_email="cpk@example.org")
    campaign_id = a_campaign(http, office, name="Day of action", description="The call.", languages=["en"],
                             day_of_action="2027-05-01", window_start="2027-04-25", window_end="2027-05-10")
    return http, org_key, http.token(org_key), campaign_id
