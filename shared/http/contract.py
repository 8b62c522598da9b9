"""The parts of the API contract (docs/api.md) that hold for every route, enforced in one place:
a query parameter the OpenAPI document does not name is refused, and an answer carries only
the headers that mean something for it."""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, g, request
from flask_smorest.spec.plugins import FlaskPlugin

from shared.http.problems import problem_response

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# A header that means something on these statuses only: Flask-Limiter adds Retry-After to
# every limited answer, a 200 included.
RETRY_STATUSES = (429, 503)
# Response header docs every service uses: a created resource answers 201 with its Location
# (docs/api.md); an answer that holds a secret must not be stored.
LOCATION = {"Location": {"description": "The URL of what was made: GET it with the same credentials.",
                         "required": True, "schema": {"type": "string", "format": "uri-reference"}}}
NO_STORE = {"Cache-Control": {"description": "`no-store`: the answer holds a secret.", "schema": {"type": "string"}}}


# A route's path as the document writes it, worked out once per route (this runs on every request).
_openapi_path = lru_cache(maxsize=None)(FlaskPlugin.flaskpath2openapi)


def documented_query_parameters(spec: dict) -> dict[tuple[str, str], frozenset[str]]:
    """(OpenAPI path, method) → the query parameters the document names for it."""
    found = {}
    for path, item in spec.get("paths", {}).items():
        shared = [p for p in item.get("parameters", []) if p.get("in") == "query"]
        for method, operation in item.items():
            if method in METHODS:
                own = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
                found[(path, method)] = frozenset(p["name"] for p in shared + own)
    return found


def install_contract(app: Flask, api) -> None:
    """Refuse undocumented query parameters (400 `unknown-parameter`)."""
    known: dict = {}

    @app.before_request
    def _unknown_query_parameters():
        if not request.args or request.url_rule is None or request.method == "OPTIONS":
            return None
        if not known:
            known.update(documented_query_parameters(api.spec.to_dict()))
        method = "get" if request.method == "HEAD" else request.method.lower()
        names = known.get((_openapi_path(request.url_rule.rule), method))
        if names is None:
            return None  # not an operation of the document (health checks)
        unknown = sorted(set(request.args) - names)
        if not unknown:
            return None
        takes = ", ".join(sorted(names)) or "no query parameters"
        return problem_response(
            400, f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                 f"This operation takes {takes}.", type_="unknown-parameter",
            errors=[{"field": name, "location": "query", "message": "Unknown parameter."} for name in unknown])


def meaningful_headers(response):
    """An after-request hook, registered before Flask-Limiter's so it runs after it (Flask runs
    them in reverse): a 204 or 304 goes out bare, and Retry-After is on a 429 or 503 only — the
    one the answer chose (a problem's own, e.g. 1 s for not-yet-known), not the limiter's
    window, which it adds to every limited answer, a 200 included."""
    if response.status_code in (204, 304):
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
        response.headers.pop("Content-Length", None)
    if response.status_code not in RETRY_STATUSES:
        response.headers.pop("Retry-After", None)
    elif g.get("retry_after"):
        response.headers["Retry-After"] = g.retry_after
    return response
