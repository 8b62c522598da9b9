"""Local events: submitted to a campaign by organisations, decided by coordinators, found by all."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.events import bulk, event_changes, exports, schemas
from services.events import local_events as events
from services.events.api_common import (
    event_response,
    in_campaign_for,
    wanted_languages,
)
from services.events.models import EventChange, LocalEvent
from shared.db import utcnow
from shared.errors import Conflict
from shared.exports import export_doc, export_response
from shared.http.app import accepts_any_body, csv_body
from shared.http.pagination import keyset_page, page_body
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, require_principal, requires

campaign_events_blp = Blueprint("campaign_events", __name__, url_prefix="/campaigns",
                                description="Submitting local events to a campaign.")

LISTED_COLUMNS = [c for c in LocalEvent.__table__.c if c.key not in ("search_text", "sequence")]

events_blp = Blueprint("local_events", __name__, url_prefix="/events",
                       description="Local events: submitted by organisations, decided by coordinators, found by all.")


@campaign_events_blp.route("/<uuid:campaign_id>/events")
class CampaignEvents(MethodView):
    @requires("organisation", "coordinator")
    @campaign_events_blp.arguments(schemas.LocalEventIn)
    @campaign_events_blp.response(201, schemas.LocalEventOut)
    def post(self, fields, campaign_id):
        """Submit a local event (an organisation for itself, or a coordinator on its behalf)."""
        with in_campaign_for(campaign_id, fields.get("organisation_id")) as (session, campaign, organisation_id):
            event = events.submit(session, kernel().outbox, campaign, organisation_id, fields)
            return event_response(event, 201, {"Location": url_for("local_events.LocalEventById", event_id=event.id)})


@campaign_events_blp.route("/<uuid:campaign_id>/events.csv", methods=["POST"])
@requires("organisation", "coordinator")
@campaign_events_blp.arguments(schemas.BulkQuery, location="query")
@campaign_events_blp.response(201, schemas.BulkOut)
@campaign_events_blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}})
@accepts_any_body
def submit_events_csv(args, campaign_id):
    """Submit many events from a CSV file (`Content-Type: text/csv`); see the columns in the
    docs. Every bad row is reported with its line and field; nothing is created unless all
    rows are good or skip_bad=true."""
    with in_campaign_for(campaign_id, args.get("organisation_id"), "query") as (session, campaign, organisation_id):
        created, skipped = bulk.submit_file(session, kernel().outbox, campaign, organisation_id, csv_body(),
                                            args["skip_bad"])
        return {"created": len(created), "ids": [e.id for e in created], "skipped": skipped}


@events_blp.route("")
class LocalEvents(MethodView):
    @events_blp.arguments(schemas.LocalEventQuery(), location="query")
    @events_blp.response(200, schemas.LocalEventPage)
    def get(self, args):
        """Find events, in order of their start (UTC); the public sees approved public events."""
        principal, wanted, now = current_principal(), wanted_languages(args), utcnow()
        # Plain rows on a plain connection (this list is hot), dumped by schemas.LocalEventPage's compiled dumper.
        stmt = events.list_statement(args, principal).with_only_columns(*LISTED_COLUMNS)
        with kernel().db.engine.connect() as connection:
            rows, next_url = keyset_page(connection, stmt, [LocalEvent.starts_at, LocalEvent.id], args)
            items = [events.present(e, principal, wanted, now) for e in rows]
            if principal is not None:  # owners and coordinators see their events' pending changes
                told = event_changes.told_to_owner(connection, [e.id for e in rows
                                                                if events.may_see_everything(e, principal)])
                for item in items:
                    item.update(told.get(item["id"], {}))
        return page_body(items, next_url)


@events_blp.route("/export")
@requires("coordinator")
@events_blp.arguments(exports.EventExportQuery(), location="query")
@events_blp.doc(responses=export_doc("Every event the filters select, oldest first, with what a coordinator sees "
                                     "(addresses included): CSV or .xlsx."))
def export_events(args):
    """Export events (coordinators): the list's filters, every row, as CSV (streamed) or .xlsx."""
    format_ = args.pop("format")
    header = [name for name, _ in exports.EVENT_COLUMNS]
    return export_response("events", format_, header, exports.event_rows(kernel().db, args, require_principal()))


