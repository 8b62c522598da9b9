"""The dashboard's campaigns tab (/me/campaigns): every campaign, drafts too; opening one,
editing one (every field of the events API), moving the day of action, and the material
package of each open one (a file uploaded, its metadata stripped by the media service, then
published as an item or a new version of one)."""
from __future__ import annotations

from flask import abort, g, request

from services.web.client import Api, api
from services.web.dashboard.base import bp, choices, every_campaign, show
from services.web.forms import FormState, number_as_sent, shown_again, submitted
from services.web.i18n import reader_language, translator
from services.web.pages import optional, signed_in, uuid_or_none

CAMPAIGN_FIELDS = ("name", "description", "day_of_action", "window_start", "window_end", "list_date", "status",
                   "adoption_threshold", "participation_keep_days")


@bp.get("/me/campaigns", endpoint="campaigns")
@signed_in
def show_campaigns() -> str:
    """The tab; also shown again, with the form as sent, when a change is refused."""
    return show("dashboard_campaigns.html", "campaigns", **campaigns_page(api(), g.token), **choices())


@bp.post("/me/campaigns")
@signed_in
def open_campaign():
    values = campaign_values()
    return submitted(lambda: api().post("/api/events/campaigns", token=g.token, json=campaign_body(values)),
                     FormState("campaign", values), show_campaigns, "campaign_opened", "/me/campaigns")


@bp.route("/me/campaigns/<uuid:campaign_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_campaign(campaign_id):
    """Every field of a campaign; what is sent is checked by the events service again."""
    path = f"/api/events/campaigns/{campaign_id}"
    campaign = api().get(path, token=g.token)  # a refusal (404…) is shown by the app's handler

    def show_edit() -> str:
        return show("dashboard_campaign.html", "campaigns", campaign=campaign,
                    values=stored_campaign_values(campaign), **choices())

    if request.method == "GET":
        return show_edit()
    values = campaign_values()
    return submitted(lambda: api().request("PATCH", path, token=g.token, json=campaign_body(values)),
                     FormState("campaign", values), show_edit, "campaign_saved", "/me/campaigns")


@bp.post("/me/campaigns/<uuid:campaign_id>/day")
@signed_in
def move_day(campaign_id):
    """Move the day of action (and its window): events that fall outside are flagged and their
    organisations told."""
    body = {k: request.form[k] for k in ("day_of_action", "window_start", "window_end") if request.form.get(k)}
    return submitted(lambda: api().request("PATCH", f"/api/events/campaigns/{campaign_id}", token=g.token, json=body),
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
    return submitted(lambda: api().post("/api/media/uploads", token=g.token, data=upload.stream,
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
    return submitted(lambda: api().post(path, token=g.token, json=fields), state, show_campaigns,
                     "material_published", "/me/campaigns")


def campaigns_page(api: Api, token: str) -> dict:
    """Every campaign; for the open ones, their material package."""
    campaigns = every_campaign(api, token)
    return {"campaigns": campaigns,
            "packages": {c["id"]: package(api, token, c["id"]) for c in campaigns if c["status"] == "open"}}


def package(api: Api, token: str, campaign_id: str) -> dict:
    """The package's current items, and the coalition's own uploads that could join it."""
    materials = optional(lambda: api.get(f"/api/media/campaigns/{campaign_id}/materials", params={"limit": 200})["items"])
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
            "adoption_threshold": number_as_sent(values["adoption_threshold"], int),
            "participation_keep_days": number_as_sent(values["participation_keep_days"], int)}
