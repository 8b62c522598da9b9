"""What every page of the web front shares, as one blueprint of app-wide hooks and the language
switch: how large a form may be (checked first, before any form is read), the words and
direction of the reader's language in every template, the headers of every answer (the
Content-Security-Policy, no-store for what a signed-in person sees, a 429's Retry-After), and
the error pages — a page for a browser, problem+json for a program, never a 500 for a service's
refusal or a service's answer this front cannot use."""
from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, g, make_response, redirect, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from services.web.client import ApiError
from services.web.i18n import reader_language, translator
from services.web.pages import refusal_page, wants_a_page
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
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "frame-ancestors 'none'")
LANGUAGE_COOKIE_SECONDS = 365 * 86400

bp = Blueprint("site", __name__)


@bp.before_app_request
def _body_limits():
    """Forms are small; files go on to the media service as they arrive, which holds them
    to its own limits. First of all, before any form is read (the CSRF check reads it)."""
    if request.endpoint in WITH_FILES or request.blueprint in ("uploads", "api_relay"):
        return
    request.max_content_length = FORM_LIMIT
    if request.mimetype == "application/x-www-form-urlencoded" and \
            request.get_data(cache=True).count(b"&") >= FORM_FIELDS:  # Flask bounds multipart parts only
        abort(413, f"A form has at most {FORM_FIELDS} fields.")


@bp.app_context_processor
def _page():
    language = reader_language()
    return {"t": translator(language), "lang": language, "dir": "rtl" if language in RIGHT_TO_LEFT else "ltr",
            "languages": LANGUAGES, "language_url": _language_url}


@bp.after_app_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.status_code == 429:  # every "too many" says when to try again: the service's wait, else ours
        response.headers.setdefault("Retry-After", g.get("retry_after") or DEFAULT_RETRY_AFTER)
    if g.get("role") or request.method != "GET" or request.endpoint == "account.signin":
        # What a signed-in person sees (a webhook's secret, shown once) stays out of every cache.
        response.headers["Cache-Control"] = "no-store"
    if request.args.get("lang") in LANGUAGES:  # a switch sticks
        response.set_cookie("lang", request.args["lang"], max_age=LANGUAGE_COOKIE_SECONDS, samesite="Lax",
                            httponly=True, secure=request.is_secure)
        if "public" in response.headers.get("Cache-Control", ""):  # a shared cache must not hand it on
            response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.app_errorhandler(HTTPException)
def _error(exc: HTTPException):
    """A page for browsers, problem+json for everyone else (curl, scripts, API clients)."""
    if not wants_a_page():
        return from_http_exception(exc)
    t = translator(reader_language())
    title = t("not_found") if exc.code == 404 else exc.name
    text = "" if exc.code == 404 else (exc.description or "")
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}  # a 405 says what is
    return render_template("message.html", title=title, text=text), exc.code, headers


@bp.app_errorhandler(ApiError)
def _api_refused(exc: ApiError):
    """A service refused or could not answer what a page needed: say so, never a 500."""
    return refusal_page(exc)


@bp.app_errorhandler(Exception)
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


@bp.get("/lang/<code>")
def switch_language(code):
    """Back to the page the reader came from — of this site only."""
    response = make_response(redirect(_own_page(request.referrer), 303))
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=LANGUAGE_COOKIE_SECONDS, samesite="Lax", httponly=True)
    return response


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


def _own_page(referrer: str | None) -> str:
    """The path (and query) of a page of this site, or the home page."""
    parts = urlsplit(referrer or "")
    if parts.netloc and parts.netloc != request.host or not parts.path.startswith("/") or \
            parts.path.startswith("//"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")
