"""Messages the notify service consumes: for now, what it needs to refuse revoked tokens."""
from __future__ import annotations

from services.notify.models import metadata
from shared.revocations import revocation_handlers


def build_handlers() -> dict:
    return revocation_handlers(metadata.tables["access_revocations"])
