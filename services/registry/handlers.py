"""Messages the registry consumes: the audit entries of every service (it is the source of
everything else it would learn)."""
from __future__ import annotations

from services.registry import audit

HANDLERS: dict = dict(audit.HANDLERS)
