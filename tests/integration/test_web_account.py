"""Signing in with an API key: an organisation submits an event (the rules' errors shown
beside the fields), a coordinator approves it, and the public page shows it. Sessions are
sealed, HttpOnly and SameSite; forms carry a CSRF token."""
from __future__ import annotations

import re

from services.registry import service as registry_service
from services.web.formats import country_name
from tests.integration.conftest import ApiClient
from tests.integration.test_local_events_api import EVENTS
from tests.second_factor import fresh_code, secret_of


def csrf_of(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.data.decode()).group(1)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
APP_SECRETS: dict[str, str] = {}  # the authenticator app each coordinator key's holder set up


def sign_in(api, key: str):
    """Sign in as a person would: the key; then, for a coordinator, the app's code — or, the first
    time, setting the app up (its secret read from the page, as from the QR code)."""
    page = api.get("/signin")
    signed = api.post("/signin", data={"key": key, "csrf": csrf_of(page)}, headers=FORM)
    if signed.status_code != 303:
        return signed
    if signed.headers["Location"].endswith("/signin/second-factor"):
        second = api.get("/signin/second-factor")
        return api.post("/signin/second-factor", data={"code": fresh_code(APP_SECRETS[key]), "csrf": csrf_of(second)},
                        headers=FORM)
    if api.get("/me").headers.get("Location", "").endswith("/me/security"):  # a coordinator's first time
        enrol = api.get("/me/security/app")
        APP_SECRETS[key] = secret_of(enrol.data.decode())
        confirmed = api.post("/me/security/app", data={"code": fresh_code(APP_SECRETS[key]), "csrf": csrf_of(enrol)},
                             headers=FORM)
        assert confirmed.headers["Location"].endswith("/me/security/recovery-codes"), confirmed.data
        assert api.get("/me/security/recovery-codes").status_code == 200
    return signed


