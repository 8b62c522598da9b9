"""“I'll come” on the web (docs/participation.md, "On the web"): an event's page shows its places
and the form; a sign-up without an address is shown its private link and the link's QR code
once; the link's page shows the sign-up, cancels it and erases it; errors come under their
fields in the reader's language; the page stands when notify cannot answer; no key in a log."""
from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pytest
import requests

import services.web
from services.web.client import ApiError
from tests.captured_logs import logs_into
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_coarse_places import DAY_2030, WHEN
from tests.integration.test_finding_events import approved

CAMPAIGNS, EVENTS = "/api/events/campaigns", "/api/events/events"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html,*/*;q=0.8"}  # a browser
LINK = re.compile(r'href="(http://[^"]+/p/([A-Za-z0-9_-]{43}))"')


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform) -> ApiClient:
    """The platform, its sign-ups not limited (one limiter counts for every test of the process)."""
    return ApiClient(make_platform(db=request.param, PARTICIPATE_RATE_LIMIT="10000/minute"))


@pytest.fixture
def event(api, coordinator, setting) -> dict:
    """An approved public event of a campaign in 2030, with 3 places, known to notify."""
    campaign = api.post(CAMPAIGNS, token=coordinator, json=DAY_2030).json
    made = approved(api, coordinator, {**setting, "campaign": campaign}, title={"en": "Rally at Uhuru Park"},
                    address_public="never", **WHEN)
    owner = setting["tokens"][0]
    wait_until(lambda: api.patch(f"/api/notify/events/{made['id']}/participation", token=owner,
                                 json={"capacity": 3}).status_code == 200, message="notify to know the event")
    return made


def sign_up(api, event_id: str, lang: str = "en", **fields):
    return api.post(f"/events/{event_id}/participation?lang={lang}", headers=FORM, data=fields)


def private_link(page) -> tuple[str, str]:
    found = LINK.search(page.data.decode())
    assert found, page.data.decode()
    return found.group(1), found.group(2)


def test_the_event_page_shows_the_places_and_the_form(api, event):
    html = api.get(f"/events/{event['id']}?lang=en").data.decode()
    assert "0 coming" in html and "places left: 3" in html
    form = html[html.index(f'action="/events/{event["id"]}/participation'):]
    form = form[:form.index("</form>")]
    assert 'name="party_size" type="number" value="1"' in form and 'min="1" max="20"' in form
    assert 'name="show_name" value="1">' in form  # not ticked
    assert "Only for reminders and changes to this event" in form and "I&#39;ll come</button>" in form
    assert 'href="#participate"' in html  # the hero's button leads to it


def test_a_sign_up_without_an_address_is_shown_its_link_once_then_the_link_opens_it(api, event):
    page = sign_up(api, event["id"], party_size="2", name="Amina", show_name="1")
    html = page.data.decode()
    assert page.status_code == 200, html
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    url, key = private_link(page)
    assert url.startswith("http") and "Keep this link." in html and "Anyone who has it can see and cancel" in html
    assert "<svg" in html and "QR code of your private link" in html  # the QR code, inline
    assert "You are coming." in html and "Amina" in html and "Rally at Uhuru Park" in html
    assert "places left: 1" in api.get(f"/events/{event['id']}").data.decode()

    mine = api.get(f"/p/{key}?lang=en")
    seen = mine.data.decode()
    assert mine.status_code == 200 and "You are coming." in seen and "Amina" in seen and "shown to the hosts" in seen
    assert "Rally at Uhuru Park" in seen and "local time in Nairobi" in seen and "Uhuru Park, gate 2" not in seen
    assert {mine.headers[h] for h in ("Cache-Control", "Referrer-Policy", "X-Robots-Tag")} == \
        {"no-store", "no-referrer", "noindex"}
    assert f'action="/p/{key}/cancellation"' in seen and f'href="/p/{key}/erasure"' in seen
    ics = api.get(f"/p/{key}/event.ics")
    assert ics.status_code == 200 and b"BEGIN:VEVENT" in ics.data and ics.headers["Cache-Control"] == "no-store"


def test_a_full_event_puts_the_next_on_the_waiting_list_and_a_cancellation_moves_them_up(api, event):
    first = private_link(sign_up(api, event["id"], party_size="3"))[1]
    assert "Full: you can join the waiting list." in api.get(f"/events/{event['id']}?lang=en").data.decode()
    waiting = sign_up(api, event["id"], party_size="2")
    assert "You are on the waiting list, number 1." in waiting.data.decode()
    second = private_link(waiting)[1]
    cancelled = api.post(f"/p/{first}/cancellation?lang=en", headers=FORM)
    assert cancelled.status_code == 303 and cancelled.headers["Location"] == f"/p/{first}?done=cancelled"
    after = api.get(f"/p/{first}?done=cancelled&lang=en").data.decode()
    assert "Your sign-up is cancelled." in after and "Cancelled." in after and "/cancellation" not in after
    assert "You are coming." in api.get(f"/p/{second}?lang=en").data.decode()  # moved up


def test_erasing_makes_the_link_open_nothing(api, event):
    key = private_link(sign_up(api, event["id"], name="Amina"))[1]
    step = api.get(f"/p/{key}/erasure?lang=en").data.decode()
    assert "erases your sign-up, your name and your e-mail address for good" in step
    assert f'action="/p/{key}/erasure"' in step
    erased = api.post(f"/p/{key}/erasure?lang=en", headers=FORM)
    assert erased.status_code == 200 and "Everything about your sign-up is erased." in erased.data.decode()
    gone = api.get(f"/p/{key}?lang=fa", headers={"Accept": "text/html"})
    assert gone.status_code == 404 and "این پیوند چیزی را باز نمی‌کند" in gone.data.decode()
    assert gone.headers["Cache-Control"] == "no-store" and gone.headers["X-Robots-Tag"] == "noindex"
    assert api.get(f"/p/{key}.", headers={"Accept": "text/html"}).status_code == 404  # not a key: asked of no one
    program = api.get(f"/p/{key}", headers={"Accept": "application/json"})
    assert program.status_code == 404 and program.mimetype == "application/problem+json"


def test_errors_come_under_their_fields_in_persian_and_nothing_is_stored(api, event):
    page = sign_up(api, event["id"], lang="fa", party_size="0", email="nope", name="x" * 101)
    html = page.data.decode()
    assert page.status_code == 422 and 'dir="rtl"' in html
    party = html[html.index('id="p-party_size"'):html.index('id="p-name"')]
    assert "عددی از 1 تا 20 وارد کنید." in party
    name = html[html.index('id="p-name"'):html.index('name="show_name"')]
    assert "حداکثر 100 نویسه." in name
    email = html[html.index('id="p-email"'):html.index("</form>", html.index('id="p-email"'))]
    assert 'aria-invalid="true"' in email and "p-email-error" in email
    assert 'id="p-errors"' in html and "autofocus" in html and 'value="nope"' in html
    assert api.get(f"/api/notify/events/{event['id']}/participation").json["coming"] == 0


def test_the_services_refusals_come_under_their_fields_in_the_readers_language(api, event):
    """What the web lets through and notify refuses — a special-use domain, a name disguised
    with a direction override — is said under its field in the reader's words, with the reason."""
    page = sign_up(api, event["id"], lang="fa", email="reader@example.test", name="\u202eAmina")
    html = page.data.decode()
    assert page.status_code == 422, html
    name = html[html.index('id="p-name"'):html.index('name="show_name"')]
    assert "نام را بررسی کنید." in name and "p-name-error" in name
    email = html[html.index('id="p-email"'):html.index("</form>", html.index('id="p-email"'))]
    fa = json.loads((Path(services.web.__file__).parent / "translations/fa.json").read_text(encoding="utf-8"))
    assert fa["error_email"] in email and "p-email-error" in email
    assert api.get(f"/api/notify/events/{event['id']}/participation").json["coming"] == 0


def test_a_sign_up_with_an_address_is_asked_to_confirm_it(api, event):
    page = sign_up(api, event["id"], email="reader@example.org")
    html = page.data.decode()
    assert page.status_code == 200 and "Check your inbox" in html and "/p/" not in html
    assert page.headers["Cache-Control"] == "no-store"
    # The link comes by e-mail; opened before the address is confirmed, it says so and holds nothing.
    from services.notify.links import Links, link_secret
    from services.notify.models import Participation

    notify = api.platform.kernels["notify"]
    with notify.db.transaction() as s:
        signed_up = s.query(Participation).filter_by(email="reader@example.org").one()
        key = Links(link_secret(s, notify.config), notify.config).participation_key(signed_up.id)
    seen = api.get(f"/p/{key}?lang=en").data.decode()
    assert "Not confirmed yet" in seen and "You are coming." not in seen


def test_another_sites_page_cannot_sign_up_or_cancel(api, event):
    key = private_link(sign_up(api, event["id"]))[1]
    elsewhere = {**FORM, "Sec-Fetch-Site": "cross-site"}
    assert api.post(f"/events/{event['id']}/participation", headers=elsewhere, data={}).status_code == 403
    assert api.post(f"/p/{key}/cancellation", headers=elsewhere).status_code == 403
    assert api.post(f"/p/{key}/erasure", headers=elsewhere).status_code == 403
    assert "You are coming." in api.get(f"/p/{key}?lang=en").data.decode()


def test_the_event_page_stands_when_notify_cannot_answer(api, event, monkeypatch):
    web_api = api.platform.web_api
    original = web_api.send

    def notify_down(method, path, **kwargs):
        if path.startswith("/api/notify/"):
            raise ApiError(502, {"detail": "The notify service did not answer."})
        return original(method, path, **kwargs)

    monkeypatch.setattr(web_api, "send", notify_down)
    page = api.get(f"/events/{event['id']}?lang=en")
    html = page.data.decode()
    assert page.status_code == 200 and "Rally at Uhuru Park" in html
    assert "coming" not in html.split('id="participate"')[1].split("</p>")[0]  # no counts
    assert "I&#39;ll come</button>" in html  # the form stays


def test_no_log_line_writes_a_key(api, event, monkeypatch):
    """Not the services' request lines, nor the web's own when a service does not answer."""
    web_api = api.platform.web_api

    class Unreachable:
        def request(self, method, url, **kwargs):
            raise requests.ConnectionError(f"cannot reach {url}")

    with logs_into(io.StringIO()) as stream:
        key = private_link(sign_up(api, event["id"]))[1]
        api.get(f"/p/{key}")
        api.post(f"/p/{key}/cancellation", headers=FORM)
        with monkeypatch.context() as patch:
            patch.setattr(web_api, "_session", lambda: Unreachable())
            assert api.get(f"/p/{key}", headers={"Accept": "text/html"}).status_code == 502
        api.post(f"/p/{key}/erasure", headers=FORM)
        api.get(f"/p/{key}")
    out = stream.getvalue()
    messages = [json.loads(line)["message"] for line in out.splitlines() if line.startswith("{")]
    assert "POST /api/notify/participations/\u2026/cancellation 200" in messages  # the service's request line
    assert any(m.startswith("GET /api/notify/participations/\u2026: ") and "did not answer" in m
               for m in messages), messages  # the web's own
    assert key not in out, [line for line in out.splitlines() if key in line]


def test_a_cancelled_event_takes_no_sign_ups(api, event, setting):
    assert api.post(f"{EVENTS}/{event['id']}/cancellation", token=setting["tokens"][0]).status_code == 200
    html = api.get(f"/events/{event['id']}?lang=en").data.decode()
    assert "I&#39;ll come</button>" not in html and 'href="#participate"' not in html


def test_a_name_is_shown_as_text(api, event):
    markup = '<img src=x onerror=alert(1)>"Amina"'
    page = sign_up(api, event["id"], name=markup)
    key = private_link(page)[1]
    for html in (page.data.decode(), api.get(f"/p/{key}").data.decode()):
        assert markup not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_links_page_is_what_the_door_scans_and_says_when_it_was_counted(api, event, setting):
    sent = sign_up(api, event["id"], party_size="2")
    key = private_link(sent)[1]
    code = re.search(r'<code dir="ltr">([A-Z0-9]{4}-[A-Z0-9]{4})</code>', sent.data.decode()).group(1)
    page = api.get(f"/p/{key}?lang=en").data.decode()
    assert "At the door" in page and "<svg" in page and code in page and "Counted at the door." not in page
    door = api.post(f"/api/notify/events/{event['id']}/check-ins", token=setting["tokens"][0], json={"actions": [
        {"id": str(uuid.uuid4()), "kind": "participant", "code": code}]})
    assert door.status_code == 200 and door.json["checked_in"] == 2, door.json
    assert "Counted at the door." in api.get(f"/p/{key}?lang=en").data.decode()
