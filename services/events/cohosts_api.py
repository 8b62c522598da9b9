"""Co-hosts over HTTP (cohosts.py): the owner invites, the invited organisation accepts,
declines or leaves; the owner or a coordinator withdraws."""
from __future__ import annotations

from flask import url_for

from services.events import cohosts, schemas
from shared.http.contract import LOCATION
from shared.http.routes import Blueprint, MethodView, kernel, require_principal, requires

hosts_blp = Blueprint("event_hosts", __name__, url_prefix="/events",
                      description="Co-hosts: a joint event of several signatories.")


def _event(session, event_id):
    return cohosts.event_for(session, str(event_id), require_principal())


@hosts_blp.route("/<uuid:event_id>/hosts", methods=["POST"])
@requires("organisation", "coordinator")
@hosts_blp.arguments(schemas.EventHostIn)
@hosts_blp.response(201, schemas.EventHostOut, headers=LOCATION)
def invite(body, event_id):
    """Invite another organisation to host the event too (its organisation or a coordinator)."""
    with kernel().db.transaction() as session:
        host = cohosts.invite(session, _event(session, event_id), require_principal(), body["organisation_id"])
    return host, {"Location": url_for("event_hosts.EventHostByOrganisation", event_id=event_id,
                                      organisation_id=host.organisation_id)}


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
