"""Renders one e-mail (subject, text and HTML) of a kind, in the reader's language, with no I/O.

Each kind is one template in templates/ rendered twice: by an autoescaping environment with the HTML
layout and building blocks, and by a plain one with the text ones, so both parts always say the same.
The context is checked and turned into display values here (times, countries, activity types, links);
templates only lay them out. All context values may be user text: escaped in HTML, verbatim in text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from babel.dates import format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from services.notify.mail import times
from services.notify.mail.messages import message
from services.notify.mail.times import babel_locale
from shared.languages import LANGUAGES, RIGHT_TO_LEFT

# Kind → who reads it and the context keys it cannot do without.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "confirm_subscription": ("subscriber", ("scope_label", "confirm_url", "expires_hours")),
    "new_event": ("subscriber", ("event",)),
    "event_changed": ("subscriber", ("event", "changed")),
    "event_cancelled": ("subscriber", ("event",)),
    "place_freed": ("subscriber", ("event",)),
    "place_disclosed": ("subscriber", ("event", "place")),
    "host_message": ("subscriber", ("event", "message")),
    "reminder": ("subscriber", ("event", "when")),
    "report_published": ("subscriber", ("report",)),
    "event_decided": ("organisation", ("event", "decision")),
    "report_decided": ("organisation", ("report", "decision")),
    "events_outside_window": ("organisation", ("campaign_name", "window_start", "window_end", "events")),
    "report_request": ("organisation", ("event", "report_url")),
    "event_submitted": ("coordinator", ("event", "organisation_name", "review_url")),
    "report_submitted": ("coordinator", ("report", "organisation_name", "review_url")),
    "delivery_failing": ("coordinator", ("endpoint_url", "failures", "disabled")),
}
SUBSCRIBER_KINDS = frozenset(kind for kind, (audience, _) in KINDS.items() if audience == "subscriber")
# Every e-mail to a subscriber (or would-be subscriber) carries both ways out; render refuses one without.
SUBSCRIBER_LINKS = ("unsubscribe_url", "erase_url")

# Names of changed event fields → the word shown for them; others are shown as given.
CHANGED_FIELDS = {
    **dict.fromkeys(("start", "starts_at", "start_local", "starts_local", "end", "ends_at", "end_local",
                     "ends_local", "time", "date", "timezone"), "time"),
    **dict.fromkeys(("place", "venue", "city", "address", "country", "location", "latitude", "longitude"), "place"),
    "title": "title", "description": "description", "activity_type": "type", "type": "type", "online_url": "online",
}

_TEMPLATES = Path(__file__).parent / "templates"
_OPTIONS = dict(loader=FileSystemLoader(_TEMPLATES), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_HTML = Environment(autoescape=True, **_OPTIONS)
_TEXT = Environment(autoescape=False, keep_trailing_newline=True, **_OPTIONS)
_FONTS = {"ltr": "Arial,Helvetica,sans-serif", "rtl": "Tahoma,Arial,sans-serif"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str   # the language used: English when the one asked for is not supported


def supported_language(language: str | None) -> str:
    """ "de-AT" and "de_DE" → "de"; anything not supported → "en"."""
    base = re.split(r"[-_]", (language or "").strip().lower())[0]
    return base if base in LANGUAGES else "en"


def scope_label(language: str, *, country: str | None = None, campaign: str | None = None,
                organisation: str | None = None) -> str:
    """What a subscription covers, in `language`, for confirm_subscription's scope_label and the footer."""
    language = supported_language(language)
    names = {"country": country_name(country, language), "campaign": campaign, "organisation": organisation}
    key = ("scope.organisation" if organisation else "scope.campaign_country" if campaign and country
           else "scope.campaign" if campaign else "scope.country" if country else "scope.everything")
    return message(language, key).format(**names)


def country_name(code: str | None, language: str) -> str | None:
    """An ISO 3166 code's name in `language` ("KE" → "Kenia"); anything else as given."""
    if not code:
        return None
    return babel_locale(language).territories.get(code.strip().upper(), code) if len(code.strip()) == 2 else code


