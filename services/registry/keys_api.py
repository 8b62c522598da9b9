"""Coordinators, and the API keys of every holder (an organisation's, a coordinator's): the same
four routes under each, made by one function."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from services.registry import schemas, service
from services.registry.models import ApiKey, Coordinator
from shared.http.contract import LOCATION, NO_STORE
from shared.http.pagination import keyset_page, lists, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, requires

coordinators = Blueprint("coordinators", __name__, url_prefix="/coordinators",
                         description="The coalition office's coordinators and their API keys.")


@coordinators.route("")
class Coordinators(MethodView):
    @requires("coordinator")
    @lists(coordinators, schemas.CoordinatorPage)
    def get(self, args):
        """List coordinators (coordinators)."""
        with kernel().db.transaction() as session:
            return page_body(*keyset_page(session, select(Coordinator), [Coordinator.created_at, Coordinator.id], args))

    @requires("coordinator")
    @coordinators.arguments(schemas.CoordinatorIn)
    @coordinators.response(201, schemas.CoordinatorOut, headers=LOCATION)
    def post(self, body):
        """Add a coordinator (coordinators); then issue it a key."""
        with kernel().db.transaction() as session:
            coordinator = service.create_coordinator(session, body["name"])
            record(session, kernel().outbox, current_principal(), "coordinator.created", "coordinator", coordinator.id,
                   after={"name": coordinator.name})
        return coordinator, {"Location": url_for("coordinators.CoordinatorById", coordinator_id=coordinator.id)}


@coordinators.route("/<uuid:coordinator_id>", methods=["GET"])
class CoordinatorById(MethodView):
    @requires("coordinator")
    @coordinators.response(200, schemas.CoordinatorOut)
    def get(self, coordinator_id):
        """Read a coordinator (coordinators)."""
        with kernel().db.transaction() as session:
            return service.get_coordinator(session, str(coordinator_id))


def key_routes(blp: Blueprint, kind: str, owner_arg: str, access, whose: str) -> None:
    """GET and POST …/{owner}/keys, GET and DELETE …/{owner}/keys/{key_id}, for holders of `kind`
    (`access`: who may call them; `whose`: the holder, in the docs)."""
    title = kind.title()

    def owner_of(session, view_args) -> str:
        owner_id = str(view_args[owner_arg])
        (service.get_organisation if kind == "organisation" else service.get_coordinator)(session, owner_id)
        return owner_id

    class Keys(MethodView):
        @access
        @lists(blp, schemas.KeyPage)
        def get(self, args, **view_args):
            with kernel().db.transaction() as session:
                stmt = select(ApiKey).where(ApiKey.owner_kind == kind, ApiKey.owner_id == owner_of(session, view_args))
                return page_body(*keyset_page(session, stmt, [ApiKey.created_at, ApiKey.id], args))

        @access
        @blp.arguments(schemas.KeyIn)
        @blp.response(201, schemas.KeyCreatedOut, headers={**LOCATION, **NO_STORE})
        def post(self, body, **view_args):
            with kernel().db.transaction() as session:
                owner_id = owner_of(session, view_args)
                row, key = service.issue_key(session, kind, owner_id, body.get("label"))
                record(session, kernel().outbox, current_principal(), "key.issued", kind, owner_id,
                       after={"key_id": row.id, "label": row.label})
            row.key = key  # shown this once; never stored
            location = url_for(f"{blp.name}.{title}Key", key_id=row.id, **{owner_arg: owner_id})
            return row, {"Location": location, "Cache-Control": "no-store"}

    class Key(MethodView):
        @access
        @blp.response(200, schemas.KeyOut)
        def get(self, key_id, **view_args):
            with kernel().db.transaction() as session:
                return service.get_key(session, kind, owner_of(session, view_args), str(key_id))

        @access
        @blp.response(204)
        def delete(self, key_id, **view_args):
            k = kernel()
            with k.db.transaction() as session:
                row = service.get_key(session, kind, str(view_args[owner_arg]), str(key_id))
                if service.revoke_key(session, k.outbox, k.tables["revocations"], row):
                    record(session, k.outbox, current_principal(), "key.revoked", kind, row.owner_id,
                           after={"key_id": row.id, "label": row.label})
            return ""

    Keys.get.__doc__ = f"List {whose} keys, oldest first (metadata only: never a key)."
    Keys.post.__doc__ = f"Issue {whose} an API key, shown this once (at most 20 active: 409)."
    Key.get.__doc__ = f"Read one of {whose} keys (metadata only)."
    Key.delete.__doc__ = "Revoke a key: no new tokens, and its tokens are refused everywhere within seconds."
    for view, name in ((Keys, f"{title}Keys"), (Key, f"{title}Key")):
        view.__name__ = view.__qualname__ = name
    blp.route(f"/<uuid:{owner_arg}>/keys")(Keys)
    blp.route(f"/<uuid:{owner_arg}>/keys/<uuid:key_id>")(Key)


key_routes(coordinators, "coordinator", "coordinator_id", requires("coordinator"), "a coordinator's (coordinators)")
