"""Schema migrations: they build exactly what the models say, on SQLite and PostgreSQL,
and several processes may start (and migrate) at once."""
from __future__ import annotations

import threading
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Text, create_engine, inspect, select, text

from services.media.models import Report
from services.platform import SPECS
from shared.config import SERVICES
from shared.country_holds import add_country_holds_table
from shared.db import Database
from shared.migrations import alembic_config, create_tables, is_current, upgrade
from tests.conftest import PG_ADMIN_URL, need


@pytest.fixture(params=["sqlite", "postgres"])
def urls(request, tmp_path):
    """Empty databases, one per service, that every migration runs on from the start."""
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path}/{name}.db" for name in SERVICES}
        return
    need("postgres")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    prefix = f"doa_migrate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        for name in SERVICES:
            conn.execute(text(f'CREATE DATABASE "{prefix}_{name}"'))
    yield {name: PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{prefix}_{name}" for name in SERVICES}
    with admin.connect() as conn:
        for name in SERVICES:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_what_the_models_declare(urls, service):
    db = Database(urls[service])
    spec = SPECS[service]
    upgrade(db, spec.migrations)
    upgrade(db, spec.migrations)  # a second run changes nothing
    assert is_current(db, spec.migrations)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), spec.metadata)
    db.dispose()
    assert diff == [], f"{service}: the models differ from the migrations; add a migration: {diff}"



def schema(db: Database) -> dict:
    """All that a migration can make: the tables with their columns, keys, constraints and
    indexes; the triggers; on PostgreSQL also the sequences and functions."""
    inspector = inspect(db.engine)
    found = {}
    for name in inspector.get_table_names():
        if name == "alembic_version":
            continue
        found[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in inspector.get_columns(name)],
            "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
            "foreign keys": sorted(repr(fk) for fk in inspector.get_foreign_keys(name)),
            "unique": sorted(repr(u) for u in inspector.get_unique_constraints(name)),
            "indexes": sorted(repr((ix["name"], ix["column_names"], bool(ix["unique"]),
                                    {key: str(value) for key, value in ix.get("dialect_options", {}).items()}))
                              for ix in inspector.get_indexes(name)),
        }
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            found["triggers"] = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        else:
            found["triggers"] = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).all()
            found["functions"] = conn.execute(text(
                "SELECT proname FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pronamespace "
                "WHERE nspname = 'public'")).all()
            found["sequences"] = sorted(inspector.get_sequence_names())
    return found


def downgrade(db: Database, migrations: str, revision: str) -> None:
    cfg = alembic_config(db, migrations)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


@pytest.mark.parametrize("service", SERVICES)
def test_every_downgrade_removes_what_its_upgrade_made(urls, service):
    """Each revision in turn: up, down (the schema as it was before, to the letter), up again."""
    db = Database(urls[service])
    migrations = SPECS[service].migrations
    script = ScriptDirectory.from_config(alembic_config(db, migrations))
    previous, before = "base", schema(db)
    for revision in reversed([r.revision for r in script.walk_revisions()]):
        upgrade(db, migrations, revision)
        after = schema(db)
        downgrade(db, migrations, previous)
        assert schema(db) == before, f"{service}: the downgrade of {revision} leaves the schema changed"
        upgrade(db, migrations, revision)
        assert schema(db) == after, f"{service}: {revision} builds something else the second time"
        previous, before = revision, after
    db.dispose()


def test_a_shared_table_that_changes_stops_the_migrations_that_build_it():
    """The migrations build the shared tables from their declarations in shared/: were one to
    change, an old migration would build something else than it did, so it refuses to run."""

    def changed_country_holds(metadata):
        add_country_holds_table(metadata).append_column(Column("reason", Text, nullable=True))

    with pytest.raises(RuntimeError, match="country_holds is not what the migrations"):
        create_tables(changed_country_holds)


def test_processes_starting_together_migrate_once(tmp_path):
    url = f"sqlite:///{tmp_path}/registry.db"
    errors = []

    def start():
        db = Database(url)
        try:
            upgrade(db, SPECS["registry"].migrations)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert is_current(Database(url), SPECS["registry"].migrations)


