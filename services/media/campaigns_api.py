"""/api/media/campaigns/{id}/…: what the campaign website reads of a campaign (its reports'
Atom feed, turnout, the public page's overview) and the campaign's media policy."""
from __future__ import annotations

from flask import current_app, request

from services.media import atom, materials, reports, turnout
from services.media.models import KnownCampaign, Report
from services.media.presenting import material_out, public_campaign, public_revision
from services.media.reports_api import reports_page
from services.media.schemas import FeedQuery, MediaOverview, Policy, ReportLanguage, TurnoutOut
from shared.db import utcnow
from shared.errors import NotFound
from shared.http.rendered import rendered_response
from shared.http.routes import Blueprint, kernel, record, require_principal, requires
from shared.ids import refuse_unknown
from shared.languages import wanted_languages

OVERVIEW_REPORTS = 20
NOT_MODIFIED = "The rendering named in If-None-Match is current (outputs are rendered once per change)."
ETAG = {"ETag": {"description": "A strong tag of the rendering.", "schema": {"type": "string"}}}

campaigns_blp = Blueprint("media-campaigns", __name__, url_prefix="/campaigns",
                          description="Per campaign: the website's feeds, turnout and the media policy.")


@campaigns_blp.route("/<uuid:campaign_id>/reports.atom")
@campaigns_blp.arguments(FeedQuery(), location="query")
@campaigns_blp.response(200, description="An Atom feed of the published reports.", content_type="application/atom+xml",
                        headers=ETAG)
@campaigns_blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG)
def reports_feed(args, campaign_id):
    """The campaign's published reports as an Atom feed (`?country=` for one country), with
    the smaller copies of their public photos as enclosures. Rendered once per change: a
    strong ETag, and 304 to If-None-Match."""
    campaign_id, country, self_url = str(campaign_id), args["country"], request.url
    root = f"{request.host_url.rstrip('/')}{request.script_root}/api/media"
    return rendered_response(("atom", campaign_id, country, self_url), public_revision(campaign_id),
                             lambda: _feed(campaign_id, country, self_url, root), "application/atom+xml")


def _feed(campaign_id: str, country: str | None, self_url: str, root: str):
    now = utcnow()
    with kernel().db.transaction() as session:
        campaign = public_campaign(session, campaign_id)
        stmt = reports.list_statement({"campaign_id": campaign.id, "country": country}, None)
        rows = list(session.execute(stmt.order_by(Report.published_at.desc()).limit(100)).scalars())
        media = reports.attached_media(session, [r.id for r in rows], True, now)
        changes_at = reports.next_public_change(session, campaign.id, now)
    # Each report in its original language, as it was written.
    entries = [{"id": f"urn:uuid:{r.id}", "title": r.title[r.language], "text": r.text[r.language],
                "language": r.language,
                "country": r.country, "url": f"{root}/reports/{r.id}", "published": r.published_at,
                "updated": r.updated_at,
                "images": [{"url": f"{root}/media/{m.id}/variants/1280", **m.variants["1280"]}
                           for m in media[r.id] if m.kind == "photo" and "1280" in (m.variants or {})]}
               for r in rows]
    updated = max((r.updated_at for r in rows), default=campaign.as_of)
    title = f"{campaign.name}: reports" + (f" from {country}" if country else "")
    return atom.feed(f"urn:uuid:{campaign.id}:reports:{country or 'all'}", title, self_url, updated,
                     entries), changes_at


@campaigns_blp.route("/<uuid:campaign_id>/turnout")
@campaigns_blp.response(200, TurnoutOut)
def campaign_turnout(campaign_id):
    """Turnout from the published reports, per country."""
    with kernel().db.transaction() as session:
        campaign = public_campaign(session, campaign_id)
        countries = turnout.per_country(session, campaign.id)
    return {"campaign_id": campaign.id, "countries": countries, "total": sum(c["turnout"] for c in countries)}


@campaigns_blp.route("/<uuid:campaign_id>/overview")
@campaigns_blp.arguments(ReportLanguage, location="query")
@campaigns_blp.response(200, MediaOverview, headers=ETAG)
@campaigns_blp.alt_response(304, description=NOT_MODIFIED, headers=ETAG)
def campaign_overview(args, campaign_id):
    """A campaign's public page in one answer: newest reports, material package, turnout.

    The 20 newest published reports as the public's reports list gives them (with only the
    media the public may see), the current items of the material package and the turnout per
    country, so a page renders with one request to this service. Always the public's view: a
    token changes nothing. `?lang=` or Accept-Language picks the reports' language, as in the
    list. Rendered once per change: a strong ETag, and 304 to If-None-Match."""
    campaign_id, wanted = str(campaign_id), wanted_languages(args)
    # Its links start with the script root: part of what is asked.
    return rendered_response(("overview", campaign_id, request.script_root, wanted), public_revision(campaign_id),
                             lambda: _overview(campaign_id, wanted), "application/json", vary="Accept-Language")


def _overview(campaign_id: str, wanted: tuple[str, ...]):
    """The overview's bytes, as MediaOverview dumps it, and when time alone changes it."""
    with kernel().db.transaction() as session:
        campaign = public_campaign(session, campaign_id)
        newest, _ = reports_page(session, {"campaign_id": campaign.id, "limit": OVERVIEW_REPORTS}, None, wanted)
        current = session.execute(materials.current_statement(campaign.id, None)).scalars().all()
        body = MediaOverview().dump({"reports": newest, "materials": [material_out(m) for m in current],
                                     "turnout": turnout.per_country(session, campaign.id)})
        changes_at = reports.next_public_change(session, campaign.id, utcnow())
    return current_app.json.response(body).get_data(), changes_at


@campaigns_blp.route("/<uuid:campaign_id>/policy", methods=["PUT"])
@requires("coordinator")
@campaigns_blp.arguments(Policy)
@campaigns_blp.response(200, Policy)
def campaign_policy(args, campaign_id):
    """Set the campaign's media policy (coordinators): with `require_face_blur`, no photo
    whose faces were not blurred is public."""
    with kernel().db.transaction() as session:
        campaign = session.get(KnownCampaign, str(campaign_id))
        if campaign is None:
            refuse_unknown(str(campaign_id), NotFound("No campaign has this id."), "this campaign")
        before = campaign.require_face_blur
        campaign.require_face_blur = args["require_face_blur"]
        if before != campaign.require_face_blur:
            record(session, kernel().outbox, require_principal(), "campaign.media_policy_changed", "campaign",
                   campaign.id, before={"require_face_blur": before}, after={"require_face_blur": args["require_face_blur"]})
        return {"require_face_blur": campaign.require_face_blur}
