"""Builds the media service."""
from __future__ import annotations

from pathlib import Path

from services.media import revisions  # noqa: F401 - its listener keeps the revisions
from services.media.campaigns_api import campaigns_blp
from services.media.handlers import build_handlers
from services.media.materials_api import materials_blp
from services.media.media_api import blp as media_blp
from services.media.models import metadata
from services.media.processing import Processor
from services.media.reports_api import reports_blp
from services.media.resumable_api import resumable_blp
from services.media.storage import open_storage
from services.media.uploads_api import uploads_blp
from shared.kernel import Kernel
from shared.service import ServiceSpec


def _on_build(kernel: Kernel) -> None:
    kernel.extras["storage"] = open_storage(kernel.config)
    kernel.background.append(("processing", Processor(kernel, kernel.extras["storage"]).run_forever))


SPEC = ServiceSpec(
    name="media", title="dayofaction media", description="Safe uploads, reports and the material package.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [uploads_blp, resumable_blp, media_blp, reports_blp, campaigns_blp, materials_blp],
    handlers=build_handlers, on_build=_on_build,
)
build = SPEC.build
create_app = SPEC.create_app
