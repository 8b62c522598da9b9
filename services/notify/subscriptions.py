"""Subscriptions of the public (no account): double opt-in, one-click unsubscribe, erasure of
everything held about an address, and purging what is no longer needed. Each use case takes
a session and commits nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from services.notify.fanout import CITY_KEY_LENGTH, add_notice, city_key, one, to_recipients
from services.notify.forgetting import SUBSCRIBER_TABLES, forget_mail
from services.notify.mail.render import country_name, scope_label
from services.notify.models import (
    Erasures,
    KnownCampaign,
    KnownEvent,
    Notice,
    Notification,
    Participation,
    Reminder,
    Subscription,
)
from shared.config import Config
from shared.db import utcnow
from shared.errors import Invalid
from shared.ids import refuse_unknown


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[{"field": field, "location": "json", "message": message}])


def scope_of(session: Session, fields: dict) -> tuple[str, str | None, str]:
    """(scope id, campaign id, a label for the e-mail) of what the subscriber asked for: the
    label names the campaign too, in the subscriber's language, so the confirmation says which
    day of action it is about."""
    scope = fields["scope"]
    campaign_id = fields.get("campaign_id")
    campaign = None
    language = fields.get("language") or "en"
    if campaign_id:
        campaign = session.get(KnownCampaign, campaign_id)
        if campaign is None:
            refuse_unknown(campaign_id, _invalid("campaign_id", "No open campaign has this id."), "this campaign")
        if campaign.status == "draft":
            raise _invalid("campaign_id", "No open campaign has this id.")
    name = campaign.name if campaign else None
    if scope == "campaign":
        if campaign is None:
            raise _invalid("campaign_id", "Name the campaign to follow.")
        return campaign.id, campaign.id, scope_label(language, campaign=name)
    if scope == "event":
        event_id = fields.get("event_id") or ""
        event = session.get(KnownEvent, event_id)
        if event is None:
            refuse_unknown(event_id, _invalid("event_id", "No public event has this id."), "this event")
        if event.status != "approved" or event.visibility != "public":
            raise _invalid("event_id", "No public event has this id.")
        host = session.get(KnownCampaign, event.campaign_id)
        title = next(iter(event.title.values()), "")
        return event.id, event.campaign_id, f"{title} ({host.name})" if host else title
    if not fields.get("country"):
        raise _invalid("country", f"A {scope} subscription names its country.")
    if scope == "country":
        return fields["country"], campaign_id, scope_label(language, country=fields["country"], campaign=name)
    if not (fields.get("city") or "").strip():
        raise _invalid("city", "Name the city to follow.")
    key = city_key(fields["country"], fields["city"])
    if len(key) > CITY_KEY_LENGTH:
        raise _invalid("city", "The city's name is too long.")
    place = f"{fields['city'].strip()}, {country_name(fields['country'], language)}"
    return key, campaign_id, scope_label(language, country=place, campaign=name)


RESEND_AFTER = timedelta(minutes=15)  # a confirmation is sent again no sooner than this
CONFIRMATIONS_PER_DAY = 5  # to one address, whoever asks: the form is not a way to flood a mailbox


def subscribe(session: Session, config: Config, fields: dict, again: bool = False) -> Subscription | None:
    """A pending subscription and its confirmation e-mail. Asking again for the same address
    and scope changes nothing of what was asked first (only the address's owner decides, by
    confirming), sends the confirmation again at most every 15 minutes, and sends nothing once
    confirmed; the answer is the same either way, so nobody learns who subscribes to what."""
    email = fields["email"].strip().lower()
    scope_id, campaign_id, label = scope_of(session, fields)
    now = utcnow()
    existing = session.execute(select(Subscription).where(
        Subscription.email == email, Subscription.scope == fields["scope"], Subscription.scope_id == scope_id)
    ).scalars().first()
    # `again`: a sign-up for an event confirms itself by this e-mail even if the address had
    # subscribed to the event before (so signing up someone else's address tells nothing).
    if existing is not None and ((existing.status == "confirmed" and not again) or
                                 (existing.confirmation_sent_at or now) > now - RESEND_AFTER):
        return None
    sent_today = session.execute(select(func.count()).select_from(Subscription).where(
        Subscription.email == email, Subscription.confirmation_sent_at > now - timedelta(days=1))).scalar_one()
    if sent_today >= CONFIRMATIONS_PER_DAY:
        return None
    if existing is None:
        existing = Subscription(email=email, scope=fields["scope"], scope_id=scope_id, campaign_id=campaign_id,
                                language=fields["language"], timezone=fields.get("timezone"),
                                wants=sorted(set(fields["wants"])), status="pending")
        session.add(existing)
    if existing.status == "pending":
        existing.expires_at = now + timedelta(hours=config.NOTIFY_CONFIRM_HOURS)
    existing.confirmation_sent_at = now
    session.flush()
    notice = f"confirm:{existing.id}:{int(now.timestamp())}"
    add_notice(session, notice, "confirm_subscription", {"scope_label": label, "scope": fields["scope"],
                                                         "expires_hours": config.NOTIFY_CONFIRM_HOURS})
    to_recipients(session, notice, one(f"subscription:{existing.id}"))
    return existing


def confirm(session: Session, subscription_id: str) -> Subscription | None:
    subscription = session.get(Subscription, subscription_id)
    if subscription is not None and subscription.status == "pending":
        subscription.status, subscription.confirmed_at, subscription.expires_at = "confirmed", utcnow(), None
    return subscription


def _forget(session: Session, subscription_ids) -> None:
    recipients = [f"subscription:{i}" for i in subscription_ids]
    if not recipients:
        return
    forget_mail(session, recipients, SUBSCRIBER_TABLES)  # the .eml files and old row versions too
    session.execute(delete(Notification).where(Notification.recipient.in_(recipients)))
    for subscription_id in subscription_ids:  # the confirmation named the scope: it goes too
        session.execute(delete(Notice).where(Notice.id.like(f"confirm:{subscription_id}:%")))
    session.execute(delete(Reminder).where(Reminder.subscription_id.in_(subscription_ids)))
    session.execute(delete(Subscription).where(Subscription.id.in_(subscription_ids)))


def unsubscribe(session: Session, subscription_id: str) -> bool:
    found = session.get(Subscription, subscription_id) is not None
    _forget(session, [subscription_id])
    return found


def sign_up_of(session: Session, subscription_id: str) -> str | None:
    """The sign-up ("I'll come" with an address) this subscription was asked for, if any: its
    confirmation holds the places, and its e-mails carry the sign-up's private link."""
    return session.execute(select(Participation.id).where(
        Participation.subscription_id == subscription_id, Participation.status != "cancelled")).scalars().first()


