"""Builds the events service."""
from __future__ import annotations

from pathlib import Path

from services.events import api, revisions, tallies  # noqa: F401 - their listeners keep statistics and revisions
from services.events.handlers import build_handlers
from services.events.models import metadata
from services.events.places import keep_place_secret
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="events", title="dayofaction events", description="Campaigns, the day of action and local events.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [api.blp, api.events_blp, api.holds_blp, api.organisations_blp], handlers=build_handlers,
    on_build=keep_place_secret,
)
build = SPEC.build
create_app = SPEC.create_app
