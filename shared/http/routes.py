"""What an API module imports: the route kit every service's `*_api.py` uses, in one place.

    from shared.http.routes import Blueprint, MethodView, kernel, record, require_principal, requires

A route module needs the same few names — a flask-smorest Blueprint and a MethodView per
resource, the role check and the acting principal, the process's kernel and the audit
record — so it takes them from here in one line instead of naming the four modules they
live in. A list route adds `from shared.http.pagination import keyset_page, page_body`.
"""
from __future__ import annotations

import flask_smorest
from flask.views import MethodView
from marshmallow import Schema
from webargs.flaskparser import FlaskParser

from shared.audit import record
from shared.http.auth import current_principal, require_principal, requires
from shared.kernel import current_kernel as kernel


class KeptSchemaParser(FlaskParser):
    """webargs' Flask parser, but a route's input schema given as a class is made once, not on
    every request (the schemas keep no state of a request: marshmallow 4 has no context)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept: dict[type, Schema] = {}

    def _get_schema(self, argmap, req) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            kept = self._kept.get(argmap)
            if kept is None:
                kept = self._kept[argmap] = argmap()
            return kept
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, its arguments read with `KeptSchemaParser`."""

    ARGUMENTS_PARSER = KeptSchemaParser()


__all__ = [
    "Blueprint",
    "MethodView",
    "current_principal",
    "kernel",
    "record",
    "require_principal",
    "requires",
]
