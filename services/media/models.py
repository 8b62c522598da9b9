"""The media service's tables (the kernel's, until its issue adds its own)."""
from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.bus.tables import add_kernel_tables


class Base(DeclarativeBase):
    pass


add_kernel_tables(Base.metadata)
metadata = Base.metadata
