"""An operator reads the dead-letter queue and replays what was parked, once fixed."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from services.events.models import KnownOrganisation
from shared.bus.dead_letters import list_parked, replay
from tests.conftest import wait_until
from tests.integration.conftest import BUS_URLS


@pytest.mark.parametrize("bus", ["redis", "amqp"])
def test_parked_messages_are_listed_with_their_reason_and_replayed_after_the_fix(bus, make_platform, exchange_name):
    platform = make_platform(bus=bus, BUS_MAX_ATTEMPTS=2)
    events = platform.kernels["events"]
    working = events.handlers["organisation.registered"]
    broken = {"on": True}

    def sometimes_broken(session, message):
        if broken["on"]:
            raise ValueError("the copy table is locked for maintenance")
        working(session, message)

    events.handlers["organisation.registered"] = sometimes_broken
    platform.start_workers()
    registry = platform.kernels["registry"]
    ids, organisation_ids = [], [str(uuid.uuid4()), str(uuid.uuid4())]
    for i in range(2):
        with registry.db.transaction() as session:
            ids.append(registry.outbox.add(session, "organisation.registered", {
                "id": organisation_ids[i], "abbreviation": f"O{i}", "name": "N", "name_en": "N", "country": "DE",
                "timezone": "Europe/Berlin", "languages": [], "website": None, "status": "active"})["id"])
    url = BUS_URLS[bus]
    parked = wait_until(lambda: len(list_parked(url, exchange_name)) == 2 and list_parked(url, exchange_name), 20,
                        message="two parked messages")
    assert {p.id for p in parked} == set(ids)
    assert all(p.service == "events" and "locked for maintenance" in p.headers["x-dead-reason"] for p in parked)

    broken["on"] = False
    assert [p.id for p in replay(url, exchange_name, {ids[0]})] == [ids[0]]

    def copied():
        with events.db.transaction() as s:
            return s.execute(select(KnownOrganisation.id)).scalars().all()

    wait_until(lambda: copied() == [organisation_ids[0]], 10, message="the replayed message to be handled")
    assert [p.id for p in list_parked(url, exchange_name)] == [ids[1]]
