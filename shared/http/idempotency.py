"""`Idempotency-Key` on POST (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"):
a client that sends a POST again after a reset, with the same key, gets the first answer again
(`Idempotent-Replayed: true`) instead of a second effect.

- The key is the caller's own: it is kept per caller (the token's subject), so nobody can read
  another's answer by guessing a key. Anonymous POSTs ignore the header (they are sign-ups and
  subscriptions, made repeat-safe by their own rules), as do bodies over MAX_BODY (a large
  upload has the resumable upload API).
- The same key with another request (method, path, query or body) is 422 `idempotency-key-reused`;
  while the first is still being answered, 409 `idempotency-key-in-use` (try again in a moment:
  the platform sends Retry-After only with 429 and 503).
- Answers under 500 are kept, for KEEP (24 hours); a 5xx is forgotten, so the retry runs again.
  A key left "in progress" by a process that died is taken over after STALE.
- An answer that shows a secret once (an API key, a token, a webhook's signing secret, recovery
  codes: a top-level field named in SECRET_FIELDS) is never written down: its key is forgotten
  and a retry runs again (making another credential, which the client can revoke).

Each service keeps its keys in its own database (`idempotency_keys`, shared.bus.tables).
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from flask import Flask, Response, g, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from shared.db import utcnow
from shared.http.auth import current_principal
from shared.http.problems import problem_response

HEADER = "Idempotency-Key"
KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as a structured-field string holds
MAX_BODY = 1024 * 1024
KEEP = timedelta(hours=24)
STALE = timedelta(seconds=60)
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
SECRET_FIELDS = frozenset({"key", "secret", "token", "access_token", "refresh_token", "recovery_codes"})


def install(app: Flask, table) -> None:
    db = app.extensions["doa"].db

    @app.before_request
    def _replay_or_claim():
        given = request.headers.get(HEADER)
        if request.method != "POST" or given is None:
            return None
        key = given.strip().strip('"')  # a structured-field string may come quoted
        if not KEY.match(key):
            return problem_response(400, f"{HEADER} must be 1 to 255 visible ASCII characters.",
                                    type_="idempotency-key-invalid")
        principal = current_principal()
        if principal is None or (request.content_length or 0) > MAX_BODY:
            return None
        scope = f"{principal.role}:{principal.subject_id}"
        fingerprint = _fingerprint()
        now = utcnow()
        with db.transaction() as session:
            session.execute(delete(table).where(table.c.created_at < now - KEEP))  # the expired go first
            row = session.execute(select(table).where(table.c.scope == scope, table.c.key == key)).first()
            if row is None:
                try:
                    with session.begin_nested():
                        session.execute(insert(table).values(scope=scope, key=key, fingerprint=fingerprint,
                                                             status=None, created_at=now))
                except IntegrityError:  # another request with this key got there first
                    return _in_use()
                g.idempotency = (scope, key)
                return None
        if row.fingerprint != fingerprint:
            return problem_response(422, f"This {HEADER} was used for another request; use a new key for a new "
                                         "request.", type_="idempotency-key-reused")
        if row.status is None:
            if row.created_at > now - STALE:
                return _in_use()
            with db.transaction() as session:  # its process died: this request takes it over
                session.execute(update(table).where(table.c.scope == scope, table.c.key == key)
                                .values(created_at=now))
            g.idempotency = (scope, key)
            return None
        answer = Response(row.body, status=row.status, headers=json.loads(row.headers))
        answer.headers["Idempotent-Replayed"] = "true"
        return answer

    @app.after_request
    def _keep(response: Response):
        claimed = g.pop("idempotency", None)
        if claimed is None:
            return response
        scope, key = claimed
        where = (table.c.scope == scope, table.c.key == key)
        with db.transaction() as session:
            if response.status_code >= 500 or response.is_streamed or _shows_a_secret(response):
                session.execute(delete(table).where(*where))
            else:
                kept = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
                session.execute(update(table).where(*where).values(
                    status=response.status_code, headers=json.dumps(kept), body=response.get_data()))
        return response


def _shows_a_secret(response: Response) -> bool:
    body = response.get_json(silent=True) if response.is_json else None
    return isinstance(body, dict) and not SECRET_FIELDS.isdisjoint(body)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _in_use() -> Response:
    return problem_response(409, f"A request with this {HEADER} is still being answered; try again shortly.",
                            type_="idempotency-key-in-use")
