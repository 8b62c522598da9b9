"""Builds the events service."""
from __future__ import annotations

from pathlib import Path

# revisions and tallies: imported for their listeners, which keep statistics and revisions
from services.events import campaigns_api, cohosts_api, events_api, feeds_api, holds_api, revisions, tallies  # noqa: F401
from services.events.disclosures import watch
from services.events.handlers import handles
from services.events.models import metadata
from services.events.places import keep_place_secret
from shared.kernel import Kernel
from shared.service import ServiceSpec


def _on_build(kernel: Kernel) -> None:
    keep_place_secret(kernel)
    kernel.background.append(("disclosures", watch(kernel)))


SPEC = ServiceSpec(
    name="events", title="dayofaction events", description="Campaigns, the day of action and local events.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [campaigns_api.blp, events_api.campaign_events_blp, events_api.events_blp,
                        holds_api.holds_blp, feeds_api.feeds_blp, cohosts_api.hosts_blp,
                        cohosts_api.invitations_blp], handlers=handles,
    on_build=_on_build,
)
build = SPEC.build
create_app = SPEC.create_app
