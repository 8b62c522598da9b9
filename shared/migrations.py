"""Alembic, driven from code: each service keeps its migrations in services/<name>/migrations.

Running them: `upgrade` takes a lock first, so several processes of one service (gunicorn
workers, the bus worker) can start together and only one of them migrates.

Writing them: a migration is history; it must build tomorrow exactly what it builds today,
whatever the models become. What the migrations have in common is said once, here:

- A table that several services share (the kernel's bus_outbox, bus_inbox and
  access_revocations; country_holds; public_revisions) is declared once, in shared/, by a
  function that adds it to a MetaData, and the migrations build it from that declaration.
  Each such table is pinned in `PINNED` (a digest of its DDL on SQLite and PostgreSQL):
  were its declaration to change, every migration that builds it would refuse to run rather
  than build something else. To change a shared table: copy its current declaration into
  this module and have the old migrations build that copy (it matches the pin), then add a
  migration that alters the table to every service that has it.
- A service's own table is written in the migration that makes it (its model may move on),
  with the column helpers below, several columns to a line. Each takes names and gives
  NOT NULL columns; a name ending in "?" gives a nullable one: `utc("created_at", "sent_at?")`.

A revision that only adds tables says so in one line, and its downgrade drops them:

    upgrade, downgrade = new_tables(add_kernel_tables, table("blobs", ...))
"""
from __future__ import annotations

import fcntl
import hashlib
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, NamedTuple, Union

from alembic import command, context, op
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Double,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from shared.db import Database, UTCDateTime


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
            conn.execute(sql("SELECT pg_advisory_lock(:k)"), {"k": key})
            conn.commit()
            try:
                yield conn
            finally:
                conn.execute(sql("SELECT pg_advisory_unlock(:k)"), {"k": key})
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


# --- writing migrations: columns ---------------------------------------------------------------

def _columns(make_type: Callable[[], object], names: Iterable[str], **kw) -> list[Column]:
    return [Column(name.rstrip("?"), make_type(), nullable=name.endswith("?"), **kw) for name in names]


def uuid(*names: str) -> list[Column]:
    """Ids: a UUID as text, String(36)."""
    return _columns(lambda: String(36), names)


def string(length: int, *names: str) -> list[Column]:
    return _columns(lambda: String(length), names)


def text(*names: str) -> list[Column]:
    return _columns(Text, names)


def json(*names: str) -> list[Column]:
    return _columns(JSON, names)


def utc(*names: str) -> list[Column]:
    """Times, as shared.db.UTCDateTime stores them (with a zone, in UTC)."""
    return _columns(UTCDateTime, names)


def date(*names: str) -> list[Column]:
    return _columns(Date, names)


def boolean(*names: str) -> list[Column]:
    return _columns(Boolean, names)


def integer(*names: str, **kw) -> list[Column]:
    return _columns(Integer, names, **kw)


def bigint(*names: str, **kw) -> list[Column]:
    return _columns(BigInteger, names, **kw)


def floating(*names: str) -> list[Column]:
    return _columns(Float, names)


def double(*names: str) -> list[Column]:
    return _columns(Double, names)


# --- writing migrations: a service's own tables ------------------------------------------------

class IndexSpec(NamedTuple):
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None


def index(*columns: str, unique: bool = False, where: str | None = None) -> IndexSpec:
    """An index that is unique or partial (`where`: SQL); a plain one is a tuple of columns."""
    return IndexSpec(columns, unique, where)


def _index(name: str, spec: IndexSpec | tuple[str, ...]) -> Index:
    spec = spec if isinstance(spec, IndexSpec) else IndexSpec(tuple(spec))
    where = {} if spec.where is None else {"sqlite_where": sql(spec.where), "postgresql_where": sql(spec.where)}
    return Index(name, *spec.columns, unique=spec.unique, **where)


def table(name: str, *columns: list[Column], primary_key: str | tuple[str, ...] = "id",
          foreign_keys: dict[str, str] | None = None, ondelete: str | None = None,
          unique: dict[str | None, tuple[str, ...]] | None = None,
          indexes: dict[str, IndexSpec | tuple[str, ...]] | None = None) -> Table:
    """A service's own table as a migration creates it: `foreign_keys` maps a column to the
    "table.column" it refers to (`ondelete` applies to all of them); `unique` and `indexes`
    map a name to the columns (a unique constraint named None: the database names it)."""
    keys = (primary_key,) if isinstance(primary_key, str) else primary_key
    return Table(name, MetaData(), *(c for group in columns for c in group), PrimaryKeyConstraint(*keys),
                 *(ForeignKeyConstraint([column], [target], ondelete=ondelete)
                   for column, target in (foreign_keys or {}).items()),
                 *(UniqueConstraint(*cols, name=key) for key, cols in (unique or {}).items()),
                 *(_index(key, spec) for key, spec in (indexes or {}).items()))


