"""Forms as every area's pages show them: what was typed, the API's errors under their fields
and in a summary that takes the focus, on the page the form is on; an action that worked says
so on the page it leads to (a flashed key of the catalogue's done_* words, never text from the
request). The templates' side is `templates/_form.html`."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from flask import flash, g, redirect

from services.web.client import ApiError
from services.web.i18n import CATALOGUES
from services.web.pages import field_errors, refusal_page, wants_a_page
from shared.http.problems import problem_response

# The kinds of event the forms offer where a campaign names none of its own: the events
# service's defaults (services/events/rules.py DEFAULT_ACTIVITY_TYPES). A copy, as services never
# import each other: keep the two in step.
DEFAULT_ACTIVITY_TYPES = ("demonstration", "rally", "lecture", "discussion", "cultural", "womens_solidarity_action",
                          "strike", "online", "other")
# Refusals of what a form sent: shown under its fields. Anything else (gone, forbidden, a service
# down) is a page of its own.
FORM_ERRORS = (400, 409, 413, 415, 422)


@dataclass
class FormState:
    """A form as a page shows it: what is in its fields, and the API's errors by field (under
    "" what names no field). `id` prefixes its fields' ids, so errors can link to them."""
    id: str
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    shown: bool = False


def form_of(form_id: str, values: dict | None = None) -> FormState:
    """`{% set f = form_of('organisation') %}`: the form the API just refused, as it was sent and
    with its errors, or else a fresh one with `values`."""
    failed = g.get("failed_form")
    if failed is not None and failed.id == form_id:
        failed.shown = True
        return failed
    return FormState(form_id, values or {})


def submitted(call, form: FormState, show, done: str, to: str = "/me"):
    """Do what a form asked through the API: then back to `to`, which says it was done; or the
    form again with the API's errors under its fields (`show` renders the page it is on)."""
    assert f"done_{done}" in CATALOGUES["en"], done  # words of our own for it
    try:
        call()
    except ApiError as exc:
        return refused(exc, form, show)
    flash(done, "done")
    return redirect(to, 303)


def refused(exc: ApiError, form: FormState, show, field: str | None = None):
    """The API refused what a form sent: the page again, the form as it was sent, its errors
    under their fields (`field`: all of them under that one) — or, when it was not the form's
    fault (gone, forbidden, a service down), or a program asked, the refusal as it is."""
    if exc.status not in FORM_ERRORS or not wants_a_page():
        return refusal_page(exc)
    errors = field_errors(exc)
    form.errors = {field: "; ".join(errors.values())} if field else errors
    return shown_again(form, show, exc.status)


def shown_again(form: FormState, show, status: int = 422):
    """A form with `form.errors`, on its page again (a program gets them as problem+json)."""
    if not wants_a_page():
        return problem_response(status, "; ".join(form.errors.values()),
                                errors=[{"field": name or None, "message": text} for name, text in form.errors.items()])
    g.failed_form = form
    return show(), status


def number_as_sent(text: str, kind):
    """A number from a form field; what is not a plain finite one goes on as typed, so the
    API's error names the field."""
    if not text:
        return None
    if not text.isascii():  # int() and float() take other scripts' digits ('٣', '²'…) or refuse them oddly
        return text
    try:
        number = kind(text)
    except ValueError:
        return text
    return number if math.isfinite(number) and abs(number) < 1e15 else text


def register(app) -> None:
    """`form_of` in every template."""
    app.add_template_global(form_of)
