"""The dashboard's emergency tab (/me/emergency): the emergency stop of a country — every event
of it leaves the public outputs at once — and its release."""
from __future__ import annotations

import re

from flask import g, request

from services.web.client import api
from services.web.dashboard.base import bp, choices, chosen, show
from services.web.forms import FormState, shown_again, submitted
from services.web.i18n import reader_language, translator
from services.web.pages import signed_in

COUNTRY = re.compile(r"[A-Z]{2}")


@bp.get("/me/emergency", endpoint="emergency")
@signed_in
def show_emergency() -> str:
    """The tab; also shown again, with the form as sent, when a change is refused."""
    return show("dashboard_emergency.html", "emergency", **choices())


@bp.post("/me/holds")
@signed_in
def hold():
    """The emergency stop: every event of a country leaves the public outputs at once."""
    action = chosen("action", ("hold", "release"))
    typed = request.form.get("country", "").strip()
    # Upper case only of what is a code already: "ß".upper() is "SS", South Sudan.
    values = {"country": typed.upper() if typed.isascii() else typed, "reason": request.form.get("reason", "")}
    form = FormState("hold", values)
    if not COUNTRY.fullmatch(values["country"]):  # it goes into the API's path: two letters, nothing else
        form.errors = {"country": translator(reader_language())("error_country_choice")}
        return shown_again(form, show_emergency)
    path = f"/api/events/countries/{values['country']}/hold"
    if action == "release":
        return submitted(lambda: api().request("DELETE", path, token=g.token), form, show_emergency,
                         "country_released", "/me/emergency")
    return submitted(lambda: api().request("PUT", path, token=g.token, json={"reason": values["reason"]}),
                     form, show_emergency, "country_held", "/me/emergency")
