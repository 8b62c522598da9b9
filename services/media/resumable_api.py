"""/api/media/uploads/resumable: resumable uploads, as the tus protocol 1.0.0 says. The views
read tus's headers, call `resumable` and `uploads`, and answer with tus's headers."""
from __future__ import annotations

from flask import Response, request
from marshmallow import EXCLUDE, ValidationError

from services.media import resumable, uploads
from services.media.models import ResumableUpload
from services.media.presenting import Linked, storage, url
from services.media.receiving import Received, UnsupportedType, limits, sha256_of
from services.media.schemas import ResumableOut, UploadOptions
from services.media.storage import work_dir
from shared.errors import Conflict, DomainError, Invalid
from shared.http.app import accepts_any_body
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

ROLES = ("organisation", "coordinator")
_OPTIONS = UploadOptions()

resumable_blp = Blueprint("resumable-uploads", __name__, url_prefix="/uploads/resumable",
                          description="Resumable uploads (the tus protocol 1.0.0: core, creation, termination, "
                                      "expiration).")


def _header(name: str, description: str, required: bool = False, **schema) -> dict:
    return {"in": "header", "name": name, "required": required, "description": description,
            "schema": {"type": "string", **schema}}


TUS_RESUMABLE = _header("Tus-Resumable", "The protocol's version: 1.0.0.", True, enum=[resumable.TUS_VERSION])
BYTES = {"pattern": "^[0-9]{1,15}$"}
STATE = {name: {"description": description, "schema": {"type": "string"}} for name, description in (
    ("Tus-Resumable", "1.0.0"), ("Upload-Offset", "How many bytes have arrived."),
    ("Upload-Length", "The upload's length."), ("Upload-Expires", "When an unfinished upload is deleted."),
    ("Media-Location", "Once complete: the media item it became."))}


class _Precondition(DomainError):
    status, type_ = 412, "precondition-failed"


class BadMetadata(Invalid):
    """Upload-Metadata that does not hold the upload's options (base64 inside a header: no
    schema can say what its values must be)."""

    type_ = "upload-metadata"


