"""What the notify worker does on its own schedule, end to end in one process with a real SMTP
server (aiosmtpd): reminders planned in the event's zone and out of the subscriber's quiet
hours, stored so a restart neither loses nor repeats one, moved with their event and cancelled
with it; report requests after an event ends; purging subscribers of closed campaigns and
subscriptions never confirmed. SQLite and PostgreSQL.

Housekeeping is run by a MailDispatcher of the test's own (it shares the notify database with
the platform's, whose housekeeping runs once at start and then each minute)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from services.notify.mail_dispatch import MailDispatcher
from services.notify.models import KnownCampaign, KnownEvent, Notification, Reminder, Subscription
from shared.db import utcnow
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, accepted_change
from tests.integration.test_notify import (
    SUBSCRIPTIONS,
    confirmed_subscriber,
    count,
    known_to_notify,
    notify_kernel,
)

UTC = timezone.utc
CHICAGO, TOKYO = ZoneInfo("America/Chicago"), ZoneInfo("Asia/Tokyo")


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform, mailbox):
    """The platform, its e-mail going to the test's SMTP server."""
    return ApiClient(make_platform(db=request.param, SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port,
                                   SMTP_SECURITY="none", PUBLIC_URL="http://doa.test"))


# -- helpers ---------------------------------------------------------------------------------

def this_weeks_campaign(api, coordinator, setting) -> dict:
    """An open campaign whose window runs from three days ago to six days ahead, as the
    setting (with its organisations' tokens) to submit events to."""
    today = date.today()
    response = api.post(CAMPAIGNS, token=coordinator, json={
        "name": "This week", "description": "…", "languages": ["en"], "day_of_action": today.isoformat(),
        "window_start": (today - timedelta(days=3)).isoformat(), "window_end": (today + timedelta(days=6)).isoformat(),
        "status": "open"})
    assert response.status_code == 201, response.json
    return {**setting, "campaign": response.json}


def chicago_event(api, coordinator, setting, day: date) -> dict:
    event = approved(api, coordinator, setting, country="US", city="Chicago", timezone="America/Chicago",
                     start=f"{day}T18:00:00", end=f"{day}T20:00:00", venue="Federal Plaza",
                     address="50 W Adams St", latitude=41.88, longitude=-87.63, title={"en": "Rally in Chicago"})
    wait_until(lambda: known_to_notify(api, event["id"]), message="notify to know the approved event")
    return event


def reminders_of(api, event_id: str) -> list[tuple[int, datetime, str]]:
    with notify_kernel(api).db.transaction() as s:
        return [(r.slot, r.due_at, r.status) for r in s.execute(
            select(Reminder).where(Reminder.event_id == event_id).order_by(Reminder.slot, Reminder.due_at)).scalars()]


def make_due(api, event_id: str, *slots: int) -> None:
    """The reminders of these slots fall due now, as if their time had come."""
    with notify_kernel(api).db.transaction() as s:
        s.execute(update(Reminder).where(Reminder.event_id == event_id, Reminder.slot.in_(slots))
                  .values(due_at=utcnow() - timedelta(minutes=1)))


def run(dispatcher: MailDispatcher) -> None:
    """One round of the worker: housekeeping (forced) and sending what it queued."""
    dispatcher.housekeeping(force=True)
    while dispatcher.send_batch():
        pass


def settled(api) -> None:
    """Every queued e-mail sent (by the test's dispatcher or the platform's)."""
    wait_until(lambda: count(api, Notification, Notification.status.in_(("pending", "sending"))) == 0,
               message="the queued e-mails to be sent")


def with_subject(mailbox, address: str, start: str) -> list:
    return [m for m in mailbox.to(address) if m["Subject"].startswith(start)]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def expected_due(day: date) -> list[datetime]:
    """Reminders of an event in Chicago at 18:00 on `day`, for a subscriber in Tokyo, by hand:
    the day before at 11:00 in Chicago is 01:00 or 02:00 of `day` in Tokyo, inside their quiet
    hours (22:00–08:00), so it comes at 21:59 Tokyo time the evening before; two hours before
    (16:00 Chicago, 06:00 or 07:00 in Tokyo) is the last and keeps its time."""
    day_before_in_tokyo = datetime.combine(day - timedelta(days=1), time(11), CHICAGO).astimezone(TOKYO)
    assert day_before_in_tokyo.date() == day and day_before_in_tokyo.hour in (1, 2)  # the premise
    return [datetime.combine(day - timedelta(days=1), time(21, 59), TOKYO).astimezone(UTC),
            datetime.combine(day, time(16), CHICAGO).astimezone(UTC)]


def pending(day: date) -> list[tuple]:
    """The two reminders of the Chicago event on `day`, planned and not yet sent."""
    return [(number, due, "pending") for number, due in enumerate(expected_due(day))]


def reminded_of_a_chicago_event(api, coordinator, setting, mailbox, address: str) -> tuple[date, dict]:
    """(day, event): an approved event in Chicago two days from now, and `address` (a reader in
    Tokyo) subscribed to its reminders."""
    week = this_weeks_campaign(api, coordinator, setting)
    day = datetime.now(CHICAGO).date() + timedelta(days=2)
    event = chicago_event(api, coordinator, week, day)
    confirmed_subscriber(api, mailbox, address, scope="event", event_id=event["id"], timezone="Asia/Tokyo",
                         wants=["reminders"])
    return day, event


