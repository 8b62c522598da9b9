"""Signing in with an API key, and what a signed-in organisation or coordinator does here.

The key never stays in the browser readable: the session cookie (HttpOnly, SameSite=Lax,
Secure behind https) holds it encrypted (Fernet, with WEB_SECRET_KEY), and the web front
exchanges it for a short-lived token at each request. Every form carries a CSRF token tied
to the session.
"""
from __future__ import annotations

import hmac
import secrets
import time
from functools import wraps

from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for

from services.web.client import Api, ApiError

EVENT_FIELDS = ("campaign_id", "title", "language", "activity_type", "city", "country", "timezone", "start", "end")


def blueprint(api: Api, fernet: Fernet) -> Blueprint:
    bp = Blueprint("account", __name__)

    def token_for(key: str) -> dict:
        return api.post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"})

    def seal(text: str) -> str:
        return fernet.encrypt(text.encode()).decode()

    def open_(sealed: str) -> str:
        return fernet.decrypt(sealed.encode()).decode()

    @bp.before_app_request
    def _who():
        """The signed-in caller's token: kept (sealed) in the session until a minute before it
        expires, then made again from the key — not one token request per page."""
        g.token = g.role = g.subject = None
        if not session.get("key"):
            return
        try:
            if session.get("token_until", 0) > time.time():
                g.token = open_(session["token"])
            else:
                issued = token_for(open_(session["key"]))
                g.token = issued["access_token"]
                session["token"], session["token_until"] = seal(g.token), time.time() + issued["expires_in"] - 60
            me = api.get("/api/registry/me", token=g.token)
        except (InvalidToken, ApiError):  # a revoked key, a suspended organisation, another secret
            session.clear()
            return
        g.role, g.subject = me["role"], me["subject_id"]

    @bp.app_context_processor
    def _account():
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return {"csrf": session["csrf"], "signed_in": g.get("role")}

    @bp.before_app_request
    def _check_csrf():
        if request.method == "POST" and request.endpoint and request.endpoint.startswith("account."):
            sent = request.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                abort(400, "The form is out of date or came from elsewhere: reload the page and send it again.")

    def signed_in(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.get("role") is None:
                return redirect(url_for("account.signin", next=request.path))
            return view(*args, **kwargs)
        return wrapper

    @bp.route("/signin", methods=["GET", "POST"])
    def signin():
        error = None
        if request.method == "POST":
            key = request.form.get("key", "").strip()
            try:
                token_for(key)
            except ApiError:
                error = "This key is not valid (or was revoked)."
            else:
                session.clear()
                session["key"] = seal(key)
                session["csrf"] = secrets.token_urlsafe(32)  # a new session, a new token
                return redirect(url_for("account.home"), 303)
        return render_template("signin.html", error=error), 401 if error else 200

    @bp.post("/signout")
    def signout():
        session.clear()
        return redirect("/", 303)

    @bp.get("/me")
    @signed_in
    def home():
        if g.role == "coordinator":
            return render_template("coordinator.html", **dashboard(api, g.token))
        return render_template("organisation.html", **organisation_page(api, g.token, g.subject), values={},
                               errors={})

    @bp.post("/me/events")
    @signed_in
    def submit_event():
        values = {k: request.form.get(k, "").strip() for k in EVENT_FIELDS}
        body = {"title": {values["language"] or "en": values["title"]}, "languages": [values["language"] or "en"],
                **{k: values[k] for k in ("activity_type", "city", "country", "timezone", "start", "end")}}
        try:
            api.post(f"/api/events/campaigns/{values['campaign_id']}/events", json=body, token=g.token)
        except ApiError as exc:
            errors = {(e.get("field") or "").split(".")[0]: e.get("message") for e in exc.problem.get("errors", [])}
            if not errors:
                errors = {"": exc.problem.get("detail", str(exc))}
            return render_template("organisation.html", **organisation_page(api, g.token, g.subject), values=values,
                                   errors=errors), 422
        return redirect(url_for("account.home"), 303)

    @bp.post("/me/events/<uuid:event_id>/decision")
    @signed_in
    def decide(event_id):
        coordinators_only()
        if request.form.get("decision") == "approve":
            return act(lambda: api.post(f"/api/events/events/{event_id}/approval", token=g.token))
        return act(lambda: api.post(f"/api/events/events/{event_id}/rejection", token=g.token,
                                    json={"reason": request.form.get("reason", "")}))

    @bp.post("/me/reports/<uuid:report_id>/decision")
    @signed_in
    def decide_report(report_id):
        coordinators_only()
        if request.form.get("decision") == "publish":
            return act(lambda: api.post(f"/api/media/reports/{report_id}/publication", token=g.token))
        return act(lambda: api.post(f"/api/media/reports/{report_id}/rejection", token=g.token,
                                    json={"reason": request.form.get("reason", "")}))

    @bp.post("/me/holds")
    @signed_in
    def hold():
        """The emergency stop: every event of a country leaves the public outputs at once."""
        coordinators_only()
        country = request.form.get("country", "").strip()
        if request.form.get("action") == "release":
            return act(lambda: api.request("DELETE", f"/api/events/countries/{country}/hold", token=g.token))
        return act(lambda: api.request("PUT", f"/api/events/countries/{country}/hold", token=g.token,
                                       json={"reason": request.form.get("reason", "")}))

    @bp.post("/me/campaigns/<uuid:campaign_id>/day")
    @signed_in
    def move_day(campaign_id):
        """Move the day of action (and its window): events that fall outside are flagged and their
        organisations told."""
        coordinators_only()
        body = {k: request.form[k] for k in ("day_of_action", "window_start", "window_end") if request.form.get(k)}
        return act(lambda: api.request("PATCH", f"/api/events/campaigns/{campaign_id}", token=g.token, json=body))

    @bp.post("/me/reports")
    @signed_in
    def send_report():
        """A report with photos or videos: each file goes to the media service as it came (its
        worker strips what identifies people), then the report names them."""
        form = request.form
        options = {"campaign_id": form.get("campaign_id", ""), "consent": "true" if form.get("consent") else "false",
                   "blur_faces": "true" if form.get("blur_faces") else "false"}

        def upload_and_report() -> None:
            media_ids = []
            for upload in request.files.getlist("files"):
                if not upload.filename:
                    continue
                made = api.post("/api/media/uploads", token=g.token, params={**options, "name": upload.filename},
                                data=upload.stream, headers={"Content-Type": "application/octet-stream"})
                media_ids.append(made["id"])
            api.post("/api/media/reports", token=g.token, json={
                "campaign_id": options["campaign_id"], "country": form.get("country") or None,
                "title": form.get("title", ""), "text": form.get("text", ""), "language": form.get("language") or "en",
                "turnout": int(form["turnout"]) if form.get("turnout", "").isdigit() else None,
                "media_ids": media_ids})

        return act(upload_and_report)

    @bp.post("/me/events/<uuid:event_id>/cancellation")
    @signed_in
    def cancel(event_id):
        return act(lambda: api.post(f"/api/events/events/{event_id}/cancellation", token=g.token))

    @bp.post("/me/campaigns/<uuid:campaign_id>/endorsement")
    @signed_in
    def endorse(campaign_id):
        return act(lambda: api.post(f"/api/events/campaigns/{campaign_id}/endorsements", token=g.token, json={}))

    return bp


def coordinators_only() -> None:
    if g.role != "coordinator":
        abort(403)


def act(call):
    """Do what a form asked through the API; back to the dashboard, or the API's refusal shown
    as a page."""
    try:
        call()
    except ApiError as exc:
        return refusal_page(exc)
    return redirect(url_for("account.home"), 303)


def refusal_page(exc: ApiError):
    """The API's refusal as a page, with its status: the fields it names and why, or its detail."""
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.problem.get("errors", []))
    return render_template("message.html", title=exc.problem.get("title", "Error"),
                           text=errors or exc.problem.get("detail", "")), exc.status


