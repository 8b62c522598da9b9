"""Emergency control: a coordinator holds a country, hiding every event of it from public outputs."""
from __future__ import annotations

from services.events import local_events as events
from services.events.api_common import known_country
from services.events.schemas import HoldIn, HoldOut
from shared.http.routes import Blueprint, MethodView, kernel, record, require_principal, requires

holds_blp = Blueprint("country_holds", __name__, url_prefix="/countries",
                      description="Emergency control: hide every event of a country from public outputs.")


@holds_blp.route("/<country:country>/hold")
class CountryHoldView(MethodView):
    @requires("coordinator")
    @holds_blp.arguments(HoldIn)
    @holds_blp.response(200, HoldOut)
    def put(self, body, country):
        """Hide every event of COUNTRY from all public outputs at once, with the reason (coordinators)."""
        code = known_country(country)
        with kernel().db.transaction() as session:
            hold = events.hold_country(session, kernel().outbox, code, body["reason"], require_principal())
            # The reason goes on record (coordinators only read it), never in country.held.
            record(session, kernel().outbox, require_principal(), "country.held", "country", code, body["reason"])
            return hold

    @requires("coordinator")
    @holds_blp.response(204)
    def delete(self, country):
        """Show the country's events again (coordinators)."""
        code = known_country(country)
        with kernel().db.transaction() as session:
            events.release_country(session, kernel().outbox, code)
            record(session, kernel().outbox, require_principal(), "country.released", "country", code)
