"""The public subscription form: what a reader sent, checked in their language before the
notify service sees it (a country from the list, a city when following one, an address that
looks like one), and the service's own refusals put under the same fields."""
from __future__ import annotations

import re

from services.web.client import ApiError
from services.web.formats import countries
from services.web.pages import uuid_or_none
from shared.fields import is_timezone
from shared.languages import LANGUAGES

SCOPES = ("campaign", "country", "city", "event")
FIELDS = ("email", "scope", "country", "city", "language", "timezone", "event_id")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_LENGTH, CITY_LENGTH = 254, 200  # the longest address mail carries; notify's longest city
LONGEST = 320  # what is kept of a field to show it again
COUNTRY_CODES = frozenset(code for code, _name in countries("en"))


def read(form, campaign_id: str, t) -> tuple[dict, dict, dict]:
    """(the values to show again, errors by field in the reader's words, the API's body)."""
    values = {name: form.get(name, "").strip()[:LONGEST] for name in FIELDS}
    errors: dict[str, str] = {}
    scope = values["scope"] or "campaign"
    if scope not in SCOPES or scope == "event" and not uuid_or_none(values["event_id"]):
        errors["scope"] = t("error_scope")
    if not EMAIL.fullmatch(values["email"]) or len(form.get("email", "").strip()) > EMAIL_LENGTH:
        errors["email"] = t("error_email")
    country = values["country"].upper()
    if country and country not in COUNTRY_CODES:
        errors["country"] = t("error_country_choice")
    elif scope in ("country", "city") and not country:
        errors["country"] = t("error_country_needed")
    if scope == "city" and not values["city"]:
        errors["city"] = t("error_city_needed")
    elif len(form.get("city", "").strip()) > CITY_LENGTH:  # refused, never cut to another city's name
        errors["city"] = t("error_city_length", n=CITY_LENGTH)
    body = {"email": values["email"], "scope": scope, "campaign_id": campaign_id,
            "language": values["language"] if values["language"] in LANGUAGES else "en",
            "timezone": values["timezone"] if is_timezone(values["timezone"]) else None}  # else the zone of the event
    if scope in ("country", "city"):
        body["country"] = country
    if scope == "city":
        body["city"] = values["city"]
    if scope == "event":
        body["event_id"] = uuid_or_none(values["event_id"])
    return values, errors, body


# The notify service's fields, as the form names them and says what is wrong with them.
WORDS = {"email": "error_email", "scope": "error_scope", "event_id": "error_scope", "campaign_id": "error_scope",
         "country": "error_country_choice", "city": "error_city_needed"}
ON_THE_FORM = {"event_id": "scope", "campaign_id": "scope"}


def api_errors(exc: ApiError, t) -> dict[str, str]:
    """The notify service's refusal, field by field, in the reader's words with the service's
    reason beside them; what the form does not show as a field (the zone it sends by itself)
    is said in the summary."""
    errors: dict[str, str] = {}
    for error in exc.problem.get("errors") or []:
        field = (error.get("field") or "").split(".")[0]
        message = error.get("message") or ""
        words = t(WORDS[field]) if field in WORDS else ""
        field = ON_THE_FORM.get(field, field if field in WORDS else "")
        errors.setdefault(field, f"{words} ({message})" if words and message else (words or message))
    return errors or {"": exc.problem.get("detail") or t("error_email")}
