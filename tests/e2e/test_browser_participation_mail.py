"""“I'll come” with an e-mail address, start to end, in a real browser (Debian's chromium driven
by Playwright), in English and in Persian, on a phone (390 px; the link's page at 1280 too) —
issue 15. Per language, a participant on an approved upcoming event's page signs up for two
with a name shown to the hosts and a fresh address (by keyboard alone in Persian) and is told
to check their inbox; the e-mail the platform wrote (an .eml file under the var folder) is in
their language, and its button confirms; its other button opens the private link's page:
coming, two people, the event, the QR code and the short code for the door; they cancel there
(the event's count goes back) and erase everything, after which no file under the platform's
data directory holds their address. Screenshots: var/artifacts/screenshots/
participation-mail-<step>-<lang>-<width>.png.

One `doa run` and one browser for the module; one event and one browser context per language.
Each step is a test, in the order a person takes them; a step whose earlier step failed is
skipped."""
from __future__ import annotations

import email
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy
from pathlib import Path

import pytest

from services.notify.mail.messages import message
from tests.conftest import wait_until
from tests.e2e import test_pages_seen as pages_seen
from tests.e2e.conftest import ROOT, SHOTS, Http, a_campaign, an_organisation, doa_run
from tests.e2e.seen import axe_problems, layout_problems, look
from tests.e2e.test_pages_seen import LANGUAGES, ORGANISATIONS, SCREENS, tabs_until
from tests.integration.test_erasure_leaves_nothing import holders

LANGS = ("en", "fa")
KEYBOARD = "fa"  # the language whose participant signs up by keyboard alone
TITLES = {"en": {"en": "Evening of solidarity with the women of Iran", "fa": "شب همبستگی با زنان ایران"},
          "fa": {"fa": "تجمع همبستگی با زندانیان سیاسی", "en": "Rally for the political prisoners"}}
NAMES = {"en": "Amina", "fa": "آمنه"}
ZONES = {"en": "Africa/Nairobi", "fa": "Europe/Berlin"}  # where each participant's browser is
PERSIAN = re.compile(r"[\u0600-\u06ff]")
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}")
# notify's pages behind the e-mail's links (services/notify/link_pages.py) are English only.
def words_of(lang: str) -> dict[str, str]:
    return json.loads((ROOT / "services/web/translations" / f"{lang}.json").read_text(encoding="utf-8"))


@dataclass
class Journey:
    """One participant's way through, step by step: what each step leaves for the next."""
    lang: str
    event_id: str
    email: str
    page: object                      # a Playwright page at 390 px, in the participant's language
    words: dict
    done: set[str] = field(default_factory=set)
    mail: object = None               # the confirmation e-mail (email.message.EmailMessage)
    confirmed: dict = field(default_factory=dict)  # what the confirmation page said: lang, h1

    def after(self, step: str) -> Journey:
        if step not in self.done:
            pytest.skip(f"the earlier step {step!r} did not pass in {self.lang}")
        return self

    def press(self, selector: str):
        """Click what `selector` finds and wait for the page it leads to: its response."""
        with self.page.expect_navigation() as answered:
            self.page.click(selector)
        return answered.value

    def shot(self, step: str, width: int = 390, page=None) -> Path:
        path = SHOTS / f"participation-mail-{step}-{self.lang}-{width}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        return path

    def seen(self, step: str, width: int = 390, page=None) -> list[str]:
        """What is wrong with the page as it is now (layout_problems of seen.py: in the language
        and its direction, the heading in view, nothing sideways), after its screenshot."""
        page = page or self.page
        self.shot(step, width, page)
        return layout_problems(look(page, width), width, SCREENS[width]["viewport"]["height"], self.lang,
                               LANGUAGES[self.lang])

    def assert_coming(self, base: str, n: int) -> None:
        """The event's page, in a second tab, counts `n` people coming."""
        other = self.page.context.new_page()
        try:
            other.goto(f"{base}/events/{self.event_id}?lang={self.lang}")
            shown = other.locator("main .places").inner_text()
        finally:
            other.close()
        assert shown.startswith(self.words["participation_coming"].format(n=n)), f"the event's page says {shown!r}"