# -- reminders -------------------------------------------------------------------------------

def test_reminders_are_planned_sent_once_moved_and_cancelled(api, coordinator, setting, mailbox):
    owner = setting["tokens"][0]
    address = "reader@example.jp"
    day, event = reminded_of_a_chicago_event(api, coordinator, setting, mailbox, address)
    dispatcher = MailDispatcher(notify_kernel(api))

    run(dispatcher)
    assert reminders_of(api, event["id"]) == pending(day)

    make_due(api, event["id"], 0)
    run(dispatcher)
    wait_until(lambda: with_subject(mailbox, address, "Reminder:"), message="the reminder e-mail")
    [reminder] = with_subject(mailbox, address, "Reminder:")
    text = text_of(reminder)
    starts = datetime.combine(day, time(18), CHICAGO)
    chicago_zone = f"America/Chicago, {starts.tzname()}"
    assert "Rally in Chicago" in text and f"18:00 ({chicago_zone})" in text
    assert f"{starts.astimezone(TOKYO):%H:%M} (Asia/Tokyo, JST)" in text  # the subscriber's own time too
    assert "50 W Adams St" not in text and reminder["List-Unsubscribe"]
    assert [status for _, _, status in reminders_of(api, event["id"])] == ["sent", "pending"]

    run(dispatcher)  # again: nothing new is due
    restarted = MailDispatcher(notify_kernel(api))  # a worker started afresh reads the stored schedule
    run(restarted)
    settled(api)
    assert len(with_subject(mailbox, address, "Reminder:")) == 1

    # The owner moves the event a day later (a coordinator accepts it): the reminders follow it.
    later = day + timedelta(days=1)
    accepted_change(api, coordinator, owner, event["id"], {"start": f"{later}T18:00:00", "end": f"{later}T20:00:00"})
    new_start = datetime.combine(later, time(18), CHICAGO)

    def notify_knows_the_new_time():
        with notify_kernel(api).db.transaction() as s:
            return s.get(KnownEvent, event["id"]).starts_at == new_start

    wait_until(notify_knows_the_new_time, message="notify to learn of the new time")
    assert [r for r in reminders_of(api, event["id"]) if r[2] == "pending"] == []
    run(restarted)
    assert reminders_of(api, event["id"]) == pending(later)

    # The owner cancels it: the reminders are cancelled and the subscriber told.
    assert api.post(f"{EVENTS}/{event['id']}/cancellation", token=owner).status_code == 200
    wait_until(lambda: with_subject(mailbox, address, "Cancelled:"), message="the cancellation e-mail")
    assert "Rally in Chicago" in with_subject(mailbox, address, "Cancelled:")[0]["Subject"]
    assert [status for _, _, status in reminders_of(api, event["id"])] == ["cancelled", "cancelled"]
    make_due(api, event["id"], 0, 1)
    run(MailDispatcher(notify_kernel(api)))
    settled(api)
    assert len(with_subject(mailbox, address, "Reminder:")) == 1
    assert len(with_subject(mailbox, address, "Cancelled:")) == 1
    assert [status for _, _, status in reminders_of(api, event["id"])] == ["cancelled", "cancelled"]


def test_an_event_moved_after_its_reminders_went_out_is_reminded_of_again(api, coordinator, setting, mailbox):
    address = "postponed@example.jp"
    day, event = reminded_of_a_chicago_event(api, coordinator, setting, mailbox, address)
    dispatcher = MailDispatcher(notify_kernel(api))
    run(dispatcher)
    make_due(api, event["id"], 0, 1)  # both went out (say the event was two hours away) …
    run(dispatcher)
    wait_until(lambda: len(with_subject(mailbox, address, "Reminder:")) == 2, message="both reminders")

    later = day + timedelta(days=2)  # … and then it was postponed by two days
    accepted_change(api, coordinator, setting["tokens"][0], event["id"],
                    {"start": f"{later}T18:00:00", "end": f"{later}T20:00:00"})
    new_start = datetime.combine(later, time(18), CHICAGO)

    def notify_knows_the_new_time():
        with notify_kernel(api).db.transaction() as s:
            return s.get(KnownEvent, event["id"]).starts_at == new_start

    wait_until(notify_knows_the_new_time, message="notify to learn of the new time")
    run(dispatcher)
    assert [(slot, due) for slot, due, status in reminders_of(api, event["id"]) if status == "pending"] == \
        [(0, expected_due(later)[0]), (1, expected_due(later)[1])]


# -- report requests -------------------------------------------------------------------------

