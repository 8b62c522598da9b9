"""What the bare baseline apps share: a kept SQLite connection per thread, /healthz."""
from __future__ import annotations

import sqlite3
import threading
from typing import Callable

from flask import Flask, Response


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
