"""The events service's tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_kernel_tables
from shared.db import UTCDateTime, new_id, utcnow


class Base(DeclarativeBase):
    pass


class KnownOrganisation(Base):
    """The service's own copy of an organisation's public fields, kept from the bus."""

    __tablename__ = "known_organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    abbreviation: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    # The newest message applied, so an older one arriving late cannot undo it.
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_created", "created_at", "id"),
                      Index("ix_campaigns_status_created", "status", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
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
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Endorsement(Base):
    """An organisation's endorsement of a campaign; withdrawing keeps the row."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("campaign_id", "organisation_id", name="uq_endorsements_campaign_org"),
                      Index("ix_endorsements_order", "campaign_id", "endorsed_at", "id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(String(36), ForeignKey("campaigns.id"))
    organisation_id: Mapped[str] = mapped_column(String(36))
    endorsed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


add_kernel_tables(Base.metadata)
metadata = Base.metadata
