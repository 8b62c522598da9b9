"""Fast output for hot lists: a plain function compiled from a marshmallow schema.

The schema stays the one definition of what a resource looks like (and documents it in
OpenAPI); the compiled function produces the same dict without marshmallow's per-field
machinery, which costs more than the database query on a page of 50. Only simple field
kinds are supported; anything else is refused when the function is compiled, and
tests/unit/test_dump.py checks it against `schema.dump`.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Response, current_app
from marshmallow import Schema, fields

SIMPLE = (fields.String, fields.Integer, fields.Boolean, fields.Float)


def _iso(value) -> str:
    return value.isoformat()


def _converter(field: fields.Field) -> Callable | None:
    if isinstance(field, (fields.Url, fields.Email)) or type(field) in SIMPLE or isinstance(field, SIMPLE):
        return None
    if isinstance(field, fields.DateTime) and field.format in (None, "iso"):
        return _iso
    if isinstance(field, fields.List) and isinstance(field.inner, SIMPLE):
        return list
    raise TypeError(f"{type(field).__name__} is not supported by compile_dumper")


def compile_dumper(schema: Schema) -> Callable[[Any], dict]:
    plan = [(field.data_key or name, field.attribute or name, _converter(field))
            for name, field in schema.dump_fields.items()]

    def dump(obj) -> dict:
        out = {}
        for key, attribute, convert in plan:
            value = getattr(obj, attribute)
            out[key] = convert(value) if convert is not None and value is not None else value
        return out

    return dump


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A finished response: flask-smorest passes it through without dumping it again."""
    response = current_app.json.response(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
