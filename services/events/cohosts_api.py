"""Co-hosts over HTTP (cohosts.py): the owner invites, the invited organisation accepts,
declines or leaves; the owner or a coordinator withdraws."""
from __future__ import annotations

from flask import url_for

from services.events import cohosts, schemas
from services.events.models import EventHost
from shared.http.contract import LOCATION
from shared.http.pagination import keyset_page, lists, page_body
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

hosts_blp = Blueprint("event_hosts", __name__, url_prefix="/events",
                      description="Co-hosts: a joint event of several signatories.")
invitations_blp = Blueprint("hosting_invitations", __name__, url_prefix="/hosting-invitations",
                            description="An organisation's invitations to host others' events too.")


def _event(session, event_id):
    return cohosts.event_for(session, str(event_id), require_principal())


@hosts_blp.route("/<uuid:event_id>/hosts")
class EventHosts(MethodView):
    @requires("organisation", "coordinator")
    @lists(hosts_blp, schemas.EventHostPage)
    def get(self, args, event_id):
        """The event's invitations, oldest first: all of them for its organisation and
        coordinators; for another organisation, the accepted co-hosts and its own invitation."""
        with kernel().db.transaction() as session:
            stmt = cohosts.hosts_of(_event(session, event_id), require_principal())
            return page_body(*keyset_page(session, stmt, [EventHost.invited_at, EventHost.organisation_id], args))

    @requires("organisation", "coordinator")
    @hosts_blp.arguments(schemas.EventHostIn)
    @hosts_blp.response(201, schemas.EventHostOut, headers=LOCATION)
    def post(self, body, event_id):
        """Invite another organisation to host the event too (its organisation or a coordinator)."""
        with kernel().db.transaction() as session:
            host = cohosts.invite(session, _event(session, event_id), require_principal(), body["organisation_id"])
        return host, {"Location": url_for("event_hosts.EventHostByOrganisation", event_id=event_id,
                                          organisation_id=host.organisation_id)}


@invitations_blp.route("", methods=["GET"])
@requires("organisation")
@lists(invitations_blp, schemas.EventHostPage, schemas.InvitationQuery)
def my_invitations(args):
    """Your organisation's invitations to host other organisations' events, oldest first
    (`status=invited`: those still waiting for your answer)."""
    with kernel().db.transaction() as session:
        stmt = cohosts.invitations_of(require_principal().subject_id, args.get("status"))
        return page_body(*keyset_page(session, stmt, [EventHost.invited_at, EventHost.event_id], args))


@hosts_blp.route("/<uuid:event_id>/hosts/<uuid:organisation_id>/acceptance", methods=["POST"])
@requires("organisation")
@hosts_blp.response(200, schemas.EventHostOut)
def accept(event_id, organisation_id):
    """Accept to host the event too (the invited organisation): it then shares the hosts' view
    of the participants, their messages and the door, and the event is listed with its own."""
    with kernel().db.transaction() as session:
        return cohosts.accept(session, kernel().outbox, _event(session, event_id), require_principal(),
                              str(organisation_id))


@hosts_blp.route("/<uuid:event_id>/hosts/<uuid:organisation_id>")
class EventHostByOrganisation(MethodView):
    @requires("organisation", "coordinator")
    @hosts_blp.response(200, schemas.EventHostOut)
    def get(self, event_id, organisation_id):
        """The invitation (the event's organisation, the invited one, coordinators)."""
        with kernel().db.transaction() as session:
            return cohosts.invitation(session, _event(session, event_id), require_principal(), str(organisation_id))

    @requires("organisation", "coordinator")
    @hosts_blp.response(204)
    def delete(self, event_id, organisation_id):
        """Withdraw the invitation or the co-host (the event's organisation, coordinators), or
        decline or leave (the invited organisation)."""
        with kernel().db.transaction() as session:
            cohosts.remove(session, kernel().outbox, _event(session, event_id), require_principal(),
                           str(organisation_id))
        return ""
