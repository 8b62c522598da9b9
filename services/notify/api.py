"""The notify service's HTTP API under /api/notify: subscriptions of the public and the links
in their e-mails, contacts of organisations and coordinators, webhooks, and the coordinators'
view of failing deliveries."""
from __future__ import annotations

from flask import Response, render_template_string, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notify import problems, wakeups
from services.notify import subscriptions as subs
from services.notify import webhook_endpoints as endpoints
from services.notify.forgetting import forget_contact
from services.notify.links import BadLink, ExpiredLink, Links, link_secret
from services.notify.models import Contact, DeliveryAttempt, WebhookDelivery
from services.notify.schemas import (
    Accepted,
    ContactIn,
    ContactOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryProblemsOut,
    DeliveryQuery,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    SubscriptionIn,
)
from shared.errors import NotFound
from shared.http.app import accepts_any_body
from shared.http.auth import require_principal, requires
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, page_body
from shared.http.ratelimit import limiter, subscribe_limit
from shared.kernel import current_kernel as kernel

subscriptions_blp = Blueprint("subscriptions", __name__, url_prefix="/subscriptions",
                              description="Subscriptions of the public: no account, double opt-in.")
links_blp = Blueprint("links", __name__, url_prefix="",
                      description="The links in e-mails: confirm, unsubscribe (RFC 8058 one-click), erase.")
contacts_blp = Blueprint("contacts", __name__, url_prefix="/contacts",
                         description="Where an organisation or a coordinator is told of what concerns it.")
webhooks_blp = Blueprint("webhooks", __name__, url_prefix="/webhooks",
                         description="Endpoints that receive the platform's messages, signed (Standard Webhooks).")
problems_blp = Blueprint("delivery_problems", __name__, url_prefix="/delivery-problems",
                         description="What is failing in deliveries, webhooks and e-mail: for coordinators.")

ROLES = ("organisation", "coordinator")



def links(session) -> Links:
    return Links(link_secret(session, kernel().config), kernel().config)


@subscriptions_blp.route("")
class Subscriptions(MethodView):
    decorators = [limiter.limit(subscribe_limit, methods=["POST"])]  # confirmation mails are not a weapon

    @subscriptions_blp.arguments(SubscriptionIn)
    @subscriptions_blp.response(202, Accepted)
    def post(self, fields):
        """Subscribe an address to a campaign, a country, a city or one event. Nothing is sent
        but a confirmation until its link is followed; the answer is the same whether the
        address was subscribed before or not."""
        try:
            with kernel().db.transaction() as session:
                subs.subscribe(session, kernel().config, fields)
        except IntegrityError:  # the same address and scope, asked twice at once: one of them counts
            pass
        return json_response({"status": "pending", "detail": "Check your inbox: follow the link in the e-mail we "
                                                             "sent to confirm."}, 202)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem">
