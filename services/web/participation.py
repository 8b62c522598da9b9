"""“I'll come” (docs/participation.md): the form on an event's page, what a sign-up is shown once
(its private link and the link's QR code, or "check your inbox"), and the private link's page
`/p/<key>` — the sign-up's state, cancel, erase. The notify service holds the sign-ups; this
front only asks it. A key is never put in a URL a shared cache could keep, never sent on as a
referrer, never written to a log line of this front (client.logged_path)."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request

from services.web import forms, public
from services.web.client import ApiError, api
from services.web.i18n import reader_language, translator
from services.web.pages import optional, refusal_page, wants_a_page
from services.web.security import qr_svg
from services.web.subscription import EMAIL, EMAIL_LENGTH, LONGEST
from shared.fields import is_timezone
from shared.http.problems import problem_response

bp = Blueprint("participation", __name__)

PARTY = (1, 20)  # the smallest and largest party a sign-up may bring (the notify API's bounds)
NAME_LENGTH = 100  # what this form lets through; the API says its own
# A key is base64url (44 characters with its padding): checked before it becomes part of an API path.
KEY = re.compile(r"[A-Za-z0-9_-]{16,128}={0,2}")
# Every answer that carries (or is reached by) a key: kept by no cache, named in no Referer, indexed nowhere.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
DONE = {"cancelled": "participation_done_cancelled"}  # ?done= on the link's page: words of the site's own


@bp.after_app_request
def _private(response):
    if request.blueprint == bp.name or request.path.startswith("/p/"):
        response.headers.update(PRIVATE)
    return response


@bp.post("/events/<uuid:event_id>/participation")
def sign_up(event_id):
    """Sent without a session, like the subscription: refused from another site's page. The
    answer is the page itself (never a redirect to a URL holding the key)."""
    if not public.same_site():
        abort(403, "This form is sent from the event's own page.")
    language = reader_language()
    t = translator(language)
    values, errors, body = read(request.form, language, t)
    answer = None
    if not errors:
        try:
            answer = an_object(api().post(f"/api/notify/events/{event_id}/participants", json=body) or {})
        except ApiError as exc:
            if exc.status not in forms.FORM_ERRORS:
                return refusal_page(exc)
            errors = api_errors(exc, t)
    if errors:
        return forms.shown_again(forms.FormState("p", values, errors), lambda: public.event_page_for(event_id))
    event = optional(lambda: api().get(f"/api/events/events/{event_id}", lang=language), {})
    key = answer.get("key")
    if not key:  # 202: with an address, the link comes by e-mail once the address is confirmed
        return render_template("participation_sent.html", event=event, event_id=event_id)
    link = private_link(key)
    return render_template("participation_sent.html", event=event, event_id=event_id, sign_up=answer, link=link,
                           qr=qr_svg(link, title=t("participation_qr_title")))


@bp.get("/p/<key>")
def link_page(key):
    language = reader_language()
    found = participation_of(key)
    event = optional(lambda: api().get(f"/api/events/events/{found['event_id']}", lang=language), {}) \
        or brief(found.get("event") or {}, language)
    door = found.get("status") == "coming"  # the door scans the link's QR code, or takes the short code
    return render_template("participation.html", p=found, event=event, key=key,
                           done=DONE.get(request.args.get("done", "")),
                           qr=qr_svg(private_link(key), title=translator(language)("participation_qr_title"))
                           if door else None)


@bp.get("/p/<key>/event.ics")
def calendar(key):
    """The sign-up's event as a calendar entry of its own, from the notify service."""
    checked(key)
    response = api().send("GET", f"/api/notify/participations/{key}/event.ics")
    if response.status_code >= 400:
        return not_found() if response.status_code == 404 else refusal_page(
            ApiError(response.status_code, {"detail": "The notify service refused."}))
    answer = make_response(response.content)
    answer.headers["Content-Type"] = response.headers.get("Content-Type", "text/calendar; charset=utf-8")
    answer.headers["Content-Disposition"] = "attachment; filename=event.ics"
    return answer


@bp.post("/p/<key>/cancellation")
def cancel(key):
    guarded(key)
    try:
        api().post(f"/api/notify/participations/{key}/cancellation")
    except ApiError as exc:
        if exc.status == 404:
            return not_found()
        if exc.status != 409:  # 409: cancelled already; the page says so
            return refusal_page(exc)
    return redirect(f"/p/{key}?done=cancelled", 303)


@bp.get("/p/<key>/erasure")
def erasure(key):
    """The step before erasing: what it does, and the one button that does it."""
    participation_of(key)
    return render_template("participation_erase.html", key=key)


