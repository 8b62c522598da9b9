"""The events service's tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_kernel_tables
from shared.db import UTCDateTime


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


add_kernel_tables(Base.metadata)
metadata = Base.metadata
