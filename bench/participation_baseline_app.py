"""The baseline for `POST /api/notify/events/{id}/participants`: a bare transactional insert.

A bare Flask app on the `sqlite3` module, run under gunicorn like the real notify app
(`gunicorn ... 'bench.participation_baseline_app:create_app()'`, DOA_VAR_DIR pointing at the
folder holding its own notify.db, built with notify's migrations so the tables and indexes
are the same). Each POST does, in one transaction (BEGIN IMMEDIATE: SQLite's write lock,
which the app's first write takes too): read the event's counter row in `event_places`, take
a place if there is room (`coming = coming + 1`) or join the waiting list (`waiting =
waiting + 1`), and INSERT the sign-up into `participations`; then it answers JSON 201. No
validation, no ORM, no outbox, no private link: what is left of the app's work is what any
sign-up must do.
"""
from __future__ import annotations

import json
import os
import secrets
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

from flask import Flask, Response, request

from bench.baseline_support import STORED, bare_flask, per_thread_sqlite

PATH = "/api/notify/events/<event_id>/participants"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # the app's short codes for the door
INSERT = ("INSERT INTO participations (id, event_id, campaign_id, status, party_size, name, show_name, email, "
          "language, code, created_at) VALUES (?, ?, NULL, ?, ?, NULL, 0, NULL, ?, ?, ?)")


def create_app(database: str | None = None) -> Flask:
    database = database or str(Path(os.environ.get("DOA_VAR_DIR", "var")).resolve() / "notify.db")
    opened = per_thread_sqlite(database)
    local = threading.local()

    def connection():
        conn = opened()
        if not getattr(local, "ready", False):  # the app's durability (shared.db's pragmas)
            conn.execute("PRAGMA synchronous=NORMAL")
            local.ready = True
        return conn

    app = bare_flask("bench.participation_baseline")

    @app.post(PATH)
    def sign_up(event_id: str):
        fields = request.get_json()
        size = int(fields.get("party_size", 1))
        now = datetime.now(timezone.utc).strftime(STORED)
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT capacity, coming, waiting FROM event_places WHERE event_id = ?",
                               (event_id,)).fetchone()
            if row is None:
                conn.rollback()
                return Response('{"status":404}', status=404, mimetype="application/problem+json")
            capacity, coming, waiting = row
            status = "coming" if waiting == 0 and (capacity is None or coming + size <= capacity) else "waiting"
            conn.execute(f"UPDATE event_places SET {status} = {status} + ?, updated_at = ? WHERE event_id = ?",
                         (size, now, event_id))
            id_ = str(uuid.uuid4())
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))  # the door's short code, as the app
            seq = conn.execute(INSERT, (id_, event_id, status, size, fields["language"], code, now)).lastrowid
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        body = json.dumps({"id": id_, "event_id": event_id, "status": status, "party_size": size, "seq": seq},
                          separators=(",", ":"))
        return Response(body, status=201, mimetype="application/json")

    return app
