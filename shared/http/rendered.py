"""Renderings kept by shared.rendered, answered over HTTP: a strong ETag (a hash of the
bytes, so every process gives the same), and 304 to an If-None-Match that holds it."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Hashable

from flask import Response, request

from shared.kernel import current_kernel

# Shared caches (the gateway, a CDN, a browser) may keep a copy but must ask again each time:
# a country put on hold leaves every public output at once, and the question, answered 304
# from the rendering kept here, costs a revision read (see docs/decisions.md).
CACHE_CONTROL = "public, no-cache"

# How the OpenAPI document states it, on every route answering a rendering.
RENDERED_HEADERS = {"ETag": {"description": "Strong: a hash of the bytes. Send it as If-None-Match.",
                             "schema": {"type": "string"}},
                    "Cache-Control": {"description": CACHE_CONTROL, "schema": {"type": "string"}}}
NOT_MODIFIED = "Not modified: If-None-Match holds the current ETag (no body)."


def documented_rendering(blp, schema=None, content_type: str = "application/json"):
    """The decorators that document a rendered output: its 200 with ETag, and its 304."""

    def decorate(view):
        view = blp.alt_response(304, description=NOT_MODIFIED)(view)
        return blp.response(200, schema, content_type=content_type, headers=RENDERED_HEADERS)(view)

    return decorate


def rendered_response(key: Hashable, revision: int, render: Callable[[], tuple[bytes, datetime | None]],
                      mimetype: str, headers: dict | None = None, vary: str | None = None) -> Response:
    """A public output rendered once per change: the service's kept rendering of `key` at
    `revision` (read from the database before this call), or `render()`'s. With its ETag, or
    304 when the request's If-None-Match holds it."""
    rendered = current_kernel().rendered.get(key, revision, render)
    response = Response(rendered.body, mimetype=mimetype, headers=headers)
    response.set_etag(rendered.etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if vary:  # a shared cache must keep one copy per value of that header
        response.vary.add(vary)
    return response.make_conditional(request)
