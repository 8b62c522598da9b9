"""The dashboard's first tab (/me): events, changes to approved events and reports waiting for
a decision, each with who sent it for which campaign, decided in one step; and each open
campaign's progress at a glance."""
from __future__ import annotations

from typing import NamedTuple

from flask import Response, abort, g, request

from services.web import event_changes
from services.web.client import Api, api
from services.web.dashboard.base import LIST_LIMIT, bp, chosen, every_campaign, organisation_names, show
from services.web.forms import FormState, submitted
from services.web.i18n import reader_language
from services.web.pages import optional, signed_in

PREVIEW_TYPES = ("image/jpeg", "image/png", "image/webp")  # what a photo's small copy may be; nothing else is shown


class Decision(NamedTuple):
    """A kind of item's decision: the button's value that accepts it, the API's two paths
    under the item's own, and the done words of each."""
    accept: str
    accepted: str
    rejected: str
    done_accepted: str
    done_rejected: str


EVENT = Decision("approve", "approval", "rejection", "event_approved", "event_rejected")
CHANGE = Decision("approve", "acceptance", "rejection", "change_accepted", "change_rejected")
REPORT = Decision("publish", "publication", "rejection", "report_published", "report_rejected")


def show_queue() -> str:
    return show("coordinator.html", "queue", **page(api(), g.token))


def decided(form_id: str, decision: Decision, base: str, seen: dict | None = None):
    """Accept (approve, publish) or reject, by the button's value. `seen` goes with either:
    which version of the item the coordinator read."""
    if chosen("decision", (decision.accept, "reject")) == decision.accept:
        return submitted(lambda: api().post(f"{base}/{decision.accepted}", token=g.token, json=seen or {}),
                         FormState(form_id), show_queue, decision.done_accepted)
    return rejected(f"{base}/{decision.rejected}", form_id, decision.done_rejected, seen=seen)


def rejected(path: str, form_id: str, done: str, to: str = "/me", seen: dict | None = None):
    """Every refusal of the queue: the API's rejection, with the form's reason."""
    reason = request.form.get("reason", "")
    return submitted(lambda: api().post(path, token=g.token, json={"reason": reason, **(seen or {})}),
                     FormState(form_id, {"reason": reason}), show_queue, done, to)


@bp.post("/me/events/<uuid:event_id>/decision")
@signed_in
def decide(event_id):
    # The version on the coordinator's screen: one the organisation changed since is refused.
    seen = request.form.get("seen", "")[:40]
    return decided(f"event-{event_id}", EVENT, f"/api/events/events/{event_id}",
                   {"updated_at": seen} if seen else None)


@bp.post("/me/events/<uuid:event_id>/changes/<uuid:change_id>/decision")
@signed_in
def decide_change(event_id, change_id):
    """A change to an approved event: accepted (the public sees it now) or rejected with a
    reason its organisation reads."""
    return decided(f"change-{change_id}", CHANGE, f"/api/events/events/{event_id}/changes/{change_id}")


@bp.post("/me/reports/<uuid:report_id>/decision")
@signed_in
def decide_report(report_id):
    return decided(f"report-{report_id}", REPORT, f"/api/media/reports/{report_id}")


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
    answer = api().send("GET", f"/api/media/media/{media_id}/variants/320", token=g.token)
    kind = answer.headers.get("Content-Type", "")
    if answer.status_code != 200 or kind not in PREVIEW_TYPES:
        abort(404)
    return Response(answer.content, content_type=kind,
                    headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})


def page(api: Api, token: str) -> dict:
    """What waits for a decision (with who sent it, for which campaign) and how each open
    campaign is doing. Names come in one request per service, however long the queue."""
    queue = api.get("/api/events/events", params={"status": "submitted", "limit": LIST_LIMIT}, token=token)["items"]
    language = reader_language()
    changes = [{**c, "rows": event_changes.diff(c, language)} for c in api.get(
        "/api/events/events/changes", params={"status": "pending", "limit": LIST_LIMIT}, token=token)["items"]]
    reports = optional(lambda: api.get("/api/media/reports", token=token, params={
        "status": "submitted", "limit": LIST_LIMIT, "lang": language})["items"])
    campaigns = every_campaign(api, token)
    senders = {item["organisation_id"] for item in queue + reports} | {c["event"]["organisation_id"] for c in changes}
    return {"queue": queue, "reports": reports, "changes": changes,
            "organisations": organisation_names(api, token, senders),
            "campaign_names": {c["id"]: c["name"] for c in campaigns},
            "progress": [progress(api, token, c) for c in campaigns if c["status"] == "open"]}


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