@dataclass
class Platform:
    base: str
    var: Path
    events: dict[str, str]  # language: the id of an approved event some weeks ahead


# --- the platform, the browser, the participants ------------------------------------------------

browser = pages_seen.browser  # the module's chromium, as test_pages_seen.py starts it


@pytest.fixture(scope="module")
def platform(browser, tmp_path_factory) -> Platform:
    """`doa run` (its e-mail written as .eml files under its var folder), with a campaign six
    weeks ahead, a Persian-speaking organisation and one approved event per language."""
    var = tmp_path_factory.mktemp("participation-mail") / "var"
    with doa_run(var, SUBSCRIBE_RATE_LIMIT="1000/minute", PARTICIPATE_RATE_LIMIT="1000/minute") as (base, key):
        assert key, "doa run printed no coordinator key at its first start"
        http = Http(base)
        office = http.token(key)
        day = date.today() + timedelta(weeks=6)
        campaign = a_campaign(http, office, name="Day of action for the political prisoners",
                              description="Take to the streets.", languages=["en", "fa"],
                              day_of_action=day.isoformat(), window_start=(day - timedelta(days=3)).isoformat(),
                              window_end=(day + timedelta(days=3)).isoformat())
        _, org_key = an_organisation(http, office, **ORGANISATIONS["women"])
        token = http.token(org_key)
        wait_until(lambda: http.call("POST", f"/api/events/campaigns/{campaign}/endorsements", token=token,
                                     json={}).status_code in (201, 409),
                   timeout=30, message="events to know the organisation and take its endorsement")
        events = {}
        for lang, title in TITLES.items():
            created = http.call("POST", f"/api/events/campaigns/{campaign}/events", token=token, json={
                "title": title, "description": {lang: "Everyone is welcome."}, "activity_type": "rally",
                "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin", "start": f"{day}T14:00:00",
                "end": f"{day}T16:00:00", "address": "Pariser Platz", "address_public": "now"})
            assert created.status_code == 201, created.text
            events[lang] = created.json()["id"]
            approved = http.call("POST", f"/api/events/events/{events[lang]}/approval", token=office)
            assert approved.status_code == 200, approved.text
            wait_until(lambda e=events[lang]: http.call("GET", f"/api/notify/events/{e}/participation")
                       .status_code == 200, timeout=30, interval=0.2, message="notify to know the event")
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield Platform(base, var, events)


@pytest.fixture(scope="module")
def journeys(browser, platform) -> dict[str, Journey]:
    found = {}
    for lang in LANGS:
        context = browser.new_context(**SCREENS[390], locale=lang, timezone_id=ZONES[lang])
        found[lang] = Journey(lang, platform.events[lang], f"p-{lang}-{uuid.uuid4().hex[:12]}@example.org",
                              context.new_page(), words_of(lang))
    yield found
    for journey in found.values():
        journey.page.context.close()


def mail_to(var: Path, address: str):
    """The one e-mail written to `address`, once the worker has written it."""
    def found():
        mails = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                 for p in sorted((var / "mail").glob("*.eml"))] if (var / "mail").exists() else []
        return [m for m in mails if m["To"] == address]

    mails = wait_until(found, timeout=30, interval=0.2, message=f"an e-mail to {address}")
    assert len(mails) == 1, f"{len(mails)} e-mails to {address}, not one"
    return mails[0]


def open_mail(page, mail) -> None:
    """Show the e-mail's HTML as a mail program would, in the participant's browser."""
    page.set_content(mail.get_body(("html",)).get_content())


