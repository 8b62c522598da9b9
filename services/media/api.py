"""The media service's HTTP API under /api/media: uploads (plain and resumable), the items
they become, and their files."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, RAISE, ValidationError
from sqlalchemy import select

from services.media import atom, materials, reports, resumable, uploads
from services.media.models import Blob, KnownCampaign, Material, MediaItem, Report, ResumableUpload, public_revisions
from services.media.receiving import Received, limits, receive, sha256_of
from services.media.schemas import (
    FeedQuery,
    MaterialIn,
    MaterialList,
    MaterialOut,
    MaterialQuery,
    MaterialVersionIn,
    MaterialWithVersions,
    MediaOut,
    MediaOverview,
    MediaPage,
    MediaQuery,
    Policy,
    PublicMedia,
    Rejection,
    ReportIn,
    ReportOut,
    ReportPage,
    ReportPatch,
    ReportQuery,
    TurnoutOut,
    UploadOptions,
)
from services.media.serving import serve
from services.media.storage import blob_key, work_dir
from shared.audit import record
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Invalid, NotFound
from shared.http.app import accepts_any_body
from shared.http.auth import current_principal, require_principal, requires
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, page_body
from shared.http.rendered import rendered_response
from shared.kernel import current_kernel as kernel
from shared.revisions import status_and_revision

blp = Blueprint("media", __name__, url_prefix="/media", description="Uploads and what processing made of them.")
uploads_blp = Blueprint("uploads", __name__, url_prefix="/uploads",
                        description="Plain uploads, and resumable ones (the tus protocol 1.0.0).")

ROLES = ("organisation", "coordinator")
_OPTIONS = UploadOptions()



def storage():
    return kernel().extras["storage"]


def _options(values: dict, location: str, unknown: str = RAISE) -> dict:
    try:
        return _OPTIONS.load(values, unknown=unknown)
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
            uploads.acting_organisation(session, principal, options["organisation_id"])
        request.max_content_length = max(limits(kernel().config).values()) + 1
        received = receive(request.stream, kernel().config, work_dir(kernel().config), request.content_length)
        try:
            with uploads.stored_original(storage(), received), kernel().db.transaction() as session:
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
        metadata = resumable.parse_metadata(request.headers.get("Upload-Metadata"))
        metadata.setdefault("name", metadata.get("filename"))  # what tus clients (Uppy…) call it
        # Clients add keys of their own (filetype…): what is not ours is ignored, not refused.
        options = _options({k: v for k, v in metadata.items() if v is not None}, "header", unknown=EXCLUDE)
        folder = work_dir(kernel().config)
        with kernel().db.transaction() as session:
            uploads.check_target(session, principal, options)
            organisation_id = uploads.acting_organisation(session, principal, options["organisation_id"])
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
        if request.content_length is not None and given + request.content_length > upload.length:
            raise Invalid("The request has more bytes than the upload's length.",
                          errors=[{"field": "body", "location": "body", "message": "Beyond Upload-Length."}])
        request.max_content_length = upload.length + 1
        path = resumable.part_path(folder, upload.id)
        with resumable.locked(path) as part:
            with kernel().db.transaction() as session:  # read again under the lock: it is the truth now
                upload = resumable.get(session, str(upload_id), principal)
                session.expunge(upload)
            if upload.media_id is not None or given != upload.offset:
                raise resumable_conflict(upload)
            try:
                offset, sniffed = resumable.append(part, given, upload.length, request.stream, config)
            except DomainError:  # not a file we take, or too large: nothing of it stays
                self._discard(upload.id, path)
                raise
            if offset < upload.length:
                with kernel().db.transaction() as session:
                    stored = session.get(ResumableUpload, upload.id)
                    stored.offset = offset
                    return Response(status=204, headers=_tus_headers(stored))
            received = Received(path, sha256_of(path), offset, sniffed)  # known once the first bytes were in
            with uploads.stored_original(storage(), received), kernel().db.transaction() as session:
                stored = session.get(ResumableUpload, upload.id)
                stored.offset = offset
                item = uploads.accept(session, kernel().outbox, storage(), principal, upload.options, received)
                stored.media_id = item.id
                return Response(status=204, headers=_tus_headers(stored))

    @staticmethod
    def _discard(upload_id: str, path) -> None:
        path.unlink(missing_ok=True)
        with kernel().db.transaction() as session:
            stored = session.get(ResumableUpload, upload_id)
            if stored is not None:
                session.delete(stored)

    @requires(*ROLES)
    def delete(self, upload_id):
        """Give up an upload (tus termination): its bytes are deleted."""
        _check_tus_version()
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            upload = resumable.get(session, str(upload_id), principal)
            if upload.media_id is not None:
                raise resumable_conflict(upload)
        path = resumable.part_path(work_dir(kernel().config), upload.id)
        with resumable.locked(path):  # not while a PATCH writes
            self._discard(upload.id, path)
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
            rows, next_url = keyset_page(session, stmt, [MediaItem.created_at, MediaItem.id], args, descending=True)
            return json_response(page_body([present(i) for i in rows], next_url))


@blp.route("/<uuid:media_id>")
class MediaById(MethodView):
    @blp.response(200, MediaOut)
    def get(self, media_id):
        """An upload's state: received, processing, processed, rejected (with the reason)
        or held (waiting for ffmpeg)."""
        with kernel().db.transaction() as session:
            item, manager = uploads.get_item(session, str(media_id), current_principal())
            return json_response(present(item) if manager else _media_public(item))


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
        name, kind = item.name, item.kind
    return serve(storage(), blob_key(sha), sha, size, content_type,
                 name=name if variant is None and manager else None, attachment=kind == "document",
                 public=not manager)


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
        body = present(item)
    uploads.delete_stored(storage(), unused)  # only once the rejection is committed
    return json_response(body)


reports_blp = Blueprint("reports", __name__, url_prefix="/reports",
                        description="Reports after the day: organisations send, coordinators publish or reject.")
campaigns_blp = Blueprint("media-campaigns", __name__, url_prefix="/campaigns",
                          description="Per campaign: the website's feeds, turnout, the media policy and the "
                                      "material package.")
materials_blp = Blueprint("materials", __name__, url_prefix="/materials",
                          description="Items of a campaign's material package, in versions.")


def _media_public(item: MediaItem) -> dict:
    base = f"{request.script_root}/api/media/media/{item.id}"
    out = PublicMedia().dump(item)
    out["file_url"] = f"{base}/file"
    out["variants"] = {name: {**v, "url": f"{base}/variants/{name}"} for name, v in (item.variants or {}).items()}
    return out


def _reports_out(session, rows: list[Report], principal) -> list[dict]:
    """Reports with their media: all of them for those who manage a report, what the
    public may see for everyone else."""
    now = utcnow()
    public = reports.attached_media(session, [r.id for r in rows], True, now)
    full = reports.attached_media(session, [r.id for r in rows if reports.may_manage(r, principal)], False, now)
    return [{**ReportOut().dump(r), "media": [present(m) for m in full[r.id]] if r.id in full
             else [_media_public(m) for m in public[r.id]]} for r in rows]


@reports_blp.route("")
class Reports(MethodView):
    @requires(*ROLES)
    @reports_blp.arguments(ReportIn)
    @reports_blp.response(201, ReportOut)
    def post(self, fields):
        """Send a report on an event (or on the campaign, naming the country) with media
        uploaded before; it waits for a coordinator."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            organisation_id = uploads.acting_organisation(session, principal, fields["organisation_id"],
                                                          coalition_allowed=False)
            report = reports.submit(session, kernel().outbox, principal, organisation_id, fields)
            body = _reports_out(session, [report], principal)[0]
        return json_response(body, 201, {"Location": f"{request.script_root}/api/media/reports/{body['id']}"})

    @reports_blp.arguments(ReportQuery, location="query")
    @reports_blp.response(200, ReportPage)
    def get(self, args):
        """Reports, newest first: the public sees published ones, an organisation also its
        own, coordinators all."""
        principal = current_principal()
        with kernel().db.transaction() as session:
            return json_response(page_body(*_reports_page(session, args, principal)))