def _tus_headers(upload: ResumableUpload | None = None, **extra) -> dict:
    headers = {"Tus-Resumable": resumable.TUS_VERSION, "Cache-Control": "no-store", **extra}
    if upload is not None:
        headers.update({"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length),
                        "Upload-Expires": upload.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")})
        if upload.media_id:
            headers["Media-Location"] = url(f"/media/{upload.media_id}")
    return headers


def _check_tus_version() -> None:
    if request.headers.get("Tus-Resumable") != resumable.TUS_VERSION:
        raise _Precondition("Send Tus-Resumable: 1.0.0.")


def _metadata_options() -> dict:
    """The upload's options, from `Upload-Metadata` (the same as a plain upload's query)."""
    try:
        metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata"))
    except Invalid as exc:
        raise BadMetadata(exc.detail, **exc.extra) from None
    metadata.setdefault("name", metadata.get("filename"))  # what tus clients (Uppy…) call it
    try:  # clients add keys of their own (filetype…): what is not ours is ignored, not refused
        return _OPTIONS.load({k: v for k, v in metadata.items() if v is not None}, unknown=EXCLUDE)
    except ValidationError as exc:
        errors = [{"field": field, "location": "header", "message": " ".join(map(str, messages))}
                  for field, messages in exc.messages.items()]
        raise BadMetadata(f"The upload's options are not right: {', '.join(exc.messages)}.",
                          errors=errors) from None


@resumable_blp.route("")
class ResumableUploads(MethodView):
    @resumable_blp.response(204, description="What this server offers.", headers={
        "Tus-Version": {"schema": {"type": "string"}}, "Tus-Extension": {"schema": {"type": "string"}},
        "Tus-Max-Size": {"schema": {"type": "string"}}})
    def options(self):
        """What this tus server offers."""
        largest = max(limits(kernel().config).values())
        return Response(status=204, headers=_tus_headers(**{
            "Tus-Version": resumable.TUS_VERSION, "Tus-Extension": resumable.EXTENSIONS,
            "Tus-Max-Size": str(largest)}))

    @requires(*ROLES)
    @accepts_any_body
    @resumable_blp.doc(parameters=[
        TUS_RESUMABLE, _header("Upload-Length", "The whole upload's length in bytes.", True, **BYTES),
        _header("Upload-Metadata", "Comma-separated `key base64(value)` pairs: the options a plain upload "
                                   "takes in its query (campaign_id, event_id, organisation_id, consent, "
                                   "blur_faces, name); other keys are ignored.", format="tus-metadata")])
    @resumable_blp.response(201, headers={**STATE, "Location": {
        "description": "The upload's URL (HEAD, PATCH, DELETE).", "schema": {"type": "string"}}})
    def post(self):
        """Start a resumable upload. Answers 201 with the upload's `Location`."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        if request.headers.get("Upload-Defer-Length"):
            raise Invalid("The upload's length must be known (Upload-Length): deferring it is not supported.",
                          errors=[{"field": "Upload-Defer-Length", "location": "header", "message": "Not supported."}])
        length = resumable.parse_length(request.headers.get("Upload-Length"), "Upload-Length")
        options = _metadata_options()
        with kernel().db.transaction() as session:
            uploads.check_target(session, principal, options)
            organisation_id = uploads.acting_organisation(session, principal, options["organisation_id"])
            upload = resumable.create(session, kernel().config, work_dir(kernel().config), principal,
                                      organisation_id, length, {k: v for k, v in options.items() if v is not None})
        return Response(status=201, headers=_tus_headers(upload, Location=url(f"/uploads/resumable/{upload.id}")))


@resumable_blp.route("/<uuid:upload_id>")
class ResumableUploadById(MethodView):
    @requires(*ROLES)
    @resumable_blp.response(200, ResumableOut)
    def get(self, upload_id):
        """The upload's state as JSON (what HEAD says in tus's headers): where a 201 points."""
        upload = _read(str(upload_id), require_principal(*ROLES))
        return Linked(upload, media_url=url(f"/media/{upload.media_id}") if upload.media_id else None)

    @requires(*ROLES)
    @resumable_blp.doc(parameters=[TUS_RESUMABLE])
    @resumable_blp.response(200, description="The upload's state, in headers.", headers=STATE)
    def head(self, upload_id):
        """How many bytes have arrived (`Upload-Offset`); once complete, `Media-Location`."""
        _check_tus_version()
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), require_principal(*ROLES))
        return Response(status=200, headers=_tus_headers(upload))

    @requires(*ROLES)
    @accepts_any_body
    # The body (application/offset+octet-stream) is said in words: schemathesis, which checks
    # this document, has no serializer for that type and would stop at it.
    @resumable_blp.doc(parameters=[TUS_RESUMABLE, _header("Upload-Offset", "Where these bytes go.", True, **BYTES)])
    @resumable_blp.response(204, description="The bytes are in; once the last is, `Media-Location`.",
                            headers=STATE)
    def patch(self, upload_id):
        """Add bytes at `Upload-Offset`: the body is the next bytes of the file, sent as
        `Content-Type: application/offset+octet-stream` (415 otherwise)."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        if request.mimetype != "application/offset+octet-stream":
            raise UnsupportedType("Send the bytes as application/offset+octet-stream.")
        given = resumable.parse_length(request.headers.get("Upload-Offset"), "Upload-Offset")
        stored = _append(str(upload_id), principal, given)
        return Response(status=204, headers=_tus_headers(stored))

    @requires(*ROLES)
    @resumable_blp.doc(parameters=[TUS_RESUMABLE])
    @resumable_blp.response(204, description="The upload and its bytes are gone.",
                            headers={"Tus-Resumable": STATE["Tus-Resumable"]})
    def delete(self, upload_id):
        """Give up an upload (tus termination): its bytes are deleted."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), principal)
            if upload.media_id is not None:
                raise _conflict(upload)
        path = resumable.part_path(work_dir(kernel().config), upload.id)
        with resumable.locked(path):  # not while a PATCH writes
            _discard(upload.id, path)
        return Response(status=204, headers=_tus_headers())


def _read(upload_id: str, principal) -> ResumableUpload:
    with kernel().db.transaction() as session:
        upload = resumable.get(session, upload_id, principal)
        session.expunge(upload)
    return upload


def _append(upload_id: str, principal, given: int) -> ResumableUpload:
    """Write the request's bytes at `given`; the upload as stored afterwards (an item once the
    last byte is in)."""
    config = kernel().config
    upload = _read(upload_id, principal)
    if request.content_length is not None and given + request.content_length > upload.length:
        raise Invalid("The request has more bytes than the upload's length.",
                      errors=[{"field": "body", "location": "body", "message": "Beyond Upload-Length."}])
    request.max_content_length = upload.length + 1
    path = resumable.part_path(work_dir(config), upload.id)
    with resumable.locked(path) as part:
        upload = _read(upload_id, principal)  # read again under the lock: it is the truth now
        if upload.media_id is not None or given != upload.offset:
            raise _conflict(upload)
        try:
            offset, sniffed = resumable.append(part, given, upload.length, request.stream, config)
        except DomainError:  # not a file we take, or too large: nothing of it stays
            _discard(upload.id, path)
            raise
        if offset < upload.length:
            with kernel().db.transaction() as session:
                stored = session.get(ResumableUpload, upload.id)
                stored.offset = offset
            return stored
        received = Received(path, sha256_of(path), offset, sniffed)  # known once the first bytes were in
        with uploads.stored_original(storage(), received), kernel().db.transaction() as session:
            stored = session.get(ResumableUpload, upload.id)
            stored.offset = offset
            item = uploads.accept(session, kernel().outbox, storage(), principal, upload.options, received)
            stored.media_id = item.id
        return stored


def _discard(upload_id: str, path) -> None:
    path.unlink(missing_ok=True)
    with kernel().db.transaction() as session:
        stored = session.get(ResumableUpload, upload_id)
        if stored is not None:
            session.delete(stored)


def _conflict(upload: ResumableUpload) -> DomainError:
    if upload.media_id is not None:
        return Conflict("This upload is complete.", media_id=upload.media_id)
    return Conflict(f"The upload is at offset {upload.offset}; continue from there.", offset=upload.offset)
