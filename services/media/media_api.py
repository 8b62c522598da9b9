"""/api/media/media: what uploads became — their state, their clean files and smaller copies,
and a coordinator's rejection of one file."""
from __future__ import annotations

from flask import Response
from sqlalchemy import select

from services.media import uploads
from services.media.models import Blob, MediaItem
from services.media.presenting import media_out, storage
from services.media.schemas import MediaOut, MediaPage, MediaQuery, Rejection
from services.media.serving import SERVABLE, serve
from services.media.storage import blob_key
from shared.errors import NotFound
from shared.http.pagination import keyset_page, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, require_principal, requires

ROLES = ("organisation", "coordinator")


def file_responses() -> dict:
    """A file answers in its own type (only types the sniffer takes are ever served), whole,
    in part (a byte range), or not at all when the caller's copy is current."""
    content = {content_type: {"schema": {"type": "string", "format": "binary"}} for content_type in sorted(SERVABLE)}
    headers = {name: {"schema": {"type": "string"}} for name in ("ETag", "Content-Disposition", "Cache-Control")}
    return {"200": {"description": "The whole file.", "headers": headers, "content": content},
            "206": {"description": "The byte range asked for (Range), with Content-Range.",
                    "headers": {**headers, "Content-Range": {"schema": {"type": "string"}}}, "content": content},
            "304": {"description": "The copy named in If-None-Match is current.", "headers": headers}}


blp = Blueprint("media", __name__, url_prefix="/media", description="Uploads and what processing made of them.")


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
            rows, next_url = keyset_page(session, stmt, [MediaItem.created_at, MediaItem.id], args, descending=True)
        return page_body([media_out(item, True) for item in rows], next_url)


@blp.route("/<uuid:media_id>")
class MediaById(MethodView):
    @blp.response(200, MediaOut)
    def get(self, media_id):
        """An upload's state: received, processing, processed, rejected (with the reason)
        or held (waiting for ffmpeg). The public sees a published file's public fields."""
        with kernel().db.transaction() as session:
            item, manager = uploads.get_item(session, str(media_id), current_principal())
        return media_out(item, manager)


def _file(media_id, variant: str | None) -> Response:
    with kernel().db.transaction() as session:
        item, manager = uploads.get_item(session, str(media_id), current_principal())
        if item.status != "processed":
            raise NotFound(f"The file is not ready: the upload is {item.status}.")
        if variant is None:
            sha, content_type = item.clean_sha256, item.clean_content_type
        elif variant in (item.variants or {}):
            sha, content_type = item.variants[variant]["sha256"], item.variants[variant]["content_type"]
        else:
            raise NotFound(f"This upload has no variant {variant!r}.")
        size = session.get(Blob, sha).size
    return serve(storage(), blob_key(sha), sha, size, content_type,
                 name=item.name if variant is None and manager else None, attachment=item.kind == "document",
                 public=not manager)


@blp.route("/<uuid:media_id>/file")
@blp.doc(responses=file_responses())
def media_file(media_id):
    """The clean file (ranges, ETag; documents as attachments)."""
    return _file(media_id, None)


@blp.route("/<uuid:media_id>/variants/<string:name>")
@blp.doc(responses=file_responses())
def media_variant(media_id, name):
    """A smaller copy ("320", "1280") or a video's "poster"."""
    return _file(media_id, name)


@blp.route("/<uuid:media_id>/rejection", methods=["POST"])
@requires("coordinator")
@blp.arguments(Rejection)
@blp.response(200, MediaOut)
def reject_media(args, media_id):
    """Reject one file, saying why (coordinators).

    A photo showing a face that must not be seen, say: the file is never served again, to
    the public nor to its owner, and leaves every report (the rest of the report goes on),
    the overview and the Atom feed; its clean file and variants are deleted from storage
    unless another upload has the same bytes. `media.rejected` carries the reason (to the
    organisation's webhooks). A file already rejected, or being processed right now, gets
    409 with its state."""
    with kernel().db.transaction() as session:
        item, unused = uploads.reject(session, kernel().outbox, str(media_id), args["reason"])
        record(session, kernel().outbox, require_principal(), "media.rejected", "media", item.id, args["reason"],
               after={"status": item.status})
    uploads.delete_stored(storage(), unused)  # only once the rejection is committed
    return media_out(item, True)