def render(kind: str, language: str | None, context: dict) -> Rendered:
    """The e-mail of `kind` in `language` (English when unsupported). ValueError for an unknown kind or a
    context without what the kind needs."""
    if kind not in KINDS:
        raise ValueError(f"unknown e-mail kind {kind!r}")
    language = supported_language(language)
    values = _values(kind, language, context)
    subject = _subject(kind, values, _translator(language, html=False))
    text = _TEXT.get_template(f"{kind}.j2").render(
        values, subject=subject, t=_translator(language, html=False), layout="layout.txt.j2", macros="macros.txt.j2")
    html = _HTML.get_template(f"{kind}.j2").render(
        values, subject=subject, t=_translator(language, html=True), layout="layout.html.j2", macros="macros.html.j2")
    return Rendered(subject=subject, text=_tidy_text(text), html=html.strip("\n") + "\n", language=language)


def _subject(kind: str, values: dict, t: Callable[..., str]) -> str:
    """The template's subject block, on one line: user text with a line break must not break the header."""
    template = _TEXT.get_template(f"{kind}.j2")
    raw = "".join(template.blocks["subject"](template.new_context({**values, "t": t})))
    return " ".join(raw.split())


def _translator(language: str, *, html: bool) -> Callable[..., str]:
    """t(message id, **values): the fixed text with values filled in. In HTML the fixed text and the values
    are escaped and each value is isolated (<bdi>) so a Latin title keeps its order in right-to-left text."""
    def t(key: str, **values: Any) -> str:
        text = message(language, key)
        if not html:
            return text.format(**values)
        return escape(text).format(**{name: Markup("<bdi>{}</bdi>").format(value) for name, value in values.items()})
    return t