# --- the steps ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_1_ill_come_with_an_address_says_check_your_inbox(journeys, platform, lang):
    j = journeys[lang]
    page, words = j.page, j.words
    page.goto(f"{platform.base}/events/{j.event_id}?lang={lang}")
    assert page.locator("main .places").inner_text().startswith(words["participation_coming"].format(n=0))
    if lang == KEYBOARD:
        on = "document.activeElement && document.activeElement.matches"
        assert tabs_until(page, f"{on}(\"a.button[href='#participate']\")", limit=40), "Tab never reaches I'll come"
        page.keyboard.press("Enter")  # to the form; the next Tab starts there
        assert tabs_until(page, f"{on}('#p-party_size')", limit=5), "Tab from I'll come does not reach the party size"
        page.keyboard.press("Control+A")
        page.keyboard.type("2")
        assert tabs_until(page, f"{on}('#p-name')", limit=3), "Tab from the party size does not reach the name"
        page.keyboard.type(NAMES[lang])
        assert tabs_until(page, f"{on}('input[name=show_name]')", limit=3), "Tab does not reach 'show my name'"
        page.keyboard.press("Space")
        assert tabs_until(page, f"{on}('#p-email')", limit=3), "Tab does not reach the e-mail address"
        page.keyboard.type(j.email)
        assert tabs_until(page, f"{on}('form.participate button[type=submit]')", limit=5), "Tab misses the button"
        assert page.is_checked("input[name=show_name]") and page.input_value("#p-party_size") == "2"
        with page.expect_navigation():
            page.keyboard.press("Enter")
    else:
        page.click("main a.button[href='#participate']")
        page.fill("#p-party_size", "2")
        page.fill("#p-name", NAMES[lang])
        page.check("input[name=show_name]")
        page.fill("#p-email", j.email)
        j.press("form.participate button[type=submit]")
    assert page.locator("main h1").inner_text().strip() == words["participation_check_inbox_title"]
    answer = page.get_by_text(words["participation_check_inbox"])
    answer.wait_for()
    problems = j.seen("check-inbox")
    if not answer.is_visible() or not page.evaluate(
            "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }",
            answer.element_handle()):
        problems.append("the 'check your inbox' answer is not in view")
    problems += axe_problems(page)
    assert not problems, "\n- ".join(problems)
    j.assert_coming(platform.base, 0)  # unconfirmed, it holds no place: the count tells nobody the address came
    j.done.add("signed up")


@pytest.mark.parametrize("lang", LANGS)
def test_2_the_mail_is_in_the_participants_language_and_its_button_confirms(journeys, platform, lang):
    j = journeys[lang].after("signed up")
    page = j.page
    j.mail = mail = mail_to(platform.var, j.email)
    assert mail["Content-Language"] == lang
    assert mail["Subject"] == message(lang, "confirm_participation.subject")  # a sign-up's, not a subscription's
    text = mail.get_body(("plain",)).get_content()
    assert message(lang, "confirm_subscription.ignore") in text
    assert TITLES[lang][lang] in text, f"the event's title in {lang} is not in the e-mail:\n{text}"
    if lang == "fa":
        assert len(PERSIAN.findall(text)) > 100, text
    open_mail(page, mail)
    assert page.evaluate("document.documentElement.dir") == LANGUAGES[lang]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the e-mail is wider than the phone"
    j.shot("mail")
    # Before the address is confirmed, the mail's other button opens a sign-up that holds no place.
    with page.expect_navigation():
        page.get_by_role("link", name=message(lang, "link.participation")).click()
    assert page.get_by_text(j.words["participation_state_unconfirmed"]).is_visible()
    assert page.locator("main figure.qr").count() == 0, "an unconfirmed sign-up shows a QR code for the door"
    j.shot("link-unconfirmed")
    open_mail(page, mail)
    button = page.get_by_role("link", name=message(lang, "link.confirm_participation"))
    assert button.get_attribute("href").startswith(f"{platform.base}/api/notify/subscriptions/confirmation?token=")
    with page.expect_navigation():
        button.click()
    j.shot("confirm-ask")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("h1").inner_text().strip() == message(lang, "page.confirm_participation.title")
    assert page.locator("form button").bounding_box()["height"] >= 44, "the button is too small for a thumb"
    assert j.press("form button[type=submit]").status == 200, page.content()
    j.confirmed = {"lang": page.evaluate("document.documentElement.lang"),
                   "h1": page.locator("h1").inner_text().strip(), "text": page.locator("body").inner_text()}
    j.shot("confirmed")
    # It holds its places now: two more people coming on the event's page.
    j.assert_coming(platform.base, 2)
    j.done.add("confirmed")


