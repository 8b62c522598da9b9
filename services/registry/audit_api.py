"""The audit log over HTTP, for coordinators: read it with filters, export it whole."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from flask import Response, stream_with_context
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from services.registry import audit
from services.registry.models import AuditEntry
from shared.fields import Text, UUIDString
from shared.http.pagination import PageArgs, keyset_page, lists, page_body, page_schema
from shared.http.routes import Blueprint, MethodView, kernel, requires

blueprint = Blueprint("audit", __name__, url_prefix="/audit",
                      description="Every moderation and administrative decision, hash-chained (coordinators).")

ROLES = ("coordinator", "organisation", "operator")
SERVICES = ("registry", "events", "media", "notify", "web")
EXPORT_TYPES = {"jsonl": "application/jsonl", "csv": "text/csv"}


class AuditFilters(Schema):
    action = Text(max_length=80, metadata={"description": "An action, or its first part: `event` "
                                                          "matches `event.approved`."})
    actor_id = UUIDString(metadata={"description": "Who acted."})
    actor_role = fields.String(validate=validate.OneOf(ROLES))
    subject_id = Text(max_length=80, metadata={"description": "What was acted on."})
    service = fields.String(validate=validate.OneOf(SERVICES))
    since = fields.AwareDateTime(metadata={"description": "Acts at or after this instant."})
    until = fields.AwareDateTime(metadata={"description": "Acts before this instant."})


class AuditQuery(PageArgs, AuditFilters):
    pass


class AuditExportQuery(AuditFilters):
    format = fields.String(load_default="jsonl", validate=validate.OneOf(list(EXPORT_TYPES)))


class AuditEntryOut(Schema):
    seq = fields.Integer()
    occurred_at = fields.AwareDateTime(format="iso")
    recorded_at = fields.AwareDateTime(format="iso")
    service = fields.String()
    actor_role = fields.String()
    actor_id = fields.String(allow_none=True)
    key_id = fields.String(allow_none=True)
    action = fields.String()
    subject_kind = fields.String()
    subject_id = fields.String()
    reason = fields.String(allow_none=True)
    before = fields.Dict()
    after = fields.Dict()
    hash = fields.String()


AuditPage = page_schema(AuditEntryOut, "AuditPage")


def filtered(args: dict):
    stmt = select(AuditEntry)
    if args.get("action"):
        action = args["action"].rstrip(".")
        stmt = stmt.where((AuditEntry.action == action) | AuditEntry.action.startswith(f"{action}.", autoescape=True))
    for arg, column in (("actor_id", AuditEntry.actor_id), ("actor_role", AuditEntry.actor_role),
                        ("subject_id", AuditEntry.subject_id), ("service", AuditEntry.service)):
        if args.get(arg):
            stmt = stmt.where(column == args[arg])
    if args.get("since"):
        stmt = stmt.where(AuditEntry.occurred_at >= args["since"])
    if args.get("until"):
        stmt = stmt.where(AuditEntry.occurred_at < args["until"])
    return stmt


@blueprint.route("")
class AuditLog(MethodView):
    @requires("coordinator")
    @lists(blueprint, AuditPage, AuditQuery)
    def get(self, args):
        """The decisions on record, newest first (coordinators)."""
        with kernel().db.transaction() as session:
            return page_body(*keyset_page(session, filtered(args), [AuditEntry.recorded_at, AuditEntry.message_id],
                                          args, descending=True))


CSV_COLUMNS = audit.SHOWN


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def export_lines(db, args: dict, format_: str, batch: int = 500):
    """The whole filtered log, oldest first, one entry a line (JSON Lines or CSV)."""
    if format_ == "csv":
        yield _csv_line(list(CSV_COLUMNS))
    last = 0
    while True:
        with db.transaction() as session:
            rows = session.execute(filtered(args).where(AuditEntry.seq > last)
                                   .order_by(AuditEntry.seq).limit(batch)).scalars().all()
            entries = [audit.as_dict(row) for row in rows]
        if not entries:
            return
        for entry in entries:
            if format_ == "csv":
                yield _csv_line([json.dumps(entry[c], ensure_ascii=False) if isinstance(entry[c], dict)
                                 else entry[c] for c in CSV_COLUMNS])
            else:
                yield json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        last = entries[-1]["seq"]


@blueprint.route("/export")
class AuditExport(MethodView):
    @requires("coordinator")
    @blueprint.arguments(AuditExportQuery, location="query")
    @blueprint.response(200, description="JSON Lines (`format=jsonl`) or CSV (`format=csv`), oldest first.")
    @blueprint.doc(responses={"200": {
        "content": {kind: {"schema": {"type": "string"}} for kind in EXPORT_TYPES.values()},
        "headers": {"Content-Disposition": {"description": "`attachment; filename=\"audit-<time>.<format>\"`",
                                            "schema": {"type": "string"}}}}})
    def get(self, args):
        """The whole log, or what the filters select, as a file (coordinators)."""
        format_ = args.pop("format")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return Response(stream_with_context(export_lines(kernel().db, args, format_)),
                        content_type=f"{EXPORT_TYPES[format_]}; charset=utf-8",
                        headers={"Cache-Control": "no-store",
                                 "Content-Disposition": f'attachment; filename="audit-{stamp}.{format_}"'})
