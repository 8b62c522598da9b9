"""The registry's HTTP API: parse, call a use case, answer."""
from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.registry import account_api, second_factor, service
from services.registry.importer import ImportRefused, import_text
from services.registry.models import ApiKey, Coordinator, Organisation, OrganisationRename
from services.registry.schemas import (
    CoordinatorIn,
    CoordinatorOut,
    CoordinatorPage,
    ImportOut,
    ImportQuery,
    KeyCreatedOut,
    KeyIn,
    KeyPage,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
    OrganisationQuery,
    OrganisationReadOut,
    RenameOut,
    RenamePage,
    RenameQuery,
    RenameRejectionIn,
    SuspensionIn,
    present_organisation,
    present_organisations,
)
from shared.audit import record
from shared.errors import Invalid, Unauthenticated
from shared.http.app import accepts_any_body, csv_body
from shared.http.auth import bearer_token, current_principal, requires
from shared.http.dump import json_response
from shared.http.pagination import PageArgs, keyset_page, page_body
from shared.http.ratelimit import factor_limit, limiter, token_limit
from shared.kernel import current_kernel as kernel

organisations = Blueprint("organisations", __name__, url_prefix="/organisations",
                          description="Organisations of the coalition and their API keys.")
coordinators = Blueprint("coordinators", __name__, url_prefix="/coordinators",
                         description="The coalition office's coordinators and their API keys.")
tokens = Blueprint("tokens", __name__, url_prefix="",
                   description="Exchange an API key for a short-lived signed token; the public keys.")



def created(body, location: str):
    return body, 201, {"Location": location}


@organisations.route("")
class Organisations(MethodView):
    @organisations.arguments(OrganisationQuery, location="query")
    @organisations.response(200, OrganisationPage)
    def get(self, args):
        """List organisations (public fields; contact fields for coordinators)."""
        stmt = select(Organisation.__table__)  # rows, not ORM objects: this list is hot
        if args.get("country"):
            stmt = stmt.where(Organisation.country == args["country"])
        if args.get("status"):
            stmt = stmt.where(Organisation.status == args["status"])
        with kernel().db.engine.connect() as connection:  # a read: no ORM session needed
            rows, next_url = keyset_page(connection, stmt, [Organisation.created_at, Organisation.id], args)
        return json_response(page_body(present_organisations(rows), next_url))

    @requires("coordinator")
    @organisations.arguments(OrganisationIn)
    @organisations.response(201, OrganisationOut)
    def post(self, fields):
        """Register an organisation (coordinators)."""
        with kernel().db.transaction() as session:
            org = service.register_organisation(session, kernel().outbox, fields)
            record(session, kernel().outbox, current_principal(), "organisation.registered", "organisation", org.id,
                   after=service.public_data(org))
        return json_response(present_organisation(org), 201,
                             {"Location": url_for("organisations.OrganisationById", organisation_id=org.id)})


@organisations.route("/import", methods=["POST"])
@requires("coordinator")
@organisations.arguments(ImportQuery, location="query")
@organisations.response(200, ImportOut)
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
    body = present_organisation(org)
    if "contact_email" in body:  # the private view
        rename = service.pending_rename(session, org.id)
        body["pending_rename"] = None if rename is None else {
            "id": rename.id, "proposed": rename.proposed, "proposed_at": rename.proposed_at.isoformat()}
    return body