# --- writing migrations: shared tables -------------------------------------------------------

# A declaration in shared/ of tables several services have: it adds them to a MetaData
# (shared.bus.tables.add_kernel_tables, shared.country_holds.add_country_holds_table, ...).
Declaration = Callable[[MetaData], object]
TableOrDeclaration = Union[Table, Declaration]

# The shared tables as the migrations that build them were written: a digest of their DDL.
# (A SQLAlchemy that renders the same DDL otherwise shows as a change too: if what the
# migrations build is unchanged, tests/integration/test_migrations.py passing, pin anew.)
PINNED = {
    "bus_outbox": "9b393e3e62a4a251",
    "bus_inbox": "b9c3abcda9ac0284",
    "access_revocations": "9a95ccb07ce5f77c",
    "country_holds": "82decb8cbba4b5fd",
    "public_revisions": "3339a17ce8ad98fd",
    "idempotency_keys": "e94ad05fa659dd74",
}


def _digest(declared: Table) -> str:
    ddl = []
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        ddl.append(str(CreateTable(declared).compile(dialect=dialect)))
        ddl += sorted(str(CreateIndex(ix).compile(dialect=dialect)) for ix in declared.indexes)
    return hashlib.sha256(" ".join(" ".join(ddl).split()).encode()).hexdigest()[:16]


def check_pinned(declared: Table) -> Table:
    """The shared table as its declaration gives it, if that is what the migrations built."""
    digest = _digest(declared)
    if PINNED.get(declared.name) != digest:
        raise RuntimeError(
            f"{declared.name} is not what the migrations that build it from its declaration built "
            f"(pinned {PINNED.get(declared.name)}, declared {digest}): a migration must not change. "
            "Keep the old declaration for them and add a migration (see shared/migrations.py).")
    return declared


def _tables(items: Iterable[TableOrDeclaration]) -> list[Table]:
    found: list[Table] = []
    for item in items:
        if isinstance(item, Table):
            found.append(item)
        else:
            metadata = MetaData()
            item(metadata)
            found += [check_pinned(t) for t in metadata.tables.values()]
    return found


# --- writing migrations: creating and dropping -------------------------------------------------

def create_tables(*items: TableOrDeclaration) -> None:
    """Create these tables (`table(...)`s, or the tables a shared declaration adds) in order,
    each with its indexes."""
    for t in _tables(items):
        # The constraints in one order (Alembic's autogenerate's, in which these tables were first
        # written): the primary key, the foreign keys by column, the rest by name.
        foreign = sorted(t.foreign_key_constraints, key=lambda c: [col.name for col in c.columns])
        rest = sorted((c for c in t.constraints if not isinstance(c, (PrimaryKeyConstraint, ForeignKeyConstraint))),
                      key=lambda c: (c.name or "", [col.name for col in c.columns]))
        indexes = (Index(ix.name, *(c.name for c in ix.columns), unique=ix.unique, **ix.dialect_kwargs)
                   for ix in t.indexes)
        op.create_table(t.name, *t.columns, t.primary_key, *foreign, *rest, *indexes)


def drop_tables(*items: TableOrDeclaration) -> None:
    """Drop these tables (their indexes go with them), in the reverse of the order given."""
    for t in reversed(_tables(items)):
        op.drop_table(t.name)


def new_tables(*items: TableOrDeclaration, then: str | None = None) -> tuple[Callable[[], None], Callable[[], None]]:
    """The upgrade and downgrade of a revision that adds these tables (and then runs `then`,
    SQL that fills them from what is there); the downgrade drops them."""

    def create() -> None:
        create_tables(*items)
        if then:
            op.execute(then)

    def drop() -> None:
        drop_tables(*items)

    return create, drop


def new_columns(table_name: str, *columns: list[Column]) -> tuple[Callable[[], None], Callable[[], None]]:
    """The upgrade and downgrade of a revision that adds nullable columns (`integer("n?")`) to
    a table; the downgrade drops them. (Batch mode: SQLite alters a table by copying it.)"""
    added = [c for group in columns for c in group]

    def add() -> None:
        with op.batch_alter_table(table_name) as batch_op:
            for column in added:
                # A new Column each run: one added to a table belongs to it (tests migrate many databases).
                batch_op.add_column(Column(column.name, column.type, nullable=column.nullable))

    def drop() -> None:
        with op.batch_alter_table(table_name) as batch_op:
            for column in reversed(added):
                batch_op.drop_column(column.name)

    return add, drop
