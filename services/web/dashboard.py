"""The coordinator dashboard: the queues (events and reports waiting for a decision), how each
open campaign is doing, moving the day of action, the emergency stop for a country, the
material package, and the deliveries that fail."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, g, render_template, request

from services.web.client import Api
from services.web.pages import act, coordinators_only, optional, signed_in, uuid_or_none

MATERIAL_KINDS = ("statement", "lecture", "song", "slogan", "poster", "video", "other")
COUNTRY = re.compile(r"[A-Z]{2}")
PREVIEW_TYPES = ("image/jpeg", "image/png", "image/webp")  # what a photo's small copy may be; nothing else is shown


def blueprint(api: Api) -> Blueprint:
    bp = Blueprint("dashboard", __name__)

    @bp.before_request
    def _coordinators():
        if g.get("role") is not None:
            coordinators_only()

    def rejected(path: str, to: str = "/me"):
        """Every refusal of the dashboard: the API's rejection, with the form's reason."""
        return act(lambda: api.post(path, token=g.token, json={"reason": request.form.get("reason", "")}), to=to)

    def decided(accept: str, accept_path: str, reject_path: str):
        if chosen("decision", (accept, "reject")) == accept:
            return act(lambda: api.post(accept_path, token=g.token))
        return rejected(reject_path)

    @bp.post("/me/events/<uuid:event_id>/decision")
    @signed_in
    def decide(event_id):
        base = f"/api/events/events/{event_id}"
        return decided("approve", f"{base}/approval", f"{base}/rejection")

    @bp.post("/me/reports/<uuid:report_id>/decision")
    @signed_in
    def decide_report(report_id):
        base = f"/api/media/reports/{report_id}"
        return decided("publish", f"{base}/publication", f"{base}/rejection")

    @bp.post("/me/media/<uuid:media_id>/decision")
    @signed_in
    def reject_media(media_id):
        """One file of a report refused (a face that must not be seen…), the rest goes on."""
        return rejected(f"/api/media/media/{media_id}/rejection", to="/me#reports-queue")

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

    @bp.post("/me/holds")
    @signed_in
    def hold():
        """The emergency stop: every event of a country leaves the public outputs at once."""
        action = chosen("action", ("hold", "release"))
        country = request.form.get("country", "").strip().upper()
        if not COUNTRY.fullmatch(country):  # it goes into the API's path: two letters, nothing else
            return render_template("message.html", title="Unprocessable Entity",
                                   text="country: two letters, as KE or DE."), 422
        if action == "release":
            return act(lambda: api.request("DELETE", f"/api/events/countries/{country}/hold", token=g.token))
        return act(lambda: api.request("PUT", f"/api/events/countries/{country}/hold", token=g.token,
                                       json={"reason": request.form.get("reason", "")}))

    @bp.post("/me/campaigns/<uuid:campaign_id>/day")
    @signed_in
    def move_day(campaign_id):
        """Move the day of action (and its window): events that fall outside are flagged and their
        organisations told."""
        body = {k: request.form[k] for k in ("day_of_action", "window_start", "window_end") if request.form.get(k)}
        return act(lambda: api.request("PATCH", f"/api/events/campaigns/{campaign_id}", token=g.token, json=body))

    @bp.post("/me/campaigns/<uuid:campaign_id>/material-files")
    @signed_in
    def upload_material(campaign_id):
        """A file for the material package, as the coalition's own upload: the media service
        strips its metadata first; once processed it can be published."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return render_template("message.html", title="No file", text="Choose the file to upload."), 422
        return act(lambda: api.post("/api/media/uploads", token=g.token, data=upload.stream,
                                    params={"campaign_id": str(campaign_id), "consent": "true",
                                            "blur_faces": "false", "name": upload.filename},
                                    headers={"Content-Type": "application/octet-stream"}))

    @bp.post("/me/campaigns/<uuid:campaign_id>/materials")
    @signed_in
    def publish_material(campaign_id):
        """A processed file becomes an item of the package (or a new version of one)."""
        form = request.form
        fields = {"kind": form.get("kind", ""), "language": form.get("language", "").strip(),
                  "title": form.get("title", "").strip(), "media_id": form.get("media_id", "")}
        if form.get("description", "").strip():  # none given is none, not a blank one
            fields["description"] = form["description"]
        if form.get("replaces"):
            earlier = uuid_or_none(form["replaces"])  # it goes into the API's path
            if earlier is None:
                abort(400, "replaces: not an item of the package.")
            return act(lambda: api.post(f"/api/media/materials/{earlier}/versions", token=g.token, json=fields))
        return act(lambda: api.post(f"/api/media/campaigns/{campaign_id}/materials", token=g.token, json=fields))

    return bp


def page(api: Api, token: str) -> dict:
    """What waits for a decision, how each open campaign is doing, and what fails to arrive."""
    queue = api.get("/api/events/events", params={"status": "submitted", "limit": 200}, token=token)["items"]
    reports = optional(lambda: api.get("/api/media/reports", params={"status": "submitted", "limit": 200},
                                       token=token)["items"])
    progress = []
    for campaign in api.get("/api/events/campaigns", params={"status": "open"})["items"]:
        base = f"/api/events/campaigns/{campaign['id']}"
        statistics = api.get(f"{base}/statistics", token=token)
        signatories = api.get(f"{base}/signatories")
        everyone = signatories["initial"] + signatories["subsequent"]
        with_events = {c["key"] for c in statistics["countries"]}
        progress.append({
            "campaign": campaign, "statistics": statistics, "signatories": len(everyone),
            "signed_over_time": signed_over_time(everyone),
            "turnout": optional(lambda c=campaign["id"]: api.get(f"/api/media/campaigns/{c}/turnout")["countries"]),
            **package(api, token, campaign["id"]),
            "without_events": sorted({s["country"] for s in everyone} - with_events)})
    return {"queue": queue, "reports": reports, "progress": progress, "material_kinds": MATERIAL_KINDS,
            "problems": optional(lambda: api.get("/api/notify/delivery-problems", token=token), default={})}


def chosen(field: str, allowed: tuple[str, ...]) -> str:
    """A button's value, exactly one of `allowed`: a garbled form does nothing, least of all
    the destructive thing."""
    value = request.form.get(field, "")
    if value not in allowed:
        abort(400, f"{field}: one of {', '.join(allowed)}.")
    return value


def package(api: Api, token: str, campaign_id: str) -> dict:
    """The package's current items, and the coalition's own uploads that could join it."""
    materials = optional(lambda: api.get(f"/api/media/campaigns/{campaign_id}/materials")["items"])
    in_package = {m["media_id"] for m in materials}
    uploads = optional(lambda: api.get("/api/media/media", token=token,
                                       params={"campaign_id": campaign_id, "limit": 100})["items"])
    return {"materials": materials,
            "material_files": [u for u in uploads if u["organisation_id"] is None and u["id"] not in in_package]}


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
