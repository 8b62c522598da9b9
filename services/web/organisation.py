"""The organisation area: its events (submit, edit, cancel, with the rules' errors beside the
fields), endorsements, reports with photos and videos, and its webhooks with their delivery
log. Coordinators manage their own webhooks here too."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from services.web import event_changes, formats
from services.web.client import Api, ApiError, api
from services.web.forms import DEFAULT_ACTIVITY_TYPES, FORM_ERRORS, FormState, number_as_sent, refused, shown_again
from services.web.i18n import reader_language, translator
from services.web.pages import act, field_errors, optional, organisations_only, refusal_page, signed_in, uuid_or_none
from shared.bus.catalogue import WEBHOOK_TYPES

EVENT_FIELDS = ("campaign_id", "title", "description", "language", "activity_type", "city", "country", "timezone",
                "start", "end", "venue", "address", "address_public", "address_public_hours", "latitude",
                "longitude", "online_url", "expected_participants", "visibility")
OPTIONAL_TEXT = ("venue", "address", "online_url")
NUMBERS = {"latitude": float, "longitude": float, "expected_participants": int, "address_public_hours": int}


bp = Blueprint("organisation", __name__)


def show_new_event() -> str:
    return render_template("event_new.html", **new_event_page(api(), g.token, g.subject))


@bp.get("/me/events/new")
@signed_in
def new_event():
    """The submit form, filled in with what the organisation's own record says (its country,
    its zone, its first language) and the campaign whose day comes next."""
    organisations_only()
    return show_new_event()


@bp.post("/me/events")
@signed_in
def submit_event():
    organisations_only()
    values = form_values()
    campaign_id = uuid_or_none(values["campaign_id"])  # a form field never becomes part of a path as typed
    if campaign_id is None:
        return shown_again(FormState("f", values, {"campaign_id": translator(reader_language())(
            "error_campaign_id")}), show_new_event)
    try:
        api().post(f"/api/events/campaigns/{campaign_id}/events", json=event_body(values), token=g.token)
    except ApiError as exc:
        return refused_in_words(exc, FormState("f", values), show_new_event)
    flash("event_submitted", "done")
    return redirect(url_for("account.home"), 303)


@bp.route("/me/events/<uuid:event_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_event(event_id):
    """The event's form, filled in; what is sent is checked by every rule again."""
    organisations_only()
    path = f"/api/events/events/{event_id}"
    event = api().get(path, token=g.token)  # a refusal (404…) is shown by the app's handler
    if event["organisation_id"] != g.subject:  # an approved event of another is public, not theirs to edit
        abort(404)
    choices = form_choices(reader_language(), [event["activity_type"], *DEFAULT_ACTIVITY_TYPES], country=event["country"],
                           zone=event["timezone"])
    proposed = event_changes.as_proposed(event)  # a change waiting for review is edited further
    if request.method == "GET":
        return render_template("event_edit.html", event=event, values=event_values(proposed), **choices)
    values = form_values()
    body = event_body(values, proposed)
    try:
        saved = api().request("PATCH", path, json=body, token=g.token)
    except ApiError as exc:
        return refused_in_words(exc, FormState("f", values), lambda: render_template(
            "event_edit.html", event=event, values=values, **choices))
    flash("change_sent" if (saved or {}).get("pending_change") else "event_saved", "done")
    return redirect(url_for("account.home"), 303)


@bp.post("/me/events/<uuid:event_id>/cancellation")
@signed_in
def cancel(event_id):
    return act(lambda: api().post(f"/api/events/events/{event_id}/cancellation", token=g.token),
               done="event_cancelled")


@bp.post("/me/campaigns/<uuid:campaign_id>/endorsement")
@signed_in
def endorse(campaign_id):
    try:
        api().post(f"/api/events/campaigns/{campaign_id}/endorsements", token=g.token, json={})
    except ApiError as exc:
        if exc.status != 409:
            return refusal_page(exc)
        flash("already_endorsed", "done")  # twice is no mistake
        return redirect(url_for("account.home"), 303)
    flash("endorsed", "done")
    return redirect(url_for("account.home"), 303)


