"""What changes the public's outputs of a campaign here (its reports feed, its overview),
declared once: every ORM write of these models moves the revision of the campaigns it
changes, in the same flush (shared.revisions). The copy of the country holds is written
with Core: `handlers` moves every campaign's revision itself."""
from __future__ import annotations

from sqlalchemy import select

from services.media.models import (
    KnownCampaign,
    KnownEvent,
    Material,
    MediaItem,
    Report,
    ReportMedia,
    public_revisions,
)
from shared.revisions import track, value_before


def _media(item: MediaItem) -> set[str]:
    # Only a processed file is ever public: uploads waiting or being cleaned show nowhere.
    if "processed" not in (item.status, value_before(item, "status")):
        return set()
    return {item.campaign_id}


def _known_event(event: KnownEvent) -> set[str]:
    # Its visibility and end decide which reports and files are public.
    return {event.campaign_id, value_before(event, "campaign_id")}


track(public_revisions, {
    Report: lambda report: {report.campaign_id, value_before(report, "campaign_id")},
    ReportMedia: lambda link: select(Report.campaign_id).where(Report.id == link.report_id),
    MediaItem: _media,
    Material: lambda material: {material.campaign_id},
    KnownCampaign: lambda campaign: {campaign.id},  # name, status, the face-blur policy
    KnownEvent: _known_event,
})
