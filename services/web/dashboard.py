"""The coordinator dashboard, in tabs: the queue (events and reports waiting for a decision,
each with who sent it for which campaign) and each open campaign's progress at a glance
(/me); campaigns — open one, edit one, move the day of action, the material package
(/me/campaigns); organisations — register one and show its key once, import a CSV file
(/me/organisations); the deliveries that fail (/me/deliveries); the emergency stop for a
country (/me/emergency).

A form the API refuses comes back with the API's errors under their fields and a summary at
its top; an action that worked says so on the page it leads to (forms.py)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, Response, abort, g, render_template, request

from services.web import event_changes, formats
from services.web.client import Api, ApiError
from services.web.forms import DEFAULT_ACTIVITY_TYPES, FormState, number_as_sent, refused, shown_again, submitted
from services.web.i18n import reader_language, translator
from services.web.pages import (
    coordinators_only,
    optional,
    refusal_page,
    signed_in,
    uuid_or_none,
    wants_a_page,
)

MATERIAL_KINDS = ("statement", "lecture", "song", "slogan", "poster", "video", "other")
COUNTRY = re.compile(r"[A-Z]{2}")
PREVIEW_TYPES = ("image/jpeg", "image/png", "image/webp")  # what a photo's small copy may be; nothing else is shown
CAMPAIGN_FIELDS = ("name", "description", "day_of_action", "window_start", "window_end", "list_date", "status",
                   "adoption_threshold")
ORGANISATION_FIELDS = ("abbreviation", "name", "name_en", "country", "timezone", "website", "contact_email")
LANGUAGE_CHOICES = 3  # an organisation's languages: this many lists, the first its main language
LIST_LIMIT = 200  # the APIs' largest page
NAME_PAGES = 10  # at most this many pages of organisations looked through for the queue's names


def show(template: str, tab: str, **context) -> str:
    """A dashboard page; a refused form it no longer holds (an item decided meanwhile, a file
    gone) has its errors said at the page's top instead — the page drawn once more."""
    html = render_template(template, tab=tab, **context)
    failed = g.get("failed_form")
    if failed is not None and not failed.shown:
        failed.id = "page"
        html = render_template(template, tab=tab, **context)
    return html


