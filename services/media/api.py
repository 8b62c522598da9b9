"""The media service's HTTP API under /api/media: uploads (plain and resumable), the items
they become, and their files."""
from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError
from sqlalchemy import select

from services.media import resumable, uploads
from services.media.models import Blob, MediaItem, ResumableUpload
from services.media.receiving import Received, limits, receive, sha256_of
from services.media.schemas import MediaOut, MediaPage, MediaQuery, UploadOptions
from services.media.serving import serve
from services.media.sniff import sniff
from services.media.storage import blob_key, work_dir
from shared.errors import Conflict, DomainError, Invalid, NotFound
from shared.http.app import accepts_any_body
from shared.http.auth import current_principal, require_principal, requires
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, page_body
from shared.kernel import Kernel

blp = Blueprint("media", __name__, url_prefix="/media", description="Uploads and what processing made of them.")
uploads_blp = Blueprint("uploads", __name__, url_prefix="/uploads",
                        description="Plain uploads, and resumable ones (the tus protocol 1.0.0).")

ROLES = ("organisation", "coordinator")
_OPTIONS = UploadOptions()


def kernel() -> Kernel:
    return current_app.extensions["doa"]


def storage():
    return kernel().extras["storage"]


def _options(values: dict, location: str) -> dict:
    try:
        return _OPTIONS.load(values)
    except ValidationError as exc:
        errors = [{"field": field, "location": location, "message": " ".join(map(str, messages))}
                  for field, messages in exc.messages.items()]
        raise Invalid(f"The upload's options are not right: {', '.join(exc.messages)}.", errors=errors) from None


def present(item: MediaItem) -> dict:
    base = f"{request.script_root}/api/media/media/{item.id}"
    out = MediaOut().dump(item)
    out["file_url"] = f"{base}/file" if item.status == "processed" else None
    out["variants"] = {name: {**v, "url": f"{base}/variants/{name}"} for name, v in (item.variants or {}).items()}
    return out


def _accepted(item: MediaItem) -> Response:
    return json_response(present(item), 202, {"Location": f"{request.script_root}/api/media/media/{item.id}"})


@uploads_blp.route("")
class PlainUpload(MethodView):
    @requires(*ROLES)
    @accepts_any_body
    @uploads_blp.doc(parameters=[{"in": "query", "name": n, "schema": {"type": "string"}}
                                 for n in UploadOptions().fields],
                     requestBody={"content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                      "format": "binary"}}}})
    @uploads_blp.response(202, MediaOut)
    def post(self):
        """Upload a file as the request body. Its type comes from its bytes (415 for what is
        not taken), its size is held to its kind's limit while it streams in (413). Answers
        202: the worker cleans it; follow `Location` for its status."""
        principal = require_principal(*ROLES)
        options = _options(request.args.to_dict(), "query")
        with kernel().db.transaction() as session:  # refuse a wrong target before reading the body
            uploads.check_target(session, principal, options)
            uploads.acting_organisation(principal, options)
        request.max_content_length = max(limits(kernel().config).values()) + 1
        received = receive(request.stream, kernel().config, work_dir(kernel().config), request.content_length)
        try:
            with kernel().db.transaction() as session:
                item = uploads.accept(session, kernel().outbox, storage(), principal, options, received)
                return _accepted(item)
        finally:
            received.path.unlink(missing_ok=True)  # moved into storage unless something failed


def _tus_headers(upload: ResumableUpload | None = None, **extra) -> dict:
    headers = {"Tus-Resumable": resumable.TUS_VERSION, "Cache-Control": "no-store", **extra}
    if upload is not None:
        headers.update({"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
                        "Upload-Expires": upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")})
        if upload.media_id:
            headers["Media-Location"] = f"{request.script_root}/api/media/media/{upload.media_id}"
    return headers


def _check_tus_version() -> None:
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != resumable.TUS_VERSION:
        raise _Precondition("Send Tus-Resumable: 1.0.0.")


class _Precondition(DomainError):
    status, type_ = 412, "precondition-failed"


@uploads_blp.route("/resumable")
class ResumableUploads(MethodView):
    def options(self):
        """What this tus server offers."""
        largest = max(limits(kernel().config).values())
        return Response(status=204, headers=_tus_headers(**{
            "Tus-Version": resumable.TUS_VERSION, "Tus-Extension": resumable.EXTENSIONS,
            "Tus-Max-Size": str(largest)}))

    @requires(*ROLES)
    @accepts_any_body
    @uploads_blp.response(201)
    def post(self):
        """Start a resumable upload: `Upload-Length` and `Upload-Metadata` (the same options
        as a plain upload: campaign_id, event_id, consent, blur_faces, name, organisation_id).
        Answers 201 with the upload's `Location`."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        if request.headers.get("Upload-Defer-Length"):
            raise Invalid("The upload's length must be known (Upload-Length).")
        length = resumable.parse_length(request.headers.get("Upload-Length"), "Upload-Length")
        options = _options(resumable.parse_metadata(request.headers.get("Upload-Metadata")), "header")
        folder = work_dir(kernel().config)
        with kernel().db.transaction() as session:
            uploads.check_target(session, principal, options)
            organisation_id = uploads.acting_organisation(principal, options)
            upload = resumable.create(session, kernel().config, folder, principal, organisation_id, length,
                                      {k: v for k, v in options.items() if v is not None})
            location = f"{request.script_root}/api/media/uploads/resumable/{upload.id}"
            return Response(status=201, headers=_tus_headers(upload, Location=location))


@uploads_blp.route("/resumable/<uuid:upload_id>")
class ResumableUploadById(MethodView):
    @requires(*ROLES)
    def head(self, upload_id):
        """How many bytes have arrived (`Upload-Offset`); once complete, `Media-Location`."""
        _check_tus_version()
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), require_principal(*ROLES))
            return Response(status=200, headers=_tus_headers(upload))

    @requires(*ROLES)
    @accepts_any_body
    def patch(self, upload_id):
        """Add bytes at `Upload-Offset` (Content-Type: application/offset+octet-stream)."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        if request.mimetype != "application/offset+octet-stream":
            return Response(status=415, headers=_tus_headers())
        given = resumable.parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
        folder, config = work_dir(kernel().config), kernel().config
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), principal)
            session.expunge(upload)
        if upload.media_id is not None or given != upload.offset:
            raise resumable_conflict(upload)
        if request.content_length is not None and given + request.content_length > upload.length:
            raise Invalid("The request has more bytes than the upload's length.",
                          errors=[{"field": "body", "location": "body", "message": "Beyond Upload-Length."}])
        request.max_content_length = upload.length + 1
        path = resumable.part_path(folder, upload.id)
        with resumable.locked(path) as part:
            try:
                offset, sniffed = resumable.append(part, given, upload.length, request.stream, config)
            except DomainError:  # not a file we take, or too large: nothing of it stays
                self._discard(upload.id, path)
                raise
            with kernel().db.transaction() as session:
                stored = session.get(ResumableUpload, upload.id)
                stored.offset = offset
                if offset == upload.length:
                    received = Received(path, sha256_of(path), offset, sniffed or sniff(b""))
                    item = uploads.accept(session, kernel().outbox, storage(), principal, upload.options, received)
                    stored.media_id = item.id
                return Response(status=204, headers=_tus_headers(stored))

    @staticmethod
    def _discard(upload_id: str, path) -> None:
        path.unlink(missing_ok=True)
        with kernel().db.transaction() as session:
            session.delete(session.get(ResumableUpload, upload_id))

    @requires(*ROLES)
    def delete(self, upload_id):
        """Give up an upload (tus termination): its bytes are deleted."""
        _check_tus_version()
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), require_principal(*ROLES))
            if upload.media_id is not None:
                raise resumable_conflict(upload)
            resumable.part_path(work_dir(kernel().config), upload.id).unlink(missing_ok=True)
            session.delete(upload)
        return Response(status=204, headers=_tus_headers())


