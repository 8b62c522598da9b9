"""The baseline for outputs served from a cache: a bare Flask app that answers any GET with
`send_file` of the file the benchmark wrote for that path and query (`file_for`), holding the
very bytes the real app answered; conditional, as the app is (If-None-Match -> 304). Under
the same gunicorn command line and config file as the apps, i.e. the cost of only sending
those bytes (gunicorn uses sendfile(2)).

    gunicorn ... 'bench.file_baseline_app:create_app()'   with DOA_VAR_DIR set
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Flask, abort, request, send_file

from bench.baseline_support import bare_flask


def file_for(var_dir: Path, path_and_query: str) -> Path:
    """Where the bytes for `GET path_and_query` are kept (`/x?a=1`, or `/x` without a query)."""
    return var_dir / "files" / hashlib.sha256(path_and_query.encode()).hexdigest()


def create_app() -> Flask:
    var_dir = Path(os.environ["DOA_VAR_DIR"])
    app = bare_flask(__name__)

    @app.get("/<path:_path>")
    def send(_path):
        wanted = file_for(var_dir, request.full_path.rstrip("?"))
        if not wanted.exists():
            abort(404)
        return send_file(wanted, mimetype="application/octet-stream", conditional=True, etag=True)

    return app
