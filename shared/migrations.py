"""Alembic, driven from code: each service keeps its migrations in services/<name>/migrations.

`upgrade` takes a lock first, so several processes of one service (gunicorn workers, the bus
worker) can start together and only one of them migrates.
"""
from __future__ import annotations

import fcntl
import zlib
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text

from shared.db import Database


def alembic_config(db: Database, migrations: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", migrations)
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


@contextmanager
def _migration_lock(db: Database, name: str):
    if db.engine.dialect.name == "sqlite":
        path = Path(db.engine.url.database or "memory").with_suffix(".migrate.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                with db.engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        with db.engine.connect() as conn:
            key = zlib.crc32(name.encode())
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield conn
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def upgrade(db: Database, migrations: str, revision: str = "head") -> None:
    cfg = alembic_config(db, migrations)
    with _migration_lock(db, migrations) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def is_current(db: Database, migrations: str) -> bool:
    """True when the database is at the newest revision (readiness checks use it)."""
    heads = set(ScriptDirectory.from_config(alembic_config(db, migrations)).get_heads())
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(conn, metadata)
            conn.commit()
    else:
        _run(connection, metadata)


def _run(connection, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
