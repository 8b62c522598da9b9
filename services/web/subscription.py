"""The public subscription form: what a reader sent, checked in their language before the
notify service sees it (a country from the list, a city when following one, an address that
looks like one), and the service's own refusals put under the same fields."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from services.web.client import ApiError
from services.web.formats import countries
from services.web.i18n import LANGUAGES
from services.web.pages import uuid_or_none

SCOPES = ("campaign", "country", "city", "event")
FIELDS = ("email", "scope", "country", "city", "language", "timezone", "event_id")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY_CODES = frozenset(code for code, _name in countries("en"))


def read(form, campaign_id: str, t) -> tuple[dict, dict, dict]:
    """(the values to show again, errors by field in the reader's words, the API's body)."""
    values = {name: form.get(name, "").strip()[:320] for name in FIELDS}
    errors: dict[str, str] = {}
    scope = values["scope"] or "campaign"
    if scope not in SCOPES or scope == "event" and not uuid_or_none(values["event_id"]):
        errors["scope"] = t("error_scope")
    if not EMAIL.fullmatch(values["email"]):
        errors["email"] = t("error_email")
    country = values["country"].upper()
    if country and country not in COUNTRY_CODES:
        errors["country"] = t("error_country_choice")
    elif scope in ("country", "city") and not country:
        errors["country"] = t("error_country_needed")
    if scope == "city" and not values["city"]:
        errors["city"] = t("error_city_needed")
    body = {"email": values["email"], "scope": scope, "campaign_id": campaign_id,
            "language": values["language"] if values["language"] in LANGUAGES else "en",
            "timezone": values["timezone"] if _is_zone(values["timezone"]) else None}
    if scope in ("country", "city"):
        body["country"] = country
    if scope == "city":
        body["city"] = values["city"]
    if scope == "event":
        body["event_id"] = uuid_or_none(values["event_id"])
    return values, errors, body


def api_errors(exc: ApiError, t) -> dict[str, str]:
    """The notify service's refusal, field by field, in the reader's words where we have them."""
    errors: dict[str, str] = {}
    for error in exc.problem.get("errors") or []:
        field = (error.get("field") or "").split(".")[0]
        field = {"event_id": "scope", "campaign_id": "scope"}.get(field, field)
        if field not in FIELDS:
            field = "email"
        errors.setdefault(field, t(f"error_{field}", _default=error.get("message") or ""))
    return errors or {"email": exc.problem.get("detail") or t("error_email")}


def _is_zone(name: str) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return False
    return True
