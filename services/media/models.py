"""The media service's tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_idempotency_table, add_kernel_tables
from shared.columns import COLUMN_TYPES, NewId, Ref, Timestamp
from shared.copies import Copy, col, copied, updates
from shared.country_holds import country_holds_copy
from shared.db import UTCDateTime
from shared.revisions import add_public_revisions_table


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


# Copies of other services' facts, kept from the bus (shared.copies).
CAMPAIGNS = Copy(
    Base, "known_campaigns", model="KnownCampaign",
    doc="The service's copy of a campaign's name and state, kept from the events service's messages, "
        "with the media policy coordinators set for it here.",
    columns={"name": String(300), "status": String(10)},
    # Every public photo of the campaign must have its faces blurred.
    own={"require_face_blur": col(Boolean, default=False)},
    feeds=dict.fromkeys(("campaign.created", "campaign.updated", "campaign.rescheduled"), copied()))
KnownCampaign = CAMPAIGNS.model

ORGANISATIONS = Copy(
    Base, "known_organisations", model="KnownOrganisation",
    doc="The organisations the registry announced, so a coordinator acts only for one that exists and is "
        "not suspended.",
    columns={"status": String(20)},
    feeds={"organisation.registered": copied(), "organisation.updated": copied(),
           "organisation.suspended": copied(status="suspended"), "organisation.reinstated": copied(status="active")})
KnownOrganisation = ORGANISATIONS.model

EVENTS = Copy(
    Base, "known_events", model="KnownEvent",
    doc="What media needs of an approved local event: whose it is, and when it ends (its media stay "
        "private until then).",
    columns={"campaign_id": String(36), "organisation_id": String(36), "country": String(2),
             "ends_at": UTCDateTime(), "status": String(20), "visibility": String(20)},
    # Only an approved event is added; a change or cancellation of one never approved changes nothing.
    feeds={"event.approved": copied(), **dict.fromkeys(("event.updated", "event.rejected", "event.cancelled"),
                                                       updates())})
KnownEvent = EVENTS.model

# People counted at each event's door (notify's check-in), the figure its turnout takes where
# there is one. A table of its own, not a column of KnownEvent: its messages come from another
# service, and newer-wins on one row would let a count drop an event's older change.
CHECK_INS = Copy(
    Base, "event_check_ins", model="EventCheckIns", key={"event_id": None},
    doc="How many were counted at an event's door, from notify's event.participation_changed.",
    columns={"campaign_id": String(36), "checked_in": Integer()},
    feeds={"event.participation_changed": copied("campaign_id", "checked_in")})
EventCheckIns = CHECK_INS.model


class Blob(Base):
    """Stored content, named by its SHA-256: the same bytes are stored once."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Timestamp]


class MediaItem(Base):
    """One upload and what processing made of it.

    status: received (waiting for the worker) → processing → processed, or rejected (with
    `reason`; nothing of the file kept), or held (a video or song kept unprocessed because
    ffmpeg is missing: never published until processed)."""

    __tablename__ = "media_items"
    __table_args__ = (Index("ix_media_items_status", "status", "created_at"),
                      Index("ix_media_items_owner", "organisation_id", "created_at", "id"),
                      Index("ix_media_items_original", "original_sha256"))

    id: Mapped[NewId]
    organisation_id: Mapped[Ref | None]  # None: a coordinator's
    uploaded_by: Mapped[Ref]
    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("known_campaigns.id"))
    event_id: Mapped[Ref | None] = mapped_column(ForeignKey("known_events.id"))
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))  # as sniffed from the upload
    size: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the uploader's file name, cleaned
    # The SHA-256 of the upload as it came; the upload itself (metadata and all) is deleted
    # once the item is processed or rejected.
    original_sha256: Mapped[str] = mapped_column(String(64))
    # The uploader's statement that the people shown agreed to publication.
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    blur_faces: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="received")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    # What processing made: the clean file, and variants by name ("320", "1280", "poster").
    clean_sha256: Mapped[str | None] = mapped_column(String(64), ForeignKey("blobs.sha256"), nullable=True)
    clean_content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    variants: Mapped[dict] = mapped_column(JSON, default=dict)  # name -> {"sha256", "content_type", "width"?}
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration: Mapped[float | None] = mapped_column(nullable=True)
    faces_blurred: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[Timestamp]
    processed_at: Mapped[datetime | None]


class ResumableUpload(Base):
    """A tus upload in progress: its bytes grow in a local part file until complete."""

    __tablename__ = "resumable_uploads"

    id: Mapped[NewId]
    organisation_id: Mapped[Ref | None]
    uploaded_by: Mapped[Ref]
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    options: Mapped[dict] = mapped_column(JSON)  # campaign, event, consent, blur_faces, name
    media_id: Mapped[Ref | None]  # once complete
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime]


class Report(Base):
    """What an organisation tells of its event (or of its part in the campaign) after the
    day: submitted → published or rejected (with a reason) by a coordinator."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_campaign", "campaign_id", "status", "created_at", "id"),
                      Index("ix_reports_owner", "organisation_id", "created_at", "id"))

    id: Mapped[NewId]
    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("known_campaigns.id"))
    event_id: Mapped[Ref | None] = mapped_column(ForeignKey("known_events.id"))
    organisation_id: Mapped[Ref]
    country: Mapped[str] = mapped_column(String(2))
    title: Mapped[dict] = mapped_column(JSON)  # language → title, the original language first
    text: Mapped[dict] = mapped_column(JSON)  # language → text: the title's languages or fewer
    language: Mapped[str] = mapped_column(String(8))  # the original one, the first of `title`
    turnout: Mapped[int | None] = mapped_column(Integer, nullable=True)  # estimated participants
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    published_at: Mapped[datetime | None]


class ReportMedia(Base):
    """The media attached to a report, in the order the organisation gave them."""

    __tablename__ = "report_media"

    report_id: Mapped[Ref] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    media_id: Mapped[Ref] = mapped_column(ForeignKey("media_items.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class Material(Base):
    """One version of an item of a campaign's material package. Replacing an item adds a
    version (same `series_id`) and keeps the earlier ones."""

    __tablename__ = "materials"
    __table_args__ = (Index("ix_materials_campaign", "campaign_id", "current", "kind", "created_at"),
                      Index("ix_materials_series", "series_id", "version", unique=True))

    id: Mapped[NewId]
    series_id: Mapped[Ref]
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    campaign_id: Mapped[Ref] = mapped_column(ForeignKey("known_campaigns.id"))
    kind: Mapped[str] = mapped_column(String(12))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[Ref] = mapped_column(ForeignKey("media_items.id"))
    published_by: Mapped[Ref]
    created_at: Mapped[Timestamp]


add_kernel_tables(Base.metadata)
add_idempotency_table(Base.metadata)  # added later, by its own migration
COUNTRY_HOLDS = country_holds_copy(Base.metadata)
country_holds = COUNTRY_HOLDS.table
# How often what the public sees of each campaign has changed (kept by `revisions`).
public_revisions = add_public_revisions_table(Base.metadata)
metadata = Base.metadata