def blueprint(api: Api) -> Blueprint:
    bp = Blueprint("dashboard", __name__)

    @bp.before_request
    def _coordinators():
        if g.get("role") is not None:
            coordinators_only()

    def show_queue() -> str:
        return show("coordinator.html", "queue", **page(api, g.token))

    def show_campaigns() -> str:
        return show("dashboard_campaigns.html", "campaigns", **campaigns_page(api, g.token), **choices())

    def show_organisations(imported: dict | None = None) -> str:
        return show("dashboard_organisations.html", "organisations", imported=imported,
                    **organisations_page(api, g.token), **choices())

    def show_emergency() -> str:
        return show("dashboard_emergency.html", "emergency", **choices())

    # --- the queue ---------------------------------------------------------------------

    def decided(form_id: str, accept: str, paths: tuple[str, str], done: tuple[str, str], seen: dict | None = None):
        """Approve (publish) or reject, by the button's value; `paths` and `done` in that order.
        `seen` goes with either: which version of the item the coordinator read."""
        if chosen("decision", (accept, "reject")) == accept:
            return submitted(lambda: api.post(paths[0], token=g.token, json=seen or {}), FormState(form_id),
                             show_queue, done[0])
        return rejected(paths[1], form_id, done[1], seen=seen)

    def rejected(path: str, form_id: str, done: str, to: str = "/me", seen: dict | None = None):
        """Every refusal of the dashboard: the API's rejection, with the form's reason."""
        reason = request.form.get("reason", "")
        return submitted(lambda: api.post(path, token=g.token, json={"reason": reason, **(seen or {})}),
                         FormState(form_id, {"reason": reason}), show_queue, done, to)

    @bp.post("/me/events/<uuid:event_id>/decision")
    @signed_in
    def decide(event_id):
        base = f"/api/events/events/{event_id}"
        # The version on the coordinator's screen: one the organisation changed since is refused.
        seen = request.form.get("seen", "")[:40]
        return decided(f"event-{event_id}", "approve", (f"{base}/approval", f"{base}/rejection"),
                       ("event_approved", "event_rejected"), {"updated_at": seen} if seen else None)

    @bp.post("/me/events/<uuid:event_id>/changes/<uuid:change_id>/decision")
    @signed_in
    def decide_change(event_id, change_id):
        """A change to an approved event: accepted (the public sees it now) or rejected with a
        reason its organisation reads."""
        base = f"/api/events/events/{event_id}/changes/{change_id}"
        return decided(f"change-{change_id}", "approve", (f"{base}/acceptance", f"{base}/rejection"),
                       ("change_accepted", "change_rejected"))

    @bp.post("/me/reports/<uuid:report_id>/decision")
    @signed_in
    def decide_report(report_id):
        base = f"/api/media/reports/{report_id}"
        return decided(f"report-{report_id}", "publish", (f"{base}/publication", f"{base}/rejection"),
                       ("report_published", "report_rejected"))

    @bp.post("/me/media/<uuid:media_id>/decision")
    @signed_in
    def reject_media(media_id):
        """One file of a report refused (a face that must not be seen…), the rest goes on."""
        return rejected(f"/api/media/media/{media_id}/rejection", f"media-{media_id}", "file_rejected",
                        to="/me#reports-queue")

    @bp.get("/me/media/<uuid:media_id>/preview")
    @signed_in
    def preview(media_id):
        """A small copy of a photo waiting for a decision: the media service serves it only with
        a coordinator's token, which the browser does not have."""
        answer = api.send("GET", f"/api/media/media/{media_id}/variants/320", token=g.token)
        kind = answer.headers.get("Content-Type", "")
        if answer.status_code != 200 or kind not in PREVIEW_TYPES:
            abort(404)
        return Response(answer.content, content_type=kind,
                        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})

    # --- the emergency stop and the deliveries ------------------------------------------

    @bp.get("/me/emergency")
    @signed_in
    def emergency():
        return show_emergency()

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
            return submitted(lambda: api.request("DELETE", path, token=g.token), form, show_emergency,
                             "country_released", "/me/emergency")
        return submitted(lambda: api.request("PUT", path, token=g.token, json={"reason": values["reason"]}),
                         form, show_emergency, "country_held", "/me/emergency")

    @bp.get("/me/deliveries")
    @signed_in
    def deliveries():
        return show("dashboard_deliveries.html", "deliveries",
                    problems=optional(lambda: api.get("/api/notify/delivery-problems", token=g.token), default={}))

    # --- campaigns ------------------------------------------------------------------------

    @bp.get("/me/campaigns")
    @signed_in
    def campaigns():
        return show_campaigns()

    @bp.post("/me/campaigns")
    @signed_in
    def open_campaign():
        values = campaign_values()
        return submitted(lambda: api.post("/api/events/campaigns", token=g.token, json=campaign_body(values)),
                         FormState("campaign", values), show_campaigns, "campaign_opened", "/me/campaigns")

    @bp.route("/me/campaigns/<uuid:campaign_id>/edit", methods=["GET", "POST"])
    @signed_in
    def edit_campaign(campaign_id):
        """Every field of a campaign; what is sent is checked by the events service again."""
        path = f"/api/events/campaigns/{campaign_id}"
        campaign = api.get(path, token=g.token)  # a refusal (404…) is shown by the app's handler

        def show_edit() -> str:
            return show("dashboard_campaign.html", "campaigns", campaign=campaign,
                        values=stored_campaign_values(campaign), **choices())

        if request.method == "GET":
            return show_edit()
        values = campaign_values()
        return submitted(lambda: api.request("PATCH", path, token=g.token, json=campaign_body(values)),
                         FormState("campaign", values), show_edit, "campaign_saved", "/me/campaigns")

    @bp.post("/me/campaigns/<uuid:campaign_id>/day")
    @signed_in
    def move_day(campaign_id):
        """Move the day of action (and its window): events that fall outside are flagged and their
        organisations told."""
        body = {k: request.form[k] for k in ("day_of_action", "window_start", "window_end") if request.form.get(k)}
        return submitted(lambda: api.request("PATCH", f"/api/events/campaigns/{campaign_id}", token=g.token,
                                             json=body),
                         FormState(f"day-{campaign_id}", body), show_campaigns, "day_moved", "/me/campaigns")

    @bp.post("/me/campaigns/<uuid:campaign_id>/material-files")
    @signed_in
    def upload_material(campaign_id):
        """A file for the material package, as the coalition's own upload: the media service
        strips its metadata first; once processed it can be published."""
        upload = request.files.get("file")
        form = FormState(f"file-{campaign_id}")
        if upload is None or not upload.filename:
            form.errors = {"file": translator(reader_language())("error_choose_file")}
            return shown_again(form, show_campaigns)
        return submitted(lambda: api.post("/api/media/uploads", token=g.token, data=upload.stream,
                                          params={"campaign_id": str(campaign_id), "consent": "true",
                                                  "blur_faces": "false", "name": upload.filename},
                                          headers={"Content-Type": "application/octet-stream"}),
                         form, show_campaigns, "material_uploaded", "/me/campaigns")

    @bp.post("/me/campaigns/<uuid:campaign_id>/materials")
    @signed_in
    def publish_material(campaign_id):
        """A processed file becomes an item of the package (or a new version of one)."""
        form = request.form
        fields = {"kind": form.get("kind", ""), "language": form.get("language", "").strip(),
                  "title": form.get("title", "").strip(), "media_id": form.get("media_id", "")}
        if form.get("description", "").strip():  # none given is none, not a blank one
            fields["description"] = form["description"]
        state = FormState(f"material-{fields['media_id']}", dict(fields))
        path = f"/api/media/campaigns/{campaign_id}/materials"
        if form.get("replaces"):
            earlier = uuid_or_none(form["replaces"])  # it goes into the API's path
            if earlier is None:
                abort(400, "replaces: not an item of the package.")
            path = f"/api/media/materials/{earlier}/versions"
        return submitted(lambda: api.post(path, token=g.token, json=fields), state, show_campaigns,
                         "material_published", "/me/campaigns")

    # --- organisations ----------------------------------------------------------------------

    @bp.get("/me/organisations")
    @signed_in
    def organisations():
        return show_organisations()

    @bp.post("/me/organisations")
    @signed_in
    def register_organisation():
        """Register an organisation, then show its first API key — on this one page, never again."""
        values = organisation_values()
        try:
            made = api.post("/api/registry/organisations", token=g.token, json=organisation_body(values))
        except ApiError as exc:
            return refused(exc, FormState("organisation", values), show_organisations)
        return key_page(made, registered=True)

    @bp.post("/me/renames/<uuid:rename_id>/decision")
    @signed_in
    def decide_rename(rename_id):
        """An organisation's new name, abbreviation or country: accepted (everyone sees it now) or
        rejected with a reason (it keeps the approved one)."""
        base, reason = f"/api/registry/organisations/renames/{rename_id}", request.form.get("reason", "")
        form = FormState(f"rename-{rename_id}", {"reason": reason})
        if chosen("decision", ("accept", "reject")) == "accept":
            return submitted(lambda: api.post(f"{base}/acceptance", token=g.token), form, show_organisations,
                             "rename_accepted", "/me/organisations")
        return submitted(lambda: api.post(f"{base}/rejection", token=g.token, json={"reason": reason}), form,
                         show_organisations, "rename_rejected", "/me/organisations")

    @bp.post("/me/organisations/<uuid:organisation_id>/keys")
    @signed_in
    def issue_key(organisation_id):
        """Another key for an organisation (its first was lost, or never made)."""
        return key_page(api.get(f"/api/registry/organisations/{organisation_id}", token=g.token), registered=False)

    def key_page(organisation: dict, registered: bool):
        try:
            key = api.post(f"/api/registry/organisations/{organisation['id']}/keys", token=g.token,
                           json={"label": "dashboard"})
        except ApiError as exc:
            if not registered:
                return refusal_page(exc)
            key, problem = None, str(exc)  # registered all the same: the list below can issue one
        else:
            problem = None
        return show("dashboard_key.html", "organisations", organisation=organisation, key=key, problem=problem,
                    registered=registered)

    @bp.post("/me/organisations/import")
    @signed_in
    def import_organisations():
        """A CSV file of organisations (the registry's importer: a re-run changes nothing): how many
        were created, updated or already there, and each refused row with its reason."""
        upload = request.files.get("file")
        skip_bad = request.form.get("skip_bad") == "true"
        form = FormState("import", {"skip_bad": skip_bad})
        if upload is None or not upload.filename:
            form.errors = {"file": translator(reader_language())("error_choose_file")}
            return shown_again(form, show_organisations)
        try:
            report = api.post("/api/registry/organisations/import", token=g.token, data=upload.read(),
                              params={"skip_bad": "true" if skip_bad else "false"},
                              headers={"Content-Type": "text/csv"})
        except ApiError as exc:
            rows = [e for e in exc.problem.get("errors") or [] if isinstance(e, dict) and e.get("line")]
            if exc.status != 422 or not rows or not wants_a_page():  # not UTF-8…: said under the file's field
                return refused(exc, form, show_organisations, field="file")
            return show_organisations(imported={"refused": rows, "nothing": True, "skip_bad": skip_bad}), 422
        return show_organisations(imported={**report, "refused": report.get("skipped", []), "nothing": False,
                                            "skip_bad": skip_bad})

    return bp


