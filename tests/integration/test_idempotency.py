"""`Idempotency-Key` on POST (issue 16): a client that sends again after a reset gets the first
answer, not a second event; another request under the same key is refused; each caller's keys
are their own; an answer that shows a secret is never written down. SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, insert, select, update

from services.events.models import LocalEvent
from shared.db import utcnow
from tests.integration.test_local_events_api import CAMPAIGNS, event

KEY = "Idempotency-Key"


def submit(api, setting, key: str, token=None, **overrides):
    return api.post(f"{CAMPAIGNS}/{setting['campaign']['id']}/events", token=token or setting["tokens"][0],
                    json=event(**overrides), headers={KEY: key})


def events_made(api) -> int:
    with api.platform.kernels["events"].db.transaction() as s:
        return s.execute(select(func.count()).select_from(LocalEvent)).scalar_one()


def test_a_post_sent_again_with_its_key_gets_the_first_answer_and_makes_nothing_more(api, setting):
    key = str(uuid.uuid4())
    first = submit(api, setting, key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = submit(api, setting, key)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert events_made(api) == 1

    other = submit(api, setting, key, city="Mombasa")  # the same key, another request
    assert other.status_code == 422 and other.json["type"].endswith("idempotency-key-reused")
    assert events_made(api) == 1
    theirs = submit(api, setting, key, token=setting["tokens"][1])  # another caller's keys are its own
    assert theirs.status_code == 201 and theirs.json["id"] != first.json["id"]
    bad = submit(api, setting, "x" * 256)
    assert bad.status_code == 400 and bad.json["type"].endswith("idempotency-key-invalid")
    assert submit(api, setting, "with space").status_code == 400
    assert events_made(api) == 2


def test_a_key_being_answered_is_409_until_its_process_is_known_dead(api, setting):
    key = "retry-after-reset"
    kernel = api.platform.kernels["events"]
    table = kernel.tables["idempotency"]
    organisation = setting["orgs"][0]["id"]
    with kernel.db.transaction() as s:  # a first request still running (or its process died)
        s.execute(insert(table).values(scope=f"organisation:{organisation}", key=key, fingerprint="?",
                                       status=None, created_at=utcnow()))
    busy = submit(api, setting, key)
    assert busy.status_code == 422  # another request (its fingerprint differs) under a key in use
    with kernel.db.transaction() as s:
        s.execute(update(table).values(fingerprint=_fingerprint_of(api, setting, key)))
    busy = submit(api, setting, key)
    assert busy.status_code == 409 and busy.json["type"].endswith("idempotency-key-in-use")
    with kernel.db.transaction() as s:  # a minute on: the process that claimed it is gone
        s.execute(update(table).values(created_at=utcnow() - timedelta(minutes=2)))
    taken_over = submit(api, setting, key)
    assert taken_over.status_code == 201 and events_made(api) == 1, taken_over.json


def _fingerprint_of(api, setting, key) -> str:
    """The fingerprint the service keeps for this request: made by sending it under a fresh key."""
    fresh = f"{key}-probe"
    submit(api, setting, fresh)
    table = api.platform.kernels["events"].tables["idempotency"]
    with api.platform.kernels["events"].db.transaction() as s:
        found = s.execute(select(table.c.fingerprint).where(table.c.key == fresh)).scalar_one()
        s.execute(LocalEvent.__table__.delete())
    return found


def test_an_answer_that_shows_a_secret_is_never_kept(api, coordinator, setting):
    """A new API key is shown once: the answer holding it is never written down, so a POST sent
    again runs again (another key, which the coordinator can revoke) rather than replay it."""
    keys = f"/api/registry/organisations/{setting['orgs'][0]['id']}/keys"
    first = api.post(keys, token=coordinator, json={}, headers={KEY: "key-1"})
    assert first.status_code == 201 and first.json["key"]
    table = api.platform.kernels["registry"].tables["idempotency"]
    with api.platform.kernels["registry"].db.transaction() as s:
        assert s.execute(select(func.count()).select_from(table)).scalar_one() == 0  # nothing written down
    again = api.post(keys, token=coordinator, json={}, headers={KEY: "key-1"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.json["key"] != first.json["key"]
