"""The hosts' view of an event (docs/participation.md, "On the web: the hosts"): the counts, the
names participants chose to show the hosts, the places and the ceiling on sign-ups without an
address, the messages to the participants, and the co-hosts — the owner invites, the invited
organisation accepts or declines. For the event's organisation, its accepted co-hosts and
coordinators; the notify and events APIs decide who is a host (this front only asks them). The
door's page is door.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request

from services.web.client import ApiError, api
from services.web.forms import FORM_ERRORS, FormState, shown_again
from services.web.i18n import reader_language, translator
from services.web.pages import act, field_errors, optional, refusal_page, signed_in, uuid_or_none

bp = Blueprint("hosting", __name__)

LIMIT = 1_000_000  # the notify API's largest capacity and ceiling
MESSAGE_LENGTH = 2000  # the notify API's longest message, per language
ORGANISATIONS = 200  # the registry's largest page: the organisations one may invite


def hosts_area() -> None:
    if g.role not in ("organisation", "coordinator"):
        abort(403)


def base(event_id) -> str:
    return f"/me/events/{event_id}/hosting"


def hosting_event(event_id) -> tuple[dict, str, dict]:
    """(the event, the reader's part in it — owner, co_host, coordinator or invited — and the
    invitation, if invited). Anyone else: 404, as the event's hosts' page is nobody else's."""
    event = api().get(f"/api/events/events/{event_id}", token=g.token, lang=reader_language())
    if g.role == "coordinator":
        return event, "coordinator", {}
    if event.get("organisation_id") == g.subject:
        return event, "owner", {}
    if g.subject in (event.get("co_hosts") or []):
        return event, "co_host", {}
    invitation = optional(lambda: api().get(f"/api/events/events/{event_id}/hosts/{g.subject}", token=g.token), {})
    if invitation.get("status") == "invited":
        return event, "invited", invitation
    abort(404)


def page(event_id, forms: dict | None = None) -> str:
    """The hosts' page; `forms`: a refused form, as it was sent, with its errors."""
    event, part, invitation = hosting_event(event_id)
    hosting = part != "invited"
    path = f"/api/notify/events/{event_id}/participation"
    places = optional(lambda: api().get(path, token=g.token), {}) if hosting else {}
    messages = optional(lambda: api().get(f"/api/notify/events/{event_id}/messages", token=g.token,
                                          params={"limit": 50})["items"]) if hosting else []
    inviting = part in ("owner", "coordinator")
    organisations = optional(lambda: api().get("/api/registry/organisations", token=g.token,
                                               params={"limit": ORGANISATIONS})["items"]) if inviting else []
    names = {o["id"]: o for o in organisations}
    co_hosts = [names.get(i) or {"id": i} for i in event.get("co_hosts") or []]
    choices = [o for o in organisations if o["id"] != event.get("organisation_id")
               and o["id"] not in (event.get("co_hosts") or []) and o.get("status", "active") == "active"]
    forms = forms or {}
    return render_template(
        "hosting.html", event=event, part=part, invitation=invitation, places=places, messages=messages,
        co_hosts=co_hosts, choices=choices, base=base(event_id),
        places_form=forms.get("places") or FormState("places", place_values(places)),
        message_form=forms.get("message") or FormState("message"),
        invite_form=forms.get("invite") or FormState("invite"))


def place_values(places: dict) -> dict:
    return {name: "" if places.get(name) is None else str(places[name]) for name in ("capacity", "anonymous_limit")}


@bp.get("/me/events/<uuid:event_id>/hosting")
@signed_in
def event_page(event_id):
    hosts_area()
    return page(event_id)


def a_limit(text: str, low: int) -> int | None | str:
    """A number of people from a form: None when empty (no limit), else the number — or "" when
    it is not a whole number from `low` to LIMIT."""
    if not text:
        return None
    if text.isascii() and text.isdigit() and low <= int(text) <= LIMIT:
        return int(text)
    return ""


@bp.post("/me/events/<uuid:event_id>/hosting/places")
@signed_in
def set_places(event_id):
    hosts_area()
    t = translator(reader_language())
    values = {name: request.form.get(name, "").strip()[:20] for name in ("capacity", "anonymous_limit")}
    body = {"capacity": a_limit(values["capacity"], 1), "anonymous_limit": a_limit(values["anonymous_limit"], 0)}
    errors = {name: t(f"error_hosting_{name}", high=f"{LIMIT:,}") for name, value in body.items() if value == ""}
    if not errors:
        try:
            api().request("PATCH", f"/api/notify/events/{event_id}/participation", json=body, token=g.token)
        except ApiError as exc:
            if exc.status not in FORM_ERRORS:
                return refusal_page(exc)
            errors = in_words(exc, t, {"capacity": "error_hosting_capacity",
                                       "anonymous_limit": "error_hosting_anonymous_limit"})
    if errors:
        form = FormState("places", values, errors)
        return shown_again(form, lambda: page(event_id, {"places": form}))
    flash("hosting_places", "done")
    return redirect(base(event_id), 303)


