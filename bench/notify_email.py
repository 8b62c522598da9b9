"""Notify: e-mail fan-out of one notice to 10,000 subscribers over SMTP, messages per second.

SMTP server (`bench/notify_servers.py smtp`, its own process): aiosmtpd's Controller on loopback,
a handler that only counts; it reports how many messages it took and the CPU it spent.

App: the notify kernel built with `services.notify.app.build` (SQLite in a temporary folder,
migrated like in production), SMTP_HOST/PORT of that server, SMTP_SECURITY=none, SMTP_BATCH=500.
10,000 confirmed subscriptions to Kenya (scope country KE, wanting everything), their languages
in turn en, de, fr, es, fa, tr, ru, inserted with SQLAlchemy Core. One `event.approved` envelope
(a public event in Nairobi) goes through the real consumer path, `kernel.delivery().handle(...)`:
the notify handler records the notice and `fanout.to_recipients` queues one notification per
subscriber (INSERT … SELECT), before the clock. The clock then times `MailDispatcher.send_batch()`
called until it has sent them all: claim 500 (lease), look each recipient up, render the
`new_event` template in the reader's language (text and HTML), compose the message (signed
unsubscribe and erasure links, RFC 8058 headers), and send it over one SMTP connection per 500,
each recorded as sent in its own transaction just before the final "." (`before_end`). Afterwards
every notification must be `sent` and the server must have taken as many messages.

Baseline: raw `smtplib`: one connection, `send_message` of the very same composed messages (the
EmailMessage objects the dispatcher handed its sender, kept aside by a thin wrapper) in a loop.

Time budget: the app side stops claiming once another batch would take it past
BENCH_EMAIL_BUDGET seconds (default 60), so a slow dispatcher cannot make the benchmark run for
minutes; the rate is then over what it sent, and the baseline sends the same messages. The
details say how many were sent. One round (BENCH_EMAIL_ROUNDS; further rounds send the same
notifications again, set back to pending, and alternate which side goes first); medians.

BENCH_EMAIL_PROFILE=1 adds a cProfile run of the dispatcher over 500 more messages (after the
timed rounds) and a line in the details saying where its time goes.
"""
from __future__ import annotations

import cProfile
import os
import pstats
import smtplib
import statistics
import sys
import time
import uuid

from bench.common import Result, sized, temp_dir
from bench.notify_servers import Server
from bench.notify_webhooks import _kernel, approved_envelope

MESSAGES = int(os.environ.get("BENCH_EMAIL_MESSAGES", "10000"))
BUDGET = float(os.environ.get("BENCH_EMAIL_BUDGET", "60"))
ROUNDS = int(os.environ.get("BENCH_EMAIL_ROUNDS", "1"))
PROFILE = os.environ.get("BENCH_EMAIL_PROFILE") == "1"
BATCH = 500
PROFILE_MESSAGES = BATCH
from shared.languages import LANGUAGES

TARGET = 0.5


def _subscribe(kernel, count: int) -> None:
    from sqlalchemy import insert

    from services.notify.models import Subscription
    from shared.db import utcnow

    now = utcnow()
    rows = [{"id": str(uuid.uuid4()), "email": f"subscriber{i:05d}@example.org", "language": list(LANGUAGES)[i % len(LANGUAGES)],
             "timezone": None, "scope": "country", "scope_id": "KE", "campaign_id": None,
             "wants": ["new_events", "changes", "reminders", "reports"], "status": "confirmed",
             "created_at": now, "confirmed_at": now, "expires_at": None} for i in range(count)]
    with kernel.db.transaction() as session:
        session.execute(insert(Subscription), rows)


def _queue_notice(kernel) -> tuple[str, float]:
    """One event.approved through the consumer path; answer (the new_event notice's id, seconds)."""
    envelope = approved_envelope(str(uuid.uuid4()), str(uuid.uuid4()))
    started = time.perf_counter()
    outcome = kernel.delivery().handle(envelope, {})
    seconds = time.perf_counter() - started
    if outcome != "handled":
        raise RuntimeError(f"email: the event.approved message was {outcome}")
    return f"{envelope['id']}:new", seconds


def _count(kernel, notice_id: str, status: str | None = None) -> int:
    from sqlalchemy import func, select

    from services.notify.models import Notification

    with kernel.db.transaction() as session:
        query = select(func.count()).select_from(Notification).where(Notification.notice_id == notice_id)
        if status:
            query = query.where(Notification.status == status)
        return session.execute(query).scalar_one()


def _set_pending(kernel, notice_id: str) -> None:
    from sqlalchemy import update

    from services.notify.models import Notification
    from shared.db import utcnow

    with kernel.db.transaction() as session:
        session.execute(update(Notification).where(Notification.notice_id == notice_id)
                        .values(status="pending", next_at=utcnow(), sent_at=None))


class _Keeping:
    """The dispatcher's sender, keeping aside every message it is handed (for the baseline)."""

    def __init__(self, sender, kept: list | None):
        self.sender, self.kept = sender, kept

    def send(self, messages, before_end=None):
        if self.kept is not None:
            self.kept.extend(messages)
        return self.sender.send(messages, before_end=before_end)


def run_app(kernel, budget: float, kept: list | None) -> tuple[int, float]:
    """send_batch until nothing is due, or another batch would pass the budget: (sent, seconds)."""
    from services.notify.mail_dispatch import MailDispatcher

    dispatcher = MailDispatcher(kernel)
    dispatcher.links()  # the link secret, made once per database: not part of a fan-out
    dispatcher.sender = _Keeping(dispatcher.sender, kept)
    sent, started, longest = 0, time.perf_counter(), 0.0
    while True:
        batch_started = time.perf_counter()
        done = dispatcher.send_batch()
        now = time.perf_counter()
        if not done:
            break
        sent += done
        longest = max(longest, now - batch_started)
        if now - started + longest > budget:
            break
    return sent, time.perf_counter() - started


