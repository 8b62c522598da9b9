"""In a real browser: an organisation moves its approved event to another city; the public page
keeps the approved city; the coordinator reads the change as a diff in the queue and accepts
it with the keyboard (j, then a), as new events are; then the public page shows the new city.
Screenshots of the organisation's area and of the diff go to var/artifacts/screenshots."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import SHOTS, an_organisation_and_a_campaign, chromium, doa_run, sign_in_page


@pytest.fixture
def platform(tmp_path):
    with doa_run(tmp_path / "var") as (base, coordinator_key):
        yield base, coordinator_key


def test_a_coordinator_reads_the_diff_and_accepts_with_the_keyboard(platform):
    from playwright.sync_api import sync_playwright

    executable = chromium()
    base, coordinator_key = platform
    http, org_key, org_token, campaign_id = an_organisation_and_a_campaign(base, coordinator_key)
    office = http.token(coordinator_key)  # before the browser sets up the coordinator's second factor
    made = http.call("POST", f"/api/events/campaigns/{campaign_id}/events", token=org_token, json={
        "title": {"en": "May Day rally"}, "activity_type": "rally", "city": "Nairobi", "country": "KE",
        "timezone": "Africa/Nairobi", "start": "2027-05-01T10:00:00", "end": "2027-05-01T12:00:00"}).json()
    assert http.call("POST", f"/api/events/events/{made['id']}/approval", token=office).status_code == 200
    moved = http.call("PATCH", f"/api/events/events/{made['id']}", token=org_token, json={"city": "Mombasa"})
    assert moved.status_code == 200 and moved.json()["city"] == "Nairobi"
    SHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            public = browser.new_context().new_page()
            public.goto(f"{base}/events/{made['id']}")
            assert "Nairobi" in public.content() and "Mombasa" not in public.content()

            organisation = browser.new_context().new_page()
            sign_in_page(organisation, base, org_key)
            told = organisation.locator("p.notice", has_text="awaits a coordinator's review")
            assert told.is_visible() and "Changed: City." in told.inner_text()
            organisation.screenshot(path=str(SHOTS / "organisation-change.png"), full_page=True)

            page = browser.new_context().new_page()
            sign_in_page(page, base, coordinator_key)
            item = page.locator(".queue-item", has_text="Mombasa")
            assert item.locator("del").first.inner_text() == "Nairobi"
            assert item.locator("ins").first.inner_text() == "Mombasa"
            page.screenshot(path=str(SHOTS / "coordinator-change.png"), full_page=True)
            page.keyboard.press("j")  # the first item waiting: the change (no new event waits)
            assert page.evaluate("document.activeElement.classList.contains('queue-item')")
            with page.expect_navigation(url=f"{base}/me"):
                page.keyboard.press("a")
            assert "The change is accepted" in page.content()
            assert page.locator(".queue-item").count() == 0

            public.goto(f"{base}/events/{made['id']}")
            assert "Mombasa" in public.content()
        finally:
            browser.close()
