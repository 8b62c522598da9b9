"""The web front as a person sees it (issue 12), in Debian's chromium driven by Playwright.
Every page of PAGES, in every language of LANGUAGES, on every screen of SCREENS, is one test
case (`campaign-fa-390`): the main heading in view on load, nothing overflowing sideways,
every chart and map drawn, no serious or critical axe-core violation, and a full-page
screenshot in var/artifacts/screenshots/<page>-<lang>-<width>.png (docs/screenshots.md).
A visitor on a phone, in Persian, subscribes on the campaign page by keyboard alone.

One `doa run` for the module, seeded through the API with a campaign some weeks ahead, four
organisations (Latin, Persian, Cyrillic names), events in four countries and zones (approved,
one cancelled, one waiting, one with a long title) and a published report with a photo. One
browser for the module, a fresh context per case.

To add a page: a line in PAGES (its path may name any key of `Site.ids`). Cases that fail
today are marked in KNOWN_BROKEN, and only there: remove a line when its case passes."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from tests.conftest import wait_until
from tests.e2e.conftest import (
    ROOT,
    SHOTS,
    Http,
    a_campaign,
    an_organisation,
    chromium,
    doa_run,
    make_photo,
    sign_in_page,
)
from tests.e2e.seen import axe_problems, chart_problems, image_problems, layout_problems, look

# Cases that fail today, named as pytest names them, with why. They run, and are reported as
# xfail while they fail (XPASS once they pass: then remove the line). Empty it as pages get fixed.
KNOWN_BROKEN: dict[str, str] = {
}


@dataclass(frozen=True)
class Page:
    path: str                 # {names} are filled from Site.ids
    who: str | None = None    # None: a visitor; "organisation" or "coordinator": signed in with its key
    status: int = 200
    charts: int = 0           # at least this many charts or maps (svg, role=img) are drawn in main
    bars: int = 0             # at least this many bars (of values above 0) are drawn in main


PAGES: dict[str, Page] = {
    "home": Page("/"),
    "campaign": Page("/campaigns/{campaign}", charts=1),      # the map
    "event": Page("/events/{long_event}"),                   # the longest title
    "signin": Page("/signin"),
    "not-found": Page("/no-such-page", status=404),
    "organisation": Page("/me", who="organisation"),                     # the area: its events
    "event-new": Page("/me/events/new", who="organisation"),
    "event-edit": Page("/me/events/{own_event}/edit", who="organisation"),
    "reports": Page("/me/reports", who="organisation"),
    "webhooks": Page("/me/webhooks", who="organisation"),
    "coordinator": Page("/me", who="coordinator", charts=1, bars=3),  # signatories over time; bar tables
    "security": Page("/me/security", who="coordinator"),                 # factors, sessions (this device)
    "security-organisation": Page("/me/security", who="organisation"),   # a factor optional: none yet
    "totp-enrol": Page("/me/security/app", who="organisation"),          # the QR code and the secret
    "record": Page("/me/record", who="coordinator"),                     # the audit log: a wide table
    "campaigns": Page("/me/campaigns", who="coordinator"),               # the campaign form (its retention)
    "participation": Page("/p/{participation}"),                         # a private link's page (issue 15)
    "participation-erase": Page("/p/{participation}/erasure"),           # the step before erasing
    "hosting": Page("/me/events/{own_event}/hosting", who="organisation"),      # the hosts' view (issue 15)
    "door": Page("/me/events/{own_event}/hosting/door", who="organisation"),    # the door's page for a phone
}
LANGUAGES = {"en": "ltr", "fa": "rtl", "de": "ltr"}
SCREENS = {
    390: {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
    1280: {"viewport": {"width": 1280, "height": 800}},
}


def case(test: str, *values, id: str):
    reason = KNOWN_BROKEN.get(f"{test}[{id}]")
    return pytest.param(*values, id=id, marks=[pytest.mark.xfail(strict=False, reason=reason)] if reason else [])


CASES = [case("test_seen", name, lang, width, id=f"{name}-{lang}-{width}")
         for name in PAGES for lang in LANGUAGES for width in SCREENS]


@dataclass
class Site:
    base: str
    ids: dict[str, str]
    keys: dict[str, str]                       # who: API key
    sessions: dict[str, dict] = field(default_factory=dict)  # who: the browser's signed-in storage state


# --- the platform and its data ----------------------------------------------------------------

ORGANISATIONS = {
    "kenya": dict(abbreviation="CPK", name="Communist Party of Kenya", name_en="Communist Party of Kenya",
                  country="KE", timezone="Africa/Nairobi", languages=["en", "sw"], contact_email="cpk@example.org"),
    "women": dict(abbreviation="KHZ", name="کانون همبستگی زنان", name_en="Women's Solidarity Centre",
                  country="DE", timezone="Europe/Berlin", languages=["fa", "de"], contact_email="khz@example.org"),
    "kazakhstan": dict(abbreviation="РСК", name="Рабочий союз Казахстана", name_en="Workers' Union of Kazakhstan",
                       country="KZ", timezone="Asia/Almaty", languages=["ru", "kk"],
                       contact_email="rsk@example.org"),
    "brazil": dict(abbreviation="UTB", name="União dos Trabalhadores do Brasil", name_en="Brazilian Workers' Union",
                   country="BR", timezone="America/Sao_Paulo", languages=["pt"], contact_email="utb@example.org"),
}

LONG_TITLE = {
    "en": "An evening of songs, poems and letters from prison: solidarity with the women political prisoners "
          "of Iran, followed by a discussion with former prisoners",
    "de": "Ein Abend mit Liedern, Gedichten und Briefen aus dem Gefängnis: Solidarität mit den politischen "
          "Gefangenen im Iran, anschließend Gespräch mit ehemaligen Gefangenen",
    "fa": "شبی با ترانه‌ها، شعرها و نامه‌های زندان: همبستگی با زنان زندانی سیاسی ایران، "
          "همراه با گفت‌وگو با زندانیان سابق",
}

# (name, organisation, title, activity, city, country, zone, local hour, latitude, longitude, what happens)
EVENTS = [
    ("nairobi", "kenya", {"en": "May Day rally at Uhuru Park", "sw": "Mkutano wa Mei Mosi Uhuru Park"}, "rally",
     "Nairobi", "KE", "Africa/Nairobi", 10, -1.2921, 36.8219, "approve"),
    ("mombasa", "kenya", {"en": "Lecture: the dockworkers' strike of 1947"}, "lecture",
     "Mombasa", "KE", "Africa/Nairobi", 17, -4.0435, 39.6682, "approve"),
    ("berlin", "women", {"fa": "تجمع همبستگی با زنان ایران", "de": "Solidaritätskundgebung mit den Frauen im Iran",
                         "en": "Solidarity with the women of Iran"}, "womens_solidarity_action",
     "Berlin", "DE", "Europe/Berlin", 14, 52.5200, 13.4050, "approve"),
    ("hamburg", "women", LONG_TITLE, "cultural", "Hamburg", "DE", "Europe/Berlin", 19, 53.5511, 9.9937, "approve"),
    ("almaty", "kazakhstan", {"ru": "Демонстрация за права рабочих", "en": "March for workers' rights"},
     "demonstration", "Almaty", "KZ", "Asia/Almaty", 11, 43.2220, 76.8512, "approve"),
    ("astana", "kazakhstan", {"ru": "Дискуссия о профсоюзах", "en": "Discussion: free trade unions"}, "discussion",
     "Astana", "KZ", "Asia/Almaty", 18, 51.1694, 71.4491, "cancel"),
    ("sao-paulo", "brazil", {"pt": "Ato na Avenida Paulista", "en": "Rally on Avenida Paulista"}, "demonstration",
     "São Paulo", "BR", "America/Sao_Paulo", 15, -23.5614, -46.6559, "approve"),
    ("porto-alegre", "brazil", {"pt": "Greve dos metalúrgicos", "en": "Metalworkers' strike"}, "strike",
     "Porto Alegre", "BR", "America/Sao_Paulo", 8, -30.0346, -51.2177, "wait"),
]


def seed(base: str, coordinator_key: str, var) -> Site:
    """What a campaign some weeks before its day looks like, made through the API."""
    http = Http(base)
    office = http.token(coordinator_key)
    day = date.today() + timedelta(weeks=6)
    campaign = a_campaign(
        http, office, name="Worldwide day of action for the freedom of political prisoners",
        description="We call on every organisation of the coalition to take to the streets on the day.\n\n"
                    "Hold a rally, a lecture, a cultural evening: in your city, in your language.",
        languages=["en", "de", "fa", "ru"], day_of_action=day.isoformat(),
        window_start=(day - timedelta(days=3)).isoformat(), window_end=(day + timedelta(days=3)).isoformat())
    keys, tokens, org_ids = {"coordinator": coordinator_key}, {}, {}
    for name, fields in ORGANISATIONS.items():
        organisation, keys[name] = an_organisation(http, office, **fields)
        org_ids[name], tokens[name] = organisation["id"], http.token(keys[name])
        wait_until(lambda t=tokens[name]: http.call("POST", f"/api/events/campaigns/{campaign}/endorsements",
                                                    token=t, json={}).status_code in (201, 409),
                   timeout=30, message=f"events to know {name} and take its endorsement")

    ids = {"campaign": campaign}
    for name, who, title, activity, city, country, zone, hour, lat, lon, fate in EVENTS:
        created = http.call("POST", f"/api/events/campaigns/{campaign}/events", token=tokens[who], json={
            "title": title, "description": {next(iter(title)): "Everyone is welcome."}, "activity_type": activity,
            "city": city, "country": country, "timezone": zone, "latitude": lat, "longitude": lon,
            "start": f"{day}T{hour:02d}:00:00", "end": f"{day}T{hour + 2:02d}:00:00",
            "expected_participants": 40 * hour, "address": f"{city} centre", "address_public": "now"})
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
        if fate in ("approve", "cancel"):
            approved = http.call("POST", f"/api/events/events/{ids[name]}/approval", token=office)
            assert approved.status_code == 200, approved.text
        if fate == "cancel":
            cancelled = http.call("POST", f"/api/events/events/{ids[name]}/cancellation", token=tokens[who])
            assert cancelled.status_code == 200, cancelled.text
    ids["long_event"], ids["own_event"] = ids["hamburg"], ids["berlin"]

    # Weeks before the day, a report of the posters put up in Nairobi, with a photo, is published
    # (a report of an event shows its photos only once the event is over); one from Almaty waits.
    photo = var / "posters.jpg"
    make_photo(photo, (1200, 800), (180, 40, 40))
    upload = http.call("POST", f"/api/media/uploads?campaign_id={campaign}&consent=true&name=posters.jpg",
                       token=tokens["kenya"], data=photo.read_bytes())
    assert upload.status_code == 202, upload.text
    media_id = upload.json()["id"]
    wait_until(lambda: http.call("GET", f"/api/media/media/{media_id}", token=tokens["kenya"]).json()["status"]
               == "processed", timeout=60, interval=0.3, message="the photo to be processed")
    report = http.call("POST", "/api/media/reports", token=tokens["kenya"], json={
        "campaign_id": campaign, "country": "KE", "title": {"en": "Posters all over Nairobi"},
        "turnout": 120, "text": {"en": "Students and trade unionists put up 2,000 posters for the day of action."},
        "media_ids": [media_id]})
    assert report.status_code == 201, report.text
    published = http.call("POST", f"/api/media/reports/{report.json()['id']}/publication", token=office)
    assert published.status_code == 200, published.text
    waiting = http.call("POST", "/api/media/reports", token=tokens["kazakhstan"], json={
        "campaign_id": campaign, "country": "KZ", "title": {"en": "Preparations in Almaty"},
        "text": {"en": "Leaflets are printed; the march is registered with the city."}})
    assert waiting.status_code == 201, waiting.text

    wait_until(lambda: any(r["media"] for r in http.call("GET", f"/api/media/campaigns/{campaign}/overview").json()
                           ["reports"]), timeout=30, message="the report and its photo on the campaign's page")
    wait_until(lambda: http.call("POST", "/api/notify/subscriptions", json={
        "email": "office@example.org", "scope": "campaign", "campaign_id": campaign}).status_code == 202,
        timeout=30, interval=0.3, message="notify to know the campaign")
    ids["participation"] = participation_seed(http, tokens["women"], ids)
    return Site(base, ids, {"organisation": keys["women"], "coordinator": coordinator_key})


def participation_seed(http: Http, host: str, ids: dict) -> str:
    """Places at the long-titled event (40), and a sign-up with a name at Berlin's: its key."""
    wait_until(lambda: http.call("PATCH", f"/api/notify/events/{ids['hamburg']}/participation", token=host,
                                 json={"capacity": 40}).status_code == 200,
               timeout=30, interval=0.3, message="notify to know the events")
    signed = http.call("POST", f"/api/notify/events/{ids['berlin']}/participants", json={
        "party_size": 3, "name": "Shirin K.", "show_name": True, "language": "fa"})
    assert signed.status_code == 201, signed.text
    written = http.call("POST", f"/api/notify/events/{ids['berlin']}/messages", token=host, json={"text": {
        "fa": "محل تجمع به درِ شمالی منتقل شد.", "de": "Der Treffpunkt ist jetzt am Nordtor."}})
    assert written.status_code == 201, written.text
    return signed.json()["key"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium()  # skipped (or failed, with DOA_REQUIRE_SERVICES=1) before the platform starts
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    var = tmp_path_factory.mktemp("pages-seen") / "var"
    with doa_run(var, SUBSCRIBE_RATE_LIMIT="1000/minute", PARTICIPATE_RATE_LIMIT="1000/minute") as (base, coordinator_key):
        assert coordinator_key, "doa run printed no coordinator key at its first start"
        site = seed(base, coordinator_key, var)
        for who, key in site.keys.items():  # signed in once; each case's context starts from the cookie
            context = browser.new_context()
            page = context.new_page()
            sign_in_page(page, base, key)
            site.sessions[who] = context.storage_state()
            context.close()
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield site


def new_page(browser, site: Site, width: int, lang: str, who: str | None = None):
    context = browser.new_context(**SCREENS[width], locale=lang, timezone_id="Europe/Berlin",
                                  storage_state=site.sessions[who] if who else None)
    return context.new_page()


# --- every page, as seen -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "lang", "width"), CASES)
def test_seen(browser, site, name, lang, width):
    spec = PAGES[name]
    page = new_page(browser, site, width, lang, spec.who)
    url = site.base + spec.path.format(**site.ids) + f"?lang={lang}"
    try:
        response = page.goto(url)
        problems = [] if response.status == spec.status else [f"it answered {response.status}, not {spec.status}"]
        seen = look(page, width)
        problems += layout_problems(seen, width, SCREENS[width]["viewport"]["height"], lang, LANGUAGES[lang])
        problems += chart_problems(seen, spec.charts, spec.bars)
        problems += image_problems(page)
        page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
        problems += axe_problems(page)
    finally:
        page.context.close()
    assert not problems, f"{url} at {width} px, as a person sees it:\n- " + "\n- ".join(problems)


# A page with every fault the checks look for, and one without: the checks must tell them apart.
FAULTY = """<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Faulty</title></head><body><main>
<div style="height: 1200px"></div><h1>A heading below the first screen</h1>
<div style="width: 2000px">A line wider than any phone</div>
<svg role="img" aria-label="An empty chart" width="200" height="100"><rect width="0" height="0"/></svg>
<table class="bars"><caption>Events per country</caption><tr><th scope="row">KE</th><td>3</td>
<td class="bar"><span style="display: block; height: 8px; width: 0"></span></td></tr></table>
<img src="data:image/png;base64,AAAA" alt="A photo that does not load">
<button><span></span></button></main></body></html>"""
FINE = """<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Fine</title></head><body><main><h1>In view</h1>
<svg role="img" aria-label="A chart" width="200" height="100"><rect width="50" height="20" fill="#333"/></svg>
<table class="bars"><caption>Events per country</caption><tr><th scope="row">KE</th><td>3</td>
<td class="bar"><span style="display: block; height: 8px; width: 50%; background: #333"></span></td></tr>
</table></main></body></html>"""


def test_the_checks_tell_a_faulty_page_from_a_fine_one(browser):
    context = browser.new_context(**SCREENS[390])
    page = context.new_page()
    try:
        page.set_content(FAULTY)
        seen = look(page, 390)
        faults = "\n".join(layout_problems(seen, 390, 844, "en", "ltr") + chart_problems(seen, charts=1, bars=1)
                           + image_problems(page) + axe_problems(page))
        for expected in ("overflows sideways: the page is 2", "sticking out: div", "not on the first screen",
                         "the chart svg 'An empty chart' drew nothing", "the bar of 'KE' (3)", "did not load",
                         "axe button-name (critical)"):
            assert expected in faults, f"{expected!r} not found in:\n{faults}"
        page.set_content(FINE)
        seen = look(page, 390)
        assert layout_problems(seen, 390, 844, "en", "ltr") + chart_problems(seen, charts=1, bars=1) \
            + image_problems(page) + axe_problems(page) == []
    finally:
        context.close()


def test_known_broken_names_only_cases_that_exist():
    names = {f"test_seen[{c.id}]" for c in CASES} | {f"{t}[{KEYBOARD.id}]" for t in KEYBOARD_TESTS}
    assert set(KNOWN_BROKEN) <= names, f"no such case: {sorted(set(KNOWN_BROKEN) - names)}"


# --- subscribing by keyboard alone ---------------------------------------------------------------

KEYBOARD = pytest.param("campaign", "fa", 390, id="campaign-fa-390")
KEYBOARD_TESTS = ("test_subscribe_by_keyboard", "test_few_tabs_to_subscribe")
IN_EMAIL_FIELD = "document.activeElement && document.activeElement.matches('main input[type=email]')"
# A link within the page to the subscription (the campaign's "get reminders"): a keyboard user
# follows it with Enter, as a sighted one taps it.
ON_A_LINK_TO_IT = """(() => { const a = document.activeElement, field = document.querySelector('main input[type=email]');
  if (!a || !field || !a.matches('a[href^="#"]')) return false;
  const target = document.getElementById(a.getAttribute('href').slice(1));
  const section = target && target.closest('section');  // the subscription's section, not the whole page
  return !!section && section.contains(field); })()"""
ON_ITS_SUBMIT = """(() => { const a = document.activeElement, field = document.querySelector('main input[type=email]');
  return !!a && !!field && a.form === field.form && a.matches('button:not([type]), [type=submit], [type=image]'); })()"""


def tabs_until(page, condition: str, limit: int = 200) -> int | None:
    """How many Tab presses it takes until `condition` (JavaScript) holds; None past `limit`."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return presses
    return None


@pytest.fixture(scope="module")
def subscription_by_keyboard(browser, site) -> dict:
    """A visitor on a phone, in Persian, subscribes on the campaign page by keyboard alone, from
    the page's load: how many Tab presses to the e-mail field — following, with Enter, the first
    link within the page that leads to it, if Tab meets one first — then to its submit control
    (None: not reached), and whether the confirmation was shown after Enter."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    name, lang, width = KEYBOARD.values
    walk = {"to_field": None, "to_submit": None, "confirmed": False}
    page = new_page(browser, site, width, lang)
    try:
        page.goto(site.base + PAGES[name].path.format(**site.ids) + f"?lang={lang}")
        to_link = tabs_until(page, f"({IN_EMAIL_FIELD}) || ({ON_A_LINK_TO_IT})")
        if to_link is not None and not page.evaluate(IN_EMAIL_FIELD):
            page.keyboard.press("Enter")  # the link's target: the next Tab starts from there
            after = tabs_until(page, IN_EMAIL_FIELD)
            to_link = None if after is None else to_link + after
        walk["to_field"] = to_link
        if walk["to_field"] is None:
            return walk
        page.keyboard.type("reader@example.org")
        walk["to_submit"] = tabs_until(page, ON_ITS_SUBMIT, limit=20)
        if walk["to_submit"] is None:
            return walk
        page.keyboard.press("Enter")
        words = json.loads((ROOT / "services/web/translations" / f"{lang}.json").read_text(encoding="utf-8"))
        try:
            page.get_by_text(words["check_inbox"]).first.wait_for(state="visible", timeout=15_000)
            walk["confirmed"] = True
        except PlaywrightTimeout:
            pass
        page.screenshot(path=str(SHOTS / f"subscribed-by-keyboard-{lang}-{width}.png"), full_page=True)
        return walk
    finally:
        page.context.close()


@pytest.mark.parametrize(("name", "lang", "width"), [case(KEYBOARD_TESTS[0], *KEYBOARD.values, id=KEYBOARD.id)])
def test_subscribe_by_keyboard(subscription_by_keyboard, name, lang, width):
    walk = subscription_by_keyboard
    assert walk["to_field"] is not None, "Tab never reaches the subscription's e-mail field"
    assert walk["to_submit"] is not None, "Tab does not reach the subscription's submit control from its e-mail field"
    assert walk["confirmed"], "after Enter on the submit control, no confirmation (check your inbox) is shown"


@pytest.mark.parametrize(("name", "lang", "width"), [case(KEYBOARD_TESTS[1], *KEYBOARD.values, id=KEYBOARD.id)])
def test_few_tabs_to_subscribe(subscription_by_keyboard, name, lang, width):
    walk = subscription_by_keyboard
    assert walk["to_field"] is not None and walk["to_submit"] is not None, f"the form is not reached by Tab: {walk}"
    presses = walk["to_field"] + walk["to_submit"]
    assert presses < 15, (f"{presses} Tab presses to subscribe: {walk['to_field']} from the page's load to the "
                          f"e-mail field, then {walk['to_submit']} to its submit control")


# --- what the users do, start to end ---------------------------------------------------

def test_a_persian_reader_on_a_phone_finds_an_event_near_them_adds_it_and_subscribes(browser, site):
    words = json.loads((ROOT / "services/web/translations/fa.json").read_text(encoding="utf-8"))
    page = new_page(browser, site, 390, "fa")
    try:
        page.goto(f"{site.base}/campaigns/{site.ids['campaign']}?lang=fa")
        # Near them: a country from the list (no typing a name that becomes another country).
        assert page.evaluate("document.getElementById('filter-country').tagName") == "SELECT"
        page.select_option("#filter-country", "DE")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        cities = page.locator("ol.cards .where").all_inner_texts()
        assert cities and all("آلمان" in city for city in cities), cities  # Germany's events only
        assert page.get_attribute("svg.worldmap", "viewBox") != "0 0 1000 500"  # the map zoomed to it
        page.locator("ol.cards a").first.click()
        assert page.locator("main h1").is_visible()
        # Into their calendar: the .ics answers a calendar; the Google link carries the event's times.
        ics = page.request.get(site.base + page.get_attribute("a[href$='.ics']", "href"))
        assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in ics.text()
        google = page.get_attribute("a[href^='https://calendar.google.com/']", "href")
        assert "dates=" in google and "ctz=Europe%2FBerlin" in google
        # Reminders for this event, chosen by default; a country only from the list.
        assert page.is_checked("input[name=scope][value=event]")
        assert page.evaluate("document.getElementById('s-country').tagName") == "SELECT"
        page.fill("#s-email", "reader-fa@example.org")
        with page.expect_navigation():
            page.click("form[action*='/subscription'] button[type=submit]")
        assert page.get_by_text(words["check_inbox"]).is_visible()
        page.screenshot(path=str(SHOTS / "flow-reader-fa-390.png"), full_page=True)
    finally:
        page.context.close()


def test_an_organisation_submits_an_event_in_one_pass_with_its_defaults(browser, site):
    page = new_page(browser, site, 390, "de", "organisation")
    try:
        page.goto(f"{site.base}/me/events/new?lang=de")
        # Filled in from its record: Germany, Berlin's zone, its first language (Persian).
        assert (page.input_value("#f-country"), page.input_value("#f-timezone"), page.input_value("#f-language")) \
            == ("DE", "Europe/Berlin", "fa")
        page.fill("#f-title", "همبستگی در لایپزیگ")
        page.fill("#f-city", "Leipzig")
        day = page.evaluate("document.querySelector('#f-campaign_id option:checked').textContent").split("(")[-1][:10]
        page.fill("#f-start", f"{day}T16:00")
        with page.expect_navigation():
            page.click("form[action='/me/events'] button[type=submit]")
        assert page.url == f"{site.base}/me"
        assert page.locator("p.notice[role=status]").is_visible()  # said: submitted, to be reviewed
        assert "همبستگی در لایپزیگ" in page.locator("main").inner_text()
    finally:
        page.context.close()


# --- "I'll come" on a phone (issue 15) ------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "fa"])
def test_ill_come_on_a_phone(browser, site, lang):
    """The button in view without scrolling sideways, the private link and its QR code shown
    once, the link's page, cancelling: at 390 px, in English and in Persian (right to left)."""
    words = json.loads((ROOT / "services/web/translations" / f"{lang}.json").read_text(encoding="utf-8"))
    page = new_page(browser, site, 390, lang)
    problems = []
    try:
        page.goto(f"{site.base}/events/{site.ids['long_event']}?lang={lang}")
        assert page.locator("main .places").inner_text().startswith(words["participation_coming"].format(n=0))
        button = page.locator("form.participate button[type=submit]")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 44, box
        assert page.evaluate("window.scrollX") == 0 and page.evaluate("document.documentElement.scrollWidth") <= 390
        page.fill("#p-party_size", "2")
        page.fill("#p-name", "Amina" if lang == "en" else "آمنه")
        with page.expect_navigation():
            button.click()
        problems += layout_problems(look(page, 390), 390, 844, lang, LANGUAGES[lang])
        link = page.locator(".link-box a").inner_text().strip()
        assert link.startswith(site.base + "/p/") and page.locator("figure.qr svg").is_visible()
        assert page.get_by_text(words["participation_keep_link"]).is_visible()
        page.screenshot(path=str(SHOTS / f"participation-sent-{lang}-390.png"), full_page=True)
        problems += axe_problems(page)
        page.goto(link + f"?lang={lang}")
        assert page.get_by_text(words["participation_state_coming"]).is_visible()
        with page.expect_navigation():
            page.click("form[action$='/cancellation'] button")
        assert page.get_by_text(words["participation_done_cancelled"]).is_visible()
        problems += layout_problems(look(page, 390), 390, 844, lang, LANGUAGES[lang])
        page.screenshot(path=str(SHOTS / f"participation-cancelled-{lang}-390.png"), full_page=True)
    finally:
        page.context.close()
    assert not problems, "\n- ".join(problems)


# --- the door's page, offline (issue 15) ----------------------------------------------------------

def test_the_door_keeps_taps_made_offline_and_counts_each_once(browser, site):
    """On a phone at the door the connection goes: three taps on +1 wait on the phone (their ids
    made when tapped), and when it is back they are sent and the count, the API's, reaches 3 —
    the same batch sent again counts nothing more."""
    from playwright.sync_api import expect

    page = new_page(browser, site, 390, "en", "organisation")
    door = f"{site.base}/me/events/{site.ids['hamburg']}/hosting/door?lang=en"
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/door/actions") else None)
    try:
        page.goto(door)
        assert page.locator("#door-count").inner_text() == "0"
        page.context.set_offline(True)
        for _ in range(3):
            page.click("button.door-plus")
        assert page.locator("#door-queue li").count() == 3 and page.locator("#door-offline").is_visible()
        assert page.locator("#door-count").inner_text() == "0" and page.url == door  # no form was posted
        page.screenshot(path=str(SHOTS / "door-offline-en-390.png"), full_page=True)
        page.context.set_offline(False)
        expect(page.locator("#door-count")).to_have_text("3", timeout=20000)
        assert page.locator("#door-queue li").count() == 0 and page.locator("#door-none").is_visible()
        ids = [action["id"] for batch in sent for action in batch["actions"]]
        assert len(ids) >= 3 and len(set(ids)) == 3, sent
        again = page.evaluate("""batch => fetch(document.getElementById('door').dataset.actions, {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.getElementById('door').dataset.csrf},
            body: JSON.stringify(batch)}).then(r => r.json())""", sent[-1])
        assert again["checked_in"] == 3 and again["applied"] == 0, again
        page.reload()
        assert page.locator("#door-count").inner_text() == "3"
    finally:
        page.context.close()


@pytest.mark.parametrize("service", ["registry", "events", "media", "notify"])
def test_the_api_docs_work_with_no_internet_and_tell_no_one(browser, site, service):
    """Each service's documentation page (Swagger UI) draws its operations from the platform's
    own files: with every other host unreachable it works, and it asks no other host anything."""
    page = new_page(browser, site, 1280, "en")
    elsewhere: list[str] = []

    def only_here(route):
        if route.request.url.startswith(site.base + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    try:
        page.goto(f"{site.base}/api/{service}/docs")
        page.locator(".opblock").first.wait_for(state="visible", timeout=15000)
        assert page.locator(".opblock").count() >= 3, f"the {service} docs show almost no operation"
        assert elsewhere == [], f"the docs page asked other hosts: {elsewhere}"
        if service == "events":
            page.screenshot(path=str(SHOTS / f"api-docs-{service}-1280.png"))
    finally:
        page.context.close()
