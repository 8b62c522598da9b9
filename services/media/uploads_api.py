"""POST /api/media/uploads: a file as the request body, its options in the query string."""
from __future__ import annotations

from flask import request

from services.media import uploads
from services.media.presenting import media_out, storage, url
from services.media.receiving import limits, receive
from services.media.schemas import MediaOut, UploadOptions
from services.media.storage import work_dir
from shared.http.app import accepts_any_body
from shared.http.contract import LOCATION
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

ROLES = ("organisation", "coordinator")
BINARY_BODY = {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}

uploads_blp = Blueprint("uploads", __name__, url_prefix="/uploads",
                        description="Plain uploads: the file as the request body.")


@uploads_blp.route("")
class PlainUpload(MethodView):
    @requires(*ROLES)
    @accepts_any_body
    @uploads_blp.arguments(UploadOptions, location="query")
    @uploads_blp.doc(requestBody=BINARY_BODY)
    @uploads_blp.response(202, MediaOut, headers=LOCATION)
    def post(self, options):
        """Upload a file as the request body. Its type comes from its bytes (415 for what is
        not taken), its size is held to its kind's limit while it streams in (413). Answers
        202: the worker cleans it; follow `Location` for its status."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:  # refuse a wrong target before reading the body
            uploads.check_target(session, principal, options)
            uploads.acting_organisation(session, principal, options["organisation_id"])
        config = kernel().config
        request.max_content_length = max(limits(config).values()) + 1
        received = receive(request.stream, config, work_dir(config), request.content_length)
        try:
            with uploads.stored_original(storage(), received), kernel().db.transaction() as session:
                item = uploads.accept(session, kernel().outbox, storage(), principal, options, received)
        finally:
            received.path.unlink(missing_ok=True)  # moved into storage unless something failed
        return media_out(item, True), 202, {"Location": url(f"/media/{item.id}")}
