"""Builds the media service."""
from __future__ import annotations

from pathlib import Path

from services.media import processing, revisions  # noqa: F401 - revisions: for its listener (keeps the revisions)
from services.media.campaigns_api import campaigns_blp
from services.media.handlers import handles
from services.media.materials_api import materials_blp
from services.media.media_api import blp as media_blp
from services.media.models import metadata
from services.media.reports_api import reports_blp
from services.media.resumable_api import resumable_blp
from services.media.storage import open_storage
from services.media.uploads_api import uploads_blp
from shared.kernel import Kernel
from shared.service import ServiceSpec


def _bootstrap(kernel: Kernel) -> None:
    """The media service's dependencies, built once per process."""
    storage = open_storage(kernel.config)
    kernel.provide(storage=storage, wake_processor=processing.WAKE.set)
    kernel.background.append(("processing", processing.Processor(kernel, storage).run_forever))


SPEC = ServiceSpec(
    name="media", title="dayofaction media", description="Safe uploads, reports and the material package.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [uploads_blp, resumable_blp, media_blp, reports_blp, campaigns_blp, materials_blp],
    handlers=handles, on_build=_bootstrap,
)
build = SPEC.build
create_app = SPEC.create_app
