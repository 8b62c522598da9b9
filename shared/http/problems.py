"""Every HTTP error as application/problem+json (RFC 9457)."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_BASE = "urn:dayofaction:problem:"

# A stable `type` for each status; callers may name a more precise one.
TYPES = {
    400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
    422: "validation", 429: "rate-limited", 500: "internal", 503: "unavailable",
}


class FieldError(Schema):
    field = fields.String(allow_none=True, metadata={"description": "e.g. `country`, `languages.1`"})
    location = fields.String(metadata={"description": "json, query, path or headers"})
    message = fields.String()


class ProblemSchema(Schema):
    """An error, as RFC 9457 describes it (for the OpenAPI document)."""

    type = fields.String(metadata={"example": PROBLEM_BASE + "validation"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    request_id = fields.String()
    errors = fields.List(fields.Nested(FieldError))


def problem_response(status: int, detail: str, *, type_: str | None = None,
                     errors: list[dict] | None = None, headers: dict | None = None, **extra):
    body = {
        "type": PROBLEM_BASE + (type_ or TYPES.get(status, "error")),
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id"),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 503 and "Retry-After" in response.headers:
        # The answer's own wait, kept over the rate limiter's window (contract.py); on a 429
        # the limiter's is the right one.
        g.retry_after = response.headers["Retry-After"]
    return response


def field_errors(messages) -> list[dict]:
    """Flatten webargs/marshmallow messages into [{field, location, message}]."""
    out: list[dict] = []

    def walk(node, path, location):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [str(key)], location)
        elif isinstance(node, list) and node and all(isinstance(x, str) for x in node):
            for text in node:
                out.append({"field": ".".join(path) or None, "location": location, "message": text})
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + [str(i)], location)
        else:
            out.append({"field": ".".join(path) or None, "location": location, "message": str(node)})

    if isinstance(messages, dict):
        for location, node in messages.items():
            if location in {"json", "query", "querystring", "headers", "form", "files", "view_args", "path"}:
                walk(node, [], "query" if location == "querystring" else location)
            else:
                walk(node, [location], "json")
    else:
        walk(messages, [], "json")
    for e in out:
        if e["field"] == "_schema":
            e["field"] = None
    return out


def from_http_exception(exc: HTTPException):
    """Turn any HTTPException (werkzeug's, flask-smorest's abort, webargs') into a problem."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    detail = data.get("message") or exc.description or HTTP_STATUS_CODES.get(status, "Error")
    if status == 400 and messages and "json" in messages and "Invalid JSON body." in str(messages):
        return problem_response(400, "The request body is not valid JSON.", type_="malformed-json")
    if status == 413:
        detail = "The request body is larger than this endpoint accepts."
    errors = field_errors(messages) if messages else None
    if status == 422 and errors:
        names = ", ".join(sorted({e["field"] or "(body)" for e in errors}))
        detail = f"The request has invalid fields: {names}."
    extra = dict(data.get("problem") or {})
    errors = extra.pop("errors", None) or errors
    headers = dict(getattr(exc, "get_headers", lambda: [])()) if status == 405 else data.get("headers")
    if status == 429:
        detail = f"Too many requests: the limit is {exc.description}. Wait and try again."
        headers = {"Retry-After": str(getattr(exc, "retry_after", None) or 60)}
    headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
    return problem_response(status, detail, type_=data.get("problem_type"), errors=errors,
                            headers=headers, **extra)


def fail(status: int, detail: str, type_: str | None = None, headers: dict | None = None,
         **extra):
    """Stop the request with a problem; `extra` members are added to the problem body."""
    from flask_smorest import abort

    abort(status, message=detail, problem_type=type_, problem=extra, headers=headers)