def a_sign_up_of_address(session: Session, subscription_id: str) -> Participation | None:
    """One sign-up made with the address of this subscription, if any (its erasure erases
    every other of the address with it: participation.erase)."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        return None
    return session.execute(select(Participation).where(Participation.email == subscription.email)).scalars().first()


def erase(session: Session, subscription_id: str) -> int:
    """Everything held about the address of this subscription goes — its other subscriptions,
    what waits to be sent, the delivery log; a count of erasures remains. (The link names a
    subscription, not the address, so no address ever stands in a URL or a log.)"""
    subscription = session.get(Subscription, subscription_id)
    return 0 if subscription is None else erase_address(session, subscription.email)


def erase_address(session: Session, email: str) -> int:
    """`erase`, by the address itself (a sign-up's erasure knows it)."""
    ids = list(session.execute(select(Subscription.id).where(Subscription.email == email)).scalars())
    _forget(session, ids)
    counter = session.get(Erasures, 1)
    if counter is None:
        session.add(Erasures(id=1, count=1))
    else:
        counter.count += 1
    return len(ids)


def purge(session: Session, config: Config, now: datetime) -> int:
    """Unconfirmed subscriptions past their time, and the subscribers of campaigns closed
    longer ago than the retention period."""
    closed = select(KnownCampaign.id).where(KnownCampaign.closed_at.is_not(None),
                                            KnownCampaign.closed_at <= now - timedelta(days=config.NOTIFY_RETENTION_DAYS))
    ids = list(session.execute(select(Subscription.id).where(or_(
        (Subscription.status == "pending") & (Subscription.expires_at <= now),
        Subscription.campaign_id.in_(closed.scalar_subquery())))).scalars())
    _forget(session, ids)
    # Notices nobody waits for any more keep no text of events either.
    session.execute(delete(Notice).where(~select(Notification.id).where(Notification.notice_id == Notice.id)
                                         .exists(), Notice.created_at <= now - timedelta(days=30)))
    return len(ids)