def _reports_page(session, args: dict, principal) -> tuple[list[dict], str | None]:
    """A page of the reports list (items, next url): what the list and the overview answer."""
    stmt = reports.list_statement(args, principal)
    rows, next_url = keyset_page(session, stmt, [Report.created_at, Report.id], args, descending=True)
    return _reports_out(session, rows, principal), next_url


@reports_blp.route("/<uuid:report_id>")
class ReportById(MethodView):
    @reports_blp.response(200, ReportOut)
    def get(self, report_id):
        principal = current_principal()
        with kernel().db.transaction() as session:
            report = reports.get_report(session, str(report_id), principal)
            return json_response(_reports_out(session, [report], principal)[0])

    @requires("organisation")
    @reports_blp.arguments(ReportPatch(partial=True))
    @reports_blp.response(200, ReportOut)
    def patch(self, changes, report_id):
        """Change a report until a coordinator has decided on it."""
        principal = require_principal("organisation")
        with kernel().db.transaction() as session:
            report = reports.get_report(session, str(report_id), principal)
            reports.update(session, report, principal, changes)
            session.flush()
            return json_response(_reports_out(session, [report], principal)[0])


def _decide(report_id, publish: bool, reason: str | None):
    principal = require_principal("coordinator")
    with kernel().db.transaction() as session:
        report = reports.get_report(session, str(report_id), principal)
        before = report.status
        reports.decide(session, kernel().outbox, report, publish, reason)
        record(session, kernel().outbox, principal, "report.published" if publish else "report.rejected", "report",
               report.id, reason, before={"status": before}, after={"status": report.status})
        return json_response(_reports_out(session, [report], principal)[0])