def _tidy_text(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, "-- " as the signature separator mail clients know."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    tidy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return re.sub(r"(?m)^--$", "-- ", tidy) + "\n"


# --- the context, checked and made ready to show ---

def _values(kind: str, language: str, context: dict) -> dict:
    audience, required = KINDS[kind]
    _require(context, required, kind)
    if audience == "subscriber":
        _require(context, SUBSCRIBER_LINKS, kind)
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    values: dict[str, Any] = {
        "kind": kind, "language": language, "direction": direction, "fonts": _FONTS[direction],
        "start": "right" if direction == "rtl" else "left", "end": "left" if direction == "rtl" else "right",
        "scope_label": context.get("scope_label"), "why": _why(kind, audience, context),
        "unsubscribe_url": _link(context.get("unsubscribe_url")), "erase_url": _link(context.get("erase_url")),
        "campaign_name": context.get("campaign_name"),
        "colon": message(language, "punct.colon"),
    }
    reader_zone = context.get("subscriber_timezone") if kind == "reminder" else None
    if "event" in context:
        values["event"] = _event(context["event"], language, kind, reader_zone)
    if "report" in context:
        values["report"] = _report(context["report"], language, kind)
    for given in ("place", "message"):  # shown as they are (escaped in HTML by the macros)
        if given in context:
            values[given] = context[given]
    values.update(_KIND_VALUES.get(kind, lambda c, lang: {})(context, language))
    return values


def _require(context: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [key for key in keys if context.get(key) in (None, "")]
    if missing:
        raise ValueError(f"{where}: the context needs {', '.join(missing)}")


def _why(kind: str, audience: str, context: dict) -> str | None:
    """The footer's message id saying why the reader gets this; a confirmation explains itself."""
    if kind == "confirm_subscription":
        return None
    if audience == "subscriber":
        return "footer.subscriber_scope" if context.get("scope_label") else "footer.subscriber"
    return f"footer.{audience}"


def _link(url: str | None) -> str | None:
    """Only http(s) links without spaces or control characters reach an e-mail."""
    if url in (None, ""):
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"[\s\x00-\x1f\x7f<>\"]", str(url)):
        raise ValueError(f"not an http(s) link: {url!r}")
    return str(url)


def _event(event: dict, language: str, kind: str, reader_zone: str | None) -> dict:
    _require(event, ("title", "timezone"), f"{kind}: event")
    zone = event["timezone"]
    if event.get("starts_at"):
        when = times.format_event_time(event["starts_at"], zone, language)
        your_time = times.format_reader_time(event["starts_at"], zone, reader_zone, language)
    elif event.get("start_local"):
        when, your_time = times.format_local_time(event["start_local"], zone, language), None
    else:
        raise ValueError(f"{kind}: event needs starts_at or start_local")
    place = [event.get("venue"), event.get("city"), country_name(event.get("country"), language)]
    return {
        "title": event["title"], "when": when, "your_time": your_time,
        "where": message(language, "list.separator").join(str(part) for part in place if part) or None,
        "type": _activity(event.get("activity_type"), language), "url": _link(event.get("url")),
    }


def _report(report: dict, language: str, kind: str) -> dict:
    _require(report, ("title",), f"{kind}: report")
    turnout = report.get("turnout")
    if isinstance(turnout, int | float) and not isinstance(turnout, bool):
        turnout = format_decimal(turnout, locale=babel_locale(language))
    return {"title": report["title"], "country": country_name(report.get("country"), language),
            "turnout": turnout, "url": _link(report.get("url"))}


def _activity(slug: str | None, language: str) -> str | None:
    if not slug:
        return None
    try:
        return message(language, f"activity.{slug}")
    except KeyError:
        return slug.replace("_", " ")


def _decision(context: dict) -> dict:
    decision = context["decision"]
    if decision not in ("approved", "rejected"):
        raise ValueError(f"decision must be 'approved' or 'rejected', not {decision!r}")
    return {"decision": decision, "reason": context.get("reason")}


def _confirm(context: dict, language: str) -> dict:
    # With a sign-up for the event behind the address: its private link, in this e-mail only.
    signed_up = {"participation_url": _link(context["participation_url"])} if context.get("participation_url") else {}
    return {"confirm_url": _link(context["confirm_url"]), "expires": _hours(context["expires_hours"], language),
            **signed_up}


def _changed(context: dict, language: str) -> dict:
    names = []
    for field in context["changed"]:
        group = CHANGED_FIELDS.get(field)
        name = message(language, f"field.{group}") if group else str(field).replace("_", " ")
        if name not in names:
            names.append(name)
    return {"changed": format_list(names, locale=babel_locale(language))}


def _when(context: dict, language: str) -> dict:
    when, hours = context["when"], context.get("hours")
    if when == "day_before":
        return {"when": message(language, "when.day_before")}
    if when == "hours_before":
        if not hours:
            return {"when": message(language, "when.soon")}
        return {"when": _hours(hours, language, add_direction=True)}
    raise ValueError(f"when must be 'day_before' or 'hours_before', not {when!r}")


def _hours(hours: float, language: str, add_direction: bool = False) -> str:
    """ "2 days" for 48, "36 hours" for 36 (not rounded up to days), with the language's plural forms."""
    hours = float(hours)
    # Babel shows the largest unit whose count reaches the threshold, rounded: whole days may be days.
    threshold = 1 if hours % 24 == 0 else hours / 2
    return format_timedelta(timedelta(hours=hours), threshold=threshold, add_direction=add_direction,
                            locale=babel_locale(language))


def _outside_window(context: dict, language: str) -> dict:
    events = []
    for event in context["events"]:
        _require(event, ("title", "start_local", "timezone"), "events_outside_window: events[]")
        events.append({"title": event["title"], "url": _link(event.get("url")),
                       "when": times.format_local_time(event["start_local"], event["timezone"], language)})
    dates = times.format_date_range(context["window_start"], context["window_end"], language)
    return {"dates": dates, "events": events}


_KIND_VALUES: dict[str, Callable[[dict, str], dict]] = {
    "confirm_subscription": _confirm,
    "event_changed": _changed,
    "reminder": _when,
    "event_decided": lambda context, language: _decision(context),
    "report_decided": lambda context, language: _decision(context),
    "events_outside_window": _outside_window,
    "report_request": lambda context, language: {"report_url": _link(context["report_url"])},
    "event_submitted": lambda context, language: {"organisation_name": context["organisation_name"],
                                                  "review_url": _link(context["review_url"])},
    "report_submitted": lambda context, language: {"organisation_name": context["organisation_name"],
                                                   "review_url": _link(context["review_url"])},
    "delivery_failing": lambda context, language: {
        "endpoint_url": str(context["endpoint_url"]), "failures": context["failures"],
        "state": "disabled" if context["disabled"] else "failing"},
}