def form(api, path: str, page, **fields):
    """A form sent as a browser sends it (a program gets problem+json instead of the page)."""
    return api.post(path, data={"csrf": csrf_of(page), **fields},
                    headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html,*/*;q=0.8"})


def test_an_organisation_submits_and_a_coordinator_approves(api, setting, coordinator):
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    signed = sign_in(api, org_key)
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/me")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and org_key not in cookie
    home = api.get("/me")
    assert home.status_code == 200 and "Submit an event" in home.data.decode()

    fields = {"campaign_id": setting["campaign"]["id"], "title": "Rally <b>now</b>", "language": "en",
              "activity_type": "rally", "city": "Nairobi", "country": "KE", "timezone": "Europe/Berlin",
              "start": "2022-12-01T17:00", "end": "2022-12-01T19:00"}
    wrong = form(api, "/me/events", home, **fields)
    assert wrong.status_code == 422
    html = wrong.data.decode()
    assert 'id="f-timezone-error"' in html and "it must be one of the country" in html  # under the field, in words
    assert 'id="f-errors"' in html and "autofocus" in html  # and in the summary, which takes the focus
    assert 'value="Nairobi"' in html  # what was typed stays
    done = form(api, "/me/events", home, **{**fields, "timezone": "Africa/Nairobi"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/me")
    assert "Your event was submitted." in api.get(done.headers["Location"]).data.decode()  # said, in words
    assert "Rally &lt;b&gt;now&lt;/b&gt;" in api.get("/me").data.decode()

    office = ApiClient(api.platform)  # another browser: the office signs in with a key of its own
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, key = registry_service.issue_key(session, "coordinator", person.id, None)
    sign_in(office, key)
    queue = office.get("/me")
    event_id = re.search(r'/me/events/([0-9a-f-]{36})/decision', queue.data.decode()).group(1)
    assert form(office, f"/me/events/{event_id}/decision", queue, decision="approve").status_code == 303
    assert api.get(f"{EVENTS}/{event_id}").json["status"] == "approved"
    assert "Rally &lt;b&gt;now&lt;/b&gt;" in api.get(f"/campaigns/{setting['campaign']['id']}").data.decode()


def test_forms_without_their_csrf_token_and_bad_keys_are_refused(api, coordinator, setting):
    assert api.post("/signin", data={"key": "doa_nope"},
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 400
    wrong_key = sign_in(api, "doa_not-a-key")
    assert wrong_key.status_code == 401 and "not valid" in wrong_key.data.decode()
    assert api.get("/me").status_code == 302  # not signed in: to the sign-in page
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    forged = api.post("/me/events", data={"csrf": "forged", "title": "x"},
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert forged.status_code == 400


def office_browser(api) -> ApiClient:
    office = ApiClient(api.platform)
    with api.platform.kernels["registry"].db.transaction() as session:
        person = registry_service.create_coordinator(session, "Office")
        _, key = registry_service.issue_key(session, "coordinator", person.id, None)
    sign_in(office, key)
    return office


def test_the_dashboard_shows_progress_and_acts(api, coordinator, setting, media_campaign):
    from tests.integration.test_finding_events import approved
    from tests.integration.test_media_reports import send

    approved(api, coordinator, setting, expected_participants=300)
    report = send(api, setting["tokens"][0], campaign_id=media_campaign, country="KE", title={"en": "We marched"}).json
    office = office_browser(api)
    page = office.get("/me")
    html = page.data.decode()
    assert "Events per country" in html and '<span class="label">Kenya</span>' in html
    signatories = api.get(f"/api/events/campaigns/{setting['campaign']['id']}/signatories").json
    countries = {s["country"] for s in signatories["initial"] + signatories["subsequent"]} - {"KE"}
    names = sorted(country_name(code) for code in countries)  # by name, in the page's language
    assert f"Countries of signatories without events yet: {', '.join(names) or 'none'}." in html
    assert "We marched" in html
    assert form(office, f"/me/reports/{report['id']}/decision", page, decision="publish").status_code == 303
    assert api.get(f"/api/media/reports/{report['id']}").json["status"] == "published"
    refused = form(office, f"/me/reports/{report['id']}/decision", office.get("/me"), decision="reject", reason="x")
    assert refused.status_code == 409  # decided already: the API's answer, shown as a page
    assert form(office, "/me/holds", office.get("/me"), country="KE", reason="raids", action="hold").status_code == 303
    assert api.get("/api/events/events").json["items"] == []
    assert form(office, "/me/holds", office.get("/me"), country="KE", action="release").status_code == 303
    assert api.get("/api/events/events").json["items"] != []


def test_an_organisation_cancels_its_event_and_endorses(api, coordinator, setting):
    from tests.integration.test_local_events_api import submit

    mine = submit(api, setting).json
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][2]["id"])  # the third: not yet a signatory
    sign_in(api, org_key)
    page = api.get("/me")
    endorsed = form(api, f"/me/campaigns/{setting['campaign']['id']}/endorsement", page)
    assert endorsed.status_code == 303 and "now endorses" in api.get(endorsed.headers["Location"]).data.decode()
    again = form(api, f"/me/campaigns/{setting['campaign']['id']}/endorsement", page)  # twice: no error page
    assert again.status_code == 303 and "already endorses" in api.get(again.headers["Location"]).data.decode()
    assert "You have endorsed this campaign" in api.get("/me").data.decode()
    signatories = api.get(f"/api/events/campaigns/{setting['campaign']['id']}/signatories").json
    assert setting["orgs"][2]["id"] in [s["organisation_id"] for s in signatories["initial"] + signatories["subsequent"]]
    theirs = form(api, f"/me/events/{mine['id']}/cancellation", api.get("/me"))
    # Another organisation's unpublished event does not exist for this one: the API's 404, shown as a page.
    assert theirs.status_code == 404 and api.get(f"{EVENTS}/{mine['id']}", token=setting["tokens"][0]).json[
        "status"] == "submitted"


def test_a_report_with_a_photo_is_sent_from_the_page(api, coordinator, setting, media_campaign):
    import io

    from tests.integration.test_media_uploads import jpeg_with_secrets

    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me")
    sent = api.post("/me/reports", data={
        "csrf": csrf_of(page), "campaign_id": media_campaign, "title": "Nairobi marched", "text": "Thousands came.",
        "country": "KE", "language": "en", "turnout": "2000", "consent": "on",
        "files": (io.BytesIO(jpeg_with_secrets(800, 600)), "march.jpg")}, content_type="multipart/form-data")
    assert sent.status_code == 303, sent.data
    reports = api.get("/api/media/reports", token=setting["tokens"][0]).json["items"]
    assert reports[0]["title"] == "Nairobi marched" and len(reports[0]["media"]) == 1
    assert sent.headers["Location"].endswith("/me/reports")
    assert "Your report was sent." in api.get("/me/reports").data.decode()
    assert "march.jpg" in api.get("/me/reports").data.decode()  # its processing state is on the page