# --- what a form's outcome shows ------------------------------------------------------------

def chosen(name: str, allowed: tuple[str, ...]) -> str:
    """A button's value, exactly one of `allowed`: a garbled form does nothing, least of all
    the destructive thing."""
    value = request.form.get(name, "")
    if value not in allowed:
        abort(400, f"{name}: one of {', '.join(allowed)}.")
    return value


def choices() -> dict:
    """The lists the forms offer, in the page's language."""
    language = reader_language()
    return {"country_choices": formats.countries(language), "zone_choices": formats.time_zones(language),
            "language_choices": formats.languages(language), "activity_defaults": DEFAULT_ACTIVITY_TYPES,
            "material_kinds": MATERIAL_KINDS,
            "language_lists": LANGUAGE_CHOICES}


# --- the queue and the progress (/me) ----------------------------------------------------------

def page(api: Api, token: str) -> dict:
    """What waits for a decision (with who sent it, for which campaign) and how each open
    campaign is doing. Names come in one request per service, however long the queue."""
    queue = api.get("/api/events/events", params={"status": "submitted", "limit": LIST_LIMIT}, token=token)["items"]
    language = reader_language()
    changes = [{**c, "rows": event_changes.diff(c, language)} for c in api.get(
        "/api/events/events/changes", params={"status": "pending", "limit": LIST_LIMIT}, token=token)["items"]]
    reports = optional(lambda: api.get("/api/media/reports", params={"status": "submitted", "limit": LIST_LIMIT},
                                       token=token)["items"])
    campaigns = every_campaign(api, token)
    senders = {item["organisation_id"] for item in queue + reports} | {c["event"]["organisation_id"] for c in changes}
    return {"queue": queue, "reports": reports, "changes": changes,
            "organisations": organisation_names(api, token, senders),
            "campaign_names": {c["id"]: c["name"] for c in campaigns},
            "progress": [progress(api, token, c) for c in campaigns if c["status"] == "open"]}


