"""The events service's tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_idempotency_table, add_kernel_tables
from shared.columns import COLUMN_TYPES, AwaitingDecision, NewId, NewTimeOrderedId, Ref, Timestamp
from shared.copies import Copy, col, copied, updates
from shared.revisions import add_public_revisions_table


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


# The service's own copy of an organisation's public fields, kept from the bus (shared.copies).
# A suspension or reinstatement that overtakes the registration is retried until it applies.
ORGANISATIONS = Copy(
    Base, "known_organisations", model="KnownOrganisation",
    doc="The service's own copy of an organisation's public fields, kept from the bus.",
    columns={"abbreviation": String(40), "name": String(300), "name_en": String(300), "country": String(2),
             "timezone": String(64), "languages": col(JSON, default=list),
             "website": col(String(500), nullable=True), "status": String(20)},
    feeds={"organisation.registered": copied(), "organisation.updated": copied(),
           "organisation.suspended": updates(status="suspended", missing="retry"),
           "organisation.reinstated": updates(status="active", missing="retry")})
KnownOrganisation = ORGANISATIONS.model


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_created", "created_at", "id"),
                      Index("ix_campaigns_status_created", "status", "created_at", "id"))

    id: Mapped[NewTimeOrderedId]  # see shared.ids
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list] = mapped_column(JSON, default=list)
    day_of_action: Mapped[date] = mapped_column(Date)
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    # Organisations that endorse after this date are listed as subsequent signatories.
    list_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    activity_types: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    adoption_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    adopted_at: Mapped[datetime | None]
    # Days after each event ends that its participants' sign-ups are kept (notify shreds them);
    # none: the platform's PARTICIPATION_KEEP_DAYS.
    participation_keep_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class Endorsement(Base):
    """An organisation's endorsement of a campaign; withdrawing keeps the row."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id", name="uq_endorsements_campaign_org"),
                      Index("ix_endorsements_order", "campaign_id", "endorsed_at", "id"))

    id: Mapped[NewId]
    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[Ref]
    endorsed_at: Mapped[Timestamp]
    withdrawn_at: Mapped[datetime | None]


class LocalEvent(Base):
    """A local event an organisation holds in its own city and time zone."""

    __tablename__ = "local_events"
    __table_args__ = (Index("ix_local_events_start", "starts_at", "id"),
                      Index("ix_local_events_campaign_start", "campaign_id", "starts_at", "id"),
                      Index("ix_local_events_country_start", "country", "starts_at", "id"),
                      Index("ix_local_events_organisation", "organisation_id", "starts_at"))

    id: Mapped[NewTimeOrderedId]  # see shared.ids
    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("campaigns.id"))
    organisation_id: Mapped[Ref]
    # Organisations that accepted to host it too (cohosts.py): a joint event of signatories.
    co_hosts: Mapped[list] = mapped_column(JSON, default=list)
    # Text per language ({"en": "...", "de": "..."}); the first of `languages` is the fallback.
    title: Mapped[dict] = mapped_column(JSON)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    languages: Mapped[list] = mapped_column(JSON)
    activity_type: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    venue: Mapped[str | None] = mapped_column(String(300), nullable=True)
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # As the organisation gave them (wall-clock, no offset), and the instants they mean.
    starts_local: Mapped[str] = mapped_column(String(19))
    ends_local: Mapped[str] = mapped_column(String(19))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    online_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    expected_participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visibility: Mapped[str] = mapped_column(String(20), default="public")  # public | coordinators
    address_public: Mapped[str] = mapped_column(String(20), default="never")  # never | now | before
    address_public_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # When the bus was told where it is, the moment its hidden address became public (disclosures.py).
    place_told_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="submitted")
    # Set by a coordinator's approval: only an event once approved is ever public (a
    # cancelled one included, so calendars learn of the cancellation).
    approved_at: Mapped[datetime | None]
    # Lower-cased text of the titles, descriptions and city, for free-text search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    outside_window: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class EventHost(Base):
    """An organisation the event's owner invited to host it too: invited, then accepted (it
    joins the event's `co_hosts`) — or declined, or removed, and the row goes."""

    __tablename__ = "event_hosts"

    event_id: Mapped[str] = mapped_column(String(36), ForeignKey("local_events.id"), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="invited")  # invited | accepted
    invited_at: Mapped[Timestamp]
    accepted_at: Mapped[datetime | None]


class EventChange(AwaitingDecision, Base):
    """An organisation's change to an approved event, kept aside until a coordinator decides:
    meanwhile the event, and everything the public sees of it, stays as approved. `proposed`: the
    event's whole editable state (times as ISO text), checked as an edit is; `before`: the approved
    values of the fields it changes. Also `replaced` (by a newer one); withdrawn: back as
    approved, or cancelled."""

    __tablename__ = "event_changes"
    __table_args__ = (Index("ix_event_changes_event", "event_id", "proposed_at"),
                      Index("ix_event_changes_status", "status", "proposed_at", "id"),
                      # One pending change per event, whatever runs at the same moment.
                      Index("uq_event_changes_pending", "event_id", unique=True,
                            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")))

    id: Mapped[NewId]
    event_id: Mapped[Ref] = mapped_column(ForeignKey("local_events.id"))
    proposed_by: Mapped[Ref]


class EventTally(Base):
    """Approved events and their expected participants per campaign, country, activity type,
    organisation and visibility: what the statistics add up (kept by `tallies`)."""

    __tablename__ = "event_tallies"

    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    activity_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visibility: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    expected_participants: Mapped[int] = mapped_column(Integer, default=0)


class CountryHold(Base):
    """A coordinator's emergency stop: no event of this country in any public output."""

    __tablename__ = "country_holds"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    held_at: Mapped[Timestamp]
    held_by: Mapped[Ref]


class PlaceKey(Base):
    """The server's secret that chooses each event's coarse point while its address is hidden
    (places.py), made on first use: the same in every process, so the point is stable."""

    __tablename__ = "place_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))


add_kernel_tables(Base.metadata)
add_idempotency_table(Base.metadata)  # added later, by its own migration
# How often what the public sees of each campaign has changed (kept by `revisions`).
public_revisions = add_public_revisions_table(Base.metadata)
metadata = Base.metadata