@events_blp.route("/changes")
class EventChanges(MethodView):
    @requires("organisation", "coordinator")
    @events_blp.arguments(schemas.EventChangeQuery(), location="query")
    @events_blp.response(200, schemas.EventChangePage)
    def get(self, args):
        """Changes to approved events, oldest first (coordinators: every one; an organisation: its
        events'). `?status=pending` is what waits for a decision; each item has the event as
        approved."""
        principal, wanted, now = require_principal(), wanted_languages(args), utcnow()
        with kernel().db.transaction() as session:
            stmt = event_changes.queue_statement(args, principal)
            changes, next_url = keyset_page(session, stmt, [EventChange.proposed_at, EventChange.id], args)
            ids = list({c.event_id for c in changes})
            held = {e.id: e for e in session.execute(select(LocalEvent).where(LocalEvent.id.in_(ids))).scalars()}
            items = [{**event_changes.view(c), "event": events.present(held[c.event_id], principal, wanted, now)}
                     for c in changes]
        return page_body(items, next_url)


@events_blp.route("/<uuid:event_id>")
class LocalEventById(MethodView):
    @events_blp.arguments(schemas.OverviewQuery(), location="query")
    @events_blp.response(200, schemas.LocalEventOut)
    def get(self, _args, event_id):
        """Read an event (`?lang=` or Accept-Language picks the text's language)."""
        with kernel().db.transaction() as session:
            return event_response(events.get_event(session, str(event_id), current_principal()))

    @requires("organisation")
    @events_blp.arguments(schemas.LocalEventPatch(partial=True))
    @events_blp.response(200, schemas.LocalEventOut)
    def patch(self, changes, event_id):
        """Change an event (its organisation); every rule is checked again, and the change
        is announced as event.updated naming what changed."""
        try:
            with kernel().db.transaction() as session:
                event = events.get_event(session, str(event_id), current_principal())
                event_changes.edit(session, kernel().outbox, event, require_principal(), changes)
                return event_response(event)
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
        return event_response(event)


@events_blp.route("/<uuid:event_id>/approval", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(schemas.ApprovalIn)
@events_blp.response(200, schemas.LocalEventOut)
def approve_event(body, event_id):
    """Approve a submitted event (coordinators); approving twice is a 409 with the state. Send
    the `updated_at` you read, and an event changed since is refused (409), not approved unread."""
    return _decide(event_id, True, body)


@events_blp.route("/<uuid:event_id>/rejection", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(schemas.EventDecisionIn)
@events_blp.response(200, schemas.LocalEventOut)
def reject_event(body, event_id):
    """Reject a submitted event, with the reason (coordinators)."""
    return _decide(event_id, False, body)


def _decide_change(event_id, change_id, accept: bool, reason):
    with kernel().db.transaction() as session:
        event = events.get_event(session, str(event_id), current_principal())
        event_changes.decide(session, kernel().outbox, event, str(change_id), require_principal(), accept, reason)
        return event_response(event)


@events_blp.route("/<uuid:event_id>/changes/<uuid:change_id>/acceptance", methods=["POST"])
@requires("coordinator")
@events_blp.response(200, schemas.LocalEventOut)
def accept_change(event_id, change_id):
    """Accept an approved event's pending change (coordinators): the event becomes what it
    proposes and event.updated announces it; deciding twice is a 409 with the change's state."""
    return _decide_change(event_id, change_id, True, None)


@events_blp.route("/<uuid:event_id>/changes/<uuid:change_id>/rejection", methods=["POST"])
@requires("coordinator")
@events_blp.arguments(schemas.DecisionIn)
@events_blp.response(200, schemas.LocalEventOut)
def reject_change(body, event_id, change_id):
    """Reject an approved event's pending change, with the reason its owner is shown
    (coordinators); the event stays as approved."""
    return _decide_change(event_id, change_id, False, body.get("reason"))


@events_blp.route("/<uuid:event_id>/cancellation", methods=["POST"])
@requires("organisation")
@events_blp.response(200, schemas.LocalEventOut)
def cancel_event(event_id):
    """Cancel an event (the organisation that holds it)."""
    with kernel().db.transaction() as session:
        event = events.get_event(session, str(event_id), current_principal())
        events.cancel(session, kernel().outbox, event, require_principal())
        return event_response(event)
