"""The notify worker's e-mail loop: plans and fires reminders, asks organisations for their
reports after their events, purges what is no longer needed, and sends queued e-mails in
batches over one SMTP connection, rate-limited as configured.

Each e-mail is recorded as sent just before the SMTP "." that makes the server deliver it
(`SmtpSender.send(before_end=…)`): a worker killed at any point neither loses nor repeats
one. The address is looked up when sending, so an erased one is never written to.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from services.notify import participation, reminders, subscriptions, wakeups
from services.notify.fanout import add_notice, contact_of, event_context, one, to_recipients
from services.notify.leases import Lease
from services.notify.links import Links, link_secret
from services.notify.mail.compose import compose
from services.notify.mail.files import mail_folder, sweep
from services.notify.mail.render import Rendered, render
from services.notify.mail.sending import SendResult, make_sender
from services.notify.models import (
    Contact,
    KnownEvent,
    KnownOrganisation,
    Notice,
    Notification,
    Reminder,
    Subscription,
)
from services.notify.retention import prune_delivery_logs
from shared.db import utcnow
from shared.heartbeat import Heartbeat
from shared.kernel import Kernel

log = logging.getLogger("doa.notify.mail")


class NoLongerOurs(Exception):
    """The e-mail was erased, unsubscribed or taken over while its batch was on the way."""

MAX_ATTEMPTS = 8


def retry_delay(attempts: int) -> timedelta:
    """How long an e-mail waits after its `attempts`-th failure: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, min(attempts - 1, 6))))


HOUSEKEEPING_SECONDS = 60
REPORT_REQUEST_WITHIN = timedelta(days=3)  # events that ended longer ago are not asked about


