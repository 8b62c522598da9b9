"""The registry's HTTP API: parse, call a use case, answer."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from services.registry import schemas, service
from services.registry.importer import ImportRefused, import_text
from services.registry.keys_api import key_routes
from services.registry.models import Organisation, OrganisationRename
from shared.errors import Invalid
from shared.http.app import PROBLEM_JSON, accepts_any_body, csv_body
from shared.http.contract import LOCATION
from shared.http.pagination import keyset_page, lists, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, requires

organisations = Blueprint("organisations", __name__, url_prefix="/organisations",
                          description="Organisations of the coalition and their API keys.")
LOOKS_LIKE = ("The abbreviation is another organisation's in that country (`existing_id`), or a name looks like "
              "another organisation's (`looks_like`, and `errors` naming the field).")


def conflict(blp: Blueprint, schema=schemas.ConflictProblem, description: str = LOOKS_LIKE):
    """Document a route's 409 with the members its problem carries."""
    return blp.alt_response(409, schema=schema, content_type=PROBLEM_JSON, description=description)


@organisations.route("")
class Organisations(MethodView):
    @lists(organisations, schemas.OrganisationPage, schemas.OrganisationQuery)
    def get(self, args):
        """List organisations (public fields; contact fields for coordinators)."""
        stmt = select(Organisation.__table__)  # rows, not ORM objects: this list is hot
        if args.get("country"):
            stmt = stmt.where(Organisation.country == args["country"])
        if args.get("status"):
            stmt = stmt.where(Organisation.status == args["status"])
        with kernel().db.engine.connect() as connection:  # a read: no ORM session needed
            rows, next_url = keyset_page(connection, stmt, [Organisation.created_at, Organisation.id], args)
        return page_body(schemas.visible_each(rows), next_url)

    @requires("coordinator")
    @organisations.arguments(schemas.OrganisationIn)
    @organisations.response(201, schemas.OrganisationOut, headers=LOCATION)
    @conflict(organisations)
    def post(self, fields):
        """Register an organisation (coordinators)."""
        with kernel().db.transaction() as session:
            org = service.register_organisation(session, kernel().outbox, fields)
            record(session, kernel().outbox, current_principal(), "organisation.registered", "organisation", org.id,
                   after=service.public_data(org))
        return schemas.visible(org), {"Location": url_for("organisations.OrganisationById", organisation_id=org.id)}


@organisations.route("/import", methods=["POST"])
@requires("coordinator")
@organisations.arguments(schemas.ImportQuery, location="query")
@organisations.response(200, schemas.ImportOut)
@organisations.alt_response(422, schema=schemas.ImportProblem, content_type=PROBLEM_JSON, description=(
    "`rule`: bad rows, each in `errors` with its `line` (nothing imported); `validation`: a bad query."))
@organisations.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})
@accepts_any_body
def import_organisations(args):
    """Register (or update) organisations from a CSV file (`Content-Type: text/csv`; the columns
    of `doa registry import`). A re-run changes nothing. Every bad row is reported with its line
    and field; nothing is imported unless all rows are good or skip_bad=true (coordinators)."""
    text = csv_body()
    try:
        with kernel().db.transaction() as session:
            report = import_text(session, kernel().outbox, text, args["skip_bad"], current_principal())
            if report.created or report.updated:
                record(session, kernel().outbox, current_principal(), "organisation.imported", "organisations",
                       "import", after={"created": report.created, "updated": report.updated})
    except ImportRefused as refused:
        raise Invalid(f"{len({e.line for e in refused.errors})} row(s) are not good; nothing was imported. "
                      "Fix them, or send skip_bad=true.", errors=_row_errors(refused.errors)) from None
    return {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
            "skipped": _row_errors(report.errors)}


def _row_errors(errors) -> list[dict]:
    return [{"line": e.line, "field": e.field, "location": "body", "message": e.message} for e in errors]


def _with_pending_rename(session, org) -> dict:
    """The organisation as the caller may see it; its own and coordinators also see a rename
    waiting for a decision."""
    return schemas.visible(org, pending_rename=service.pending_rename(session, org.id))