@reports_blp.route("/<uuid:report_id>/publication", methods=["POST"])
@requires("coordinator")
@reports_blp.response(200, ReportOut)
def publish_report(report_id):
    """Publish a report (coordinators): it and its public media appear on the website."""
    return _decide(report_id, True, None)


@reports_blp.route("/<uuid:report_id>/rejection", methods=["POST"])
@requires("coordinator")
@reports_blp.arguments(Rejection)
@reports_blp.response(200, ReportOut)
def reject_report(args, report_id):
    """Reject a report, saying why (its organisation is told)."""
    return _decide(report_id, False, args["reason"])


def _campaign(session, campaign_id) -> KnownCampaign:
    campaign = session.get(KnownCampaign, str(campaign_id))
    if campaign is None or campaign.status == "draft":
        raise _no_campaign()
    return campaign


def _no_campaign() -> NotFound:
    return NotFound("No campaign has this id.")


@campaigns_blp.route("/<uuid:campaign_id>/reports.atom")
@campaigns_blp.arguments(FeedQuery(), location="query")
@campaigns_blp.response(200, description="An Atom feed (application/atom+xml).")
def reports_feed(args, campaign_id):
    """The campaign's published reports as an Atom feed (`?country=` for one country), with
    the smaller copies of their public photos as enclosures. Rendered once per change: a
    strong ETag, and 304 to If-None-Match."""
    campaign_id, country, self_url = str(campaign_id), args["country"], request.url
    root = f"{request.host_url.rstrip('/')}{request.script_root}/api/media"

    def render():
        now = utcnow()
        with kernel().db.transaction() as session:
            campaign = _campaign(session, campaign_id)
            stmt = reports.list_statement({"campaign_id": campaign.id, "country": country}, None)
            rows = list(session.execute(stmt.order_by(Report.published_at.desc()).limit(100)).scalars())
            media = reports.attached_media(session, [r.id for r in rows], True, now)
            changes_at = reports.next_public_change(session, campaign.id, now)
        entries = [{"id": f"urn:uuid:{r.id}", "title": r.title, "text": r.text, "language": r.language,
                    "country": r.country, "url": f"{root}/reports/{r.id}", "published": r.published_at,
                    "updated": r.updated_at,
                    "images": [{"url": f"{root}/media/{m.id}/variants/1280", **m.variants["1280"]}
                               for m in media[r.id] if m.kind == "photo" and "1280" in (m.variants or {})]}
                   for r in rows]
        updated = max((r.updated_at for r in rows), default=campaign.as_of)
        title = f"{campaign.name}: reports" + (f" from {country}" if country else "")
        return atom.feed(f"urn:uuid:{campaign.id}:reports:{country or 'all'}", title, self_url, updated,
                         entries), changes_at

    return rendered_response(("atom", campaign_id, country, self_url), _public_revision(campaign_id), render,
                             "application/atom+xml")


