"""Waking the notify worker's loops when there is work — after the transaction that queued it
commits, never before (a loop woken early finds nothing yet and goes back to sleep)."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.db import Database

MAIL = threading.Event()
WEBHOOKS = threading.Event()
_KEY = "doa_notify_wake"


def after_commit(session: Session, loop: threading.Event) -> None:
    """Wake `loop` once this session's transaction has committed."""
    session.info.setdefault(_KEY, set()).add(loop)


def install(db: Database) -> None:
    event.listen(db.sessions, "after_commit", _committed)
    event.listen(db.sessions, "after_soft_rollback", _rolled_back)


def _committed(session: Session) -> None:
    for loop in session.info.pop(_KEY, ()):
        loop.set()


def _rolled_back(session: Session, _previous) -> None:
    session.info.pop(_KEY, None)


def run_loop(stop: threading.Event, loop: threading.Event, step: Callable[[], int], failing: str) -> None:
    """Run `step` until `stop`: at once again while it finds work, else when `loop` is woken (or
    after half a second); a failing step is logged as `failing` and tried again shortly."""
    while not stop.is_set():
        loop.clear()
        try:
            done = step()
        except Exception:
            logging.getLogger("doa.notify").exception(failing)
            done = 0
        if not done:
            loop.wait(0.5)
