"""What the bare baseline apps share: a kept SQLite connection per thread, /healthz, and the
cursor of a keyset page written as the real services write theirs."""
from __future__ import annotations

import base64
import json
import sqlite3
import threading
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, Response

STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy keeps a DateTime in SQLite


def encode_cursor(stored_time: str, id_: str) -> str:
    """The opaque cursor after the row (`stored_time`, `id_`), as shared.http.pagination makes it."""
    packed = [["d", stored_time], ["v", id_]]
    return base64.urlsafe_b64encode(json.dumps(packed).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """(stored time, id) of the row a cursor names."""
    (_, when), (_, id_) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return datetime.fromisoformat(when).astimezone(timezone.utc).strftime(STORED), id_


def per_thread_sqlite(database: str) -> Callable[[], sqlite3.Connection]:
    """A function answering this thread's connection to `database`, opened once and kept:
    the real apps' SQLAlchemy pool keeps theirs too."""
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(database, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
        return conn

    return connection


def bare_flask(name: str) -> Flask:
    """A bare Flask baseline app with the /healthz the load generator balances on."""
    app = Flask(name)

    @app.get("/healthz")
    def healthz():
        return Response('{"status":"alive"}', mimetype="application/json")

    return app