def _public_revision(campaign_id: str) -> int:
    """Of a campaign the public may see (404 otherwise, as `_campaign`): one query per request."""
    with kernel().db.engine.connect() as connection:
        row = status_and_revision(connection, public_revisions, KnownCampaign, campaign_id)
    if row is None or row[0] == "draft":
        raise _no_campaign()
    return row[1]


@campaigns_blp.route("/<uuid:campaign_id>/turnout")
@campaigns_blp.response(200, TurnoutOut)
def campaign_turnout(campaign_id):
    """Turnout from the published reports, per country."""
    with kernel().db.transaction() as session:
        campaign = _campaign(session, campaign_id)
        countries = reports.turnout(session, campaign.id)
    return json_response({"campaign_id": campaign.id, "countries": countries,
                          "total": sum(c["turnout"] for c in countries)})


OVERVIEW_REPORTS = 20


@campaigns_blp.route("/<uuid:campaign_id>/overview")
@campaigns_blp.response(200, MediaOverview)
def campaign_overview(campaign_id):
    """A campaign's public page in one answer: newest reports, material package, turnout.

    The 20 newest published reports as the public's reports list gives them (with only the
    media the public may see), the current items of the material package and the turnout per
    country, so a page renders with one request to this service. Always the public's view: a
    token changes nothing. Rendered once per change: a strong ETag, and 304 to If-None-Match."""
    campaign_id = str(campaign_id)

    def render():
        with kernel().db.transaction() as session:
            campaign = _campaign(session, campaign_id)
            newest, _ = _reports_page(session, {"campaign_id": campaign.id, "limit": OVERVIEW_REPORTS}, None)
            body = {"reports": newest, "materials": _current_materials(session, campaign.id, None),
                    "turnout": reports.turnout(session, campaign.id)}
            changes_at = reports.next_public_change(session, campaign.id, utcnow())
        return json_response(body).get_data(), changes_at

    # Its links start with the script root: part of what is asked.
    return rendered_response(("overview", campaign_id, request.script_root), _public_revision(campaign_id), render,
                             "application/json")


@campaigns_blp.route("/<uuid:campaign_id>/policy", methods=["PUT"])
@requires("coordinator")
@campaigns_blp.arguments(Policy)
@campaigns_blp.response(200, Policy)
def campaign_policy(args, campaign_id):
    """Set the campaign's media policy (coordinators): with `require_face_blur`, no photo
    whose faces were not blurred is public."""
    with kernel().db.transaction() as session:
        campaign = session.get(KnownCampaign, str(campaign_id))
        if campaign is None:
            raise NotFound("No campaign has this id.")
        before = campaign.require_face_blur
        campaign.require_face_blur = args["require_face_blur"]
        if before != campaign.require_face_blur:
            record(session, kernel().outbox, require_principal(), "campaign.media_policy_changed", "campaign",
                   campaign.id, before={"require_face_blur": before}, after={"require_face_blur": args["require_face_blur"]})
        return {"require_face_blur": campaign.require_face_blur}


