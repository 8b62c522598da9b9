"""Mode 1 for real: `make run` as a newcomer types it, then the registry over HTTP."""
from __future__ import annotations

import subprocess
import threading
import time

import pytest

from tests.e2e.conftest import ROOT, Http, base_env, find_key, free_port, stop_group, wait_http


def read_until_key(process: subprocess.Popen, timeout: float = 90) -> tuple[str, str]:
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = "".join(lines)
        key = find_key(output)
        if key and "running at" in output:
            return key, output
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{output}")
        time.sleep(0.1)
    pytest.fail(f"make run printed no key within {timeout}s:\n{''.join(lines)}")


def test_make_run_starts_everything_and_a_newcomer_can_act_at_once(tmp_path):
    port = free_port()
    process = subprocess.Popen(["make", "run"], cwd=ROOT, env=base_env(PORT=port, DOA_VAR_DIR=tmp_path / "var"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        key, output = read_until_key(process)
        base = f"http://127.0.0.1:{port}"
        assert f"{base}/api/registry/docs" in output
        wait_http(f"{base}/readyz", 30, process)
        http = Http(base)
        token = http.token(key)
        # The demo data is there on first start.
        demo = http.call("GET", "/api/registry/organisations?country=KE").json()["items"]
        assert [o["abbreviation"] for o in demo] == ["CPK"]
        campaigns = http.call("GET", "/api/events/campaigns").json()["items"]
        [campaign] = [c for c in campaigns if c["day_of_action"] == "2022-12-01"]
        [upcoming] = [c for c in campaigns if c is not campaign]  # and a day of action to come
        events = http.call("GET", f"/api/events/events?campaign_id={upcoming['id']}").json()["items"]
        assert len(events) == 5 and all(e["starts_at"] > time.strftime("%Y-%m-%d") for e in events)
        places = http.call("GET", f"/api/notify/events/{events[0]['id']}/participation").json()
        assert places["open"] is True  # a newcomer can say "I'll come" at once
        signatories = http.call("GET", f"/api/events/campaigns/{campaign['id']}/signatories").json()
        assert (len(signatories["initial"]), len(signatories["subsequent"])) == (28, 1)
        timeline = http.call("GET", f"/api/events/campaigns/{campaign['id']}/timeline?limit=200").json()["items"]
        assert timeline[0]["timezone"] == "Pacific/Kiritimati" and timeline[-1]["timezone"] == "America/Lima"
        created = http.call("POST", "/api/registry/organisations", token=token, json={
            "abbreviation": "TKP/ML", "name": "Türkiye Komünist Partisi/Marksist-Leninist",
            "name_en": "Communist Party of Turkey/Marxist-Leninist", "country": "TR",
            "timezone": "Europe/Istanbul", "languages": ["tr", "ku"]})
        assert created.status_code == 201, created.text
        assert http.call("GET", created.headers["Location"]).json()["name_en"].startswith("Communist Party of Turkey")
        bad = http.call("POST", "/api/registry/organisations", token=token, json={"country": "TR"})
        assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
        assert http.call("GET", "/api/events/me", token=token).json()["role"] == "coordinator"
        assert http.call("GET", "/api/media/openapi.json").status_code == 200
    finally:
        stop_group(process)
    # A second start keeps the data and makes no second first coordinator.
    again = subprocess.Popen(["make", "run"], cwd=ROOT, env=base_env(PORT=port, DOA_VAR_DIR=tmp_path / "var"),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/readyz", 60, again)
        assert Http(f"http://127.0.0.1:{port}").call("GET", "/api/registry/organisations?country=TR").json()["items"]
    finally:
        stop_group(again)
    assert find_key(again.stdout.read()) is None
