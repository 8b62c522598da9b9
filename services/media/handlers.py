"""Messages the media service consumes: copies of the campaigns, organisations and approved
events uploads attach to, of the people counted at each event's door (turnout) and of the
countries on hold (`models`), revoked tokens, and its own
`media.uploaded`, which wakes the processing worker (a dependency app.py provides)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.media.models import (
    CAMPAIGNS,
    CHECK_INS,
    COUNTRY_HOLDS,
    EVENTS,
    ORGANISATIONS,
    metadata,
    public_revisions,
)
from shared.bus.consumer import Message
from shared.bus.handlers import Handlers
from shared.revisions import EVERY_CAMPAIGN, bump
from shared.revocations import revocations

handles = Handlers(revocations(metadata), COUNTRY_HOLDS, ORGANISATIONS, CAMPAIGNS, EVENTS, CHECK_INS)

# The copies are Core writes the ORM does not see (shared.revisions): each handler below moves
# the revisions of the campaigns whose public outputs (reports, overview) its copy changes.


@handles("country.held", "country.released")
def hold_changed(session: Session, _message: Message) -> None:
    bump(session.connection(), public_revisions, EVERY_CAMPAIGN)  # every campaign's public reports


@handles("campaign.created", "campaign.updated", "campaign.rescheduled")
def campaign_changed(session: Session, message: Message) -> None:
    bump(session.connection(), public_revisions, {message.data["id"]})  # its name and state


@handles("event.approved", "event.updated", "event.rejected", "event.cancelled", "event.participation_changed")
def event_changed(session: Session, message: Message) -> None:
    # Its visibility and end decide which reports and files are public; its door count, the turnout.
    bump(session.connection(), public_revisions, {message.data["campaign_id"]})


@handles("media.uploaded")
def media_uploaded(_session: Session, _message: Message, wake_processor) -> None:
    wake_processor()  # the item is in the database already; the worker picks it up
