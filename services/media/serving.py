"""Stored files over HTTP: byte ranges (video seeking), ETag and If-None-Match, the stored
type and never one a browser would run. Bodies stream from storage in chunks."""
from __future__ import annotations

import itertools
from typing import Iterable
from urllib.parse import quote

from flask import Response, request
from werkzeug.wsgi import ClosingIterator

from services.media.sniff import ALLOWED
from services.media.storage import Storage
from shared.http.problems import problem_response

# Only what the sniffer lets in (and the JPEGs the worker makes) is ever served: never HTML,
# SVG or script, whatever a file claims.
SERVABLE = frozenset(ALLOWED) | {"image/jpeg"}


def _disposition(kind: str, name: str | None, attachment: bool) -> str:
    value = "attachment" if attachment else "inline"
    if name:
        ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
        value += f'; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}'
    return value


def serve(storage: Storage, key: str, sha256: str, size: int, content_type: str, *, name: str | None = None,
          attachment: bool = False, public: bool = False) -> Response:
    if content_type not in SERVABLE:
        return problem_response(415, "This file's type is not served.")
    etag = f'"{sha256}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox",
               "Content-Disposition": _disposition(content_type, name, attachment),
               # What is not public must not stay in shared caches; what is public may stop
               # being so (a campaign that starts to require blurred faces): cache it briefly.
               "Cache-Control": "public, max-age=300" if public else "private, no-cache"}
    if request.if_none_match.contains_weak(sha256):  # weak comparison, `*` included (RFC 9110)
        return Response(status=304, headers=headers)
    start, end, status = 0, size - 1, 200
    wanted = request.range
    if_range = request.headers.get("If-Range")
    # Another unit than bytes, several ranges, or a stale If-Range: the whole file (RFC 9110 allows it).
    if wanted is not None and wanted.units == "bytes" and (if_range is None or if_range == etag) \
            and len(wanted.ranges) == 1:
        span = wanted.range_for_length(size)
        if span is None:
            return problem_response(416, f"The file has {size} bytes.", headers={"Content-Range": f"bytes */{size}"})
        start, end, status = span[0], span[1] - 1, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    body: Iterable[bytes] = iter(())
    if size:
        chunks = storage.read(key, start, end)
        # Open the file now: a missing blob or a store outage becomes an error response,
        # not a 200 whose body breaks off.
        body = ClosingIterator(itertools.chain([next(chunks, b"")], chunks), chunks.close)
    mimetype = f"{content_type}; charset=utf-8" if content_type == "text/plain" else content_type
    return Response(body, status=status, headers=headers, content_type=mimetype, direct_passthrough=True)