@bp.post("/me/reports")
@signed_in
def send_report():
    """A report with photos or videos: each file goes to the media service as it came (its
    worker strips what identifies people), then the report names them."""
    form = request.form
    options = {"campaign_id": form.get("campaign_id", ""), "consent": "true" if form.get("consent") else "false",
               "blur_faces": "true" if form.get("blur_faces") else "false"}
    media_ids = [m for m in form.getlist("media_ids") if uuid_or_none(m)]  # already sent, by the page's script
    values = {k: form.get(k, "").strip() for k in ("campaign_id", "country", "title", "text", "language",
                                                    "turnout", "consent", "blur_faces")}
    try:
        for upload in request.files.getlist("files"):
            if not upload.filename:
                continue
            made = api().post("/api/media/uploads", token=g.token, params={**options, "name": upload.filename},
                              data=upload.stream, headers={"Content-Type": "application/octet-stream"})
            media_ids.append(made["id"])
        language = values["language"] or "en"  # the form's one language: the report's original one
        api().post("/api/media/reports", token=g.token, json={
            "campaign_id": options["campaign_id"], "country": values["country"] or None,
            "title": {language: values["title"]}, "text": {language: values["text"]},
            "turnout": number_as_sent(values["turnout"], int),  # as typed when not a number: the API names it
            "media_ids": media_ids})
    except ApiError as exc:  # the form again, as typed, with the files already sent kept by their ids
        form_state = FormState("r", {**values, "media_ids": media_ids})
        return refused(exc, form_state, lambda: render_template(
            "organisation_reports.html", **reports_page(api(), g.token, g.subject)))
    flash("report_sent", "done")
    return redirect(url_for("organisation.reports"), 303)


@bp.get("/me/reports")
@signed_in
def reports():
    organisations_only()
    return render_template("organisation_reports.html", **reports_page(api(), g.token, g.subject))


def webhooks_page(secret: dict | None = None):
    return render_template("webhooks.html", endpoints=api().get("/api/notify/webhooks", token=g.token)["items"],
                           types=WEBHOOK_TYPES, secret=secret)


@bp.get("/me/webhooks")
@signed_in
def webhooks():
    return webhooks_page()


@bp.post("/me/webhooks")
@signed_in
def add_webhook():
    """Register an endpoint; its secret is shown on this one page, never again."""
    values = {"url": request.form.get("url", "").strip(), "types": request.form.getlist("types")}
    try:
        made = api().post("/api/notify/webhooks", json=values, token=g.token)
    except ApiError as exc:
        return refused(exc, FormState("w", values), webhooks_page)
    return webhooks_page(secret=made)


@bp.get("/me/webhooks/<uuid:endpoint_id>")
@signed_in
def webhook(endpoint_id):
    """An endpoint's delivery log, newest first, every attempt with its answer and latency."""
    base = f"/api/notify/webhooks/{endpoint_id}"
    status = request.args.get("status") if request.args.get("status") in ("pending", "delivered", "failed", "held") \
        else None
    endpoint = api().get(base, token=g.token)  # a refusal (404…) is shown by the app's handler
    log = api().get(f"{base}/deliveries", token=g.token, params={"limit": 50, "status": status})
    return render_template("webhook.html", endpoint=endpoint, deliveries=log["items"], status=status)


@bp.post("/me/webhooks/<uuid:endpoint_id>/redelivery/<uuid:delivery_id>")
@signed_in
def redeliver(endpoint_id, delivery_id):
    return act(lambda: api().post(f"/api/notify/webhooks/{endpoint_id}/deliveries/{delivery_id}/redelivery",
                                  token=g.token), to=f"/me/webhooks/{endpoint_id}")


@bp.post("/me/webhooks/<uuid:endpoint_id>/activation")
@signed_in
def reactivate(endpoint_id):
    """Switch it on again; the box ticked, the messages held while it was off are sent too."""
    backfill = request.form.get("backfill") == "on"
    return act(lambda: api().post(f"/api/notify/webhooks/{endpoint_id}/reactivation", json={"backfill": backfill},
                                  token=g.token), to=f"/me/webhooks/{endpoint_id}")