class MailDispatcher:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        c = kernel.config
        self.sender = make_sender(c.SMTP_HOST, c.SMTP_PORT, c.SMTP_SECURITY, c.SMTP_USERNAME, c.SMTP_PASSWORD,
                                  c.SMTP_TIMEOUT, c.SMTP_PER_SECOND, c.SMTP_BATCH, mail_folder(c))
        self.slots = reminders.parse_slots(c.REMINDERS)
        self.quiet = reminders.parse_quiet_hours(c.QUIET_HOURS)
        self._last_housekeeping = float("-inf")
        self._links: Links | None = None
        self.lease_seconds = c.NOTIFY_CLAIM_LEASE_SECONDS
        self.heartbeat = Heartbeat(self.lease_seconds / 3, "notify-mail")
        self._lease: Lease | None = None

    def links(self) -> Links:
        if self._links is None:
            with self.kernel.db.transaction() as session:
                self._links = Links(link_secret(session, self.kernel.config), self.kernel.config)
        return self._links

    def run_forever(self, stop: threading.Event) -> None:
        def step() -> int:
            self.housekeeping()
            return self.send_batch()

        wakeups.run_loop(stop, wakeups.MAIL, step, "sending e-mail failed; trying again shortly")
        self.heartbeat.close()

    # -- what becomes due -------------------------------------------------------------------

    def housekeeping(self, force: bool = False) -> None:
        """Reminders planned and fired, report requests, purges: once a minute is soon enough."""
        if not force and time.monotonic() - self._last_housekeeping < HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = time.monotonic()
        now = utcnow()
        deadline = time.monotonic() + 20  # big schedules are worked through in rounds, e-mail goes on between
        while time.monotonic() < deadline:
            with self.kernel.db.transaction() as session:
                if not reminders.plan(session, now, self.slots, self.quiet):
                    break
        while time.monotonic() < deadline and self.fire_reminders():
            pass
        self.request_reports()
        with self.kernel.db.transaction() as session:
            purged = subscriptions.purge(session, self.kernel.config, now)
            shredded = participation.shred(session, self.kernel.config, now)
        pruned = prune_delivery_logs(self.kernel.db, self.kernel.config.DELIVERY_LOG_KEEP_DAYS, now)
        if any(pruned.values()):
            log.info("pruned the delivery logs older than %s days: %s", self.kernel.config.DELIVERY_LOG_KEEP_DAYS,
                     pruned)
        if purged or shredded:
            log.info("purged %d subscriptions (unconfirmed in time, or of campaigns closed long enough) and %d "
                     "sign-ups (of events ended long enough)", purged, shredded)
        self.sweep_mail_files()

    def sweep_mail_files(self) -> int:
        """The .eml files kept no longer than MAIL_FILES_KEEP_DAYS, nor past their e-mail's record."""

        def still_held(ids: list[int]) -> set[int]:
            with self.kernel.db.transaction() as session:
                return set(session.execute(select(Notification.id).where(Notification.id.in_(ids))).scalars())

        removed = sweep(mail_folder(self.kernel.config), self.kernel.config.MAIL_FILES_KEEP_DAYS, still_held)
        if removed:
            log.info("removed %d e-mail files (kept long enough, or their recipient gone)", removed)
        return removed

    def fire_reminders(self) -> int:
        now = utcnow()
        with self.kernel.db.transaction() as session:
            due = session.execute(select(Reminder, KnownEvent).join(KnownEvent, KnownEvent.id == Reminder.event_id)
                                  .where(Reminder.status == "pending", Reminder.due_at <= now)
                                  .limit(5000)).all()
            for reminder, event in due:
                if event.starts_at <= now:  # overdue after downtime: a reminder after the start helps nobody
                    reminder.status = "skipped"
                    continue
                slot = self.slots[reminder.slot] if reminder.slot < len(self.slots) else self.slots[-1]
                context = {"event": event_context(event),
                           "when": "day_before" if slot.days_before else "hours_before",
                           "hours": round((event.starts_at - now).total_seconds() / 3600, 1)}
                notice = f"reminder:{reminder.id}"
                if add_notice(session, notice, "reminder", context):
                    to_recipients(session, notice, one(f"subscription:{reminder.subscription_id}"))
                reminder.status = "sent"
        return len(due)

    def request_reports(self) -> int:
        """After its event ends, an organisation is asked for its report."""
        now = utcnow()
        with self.kernel.db.transaction() as session:
            ended = session.execute(select(KnownEvent).where(
                KnownEvent.status == "approved", KnownEvent.report_requested.is_(False),
                KnownEvent.ends_at <= now, KnownEvent.ends_at > now - REPORT_REQUEST_WITHIN).limit(1000)).scalars().all()
            for event in ended:
                notice = f"report-request:{event.id}"
                if add_notice(session, notice, "report_request", {"event": event_context(event)}):
                    to_recipients(session, notice, contact_of(event.organisation_id))
                event.report_requested = True
        return len(ended)

    # -- sending ----------------------------------------------------------------------------

    def claim(self) -> list[int]:
        now = utcnow()
        lease_until = now + timedelta(seconds=self.lease_seconds)
        with self.kernel.db.transaction() as session:
            ids = list(session.execute(
                select(Notification.id).where(or_(Notification.status == "pending", Notification.status == "sending"),
                                              Notification.next_at <= now)
                .order_by(Notification.id).limit(max(1, self.kernel.config.SMTP_BATCH))).scalars())
            if not ids:
                return []
            session.execute(update(Notification).where(Notification.id.in_(ids), Notification.next_at <= now)
                            .values(status="sending", next_at=lease_until))
            claimed = list(session.execute(select(Notification.id).where(
                Notification.id.in_(ids), Notification.status == "sending",
                Notification.next_at == lease_until)).scalars())
        self._lease = Lease(self.kernel.db, Notification, claimed, lease_until, self.lease_seconds)
        return claimed

    def send_batch(self) -> int:
        ids = self.claim()
        if not ids:
            return 0
        with self.heartbeat.keep(self._lease.renew):  # ours for as long as we are sending
            return self._send(ids, self._lease)

    def _send(self, ids: list[int], lease: Lease) -> int:
        messages, gone, broken = [], [], []
        rendered_cache: dict = {}
        with self.kernel.db.transaction() as session:
            batch = session.execute(select(Notification, Notice).join(Notice, Notice.id == Notification.notice_id)
                                    .where(Notification.id.in_(ids)).order_by(Notification.id)).all()
            people = self._people(session, [n for n, _ in batch])
            for notification, notice in batch:
                try:
                    message = self._message(session, notification, notice, rendered_cache, people)
                except Exception as exc:  # one that cannot be written must not hold up the others
                    log.exception("e-mail %s cannot be composed", notification.id)
                    broken.append((notification.id, SendResult(f"n{notification.id}", False, repr(exc), True)))
                    continue
                if message is None:
                    gone.append(notification.id)
                else:
                    messages.append(message)
            if gone:  # unsubscribed or erased meanwhile: nothing to send, nothing to keep
                session.execute(delete(Notification).where(Notification.id.in_(gone)))
        recorded: set[str] = set()

        def before_end(message_id: str) -> None:
            """Record it as sent — if it is still ours to send: not erased or unsubscribed since
            the batch was made, not taken over by another worker after our lease ran out."""
            with lease.lock, self.kernel.db.engine.begin() as connection:  # one statement: no ORM session
                changed = connection.execute(update(Notification).where(
                    Notification.id == int(message_id[1:]), Notification.status == "sending",
                    Notification.next_at == lease.until).values(status="sent", sent_at=utcnow())).rowcount
            if changed != 1:
                raise NoLongerOurs(message_id)
            recorded.add(message_id)

        failures = list(broken)
        for result in self.sender.send(messages, before_end=before_end):
            if not result.ok:
                failures.append((int(result.message_id[1:]), result))
        if failures:
            self._failed(failures, lease, recorded)
        log.info("sent %d e-mails (%d failed, %d no longer wanted)", len(messages) - len(failures), len(failures),
                 len(gone))
        return len(ids)

    def _failed(self, failures, lease: Lease, recorded: set[str]) -> None:
        now = utcnow()
        with lease.lock, self.kernel.db.transaction() as session:
            for notification_id, result in failures:
                notification = session.get(Notification, notification_id)
                ours = notification is not None and (
                    (notification.status == "sending" and notification.next_at == lease.until)
                    or f"n{notification_id}" in recorded)  # recorded, then refused at the final "."
                if not ours:  # erased, or another worker's now
                    continue
                notification.attempts += 1
                notification.last_error = (result.error or "")[:500]
                if result.permanent or notification.attempts >= MAX_ATTEMPTS:
                    notification.status = "failed"
                    notification.next_at = now  # when it failed, for the coordinators' delivery problems
                else:
                    notification.status = "pending"
                    notification.next_at = now + retry_delay(notification.attempts)

    def _message(self, session, notification: Notification, notice: Notice, rendered_cache: dict,
                 people: dict):
        kind, ref = notification.recipient.split(":", 1)
        c = self.kernel.config
        links = self.links()
        extra: dict = {}
        timezone_name = None
        if kind == "subscription":
            subscription = people.get(notification.recipient)
            if subscription is None or (subscription.status != "confirmed" and notice.kind != "confirm_subscription"):
                return None
            email, language, timezone_name = subscription.email, subscription.language, subscription.timezone
            extra = {"unsubscribe_url": links.url("unsubscribe", subscription.id),
                     "erase_url": links.url("erase", subscription.id)}
            if notice.kind == "confirm_subscription":
                extra["confirm_url"] = links.url("confirm", subscription.id)
                signed_up = subscriptions.sign_up_of(session, subscription.id)
                if signed_up is not None:  # the private link of a sign-up with this address (never stored)
                    extra["participation_url"] = links.participation_url(signed_up)
        else:
            contact = people.get(notification.recipient)
            if contact is None:
                return None
            email, language = contact.email, contact.language
        # One rendering per notice's content (not its id: the reminders of one event's slot are
        # a notice each, alike but for the id), language and zone; each reader's own links go in after.
        key = (notice.kind, _content_key(notice), language, timezone_name, tuple(sorted(extra)))
        if key not in rendered_cache:
            context = self._context(session, notice, language, timezone_name)
            rendered_cache[key] = render(notice.kind, language,
                                         {**context, **{name: PLACEHOLDERS[name] for name in extra}})
        rendered = _with_links(rendered_cache[key], extra)
        return compose(rendered, sender=c.MAIL_FROM, to=email, message_id=f"n{notification.id}",
                       unsubscribe_url=extra.get("unsubscribe_url"))

    @staticmethod
    def _people(session, notifications: list[Notification]) -> dict:
        """The batch's recipients, fetched at once: subscriptions and contacts by recipient key."""
        keys = [n.recipient.split(":", 1) for n in notifications]
        subscription_ids = [ref for kind, ref in keys if kind == "subscription"]
        contact_ids = [ref for kind, ref in keys if kind == "contact"]
        people = {f"subscription:{s.id}": s for s in session.execute(
            select(Subscription).where(Subscription.id.in_(subscription_ids))).scalars()} if subscription_ids else {}
        if contact_ids:
            people.update({f"contact:{c.owner_id}": c for c in session.execute(
                select(Contact).where(Contact.owner_id.in_(contact_ids))).scalars()})
        return people

    def _context(self, session, notice: Notice, language: str, reader_zone: str | None) -> dict:
        """The notice's facts in the shape the templates take, in the reader's language."""
        base = self.kernel.config.PUBLIC_URL.rstrip("/")
        c = dict(notice.context)
        if "event" in c:
            c["event"] = _event_for(c["event"], language, base)
        if "report" in c:
            report = c["report"]
            title = report.get("title") or {}  # language → title (one string in notices kept before)
            title = _pick(title, [report.get("language")], language) if isinstance(title, dict) else title
            c["report"] = {**report, "title": title, "url": f"{base}/api/media/reports/{report['id']}"}
        if notice.kind in ("event_submitted", "report_submitted"):
            organisation = session.get(KnownOrganisation, c.get("organisation_id") or
                                       c.get("report", {}).get("organisation_id") or "")
            c["organisation_name"] = organisation.name if organisation else "an organisation"
            c["review_url"] = c["event"]["url"] if "event" in c else c["report"]["url"]
        if notice.kind == "reminder":
            c["subscriber_timezone"] = reader_zone
        if notice.kind == "host_message":
            c["message"] = _pick(c["text"], c.get("languages") or [], language)
        if notice.kind == "report_request":
            c["report_url"] = f"{base}/api/media/reports"
        if notice.kind == "events_outside_window":
            c["events"] = [{"title": _pick(e.get("title") or {}, e.get("languages") or [], language) or e["id"],
                            "start_local": e.get("starts_local") or "", "timezone": e.get("timezone") or "UTC",
                            "url": f"{base}/api/events/events/{e['id']}"} for e in c["events"]]
        if notice.kind == "delivery_failing":
            c = {"endpoint_url": c["url"], "failures": c.get("reason", ""), "disabled": c.get("disabled", True)}
        return c


