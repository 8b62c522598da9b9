"""Sessions that were signed out. The session lives in its cookie (the API key, sealed), so
signing out deletes the browser's copy, but a copy taken before (a shared computer, a seized
phone's backup) would still sign in: each session has an id, and the ids signed out are kept
here until the session would have expired anyway. A small SQLite file beside the web's data,
shared by every worker of the host (docker-compose: the web-data volume)."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class SignOuts:
    def __init__(self, path: Path):
        self.path = path
        self.local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS signed_out (sid TEXT PRIMARY KEY, until REAL NOT NULL)")

    def _db(self) -> sqlite3.Connection:
        if not hasattr(self.local, "db"):
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            self.local.db = db
        return self.local.db

    def sign_out(self, sid: str, until: float) -> None:
        """Refuse `sid` from now until `until` (a time.time()); forget those past their time."""
        db = self._db()
        db.execute("INSERT OR REPLACE INTO signed_out (sid, until) VALUES (?, ?)", (sid, until))
        db.execute("DELETE FROM signed_out WHERE until < ?", (time.time(),))

    def is_signed_out(self, sid: str) -> bool:
        return self._db().execute("SELECT 1 FROM signed_out WHERE sid = ?", (sid,)).fetchone() is not None
