"""The public site: campaigns, a campaign's page (the call, the countdown, the signatories,
the events, the follow-the-sun timeline, published reports, the material package, calendar
links, the subscription form) and an event's page. Every page works without JavaScript and
is rendered from the services' HTTP APIs."""
from __future__ import annotations

import logging
import os
import tempfile
from datetime import date
from urllib.parse import urlencode, urlsplit

from cryptography.fernet import Fernet
from flask import Flask, abort, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError

from services.web import (
    account,
    api_keys,
    audit_log,
    campaign_page,
    client,
    dashboard,
    formats,
    forms,
    organisation,
    security,
    subscription,
    uploads,
)
from services.web.account import session_settings
from services.web.calendar_links import google_calendar_link
from services.web.charts import cumulative_chart
from services.web.client import Api, ApiError
from services.web.i18n import reader_language, translator
from services.web.page_cache import RenderedPages
from services.web.pages import refusal_page, uuid_or_none, wants_a_page
from services.web.session_cookie import SessionOverTls
from services.web.signouts import SignOuts
from services.web.worldmap import legend, render_map
from shared.config import Config
from shared.http.app import install_request_id_and_problems
from shared.http.problems import from_http_exception, problem_response
from shared.languages import LANGUAGES, RIGHT_TO_LEFT

log = logging.getLogger("doa.web")
# The largest form without files: an event's description in full (20,000 characters of any
# script, percent-encoded) fits several times; and no form of ours has 200 fields.
FORM_LIMIT = 512 * 1024
FORM_FIELDS = 200
WITH_FILES = {"organisation.send_report", "dashboard.upload_material"}
# What the pages read from their query string, which the language links keep (nothing else of
# the query reaches a page, so no page shared among readers carries one reader's parameters).
PAGE_PARAMETERS = ("country", "city", "activity_type", "language", "tz", "status", "subscribed")
PARAMETER_LENGTH = 100  # no value of theirs is longer
DEFAULT_RETRY_AFTER = "60"  # seconds, when a 429 has no wait of the service's to pass on (the limits count per minute)