@bp.post("/me/webhooks/<uuid:endpoint_id>/removal")
@signed_in
def remove_webhook(endpoint_id):
    return act(lambda: api().request("DELETE", f"/api/notify/webhooks/{endpoint_id}", token=g.token),
               to="/me/webhooks")


def page(api: Api, token: str, organisation_id: str) -> dict:
    """The organisation's home: its events, and the open campaigns with whether it signed each."""
    events = api.get("/api/events/events", params={"organisation_id": organisation_id, "limit": 200}, token=token)
    campaigns = open_campaigns(api)
    signed = {c["id"] for c in campaigns if organisation_id in _signatory_ids(
        optional(lambda c=c: api.get(f"/api/events/campaigns/{c['id']}/signatories"), default={}))}
    language = reader_language()
    changed_fields = {e["id"]: event_changes.changed_labels(e.get("pending_change") or e.get("rejected_change") or {},
                                                            language) for e in events["items"]}
    return {"events": events["items"], "campaigns": campaigns, "signed": signed, "changed_fields": changed_fields,
            "invitations": hosting_invitations(api, token, language)}


def hosting_invitations(api: Api, token: str, language: str) -> list[dict]:
    """Invitations to host another organisation's event too, still waiting for an answer: each
    with the event as the public sees it (an event not public yet is left out until it is)."""
    waiting = optional(lambda: api.get("/api/events/hosting-invitations", params={"status": "invited", "limit": 50},
                                       token=token)["items"], default=[])
    shown = []
    for invitation in waiting:
        event = optional(lambda i=invitation: api.get(f"/api/events/events/{i['event_id']}", lang=language), default={})
        if event:
            shown.append({**invitation, "event": event})
    return shown


def reports_page(api: Api, token: str, organisation_id: str) -> dict:
    """Reports and media: the report form (filled from the organisation), its waiting and
    refused reports, its uploads with their processing state."""
    return {"uploads": optional(lambda: api.get("/api/media/media", params={"limit": 50}, token=token)["items"]),
            # Waiting and refused reports are the organisation's own; published ones are on the public page.
            "reports": [r for status in ("submitted", "rejected") for r in optional(
                lambda s=status: api.get("/api/media/reports", params={"status": s, "limit": 50, "lang": reader_language()},
                                         token=token)["items"])
                if r["organisation_id"] == organisation_id],
            "campaigns": (campaigns := open_campaigns(api)),
            "campaign_options": [(c["id"], c["name"]) for c in campaigns], "organisation": own_record(api, organisation_id),
            "all_countries": formats.countries(reader_language())}


def new_event_page(api: Api, token: str, organisation_id: str) -> dict:
    campaigns = open_campaigns(api)
    organisation = own_record(api, organisation_id)
    coming = next_campaign(campaigns)
    defaults = {"campaign_id": coming["id"] if coming else "", "country": organisation.get("country", ""),
                "timezone": organisation.get("timezone", ""),
                "language": (organisation.get("languages") or [reader_language()])[0],
                "address_public": "before", "address_public_hours": "24", "visibility": "public"}
    types = coming["activity_types"] if coming else []
    return {"campaigns": campaigns, "defaults": defaults,
            **form_choices(reader_language(), types, campaigns, organisation.get("country", ""))}


def form_choices(language: str, activity_types: list[str], campaigns: list[dict] = (), country: str = "",
                 zone: str = "") -> dict:
    """What the event form offers from lists, named in the reader's language (the zones of the
    organisation's or the event's country first; an event's own zone always, even one the list
    leaves out, as UTC)."""
    t = translator(language)
    zones = formats.time_zones(language)
    if zone and zone not in dict(zones):
        zones = [(zone, zone), *zones]
    return {"all_countries": formats.countries(language), "all_zones": zones,
            "country_zones": formats.country_zones(country, language),
            "zones_of": formats.country_name(country, language) if country else "",
            "all_languages": formats.languages(language),
            "activity_options": [(a, t(f"activity_{a}", _default=formats.label(a)))
                                 for a in dict.fromkeys(activity_types or DEFAULT_ACTIVITY_TYPES)],
            "campaign_options": [(c["id"], f"{c['name']} ({c['day_of_action']})") for c in campaigns]}