def every_campaign(api: Api, token: str) -> list[dict]:
    """Every campaign, drafts too (a coordinator sees them), in one request."""
    return api.get("/api/events/campaigns", params={"limit": LIST_LIMIT}, token=token)["items"]


def organisation_names(api: Api, token: str, wanted: set[str]) -> dict[str, dict]:
    """The registry's organisations by id, as far as `wanted` needs: its list a page of 200 at
    a time — one request for a coalition of up to 200. A registry that cannot answer leaves the
    names out (the page goes on)."""
    found: dict[str, dict] = {}
    params: dict = {"limit": LIST_LIMIT}
    for _ in range(NAME_PAGES):
        if not wanted - found.keys():
            break
        listed = optional(lambda p=params: api.get("/api/registry/organisations", params=p, token=token),
                          default={})
        found.update({o["id"]: o for o in listed.get("items", [])})
        cursor = parse_qs(urlsplit(listed.get("next") or "").query).get("cursor")
        if not cursor:
            break
        params = {"limit": LIST_LIMIT, "cursor": cursor[0]}
    return found


def progress(api: Api, token: str, campaign: dict) -> dict:
    """An open campaign at a glance: events per country and activity, turnout, who signed when,
    and the countries of signatories without events."""
    base = f"/api/events/campaigns/{campaign['id']}"
    statistics = api.get(f"{base}/statistics", token=token)
    signatories = api.get(f"{base}/signatories")
    everyone = signatories["initial"] + signatories["subsequent"]
    with_events = {c["key"] for c in statistics["countries"]}
    return {"campaign": campaign, "statistics": statistics, "signatories": len(everyone),
            "signed_over_time": signed_over_time(everyone),
            "turnout": optional(lambda: api.get(f"/api/media/campaigns/{campaign['id']}/turnout")["countries"]),
            "without_events": sorted({s["country"] for s in everyone} - with_events)}