# Stand-ins for each reader's own links while a notice is rendered once for all of them.
PLACEHOLDERS = {name: f"https://links.invalid/{name}" for name in ("unsubscribe_url", "erase_url", "confirm_url",
                                                                   "participation_url")}


def _with_links(rendered: Rendered, links: dict) -> Rendered:
    text, html = rendered.text, rendered.html
    for name, url in links.items():
        text, html = text.replace(PLACEHOLDERS[name], url), html.replace(PLACEHOLDERS[name], url)
    return replace(rendered, text=text, html=html)


def _pick(texts: dict, languages: list, language: str) -> str:
    if language in texts:
        return texts[language]
    for code in languages:
        if code in texts:
            return texts[code]
    return next(iter(texts.values()), "")


def _event_for(event: dict, language: str, base: str) -> dict:
    return {"title": _pick(event.get("title") or {}, event.get("languages") or [], language),
            "timezone": event["timezone"], "starts_at": event["starts_at"], "city": event.get("city"),
            "country": event.get("country"), "activity_type": event.get("activity_type"),
            "start_local": event.get("starts_local"), "url": f"{base}/api/events/events/{event['id']}"}


def _content_key(notice: Notice) -> str:
    """What the notice says, as a key: two notices with the same kind and context render alike."""
    return json.dumps(notice.context, sort_keys=True, default=str)
