"""Campaigns and endorsements: the use cases. Each takes a session and commits nothing; the
caller's transaction holds the change and its outbox message together."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from services.events.models import Campaign, Endorsement, KnownOrganisation, LocalEvent, public_revisions
from services.events.rules import is_initial_signatory, schedule_problems
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.ids import refuse_unknown
from shared.revisions import status_and_revision

DATES = ("day_of_action", "window_start", "window_end")
PUBLISHED = ("name", "languages", "list_date", "activity_types", "status", "participation_keep_days")


def campaign_data(campaign: Campaign) -> dict:
    return {"id": campaign.id, **{f: getattr(campaign, f) for f in DATES + PUBLISHED}}


def _check_dates(values: dict) -> None:
    problems = schedule_problems(values["day_of_action"], values["window_start"], values["window_end"],
                                 values.get("list_date"))
    if problems:
        raise Invalid(f"The campaign's dates do not fit together: {', '.join(problems)}.",
                      errors=[{"field": f, "location": "json", "message": m} for f, m in problems.items()])


def create_campaign(session: Session, outbox: Outbox, fields: dict) -> Campaign:
    _check_dates(fields)
    campaign = Campaign(**fields)
    session.add(campaign)
    session.flush()
    outbox.add(session, "campaign.created", campaign_data(campaign))
    return campaign


def get_campaign(session: Session, campaign_id: str, principal: Principal | None) -> Campaign:
    """Drafts are the coordinators' own: to anyone else they do not exist."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or (campaign.status == "draft" and not (principal and principal.is_coordinator)):
        raise _no_campaign(campaign_id)
    return campaign


def public_revision(connection: Connection, campaign_id: str) -> int:
    """The revision of what the public sees of the campaign (shared.revisions), in one query
    that also checks the public may see it at all (as `get_campaign` does)."""
    row = status_and_revision(connection, public_revisions, Campaign, campaign_id)
    if row is None or row[0] == "draft":
        raise _no_campaign(campaign_id)
    return row[1]


def _no_campaign(campaign_id: str) -> NotFound:
    return NotFound(f"No campaign has the id {campaign_id}.")


def update_campaign(session: Session, outbox: Outbox, campaign: Campaign, fields: dict) -> list[str]:
    merged = {f: fields.get(f, getattr(campaign, f)) for f in DATES + ("list_date",)}
    _check_dates(merged)
    changed = [name for name, value in fields.items() if getattr(campaign, name) != value]
    if not changed:
        return []
    previous = {f"previous_{f}": getattr(campaign, f) for f in DATES}
    for name in changed:
        setattr(campaign, name, fields[name])
    campaign.updated_at = utcnow()
    if any(name in DATES for name in changed):
        outside = flag_events_outside_window(session, campaign)
        outbox.add(session, "campaign.rescheduled", {**campaign_data(campaign), **previous,
                                                      "events_outside_window": outside})
    if any(name not in DATES for name in changed):
        outbox.add(session, "campaign.updated", {**campaign_data(campaign),
                                                 "changed": [n for n in changed if n not in DATES]})
    return changed


def flag_events_outside_window(session: Session, campaign: Campaign) -> list[dict]:
    """Flag (never delete) the campaign's live events whose local date left the window, unflag
    those back inside; answer the flagged ones, so their organisations can be told."""
    outside = []
    live = session.execute(select(LocalEvent).where(
        LocalEvent.campaign_id == campaign.id, LocalEvent.status.in_(("submitted", "approved")))).scalars()
    for event in live:
        local_day = date.fromisoformat(event.starts_local[:10])
        event.outside_window = not campaign.window_start <= local_day <= campaign.window_end
        if event.outside_window:
            outside.append({"id": event.id, "organisation_id": event.organisation_id, "start": event.starts_local,
                            "timezone": event.timezone})
    return outside


def endorsement_count(session: Session, campaign_id: str) -> int:
    return session.execute(select(func.count()).select_from(Endorsement).where(
        Endorsement.campaign_id == campaign_id, Endorsement.withdrawn_at.is_(None))).scalar_one()


def check_participant(session: Session, campaign: Campaign, organisation_id: str, action: str) -> None:
    """May this organisation take part in this campaign now (endorse it, submit events)?"""
    if campaign.status != "open":
        raise Conflict(f"The campaign is {campaign.status}; only an open campaign takes {action}.",
                       campaign_status=campaign.status)
    organisation = session.get(KnownOrganisation, organisation_id)
    if organisation is None:
        refuse_unknown(organisation_id, NotFound(f"No organisation {organisation_id} is known here."),
                       "this organisation")
    if organisation.status != "active":
        raise Forbidden(f"A suspended organisation cannot take part: no {action}.")


