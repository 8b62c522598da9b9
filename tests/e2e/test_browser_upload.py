"""In a real browser (Debian's chromium, headless, driven by Playwright): an organisation sends a
report with a photo of a few megabytes. The page's script sends it resumably (tus, through the
web front's /me/uploads) with a progress bar; one PATCH is cut off on the way and the upload
goes on from where the server says it stopped; then the form goes with the media id. A file
that is no photo is refused beside the file input, and the form is not sent. A page reloaded
half-way goes on with the same upload. A screenshot of the upload in progress goes to
var/artifacts/screenshots/upload.png."""
from __future__ import annotations

import os

from tests.e2e import test_browser
from tests.e2e.conftest import SHOTS, Http, an_organisation_and_a_campaign, chromium

platform = test_browser.platform  # the same `doa run`, e-mail as files under the test's var folder

CHUNK = 1024 * 1024  # the form's parts here: a few PATCHes for a photo of a few megabytes
STORED = "Object.keys(localStorage).filter(k => k.startsWith('doa-upload:'))"


def noisy_photo(path, width: int = 2000, height: int = 1500) -> int:
    """A JPEG of random noise (it hardly compresses: some 2.5 MB); answers its size."""
    from PIL import Image

    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(path, "JPEG", quality=90)
    return path.stat().st_size


def signed_in_page(browser, base: str, key: str):
    page = browser.new_page()
    page.goto(f"{base}/signin")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/me")
    page.goto(f"{base}/me/reports")  # the area's section with the report form
    return page


def fill_the_report_form(page, campaign_id: str, path) -> None:
    page.evaluate(f"document.getElementById('report-form').dataset.chunkSize = '{CHUNK}'")
    page.select_option("#r-campaign_id", campaign_id)
    page.fill("#r-title", "We marched")
    page.fill("#r-text", "Thousands came.")
    page.select_option("#r-country", "KE")
    page.check("input[name=consent]")
    page.set_input_files("#r-files", str(path))


def uploads_seen(page) -> list[tuple[str, str | None]]:
    """(method, Upload-Offset) of every request the page makes to /me/uploads, as it makes them."""
    seen: list[tuple[str, str | None]] = []
    page.on("request", lambda r: seen.append((r.method, r.headers.get("upload-offset")))
            if "/me/uploads" in r.url else None)
    return seen


def the_report_has_the_photo(http: Http, token: str, size: int) -> None:
    reports = http.call("GET", "/api/media/reports", token=token).json()["items"]
    assert len(reports) == 1 and reports[0]["title"] == "We marched" and len(reports[0]["media"]) == 1
    item = http.call("GET", f"/api/media/media/{reports[0]['media'][0]['id']}", token=token).json()
    assert item["size"] == size and item["name"] == "march.jpg" and item["consent"] is True
    assert len(http.call("GET", "/api/media/media", token=token).json()["items"]) == 1  # sent once


def test_a_photo_goes_up_with_a_progress_bar_and_survives_a_dropped_connection(platform):
    from playwright.sync_api import sync_playwright

    executable = chromium()
    base, coordinator_key, var = platform
    http, org_key, org_token, campaign_id = an_organisation_and_a_campaign(base, coordinator_key)
    photo = var / "march.jpg"
    size = noisy_photo(photo)
    assert size > 2 * CHUNK
    fake = var / "photo.png"
    fake.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script>" + b"x" * 9000 + b"</body></html>")
    SHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = signed_in_page(browser, base, org_key)

            # Not a photo: the media service's refusal shows beside the file input; nothing is sent.
            fill_the_report_form(page, campaign_id, fake)
            page.click("#report-form button[type=submit]")
            error = page.locator("#r-files-error")
            error.wait_for(state="visible", timeout=20_000)
            assert "photo.png" in error.inner_text() and "not taken" in error.inner_text()
            assert page.get_attribute("#r-files", "aria-invalid") == "true"
            assert page.url == f"{base}/me/reports"
            assert http.call("GET", "/api/media/reports", token=org_token).json()["items"] == []
            assert http.call("GET", "/api/media/media", token=org_token).json()["items"] == []

            # A photo: the second PATCH dies on the way; the script asks HEAD where to go on from.
            seen = uploads_seen(page)
            cut: list[str] = []

            def cut_one_patch(route):
                request = route.request
                if request.method == "PATCH" and request.headers.get("upload-offset") != "0" and not cut:
                    cut.append(request.headers["upload-offset"])
                    route.abort("connectionreset")
                else:
                    route.continue_()

            page.route("**/me/uploads/*", cut_one_patch)
            fill_the_report_form(page, campaign_id, photo)
            with page.expect_navigation(url=f"{base}/me/reports", timeout=90_000):
                page.click("#report-form button[type=submit]")
                page.locator("#r-files-progress progress").wait_for(timeout=20_000)
                page.locator("#r-files-status", has_text="Trying again").wait_for(timeout=20_000)
                bar = page.locator("#r-files-progress progress")
                assert 0 < int(bar.get_attribute("value")) < 100  # part of it is in, the rest is to come
                assert page.locator("#r-files-progress label", has_text="march.jpg").count() == 1
                page.screenshot(path=str(SHOTS / "upload.png"), full_page=True)
                kept = page.evaluate(STORED)
                assert len(kept) == 1 and "march.jpg" in kept[0]  # where to go on from, should the page reload
            assert page.evaluate(STORED) == []  # done: nothing left to resume
        finally:
            browser.close()

    assert cut, "no PATCH was cut off"
    patches = [offset for method, offset in seen if method == "PATCH"]
    assert patches[0] == "0" and patches.count(cut[0]) == 2  # the cut one, then again from where it stopped
    assert seen[seen.index(("PATCH", cut[0])) + 1] == ("HEAD", None)  # asked the server how far it got
    the_report_has_the_photo(http, org_token, size)


def test_a_page_reloaded_half_way_goes_on_with_the_same_upload(platform):
    from playwright.sync_api import sync_playwright

    executable = chromium()
    base, coordinator_key, var = platform
    http, org_key, org_token, campaign_id = an_organisation_and_a_campaign(base, coordinator_key)
    photo = var / "march.jpg"
    size = noisy_photo(photo)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = signed_in_page(browser, base, org_key)
            # The connection dies after the first part, for good: the person gives up and reloads.
            page.route("**/me/uploads/*", lambda route: route.abort("connectionreset")
                       if route.request.method == "PATCH" and route.request.headers.get("upload-offset") != "0"
                       else route.continue_())
            fill_the_report_form(page, campaign_id, photo)
            page.click("#report-form button[type=submit]")
            page.locator("#r-files-status", has_text="Trying again").wait_for(timeout=20_000)
            page.unroute("**/me/uploads/*")
            page.reload()
            assert len(page.evaluate(STORED)) == 1

            seen = uploads_seen(page)
            fill_the_report_form(page, campaign_id, photo)  # the same file, chosen again
            with page.expect_navigation(url=f"{base}/me/reports", timeout=90_000):
                page.click("#report-form button[type=submit]")
        finally:
            browser.close()

    assert seen[0] == ("HEAD", None) and "POST" not in [method for method, _ in seen]  # no new upload
    patches = [offset for method, offset in seen if method == "PATCH"]
    assert patches and patches[0] == str(CHUNK)  # from where the first try stopped
    the_report_has_the_photo(http, org_token, size)