def resumable_conflict(upload: ResumableUpload) -> DomainError:
    if upload.media_id is not None:
        return Conflict("This upload is complete.", media_id=upload.media_id)
    return Conflict(f"The upload is at offset {upload.offset}; continue from there.", offset=upload.offset)


@blp.route("")
class MediaList(MethodView):
    @requires(*ROLES)
    @blp.arguments(MediaQuery, location="query")
    @blp.response(200, MediaPage)
    def get(self, args):
        """Your uploads (coordinators: everyone's), newest first, with their state."""
        principal = require_principal(*ROLES)
        stmt = select(MediaItem)
        if not principal.is_coordinator:
            stmt = stmt.where(MediaItem.organisation_id == principal.subject_id)
        for name in ("campaign_id", "status", "kind"):
            if args.get(name):
                stmt = stmt.where(getattr(MediaItem, name) == args[name])
        with kernel().db.transaction() as session:
            rows, next_url = keyset_page(session, stmt, [MediaItem.created_at, MediaItem.id], args)
            return json_response(page_body([present(i) for i in rows], next_url))


@blp.route("/<uuid:media_id>")
class MediaById(MethodView):
    @blp.response(200, MediaOut)
    def get(self, media_id):
        """An upload's state: received, processing, processed, rejected (with the reason)
        or held (waiting for ffmpeg)."""
        with kernel().db.transaction() as session:
            return json_response(present(uploads.get_item(session, str(media_id), current_principal())))


def _file(media_id, variant: str | None) -> Response:
    with kernel().db.transaction() as session:
        item = uploads.get_item(session, str(media_id), current_principal())
        if item.status != "processed":
            raise NotFound(f"The file is not ready: the upload is {item.status}.")
        if variant is None:
            sha, content_type = item.clean_sha256, item.clean_content_type
        elif variant in (item.variants or {}):
            sha, content_type = item.variants[variant]["sha256"], item.variants[variant]["content_type"]
        else:
            raise NotFound(f"This upload has no variant {variant!r}.")
        size = session.get(Blob, sha).size
        name, kind = item.name, item.kind
    return serve(storage(), blob_key(sha), sha, size, content_type, name=name if variant is None else None,
                 attachment=kind == "document")


@blp.route("/<uuid:media_id>/file")
@blp.response(200)
def media_file(media_id):
    """The clean file (ranges, ETag; documents as attachments)."""
    return _file(media_id, None)


@blp.route("/<uuid:media_id>/variants/<string:name>")
@blp.response(200)
def media_variant(media_id, name):
    """A smaller copy ("320", "1280") or a video's "poster"."""
    return _file(media_id, name)
