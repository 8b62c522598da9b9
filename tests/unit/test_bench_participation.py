"""The participation benchmark's own parts (bench/participation.py): its seeding makes an event
the notify API takes sign-ups for, the bare baseline does the same counting, and the checks
after a run pass on both and refuse an oversold event."""
from __future__ import annotations

import sqlite3
import uuid

import pytest

from bench import participation
from bench.participation_baseline_app import create_app as baseline_app
from services.notify.app import create_app
from shared.config import Config


def _sign_ups(client, event_id: str, count: int) -> list[dict]:
    answers = [client.post(f"/api/notify/events/{event_id}/participants", json=participation.PARTY)
               for _ in range(count)]
    assert [a.status_code for a in answers] == [201] * count, answers[-1].get_json()
    return [a.get_json() for a in answers]


def test_the_seeded_event_takes_sign_ups_then_waits_and_the_checks_hold(tmp_path):
    event_id = str(uuid.uuid4())
    for side in ("app", "baseline"):
        participation.seed(tmp_path / side, event_id, capacity=2)
    app = create_app(Config(environ={"DOA_VAR_DIR": str(tmp_path / "app"), "BUS_URL": "memory://",
                                     "LOG_LEVEL": "WARNING", "PARTICIPATE_RATE_LIMIT": "1000000/minute"}),
                     jwks=lambda: {"keys": []})
    made = _sign_ups(app.test_client(), event_id, 3)
    assert [m["status"] for m in made] == ["coming", "coming", "waiting"] and made[2]["position"] == 1
    base = _sign_ups(baseline_app(str(tmp_path / "baseline" / "notify.db")).test_client(), event_id, 3)
    assert [m["status"] for m in base] == ["coming", "coming", "waiting"]
    for side in ("app", "baseline"):
        found = participation.check(tmp_path / side / "notify.db", event_id, 2, 3, side)
        assert found == {"coming": 2, "waiting": 1, "oversold": 0}

    with sqlite3.connect(tmp_path / "baseline" / "notify.db") as conn:
        conn.execute("UPDATE participations SET status = 'coming' WHERE status = 'waiting'")
        conn.execute("UPDATE event_places SET coming = 3, waiting = 0")
    with pytest.raises(RuntimeError, match=r"coming 3 != capacity 2 \(\+1\)"):
        participation.check(tmp_path / "baseline" / "notify.db", event_id, 2, 3, "baseline")
