"""One database per service: engine, sessions and the transaction boundary."""
from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import DateTime, TypeDecorator

log = logging.getLogger("doa.db")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def insert_for(session: Session, table):
    """An INSERT in the session's database's own dialect, which knows ON CONFLICT (PostgreSQL's
    and SQLite's are written alike but are different statements)."""
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert(table)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement's values (an e-mail address) never reach a log.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=_json, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL lets readers run while the relay or a consumer writes.
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL, in WAL mode: a commit is in the WAL when it returns, so it survives a crash
            # of the app; a power cut or an OS crash may lose the last commits, never the file's
            # consistency. FULL would fsync the WAL at every commit (the participation bench's
            # bare baseline runs with NORMAL too).
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Deleted or overwritten rows are overwritten with zeros, not left in free pages
            # (an erased address must not stay readable in the file).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()
            # SQLite's own lower() knows only ASCII; names here come in every script.
            dbapi_conn.create_function("lower", 1, lambda s: s.lower() if isinstance(s, str) else s,
                                       deterministic=True)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, json_serializer=_json,
                         hide_parameters=True)


def _json(value) -> str:
    # Text stays readable in the database (and searchable): no \uXXXX escapes.
    return json.dumps(value, ensure_ascii=False)


_AFTER_COMMIT = "doa_after_commit"
_FORGET = "doa_forget_after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once this session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def forget_after_commit(session: Session, *tables: str, rewrite: tuple[str, ...] = ()) -> None:
    """Once this transaction commits, leave no old copy of the rows it deleted or overwrote
    (an erased address) in the database's files: see `forget_deleted`. Called many times in
    one transaction (an import changing many addresses), it cleans each table once."""
    pending = session.info.get(_FORGET)
    if pending is None:
        pending = session.info[_FORGET] = {"tables": {}, "rewrite": {}}  # dicts: ordered sets
        engine = session.get_bind()
        after_commit(session, lambda: forget_deleted(engine, tuple(pending["tables"]), tuple(pending["rewrite"])))
    pending["tables"].update(dict.fromkeys(tables))
    pending["rewrite"].update(dict.fromkeys(rewrite))


REWRITE_LOCK_TIMEOUT = "2s"  # a rewrite waits no longer than this behind a long reader


def forget_deleted(engine: Engine, tables=(), rewrite=(), attempts: int = 5) -> bool:
    """SQLite (secure_delete zeroes freed space in the file): checkpoint the WAL into the file
    and truncate it, so it keeps no page as it was before. PostgreSQL: `rewrite` (the tables
    with an address column, small) are rewritten by VACUUM FULL, which leaves no dead row's
    bytes in their files or indexes; the other `tables` get a plain VACUUM, which removes dead
    row versions and index entries but may leave their bytes in a page's free space until it
    is reused. (A rewrite that cannot get its lock within REWRITE_LOCK_TIMEOUT is a plain
    VACUUM, logged.) PostgreSQL's WAL and backups keep the old rows until recycled: the
    operator's. Answer whether it all went through; failing is logged, never raised: the
    erasure stands."""
    try:
        if engine.dialect.name == "sqlite":
            for attempt in range(attempts):
                with engine.connect() as conn:
                    busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                if not busy:
                    return True
                time.sleep(0.05 * (attempt + 1))  # a reader on an old snapshot: it ends soon
            log.warning("the WAL could not be truncated after an erasure (readers busy); it is at the next one")
            return False
        complete = True
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in dict.fromkeys([*rewrite, *tables]):
                if table in rewrite and _rewritten(conn, table):
                    continue
                complete = complete and table not in rewrite
                conn.exec_driver_sql(f'VACUUM "{table}"')
        return complete
    except Exception as exc:  # e.g. not the tables' owner: the rows are gone, their old bytes may not be
        log.warning("cleaning up after an erasure failed: %s", type(exc).__name__)
        return False


def _rewritten(conn, table: str) -> bool:
    try:
        conn.exec_driver_sql(f"SET lock_timeout = '{REWRITE_LOCK_TIMEOUT}'")
        conn.exec_driver_sql(f'VACUUM FULL "{table}"')
        return True
    except OperationalError:  # the lock not had in time: the caller vacuums instead
        log.warning("rewriting %s after an erasure waited too long for its lock; vacuumed instead", table)
        return False
    finally:
        conn.exec_driver_sql("RESET lock_timeout")


def _run_after_commit(session: Session) -> None:
    session.info.pop(_FORGET, None)
    for action in session.info.pop(_AFTER_COMMIT, ()):
        try:
            action()
        except Exception:  # the transaction stands; what follows it must not undo the answer
            log.exception("an action after commit failed")


def _drop_after_commit(session: Session, _previous=None) -> None:
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_FORGET, None)


class Database:
    """A service's database: its engine and a factory of sessions."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessions, "after_commit", _run_after_commit)
        event.listen(self.sessions, "after_soft_rollback", _drop_after_commit)
        # SQLite lets one writer in at a time, and one that finds the file locked sleeps in
        # growing steps (up to 100 ms): a hot row's writers in one process take turns instead.
        self._one_writer = threading.Lock() if self.engine.dialect.name == "sqlite" else None
        self._hot = threading.local()  # this thread's hot transaction: waiting for its first write, or holding
        if self._one_writer is not None:
            event.listen(self.engine, "before_cursor_execute", self._queue_at_first_write)

    @contextmanager
    def transaction(self, hot: bool = False) -> Iterator[Session]:
        """A session whose work is committed at the end, or rolled back on error. `hot`: it
        writes a row many requests write at once (an event's places); on PostgreSQL the row's
        lock orders them, on SQLite this process's threads queue for the file's one writer —
        from the transaction's first write (where SQLite takes its write lock) to its end, so
        the reads before it run alongside the writer."""
        session = self.sessions()
        queued = hot and self._one_writer is not None and not getattr(self._hot, "pending", False)
        if queued:
            self._hot.pending, self._hot.held = True, False
        try:
            with session.begin():
                yield session
        finally:
            if queued:  # committed or rolled back: the next writer's turn (before the session's cleanup)
                self._hot.pending = False
                if self._hot.held:
                    self._hot.held = False
                    self._one_writer.release()
            session.close()

    def _queue_at_first_write(self, _conn, _cursor, statement: str, *_args) -> None:
        """Before each statement on SQLite: a hot transaction's first one that is not a SELECT
        waits for this process's writer lock (a statement wrongly taken for a write only waits
        sooner: SQLite's own lock and the conditional updates keep the data right either way)."""
        hot = self._hot
        if getattr(hot, "pending", False) and not hot.held and statement.lstrip()[:6].upper() != "SELECT":
            self._one_writer.acquire()
            hot.held = True

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()