def run_baseline(host: str, port: int, messages: list) -> float:
    started = time.perf_counter()
    with smtplib.SMTP(host, port, timeout=30) as connection:
        for message in messages:
            connection.send_message(message)
    return time.perf_counter() - started


def _profile(kernel) -> str:
    """Where the dispatcher's time goes, from cProfile over a fan-out of PROFILE_MESSAGES."""
    from services.notify.mail_dispatch import MailDispatcher

    _queue_notice(kernel)  # another notice to everyone: one batch of it is profiled
    dispatcher = MailDispatcher(kernel)
    dispatcher.links()
    profiler = cProfile.Profile()
    profiler.enable()
    dispatcher.send_batch()  # SMTP_BATCH (= PROFILE_MESSAGES) messages
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = max(v[3] for k, v in stats.items() if k[2] == "send_batch")

    def cum(path_end: str, name: str) -> float:
        return sum(v[3] for k, v in stats.items() if k[0].endswith(path_end) and k[2] == name)

    parts = {
        "render (jinja, text+html)": cum("notify/mail/render.py", "render"),
        "compose (EmailMessage)": cum("notify/mail/compose.py", "compose"),
        "signed links": cum("notify/links.py", "url"),
        "flatten (BytesGenerator)": cum("email/generator.py", "flatten"),
        "before_end (commit per message)": cum("notify/mail_dispatch.py", "before_end"),
        "waiting for SMTP replies": cum("smtplib.py", "getreply"),
        "claim": cum("notify/mail_dispatch.py", "claim"),
    }
    shares = ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in parts.items())
    return (f"notify email profile (cProfile, one send_batch of {PROFILE_MESSAGES}, {total:.1f}s under the "
            f"profiler; the parts overlap: links are inside compose's caller, flatten and before_end inside "
            f"the send): {shares}")


def run() -> list[Result]:
    app_runs: list[tuple[int, float]] = []
    base_runs: list[tuple[int, float]] = []
    server_cpu: dict[str, list[float]] = {"app": [], "baseline": []}
    details_extra: list[str] = []
    with temp_dir("email") as var_dir, Server("smtp") as smtp:
        kernel = _kernel(var_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.ports[0]), SMTP_SECURITY="none",
                         SMTP_BATCH=str(BATCH))
        try:
            started = time.perf_counter()
            _subscribe(kernel, MESSAGES)
            subscribed_s = time.perf_counter() - started
            notice_id, queued_s = _queue_notice(kernel)
            queued = _count(kernel, notice_id)
            if queued != MESSAGES:
                raise RuntimeError(f"email: {queued} notifications queued for {MESSAGES} subscribers")
            kept: list = []
            for i in range(ROUNDS):
                for side in (("app", "baseline") if i % 2 == 0 else ("baseline", "app")):
                    before, cpu_before = smtp.count()
                    if side == "app":
                        if i:
                            _set_pending(kernel, notice_id)
                        sent, seconds = run_app(kernel, BUDGET, kept if i == 0 else None)
                        recorded = _count(kernel, notice_id, "sent")
                        if recorded != sent:
                            raise RuntimeError(f"email app: {recorded} notifications recorded as sent, {sent} claimed")
                        app_runs.append((sent, seconds))
                    else:
                        sent, seconds = len(kept), run_baseline("127.0.0.1", smtp.ports[0], kept)
                        base_runs.append((sent, seconds))
                    after, cpu_after = smtp.count()
                    if after - before != sent:
                        raise RuntimeError(f"email {side}: the server took {after - before} of {sent}")
                    server_cpu[side].append(cpu_after - cpu_before)
                    print(f"  email: round {i + 1}/{ROUNDS} {side:8s} {sent / seconds:7.1f} messages/s ({sent} in "
                          f"{seconds:.2f}s; SMTP server CPU {cpu_after - cpu_before:.2f}s)", file=sys.stderr)
            size = statistics.median(len(m.as_bytes()) for m in kept[:: max(1, len(kept) // 50)])
            kept.clear()
            if PROFILE:
                details_extra.append(_profile(kernel))
        finally:
            kernel.db.dispose()
    app_rate = statistics.median(n / s for n, s in app_runs)
    base_rate = statistics.median(n / s for n, s in base_runs)
    sent = app_runs[0][0]
    stopped = "" if sent == MESSAGES else f" (stopped by the {BUDGET:.0f}s budget after {sent} of {MESSAGES})"
    name = sized("notify email", MESSAGES)
    details = [
        f"{name}: one new_event notice to {MESSAGES} subscribers in 7 languages, SMTP_BATCH {BATCH}, "
        f"messages of about {size / 1024:.0f} KiB: MailDispatcher.send_batch loop {sent} in "
        f"{app_runs[0][1]:.2f}s{stopped}, = {1000 / app_rate:.2f} ms a message; smtplib send_message of the "
        f"same messages over one connection {1000 / base_rate:.2f} ms a message"
        + (f" (medians of {ROUNDS} rounds)" if ROUNDS > 1 else "")
        + f"; SMTP server CPU {1000 * statistics.median(server_cpu['app']) / sent:.2f} ms (app) / "
          f"{1000 * statistics.median(server_cpu['baseline']) / base_runs[0][0]:.2f} ms (baseline) a message; "
          f"before the clock: {MESSAGES} subscriptions inserted in {subscribed_s:.2f}s, the notifications "
          f"queued through kernel.delivery().handle in {queued_s:.2f}s",
        *details_extra,
    ]
    return [Result(name, app_rate, base_rate, "msg/s", target=TARGET, details=details)]
