"""The notify service's tables. Contact data (subscribers' and organisations' addresses)
lives here and nowhere else; the bus never carries it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_idempotency_table, add_kernel_tables
from shared.columns import COLUMN_TYPES, NewId, Ref, Timestamp
from shared.copies import Copy, col, copied
from shared.country_holds import country_holds_copy
from shared.db import UTCDateTime
from shared.ids import new_id


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


class LinkKey(Base):
    """The secret that signs the links in e-mails (confirm, unsubscribe, erase), made on the
    first start unless NOTIFY_LINK_SECRET gives one."""

    __tablename__ = "link_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))


# Copies of other services' facts, kept from the bus (shared.copies).
CAMPAIGNS = Copy(
    Base, "known_campaigns", model="KnownCampaign",
    columns={"name": String(300), "status": String(10), "closed_at": col(UTCDateTime(), nullable=True),
             "participation_keep_days": col(Integer, nullable=True)},
    # When the campaign first closed (its subscribers' data is purged some time after); none while open.
    # participation_keep_days: its sign-ups' retention (none: PARTICIPATION_KEEP_DAYS).
    feeds=dict.fromkeys(("campaign.created", "campaign.updated", "campaign.rescheduled"), copied(
        "name", "status", closed_at=lambda m: m.occurred_at if m.data["status"] == "closed" else None,
        participation_keep_days=lambda m: m.data.get("participation_keep_days"))),
    merge={"closed_at": lambda row, new: case((new.status == "closed", func.coalesce(row.closed_at, new.closed_at)),
                                              else_=None)})
KnownCampaign = CAMPAIGNS.model

ORGANISATIONS = Copy(
    Base, "known_organisations", model="KnownOrganisation",
    columns={"abbreviation": String(40), "name": String(300)},
    feeds={"organisation.registered": copied(), "organisation.updated": copied()})
KnownOrganisation = ORGANISATIONS.model

# Applied by the handlers of these messages themselves (they need the event's status before).
EVENTS = Copy(
    Base, "known_events", model="KnownEvent",
    doc="What notifications say of an event (never its address: the bus does not carry it).",
    columns={"campaign_id": String(36), "organisation_id": String(36), "title": JSON, "languages": JSON,
             "city": String(200), "country": String(2), "timezone": String(64), "starts_local": String(19),
             "starts_at": UTCDateTime(), "ends_at": UTCDateTime(), "status": String(20), "visibility": String(20),
             "activity_type": String(40), "co_hosts": col(JSON, default=list)},
    own={"report_requested": col(Boolean, default=False)},
    feeds=dict.fromkeys(("event.submitted", "event.approved", "event.rejected", "event.updated", "event.cancelled"),
                        copied()))
KnownEvent = EVENTS.model


class Contact(Base):
    """Where an organisation or a coordinator wants to be told, set by itself."""

    __tablename__ = "contacts"

    owner_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))  # organisation | coordinator
    email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[Timestamp]


class Subscription(Base):
    """A member of the public who asked to be told about a scope: pending until the link in
    the confirmation e-mail is followed, then confirmed."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_scope", "scope", "scope_id", "status"),
                      UniqueConstraint("email", "scope", "scope_id", name="uq_subscriptions_email_scope"),
                      Index("ix_subscriptions_expiry", "status", "expires_at"))

    id: Mapped[NewId]
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # campaign (scope_id: its id) | country (code) | city ("KE/nairobi") | event (its id)
    scope: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[str] = mapped_column(String(250))
    campaign_id: Mapped[Ref | None]  # for purging after it closes
    wants: Mapped[list] = mapped_column(JSON)  # new_events, changes, reminders, reports
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[Timestamp]
    confirmed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # while pending
    confirmation_sent_at: Mapped[datetime | None]


class EventPlaces(Base):
    """An event's places: the host's settings and the running counts, in people (a sign-up of
    three is three). Changed only by conditional updates, so however many sign-ups arrive at
    once no more places are taken than there are (services/notify/participation.py)."""

    __tablename__ = "event_places"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)  # none: no limit
    anonymous_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)  # people without an address
    coming: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    anonymous: Mapped[int] = mapped_column(Integer, default=0)  # coming or waiting without an address
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    checked_in: Mapped[int] = mapped_column(Integer, default=0)  # counted at the door, signed up or not
    updated_at: Mapped[Timestamp]