@organisations.route("/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @organisations.response(200, OrganisationReadOut)
    def get(self, organisation_id):
        """Read an organisation."""
        with kernel().db.transaction() as session:
            return json_response(_with_pending_rename(session, service.get_organisation(session, str(organisation_id))))

    @requires(owner="organisation_id")
    @organisations.arguments(OrganisationPatch(partial=True))
    @organisations.response(200, OrganisationReadOut)
    def patch(self, fields, organisation_id):
        """Change an organisation (the organisation itself or a coordinator). A new name, English
        name, abbreviation or country the organisation asks for itself waits for a coordinator
        (`pending_rename`; the public keeps seeing the approved one); 409 if it is, or looks like
        (Unicode confusables), another organisation's. A coordinator's change applies at once."""
        with kernel().db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            service.update_organisation(session, kernel().outbox, org, fields, current_principal())
            return json_response(_with_pending_rename(session, org))


@organisations.route("/renames")
class Renames(MethodView):
    @requires("coordinator")
    @organisations.arguments(RenameQuery, location="query")
    @organisations.response(200, RenamePage)
    def get(self, args):
        """Renames organisations asked for (`?status=pending`, the default, oldest first), each with
        what to look at before accepting it: words that mix scripts, a look-alike (coordinators)."""
        with kernel().db.transaction() as session:
            stmt = select(OrganisationRename).where(OrganisationRename.status == args["status"])
            rows, next_url = keyset_page(session, stmt, [OrganisationRename.proposed_at, OrganisationRename.id], args)
            return json_response(page_body([_rename_body(session, r) for r in rows], next_url))


def _rename_body(session, rename: OrganisationRename) -> dict:
    body = RenameOut(exclude=("warnings",)).dump(rename)
    if rename.status == "pending":
        org = service.get_organisation(session, rename.organisation_id)
        body["warnings"] = service.lookalike_warnings(session, {**service.identity(org), **rename.proposed},
                                                      except_id=org.id)
    return body


def _decided_rename(rename_id, decide):
    k = kernel()
    with k.db.transaction() as session:
        rename = service.get_rename(session, str(rename_id))
        decide(session, k.outbox, rename)
        return json_response(_rename_body(session, rename))


@organisations.route("/renames/<uuid:rename_id>/acceptance", methods=["POST"])
@requires("coordinator")
@organisations.response(200, RenameOut)
def accept_rename(rename_id):
    """Accept a rename: the organisation is known by its new name everywhere (organisation.updated);
    409 if it has become another organisation's look-alike meanwhile (coordinators)."""
    principal = current_principal()
    return _decided_rename(rename_id, lambda s, o, r: service.accept_rename(s, o, r, principal))


@organisations.route("/renames/<uuid:rename_id>/rejection", methods=["POST"])
@requires("coordinator")
@organisations.arguments(RenameRejectionIn)
@organisations.response(200, RenameOut)
def reject_rename(body, rename_id):
    """Reject a rename, saying why: the organisation keeps its approved name (coordinators)."""
    principal = current_principal()
    return _decided_rename(rename_id, lambda s, o, r: service.reject_rename(s, o, r, principal, body["reason"]))


@organisations.route("/<uuid:organisation_id>/suspension")
class Suspension(MethodView):
    @requires("coordinator")
    @organisations.arguments(SuspensionIn)
    @organisations.response(200, OrganisationOut)
    def put(self, body, organisation_id):
        """Suspend an organisation: its keys get no tokens and its tokens are refused (coordinators)."""
        k = kernel()
        with k.db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            if service.suspend(session, k.outbox, k.tables["revocations"], org, body["reason"]):
                record(session, k.outbox, current_principal(), "organisation.suspended", "organisation", org.id,
                       body["reason"], before={"status": "active"}, after={"status": "suspended"})
        return json_response(present_organisation(org))

    @requires("coordinator")
    @organisations.response(200, OrganisationOut)
    def delete(self, organisation_id):
        """Lift a suspension (coordinators)."""
        k = kernel()
        with k.db.transaction() as session:
            org = service.get_organisation(session, str(organisation_id))
            if service.reinstate(session, k.outbox, k.tables["revocations"], org):
                record(session, k.outbox, current_principal(), "organisation.reinstated", "organisation", org.id,
                       before={"status": "suspended"}, after={"status": "active"})
        return json_response(present_organisation(org))


def _list_keys(owner_kind: str, owner_id: str, args):
    with kernel().db.transaction() as session:
        stmt = select(ApiKey).where(ApiKey.owner_kind == owner_kind, ApiKey.owner_id == owner_id)
        rows, next_url = keyset_page(session, stmt, [ApiKey.created_at, ApiKey.id], args)
    return page_body(rows, next_url)


def _issue_key(owner_kind: str, owner_id: str, label, location_endpoint: str, **view_args):
    with kernel().db.transaction() as session:
        row, key = service.issue_key(session, owner_kind, owner_id, label)
        record(session, kernel().outbox, current_principal(), "key.issued", owner_kind, owner_id,
               after={"key_id": row.id, "label": label})
    row.key = key  # shown this once; never stored
    return created(row, url_for(location_endpoint, key_id=row.id, **view_args))


def _revoke_key(owner_kind: str, owner_id: str, key_id: str):
    k = kernel()
    with k.db.transaction() as session:
        row = service.get_key(session, owner_kind, owner_id, key_id)
        if service.revoke_key(session, k.outbox, k.tables["revocations"], row):
            record(session, k.outbox, current_principal(), "key.revoked", owner_kind, owner_id,
                   after={"key_id": row.id, "label": row.label})


@organisations.route("/<uuid:organisation_id>/keys")
class OrganisationKeys(MethodView):
    @requires(owner="organisation_id")
    @organisations.arguments(PageArgs, location="query")
    @organisations.response(200, KeyPage)
    def get(self, args, organisation_id):
        """List an organisation's keys (metadata only)."""
        with kernel().db.transaction() as session:
            service.get_organisation(session, str(organisation_id))
        return _list_keys("organisation", str(organisation_id), args)

    @requires(owner="organisation_id")
    @organisations.arguments(KeyIn)
    @organisations.response(201, KeyCreatedOut)
    def post(self, body, organisation_id):
        """Issue an API key, shown this once (a coordinator, or the organisation to rotate)."""
        with kernel().db.transaction() as session:
            service.get_organisation(session, str(organisation_id))
        return _issue_key("organisation", str(organisation_id), body.get("label"),
                          "organisations.OrganisationKey", organisation_id=organisation_id)


@organisations.route("/<uuid:organisation_id>/keys/<uuid:key_id>")
class OrganisationKey(MethodView):
    @requires(owner="organisation_id")
    @organisations.response(204)
    def delete(self, organisation_id, key_id):
        """Revoke a key: no new tokens, and its tokens are refused everywhere within seconds."""
        _revoke_key("organisation", str(organisation_id), str(key_id))


@coordinators.route("")
class Coordinators(MethodView):
    @requires("coordinator")
    @coordinators.arguments(PageArgs, location="query")
    @coordinators.response(200, CoordinatorPage)
    def get(self, args):
        """List coordinators (coordinators)."""
        with kernel().db.transaction() as session:
            rows, next_url = keyset_page(session, select(Coordinator),
                                         [Coordinator.created_at, Coordinator.id], args)
        return page_body(rows, next_url)

    @requires("coordinator")
    @coordinators.arguments(CoordinatorIn)
    @coordinators.response(201, CoordinatorOut)
    def post(self, body):
        """Add a coordinator (coordinators); then issue it a key."""
        with kernel().db.transaction() as session:
            coordinator = service.create_coordinator(session, body["name"])
            record(session, kernel().outbox, current_principal(), "coordinator.created", "coordinator", coordinator.id,
                   after={"name": coordinator.name})
        return created(coordinator, url_for("coordinators.CoordinatorKeys", coordinator_id=coordinator.id))


@coordinators.route("/<uuid:coordinator_id>/keys")
class CoordinatorKeys(MethodView):
    @requires("coordinator")
    @coordinators.arguments(PageArgs, location="query")
    @coordinators.response(200, KeyPage)
    def get(self, args, coordinator_id):
        """List a coordinator's keys (coordinators)."""
        with kernel().db.transaction() as session:
            service.get_coordinator(session, str(coordinator_id))
        return _list_keys("coordinator", str(coordinator_id), args)

    @requires("coordinator")
    @coordinators.arguments(KeyIn)
    @coordinators.response(201, KeyCreatedOut)
    def post(self, body, coordinator_id):
        """Issue a coordinator an API key, shown this once (coordinators)."""
        with kernel().db.transaction() as session:
            service.get_coordinator(session, str(coordinator_id))
        return _issue_key("coordinator", str(coordinator_id), body.get("label"),
                          "coordinators.CoordinatorKey", coordinator_id=coordinator_id)


@coordinators.route("/<uuid:coordinator_id>/keys/<uuid:key_id>")
class CoordinatorKey(MethodView):
    @requires("coordinator")
    @coordinators.response(204)
    def delete(self, coordinator_id, key_id):
        """Revoke a coordinator's key (coordinators)."""
        _revoke_key("coordinator", str(coordinator_id), str(key_id))


@tokens.route("/tokens", methods=["POST"])
@limiter.limit(token_limit)
@limiter.limit(factor_limit, key_func=account_api.key_id_of_request, deduct_when=lambda _: account_api.factor_refused(),
               exempt_when=account_api.refreshes_a_session)
@tokens.arguments(account_api.TokenIn)
@tokens.response(200, account_api.SignedInOut)
@tokens.doc(security=[{"bearer": []}], description="Send `Authorization: Bearer <API key>`; "
            "the answer follows OAuth 2.0 (RFC 6749 §5.1). A holder with a second factor sends it too "
            "(`otp`, `recovery_code`, or `passkey` with `challenge`) and gets a sign-in `session`, whose "
            "`secret` then makes fresh tokens (`{\"session\": secret}`); without it the answer is 401 "
            "`second-factor-needed` naming the holder's `factors`.")
def issue_token(body):
    """Exchange an API key (and a second factor, or a session) for an access token (at most 15 minutes)."""
    key = bearer_token()
    if key is None:
        raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
    k = kernel()
    with k.db.transaction() as session:
        principal = service.principal_for_key(session, key)
        principal, opened = account_api.sign_in(session, principal, body, k.config.REGISTRY_SESSION_HOURS)
    token, ttl = current_app.extensions["doa.signer"].sign(principal)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
    if opened:
        answer["session"] = opened
    return answer, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@tokens.route("/tokens/challenge", methods=["POST"])
@limiter.limit(token_limit)
@tokens.doc(security=[{"bearer": []}])
def passkey_challenge():
    """A passkey challenge for signing in with the API key: `options` for
    navigator.credentials.get, and the `challenge` id to send back with the answer (5 minutes)."""
    key = bearer_token()
    if key is None:
        raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
    with kernel().db.transaction() as session:
        principal = service.principal_for_key(session, key)
        challenge = second_factor.sign_in_challenge(session, account_api.holder_of(principal),
                                                    account_api.relying_party())
    return json_response(challenge, 200, {"Cache-Control": "no-store"})


@tokens.route("/.well-known/jwks.json")
def jwks():
    """The public keys that verify access tokens (JWKS)."""
    response = jsonify(current_app.extensions["doa.signer"].jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