@organisations.route("/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @organisations.response(200, schemas.OrganisationReadOut)
    def get(self, organisation_id):
        """Read an organisation."""
        with kernel().db.transaction() as session:
            return _with_pending_rename(session, service.get_organisation(session, str(organisation_id)))

    @requires(owner="organisation_id")
    @organisations.arguments(schemas.OrganisationPatch(partial=True))
    @organisations.response(200, schemas.OrganisationReadOut)
    @conflict(organisations)
    def patch(self, fields, organisation_id):
        """Change an organisation (the organisation itself or a coordinator). A new name, English
        name, abbreviation or country the organisation asks for itself waits for a coordinator
        (`pending_rename`; the public keeps seeing the approved one); 409 if it is, or looks like
        (Unicode confusables), another organisation's. A coordinator's change applies at once."""
        with kernel().db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            service.update_organisation(session, kernel().outbox, org, fields, current_principal())
            return _with_pending_rename(session, org)


@organisations.route("/renames")
class Renames(MethodView):
    @requires("coordinator")
    @lists(organisations, schemas.RenamePage, schemas.RenameQuery)
    def get(self, args):
        """Renames organisations asked for (`?status=pending`, the default, oldest first), each with
        what to look at before accepting it: words that mix scripts, a look-alike (coordinators)."""
        with kernel().db.transaction() as session:
            stmt = select(OrganisationRename).where(OrganisationRename.status == args["status"])
            rows, next_url = keyset_page(session, stmt, [OrganisationRename.proposed_at, OrganisationRename.id], args)
            return page_body([_with_warnings(session, r) for r in rows], next_url)


def _with_warnings(session, rename: OrganisationRename) -> OrganisationRename:
    """A pending rename with what to look at before accepting it."""
    if rename.status == "pending":
        org = service.get_organisation(session, rename.organisation_id)
        rename.warnings = service.lookalike_warnings(session, {**service.identity(org), **rename.proposed},
                                                     except_id=org.id)
    return rename


def _decided_rename(rename_id, decide):
    k = kernel()
    with k.db.transaction() as session:
        rename = service.get_rename(session, str(rename_id))
        decide(session, k.outbox, rename)
        return _with_warnings(session, rename)


DECIDED = "Decided already (`current_status`), or the new name now looks like another organisation's."


@organisations.route("/renames/<uuid:rename_id>/acceptance", methods=["POST"])
@requires("coordinator")
@organisations.response(200, schemas.RenameOut)
@conflict(organisations, schemas.DecidedProblem, DECIDED)
def accept_rename(rename_id):
    """Accept a rename: the organisation is known by its new name everywhere (organisation.updated);
    409 if it has become another organisation's look-alike meanwhile (coordinators)."""
    principal = current_principal()
    return _decided_rename(rename_id, lambda s, o, r: service.accept_rename(s, o, r, principal))


@organisations.route("/renames/<uuid:rename_id>/rejection", methods=["POST"])
@requires("coordinator")
@organisations.arguments(schemas.RenameRejectionIn)
@organisations.response(200, schemas.RenameOut)
@conflict(organisations, schemas.DecidedProblem, "Decided already (`current_status`).")
def reject_rename(body, rename_id):
    """Reject a rename, saying why: the organisation keeps its approved name (coordinators)."""
    principal = current_principal()
    return _decided_rename(rename_id, lambda s, o, r: service.reject_rename(s, o, r, principal, body["reason"]))


@organisations.route("/<uuid:organisation_id>/suspension")
class Suspension(MethodView):
    @requires("coordinator")
    @organisations.arguments(schemas.SuspensionIn)
    @organisations.response(200, schemas.OrganisationOut)
    def put(self, body, organisation_id):
        """Suspend an organisation: its keys get no tokens and its tokens are refused (coordinators)."""
        k = kernel()
        with k.db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            if service.suspend(session, k.outbox, k.tables["revocations"], org, body["reason"]):
                record(session, k.outbox, current_principal(), "organisation.suspended", "organisation", org.id,
                       body["reason"], before={"status": "active"}, after={"status": "suspended"})
        return schemas.visible(org)

    @requires("coordinator")
    @organisations.response(200, schemas.OrganisationOut)
    def delete(self, organisation_id):
        """Lift a suspension (coordinators)."""
        k = kernel()
        with k.db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            if service.reinstate(session, k.outbox, k.tables["revocations"], org):
                record(session, k.outbox, current_principal(), "organisation.reinstated", "organisation", org.id,
                       before={"status": "suspended"}, after={"status": "active"})
        return schemas.visible(org)


key_routes(organisations, "organisation", "organisation_id", requires(owner="organisation_id"),
           "an organisation's (the organisation, or coordinators)")
