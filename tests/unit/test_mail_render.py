"""E-mails rendered in every language and composed for one recipient, with no I/O: user text escaped in
HTML and verbatim in text, times in the event's zone, a way out in every e-mail to a subscriber."""
from __future__ import annotations

import email
import re
import string
from datetime import datetime, timezone
from email import policy
from html import unescape

import pytest

from services.notify.mail.compose import compose, message_id_of
from services.notify.mail.messages import CATALOGUES
from services.notify.mail.render import KINDS, SUBSCRIBER_KINDS, Rendered, render, scope_label
from services.notify.mail.times import format_event_time, format_local_time, format_reader_time
from shared.languages import LANGUAGES, RIGHT_TO_LEFT

UTC = timezone.utc
UNSUBSCRIBE = "https://doa.example/notify/unsubscribe?token=u1&lang=fa"
ERASE = "https://doa.example/notify/erase?token=e1"
LINKS = {"unsubscribe_url": UNSUBSCRIBE, "erase_url": ERASE}


def event(**changes) -> dict:
    return {"title": "Climate march", "city": "Nairobi", "country": "KE", "activity_type": "demonstration",
            "start_local": "2022-12-01T17:00:00", "timezone": "Africa/Nairobi",
            "starts_at": datetime(2022, 12, 1, 14, 0, tzinfo=UTC), "url": "https://doa.example/events/e1", **changes}


def report(**changes) -> dict:
    return {"title": "What happened in Nairobi", "country": "KE", "url": "https://doa.example/reports/r1",
            "turnout": 12500, **changes}


def context(kind: str, **changes) -> dict:
    """A sample context of every kind; subscriber kinds carry their two links."""
    samples = {
        "confirm_subscription": {"scope_label": "events in Kenya", "confirm_url": "https://doa.example/confirm?t=c1",
                                 "expires_hours": 48},
        "new_event": {"event": event(), "campaign_name": "Climate Day 2022", "scope_label": "events in Kenya"},
        "event_changed": {"event": event(), "changed": ["starts_at", "venue", "title"]},
        "event_cancelled": {"event": event()},
        "place_freed": {"event": event()},
        "host_message": {"event": event(), "message": "The meeting point moved to the north gate."},
        "place_disclosed": {"event": event(), "place": {"venue": "Uhuru Park", "address": "Gate 2, Uhuru Highway"}},
        "reminder": {"event": event(), "subscriber_timezone": "Europe/Berlin", "when": "day_before"},
        "report_published": {"report": report(), "campaign_name": "Climate Day 2022"},
        "event_decided": {"event": event(), "decision": "rejected", "reason": "The place is not given."},
        "report_decided": {"report": report(), "decision": "approved"},
        "events_outside_window": {
            "campaign_name": "Climate Day 2022", "window_start": "2022-11-25", "window_end": "2022-12-03",
            "events": [{"title": "Vigil", "start_local": "2022-12-10T18:00:00", "timezone": "Asia/Kathmandu",
                        "url": "https://doa.example/events/e2"},
                       {"title": "Teach-in", "start_local": "2022-12-11T10:00:00", "timezone": "America/St_Johns"}]},
        "report_request": {"event": event(), "report_url": "https://doa.example/reports/new?event=e1"},
        "event_submitted": {"event": event(), "organisation_name": "Friends of the Earth Kenya",
                            "review_url": "https://doa.example/review/events/e1"},
        "report_submitted": {"report": report(), "organisation_name": "Friends of the Earth Kenya",
                             "review_url": "https://doa.example/review/reports/r1"},
        "delivery_failing": {"endpoint_url": "https://hooks.example.org/doa", "failures": 12, "disabled": True},
    }
    links = LINKS if kind in SUBSCRIBER_KINDS else {}
    return {**samples[kind], **links, **changes}


def urls_in(html: str) -> set[str]:
    return {unescape(url) for url in re.findall(r"https?://[^\"'<>\s]+", html)}


