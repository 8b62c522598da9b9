"""The events service's HTTP API: parse, call a use case, answer."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from services.events import bulk, event_changes, finding
from services.events import campaigns as use
from services.events import local_events as events
from services.events.models import Campaign, EventChange, LocalEvent, public_revisions
from services.events.schemas import (
    ApprovalIn,
    BulkOut,
    BulkQuery,
    CampaignIn,
    CampaignOut,
    CampaignOverview,
    CampaignPage,
    CampaignPatch,
    CampaignQuery,
    DecisionIn,
    EndorsementIn,
    EndorsementOut,
    EventChangePage,
    EventChangeQuery,
    EventDecisionIn,
    GeoQuery,
    HoldIn,
    HoldOut,
    LocalEventIn,
    LocalEventOut,
    LocalEventPage,
    LocalEventPatch,
    LocalEventQuery,
    OverviewQuery,
    SignatoryList,
    StatisticsOut,
    TimelinePage,
    TimelineQuery,
)
from shared.audit import changes, record
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid
from shared.fields import is_country
from shared.http.app import accepts_any_body, csv_body
from shared.http.auth import current_principal, require_principal, requires
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, page_body
from shared.http.rendered import rendered_response
from shared.kernel import current_kernel as kernel
from shared.revisions import campaign_revision, overall_revision

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="Campaigns, their day of action, endorsements and signatories.")



def acting_for(principal, organisation_id: str | None, location: str) -> str:
    """The organisation a request acts for: an organisation acts for itself; a coordinator
    acts on an organisation's behalf and must name it."""
    if principal.is_coordinator:
        if organisation_id is None:
            raise Invalid("Name the organisation you act for (organisation_id).",
                          errors=[{"field": "organisation_id", "location": location, "message": "Missing data."}])
        return organisation_id
    if organisation_id not in (None, principal.subject_id):
        raise Forbidden("An organisation acts only for itself.")
    return principal.subject_id


def _with_count(session, campaign: Campaign) -> Campaign:
    campaign.endorsements = use.endorsement_count(session, campaign.id)
    return campaign


@blp.route("")
class Campaigns(MethodView):
    @blp.arguments(CampaignQuery, location="query")
    @blp.response(200, CampaignPage)
    def get(self, args):
        """List campaigns (drafts only for coordinators)."""
        principal = current_principal()
        stmt = select(Campaign)
        if args.get("status"):
            stmt = stmt.where(Campaign.status == args["status"])
        if not (principal and principal.is_coordinator):
            stmt = stmt.where(Campaign.status != "draft")
        with kernel().db.transaction() as session:
            rows, next_url = keyset_page(session, stmt, [Campaign.created_at, Campaign.id], args)
            items = [_with_count(session, c) for c in rows]
        return page_body(items, next_url)

    @requires("coordinator")
    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    def post(self, fields):
        """Open a campaign (coordinators)."""
        with kernel().db.transaction() as session:
            created = use.create_campaign(session, kernel().outbox, fields)
            record(session, kernel().outbox, require_principal(), "campaign.created", "campaign", created.id,
                   after=_campaign_facts(created))
            campaign = _with_count(session, created)
        return campaign, 201, {"Location": url_for("campaigns.CampaignById", campaign_id=campaign.id)}


@blp.route("/<uuid:campaign_id>")
class CampaignById(MethodView):
    @blp.response(200, CampaignOut)
    def get(self, campaign_id):
        """Read a campaign."""
        with kernel().db.transaction() as session:
            return _with_count(session, use.get_campaign(session, str(campaign_id), current_principal()))

    @requires("coordinator")
    @blp.arguments(CampaignPatch(partial=True))
    @blp.response(200, CampaignOut)
    def patch(self, fields, campaign_id):
        """Change a campaign; moving its dates announces `campaign.rescheduled` (coordinators)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            before = _campaign_facts(campaign)
            use.update_campaign(session, kernel().outbox, campaign, fields)
            old, new = changes(before, _campaign_facts(campaign))
            if new:
                record(session, kernel().outbox, require_principal(), "campaign.changed", "campaign", campaign.id,
                       before=old, after=new)
            return _with_count(session, campaign)


CAMPAIGN_FACTS = ("name", "description", "languages", "day_of_action", "window_start", "window_end", "list_date",
                  "activity_types", "status", "adoption_threshold")


def _campaign_facts(campaign: Campaign) -> dict:
    return {name: getattr(campaign, name) for name in CAMPAIGN_FACTS}


@blp.route("/<uuid:campaign_id>/endorsements")
class Endorsements(MethodView):
    @requires("organisation", "coordinator")
    @blp.arguments(EndorsementIn)
    @blp.response(201, EndorsementOut)
    def post(self, body, campaign_id):
        """Endorse an open campaign (an organisation for itself, or a coordinator on its behalf)."""
        principal = require_principal()
        organisation_id = acting_for(principal, body.get("organisation_id"), "json")
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), principal)
            endorsement, number = use.endorse(session, kernel().outbox, campaign, organisation_id)
        return ({"campaign_id": endorsement.campaign_id, "organisation_id": organisation_id, "number": number,
                 "endorsed_at": endorsement.endorsed_at}, 201,
                {"Location": url_for("campaigns.EndorsementByOrganisation", campaign_id=campaign_id,
                                     organisation_id=organisation_id)})


@blp.route("/<uuid:campaign_id>/endorsements/<uuid:organisation_id>")
class EndorsementByOrganisation(MethodView):
    @requires(owner="organisation_id")
    @blp.response(204)
    def delete(self, campaign_id, organisation_id):
        """Withdraw an endorsement (the organisation itself or a coordinator)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            use.withdraw(session, kernel().outbox, campaign, str(organisation_id))


