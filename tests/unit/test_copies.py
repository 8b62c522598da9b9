"""A copy's derived handlers, run without a broker (shared.bus.testing) on an in-memory SQLite
database holding only the copy's table: newer wins, the same message twice changes nothing."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.events.models import ORGANISATIONS, KnownOrganisation
from services.media.models import EVENTS as MEDIA_EVENTS
from services.notify.models import CAMPAIGNS as NOTIFY_CAMPAIGNS
from shared.bus.handlers import Handlers
from shared.bus.testing import deliver, message
from shared.copies import NotKnownYet

T0 = datetime(2026, 11, 27, 6, 0, tzinfo=timezone.utc)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    for copy in (ORGANISATIONS, MEDIA_EVENTS, NOTIFY_CAMPAIGNS):
        copy.table.create(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def organisation(**changes) -> dict:
    return {"id": ORG_ID, "abbreviation": "CPK", "name": "Communist Party of Kenya", "name_en": "Communist Party of Kenya",
            "country": "KE", "timezone": "Africa/Nairobi", "languages": ["sw"], "website": None, "status": "active",
            **changes}


ORG_ID = str(uuid.uuid4())
handles = Handlers(ORGANISATIONS)


def test_a_late_older_message_changes_nothing_and_a_newer_one_wins(session):
    deliver(handles, session, message("organisation.registered", organisation(), at(10)))
    deliver(handles, session, message("organisation.updated", organisation(name="Old name", changed=["name"]), at(5)))
    assert session.get(KnownOrganisation, ORG_ID).name == "Communist Party of Kenya"
    deliver(handles, session, message("organisation.updated", organisation(name="New name", changed=["name"]), at(20)))
    copy = session.get(KnownOrganisation, ORG_ID, populate_existing=True)
    assert (copy.name, copy.as_of) == ("New name", at(20))


def test_the_same_message_twice_has_its_effect_once(session):
    registered = message("organisation.registered", organisation(), at(10))
    deliver(handles, session, registered)
    deliver(handles, session, registered)
    assert session.query(KnownOrganisation).count() == 1


def test_a_status_message_sets_only_the_status_and_waits_for_the_registration(session):
    suspended = message("organisation.suspended", {"id": ORG_ID, "reason": "x"}, at(20))
    with pytest.raises(NotKnownYet):  # the consumer retries it later
        deliver(handles, session, suspended)
    deliver(handles, session, message("organisation.registered", organisation(), at(10)))
    deliver(handles, session, suspended)
    deliver(handles, session, message("organisation.reinstated", {"id": ORG_ID}, at(15)))  # older: nothing
    copy = session.get(KnownOrganisation, ORG_ID, populate_existing=True)
    assert (copy.status, copy.name, copy.as_of) == ("suspended", "Communist Party of Kenya", at(20))


def test_a_feed_that_only_updates_skips_a_row_it_does_not_have(session):
    event = {"id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()), "organisation_id": ORG_ID,
             "title": {"en": "Rally"}, "languages": ["en"], "activity_type": "rally", "city": "Nairobi",
             "country": "KE", "timezone": "Africa/Nairobi", "starts_local": "2026-12-01T17:00:00",
             "ends_local": "2026-12-01T18:00:00", "starts_at": at(0).isoformat(), "ends_at": at(3600).isoformat(),
             "status": "approved", "visibility": "public", "changed": ["title"]}
    deliver(MEDIA_EVENTS.handlers, session, message("event.updated", event, at(10)))  # never approved here
    assert session.execute(MEDIA_EVENTS.table.select()).all() == []
    deliver(MEDIA_EVENTS.handlers, session, message("event.approved", {k: v for k, v in event.items() if k != "changed"}, at(20)))
    deliver(MEDIA_EVENTS.handlers, session, message("event.cancelled", {**event, "status": "cancelled"}, at(30)))
    assert session.execute(MEDIA_EVENTS.table.select()).one().status == "cancelled"


def test_a_merged_column_keeps_when_a_campaign_first_closed(session):
    campaign = {"id": str(uuid.uuid4()), "name": "Day", "languages": ["en"], "day_of_action": "2026-12-01",
                "window_start": "2026-11-25", "window_end": "2026-12-10", "list_date": None,
                "activity_types": ["rally"], "status": "open"}

    def closed_at(status: str, when: datetime):
        deliver(NOTIFY_CAMPAIGNS.handlers, session, message("campaign.updated", {**campaign, "status": status,
                                                                                  "changed": ["status"]}, when))
        return session.execute(NOTIFY_CAMPAIGNS.table.select()).one().closed_at

    deliver(NOTIFY_CAMPAIGNS.handlers, session, message("campaign.created", campaign, at(0)))
    assert closed_at("closed", at(10)) == at(10)
    assert closed_at("closed", at(20)) == at(10)  # closed since the first time
    assert closed_at("open", at(5)) == at(10)  # older: nothing
    assert closed_at("open", at(30)) is None


def test_a_handler_gets_its_dependencies_by_name_from_the_bootstrap(session):
    from services.media.handlers import handles as media

    woken = []
    uploaded = message("media.uploaded", {"id": str(uuid.uuid4()), "campaign_id": str(uuid.uuid4()),
                                          "organisation_id": ORG_ID, "event_id": None, "kind": "photo",
                                          "content_type": "image/jpeg", "size": 1, "status": "received"})
    deliver(media, session, uploaded, wake_processor=lambda: woken.append(True))
    assert woken == [True]
    with pytest.raises(LookupError, match="wake_processor"):  # a bootstrap that forgot it fails at build
        media.map({})