@pytest.mark.parametrize("lang", LANGS)
def test_2b_the_confirmation_says_so_in_the_participants_language(journeys, lang):
    j = journeys[lang].after("confirmed")
    assert j.confirmed["lang"] == lang, f"the confirmed page is <html lang={j.confirmed['lang']!r}>"
    assert j.confirmed["h1"] == message(lang, "page.confirmed_participation.title"), j.confirmed
    assert message(lang, "link.participation") in j.confirmed["text"]  # onwards to the sign-up


@pytest.mark.parametrize("lang", LANGS)
def test_3_the_private_link_from_the_mail_shows_the_sign_up(journeys, platform, browser, lang):
    j = journeys[lang].after("confirmed")
    page, words = j.page, j.words
    open_mail(page, j.mail)
    button = page.get_by_role("link", name=message(lang, "link.participation"))
    link = button.get_attribute("href")
    assert re.fullmatch(re.escape(platform.base) + r"/p/[A-Za-z0-9_-]{43}", link), link
    with page.expect_navigation():
        button.click()
    main = page.locator("main")
    assert main.locator("h1").inner_text().strip() == words["participation_title"]
    facts = dict(zip(main.locator("dl.facts dt").all_inner_texts(), main.locator("dl.facts dd").all_inner_texts(),
                     strict=True))
    assert facts.get(words["participation_state"]) == words["participation_state_coming"], facts
    assert facts.get(words["participation_people"]) == "2", facts
    assert facts.get(words["participation_event"]) == TITLES[lang][lang], facts
    assert NAMES[lang] in facts.get(words["participation_name"], "") \
        and words["name_shown_to_hosts"] in facts[words["participation_name"]], facts
    assert page.locator("main figure.qr svg").is_visible(), "the QR code for the door is not shown"
    code = page.locator("main .door-code code")
    assert code.is_visible() and CODE.fullmatch(code.inner_text().strip()), "the short code is not shown"
    problems = j.seen("link") + axe_problems(page)

    wide = browser.new_context(**SCREENS[1280], locale=lang, timezone_id=ZONES[lang]).new_page()
    try:
        wide.goto(link)
        assert wide.locator("main figure.qr svg").is_visible()
        problems += [f"at 1280 px: {p}" for p in j.seen("link", 1280, wide)]
    finally:
        wide.context.close()
    assert not problems, "\n- ".join(problems)
    j.done.add("seen")


@pytest.mark.parametrize("lang", LANGS)
def test_4_cancelled_from_the_link_page(journeys, platform, lang):
    j = journeys[lang].after("seen")
    page, words = j.page, j.words
    j.press("main form[action$='/cancellation'] button[type=submit]")
    assert page.get_by_text(words["participation_done_cancelled"]).is_visible()
    assert page.locator("main dl.facts dd strong").first.inner_text().strip() == words["participation_state_cancelled"]
    assert page.locator("main figure.qr").count() == 0, "a cancelled sign-up still shows its QR code for the door"
    problems = j.seen("cancelled")
    assert not problems, "\n- ".join(problems)
    j.assert_coming(platform.base, 0)
    j.done.add("cancelled")


@pytest.mark.parametrize("lang", LANGS)
def test_5_erased_and_the_address_is_nowhere(journeys, platform, lang):
    j = journeys[lang].after("cancelled")
    page, words = j.page, j.words
    link = page.url.split("?")[0]
    assert holders(platform.var, [j.email]), f"no file holds {j.email} before its erasure: the search below finds nothing"
    j.press(f"main a[href$='/erasure']:has-text('{words['participation_erase']}')")
    assert page.locator("main h1").inner_text().strip() == words["participation_erase"]
    problems = j.seen("erase-ask")
    j.press("main form[action$='/erasure'] button[type=submit]")
    assert page.locator("main h1").inner_text().strip() == words["participation_erased_title"]
    assert page.get_by_text(words["participation_erased"]).is_visible()
    problems += j.seen("erased")
    assert not problems, "\n- ".join(problems)
    gone = page.goto(link)
    assert gone.status == 404 and page.locator("main h1").inner_text().strip() == words["participation_not_found_title"]
    assert holders(platform.var, [j.email]) == [], f"{j.email} is still held after its erasure"
