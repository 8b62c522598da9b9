"""The platform's recurring column kinds, declared once (SQLAlchemy's annotated declarative
columns), so a model says what a column is, not how it is stored:

    class Base(DeclarativeBase):
        type_annotation_map = COLUMN_TYPES

    class Endorsement(Base):
        id: Mapped[NewId]
        campaign_id: Mapped[Ref] = mapped_column(ForeignKey("campaigns.id"))
        endorsed_at: Mapped[Timestamp]
        withdrawn_at: Mapped[datetime | None]

A bare `Mapped[datetime]` is a UTC instant (never naive); `| None` makes any kind nullable.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.ids import new_id, new_time_ordered_id

COLUMN_TYPES = {datetime: UTCDateTime()}

NewId = Annotated[str, mapped_column(String(36), primary_key=True, default=new_id)]
# Organisations, campaigns and events: ids that tell how old they are (see shared.ids).
NewTimeOrderedId = Annotated[str, mapped_column(String(36), primary_key=True, default=new_time_ordered_id)]
Ref = Annotated[str, mapped_column(String(36))]  # another row's id, in this service or another
# An instant, now unless told otherwise when the row is inserted.
Timestamp = Annotated[datetime, mapped_column(default=utcnow)]


class AwaitingDecision:
    """The columns of a change kept aside until a coordinator decides (an event's change, an
    organisation's rename): what was proposed, the approved values it would replace, and the
    decision. `status`: pending | accepted | rejected | withdrawn, and whatever a table adds."""

    proposed: Mapped[dict] = mapped_column(JSON)
    before: Mapped[dict] = mapped_column(JSON)
    proposed_at: Mapped[Timestamp]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[Ref | None]
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
