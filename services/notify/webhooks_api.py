"""Webhook endpoints over HTTP, under /api/notify/webhooks: registered by organisations and
coordinators, each with its delivery log and redelivery, and switched on again after being
disabled, with a backfill of what it missed if its owner wants one."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from services.notify import schemas, wakeups
from services.notify import webhook_endpoints as endpoints
from services.notify.models import WebhookDelivery, WebhookEndpoint
from shared.http.contract import LOCATION
from shared.http.pagination import PageArgs, keyset_page, page_body
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

webhooks_blp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
                         description="Endpoints that receive the platform's messages, signed (Standard Webhooks).")

ROLES = ("organisation", "coordinator")


@webhooks_blp.route("")
class Webhooks(MethodView):
    @requires(*ROLES)
    @webhooks_blp.arguments(schemas.EndpointIn)
    @webhooks_blp.response(201, schemas.EndpointCreated, headers=LOCATION)
    def post(self, fields):
        """Register an endpoint for the message types you pick. Its secret is in this answer
        only. A URL that reaches inside (a private or local address), carries credentials or
        does not resolve is refused (422 `unsafe-url`)."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            endpoint = endpoints.With(endpoints.register(session, kernel().config, principal, fields), held=0)
        return endpoint, 201, {"Location": url_for("webhooks.WebhookById", endpoint_id=endpoint.id)}

    @requires(*ROLES)
    @webhooks_blp.arguments(PageArgs, location="query")
    @webhooks_blp.response(200, schemas.EndpointPage)
    def get(self, args):
        """Your endpoints, oldest first."""
        with kernel().db.transaction() as session:
            rows, next_url = keyset_page(session, endpoints.owned_by(require_principal(*ROLES)),
                                         [WebhookEndpoint.created_at, WebhookEndpoint.id], args)
            return page_body(endpoints.with_held(session, rows), next_url)


@webhooks_blp.route("/<uuid:endpoint_id>")
class WebhookById(MethodView):
    @requires(*ROLES)
    @webhooks_blp.response(200, schemas.EndpointOut)
    def get(self, endpoint_id):
        """The endpoint, with how many messages are held for it while it is switched off."""
        with kernel().db.transaction() as session:
            endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
            [shown] = endpoints.with_held(session, [endpoint])
            return shown

    @requires(*ROLES)
    @webhooks_blp.arguments(schemas.EndpointPatch)
    @webhooks_blp.response(200, schemas.EndpointOut)
    def patch(self, changes, endpoint_id):
        """Change the URL or the types, or switch a disabled endpoint on again (`status` `active`:
        the messages held while it was off are dropped; `POST …/reactivation` can send them)."""
        with kernel().db.transaction() as session:
            endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
            endpoints.change(session, kernel().config, endpoint, changes)
            [shown] = endpoints.with_held(session, [endpoint])
            return shown

    @requires(*ROLES)
    @webhooks_blp.response(204)
    def delete(self, endpoint_id):
        with kernel().db.transaction() as session:
            endpoints.remove(session, endpoints.get(session, str(endpoint_id), require_principal(*ROLES)))
        return ""


@webhooks_blp.route("/<uuid:endpoint_id>/reactivation", methods=["POST"])
@requires(*ROLES)
@webhooks_blp.arguments(schemas.ReactivationIn)
@webhooks_blp.response(200, schemas.ReactivationOut)
def reactivate(fields, endpoint_id):
    """Switch a disabled endpoint on again. With `{"backfill": true}` the messages held for it
    while it was off are sent, in the order they came; without, they are dropped. An endpoint
    that is on already is left as it is (`backfilled` 0)."""
    with kernel().db.transaction() as session:
        endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
        backfilled = endpoints.reactivate(session, kernel().config, endpoint, fields["backfill"])
        if backfilled:
            wakeups.after_commit(session, wakeups.WEBHOOKS)
        return endpoints.With(endpoint, held=0, backfilled=backfilled)


@webhooks_blp.route("/<uuid:endpoint_id>/deliveries")
@requires(*ROLES)
@webhooks_blp.arguments(schemas.DeliveryQuery, location="query")
@webhooks_blp.response(200, schemas.DeliveryPage)
def deliveries(args, endpoint_id):
    """The delivery log, newest first: every attempt with its status and latency."""
    with kernel().db.transaction() as session:
        endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        if args["status"]:
            stmt = stmt.where(WebhookDelivery.status == args["status"])
        rows, next_url = keyset_page(session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id], args,
                                     descending=True)
        return page_body(endpoints.with_logs(session, rows), next_url)


@webhooks_blp.route("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redelivery", methods=["POST"])
@requires(*ROLES)
@webhooks_blp.response(202, schemas.DeliveryOut)
def redeliver(endpoint_id, delivery_id):
    """Send a delivery again, now (whatever became of it before)."""
    with kernel().db.transaction() as session:
        endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
        delivery = endpoints.redeliver(session, endpoint, str(delivery_id))
        [logged] = endpoints.with_logs(session, [delivery])
        wakeups.after_commit(session, wakeups.WEBHOOKS)
    return logged
