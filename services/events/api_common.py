"""What the events API modules share: the caller's languages, the organisation a request
acts for, the revisions public outputs are rendered at, and how an event is answered."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import request
from sqlalchemy.orm import object_session

from services.events import campaigns as use
from services.events import event_changes
from services.events import local_events as events
from services.events.models import public_revisions
from shared.db import utcnow
from shared.errors import Forbidden, Invalid, Malformed
from shared.fields import is_country
from shared.http.auth import current_principal, require_principal
from shared.kernel import current_kernel as kernel
from shared.languages import wanted_languages
from shared.revisions import overall_revision


@contextmanager
def in_campaign_for(campaign_id, organisation_id: str | None, location: str = "json") -> Iterator[tuple]:
    """(session, campaign, the organisation acted for) in one transaction: an organisation or
    coordinator acting in a campaign it may see (404 otherwise), for whom `acting_for` says."""
    principal = require_principal()
    acting = acting_for(principal, organisation_id, location)
    with kernel().db.transaction() as session:
        yield session, use.get_campaign(session, str(campaign_id), principal), acting


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



def public_campaign_revision(campaign_id: str) -> int:
    """Of a campaign the public may see (404 otherwise): one cheap query per request."""
    with kernel().db.engine.connect() as connection:
        return use.public_revision(connection, campaign_id)


def public_outputs_revision() -> int:
    """For the outputs that span campaigns (a country's, an organisation's)."""
    with kernel().db.engine.connect() as connection:
        return overall_revision(connection, public_revisions)



def event_response(event, status: int = 200, headers: dict | None = None):
    """The event as the caller may see it, for the route's LocalEventOut to dump."""
    principal = current_principal()
    body = events.present(event, principal, wanted_languages(request.args), utcnow())
    if events.may_see_everything(event, principal):
        session = object_session(event)
        session.flush()  # what the use case just changed, seen by the plain query
        body.update(event_changes.told_to_owner(session.connection(), [event.id])[event.id])
    return body, status, headers or {}


def known_country(code: str) -> str:
    """A route's country (two letters, upper case by its converter) if it is one, else 422."""
    if not is_country(code):
        raise Malformed(f"'{code}' is not an ISO 3166-1 alpha-2 country code.",
                      errors=[{"field": "country", "location": "path", "message": "Not a country code."}])
    return code