@bp.post("/p/<key>/erasure")
def erase(key):
    guarded(key)
    try:
        api().raise_refusal(api().send("DELETE", f"/api/notify/participations/{key}"), "DELETE", "/api/notify")
    except ApiError as exc:
        return not_found() if exc.status == 404 else refusal_page(exc)
    t = translator(reader_language())
    return render_template("message.html", title=t("participation_erased_title"), text=t("participation_erased"))


def brief(event: dict, language: str) -> dict:
    """The notify service's copy of the event, when the events service does not show it (no
    longer public): its title in the reader's language, else its first; never an address."""
    titles = event.get("title") or {}
    title = titles.get(language) or next(iter(titles.values()), "") if isinstance(titles, dict) else titles
    return {**event, "id": None, "title": title, "address": None, "venue": None}


def read(form, language: str, t) -> tuple[dict, dict, dict]:
    """(the values to show again, errors by field in the reader's words, the API's body)."""
    values = {name: form.get(name, "").strip()[:LONGEST] for name in ("party_size", "name", "email", "timezone")}
    values["show_name"] = form.get("show_name") == "1"
    errors: dict[str, str] = {}
    party = values["party_size"] or "1"
    if not (party.isascii() and party.isdigit() and PARTY[0] <= int(party) <= PARTY[1]):
        errors["party_size"] = t("error_party_size", low=PARTY[0], high=PARTY[1])
    if len(form.get("name", "").strip()) > NAME_LENGTH:
        errors["name"] = t("error_name_length", n=NAME_LENGTH)
    if values["email"] and (not EMAIL.fullmatch(values["email"]) or len(values["email"]) > EMAIL_LENGTH):
        errors["email"] = t("error_email")
    body = {"party_size": int(party) if "party_size" not in errors else party, "show_name": values["show_name"],
            "language": language, "timezone": values["timezone"] if is_timezone(values["timezone"]) else None}
    body.update({name: values[name] for name in ("name", "email") if values[name]})
    return values, errors, body


# The notify service's fields, and the reader's words for what is wrong with them.
WORDS = {"party_size": ("error_party_size", PARTY), "email": ("error_email", ()), "name": ("error_name", ()),
         "show_name": ("error_name", ())}
ON_THE_FORM = {"show_name": "name"}


def api_errors(exc: ApiError, t) -> dict[str, str]:
    """The notify service's refusal, field by field, in the reader's words with the service's
    reason beside them; a closed event (409) in the reader's words; the rest in the summary."""
    if exc.status == 409:
        return {"": t("participation_closed")}
    errors: dict[str, str] = {}
    for error in exc.problem.get("errors") or []:
        field = (error.get("field") or "").split(".")[0]
        message = error.get("message") or ""
        if field not in WORDS:
            errors.setdefault("", message)
            continue
        key, bounds = WORDS[field]
        words = t(key, low=bounds[0], high=bounds[1]) if bounds else t(key)
        errors.setdefault(ON_THE_FORM.get(field, field), f"{words} ({message})" if message else words)
    return errors or {"": exc.problem.get("detail") or t("not_done")}


def checked(key: str) -> str:
    """The key, if it can be one; else this is a page of nothing (404), asked of no service."""
    if not KEY.fullmatch(key):
        abort(not_found())
    return key


def guarded(key: str) -> None:
    """A POST to a link's page, sent without a session: only from the site's own pages."""
    checked(key)
    if not public.same_site():
        abort(403, "This form is sent from your link's own page.")


def participation_of(key: str) -> dict:
    """The sign-up the key opens; a 404 page in the reader's language when it opens none."""
    checked(key)
    try:
        return an_object(api().get(f"/api/notify/participations/{key}", lang=reader_language()))
    except ApiError as exc:
        if exc.status in (404, 422):
            abort(not_found())
        raise


def an_object(answer) -> dict:
    """The notify service's answer, if it is the object it must be; else the service failed the page."""
    if not isinstance(answer, dict):
        raise ApiError(502, {"title": "Bad Gateway", "status": 502,
                             "detail": "The notify service gave an answer this page cannot use."})
    return answer


def not_found():
    """A key that opens nothing: a page in the reader's language (a program: problem+json)."""
    t = translator(reader_language())
    if not wants_a_page():
        response = problem_response(404, "No sign-up has this key: it was erased, or the link is not complete.")
    else:
        response = make_response(render_template("message.html", title=t("participation_not_found_title"),
                                                 text=t("participation_not_found")), 404)
    response.headers.update(PRIVATE)
    return response


def private_link(key: str) -> str:
    """The link as a person keeps it: absolute, at the platform's public address."""
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/p/{key}"