def open_campaigns(api: Api) -> list[dict]:
    return api.get("/api/events/campaigns", params={"status": "open"})["items"]


def next_campaign(campaigns: list[dict]) -> dict | None:
    """The campaign whose day of action comes next; if every day is past, the latest."""
    today = date.today().isoformat()
    coming = sorted((c for c in campaigns if c["day_of_action"] >= today), key=lambda c: c["day_of_action"])
    if coming:
        return coming[0]
    return max(campaigns, key=lambda c: c["day_of_action"], default=None)


def own_record(api: Api, organisation_id: str) -> dict:
    """The organisation's own record (country, zone, languages) for the forms' defaults."""
    return optional(lambda: api.get(f"/api/registry/organisations/{organisation_id}"), default={})


def _signatory_ids(signatories: dict) -> set[str]:
    return {s.get("organisation_id") for part in ("initial", "subsequent") for s in signatories.get(part) or []}


# The API's names of what the form asks as one field.
ON_THE_FORM = {"start_offset": "start", "end_offset": "end", "languages": "language", "titles": "title"}


def refused_in_words(exc: ApiError, form: FormState, show):
    """The event form again with the rules' errors in the reader's words (forms.refused, which
    gives the service's own words); a refusal that is not the form's fault as a page of its own."""
    if exc.status not in FORM_ERRORS:
        return refusal_page(exc)
    form.errors = translated_errors(exc, translator(reader_language()))
    return shown_again(form, show)


def translated_errors(exc: ApiError, t) -> dict[str, str]:
    """The API's errors under the form's own fields, in the reader's words where the field has
    them, the service's own reason beside them (it says which rule: a time that does not exist
    that day, a zone of another country)."""
    errors: dict[str, str] = {}
    for field, message in field_errors(exc).items():
        field = ON_THE_FORM.get(field, field)
        words = t(f"error_{field}", _default="") if field in EVENT_FIELDS else ""
        said = f"{words} ({message})" if words and message and words != message else (words or message)
        errors[field] = f"{errors[field]} {said}" if field in errors else said
    return errors


def form_values() -> dict:
    values = {k: request.form.get(k, "").strip() for k in EVENT_FIELDS}
    if values["start"] and not values["end"]:  # one field fewer: an event lasts two hours unless told
        values["end"] = _two_hours_later(values["start"])
    return values


def _two_hours_later(start: str) -> str:
    try:
        return (datetime.fromisoformat(start) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    except (ValueError, OverflowError):  # not a time, or none a day later (9999-12-31T23:00)
        return ""  # the start's own error says what is wrong


def event_values(event: dict) -> dict:
    """An event as its form shows it: the text in its first language, times to the minute."""
    language = event["languages"][0]
    values = {k: "" if event.get(k) is None else str(event[k]) for k in EVENT_FIELDS}
    values.update(language=language, title=event["titles"].get(language, ""),
                  description=(event.get("descriptions") or {}).get(language, ""),
                  start=event["start"][:16], end=event["end"][:16])
    return values


def event_body(values: dict, event: dict | None = None) -> dict:
    """The API's body from the form. Editing keeps the texts in the other languages; a number
    that is not one goes as typed, so the API's error names its field."""
    language = values["language"] or "en"
    titles = dict(event["titles"]) if event else {}
    descriptions = dict(event.get("descriptions") or {}) if event else {}
    titles[language] = values["title"]
    if values["description"]:
        descriptions[language] = values["description"]
    else:
        descriptions.pop(language, None)
    others = [code for code in (event["languages"] if event else []) if code != language]
    body = {"title": titles, "description": descriptions, "languages": [language, *others],
            **{k: values[k] for k in ("activity_type", "city", "country", "timezone", "start", "end")},
            **{k: values[k] or None for k in OPTIONAL_TEXT},
            "address_public": values["address_public"] or "never",
            "visibility": values["visibility"] or "public"}
    for name, kind in NUMBERS.items():
        body[name] = number_as_sent(values[name], kind)
    return body