@blp.route("/<uuid:campaign_id>/signatories")
class Signatories(MethodView):
    @blp.response(200, SignatoryList)
    def get(self, campaign_id):
        """The numbered signatory list, initial and subsequent, as a resolution prints it."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            return use.signatories(session, campaign)


@blp.route("/<uuid:campaign_id>/overview")
class Overview(MethodView):
    @blp.arguments(OverviewQuery(), location="query")
    @blp.response(200, CampaignOverview)
    def get(self, args, campaign_id):
        """A campaign's public page in one answer: campaign, signatories, every public event.

        The campaign and its signatories as their own endpoints give them to the public, and
        every event the public list of the campaign finds over all its pages (compact, in the
        list's order), so a page renders with one request to this service however many events
        there are. Always the public's view: a token changes nothing. `?lang=` or
        Accept-Language picks the titles' language, as in the list. Rendered once per change
        of what it shows: a strong ETag, and 304 to If-None-Match."""
        campaign_id, wanted = str(campaign_id), _wanted_languages(args)

        def render():
            places = finding.PublicPlaces(utcnow())
            with kernel().db.transaction() as session:
                campaign = _with_count(session, use.get_campaign(session, campaign_id, None))
                body = {"campaign": CampaignOut().dump(campaign),
                        "signatories": SignatoryList().dump(use.signatories(session, campaign)),
                        # Plain rows on the same transaction (one snapshot), dumped without marshmallow.
                        "events": finding.overview_events(session.connection(), campaign.id, wanted, places)}
            return json_response(body).get_data(), places.changes_at

        return rendered_response(("overview", campaign_id, wanted), _campaign_revision(campaign_id), render,
                                 "application/json", vary="Accept-Language")


def _campaign_revision(campaign_id: str) -> int:
    """Of a campaign the public may see (404 otherwise): one cheap query per request."""
    with kernel().db.engine.connect() as connection:
        return use.public_revision(connection, campaign_id)


def _overall_revision() -> int:
    """For the outputs that span campaigns (a country's, an organisation's)."""
    with kernel().db.engine.connect() as connection:
        return overall_revision(connection, public_revisions)


LISTED_COLUMNS = [c for c in LocalEvent.__table__.c if c.key not in ("search_text", "sequence")]

events_blp = Blueprint("local_events", __name__, url_prefix="/events",
                       description="Local events: submitted by organisations, decided by coordinators, found by all.")


def _wanted_languages(args: dict) -> tuple[str, ...]:
    wanted = [args["lang"]] if args.get("lang") else []
    wanted += [code.split("-")[0].lower() for code in request.accept_languages.values()]
    return tuple(dict.fromkeys(wanted))  # each once, in order: also a key of kept renderings


def _event_response(event, status: int = 200, headers: dict | None = None):
    # present() gives JSON-ready values; the schema on the view documents them.
    principal = current_principal()
    body = events.present(event, principal, _wanted_languages(request.args), utcnow())
    if events.may_see_everything(event, principal):
        session = object_session(event)
        session.flush()  # what the use case just changed, seen by the plain query
        body.update(event_changes.told_to_owner(session.connection(), [event.id])[event.id])
    return json_response(body, status, headers)


@blp.route("/<uuid:campaign_id>/events")
class CampaignEvents(MethodView):
    @requires("organisation", "coordinator")
    @blp.arguments(LocalEventIn)
    @blp.response(201, LocalEventOut)
    def post(self, fields, campaign_id):
        """Submit a local event (an organisation for itself, or a coordinator on its behalf)."""
        principal = require_principal()
        organisation_id = acting_for(principal, fields.get("organisation_id"), "json")
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), principal)
            event = events.submit(session, kernel().outbox, campaign, organisation_id, fields)
            return _event_response(event, 201, {"Location": url_for("local_events.LocalEventById", event_id=event.id)})


@blp.route("/<uuid:campaign_id>/events.csv", methods=["POST"])
@requires("organisation", "coordinator")
@blp.arguments(BulkQuery, location="query")
@blp.response(201, BulkOut)
@blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})
@accepts_any_body
def submit_events_csv(args, campaign_id):
    """Submit many events from a CSV file (`Content-Type: text/csv`); see the columns in the
    docs. Every bad row is reported with its line and field; nothing is created unless all
    rows are good or skip_bad=true."""
    principal = require_principal()
    organisation_id = acting_for(principal, args.get("organisation_id"), "query")
    text = csv_body()
    with kernel().db.transaction() as session:
        campaign = use.get_campaign(session, str(campaign_id), principal)
        created, skipped = bulk.submit_file(session, kernel().outbox, campaign, organisation_id, text,
                                            args["skip_bad"])
        return {"created": len(created), "ids": [e.id for e in created], "skipped": skipped}


@events_blp.route("")
class LocalEvents(MethodView):
    @events_blp.arguments(LocalEventQuery(), location="query")
    @events_blp.response(200, LocalEventPage)
    def get(self, args):
        """Find events, in order of their start (UTC); the public sees approved public events."""
        principal, wanted, now = current_principal(), _wanted_languages(args), utcnow()
        # Plain rows on a plain connection, dumped without marshmallow: this list is hot.
        stmt = events.list_statement(args, principal).with_only_columns(*LISTED_COLUMNS)
        with kernel().db.engine.connect() as connection:
            rows, next_url = keyset_page(connection, stmt, [LocalEvent.starts_at, LocalEvent.id], args)
            items = [events.present(e, principal, wanted, now) for e in rows]
            if principal is not None:  # owners and coordinators see their events' pending changes
                told = event_changes.told_to_owner(connection, [e.id for e in rows
                                                                if events.may_see_everything(e, principal)])
                for item in items:
                    item.update(told.get(item["id"], {}))
        return json_response(page_body(items, next_url))


@events_blp.route("/changes")
class EventChanges(MethodView):
    @requires("organisation", "coordinator")
    @events_blp.arguments(EventChangeQuery(), location="query")
    @events_blp.response(200, EventChangePage)
    def get(self, args):
        """Changes to approved events, oldest first (coordinators: every one; an organisation: its
        events'). `?status=pending` is what waits for a decision; each item has the event as
        approved."""
        principal, wanted, now = require_principal(), _wanted_languages(args), utcnow()
        with kernel().db.transaction() as session:
            stmt = event_changes.queue_statement(args, principal)
            changes, next_url = keyset_page(session, stmt, [EventChange.proposed_at, EventChange.id], args)
            ids = list({c.event_id for c in changes})
            held = {e.id: e for e in session.execute(select(LocalEvent).where(LocalEvent.id.in_(ids))).scalars()}
            items = [{**event_changes.view(c), "event": events.present(held[c.event_id], principal, wanted, now)}
                     for c in changes]
        return json_response(page_body(items, next_url))


@events_blp.route("/<uuid:event_id>")
class LocalEventById(MethodView):
    @events_blp.arguments(OverviewQuery(), location="query")
    @events_blp.response(200, LocalEventOut)
    def get(self, _args, event_id):
        """Read an event (`?lang=` or Accept-Language picks the text's language)."""
        with kernel().db.transaction() as session:
            return _event_response(events.get_event(session, str(event_id), current_principal()))

    @requires("organisation")
    @events_blp.arguments(LocalEventPatch(partial=True))
    @events_blp.response(200, LocalEventOut)
    def patch(self, changes, event_id):
        """Change an event (its organisation); every rule is checked again, and the change
        is announced as event.updated naming what changed."""
        try:
            with kernel().db.transaction() as session:
                event = events.get_event(session, str(event_id), current_principal())
                event_changes.edit(session, kernel().outbox, event, require_principal(), changes)
                return _event_response(event)
        except IntegrityError:  # two changes of an approved event at the same moment: one is kept
            raise Conflict("Another change to the event was saved at the same moment; look at it and send "
                           "yours again.") from None


def _decide(event_id, approve: bool, body: dict):
    reason = body.get("reason")
    with kernel().db.transaction() as session:
        event = events.get_event(session, str(event_id), current_principal())
        before = event.status
        events.decide(session, kernel().outbox, event, approve, reason, body.get("updated_at"))
        record(session, kernel().outbox, require_principal(), "event.approved" if approve else "event.rejected",
               "event", event.id, reason, before={"status": before}, after={"status": event.status})
        return _event_response(event)


@events_blp.route("/<uuid:event_id>/approval", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(ApprovalIn)
@events_blp.response(200, LocalEventOut)
def approve_event(body, event_id):
    """Approve a submitted event (coordinators); approving twice is a 409 with the state. Send
    the `updated_at` you read, and an event changed since is refused (409), not approved unread."""
    return _decide(event_id, True, body)


@events_blp.route("/<uuid:event_id>/rejection", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(EventDecisionIn)
@events_blp.response(200, LocalEventOut)
def reject_event(body, event_id):
    """Reject a submitted event, with the reason (coordinators)."""
    return _decide(event_id, False, body)


def _decide_change(event_id, change_id, accept: bool, reason):
    with kernel().db.transaction() as session:
        event = events.get_event(session, str(event_id), current_principal())
        event_changes.decide(session, kernel().outbox, event, str(change_id), require_principal(), accept, reason)
        return _event_response(event)


@events_blp.route("/<uuid:event_id>/changes/<uuid:change_id>/acceptance", methods=["POST"])
@requires("coordinator")
@events_blp.response(200, LocalEventOut)
def accept_change(event_id, change_id):
    """Accept an approved event's pending change (coordinators): the event becomes what it
    proposes and event.updated announces it; deciding twice is a 409 with the change's state."""
    return _decide_change(event_id, change_id, True, None)


@events_blp.route("/<uuid:event_id>/changes/<uuid:change_id>/rejection", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(DecisionIn)
@events_blp.response(200, LocalEventOut)
def reject_change(body, event_id, change_id):
    """Reject an approved event's pending change, with the reason its owner is shown
    (coordinators); the event stays as approved."""
    return _decide_change(event_id, change_id, False, body.get("reason"))


@events_blp.route("/<uuid:event_id>/cancellation", methods=["POST"])
@requires("organisation")
@events_blp.response(200, LocalEventOut)
def cancel_event(event_id):
    """Cancel an event (the organisation that holds it)."""
    with kernel().db.transaction() as session:
        event = events.get_event(session, str(event_id), current_principal())
        events.cancel(session, kernel().outbox, event, require_principal())
        return _event_response(event)


holds_blp = Blueprint("country_holds", __name__, url_prefix="/countries",
                      description="Emergency control: hide every event of a country from public outputs.")


@holds_blp.route("/<string:country>/hold")
class CountryHoldView(MethodView):
    @requires("coordinator")
    @holds_blp.arguments(HoldIn)
    @holds_blp.response(200, HoldOut)
    def put(self, body, country):
        """Hide every event of COUNTRY from all public outputs at once, with the reason (coordinators)."""
        code = _country(country)
        with kernel().db.transaction() as session:
            hold = events.hold_country(session, kernel().outbox, code, body["reason"], require_principal())
            # The reason goes on record (coordinators only read it), never in country.held.
            record(session, kernel().outbox, require_principal(), "country.held", "country", code, body["reason"])
            return hold

    @requires("coordinator")
    @holds_blp.response(204)
    def delete(self, country):
        """Show the country's events again (coordinators)."""
        code = _country(country)
        with kernel().db.transaction() as session:
            events.release_country(session, kernel().outbox, code)
            record(session, kernel().outbox, require_principal(), "country.released", "country", code)


def _country(code: str) -> str:
    if not is_country(code.upper()):
        raise Invalid(f"'{code}' is not an ISO 3166-1 alpha-2 country code.",
                      errors=[{"field": "country", "location": "path", "message": "Not a country code."}])
    return code.upper()


@blp.route("/<uuid:campaign_id>/timeline")
class Timeline(MethodView):
    @blp.arguments(TimelineQuery, location="query")
    @blp.response(200, TimelinePage)
    def get(self, args, campaign_id):
        """Follow the sun: the day of action's approved events in UTC order, with local times,
        from where the day begins (UTC+14) to where it ends (UTC-12)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            rows, next_url = keyset_page(session, finding.timeline_statement(campaign),
                                         [LocalEvent.starts_at, LocalEvent.id], args)
            wanted = _wanted_languages(args)
            return page_body([finding.timeline_item(e, wanted) for e in rows], next_url)


@blp.route("/<uuid:campaign_id>/statistics")
class Statistics(MethodView):
    @blp.response(200, StatisticsOut)
    def get(self, campaign_id):
        """Approved events and expected participants per country, activity type and organisation
        (the public's figures leave out what it may not see)."""
        principal = current_principal()
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), principal)
            # Plain dicts of strings and numbers: sent as they are, not dumped again.
            return json_response(finding.statistics(session, campaign,
                                                    everything=bool(principal and principal.is_coordinator)))


@events_blp.route("/map.geojson")
@events_blp.arguments(GeoQuery(), location="query")
def events_geojson(args):
    """Public events with a public place, as a GeoJSON FeatureCollection (for maps). Rendered
    once per change: a strong ETag, and 304 to If-None-Match."""
    filters, wanted = {k: v for k, v in args.items() if k != "lang"}, _wanted_languages(args)
    stmt = events.list_statement(filters, None).order_by(LocalEvent.starts_at, LocalEvent.id)
    if filters.get("campaign_id"):
        with kernel().db.engine.connect() as connection:
            revision = campaign_revision(connection, public_revisions, filters["campaign_id"])
    else:
        revision = _overall_revision()

    def render():
        places = finding.PublicPlaces(utcnow())
        with kernel().db.transaction() as session:
            features = list(finding.geojson_features(session, stmt, wanted, places))
        return json_response({"type": "FeatureCollection", "features": features}).get_data(), places.changes_at

    return rendered_response(("geojson", tuple(sorted(filters.items())), wanted), revision, render,
                             "application/geo+json", vary="Accept-Language")


def _ical_body(stmt, name: str, wanted: tuple[str, ...], base_url: str) -> tuple[bytes, datetime | None]:
    """A whole feed, and when time alone would change it (a place becoming public)."""
    places = finding.PublicPlaces(utcnow())
    with kernel().db.transaction() as session:
        body = b"".join(finding.ical_stream(session, stmt.order_by(LocalEvent.starts_at, LocalEvent.id),
                                            name, wanted, places, base_url))
    return body, places.changes_at


def _ical(key: tuple, revision: int, stmt, name: Callable[[], str], filename: str):
    """A calendar feed rendered once per change (`name()` is read when it is rendered)."""
    wanted, base = _wanted_languages(request.args), request.host_url.rstrip("/")
    return rendered_response(("ics", *key, base, wanted), revision, lambda: _ical_body(stmt, name(), wanted, base),
                             "text/calendar", headers={"Content-Disposition": f'inline; filename="{filename}"'},
                             vary="Accept-Language")


def _public_events(**filters):
    return events.list_statement(filters, None)


def _campaign_name(campaign_id: str) -> str:
    with kernel().db.transaction() as session:
        return use.get_campaign(session, campaign_id, None).name


@blp.route("/<uuid:campaign_id>/events.ics")
@blp.arguments(OverviewQuery(), location="query")
def campaign_ical(_args, campaign_id):
    """The campaign's public events as an iCalendar feed (subscribe to it in a calendar app);
    rendered once per change: a strong ETag, and 304 to If-None-Match."""
    campaign_id = str(campaign_id)
    return _ical(("campaign", campaign_id), _campaign_revision(campaign_id), _public_events(campaign_id=campaign_id),
                 lambda: _campaign_name(campaign_id), "campaign.ics")


@holds_blp.route("/<string:country>/events.ics")
@holds_blp.arguments(OverviewQuery(), location="query")
def country_ical(_args, country):
    """A country's public events as an iCalendar feed (rendered once per change, as the campaign's)."""
    code = _country(country)
    return _ical(("country", code), _overall_revision(), _public_events(country=code), lambda: f"dayofaction {code}",
                 f"{code}.ics")


organisations_blp = Blueprint("organisation_feeds", __name__, url_prefix="/organisations",
                              description="Each organisation's public events as a calendar feed.")


@organisations_blp.route("/<uuid:organisation_id>/events.ics")
@organisations_blp.arguments(OverviewQuery(), location="query")
def organisation_ical(_args, organisation_id):
    """An organisation's public events as an iCalendar feed (rendered once per change, as the
    campaign's)."""
    organisation_id = str(organisation_id)
    return _ical(("organisation", organisation_id), _overall_revision(), _public_events(organisation_id=organisation_id),
                 lambda: "dayofaction", "organisation.ics")


@events_blp.route("/<uuid:event_id>.ics")
@events_blp.arguments(OverviewQuery(), location="query")
def event_ical(_args, event_id):
    """One public event as an iCalendar file (add it to a calendar)."""
    with kernel().db.transaction() as session:
        events.get_event(session, str(event_id), None)
    body, _ = _ical_body(select(LocalEvent).where(LocalEvent.id == str(event_id)), "dayofaction",
                         _wanted_languages(request.args), request.host_url.rstrip("/"))
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="event.ics"'})