def context_urls(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(context_urls(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(context_urls(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) and value.startswith("http") else set()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_language(kind, language):
    given = context(kind)
    rendered = render(kind, language, given)
    assert rendered.language == language
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and rendered.text.endswith("\n")
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html
    # Nothing fetched when the e-mail is opened, and no link but the context's.
    assert not re.search(r"<img|<script|<link|<iframe|src=|url\(|@import", rendered.html, re.I)
    assert urls_in(rendered.html) <= context_urls(given) | {"https://hooks.example.org/doa"}
    # The text part is not HTML.
    assert "<p" not in rendered.text and "&amp;" not in rendered.text


def test_every_translation_has_the_english_messages_and_placeholders():
    def placeholders(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    english = CATALOGUES["en"]
    for language, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(english), language
        for key, text in catalogue.items():
            assert placeholders(text) == placeholders(english[key]), (language, key)
    assert set(CATALOGUES) == set(LANGUAGES)


@pytest.mark.parametrize("asked", ["xx", "pt", "", None, "pt-BR"])
def test_an_unsupported_language_falls_back_to_english(asked):
    rendered = render("new_event", asked, context("new_event"))
    assert rendered.language == "en"
    assert rendered.subject == "New event: Climate march"
    assert '<html lang="en" dir="ltr">' in rendered.html


def test_a_regional_tag_uses_its_language():
    assert render("new_event", "de-AT", context("new_event")).language == "de"
    assert render("new_event", "FR_ca", context("new_event")).language == "fr"


HOSTILE = ("<script>alert(1)</script>", '"><img src=x>')


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_user_text_is_escaped_in_html_and_verbatim_in_text(kind, hostile):
    given = context(kind)
    for key in ("scope_label", "campaign_name", "organisation_name", "reason"):
        if key in given:
            given[key] = f"{key} {hostile}"
    for key in ("event", "report"):
        if key in given:
            given[key] = {**given[key], "title": f"Title {hostile}", "city": f"City {hostile}"}
    if "events" in given:
        given["events"] = [{**e, "title": f"Title {hostile}"} for e in given["events"]]
    if kind == "delivery_failing":
        given["endpoint_url"] = f"https://hooks.example.org/{hostile}"
    for language in ("en", "fa"):
        rendered = render(kind, language, given)
        assert hostile not in rendered.html
        assert "<img" not in rendered.html and "<script" not in rendered.html
        assert hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") \
            in rendered.html
        assert hostile in rendered.text


def test_a_line_break_in_user_text_cannot_break_the_subject():
    rendered = render("new_event", "en", context("new_event", event=event(title="March\r\nBcc: all@example.org")))
    assert rendered.subject == "New event: March Bcc: all@example.org"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "//doa.example/e",
                                 "https://doa.example/a b"])
def test_only_http_links_reach_an_email(url):
    with pytest.raises(ValueError, match="link"):
        render("new_event", "en", context("new_event", event=event(url=url)))


def test_persian_html_is_right_to_left_and_latin_user_text_is_isolated():
    rendered = render("new_event", "fa", context("new_event"))
    assert rendered.html.startswith('<!DOCTYPE html>\n<html lang="fa" dir="rtl">')
    assert 'text-align:right' in rendered.html
    assert "<bdi>Climate march</bdi>" in rendered.html
    assert rendered.subject == "رویداد جدید: Climate march"
    assert "کنیا" in rendered.text   # Kenya, in Persian


@pytest.mark.parametrize("kind", sorted(SUBSCRIBER_KINDS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_subscriber_email_has_its_unsubscribe_and_erase_links(kind, language):
    rendered = render(kind, language, context(kind))
    for url in (UNSUBSCRIBE, ERASE):
        assert url in rendered.text
        assert f'href="{url.replace("&", "&amp;")}"' in rendered.html


@pytest.mark.parametrize("kind", sorted(SUBSCRIBER_KINDS))
@pytest.mark.parametrize("missing", ["unsubscribe_url", "erase_url"])
def test_a_subscriber_email_without_a_way_out_is_refused(kind, missing):
    with pytest.raises(ValueError, match=missing):
        render(kind, "en", {k: v for k, v in context(kind).items() if k != missing})


@pytest.mark.parametrize("kind,line", [
    ("event_decided", "You receive this e-mail because this address is the contact of an organisation"),
    ("event_submitted", "You receive this e-mail because you are a coordinator of the day of action."),
    ("new_event", "You receive this e-mail because this address subscribed to events in Kenya."),
    ("event_cancelled", "You receive this e-mail because this address subscribed to it."),
])
def test_the_footer_says_why_the_reader_gets_the_email(kind, line):
    rendered = render(kind, "en", context(kind))
    assert line in rendered.text and line in unescape(re.sub(r"<[^>]+>", "", rendered.html))


def test_a_missing_context_key_or_unknown_kind_or_decision_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown e-mail kind"):
        render("newsletter", "en", {})
    with pytest.raises(ValueError, match="review_url"):
        render("event_submitted", "en", {k: v for k, v in context("event_submitted").items() if k != "review_url"})
    with pytest.raises(ValueError, match="decision"):
        render("event_decided", "en", context("event_decided", decision="maybe"))
    with pytest.raises(ValueError, match="starts_at or start_local"):
        render("new_event", "en", context("new_event", event=event(starts_at=None, start_local=None)))


# --- times ---

@pytest.mark.parametrize("instant,zone,shown", [
    ("2022-11-30T19:00:00Z", "Pacific/Kiritimati", "Thursday, 1 December 2022, 09:00 (Pacific/Kiritimati, UTC+14)"),
    ("2022-12-01T06:15:00Z", "Asia/Kathmandu", "Thursday, 1 December 2022, 12:00 (Asia/Kathmandu, UTC+5:45)"),
    ("2022-12-01T20:30:00Z", "America/St_Johns", "Thursday, 1 December 2022, 17:00 (America/St_Johns, NST)"),
    ("2022-07-01T19:30:00Z", "America/St_Johns", "Friday, 1 July 2022, 17:00 (America/St_Johns, NDT)"),
    # Berlin's spring change: 02:00 CET becomes 03:00 CEST.
    ("2022-03-27T00:30:00Z", "Europe/Berlin", "Sunday, 27 March 2022, 01:30 (Europe/Berlin, CET)"),
    ("2022-03-27T01:30:00Z", "Europe/Berlin", "Sunday, 27 March 2022, 03:30 (Europe/Berlin, CEST)"),
    # And back in autumn: 02:30 happens twice, told apart by the zone's abbreviation.
    ("2022-10-30T00:30:00Z", "Europe/Berlin", "Sunday, 30 October 2022, 02:30 (Europe/Berlin, CEST)"),
    ("2022-10-30T01:30:00Z", "Europe/Berlin", "Sunday, 30 October 2022, 02:30 (Europe/Berlin, CET)"),
    ("2022-12-01T14:00:00Z", "Not/AZone", "Thursday, 1 December 2022, 14:00 (UTC)"),
])
def test_an_event_time_is_shown_in_its_own_zone_with_the_zone_named(instant, zone, shown):
    assert format_event_time(instant, zone, "en") == shown
    assert format_event_time(datetime.fromisoformat(instant), zone, "xx") == shown


@pytest.mark.parametrize("language,shown", [
    ("de", "Sonntag, 27. März 2022, 03:30 (Europe/Berlin, CEST)"),
    ("fr", "dimanche 27 mars 2022, 03:30 (Europe/Berlin, CEST)"),
    ("es", "domingo, 27 de marzo de 2022, 3:30 (Europe/Berlin, CEST)"),
    ("ru", "воскресенье, 27 марта 2022\u202fг., 03:30 (Europe/Berlin, CEST)"),
    ("tr", "27 Mart 2022 Pazar 03:30 (Europe/Berlin, CEST)"),
    ("fa", "یکشنبه 27 مارس 2022، ساعت 3:30 (Europe/Berlin, CEST)"),
])
def test_an_event_time_is_written_as_the_language_writes_it(language, shown):
    assert format_event_time(datetime(2022, 3, 27, 1, 30, tzinfo=UTC), "Europe/Berlin", language) == shown


def test_a_wall_clock_time_is_shown_as_given_in_its_zone():
    assert format_local_time("2022-12-01T12:00:00", "Asia/Kathmandu", "en") == \
        "Thursday, 1 December 2022, 12:00 (Asia/Kathmandu, UTC+5:45)"


def test_a_reminder_shows_the_subscribers_own_time_when_it_differs():
    starts = datetime(2022, 11, 30, 19, 0, tzinfo=UTC)   # 09:00 on 1 December in Kiritimati
    kiritimati = event(timezone="Pacific/Kiritimati", starts_at=starts)
    rendered = render("reminder", "en", context("reminder", event=kiritimati))
    assert "When: Thursday, 1 December 2022, 09:00 (Pacific/Kiritimati, UTC+14)" in rendered.text
    assert "Your time: Wednesday, 30 November 2022, 20:00 (Europe/Berlin, CET)" in rendered.text
    assert rendered.subject == "Reminder: Climate march, tomorrow"
    # The same wall-clock (Paris for a Berlin event), or an unknown zone, adds nothing.
    assert format_reader_time(starts, "Europe/Berlin", "Europe/Paris", "en") is None
    assert format_reader_time(starts, "Europe/Berlin", None, "en") is None
    assert format_reader_time(starts, "Europe/Berlin", "Mars/Olympus", "en") is None
    same = render("reminder", "en", context("reminder", subscriber_timezone="Africa/Addis_Ababa"))
    assert "Your time" not in same.text and "Your time" not in same.html


@pytest.mark.parametrize("language,hours,phrase", [
    ("en", 2, "in 2 hours"), ("ru", 2, "через 2 часа"), ("ru", 5, "через 5 часов"), ("de", 1, "in 1 Stunde"),
    ("en", None, "soon"),
])
def test_a_reminder_hours_before_says_how_soon(language, hours, phrase):
    rendered = render("reminder", language, context("reminder", when="hours_before", hours=hours))
    assert phrase in rendered.subject and phrase in rendered.text


def test_changed_fields_and_activity_types_are_translated():
    rendered = render("event_changed", "de", context("event_changed", changed=["starts_at", "city", "venue"]))
    assert "Diese Veranstaltung wurde geändert: Zeit und Ort." in rendered.text
    assert "Art: Demonstration" in rendered.text
    other = render("event_changed", "en", context("event_changed", changed=["mood"],
                                                  event=event(activity_type="bike_ride")))
    assert "This event has changed: mood." in other.text and "Type: bike ride" in other.text


def test_dates_counts_and_countries_are_localised():
    assert "Teilnehmende: 12.500" in render("report_published", "de", context("report_published")).text
    assert "Neuer Zeitraum: 25. Nov.\u2009–\u20093. Dez. 2022" in render(
        "events_outside_window", "de", context("events_outside_window")).text
    assert "within 2 days" in render("confirm_subscription", "en", context("confirm_subscription")).text
    assert "36 hours" in render("confirm_subscription", "en", context("confirm_subscription", expires_hours=36)).text


def test_scope_labels_in_the_readers_language():
    assert scope_label("en", country="KE") == "events in Kenya"
    assert scope_label("de", country="KE") == "Veranstaltungen (Kenia)"
    assert scope_label("tr", campaign="Climate Day") == "Climate Day etkinlikleri"
    assert scope_label("xx") == "all events"


# --- compose ---

def rendered_for(language="en", subject="New event: Climate march") -> Rendered:
    rendered = render("new_event", language, context("new_event"))
    return Rendered(subject=subject, text=rendered.text, html=rendered.html, language=rendered.language)


def test_compose_makes_a_one_click_unsubscribable_alternative_message():
    rendered = render("reminder", "fa", context("reminder"))
    message = compose(rendered, sender="Day of Action <notify@doa.example>", to="reader@example.org",
                      message_id="reminder-e1-s1", unsubscribe_url=UNSUBSCRIBE, reply_to="help@doa.example")
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == "<reminder-e1-s1@dayofaction>" and message_id_of(parsed) == "reminder-e1-s1"
    assert parsed["Content-Language"] == "fa"
    assert parsed["Subject"] == rendered.subject and parsed["To"] == "reader@example.org"
    assert parsed["Reply-To"] == "help@doa.example" and parsed["Date"].datetime.tzinfo is not None
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content() == rendered.text and html.get_content() == rendered.html


def test_compose_without_an_unsubscribe_link_has_no_list_headers():
    message = compose(rendered_for(), sender="notify@doa.example", to="org@example.org", message_id="m1")
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
    assert message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("field", ["subject", "to", "sender", "reply_to"])
@pytest.mark.parametrize("injection", ["\r\nBcc: all@example.org", "\nBcc: all@example.org", "\rX: y"])
def test_compose_refuses_a_line_break_in_any_header(field, injection):
    values = {"subject": "Hello", "to": "reader@example.org", "sender": "notify@doa.example",
              "reply_to": "help@doa.example"}
    values[field] += injection
    with pytest.raises(ValueError):
        compose(rendered_for(subject=values.pop("subject")), message_id="m1", **values)


@pytest.mark.parametrize("to", ["a@example.org, b@example.org", "no-address", ""])
def test_compose_sends_to_exactly_one_address(to):
    with pytest.raises(ValueError, match="exactly one address"):
        compose(rendered_for(), sender="notify@doa.example", to=to, message_id="m1")


@pytest.mark.parametrize("message_id", ["", "a b", "a>b", "x@y", "../etc", "a\r\nb"])
def test_compose_refuses_a_message_id_unsafe_in_a_header_or_file_name(message_id):
    with pytest.raises(ValueError, match="message_id"):
        compose(rendered_for(), sender="notify@doa.example", to="a@example.org", message_id=message_id)


@pytest.mark.parametrize("url", ["mailto:unsubscribe@doa.example", "https://doa.example/u?t=1\r\nBcc: x@y", "u"])
def test_compose_refuses_an_unsubscribe_link_a_mail_client_cannot_post_to(url):
    with pytest.raises(ValueError):
        compose(rendered_for(), sender="notify@doa.example", to="a@example.org", message_id="m1",
                unsubscribe_url=url)


ENCODED_WORDS = ["=?utf-8?b?UGF5IGhlcmU6IGh0dHBzOi8vZXZpbC5leGFtcGxl?=",  # "Pay here: https://evil.example"
                 "=?UTF-8?Q?Treffen_abgesagt?=", "Vortrag =?iso-8859-1?q?=E4nderung?= morgen",
                 "Марш =?utf-8?b?0JzQsNGA0Yg=?="]


@pytest.mark.parametrize("title", ENCODED_WORDS)
def test_a_title_written_as_an_encoded_word_reaches_the_subject_as_written(title):
    # A mail program decodes RFC 2047 words in a header: one in an event's title would show
    # readers text the moderators never saw.
    rendered = render("new_event", "en", {**context("new_event"), "event": event(title=title)})
    assert title in rendered.subject
    message = compose(rendered, sender="Day of Action <notify@doa.example>", to="reader@example.org",
                      message_id="m1", unsubscribe_url=UNSUBSCRIBE)
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == rendered.subject
    assert email.message_from_bytes(message.as_bytes(), policy=policy.compat32)["Subject"] != rendered.subject


@pytest.mark.parametrize("name", ["=?utf-8?b?Q29vcmRpbmF0aW9u?=", "Büro =?utf-8?q?Fake?="])
def test_an_encoded_word_in_a_display_name_is_shown_as_written(name):
    message = compose(rendered_for(), sender=f"{name} <notify@doa.example>", to="reader@example.org",
                      message_id="m1")
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["From"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == "notify@doa.example"


def test_an_address_that_looks_like_an_encoded_word_stays_an_address():
    to = "x=?utf-8?q?y?=@example.org"  # a valid local part
    message = compose(rendered_for(), sender="notify@doa.example", to=to, message_id="m1")
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["To"].addresses[0].addr_spec == to
