"""What an API module imports: the route kit every service's `*_api.py` uses, in one place.

    from shared.http.routes import Blueprint, MethodView, kernel, record, require_principal, requires

A route module needs the same few names — a flask-smorest Blueprint and a MethodView per
resource, the role check and the acting principal, the process's kernel and the audit
record — so it takes them from here in one line instead of naming the four modules they
live in. A list route adds `from shared.http.pagination import keyset_page, page_body`.
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.audit import record
from shared.http.auth import current_principal, require_principal, requires
from shared.kernel import current_kernel as kernel

__all__ = [
    "Blueprint",
    "MethodView",
    "current_principal",
    "kernel",
    "record",
    "require_principal",
    "requires",
]
