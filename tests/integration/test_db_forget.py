"""After a transaction that erased something commits, the database's files keep no old copy
of it (SQLite: secure_delete, and the WAL checkpointed and truncated) — once per table however
often the transaction asked, and not at all if it rolled back."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from shared import db as shared_db
from shared.db import Database, forget_after_commit

ADDRESS = b"forget-me@example.org"


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'service.db'}")
    with database.transaction() as session:
        session.execute(text("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT UNIQUE)"))
        session.execute(text("INSERT INTO people (email) VALUES (:e), ('stays@example.org')"), {"e": ADDRESS.decode()})
    yield database
    database.dispose()


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and needle in p.read_bytes())


def test_a_deleted_row_leaves_no_copy_in_the_file_or_its_wal(database, tmp_path):
    assert files_holding(tmp_path, ADDRESS)  # written down: in the WAL, or the file
    with database.transaction() as session:
        session.execute(text("DELETE FROM people WHERE email = :e"), {"e": ADDRESS.decode()})
        forget_after_commit(session, "people")
    assert files_holding(tmp_path, ADDRESS) == []
    assert (tmp_path / "service.db-wal").stat().st_size == 0
    assert files_holding(tmp_path, b"stays@example.org")  # the rest is still there


def test_one_cleaning_per_transaction_and_none_after_a_rollback(database, monkeypatch):
    calls = []
    monkeypatch.setattr(shared_db, "forget_deleted", lambda engine, tables, rewrite: calls.append((tables, rewrite)))
    with database.transaction() as session:
        for _ in range(3):
            forget_after_commit(session, "people", rewrite=("people",))
        forget_after_commit(session, "others")
    assert calls == [(("people", "others"), ("people",))]
    with pytest.raises(RuntimeError), database.transaction() as session:
        forget_after_commit(session, "people")
        raise RuntimeError("rolled back")
    with database.transaction() as session:
        session.execute(text("SELECT 1"))
    assert len(calls) == 1