<h1>{{ title }}</h1><p>{{ text }}</p>
{% if action %}<form method="post" action="{{ action }}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{{ button }}</button></form>{% endif %}
</body></html>"""


# The signed token every link in an e-mail carries (a bad or missing one: an HTML page saying so).
LINK_TOKEN = {"in": "query", "name": "token", "required": True, "schema": {"type": "string"},
              "description": "The signed token from the e-mail's link."}


def page(status: int, title: str, text: str, action: str | None = None, button: str | None = None) -> Response:
    body = render_template_string(PAGE, title=title, text=text, action=action, button=button)
    return Response(body, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _read_link(purpose: str):
    """What the link acts on, or the page that says why it cannot."""
    with kernel().db.transaction() as session:
        try:
            return links(session).read(purpose, request.args.get("token")), None
        except ExpiredLink as exc:
            return None, page(410, "This link has expired", exc.detail)
        except BadLink as exc:
            return None, page(400, "This link is not valid", exc.detail)


def _action() -> str:
    return f"{request.script_root}{request.path}?token={request.args.get('token', '')}"


@links_blp.route("/subscriptions/confirmation", methods=["GET", "POST"])
@accepts_any_body
@links_blp.doc(parameters=[LINK_TOKEN])
@links_blp.response(200, description="An HTML page.")
def confirmation():
    """GET shows a button (mail scanners follow links; only a person presses it); POST
    confirms the subscription."""
    subscription_id, refused = _read_link("confirm")
    if refused:
        return refused
    if request.method == "GET":
        return page(200, "Confirm your subscription", "Press the button to start receiving e-mails.",
                    _action(), "Confirm")
    with kernel().db.transaction() as session:
        subscription = subs.confirm(session, subscription_id)
    if subscription is None:
        return page(410, "This subscription is gone", "It was not confirmed in time. Subscribe again.")
    return page(200, "Subscribed", "You will receive what you asked for. Every e-mail has a link to stop them.")


@links_blp.route("/unsubscribe", methods=["GET", "POST"])
@accepts_any_body
@links_blp.doc(parameters=[LINK_TOKEN])
@links_blp.response(200, description="An HTML page.")
def unsubscribe():
    """One click (RFC 8058: mail programs POST `List-Unsubscribe=One-Click` here); GET shows
    a button."""
    subscription_id, refused = _read_link("unsubscribe")
    if refused:
        return refused
    if request.method == "GET":
        return page(200, "Unsubscribe", "Press the button and you will receive no more of these e-mails.",
                    _action(), "Unsubscribe")
    with kernel().db.transaction() as session:
        subs.unsubscribe(session, subscription_id)
    return page(200, "Unsubscribed", "You will receive no more of these e-mails.")


@links_blp.route("/erasure", methods=["GET", "POST"])
@accepts_any_body
@links_blp.doc(parameters=[LINK_TOKEN])
@links_blp.response(200, description="An HTML page.")
def erasure():
    """Erase everything held about the address: its subscriptions, what waits to be sent and
    the delivery log. GET shows a button."""
    subscription_id, refused = _read_link("erase")
    if refused:
        return refused
    if request.method == "GET":
        return page(200, "Erase your address", "Press the button and we erase every subscription of this address "
                                                "and every record of e-mails sent to it.", _action(), "Erase")
    with kernel().db.transaction() as session:
        subs.erase(session, subscription_id)
    return page(200, "Erased", "Nothing about this address is kept any more.")


@contacts_blp.route("/me")
class MyContact(MethodView):
    @requires(*ROLES)
    @contacts_blp.response(200, ContactOut)
    def get(self):
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            contact = session.get(Contact, principal.subject_id)
            if contact is None:
                raise NotFound("No address is set: PUT one here.")
            return json_response(ContactOut().dump(contact))

    @requires(*ROLES)
    @contacts_blp.arguments(ContactIn)
    @contacts_blp.response(200, ContactOut)
    def put(self, fields):
        """Where you are told of what concerns you (decisions on your events and reports, a
        coordinator's queue, failing webhooks)."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            contact = session.get(Contact, principal.subject_id)
            if contact is None:
                contact = Contact(owner_id=principal.subject_id, role=principal.role, email="", language="en")
                session.add(contact)
            email = fields["email"].strip().lower()
            if contact.email and contact.email != email:  # the old address is forgotten as if removed
                forget_contact(session, contact.owner_id)
            contact.email, contact.language = email, fields["language"]
            session.flush()
            return json_response(ContactOut().dump(contact))

    @requires(*ROLES)
    @contacts_blp.response(204)
    def delete(self):
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            contact = session.get(Contact, principal.subject_id)
            if contact is not None:
                forget_contact(session, contact.owner_id)
                session.delete(contact)
        return None


@webhooks_blp.route("")
class Webhooks(MethodView):
    @requires(*ROLES)
    @webhooks_blp.arguments(EndpointIn)
    @webhooks_blp.response(201, EndpointCreated)
    def post(self, fields):
        """Register an endpoint for the message types you pick. Its secret is in this answer
        only. A URL that is not http(s), carries credentials or reaches inside is refused."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            endpoint = endpoints.register(session, kernel().config, principal, fields)
            body = {**EndpointOut().dump(endpoint), "secret": endpoint.secret}
        return json_response(body, 201, {"Location": f"{request.script_root}/api/notify/webhooks/{body['id']}"})

    @requires(*ROLES)
    @webhooks_blp.response(200, EndpointOut(many=True))
    def get(self):
        """Your endpoints."""
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            return json_response(EndpointOut(many=True).dump(endpoints.of_owner(session, principal)))


@webhooks_blp.route("/<uuid:endpoint_id>")
class WebhookById(MethodView):
    @requires(*ROLES)
    @webhooks_blp.response(200, EndpointOut)
    def get(self, endpoint_id):
        with kernel().db.transaction() as session:
            return json_response(EndpointOut().dump(endpoints.get(session, str(endpoint_id),
                                                                  require_principal(*ROLES))))

    @requires(*ROLES)
    @webhooks_blp.arguments(EndpointPatch)
    @webhooks_blp.response(200, EndpointOut)
    def patch(self, changes, endpoint_id):
        """Change the URL or the types, or switch a disabled endpoint on again."""
        with kernel().db.transaction() as session:
            endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
            endpoints.change(session, kernel().config, endpoint, changes)
            return json_response(EndpointOut().dump(endpoint))

    @requires(*ROLES)
    @webhooks_blp.response(204)
    def delete(self, endpoint_id):
        with kernel().db.transaction() as session:
            endpoints.remove(session, endpoints.get(session, str(endpoint_id), require_principal(*ROLES)))
        return None


def _delivery_out(session, delivery: WebhookDelivery) -> dict:
    log = session.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
                          .order_by(DeliveryAttempt.number)).scalars().all()
    return {**DeliveryOut().dump(delivery), "log": [DeliveryOut().fields["log"].inner.schema.dump(a) for a in log]}


@webhooks_blp.route("/<uuid:endpoint_id>/deliveries")
@requires(*ROLES)
@webhooks_blp.arguments(DeliveryQuery, location="query")
@webhooks_blp.response(200, DeliveryPage)
def deliveries(args, endpoint_id):
    """The delivery log, newest first: every attempt with its status and latency."""
    with kernel().db.transaction() as session:
        endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        if args["status"]:
            stmt = stmt.where(WebhookDelivery.status == args["status"])
        rows, next_url = keyset_page(session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id], args,
                                     descending=True)
        return json_response(page_body([_delivery_out(session, d) for d in rows], next_url))


@webhooks_blp.route("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/redelivery", methods=["POST"])
@requires(*ROLES)
@webhooks_blp.response(202, DeliveryOut)
def redeliver(endpoint_id, delivery_id):
    """Send a delivery again, now (whatever became of it before)."""
    with kernel().db.transaction() as session:
        endpoint = endpoints.get(session, str(endpoint_id), require_principal(*ROLES))
        delivery = endpoints.redeliver(session, endpoint, str(delivery_id))
        body = _delivery_out(session, delivery)
        wakeups.after_commit(session, wakeups.WEBHOOKS)
    return json_response(body, 202)


@problems_blp.route("")
@requires("coordinator")
@problems_blp.response(200, DeliveryProblemsOut)
def delivery_problems():
    """Coordinators only: every webhook endpoint (of any owner) that is disabled or has failed
    or retrying deliveries, worst first, and how many e-mails failed or are being retried,
    with the newest error of each. Never an address or a delivery's body; an endpoint's URL
    only as where it points."""
    require_principal("coordinator")
    with kernel().db.transaction() as session:
        body = DeliveryProblemsOut().dump(problems.delivery_problems(
            session, kernel().config.NOTIFY_CLAIM_LEASE_SECONDS))
    return json_response(body, headers={"Cache-Control": "no-store"})
