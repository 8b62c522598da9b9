"""The notify service's HTTP API under /api/notify: subscriptions of the public, contacts of
organisations and coordinators, and the coordinators' view of failing deliveries. The links in
e-mails are in link_pages.py, webhooks in webhooks_api.py."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from services.notify import problems
from services.notify import subscriptions as subs
from services.notify.forgetting import forget_contact
from services.notify.models import Contact
from services.notify.schemas import Accepted, ContactIn, ContactOut, DeliveryProblemsOut, SubscriptionIn
from shared.errors import NotFound
from shared.http.ratelimit import limiter, subscribe_limit
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

subscriptions_blp = Blueprint("subscriptions", __name__, url_prefix="/subscriptions",
                              description="Subscriptions of the public: no account, double opt-in.")
contacts_blp = Blueprint("contacts", __name__, url_prefix="/contacts",
                         description="Where an organisation or a coordinator is told of what concerns it.")
problems_blp = Blueprint("delivery_problems", __name__, url_prefix="/delivery-problems",
                         description="What is failing in deliveries, webhooks and e-mail: for coordinators.")

ROLES = ("organisation", "coordinator")


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
        return {"status": "pending", "detail": "Check your inbox: follow the link in the e-mail we sent to confirm."}


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
        return contact

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
        return contact

    @requires(*ROLES)
    @contacts_blp.response(204)
    def delete(self):
        principal = require_principal(*ROLES)
        with kernel().db.transaction() as session:
            contact = session.get(Contact, principal.subject_id)
            if contact is not None:
                forget_contact(session, contact.owner_id)
                session.delete(contact)
        return ""


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
        found = problems.delivery_problems(session, kernel().config.NOTIFY_CLAIM_LEASE_SECONDS)
    return found, 200, {"Cache-Control": "no-store"}
