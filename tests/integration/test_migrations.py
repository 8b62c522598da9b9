"""Schema migrations: they build exactly what the models say, on SQLite and PostgreSQL,
and several processes may start (and migrate) at once."""
from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from services.platform import SPECS
from shared.config import SERVICES
from shared.db import Database
from shared.migrations import is_current, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def urls(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("pg_databases")
    return {name: f"sqlite:///{tmp_path}/{name}.db" for name in SERVICES}


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
