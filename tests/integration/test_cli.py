"""The `doa` command as an operator uses it."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from services.cli import main
from services.notify.models import EventPlaces, KnownEvent
from services.registry import app as registry_app
from services.registry.models import Organisation
from shared.config import Config
from shared.db import Database

HEADER = "number,abbreviation,name,name_en,country,timezone,languages,list\n"
GOOD = ("1,CPK,Communist Party of Kenya,Communist Party of Kenya,KE,Africa/Nairobi,sw en,initial\n"
        "2,БКП,Българска комунистическа партия,Bulgarian Communist Party,BG,Europe/Sofia,bg,initial\n")
BAD = "3,X,Name,Name,XX,Europe/Berlin,de,initial\n"


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("DOA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return CliRunner()


def registry(tmp_path):
    return registry_app.build(Config(environ={}, DOA_VAR_DIR=str(tmp_path / "var")))


def organisations(tmp_path) -> list[Organisation]:
    with registry(tmp_path).db.transaction() as s:
        return s.execute(select(Organisation).order_by(Organisation.created_at)).scalars().all()


def outbox_types(tmp_path) -> list[str]:
    kernel = registry(tmp_path)
    with kernel.db.transaction() as s:
        return [json.loads(b)["type"] for b in s.execute(select(kernel.tables["outbox"].c.body)).scalars()]


def test_a_file_with_a_bad_row_imports_nothing_and_names_line_and_field(runner, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(HEADER + GOOD + BAD)
    result = runner.invoke(main, ["registry", "import", str(path)])
    assert result.exit_code == 1
    assert "line 4, field country" in result.output and "nothing imported" in result.output
    assert organisations(tmp_path) == [] and outbox_types(tmp_path) == []


def test_skip_bad_imports_the_good_rows_and_a_rerun_changes_nothing(runner, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(HEADER + GOOD + BAD)
    first = runner.invoke(main, ["registry", "import", str(path), "--skip-bad"])
    assert first.exit_code == 0, first.output
    assert "created 2, updated 0, unchanged 0, skipped 1 bad row(s)" in first.output
    second = runner.invoke(main, ["registry", "import", str(path), "--skip-bad"])
    assert "created 0, updated 0, unchanged 2" in second.output
    assert [o.abbreviation for o in organisations(tmp_path)] == ["CPK", "БКП"]
    assert outbox_types(tmp_path) == ["organisation.registered"] * 2
    path.write_text(HEADER + GOOD.replace("sw en", "sw"))
    third = runner.invoke(main, ["registry", "import", str(path)])
    assert "created 0, updated 1, unchanged 1" in third.output
    assert outbox_types(tmp_path)[-1] == "organisation.updated"


def test_a_file_that_is_not_utf8_is_refused_clearly(runner, tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_bytes((HEADER + GOOD).encode("utf-16"))
    result = runner.invoke(main, ["registry", "import", str(path)])
    assert result.exit_code != 0 and "not UTF-8" in result.output


def test_demo_loads_the_29_signatories_the_2022_campaign_and_one_to_come_once(runner, tmp_path):
    first = runner.invoke(main, ["demo"])
    assert first.exit_code == 0, first.output
    assert "29 signatories, 20 approved events" in first.output
    day = date.today() + timedelta(days=28)
    assert f"the upcoming campaign on {day.isoformat()}: 5 approved events to sign up for" in first.output
    again = runner.invoke(main, ["demo"])
    assert again.exit_code == 0
    assert "2022 campaign is there already" in again.output and "upcoming demo campaign is there" in again.output
    orgs = organisations(tmp_path)
    assert len(orgs) == 29 and len({o.country for o in orgs}) >= 20
    assert outbox_types(tmp_path).count("organisation.registered") == 29
    # A newcomer can say "I'll come": notify knows the upcoming events, two of them with places.
    notify = Database(Config(environ={}, DOA_VAR_DIR=str(tmp_path / "var")).database_url("notify"))
    with notify.transaction() as s:
        upcoming = s.execute(select(KnownEvent).where(KnownEvent.starts_at > datetime.now(timezone.utc))).scalars()
        assert sorted(e.city for e in upcoming if e.status == "approved") == [
            "Berlin", "Bogotá", "Istanbul", "Nairobi", "Sydney"]
        assert sorted(s.execute(select(EventPlaces.capacity)).scalars()) == [30, 40]


def test_create_coordinator_prints_a_key_that_gets_a_token(runner, tmp_path):
    result = runner.invoke(main, ["admin", "create-coordinator", "Coalition office"])
    assert result.exit_code == 0
    key = result.output.strip().splitlines()[-1]
    app = registry_app.create_app(Config(environ={}, DOA_VAR_DIR=str(tmp_path / "var")))
    response = app.test_client().post("/api/registry/tokens", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.json["token_type"] == "Bearer"


def test_config_prints_every_setting(runner):
    output = runner.invoke(main, ["config"]).output
    assert "| `BUS_URL` | `memory://` |" in output and "REGISTRY_DATABASE_URL" in output
