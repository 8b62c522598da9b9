"""Builds the notify service."""
from __future__ import annotations

from pathlib import Path

from services.notify.handlers import build_handlers
from services.notify.models import metadata
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="notify", title="dayofaction notify", description="Subscriptions, e-mail, webhooks and reminders.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=list, handlers=build_handlers,
)
build = SPEC.build
create_app = SPEC.create_app
