"""Notify: reminders to the 10,000 participants of one event over SMTP, messages per second.

The participants of issue 15 said "I'll come" with an address and confirmed it: each has a
sign-up (`participations`, coming) and the event subscription that brings its reminders. Unlike
the fan-out of one notice (bench/notify_email.py), every reminder is a notice of its own
(`reminder:<id>`, sent in the reader's zone and language), so nothing is rendered once for many.

SMTP server, kernel and baseline as in bench/notify_email.py: aiosmtpd on loopback counting what
it takes; the notify kernel on SQLite in a temporary folder, SMTP_BATCH=500; the baseline is raw
`smtplib` sending the very same composed messages over one connection.

Before the clock: the event (approved, public, in Nairobi, starting in three hours; REMINDERS
`-2h`), 10,000 confirmed participants in the site's 7 languages in turn, the reminders planned
by the worker's own `reminders.plan` and made due now, then `MailDispatcher.fire_reminders`
queues one notice and one notification each. The clock times `send_batch()` until all are sent
(or BENCH_EMAIL_BUDGET passes, as in the e-mail bench); afterwards every notification must be
`sent` and the server must have taken as many messages.
"""
from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import timedelta

from bench.common import Result, sized, temp_dir
from bench.notify_email import BATCH, BUDGET, MESSAGES, TARGET, run_app, run_baseline
from bench.notify_servers import Server
from bench.notify_webhooks import _kernel
from shared.languages import LANGUAGES


def _participants(kernel, count: int) -> str:
    """An approved public event three hours ahead and `count` confirmed participants: its id."""
    from sqlalchemy import insert

    from services.notify.models import KnownEvent, Participation, Subscription
    from shared.db import utcnow

    now = utcnow()
    event_id, starts = str(uuid.uuid4()), now + timedelta(hours=3)
    languages = list(LANGUAGES)
    subscriptions = [{"id": str(uuid.uuid4()), "email": f"participant{i:05d}@example.org",
                      "language": languages[i % len(languages)], "timezone": None, "scope": "event",
                      "scope_id": event_id, "campaign_id": None, "wants": ["changes", "reminders"],
                      "status": "confirmed", "created_at": now, "confirmed_at": now, "expires_at": None}
                     for i in range(count)]
    sign_ups = [{"id": str(uuid.uuid4()), "event_id": event_id, "campaign_id": None, "status": "coming",
                 "party_size": 1 + i % 3, "name": None, "show_name": False, "email": s["email"],
                 "subscription_id": s["id"], "language": s["language"], "code": f"B{i:07d}", "created_at": now}
                for i, s in enumerate(subscriptions)]
    with kernel.db.transaction() as session:
        session.execute(insert(KnownEvent), [{
            "id": event_id, "campaign_id": str(uuid.uuid4()), "organisation_id": str(uuid.uuid4()),
            "title": {"en": "Solidarity rally in Nairobi", "fa": "تجمع همبستگی در نایروبی"}, "languages": ["en", "fa"],
            "city": "Nairobi", "country": "KE", "timezone": "Africa/Nairobi",
            "starts_local": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S"), "starts_at": starts,
            "ends_at": starts + timedelta(hours=2), "status": "approved", "visibility": "public",
            "activity_type": "rally", "co_hosts": [], "as_of": now}])
        session.execute(insert(Subscription), subscriptions)
        session.execute(insert(Participation), sign_ups)
    return event_id


def _queue_reminders(kernel, event_id: str) -> tuple[int, float]:
    """The worker's own planning and firing, the reminders made due now: (queued, seconds)."""
    from sqlalchemy import func, select, update

    from services.notify.mail_dispatch import MailDispatcher
    from services.notify.models import Notification, Reminder
    from services.notify.reminders import plan
    from shared.db import utcnow

    dispatcher = MailDispatcher(kernel)
    started = time.perf_counter()
    while True:
        with kernel.db.transaction() as session:
            if not plan(session, utcnow(), dispatcher.slots, None, limit=5000):
                break
    with kernel.db.transaction() as session:
        session.execute(update(Reminder).where(Reminder.event_id == event_id).values(due_at=utcnow()))
    while dispatcher.fire_reminders():
        pass
    seconds = time.perf_counter() - started
    with kernel.db.transaction() as session:
        queued = session.execute(select(func.count()).select_from(Notification).where(
            Notification.notice_id.like("reminder:%"))).scalar_one()
    return queued, seconds


def _sent(kernel) -> int:
    from sqlalchemy import func, select

    from services.notify.models import Notification

    with kernel.db.transaction() as session:
        return session.execute(select(func.count()).select_from(Notification).where(
            Notification.notice_id.like("reminder:%"), Notification.status == "sent")).scalar_one()


def run() -> list[Result]:
    with temp_dir("reminders") as var_dir, Server("smtp") as smtp:
        kernel = _kernel(var_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.ports[0]), SMTP_SECURITY="none",
                         SMTP_BATCH=str(BATCH), REMINDERS="-2h")
        try:
            event_id = _participants(kernel, MESSAGES)
            queued, queued_s = _queue_reminders(kernel, event_id)
            if queued != MESSAGES:
                raise RuntimeError(f"reminders: {queued} queued for {MESSAGES} participants")
            kept: list = []
            before, _ = smtp.count()
            sent, app_s = run_app(kernel, BUDGET, kept)
            if _sent(kernel) != sent or smtp.count()[0] - before != sent:
                raise RuntimeError(f"reminders app: {sent} claimed, {_sent(kernel)} recorded, "
                                   f"{smtp.count()[0] - before} taken by the server")
            before, _ = smtp.count()
            base_s = run_baseline("127.0.0.1", smtp.ports[0], kept)
            if smtp.count()[0] - before != len(kept):
                raise RuntimeError("reminders baseline: the server did not take every message")
            size = statistics.median(len(m.as_bytes()) for m in kept[:: max(1, len(kept) // 50)])
        finally:
            kernel.db.dispose()
    app_rate, base_rate = sent / app_s, len(kept) / base_s
    print(f"  reminders: app {app_rate:.1f} messages/s ({sent} in {app_s:.2f}s), smtplib {base_rate:.1f}/s",
          file=sys.stderr)
    stopped = "" if sent == MESSAGES else f" (stopped by the {BUDGET:.0f}s budget after {sent} of {MESSAGES})"
    name = sized("notify reminders", MESSAGES)
    details = [f"{name}: a reminder to each of {MESSAGES} confirmed participants of one event, 7 languages, one "
               f"notice each, SMTP_BATCH {BATCH}, messages of about {size / 1024:.0f} KiB: send_batch loop {sent} in "
               f"{app_s:.2f}s{stopped} = {1000 / app_rate:.2f} ms a message; smtplib send_message of the same "
               f"messages {1000 / base_rate:.2f} ms a message; before the clock, reminders planned and fired "
               f"(notices and notifications queued) in {queued_s:.2f}s"]
    return [Result(name, app_rate, base_rate, "msg/s", target=TARGET, details=details)]