def create_app(config: Config, api: Api) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.extensions[client.EXTENSION] = api  # client.api() in every view
    app.jinja_env.autoescape = True  # every template: user text is shown as text
    app.jinja_env.globals["cumulative_chart"] = cumulative_chart
    formats.register(app)
    forms.register(app)
    secret = web_secret(config)
    app.secret_key = secret
    session_settings(app, secure=config.PUBLIC_URL.startswith("https://"))
    app.session_interface = SessionOverTls()  # Secure behind a TLS proxy too (PROXY_HOPS)

    @app.before_request
    def _body_limits():
        """Forms are small; files go on to the media service as they arrive, which holds them
        to its own limits. First of all, before any form is read (the CSRF check reads it)."""
        if request.endpoint in WITH_FILES or request.blueprint in ("uploads", "api_relay"):
            return
        request.max_content_length = FORM_LIMIT
        if request.mimetype == "application/x-www-form-urlencoded" and \
                request.get_data(cache=True).count(b"&") >= FORM_FIELDS:  # Flask bounds multipart parts only
            abort(413, f"A form has at most {FORM_FIELDS} fields.")

    app.extensions[account.EXTENSION] = account.SignIns(
        Fernet(secret), SignOuts(config.var_dir / "web-sessions.sqlite"), config.WEB_SESSION_HOURS * 3600)
    for bp in (account.bp, organisation.bp, dashboard.bp, audit_log.bp, security.bp,
               uploads.bp, api_keys.bp):
        app.register_blueprint(bp)

    @app.context_processor
    def _page():
        language = reader_language()
        return {"t": translator(language), "lang": language, "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
                "languages": LANGUAGES, "language_url": _language_url}

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.status_code == 429:  # every "too many" says when to try again: the service's wait, else ours
            response.headers.setdefault("Retry-After", g.get("retry_after") or DEFAULT_RETRY_AFTER)
        if g.get("role") or request.method != "GET" or request.endpoint == "account.signin":
            # What a signed-in person sees (a webhook's secret, shown once) stays out of every cache.
            response.headers["Cache-Control"] = "no-store"
        if request.args.get("lang") in LANGUAGES:  # a switch sticks
            response.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax", httponly=True,
                                secure=request.is_secure)
            if "public" in response.headers.get("Cache-Control", ""):  # a shared cache must not hand it on
                response.headers["Cache-Control"] = "private, no-cache"
        return response

    install_request_id_and_problems(app)  # X-Request-ID, and problem+json for API clients

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException):
        """A page for browsers, problem+json for everyone else (curl, scripts, API clients)."""
        if not wants_a_page():
            return from_http_exception(exc)
        t = translator(reader_language())
        title = t("not_found") if exc.code == 404 else exc.name
        text = "" if exc.code == 404 else (exc.description or "")
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}  # a 405 says what is
        return render_template("message.html", title=title, text=text), exc.code, headers

    @app.errorhandler(ApiError)
    def _api_refused(exc: ApiError):
        """A service refused or could not answer what a page needed: say so, never a 500."""
        return refusal_page(exc)

    @app.errorhandler(Exception)
    def _crash(exc: Exception):
        """A bug, logged with the request id; the reader gets a page (a program, problem+json).
        A page that found a service's answer not shaped as it must be (a key missing, a list
        for an object) says the service failed it: a 502."""
        if isinstance(exc, HTTPException):
            return _error(exc)
        log.exception("unhandled error")
        if isinstance(exc, (LookupError, TypeError)):
            return refusal_page(ApiError(502, {"title": "Bad Gateway", "status": 502,
                                               "detail": "A service gave an answer this page cannot use."}))
        if not wants_a_page():
            return problem_response(500, InternalServerError.description)
        return render_template("message.html", title=InternalServerError().name,
                               text=translator(reader_language())("something_broke")), 500

    @app.get("/")
    def campaigns():
        found = api.get("/api/events/campaigns", params={"status": "open"}, lang=reader_language())
        return render_template("campaigns.html", campaigns=found["items"])

    pages = RenderedPages()

    def campaign_page_for(campaign_id, personal: bool = False):
        """Rendered once per change of what it shows: one conditional request to the events
        service and one to the media service (a 304 each when nothing changed), however many
        events; a page with a form's errors is rendered for its reader alone."""
        language, campaign_id = reader_language(), str(campaign_id)
        # A signed-in reader's page carries their session's form token, and a form's errors are
        # one reader's: never kept. Otherwise the page is what the parameters it reads and keeps in
        # its links say (a link's ?fbclid= is none of its business), in a language, on a day.
        shared = not personal and g.get("role") is None
        page_key = (campaign_id, language, page_query(), date.today()) if shared else None
        try:
            html, etag = pages.page(
                (campaign_id, language), page_key,
                lambda known: campaign_page.sources(api, campaign_id, language, known),
                lambda sources: render_campaign(campaign_id, language, *sources))
        except ApiError as exc:
            if exc.status in (404, 422):
                abort(404)
            raise
        response = make_response(html)
        if shared:
            response.set_etag(etag)
            response.headers["Cache-Control"] = "public, no-cache"  # a proxy may keep it, and asks each time
            response.vary.update(("Accept-Language", "Cookie"))
            response = response.make_conditional(request)
        return response

    def render_campaign(campaign_id: str, language: str, overview: dict, media: dict):
        page = campaign_page.context(overview, media, language, request.args)
        focus = page["filters"].get("country") or None

        def cluster_link(country: str, city: str | None) -> str:
            return url_for("campaign", campaign_id=campaign_id, country=country, city=city, _anchor="find")

        world = render_map(page.pop("points"), page.pop("counts"), title=page["campaign"]["name"], lang=language,
                           words=translator(language), focus=focus, highlight=focus, cluster_link=cluster_link)
        return render_template("campaign.html", **page, world=Markup(world), legend=legend(),
                               all_countries=formats.countries(language),
                               subscribed=request.args.get("subscribed") == "1")

    @app.get("/campaigns/<uuid:campaign_id>")
    def campaign(campaign_id):
        return campaign_page_for(campaign_id)

    @app.post("/campaigns/<uuid:campaign_id>/subscription")
    def subscribe(campaign_id):
        """The one form a reader sends without a session (so without a CSRF token): another
        site's page may not send it for its visitors. Browsers say where a request comes from.
        What is wrong is said under its field, in the reader's language, on the page it came from."""
        if not same_site():
            abort(403, "This form is sent from the campaign's own page.")
        t = translator(reader_language())
        values, errors, body = subscription.read(request.form, str(campaign_id), t)
        if not errors:
            try:
                api.post("/api/notify/subscriptions", json=body)
            except ApiError as exc:
                if exc.status not in forms.FORM_ERRORS:
                    return refusal_page(exc)
                errors = subscription.api_errors(exc, t)
        if errors:  # the page it came from, the errors under their fields (a program: problem+json)
            event_id = uuid_or_none(values.get("event_id", ""))
            return forms.shown_again(forms.FormState("s", values, errors),
                                     lambda: event_page_for(event_id) if event_id else
                                     campaign_page_for(campaign_id, personal=True))
        if body["scope"] == "event":
            return redirect(url_for("event", event_id=body["event_id"], subscribed=1, _anchor="subscribe"), 303)
        return redirect(url_for("campaign", campaign_id=campaign_id, subscribed=1, _anchor="subscribe"), 303)

    def event_page_for(event_id):
        language = reader_language()
        try:
            found = api.get(f"/api/events/events/{event_id}", lang=language)
        except ApiError as exc:
            abort(404 if exc.status in (404, 422) else 502)
        reader_zone = request.args.get("tz")
        return render_template("event.html", event=found, campaign={"id": found["campaign_id"]},
                               your_time=formats.zoned_time(found["starts_at"], reader_zone, language)
                               if reader_zone else None,
                               google_link=google_calendar_link(found),
                               all_countries=formats.countries(language),
                               subscribed=request.args.get("subscribed") == "1")

    @app.get("/events/<uuid:event_id>")
    def event(event_id):
        return event_page_for(event_id)

    @app.get("/lang/<code>")
    def switch_language(code):
        """Back to the page the reader came from — of this site only."""
        response = make_response(redirect(_own_page(request.referrer), 303))
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


def _language_url(code: str) -> str:
    """This page in another language, its other parameters kept; after a form was sent (the
    page answers a POST), the switch, which leads back to the form's page."""
    if request.method != "GET":
        return f"/lang/{code}"
    return request.path + "?" + urlencode({**dict(page_query()), "lang": code})


def page_query() -> tuple[tuple[str, str], ...]:
    """The query's parameters a page reads and its language links keep, nothing else of it; a
    country code in upper case and a language code in lower, so ?country=de and ?country=DE are
    one page (a kept page is keyed by this)."""
    cases = {"country": str.upper, "language": str.lower}
    return tuple((k, cases.get(k, str)(v[:PARAMETER_LENGTH])) for k, v in request.args.items()
                 if k in PAGE_PARAMETERS)


def same_site() -> bool:
    """Sec-Fetch-Site (every current browser sends it), else Origin, else nothing to judge by
    (a program, an old browser): allowed — the subscription is double opt-in anyway."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _own_page(referrer: str | None) -> str:
    """The path (and query) of a page of this site, or the home page."""
    parts = urlsplit(referrer or "")
    if parts.netloc and parts.netloc != request.host or not parts.path.startswith("/") or \
            parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")
