"""Messages the events service consumes: it keeps a copy of every organisation
(`models.ORGANISATIONS`) and refuses the tokens of revoked keys and suspended organisations."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.events.models import ORGANISATIONS, metadata, public_revisions
from services.events.revisions import endorsed_by
from shared.bus.consumer import Message
from shared.bus.handlers import Handlers
from shared.revisions import bump
from shared.revocations import revocations

handles = Handlers(revocations(metadata), ORGANISATIONS)


@handles("organisation.registered", "organisation.updated")
def organisation_changed(session: Session, message: Message) -> None:
    # The copy is a Core write: the signatory lists that name the organisation change
    # without the ORM knowing.
    bump(session.connection(), public_revisions, endorsed_by(message.data["id"]))
