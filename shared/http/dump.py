"""Output as the declared schema says, fast: a plain function compiled from a marshmallow schema.

The schema on a route stays the one definition of what a resource looks like (and documents it
in OpenAPI); `FastSchema.dump` runs a function compiled from it, which gives what marshmallow's
`dump` gives without its per-field machinery (on a page of 50 that machinery cost more than the
database query). Views return objects or dicts and the route's schema dumps them, so no answer
is built by hand. A field kind the compiler does not know makes the schema fall back to
marshmallow's own dump (tests/unit/test_dump.py checks the two agree).
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Response, current_app
from marshmallow import Schema, fields
from marshmallow.utils import missing

SIMPLE = (fields.String, fields.Integer, fields.Boolean, fields.Float)
_ABSENT = object()


def _iso(value) -> str:
    return value.isoformat()


def _passes_through(field: fields.Field) -> bool:
    """A string, number or flag whose output is its value (a subclass that only checks input,
    like shared.fields.Text, too; a UUID field, which turns its value into text, not)."""
    return type(field) is fields.Raw or any(
        isinstance(field, kind) and type(field)._serialize is kind._serialize for kind in SIMPLE)


def _converter(field: fields.Field) -> Callable | None:
    if _passes_through(field):
        return None
    if isinstance(field, fields.UUID):
        return str  # an id kept as text stays as it is; a uuid.UUID becomes its text
    if isinstance(field, fields.DateTime) and field.format in (None, "iso"):
        return _iso
    if type(field) is fields.Date and field.format in (None, "iso"):
        return _iso
    if isinstance(field, fields.Nested) and isinstance(field.nested, (Schema, type)) and not field.many:
        return _nested(field)
    if isinstance(field, fields.List):
        inner = _converter(field.inner)
        return list if inner is None else (lambda values: [None if v is None else inner(v) for v in values])
    if isinstance(field, fields.Dict) and (field.key_field is None or _passes_through(field.key_field)):
        inner = _converter(field.value_field) if field.value_field is not None else None
        return dict if inner is None else (lambda mapping: {k: inner(v) for k, v in mapping.items()})
    raise TypeError(f"{type(field).__name__} is not supported by compile_dumper")


def _nested(field: fields.Nested) -> Callable:
    schema = field.schema  # an instance, with the field's only/exclude applied
    return compile_dumper(schema)


def compile_dumper(schema: Schema) -> Callable[[Any], dict]:
    """A function giving what `schema.dump(obj)` gives for one object (or dict)."""
    plan = []
    for name, field in schema.dump_fields.items():
        default = field.dump_default
        plan.append((field.data_key or name, field.attribute or name, _converter(field),
                     _ABSENT if default is missing else default))

    def dump(obj) -> dict:
        out = {}
        read = obj.get if isinstance(obj, dict) else (lambda attribute, absent: getattr(obj, attribute, absent))
        for key, attribute, convert, default in plan:
            value = read(attribute, _ABSENT)
            if value is _ABSENT:
                if default is _ABSENT:
                    continue  # as marshmallow: an attribute the object lacks is left out
                value = default() if callable(default) else default
            out[key] = convert(value) if convert is not None and value is not None else value
        return out

    return dump


class FastSchema(Schema):
    """An output schema whose `dump` runs the function compiled from it (see above)."""

    def dump(self, obj, *, many: bool | None = None):
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            try:
                compiled = compile_dumper(self)
            except TypeError:
                compiled = False
            self._compiled = compiled
        if compiled is False:
            return super().dump(obj, many=many)
        if self.many if many is None else many:
            return [compiled(item) for item in obj]
        return compiled(obj)


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A finished response of something already dumped (a rendered output kept in memory)."""
    response = current_app.json.response(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