def organisation_page(api: Api, token: str, organisation_id: str) -> dict:
    events = api.get("/api/events/events", params={"organisation": organisation_id, "limit": 200}, token=token)
    try:
        uploads = api.get("/api/media/media", params={"limit": 50}, token=token)["items"]
    except ApiError:
        uploads = []
    return {"events": events["items"], "uploads": uploads,
            "campaigns": api.get("/api/events/campaigns", params={"status": "open"})["items"]}


def dashboard(api: Api, token: str) -> dict:
    """What waits for a decision, and how each open campaign is doing."""
    queue = api.get("/api/events/events", params={"status": "submitted", "limit": 200}, token=token)["items"]
    try:
        reports = api.get("/api/media/reports", params={"status": "submitted", "limit": 200}, token=token)["items"]
    except ApiError:
        reports = []
    progress = []
    for campaign in api.get("/api/events/campaigns", params={"status": "open"})["items"]:
        base = f"/api/events/campaigns/{campaign['id']}"
        statistics = api.get(f"{base}/statistics", token=token)
        signatories = api.get(f"{base}/signatories")
        endorsing = {s["country"] for s in signatories["initial"] + signatories["subsequent"]}
        with_events = {c["key"] for c in statistics["countries"]}
        try:
            turnout = api.get(f"/api/media/campaigns/{campaign['id']}/turnout")["countries"]
        except ApiError:
            turnout = []
        progress.append({"campaign": campaign, "statistics": statistics, "turnout": turnout,
                         "signatories": len(signatories["initial"]) + len(signatories["subsequent"]),
                         "without_events": sorted(endorsing - with_events)})
    return {"queue": queue, "reports": reports, "progress": progress}


def session_settings(app, secure: bool) -> None:
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
                      SESSION_COOKIE_NAME="doa_session")