class Participation(Base):
    """Someone who said they will come: how many they bring, and nothing else required. The
    private link's key is worked out from `id` (participation.key_of), never stored."""

    __tablename__ = "participations"
    __table_args__ = (Index("ix_participations_event", "event_id", "status", "seq"),
                      Index("ix_participations_subscription", "subscription_id"),
                      UniqueConstraint("id", name="uq_participations_id"),
                      # One sign-up an address for an event, until it is cancelled (then it may sign up again).
                      Index("uq_participations_event_email", "event_id", "email", unique=True,
                            sqlite_where=text("status != 'cancelled'"), postgresql_where=text("status != 'cancelled'")),
                      UniqueConstraint("event_id", "code", name="uq_participations_event_code"))

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # arrival order
    id: Mapped[str] = mapped_column(String(36), default=new_id)
    event_id: Mapped[Ref]
    campaign_id: Mapped[Ref | None]
    status: Mapped[str] = mapped_column(String(12))  # unconfirmed (an address's, until) | coming | waiting | cancelled
    party_size: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)  # to the hosts, never the public
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)  # lower-cased
    subscription_id: Mapped[Ref | None]  # the event's changes and reminders, once confirmed
    language: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(8))  # shown at the door instead of the link's QR code
    created_at: Mapped[Timestamp]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]


class HostMessage(Base):
    """What an event's hosts wrote to its participants ("the meeting point moved"), in one or
    more languages: mailed to those with a confirmed address, shown on every link's page, kept
    for coordinators to see."""

    __tablename__ = "host_messages"
    __table_args__ = (Index("ix_host_messages_event", "event_id", "created_at"),)

    id: Mapped[NewId]
    event_id: Mapped[Ref]
    author_role: Mapped[str] = mapped_column(String(20))  # organisation | coordinator
    author_id: Mapped[Ref]
    text: Mapped[dict] = mapped_column(JSON)  # language → text
    created_at: Mapped[Timestamp]


class CheckIn(Base):
    """One action of a door's check-in page, by the id the page gave it: an action sent again
    (the page was offline, or unsure it had been heard) is recognised and not counted twice."""

    __tablename__ = "check_ins"
    __table_args__ = (Index("ix_check_ins_event", "event_id", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[Ref]
    kind: Mapped[str] = mapped_column(String(12))  # door | participant
    delta: Mapped[int] = mapped_column(Integer)  # people counted (a party's size; -1 at the door)
    at: Mapped[datetime]  # as the page recorded it
    received_at: Mapped[Timestamp]


class Notice(Base):
    """What one message (or reminder) says, once; each recipient's notification points here."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the message id, or "reminder:<id>"
    kind: Mapped[str] = mapped_column(String(40))
    context: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[Timestamp]


class Notification(Base):
    """One e-mail to one recipient about one notice: the unique key makes a message sent once
    per recipient however often the bus delivers it."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("notice_id", "recipient", name="uq_notifications_notice_recipient"),
                      Index("ix_notifications_due", "status", "next_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(String(100), ForeignKey("notices.id"))
    # "subscription:<id>" or "contact:<owner id>": the address is looked up when sending, so
    # erasing it stops what is still queued.
    recipient: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[Timestamp]
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None]


class Erasures(Base):
    """How many addresses were erased: the only trace an erasure leaves."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id", "slot", name="uq_reminders_slot"),
                      Index("ix_reminders_due", "status", "due_at"))

    id: Mapped[NewId]
    subscription_id: Mapped[Ref] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[Ref]
    slot: Mapped[int] = mapped_column(Integer)  # which of the configured reminder times
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sent | cancelled


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_owner", "owner_id", "created_at"),)

    id: Mapped[NewId]
    owner_id: Mapped[Ref]
    role: Mapped[str] = mapped_column(String(20))  # organisation | coordinator
    url: Mapped[str] = mapped_column(String(2000))
    types: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | disabled
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Timestamp]


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "message_id", name="uq_webhook_deliveries_message"),
                      Index("ix_webhook_deliveries_due", "status", "next_at"),
                      Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"))

    id: Mapped[NewId]
    endpoint_id: Mapped[Ref] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[Ref]
    type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # the envelope as JSON, signed as it is
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sending | delivered | failed | held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[Timestamp]
    created_at: Mapped[Timestamp]
    delivered_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """One try at delivering a webhook: the receiver's status code (none if it never answered),
    how long it took, and what went wrong."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "number"),)

    id: Mapped[NewId]
    delivery_id: Mapped[Ref] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[Timestamp]
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


add_kernel_tables(Base.metadata)
add_idempotency_table(Base.metadata)  # added later, by its own migration
COUNTRY_HOLDS = country_holds_copy(Base.metadata)
country_holds = COUNTRY_HOLDS.table
metadata = Base.metadata