def test_statistics_tallies_start_from_the_events_already_approved(urls):
    """0002 adds the statistics' running tallies: a database holding events before it must
    come out with them counted, or an upgraded deployment would show empty statistics."""
    db = Database(urls["events"])
    upgrade(db, SPECS["events"].migrations, revision="0001")
    now = "2022-11-01 12:00:00.000000+00:00"
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO campaigns (id, name, description, languages, day_of_action, window_start, "
                          "window_end, activity_types, status, created_at, updated_at) VALUES ('c1', 'Day', '', "
                          "'[]', '2022-12-01', '2022-11-25', '2022-12-10', '[\"rally\"]', 'open', :now, :now)"),
                     {"now": now})
        for number, (status, people) in enumerate((("approved", 100), ("approved", None), ("submitted", 50))):
            conn.execute(text(
                "INSERT INTO local_events (id, campaign_id, organisation_id, title, description, languages, "
                "activity_type, city, country, timezone, starts_local, ends_local, starts_at, ends_at, "
                "expected_participants, visibility, address_public, status, search_text, outside_window, sequence, "
                "created_at, updated_at) VALUES (:id, 'c1', 'o1', '{}', '{}', '[]', 'rally', 'Nairobi', 'KE', "
                "'Africa/Nairobi', '2022-12-01T17:00:00', '2022-12-01T18:00:00', :now, :now, :people, 'public', "
                "'never', :status, '', false, 0, :now, :now)"),
                {"id": f"e{number}", "now": now, "people": people, "status": status})
    upgrade(db, SPECS["events"].migrations)
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT country, activity_type, organisation_id, visibility, events, "
                                 "expected_participants FROM event_tallies")).all()
    db.dispose()
    assert [tuple(r) for r in rows] == [("KE", "rally", "o1", "public", 2, 100)]


def test_reports_written_before_get_their_title_and_text_in_their_language(urls):
    """0004 makes a report's title and text per-language maps: a report sent before comes out
    with `{its language: its title}`, its files still attached, and a downgrade gives the
    strings back."""
    db = Database(urls["media"])
    migrations = SPECS["media"].migrations
    upgrade(db, migrations, revision="0003")
    now = "2022-11-01 12:00:00.000000+00:00"
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO known_campaigns (id, name, status, require_face_blur, as_of) "
                          "VALUES ('c1', 'Day', 'open', false, :now)"), {"now": now})
        conn.execute(text("INSERT INTO media_items (id, uploaded_by, campaign_id, kind, content_type, size, "
                          "original_sha256, consent, blur_faces, status, attempts, variants, created_at) VALUES "
                          "('m1', 'o1', 'c1', 'photo', 'image/jpeg', 1, 'abc', true, false, 'processed', 0, '{}', "
                          ":now)"), {"now": now})
        conn.execute(text("INSERT INTO reports (id, campaign_id, organisation_id, country, title, text, language, "
                          "status, created_at, updated_at) VALUES ('r1', 'c1', 'o1', 'IR', 'راهپیمایی', "
                          "'Thousands \"marched\".', 'fa', 'submitted', :now, :now)"), {"now": now})
        conn.execute(text("INSERT INTO report_media (report_id, media_id, position) VALUES ('r1', 'm1', 0)"))
    upgrade(db, migrations)
    with db.engine.connect() as conn:
        row = conn.execute(select(Report.title, Report.text, Report.language)).one()
        attached = conn.execute(text("SELECT media_id FROM report_media WHERE report_id = 'r1'")).scalars().all()
    assert tuple(row) == ({"fa": "راهپیمایی"}, {"fa": 'Thousands "marched".'}, "fa") and attached == ["m1"]
    downgrade(db, migrations, "0003")
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT title, text FROM reports")).one()
    db.dispose()
    assert tuple(row) == ("راهپیمایی", 'Thousands "marched".')
