"""Messages the registry consumes: none yet (it is the source of what it would learn)."""
from __future__ import annotations

HANDLERS: dict = {}
