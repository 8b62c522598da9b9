"""Campaigns: their day of action, endorsements, signatories, overview, timeline, figures."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from services.events import campaigns as use
from services.events import exports, finding, schemas
from services.events.api_common import (
    in_campaign_for,
    public_campaign_revision,
    wanted_languages,
)
from services.events.models import Campaign, LocalEvent
from shared.audit import changes
from shared.db import utcnow
from shared.exports import export_doc, export_response
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, page_body
from shared.http.rendered import documented_rendering, rendered_response
from shared.http.routes import Blueprint, MethodView, current_principal, kernel, record, require_principal, requires

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns",
                description="Campaigns, their day of action, endorsements and signatories.")



def _with_count(session, campaign: Campaign) -> Campaign:
    campaign.endorsements = use.endorsement_count(session, campaign.id)
    return campaign


@blp.route("")
class Campaigns(MethodView):
    @blp.arguments(schemas.CampaignQuery, location="query")
    @blp.response(200, schemas.CampaignPage)
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
    @blp.arguments(schemas.CampaignIn)
    @blp.response(201, schemas.CampaignOut)
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
    @blp.response(200, schemas.CampaignOut)
    def get(self, campaign_id):
        """Read a campaign."""
        with kernel().db.transaction() as session:
            return _with_count(session, use.get_campaign(session, str(campaign_id), current_principal()))

    @requires("coordinator")
    @blp.arguments(schemas.CampaignPatch(partial=True))
    @blp.response(200, schemas.CampaignOut)
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
                  "activity_types", "status", "adoption_threshold", "participation_keep_days")


def _campaign_facts(campaign: Campaign) -> dict:
    return {name: getattr(campaign, name) for name in CAMPAIGN_FACTS}


def _endorsement(endorsement, number: int) -> dict:
    """What EndorsementOut dumps: the endorsement and its number on the signatory list."""
    return {"campaign_id": endorsement.campaign_id, "organisation_id": endorsement.organisation_id,
            "number": number, "endorsed_at": endorsement.endorsed_at}


@blp.route("/<uuid:campaign_id>/endorsements", methods=["POST"])
@requires("organisation", "coordinator")
@blp.arguments(schemas.EndorsementIn)
@blp.response(201, schemas.EndorsementOut)
def endorse(body, campaign_id):
    """Endorse an open campaign (an organisation for itself, or a coordinator on its behalf)."""
    with in_campaign_for(campaign_id, body.get("organisation_id")) as (session, campaign, organisation_id):
        endorsement, number = use.endorse(session, kernel().outbox, campaign, organisation_id)
    return (_endorsement(endorsement, number), 201,
            {"Location": url_for("campaigns.EndorsementByOrganisation", campaign_id=campaign_id,
                                 organisation_id=organisation_id)})


@blp.route("/<uuid:campaign_id>/endorsements/export")
@requires("coordinator")
@blp.arguments(exports.ExportFormat(), location="query")
@blp.doc(responses=export_doc("Every endorsement of the campaign, withdrawn ones with when, in the order they came: "
                              "CSV or .xlsx."))
def export_endorsements(args, campaign_id):
    """Export a campaign's endorsements (coordinators), as CSV or .xlsx."""
    with kernel().db.transaction() as session:
        campaign = use.get_campaign(session, str(campaign_id), current_principal())
    rows = exports.endorsement_rows(kernel().db, campaign.id)
    return export_response("endorsements", args["format"], exports.ENDORSEMENT_COLUMNS, rows)


@blp.route("/<uuid:campaign_id>/endorsements/<uuid:organisation_id>")
class EndorsementByOrganisation(MethodView):
    @blp.response(200, schemas.EndorsementOut)
    def get(self, campaign_id, organisation_id):
        """An organisation's endorsement of the campaign, with its number on the list (anyone may
        read what the signatory list shows; 404 if it does not endorse it now)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            endorsement, number = use.endorsement_of(session, campaign, str(organisation_id))
            return _endorsement(endorsement, number)

    @requires(owner="organisation_id")
    @blp.response(204)
    def delete(self, campaign_id, organisation_id):
        """Withdraw an endorsement (the organisation itself or a coordinator)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            use.withdraw(session, kernel().outbox, campaign, str(organisation_id))


@blp.route("/<uuid:campaign_id>/signatories")
class Signatories(MethodView):
    @blp.response(200, schemas.SignatoryList)
    def get(self, campaign_id):
        """The numbered signatory list, initial and subsequent, as a resolution prints it."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            return use.signatories(session, campaign)


@blp.route("/<uuid:campaign_id>/overview")
class Overview(MethodView):
    @blp.arguments(schemas.OverviewQuery(), location="query")
    @documented_rendering(blp, schemas.CampaignOverview)
    def get(self, args, campaign_id):
        """A campaign's public page in one answer: campaign, signatories, every public event.

        The campaign and its signatories as their own endpoints give them to the public, and
        every event the public list of the campaign finds over all its pages (compact, in the
        list's order), so a page renders with one request to this service however many events
        there are. Always the public's view: a token changes nothing. `?lang=` or
        Accept-Language picks the titles' language, as in the list. Rendered once per change
        of what it shows: a strong ETag, and 304 to If-None-Match."""
        campaign_id, wanted = str(campaign_id), wanted_languages(args)

        def render():
            places = finding.PublicPlaces(utcnow())
            with kernel().db.transaction() as session:
                campaign = _with_count(session, use.get_campaign(session, campaign_id, None))
                body = schemas.CampaignOverview().dump({
                    "campaign": campaign, "signatories": use.signatories(session, campaign),
                    # Plain rows on the same transaction: one snapshot.
                    "events": finding.overview_events(session.connection(), campaign.id, wanted, places)})
            return json_response(body).get_data(), places.changes_at

        return rendered_response(("overview", campaign_id, wanted), public_campaign_revision(campaign_id), render,
                                 "application/json", vary="Accept-Language")



@blp.route("/<uuid:campaign_id>/timeline")
class Timeline(MethodView):
    @blp.arguments(schemas.TimelineQuery, location="query")
    @blp.response(200, schemas.TimelinePage)
    def get(self, args, campaign_id):
        """Follow the sun: the day of action's approved events in UTC order, with local times,
        from where the day begins (UTC+14) to where it ends (UTC-12)."""
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), current_principal())
            rows, next_url = keyset_page(session, finding.timeline_statement(campaign),
                                         [LocalEvent.starts_at, LocalEvent.id], args)
            wanted = wanted_languages(args)
            return page_body([finding.timeline_item(e, wanted) for e in rows], next_url)


@blp.route("/<uuid:campaign_id>/statistics")
class Statistics(MethodView):
    @blp.response(200, schemas.StatisticsOut)
    def get(self, campaign_id):
        """Approved events and expected participants per country, activity type and organisation
        (the public's figures leave out what it may not see)."""
        principal = current_principal()
        with kernel().db.transaction() as session:
            campaign = use.get_campaign(session, str(campaign_id), principal)
            return finding.statistics(session, campaign, everything=bool(principal and principal.is_coordinator))