def _material_out(material: Material) -> dict:
    return {**MaterialOut().dump(material),
            "file_url": f"{request.script_root}/api/media/media/{material.media_id}/file"}


def _current_materials(session, campaign_id: str, language: str | None) -> list[dict]:
    rows = session.execute(materials.current_statement(campaign_id, language)).all()
    return [_material_out(row[0]) for row in rows]


@campaigns_blp.route("/<uuid:campaign_id>/materials")
class CampaignMaterials(MethodView):
    @campaigns_blp.arguments(MaterialQuery, location="query")
    @campaigns_blp.response(200, MaterialList)
    def get(self, args, campaign_id):
        """The current items of the package (`?lang=` for one language)."""
        with kernel().db.transaction() as session:
            campaign = _campaign(session, campaign_id)
            return json_response({"items": _current_materials(session, campaign.id, args["lang"])})

    @requires("coordinator")
    @campaigns_blp.arguments(MaterialIn)
    @campaigns_blp.response(201, MaterialOut)
    def post(self, fields, campaign_id):
        """Publish an item (coordinators), from a processed upload of the campaign."""
        principal = require_principal("coordinator")
        with kernel().db.transaction() as session:
            material = materials.publish(session, kernel().outbox, str(campaign_id), principal.subject_id, fields)
            record(session, kernel().outbox, principal, "material.published", "material", material.id,
                   after={"title": material.title, "language": material.language, "version": material.version})
            return json_response(_material_out(material), 201)


@campaigns_blp.route("/<uuid:campaign_id>/materials.zip")
@campaigns_blp.arguments(MaterialQuery, location="query")
@campaigns_blp.response(200, description="A zip (application/zip) of the current items with manifest.json and "
                                         "INDEX.txt listing each file's SHA-256.")
def materials_zip(args, campaign_id):
    """The whole package as one zip, streamed (`?lang=` for one language)."""
    with kernel().db.transaction() as session:
        campaign = _campaign(session, campaign_id)
        entries = materials.package_entries(session.execute(materials.current_statement(campaign.id,
                                                                                        args["lang"])).all())
        session.expunge(campaign)
    package = materials.zip_stream(storage(), campaign, entries)
    name = f"materials-{args['lang']}.zip" if args["lang"] else "materials.zip"
    return Response(iter(package), content_type="application/zip", direct_passthrough=True,
                    headers={"Content-Length": str(len(package)),
                             "Content-Disposition": f'attachment; filename="{name}"'})


@materials_blp.route("/<uuid:material_id>")
@materials_blp.response(200, MaterialWithVersions)
def material_by_id(material_id):
    """An item with all its versions, newest first."""
    with kernel().db.transaction() as session:
        material = materials.get_material(session, str(material_id))
        _campaign(session, material.campaign_id)
        out = _material_out(material)
        out["versions"] = [_material_out(m) for m in materials.versions(session, material)]
        return json_response(out)


@materials_blp.route("/<uuid:material_id>/versions", methods=["POST"])
@requires("coordinator")
@materials_blp.arguments(MaterialVersionIn)
@materials_blp.response(201, MaterialOut)
def replace_material(fields, material_id):
    """Replace an item with a new version (coordinators); the earlier ones are kept."""
    principal = require_principal("coordinator")
    with kernel().db.transaction() as session:
        earlier = materials.get_material(session, str(material_id))
        material = materials.replace(session, kernel().outbox, earlier, principal.subject_id, fields)
        record(session, kernel().outbox, principal, "material.replaced", "material", material.id,
               before={"version": earlier.version}, after={"title": material.title, "version": material.version})
        return json_response(_material_out(material), 201)
