"""The first start of an empty platform: a coordinator, so a newcomer can act at once."""
from __future__ import annotations

from sqlalchemy import func, select

from services.registry import service
from services.registry.models import Coordinator
from shared.audit import record
from shared.kernel import Kernel


def ensure_first_coordinator(kernel: Kernel) -> str | None:
    """Create the first coordinator if there is none; answer its key, or None."""
    with kernel.db.transaction() as session:
        if session.execute(select(func.count()).select_from(Coordinator)).scalar_one():
            return None
        coordinator = service.create_coordinator(session, "First coordinator")
        _, key = service.issue_key(session, "coordinator", coordinator.id, "first start")
        record(session, kernel.outbox, None, "coordinator.created", "coordinator", coordinator.id,
               after={"name": coordinator.name})
    return key
