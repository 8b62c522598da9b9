"""Messages the registry consumes: the audit entries of every service (it is the source of
everything else it would learn)."""
from __future__ import annotations

from services.registry import audit
from shared.bus.handlers import Handlers

handles = Handlers(audit.HANDLERS)