def signed_over_time(signatories: list[dict]) -> list[dict]:
    """How many had signed by each day someone signed: [{"date", "count"}], in order."""
    by_day: dict[str, int] = {}
    for s in signatories:
        day = (s.get("endorsed_at") or "")[:10]
        if day:
            by_day[day] = by_day.get(day, 0) + 1
    total, points = 0, []
    for day in sorted(by_day):
        total += by_day[day]
        points.append({"date": day, "count": total})
    return points


# --- campaigns (/me/campaigns) ------------------------------------------------------------------

def campaigns_page(api: Api, token: str) -> dict:
    """Every campaign; for the open ones, their material package."""
    campaigns = every_campaign(api, token)
    return {"campaigns": campaigns,
            "packages": {c["id"]: package(api, token, c["id"]) for c in campaigns if c["status"] == "open"}}


def package(api: Api, token: str, campaign_id: str) -> dict:
    """The package's current items, and the coalition's own uploads that could join it."""
    materials = optional(lambda: api.get(f"/api/media/campaigns/{campaign_id}/materials")["items"])
    in_package = {m["media_id"] for m in materials}
    uploads = optional(lambda: api.get("/api/media/media", token=token,
                                       params={"campaign_id": campaign_id, "limit": 100})["items"])
    return {"materials": materials,
            "replace_choices": [(m["id"], f"{m['title']} (v{m['version']})") for m in materials],
            "material_files": [u for u in uploads if u["organisation_id"] is None and u["id"] not in in_package]}


def campaign_values() -> dict:
    """A campaign's form as sent: its texts and dates as typed, its lists as chosen."""
    values = {k: request.form.get(k, "").strip() for k in CAMPAIGN_FIELDS}
    values["description"] = request.form.get("description", "")  # the call, its line breaks and all
    values["languages"] = request.form.getlist("languages")
    values["activity_types"] = request.form.getlist("activity_types")
    return values


def stored_campaign_values(campaign: dict) -> dict:
    """A campaign as its form shows it."""
    values = {k: "" if campaign.get(k) is None else str(campaign[k]) for k in CAMPAIGN_FIELDS}
    return {**values, "languages": list(campaign.get("languages") or []),
            "activity_types": list(campaign.get("activity_types") or [])}


def campaign_body(values: dict) -> dict:
    """The events API's body from the form: what is optional and blank is none; a number that is
    not one goes as typed, so the API's error names its field."""
    return {**{k: values[k] for k in ("name", "description", "day_of_action", "window_start", "window_end",
                                      "status", "languages", "activity_types")},
            "list_date": values["list_date"] or None,
            "adoption_threshold": number_as_sent(values["adoption_threshold"], int)}


# --- organisations (/me/organisations) -----------------------------------------------------------

def organisations_page(api: Api, token: str) -> dict:
    """The renames waiting for a decision (oldest first, with their warnings), and the
    organisations registered (their first page, newest last), to issue one a key."""
    listed = optional(lambda: api.get("/api/registry/organisations", params={"limit": LIST_LIMIT}, token=token),
                      default={})
    renames = optional(lambda: api.get("/api/registry/organisations/renames", params={"limit": LIST_LIMIT},
                                       token=token)["items"], default=[])
    names = organisation_names(api, token, {r["organisation_id"] for r in renames}) if renames else {}
    return {"organisations": listed.get("items", []), "more_organisations": bool(listed.get("next")),
            "renames": [{**r, "organisation": names.get(r["organisation_id"])} for r in renames]}


def organisation_values() -> dict:
    values = {k: request.form.get(k, "").strip() for k in ORGANISATION_FIELDS}
    values["languages"] = request.form.getlist("languages")
    return values


def organisation_body(values: dict) -> dict:
    """The registry's body from the form: the languages chosen, in order, each once; what is
    optional and blank is none."""
    languages = list(dict.fromkeys(code for code in values["languages"] if code))
    return {**{k: values[k] for k in ("abbreviation", "name", "name_en", "country", "timezone")},
            "languages": languages, "website": values["website"] or None,
            "contact_email": values["contact_email"] or None}
