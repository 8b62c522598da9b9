"""In a real browser (Debian's chromium, headless, driven by Playwright): an organisation signs
in and submits an event, a coordinator approves it, and it appears on the public page, on
the map and in the calendar feed. Screenshots of the pages go to var/artifacts/screenshots."""
from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.conftest import SHOTS, an_organisation_and_a_campaign, chromium, doa_run, make_photo, sign_in_page


def wait_for_link(folder, marker: str, timeout: float = 20) -> str:
    """The first link holding `marker` in the e-mails written to `folder`."""
    import email
    from email import policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            text = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
            for word in text.split():
                if marker in word:
                    return word.strip("<>()")
        time.sleep(0.2)
    pytest.fail(f"no e-mail with {marker} in {folder}")


@pytest.fixture
def platform(tmp_path):
    """`doa run` with its e-mail written as .eml files under the test's var folder."""
    with doa_run(tmp_path / "var") as (base, coordinator_key):
        yield base, coordinator_key, tmp_path / "var"


def test_an_event_goes_from_an_organisation_through_a_coordinator_to_the_public(platform):
    from playwright.sync_api import sync_playwright

    executable = chromium()
    base, coordinator_key, var = platform
    http, org_key, org_token, campaign_id = an_organisation_and_a_campaign(base, coordinator_key)
    campaign = {"id": campaign_id}
    endorsed = http.call("POST", f"/api/events/campaigns/{campaign_id}/endorsements", token=org_token, json={})
    assert endorsed.status_code == 201, endorsed.text
    SHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{base}/signin")
            page.fill("#key", org_key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/me")
            page.click("text=Submit an event")
            # Filled in from the organisation's record: its country and zone are already chosen.
            assert page.input_value("#f-country") == "KE" and page.input_value("#f-timezone") == "Africa/Nairobi"
            page.select_option("#f-campaign_id", campaign["id"])
            page.click("form[action='/me/events'] details summary")  # the optional details: the map's point
            for field, value in (("title", "May Day rally"), ("city", "Nairobi"), ("start", "2027-05-01T10:00"),
                                 ("latitude", "-1.2921"), ("longitude", "36.8219")):
                page.fill(f"#f-{field}", value)
            page.select_option("#f-activity_type", "rally")
            page.select_option("#f-timezone", "Europe/Berlin")
            page.select_option("#f-address_public", "now")
            with page.expect_navigation():
                page.click("form[action='/me/events'] button[type=submit]")
            # The rules' error beside its field and in the focused summary, what was typed kept: not Kenya's zone.
            assert page.locator("#f-timezone-error").is_visible() and page.input_value("#f-city") == "Nairobi"
            assert page.evaluate("document.activeElement.id") == "f-errors"
            page.select_option("#f-timezone", "Africa/Nairobi")
            with page.expect_navigation(url=f"{base}/me"):
                page.click("form[action='/me/events'] button[type=submit]")
            assert "May Day rally" in page.content() and "waiting for a decision" in page.content()
            assert page.locator("p.notice[role=status]").is_visible()  # the submission is confirmed
            page.screenshot(path=str(SHOTS / "organisation.png"), full_page=True)

            # It edits the event: the form comes filled in.
            page.click("text=Edit")
            assert page.input_value("#f-title") == "May Day rally"
            page.screenshot(path=str(SHOTS / "event-edit.png"), full_page=True)
            page.fill("#f-title", "May Day rally at Uhuru Park")
            with page.expect_navigation(url=f"{base}/me"):
                page.click("form[action$='/edit'] button[type=submit]")
            assert "May Day rally at Uhuru Park" in page.content()

            office_page = browser.new_context().new_page()
            sign_in_page(office_page, base, coordinator_key)
            office_page.screenshot(path=str(SHOTS / "coordinator.png"), full_page=True)
            with office_page.expect_navigation(url=f"{base}/me"):
                office_page.click("button[value=approve]")

            public = browser.new_context(timezone_id="Asia/Tokyo").new_page()  # a reader far from Nairobi
            public.goto(f"{base}/campaigns/{campaign['id']}")
            assert "May Day rally at Uhuru Park" in public.content()
            point = public.locator("svg.worldmap a[href^='/events/']")  # on the map, a link to its page
            assert point.count() == 1 and "May Day rally at Uhuru Park" in point.inner_html()
            public.screenshot(path=str(SHOTS / "campaign.png"), full_page=True)
            # Its card gives the start in the reader's zone (10:00 in Nairobi is 16:00 in Tokyo).
            assert "16:00" in public.locator("ol.cards time").first.inner_text()
            public.click("ol.cards a[href^='/events/']")
            assert "local time in Nairobi" in public.content()
            # 10:00 in Nairobi is 16:00 in Tokyo: the page's script says it in the reader's zone.
            assert public.locator("#your-time").inner_text().endswith("16:00 (Asia/Tokyo)")
            public.screenshot(path=str(SHOTS / "event.png"), full_page=True)
            public.goto(f"{base}/campaigns/{campaign['id']}")

            # A participant subscribes, and confirms with the link in the e-mail (an .eml file here).
            public.fill("input[name=email]", "reader@example.org")
            public.click("form[action*='/subscription'] button[type=submit]")
            assert "Check your inbox" in public.content()
            link = wait_for_link(var / "mail", "/api/notify/subscriptions/confirmation?token=")
            public.goto(link)
            public.click("button[type=submit]")
            assert "Subscribed" in public.content()

            # The organisation sends a report with a photo; the office publishes it.
            photo = var / "march.jpg"
            make_photo(photo)
            page.goto(f"{base}/me/reports")
            page.select_option("#r-campaign_id", campaign["id"])
            page.fill("#r-title", "We marched")
            page.fill("#r-text", "Thousands came.")
            page.select_option("#r-country", "KE")
            page.check("input[name=consent]")
            page.set_input_files("#r-files", str(photo))
            with page.expect_navigation(url=f"{base}/me/reports"):  # the script sends the photo, then the form
                page.click("form[action='/me/reports'] button[type=submit]")
            office_page.goto(f"{base}/me")
            with office_page.expect_navigation(url=f"{base}/me"):
                office_page.click("form[action*='/me/reports/'] button[value=publish]")
            public.goto(f"{base}/campaigns/{campaign['id']}")
            assert "We marched" in public.content()
        finally:
            browser.close()
    feed = requests.get(f"{base}/api/events/campaigns/{campaign['id']}/events.ics", timeout=10).text
    assert "May Day rally at Uhuru Park" in feed