def test_an_organisation_is_asked_for_its_report_once_after_its_event_ends(api, coordinator, setting, mailbox):
    owner = setting["tokens"][0]
    contact = "reports@cpk.example"
    assert api.put("/api/notify/contacts/me", token=owner, json={"email": contact}).status_code == 200
    week = this_weeks_campaign(api, coordinator, setting)
    nairobi_today = datetime.now(ZoneInfo("Africa/Nairobi")).date()
    yesterday, tomorrow = nairobi_today - timedelta(days=1), nairobi_today + timedelta(days=1)
    ended = approved(api, coordinator, week, title={"en": "Yesterday's march"},
                     start=f"{yesterday}T10:00:00", end=f"{yesterday}T12:00:00")
    coming = approved(api, coordinator, week, title={"en": "Tomorrow's march"},
                      start=f"{tomorrow}T10:00:00", end=f"{tomorrow}T12:00:00")
    long_over = approved(api, coordinator, setting, title={"en": "The march of 2022"})  # ended years ago
    wait_until(lambda: all(known_to_notify(api, e["id"]) for e in (ended, coming, long_over)),
               message="notify to know the approved events")

    run(MailDispatcher(notify_kernel(api)))
    wait_until(lambda: with_subject(mailbox, contact, "Please send your report"), message="the report request")
    settled(api)
    [request] = with_subject(mailbox, contact, "Please send your report")
    assert "Yesterday's march" in request["Subject"]
    assert "http://doa.test/api/media/reports" in text_of(request)
    assert "List-Unsubscribe" not in request  # told as a matter of course

    run(MailDispatcher(notify_kernel(api)))  # again, and after a restart: not asked twice
    settled(api)
    assert len(with_subject(mailbox, contact, "Please send your report")) == 1
    with notify_kernel(api).db.transaction() as s:
        asked = {e.id for e in s.execute(select(KnownEvent).where(KnownEvent.report_requested.is_(True))).scalars()}
    assert asked == {ended["id"]}


# -- retention -------------------------------------------------------------------------------

def test_subscribers_of_a_closed_campaign_and_unconfirmed_ones_are_purged(api, coordinator, setting, mailbox):
    campaign = setting["campaign"]["id"]
    other = this_weeks_campaign(api, coordinator, setting)["campaign"]["id"]
    event = approved(api, coordinator, setting)
    kernel = notify_kernel(api)

    def campaigns_known():
        with kernel.db.transaction() as s:
            return all(s.get(KnownCampaign, c) is not None for c in (campaign, other))

    wait_until(campaigns_known, message="notify to know the campaigns")
    wait_until(lambda: known_to_notify(api, event["id"]), message="notify to know the approved event")
    purged = {"whole@example.org": {"scope": "campaign", "campaign_id": campaign},
              "one-event@example.org": {"scope": "event", "event_id": event["id"]},
              "ke-2022@example.org": {"scope": "country", "country": "KE", "campaign_id": campaign}}
    kept = {"ke@example.org": {"scope": "country", "country": "KE"},
            "next@example.org": {"scope": "campaign", "campaign_id": other}}
    for address, fields in {**purged, **kept}.items():
        confirmed_subscriber(api, mailbox, address, **fields)
    for address in ("late@example.org", "waiting@example.org"):  # never confirmed
        assert api.post(SUBSCRIPTIONS, json={"email": address, "scope": "country", "country": "KE"}).status_code == 202
    wait_until(lambda: mailbox.to("late@example.org") and mailbox.to("waiting@example.org"),
               message="the confirmation e-mails")
    settled(api)
    hours = kernel.config.NOTIFY_CONFIRM_HOURS
    with kernel.db.transaction() as s:  # the late one asked longer ago than confirmations wait
        s.execute(update(Subscription).where(Subscription.email == "late@example.org").values(
            created_at=utcnow() - timedelta(hours=hours + 1), expires_at=utcnow() - timedelta(hours=1)))

    def addresses() -> set[str]:
        with kernel.db.transaction() as s:
            return set(s.execute(select(Subscription.email)).scalars())

    def recipients() -> set[str]:
        with kernel.db.transaction() as s:
            ids = dict(s.execute(select(Subscription.id, Subscription.email)).all())
            return {ids.get(r.split(":", 1)[1], r) for r in s.execute(
                select(Notification.recipient).where(Notification.recipient.like("subscription:%"))).scalars()}

    everyone = set(purged) | set(kept) | {"late@example.org", "waiting@example.org"}
    assert addresses() == everyone
    run(MailDispatcher(kernel))  # only the unconfirmed one past its time goes
    assert addresses() == everyone - {"late@example.org"}

    closed = api.patch(f"{CAMPAIGNS}/{campaign}", token=coordinator, json={"status": "closed"})
    assert closed.status_code == 200, closed.json

    def closed_known():
        with kernel.db.transaction() as s:
            known = s.get(KnownCampaign, campaign)
            return known.status == "closed" and known.closed_at is not None

    wait_until(closed_known, message="notify to learn that the campaign closed")
    run(MailDispatcher(kernel))  # within the retention period: nothing more goes
    assert addresses() == everyone - {"late@example.org"}

    kernel.config = kernel.config.replace(NOTIFY_RETENTION_DAYS=0)
    run(MailDispatcher(kernel))
    assert addresses() == set(kept) | {"waiting@example.org"}
    assert recipients() == set(kept) | {"waiting@example.org"}  # their confirmations' log went with them
