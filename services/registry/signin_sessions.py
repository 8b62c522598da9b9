"""Sign-in sessions: made by signing in with key (and second factor), they make fresh tokens
with the key and the session's secret until they expire or their holder ends them. A session
keeps when it began and was last used, and a coarse name of the browser ("Firefox on
Android"), never an address. Its secret is kept as a digest."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from services.registry.models import SignInSession
from services.registry.second_factor import SECOND_FACTORS, Holder, SecondFactorNeeded, enrolled
from shared.auth import digest
from shared.db import utcnow
from shared.errors import NotFound, Unauthenticated

KEPT_DAYS = 30  # an ended or expired session stays listed nowhere, but on record this long
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
            ("HeadlessChrome/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str | None) -> str:
    """A browser and a system, no version: enough to tell one's own sessions apart."""
    agent = user_agent or ""
    browser = next((name for mark, name in BROWSERS if mark in agent), None)
    system = next((name for mark, name in SYSTEMS if mark in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    program = re.match(r"[A-Za-z][\w.-]{0,30}", agent)
    return program.group(0) if program else "Unknown"


def open_session(session: Session, holder: Holder, key_id: str, amr: list[str], user_agent: str | None,
                 hours: int) -> tuple[SignInSession, str]:
    """A new session and its secret (shown this once). The holder's sessions that ended or
    expired more than KEPT_DAYS ago go."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    old = now - timedelta(days=KEPT_DAYS)
    session.execute(delete(SignInSession).where(
        SignInSession.holder_kind == holder[0], SignInSession.holder_id == holder[1],
        or_(SignInSession.expires_at < old, SignInSession.ended_at < old)))
    row = SignInSession(holder_kind=holder[0], holder_id=holder[1], key_id=key_id, secret_digest=digest(secret),
                        amr=amr, label=device_label(user_agent), created_at=now, last_used_at=now,
                        expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return row, secret


def resume(session: Session, holder: Holder, key_id: str, secret: str) -> SignInSession:
    """The live session of this key whose secret this is, marked used now."""
    row = session.execute(select(SignInSession).where(SignInSession.secret_digest == digest(secret))).scalar()
    if row is None or (row.holder_kind, row.holder_id, row.key_id) != (*holder, key_id):
        raise Unauthenticated("Unknown session: sign in again.")
    if row.ended_at is not None or row.expires_at <= utcnow():
        raise Unauthenticated("This session has ended: sign in again.")
    if not SECOND_FACTORS & set(row.amr) and enrolled(session, holder):
        # Begun with the key alone, before a factor was added (elsewhere): the factor is asked now.
        raise SecondFactorNeeded("This account now has a second factor: sign in with it.",
                                 factors=enrolled(session, holder))
    row.last_used_at = utcnow()
    return row


def add_proof(session: Session, session_id: str | None, method: str) -> None:
    """The holder proved a factor within this session (by enrolling it): it counts from now."""
    row = session.get(SignInSession, session_id) if session_id else None
    if row is not None and method not in row.amr:
        row.amr = [*row.amr, method]


def is_ended(session: Session, session_id: str) -> bool:
    row = session.get(SignInSession, session_id)
    return row is None or row.ended_at is not None or row.expires_at <= utcnow()


def live(holder: Holder):
    """The holder's sessions not ended nor expired (a query to order and page)."""
    return select(SignInSession).where(
        SignInSession.holder_kind == holder[0], SignInSession.holder_id == holder[1],
        SignInSession.ended_at.is_(None), SignInSession.expires_at > utcnow())


def end(session: Session, holder: Holder, session_id: str) -> SignInSession:
    row = session.get(SignInSession, session_id)
    if row is None or (row.holder_kind, row.holder_id) != holder:
        raise NotFound(f"No session of yours has the id {session_id}.")
    if row.ended_at is None:
        row.ended_at = utcnow()
    return row


def end_others(session: Session, holder: Holder, keep: str | None) -> int:
    stmt = update(SignInSession).where(SignInSession.holder_kind == holder[0], SignInSession.holder_id == holder[1],
                                       SignInSession.ended_at.is_(None))
    if keep:
        stmt = stmt.where(SignInSession.id != keep)
    return session.execute(stmt.values(ended_at=utcnow())).rowcount
