"""Builds the media service."""
from __future__ import annotations

from pathlib import Path

from services.media.handlers import build_handlers
from services.media.models import metadata
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="media", title="dayofaction media", description="Safe uploads, reports and the material package.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=list, handlers=build_handlers,
)
build = SPEC.build
create_app = SPEC.create_app
