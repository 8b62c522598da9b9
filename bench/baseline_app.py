"""The baseline for `GET /api/registry/organisations`: a bare Flask app on the `sqlite3` module.

It answers the same URL with the same JSON (same keys, sorted and compact like Flask's
jsonify, private fields left out, the same opaque key-set cursor in `next`) from the same
database file, so the difference to the real app is the framework layers the project adds:
flask-smorest, marshmallow, the SQLAlchemy ORM, the request hooks.

Run it under gunicorn like the real app: `gunicorn ... 'bench.baseline_app:create_app()'`
with DOA_VAR_DIR pointing at the folder holding registry.db.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response, request

from bench.baseline_support import bare_flask, decode_cursor, encode_cursor, per_thread_sqlite

PATH = "/api/registry/organisations"
COLUMNS = ("id", "abbreviation", "name", "name_en", "country", "timezone", "languages", "website",
           "status", "created_at", "updated_at")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM organisations"
ORDER = " ORDER BY created_at, id LIMIT ?"


def _iso(stored: str) -> str:
    return datetime.fromisoformat(stored).replace(tzinfo=timezone.utc).isoformat()


def create_app(database: str | None = None) -> Flask:
    database = database or str(Path(os.environ.get("DOA_VAR_DIR", "var")).resolve() / "registry.db")
    connection = per_thread_sqlite(database)
    app = bare_flask("bench.baseline")

    @app.get(PATH)
    def organisations():
        try:
            limit = int(request.args.get("limit", 50))
        except ValueError:
            return Response('{"status":400}', status=400, mimetype="application/problem+json")
        limit = max(1, min(limit, 200))
        cursor = request.args.get("cursor")
        if cursor:
            rows = connection().execute(SELECT + " WHERE (created_at, id) > (?, ?)" + ORDER,
                                        (*decode_cursor(cursor), limit + 1)).fetchall()
        else:
            rows = connection().execute(SELECT + ORDER, (limit + 1,)).fetchall()
        has_more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for row in rows:
            item = dict(zip(COLUMNS, row, strict=True))
            item["languages"] = json.loads(item["languages"])
            item["created_at"] = _iso(item["created_at"])
            item["updated_at"] = _iso(item["updated_at"])
            items.append(item)
        next_url = None
        if has_more:
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
            query.append(("cursor", encode_cursor(items[-1]["created_at"], items[-1]["id"])))
            next_url = f"{request.script_root}{request.path}?{urlencode(query)}"
        body = json.dumps({"items": items, "next": next_url}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return Response(body, mimetype="application/json")

    return app
