"""The audit log: every decision of every service reaches the registry's one chained record,
a coordinator reads and exports it, and `verify` finds an entry changed or removed after the
fact — on SQLite and on PostgreSQL, where the table also refuses changes outright."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from services.cli import main
from services.registry.audit import verify
from tests.conftest import wait_until
from tests.integration.test_local_events_api import submit

AUDIT = "/api/registry/audit"


def entries(api, coordinator, **query) -> list[dict]:
    response = api.get(AUDIT, token=coordinator, query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def actions(api, coordinator) -> list[str]:
    return [e["action"] for e in entries(api, coordinator, limit=200)]


def registry_db(api):
    return api.platform.kernels["registry"].db


def test_decisions_of_every_service_are_on_record_with_who_why_and_what_changed(api, coordinator, setting):
    org = setting["orgs"][0]
    event_id = submit(api, setting).json["id"]
    assert api.post(f"/api/events/events/{event_id}/rejection", token=coordinator,
                    json={"reason": "The venue is wrong."}).status_code == 200
    assert api.put(f"/api/registry/organisations/{org['id']}/suspension", token=coordinator,
                   json={"reason": "A phished key"}).status_code == 200
    wanted = {"organisation.registered", "campaign.created", "key.issued", "event.rejected",
              "organisation.suspended"}
    wait_until(lambda: wanted <= set(actions(api, coordinator)), message="the decisions to reach the audit log")

    rejected = entries(api, coordinator, action="event.rejected")[0]
    me = api.get("/api/registry/me", token=coordinator).json
    assert rejected["actor_role"] == "coordinator" and rejected["actor_id"] == me["subject_id"]
    assert rejected["service"] == "events" and rejected["subject_id"] == event_id
    assert rejected["reason"] == "The venue is wrong."
    assert rejected["before"] == {"status": "submitted"} and rejected["after"] == {"status": "rejected"}
    suspended = entries(api, coordinator, subject_id=org["id"], action="organisation.suspended")
    assert [e["reason"] for e in suspended] == ["A phished key"]
    # A filter by the first part of an action, newest first; no contact address anywhere.
    registered = entries(api, coordinator, action="organisation")
    assert registered and all(e["action"].startswith("organisation.") for e in registered)
    assert "@" not in json.dumps(entries(api, coordinator, limit=200))


def test_only_coordinators_read_the_log_and_bad_filters_are_named(api, coordinator, setting):
    assert api.get(AUDIT).status_code == 401
    assert api.get(AUDIT, token=setting["tokens"][0]).status_code == 403
    response = api.get(AUDIT, token=coordinator, query_string={"since": "yesterday"})
    assert response.status_code in (400, 422) and "since" in json.dumps(response.json)


def test_the_export_is_the_whole_chain_oldest_first(api, coordinator, setting):
    wait_until(lambda: len(actions(api, coordinator)) >= 4, message="entries")
    response = api.get(f"{AUDIT}/export", token=coordinator)
    assert response.status_code == 200 and response.mimetype == "application/jsonl"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    as_csv = api.get(f"{AUDIT}/export", token=coordinator, query_string={"format": "csv"})
    assert as_csv.mimetype == "text/csv" and as_csv.get_data(as_text=True).startswith("seq,occurred_at")


def test_verify_finds_an_edited_entry_and_a_removed_one(api, coordinator, setting, monkeypatch):
    wait_until(lambda: len(actions(api, coordinator)) >= 5, message="entries")
    db = registry_db(api)
    with db.transaction() as session:
        assert verify(session).intact
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.begin() as conn:
        if postgres:  # the table refuses it; only its owner, dropping the guard, gets through
            with pytest.raises(Exception, match="never changed"):
                with conn.begin_nested():
                    conn.execute(text("UPDATE audit_entries SET reason = 'nothing' WHERE seq = 2"))
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        conn.execute(text("UPDATE audit_entries SET actor_id = 'someone-else' WHERE seq = 2"))
        conn.execute(text("UPDATE audit_entries SET recorded_at = occurred_at WHERE seq = 3"))  # reordered
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 4"))
    with db.transaction() as session:
        verdict = verify(session)
    assert not verdict.intact
    assert any("entry 2 was changed" in p for p in verdict.problems)
    assert any("entry 3 was changed" in p for p in verdict.problems)
    assert any("entries 4–4 are missing" in p for p in verdict.problems)

    # The operator's command says the same and fails.
    for name, url in {"REGISTRY_DATABASE_URL": str(db.engine.url.render_as_string(hide_password=False))}.items():
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("DOA_VAR_DIR", str(api.platform.config.DOA_VAR_DIR))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert "entry 2 was changed" in result.stderr and "does NOT hold" in result.stderr


def test_removing_the_newest_entry_shows_at_the_head(api, coordinator, setting):
    # Every entry the setting makes (3 registrations, the campaign, 2 keys): none arrives after the removal.
    wait_until(lambda: len(actions(api, coordinator)) >= 6, message="entries")
    db = registry_db(api)
    with db.engine.begin() as conn:
        newest = conn.execute(text("SELECT max(seq) FROM audit_entries")).scalar()
        conn.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": newest})
    with db.transaction() as session:
        verdict = verify(session)
    assert any("removed from the end" in p for p in verdict.problems)


def test_a_coordinator_reads_the_record_on_the_dashboard_and_an_organisation_cannot(api, coordinator, setting):
    from tests.integration.test_web_account import office_browser, sign_in
    from tests.integration.test_web_dashboard import text_of

    event_id = submit(api, setting).json["id"]
    api.post(f"/api/events/events/{event_id}/rejection", token=coordinator, json={"reason": "Wrong <b>venue</b>"})
    wait_until(lambda: "event.rejected" in actions(api, coordinator), message="the rejection on record")
    office = office_browser(api)
    page = office.get("/me/record")
    seen = text_of(page.data.decode())
    assert page.status_code == 200 and "Every decision, on record" in seen
    assert "event.rejected" in seen and "Wrong <b>venue</b>" in seen  # the reason shown as text
    assert "status : submitted → rejected" in seen and "Test office (coordinator)" in seen
    assert "languages : en, de, tr" in seen  # a list as words, not as Python writes it
    assert '<a href="/me/record" aria-current="page">' in page.data.decode()
    only = text_of(office.get("/me/record?action=event.rejected").data.decode())
    assert "event.rejected" in only and "campaign.created" not in only
    assert "No decision on record matches." in text_of(office.get("/me/record?action=nothing.like.this").data.decode())
    exported = office.get("/me/record/export.csv?action=event")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "event.rejected" in exported.get_data(as_text=True)

    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    organisation = type(api)(api.platform)
    sign_in(organisation, org_key)
    assert organisation.get("/me/record").status_code == 403


def test_a_rename_by_csv_import_is_on_record_with_what_it_was(api, coordinator):
    api.platform.start_workers()
    org = api.register(coordinator)  # CPK of Kenya, as the fixtures register it
    csv_text = ("abbreviation,name,name_en,country,timezone\n"
                "CPK,Kenya Communist Party,Kenya Communist Party,KE,Africa/Nairobi\n")
    imported = api.post("/api/registry/organisations/import", token=coordinator, data=csv_text.encode(),
                        headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.json["updated"] == 1, imported.json
    wait_until(lambda: "organisation.renamed" in actions(api, coordinator), message="the rename on record")
    [renamed] = entries(api, coordinator, action="organisation.renamed", subject_id=org["id"])
    assert renamed["actor_role"] == "coordinator"
    assert renamed["before"]["name"] == org["name"] and renamed["after"]["name"] == "Kenya Communist Party"