def endorse(session: Session, outbox: Outbox, campaign: Campaign, organisation_id: str) -> tuple[Endorsement, int]:
    """Answer the endorsement and its number in the signatory list."""
    check_participant(session, campaign, organisation_id, "endorsements")
    endorsement = session.execute(select(Endorsement).where(
        Endorsement.campaign_id == campaign.id, Endorsement.organisation_id == organisation_id)).scalar()
    if endorsement is not None and endorsement.withdrawn_at is None:
        raise Conflict("This organisation already endorses the campaign.")
    if endorsement is None:
        endorsement = Endorsement(campaign_id=campaign.id, organisation_id=organisation_id)
        session.add(endorsement)
    else:  # endorsing again after a withdrawal: it joins the end of the list
        endorsement.withdrawn_at, endorsement.endorsed_at = None, utcnow()
    session.flush()
    number = _number_of(session, endorsement)
    outbox.add(session, "endorsement.added", {"campaign_id": campaign.id, "organisation_id": organisation_id,
                                              "number": number})
    total = endorsement_count(session, campaign.id)
    if campaign.adoption_threshold and campaign.adopted_at is None and total >= campaign.adoption_threshold:
        campaign.adopted_at = utcnow()
        outbox.add(session, "campaign.adopted", {"id": campaign.id, "endorsements": total,
                                                 "threshold": campaign.adoption_threshold})
    return endorsement, number


def _number_of(session: Session, endorsement: Endorsement) -> int:
    """Its number on the signatory list: endorsements stand in the order they were made."""
    return session.execute(select(func.count()).select_from(Endorsement).where(
        Endorsement.campaign_id == endorsement.campaign_id, Endorsement.withdrawn_at.is_(None),
        tuple_(Endorsement.endorsed_at, Endorsement.id) <= tuple_(endorsement.endorsed_at, endorsement.id),
    )).scalar_one()


def endorsement_of(session: Session, campaign: Campaign, organisation_id: str) -> tuple[Endorsement, int]:
    """The organisation's endorsement in force and its number, or 404."""
    endorsement = session.execute(select(Endorsement).where(
        Endorsement.campaign_id == campaign.id, Endorsement.organisation_id == organisation_id,
        Endorsement.withdrawn_at.is_(None))).scalar()
    if endorsement is None:
        raise NotFound("This organisation does not endorse the campaign.")
    return endorsement, _number_of(session, endorsement)


def withdraw(session: Session, outbox: Outbox, campaign: Campaign, organisation_id: str) -> None:
    endorsement = session.execute(select(Endorsement).where(
        Endorsement.campaign_id == campaign.id, Endorsement.organisation_id == organisation_id,
        Endorsement.withdrawn_at.is_(None))).scalar()
    if endorsement is None:
        raise NotFound("This organisation does not endorse the campaign.")
    endorsement.withdrawn_at = utcnow()
    outbox.add(session, "endorsement.withdrawn", {"campaign_id": campaign.id,
                                                  "organisation_id": organisation_id, "number": None})


def signatories(session: Session, campaign: Campaign) -> dict:
    """The signatory list as a resolution prints it: numbered in endorsement order, split
    into initial and subsequent signatories by the list date."""
    rows = session.execute(
        select(Endorsement, KnownOrganisation)
        .join(KnownOrganisation, KnownOrganisation.id == Endorsement.organisation_id)
        .where(Endorsement.campaign_id == campaign.id, Endorsement.withdrawn_at.is_(None))
        .order_by(Endorsement.endorsed_at, Endorsement.id)).all()
    listed = {"initial": [], "subsequent": []}
    for number, (endorsement, org) in enumerate(rows, start=1):
        part = "initial" if is_initial_signatory(endorsement.endorsed_at, campaign.list_date) else "subsequent"
        listed[part].append({"number": number, "organisation_id": org.id, "abbreviation": org.abbreviation,
                             "name": org.name, "name_en": org.name_en, "country": org.country,
                             "endorsed_at": endorsement.endorsed_at})
    return {"campaign_id": campaign.id, "list_date": campaign.list_date, **listed}
