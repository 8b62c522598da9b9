"""The coordinator dashboard, in tabs, one module each, every view on one blueprint
(`dashboard`, coordinators only; `base.py`): the queue — events, changes and reports waiting for
a decision — and each open campaign's progress (`queue.py`, /me); campaigns and their material
package (`campaigns.py`); organisations — renames, registering one and its key shown once, a CSV
import (`organisations.py`); the failing deliveries (`deliveries.py`); the emergency stop of a
country (`emergency.py`); and the record of decisions (`record.py`), a blueprint of its own
(`record`).

A form the API refuses comes back with the API's errors under their fields and a summary at
its top; an action that worked says so on the page it leads to (forms.py)."""
from __future__ import annotations

# Each tab's module adds its views to the blueprint as it is imported.
from services.web.dashboard import campaigns, deliveries, emergency, organisations, queue, record  # noqa: F401
from services.web.dashboard.base import bp
from services.web.dashboard.queue import page

__all__ = ["bp", "page", "record"]
