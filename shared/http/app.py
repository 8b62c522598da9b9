"""The one way a service builds its Flask app."""
from __future__ import annotations

import http
import json
import logging
import re
import uuid
from pathlib import Path

import flask_swagger_ui
from flask import Flask, current_app, g, jsonify, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException, InternalServerError, UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import tracing
from shared.bus.connection import connect
from shared.errors import DomainError, Invalid
from shared.http import caller, idempotency
from shared.http.auth import WWW_AUTH
from shared.http.contract import install_contract, meaningful_headers
from shared.http.metrics import install_metrics
from shared.http.openapi import DocumentingPlugin, install_converters
from shared.http.problems import ProblemSchema, from_http_exception, problem_response
from shared.http.ratelimit import init_rate_limits
from shared.kernel import Kernel
from shared.migrations import is_current

log = logging.getLogger("doa.http")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
JSON_TYPES = ("application/json",)
PROBLEM_JSON = "application/problem+json"
# Swagger UI's files as the flask-swagger-ui package ships them, served by each service itself:
# the docs pages work without internet, and no visitor's address goes to a third party.
SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
SWAGGER_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css",
                           "favicon-32x32.png", "favicon-16x16.png"})


class ProblemApi(Api):
    """flask-smorest's Api with every error answered, and documented, as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return from_http_exception(error)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (application/problem+json)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def trust_proxies(app: Flask, hops: int) -> None:
    """Believe X-Forwarded-* from that many proxies in front (the gateway: 1), no one else's."""
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)


def accepts_any_body(view):
    """Mark a view that takes a body other than JSON (an upload, a CSV)."""
    view._accepts_any_body = True
    return view


def csv_body() -> str:
    """The request's CSV file as text: sent as text/csv (or text/plain) in UTF-8, else refused."""
    if request.mimetype not in ("text/csv", "text/plain"):
        raise UnsupportedMediaType("Send the file as text/csv.")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text.", errors=[{"field": None, "location": "body",
                                                              "message": "Not UTF-8."}]) from None


def install_request_id_and_problems(app: Flask) -> None:
    """X-Request-ID in and out, the request's W3C trace (shared.tracing), and every error as
    problem+json: for any Flask app here."""

    @app.before_request
    def _request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else str(uuid.uuid4())
        g.traceparent = tracing.continued(request.headers.get(tracing.HEADER))

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        return from_http_exception(exc)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        headers = {**exc.headers, **(WWW_AUTH if exc.status == 401 else {})}
        return problem_response(exc.status, exc.detail, type_=exc.type_, headers=headers, **exc.extra)

    @app.errorhandler(Exception)
    def _crash(exc):
        if isinstance(exc, HTTPException):
            return from_http_exception(exc)
        log.exception("unhandled error")
        return problem_response(500, InternalServerError.description)


def create_service_app(kernel: Kernel, blueprints: list, *, title: str, version: str = "1",
                       migrations: str, description: str = "") -> Flask:
    name = kernel.name
    prefix = f"/api/{name}"
    app = Flask(f"doa.{name}")
    app.config.update(
        API_TITLE=title, API_VERSION=version, OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=prefix, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL=f"{prefix}/docs/assets/",
        API_SPEC_OPTIONS={"info": {"description": description},
                          "components": {"securitySchemes": {"bearer": {
                              "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}},
        MAX_CONTENT_LENGTH=kernel.config.MAX_CONTENT_LENGTH,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # names in Cyrillic or Persian stay readable
    app.json.sort_keys = False  # fields in the order the schemas declare them (id first)
    app.extensions["doa"] = kernel
    trust_proxies(app, kernel.config.PROXY_HOPS)
    install_metrics(app, kernel, prefix)  # first: its clock starts before, and stops after, every other hook
    app.after_request(meaningful_headers)  # before the limiter's hook, so it has the last word
    init_rate_limits(app, kernel.config.RATE_LIMIT_STORAGE_URL)
    api = ProblemApi(app, spec_kwargs={"marshmallow_plugin": DocumentingPlugin()})
    install_converters(app, api)
    for blp in (*blueprints, caller.blp):
        api.register_blueprint(blp, url_prefix=prefix + (blp.url_prefix or ""))

    install_request_id_and_problems(app)
    app.before_request(_json_only)
    install_contract(app, api)
    idempotency.install(app, kernel.tables["idempotency"])

    @app.after_request
    def _after(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.headers.get("Authorization"):
            response.headers.setdefault("Cache-Control", "no-store")
        log.info("%s %s %s", request.method, logged_path(), response.status_code,
                 extra={"status": response.status_code, "service": name})
        return response

    _add_probes(app, kernel, prefix, migrations)
    _add_swagger_files(app, prefix)
    return app


def _add_swagger_files(app: Flask, prefix: str) -> None:
    @app.get(f"{prefix}/docs/assets/<name>")
    def swagger_file(name: str):
        if name not in SWAGGER_FILES:
            return problem_response(404, f"No file {name} is part of the API documentation's page.")
        return send_from_directory(SWAGGER_DIST, name, max_age=86400)


SECRET_PATH = re.compile(r"(/(?:participations|p)/)[^/]+")


def logged_path() -> str:
    """The request's path for a log: a route argument named `key` is a secret (a private link's
    key) and is written as "…"."""
    key = (request.view_args or {}).get("key")
    if isinstance(key, str) and key:
        return request.path.replace(key, "…")
    # No route matched (a 404, a 405): whatever follows a private link's prefix may be a key.
    return SECRET_PATH.sub(r"\1…", request.path)


def _json_only():
    """A body, where one is read, is JSON (or what the view declares it takes)."""
    if request.method not in ("POST", "PUT", "PATCH") or request.url_rule is None:
        return None  # nothing to read, or routing will answer 404/405
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class else view
    if getattr(handler, "_accepts_any_body", False):
        return None
    has_body = (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "")
    if not has_body:
        return None
    if not (request.mimetype in JSON_TYPES or re.fullmatch(r"application/[\w.+-]+\+json", request.mimetype)):
        return problem_response(415, f"Send JSON (Content-Type: application/json), not "
                                     f"{request.mimetype or 'an untyped body'}.")
    try:
        # Parsed once here to refuse what would crash a parser further in: nesting
        # deeper than Python recurses, integers longer than it converts.
        json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):
        return problem_response(400, "The request body is not valid JSON.", type_="malformed-json")
    return None


def _add_probes(app: Flask, kernel: Kernel, prefix: str, migrations: str) -> None:
    """The liveness and readiness checks (left out of the OpenAPI document: they are for the
    orchestrator, not for clients)."""
    name = kernel.name

    def healthz():
        return jsonify(status="alive", service=name)

    def readyz():
        checks = {}
        try:
            kernel.db.ping()
            checks["database"] = "ok" if is_current(kernel.db, migrations) else "not migrated"
        except Exception as exc:  # report, do not crash: this is what readiness is for
            checks["database"] = f"error: {type(exc).__name__}"
        checks["bus"] = _bus_check(kernel.config)
        if all(v == "ok" for v in checks.values()):
            return jsonify(status="ready", service=name, checks=checks)
        return problem_response(503, "The service is not ready.", type_="not-ready", checks=checks)

    for path in ("/healthz", f"{prefix}/healthz"):
        app.add_url_rule(path, f"healthz{path}", healthz)
    for path in ("/readyz", f"{prefix}/readyz"):
        app.add_url_rule(path, f"readyz{path}", readyz)


def _bus_check(config) -> str:
    try:
        with connect(config.BUS_URL, config.BUS_VISIBILITY_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
