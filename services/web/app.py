"""The public site: campaigns, a campaign's page (the call, the countdown, the signatories,
the events, the follow-the-sun timeline, published reports, the material package, calendar
links, the subscription form) and an event's page. Every page works without JavaScript and
is rendered from the services' HTTP APIs."""
from __future__ import annotations

import os
import tempfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from flask import Flask, abort, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from services.web import account
from services.web.account import session_settings
from services.web.client import Api, ApiError
from services.web.i18n import LANGUAGES, RTL, reader_language, translator
from services.web.worldmap import render_map
from shared.config import Config
from shared.http.app import install_request_id_and_problems
from shared.http.problems import from_http_exception

EVENT_FILTERS = ("country", "activity_type", "language")


def create_app(config: Config, api: Api) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.jinja_env.autoescape = True  # every template: user text is shown as text
    secret = web_secret(config)
    app.secret_key = secret
    session_settings(app, secure=config.PUBLIC_URL.startswith("https://"))
    app.register_blueprint(account.blueprint(api, Fernet(secret)))

    @app.context_processor
    def _page():
        language = reader_language()
        return {"t": translator(language), "lang": language, "dir": "rtl" if language in RTL else "ltr",
                "languages": LANGUAGES}

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.args.get("lang") in LANGUAGES:  # a switch sticks
            response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    install_request_id_and_problems(app)  # X-Request-ID, and problem+json for API clients

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException):
        """A page for browsers, problem+json for everyone else (curl, scripts, API clients)."""
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) != "text/html" or \
                not request.accept_mimetypes.accept_html:
            return from_http_exception(exc)
        t = translator(reader_language())
        title = t("not_found") if exc.code == 404 else exc.name
        text = "" if exc.code == 404 else (exc.description or "")
        return render_template("message.html", title=title, text=text), exc.code

    @app.get("/")
    def campaigns():
        found = api.get("/api/events/campaigns", params={"status": "open"}, lang=reader_language())
        return render_template("campaigns.html", campaigns=found["items"])

    @app.get("/campaigns/<uuid:campaign_id>")
    def campaign(campaign_id):
        language = reader_language()
        base = f"/api/events/campaigns/{campaign_id}"
        try:
            found = api.get(base, lang=language)
        except ApiError as exc:
            abort(404 if exc.status in (404, 422) else 502)
        filters = {k: request.args[k] for k in EVENT_FILTERS if request.args.get(k)}
        events = api.get("/api/events/events", params={"campaign": str(campaign_id), "limit": 200, "lang": language,
                                                       **filters})
        return render_template(
            "campaign.html", campaign=found, countdown=_countdown(found["day_of_action"]),
            signatories=api.get(f"{base}/signatories"), events=events["items"], more_events=events["next"],
            filters=filters, timeline=api.get(f"{base}/timeline", params={"limit": 200, "lang": language})["items"],
            # Media learns of a campaign from the bus, a moment after it opens: until then, nothing.
            reports=_optional(lambda: api.get("/api/media/reports",
                                              params={"campaign_id": str(campaign_id), "limit": 20})["items"]),
            materials=_optional(lambda: api.get(f"/api/media/campaigns/{campaign_id}/materials")["items"]),
            world=Markup(_world_map(api, str(campaign_id), found["name"], language)),
            subscribed=request.args.get("subscribed") == "1")

    @app.post("/campaigns/<uuid:campaign_id>/subscription")
    def subscribe(campaign_id):
        body = {"email": request.form.get("email", ""), "language": reader_language(), "scope": "campaign",
                "campaign_id": str(campaign_id)}
        if request.form.get("country"):
            body.update(scope="country", country=request.form["country"])
        try:
            api.post("/api/notify/subscriptions", json=body)
        except ApiError as exc:
            return account.refusal_page(exc)
        return redirect(url_for("campaign", campaign_id=campaign_id, subscribed=1, _anchor="subscribe"), 303)

    @app.get("/events/<uuid:event_id>")
    def event(event_id):
        language = reader_language()
        try:
            found = api.get(f"/api/events/events/{event_id}", lang=language)
        except ApiError as exc:
            abort(404 if exc.status in (404, 422) else 502)
        reader_zone = request.args.get("tz")
        return render_template("event.html", event=found, your_time=_in_zone(found["starts_at"], reader_zone))

    @app.get("/lang/<code>")
    def switch_language(code):
        response = make_response(redirect(request.referrer or "/", 303))
        if code in LANGUAGES:
            response.set_cookie("lang", code, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    return app


def web_secret(config: Config) -> bytes:
    """The key that seals session cookies: configured, or made once and kept beside the data.
    Made in a file of its own and linked into place, so workers starting together agree."""
    if config.WEB_SECRET_KEY:
        return config.WEB_SECRET_KEY.encode()
    path = config.var_dir / "web-secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".web-secret-")
        try:
            with os.fdopen(descriptor, "wb") as f:
                f.write(Fernet.generate_key())
            os.link(temporary, path)  # fails if another worker got there first: theirs counts
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()


def _world_map(api: Api, campaign_id: str, name: str, language: str) -> str:
    """The offline map: the public events whose owners made the place public, as points; a
    count per country from the statistics (the public's)."""
    features = _optional(lambda: api.get("/api/events/events/map.geojson",
                                         params={"campaign": campaign_id, "lang": language})["features"])
    points = [{"longitude": f["geometry"]["coordinates"][0], "latitude": f["geometry"]["coordinates"][1],
               "title": f["properties"]["title"], "city": f["properties"]["city"], "url": f"/events/{f['id']}"}
              for f in features]
    statistics = _optional(lambda: api.get(f"/api/events/campaigns/{campaign_id}/statistics"), default={})
    counts = {c["key"]: c["events"] for c in (statistics or {}).get("countries", [])}
    return render_map(points, counts, title=name, lang=language)


def _optional(call, default=()):
    """A section another service may not be able to give yet (or at all): the page goes on."""
    try:
        return call()
    except ApiError:
        return default if isinstance(default, dict) else list(default)


def _countdown(day_of_action: str) -> dict:
    days = (date.fromisoformat(day_of_action) - date.today()).days
    return {"days": days, "date": day_of_action}


def _in_zone(starts_at: str, zone: str | None) -> str | None:
    """The event's start in the reader's zone, when they say which (`?tz=`, set by the page's
    small script or by hand); without JavaScript the page shows local time and UTC."""
    if not zone:
        return None
    try:
        return datetime.fromisoformat(starts_at).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") + f" ({zone})"
    except (KeyError, ValueError):
        return None
