"""What changes the public's outputs of a campaign (its calendar feeds, the map, its overview),
declared once: every ORM write of these models moves the revision of the campaigns it
changes, in the same flush (shared.revisions). Core writes call `bump` themselves (the copy
of an organisation in `handlers`, bulk loads)."""
from __future__ import annotations

from sqlalchemy import select

from services.events.models import Campaign, CountryHold, Endorsement, KnownOrganisation, LocalEvent, public_revisions
from shared.revisions import EVERY_CAMPAIGN, track, value_before


def _event(event: LocalEvent) -> set[str]:
    # Only an event once approved is ever public (`public_condition`): the others show nowhere.
    if event.approved_at is None and value_before(event, "approved_at") is None:
        return set()
    return {event.campaign_id, value_before(event, "campaign_id")}


def endorsed_by(organisation_id: str):
    """The campaigns whose signatories show this organisation (its name, its abbreviation)."""
    return select(Endorsement.campaign_id).where(Endorsement.organisation_id == organisation_id)


track(public_revisions, {
    LocalEvent: _event,
    Campaign: lambda campaign: {campaign.id},  # name, dates, status (a draft shows nothing)
    Endorsement: lambda endorsement: {endorsement.campaign_id},
    CountryHold: lambda _hold: EVERY_CAMPAIGN,
    KnownOrganisation: lambda organisation: endorsed_by(organisation.id),
})