def in_words(exc: ApiError, t, words: dict[str, str]) -> dict[str, str]:
    """The API's refusal under the form's fields, in the reader's words where the field has
    them, the service's reason beside them."""
    errors = {}
    for name, message in field_errors(exc).items():
        said = t(words[name], high=f"{LIMIT:,}") if name in words else ""
        errors[name] = f"{said} ({message})" if said and message else (said or message)
    return errors


@bp.post("/me/events/<uuid:event_id>/hosting/messages")
@signed_in
def send_message(event_id):
    hosts_area()
    t = translator(reader_language())
    event, _, _ = hosting_event(event_id)
    languages = event.get("languages") or ["en"]
    values = {f"text_{code}": request.form.get(f"text_{code}", "").strip() for code in languages}
    text = {code: values[f"text_{code}"] for code in languages if values[f"text_{code}"]}
    errors = {f"text_{code}": t("error_hosting_message_length", n=MESSAGE_LENGTH)
              for code, said in text.items() if len(said) > MESSAGE_LENGTH}
    if not values[f"text_{languages[0]}"]:
        errors[f"text_{languages[0]}"] = t("error_hosting_message_first")
    if not errors:
        try:
            api().post(f"/api/notify/events/{event_id}/messages", json={"text": text}, token=g.token)
        except ApiError as exc:
            if exc.status not in (*FORM_ERRORS, 429):
                return refusal_page(exc)
            errors = {"": t("error_hosting_message_limit")} if exc.status == 429 else message_errors(exc, languages[0])
    if errors:
        form = FormState("message", values, errors)
        return shown_again(form, lambda: page(event_id, {"message": form}), 429 if "" in errors else 422)
    flash("hosting_message", "done")
    return redirect(base(event_id), 303)


def message_errors(exc: ApiError, first: str) -> dict[str, str]:
    """The notify service's errors about a message, under the form's fields (`text.fa` is the
    Persian one's; `text` itself, the first language's)."""
    errors = {}
    for error in exc.problem.get("errors") or []:
        name = error.get("field") or ""
        name = f"text_{name[5:]}" if name.startswith("text.") else f"text_{first}" if name == "text" else name
        errors[name] = error.get("message") or ""
    return errors or {"": exc.problem.get("detail") or str(exc)}


@bp.post("/me/events/<uuid:event_id>/hosting/hosts")
@signed_in
def invite(event_id):
    hosts_area()
    t = translator(reader_language())
    chosen = uuid_or_none(request.form.get("organisation_id", "").strip())
    form = FormState("invite", {"organisation_id": chosen or ""})
    if chosen is None:
        form.errors = {"organisation_id": t("error_hosting_organisation")}
    else:
        try:
            api().post(f"/api/events/events/{event_id}/hosts", json={"organisation_id": chosen}, token=g.token)
        except ApiError as exc:
            if exc.status not in FORM_ERRORS:
                return refusal_page(exc)
            form.errors = {"organisation_id": "; ".join(field_errors(exc).values())}
    if form.errors:
        return shown_again(form, lambda: page(event_id, {"invite": form}))
    flash("hosting_invited", "done")
    return redirect(base(event_id), 303)


@bp.post("/me/events/<uuid:event_id>/hosting/hosts/<uuid:organisation_id>/acceptance")
@signed_in
def accept(event_id, organisation_id):
    hosts_area()
    return act(lambda: api().post(f"/api/events/events/{event_id}/hosts/{organisation_id}/acceptance",
                                  token=g.token), to=base(event_id), done="hosting_accepted")


@bp.post("/me/events/<uuid:event_id>/hosting/hosts/<uuid:organisation_id>/removal")
@signed_in
def remove(event_id, organisation_id):
    """The owner (or a coordinator) withdraws an invitation or a co-host; the invited declines
    or leaves (and goes back to its area: the event's hosts' page is no longer theirs)."""
    hosts_area()
    path = f"/api/events/events/{event_id}/hosts/{organisation_id}"
    return act(lambda: api().raise_refusal(api().send("DELETE", path, token=g.token), "DELETE", path),
               to="/me" if str(organisation_id) == g.subject else base(event_id), done="hosting_removed")
