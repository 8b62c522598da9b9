"""Resumable uploads from the browser: the tus protocol 1.0.0 relayed to the media service's
tus server on behalf of the signed-in organisation (its token added here, never seen by the
page). The page's script (static/upload.js) sends a report's photos and videos this way, in
chunks, with a progress bar, resuming after a dropped connection; without JavaScript the
report form sends them in one multipart POST instead.

Each request goes on as it came, with the tus headers, and its answer comes back the same way
(status, tus headers, the media API's problem+json), the upload's `Location` turned into this
front's own `/me/uploads/<id>`. A PATCH's body is handed on as a stream of the length the
browser announced: read in chunks as the media service writes them, never held whole here.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit
from uuid import UUID

from flask import Blueprint, Response, g, request, session, url_for
from werkzeug.exceptions import ClientDisconnected
from werkzeug.http import HTTP_STATUS_CODES

from services.web.client import ApiError, StreamBody, api
from shared.http.problems import problem_response

MEDIA = "/api/media/uploads/resumable"
TUS_VERSION = "1.0.0"
# What a tus client sends and what it reads back; nothing else passes (cookies, the token…).
ASKED = ("Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length",
         "Content-Type")
ANSWERED = ("Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Upload-Offset", "Upload-Length",
            "Upload-Metadata", "Upload-Expires", "Media-Location", "Cache-Control", "Retry-After")
READ = 256 * 1024  # how much of a refused PATCH body is drained at a time
PATCH_READ_TIMEOUT = 600.0  # seconds: the last PATCH waits while the media service hashes and stores the file
DRAIN_AT_MOST = 64 * 1024 * 1024  # unread bytes of a refused PATCH taken in (so the browser reads the answer)


bp = Blueprint("uploads", __name__, url_prefix="/me/uploads")


@bp.before_request
def _signed_in_and_same_site():
    if request.method == "OPTIONS":  # what the tus server offers: no one's business but the protocol's
        return None
    if g.get("token") is None:
        return _problem(401, "Sign in first: uploads are sent on behalf of a signed-in organisation.")
    if request.method in ("POST", "PATCH", "DELETE"):
        sent = request.headers.get("X-CSRF-Token", "")
        if not sent or not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
            return _problem(400, "The X-CSRF-Token header is missing or out of date: reload the page and send "
                                 "the files again.", type_="csrf")
    return None


@bp.route("", methods=["OPTIONS", "POST"])
def create():
    return relay(request.method, MEDIA)


@bp.route("/<uuid:upload_id>", methods=["HEAD", "PATCH", "DELETE"])
def upload(upload_id: UUID):
    path = f"{MEDIA}/{upload_id}"
    if request.method != "PATCH":
        return relay(request.method, path)
    if request.content_length is None:
        return _problem(411, "Send Content-Length with each PATCH (the number of bytes it carries).")
    try:
        return relay("PATCH", path, data=StreamBody(request.stream, request.content_length),
                     timeout=(api().timeout, PATCH_READ_TIMEOUT))
    except ClientDisconnected:  # the browser went away mid-body: what arrived is kept, it asks HEAD next
        return _problem(400, "The connection dropped before the body was in; ask HEAD for the offset.")


def relay(method: str, path: str, **kwargs) -> Response:
    headers = {name: request.headers[name] for name in ASKED if name in request.headers}
    token = None if method == "OPTIONS" else g.token
    try:
        answer = api().send(method, path, token=token, headers=headers, **kwargs)
    except ApiError as exc:  # the media service did not answer
        return _problem(exc.status, exc.problem.get("detail", str(exc)))
    finally:
        if method == "PATCH":
            _drain()
    out = {name: answer.headers[name] for name in ANSWERED if name in answer.headers}
    out.setdefault("Tus-Resumable", TUS_VERSION)  # tus: on every answer, refusals too
    location = answer.headers.get("Location")
    if location:
        try:
            out["Location"] = url_for("uploads.upload", upload_id=UUID(urlsplit(location).path.rsplit("/", 1)[-1]))
        except ValueError:  # not an upload's address: nothing this front can point the browser to
            return _problem(502, "The media service answered with an address that is not an upload's.")
    kind = answer.headers.get("Content-Type", "")
    if answer.status_code >= 400 and not kind.startswith(("application/problem+json", "application/json")):
        # A refusal without a body (the tus server's 415 for a PATCH of another Content-Type), or a
        # proxy's page: problem+json all the same.
        detail = _UNEXPLAINED.get(answer.status_code) or HTTP_STATUS_CODES.get(answer.status_code, "Error")
        return _problem(answer.status_code, detail, headers=out)
    body = answer.content if method != "HEAD" else b""
    response = Response(body, status=answer.status_code, headers=out)
    if body:
        response.headers["Content-Type"] = kind
    else:
        response.headers.pop("Content-Type", None)
    return response


_UNEXPLAINED = {415: "A PATCH carries Content-Type: application/offset+octet-stream."}


def _drain() -> None:
    """Take in what a PATCH's sender still sends after the media service answered early (a
    refusal after the first bytes): a browser that is cut off mid-body may never read the answer."""
    if (request.content_length or 0) > DRAIN_AT_MOST:
        return
    try:
        while request.stream.read(READ):
            pass
    except ClientDisconnected:
        pass


def _problem(status: int, detail: str, *, type_: str | None = None, headers: dict | None = None) -> Response:
    response = problem_response(status, detail, type_=type_, headers={"Cache-Control": "no-store", **(headers or {})})
    response.headers.setdefault("Tus-Resumable", TUS_VERSION)
    return response
