"""The events service's rules about dates, with no I/O."""
from __future__ import annotations

from datetime import date, datetime, timezone

DEFAULT_ACTIVITY_TYPES = ("demonstration", "rally", "lecture", "discussion", "cultural",
                          "womens_solidarity_action", "strike", "online", "other")


def schedule_problems(day_of_action: date, window_start: date, window_end: date,
                      list_date: date | None) -> dict[str, str]:
    """Field name → what is wrong with the campaign's dates (empty when they hold)."""
    problems = {}
    if window_start > window_end:
        problems["window_end"] = f"must not be before window_start ({window_start.isoformat()})."
    elif not window_start <= day_of_action <= window_end:
        problems["day_of_action"] = (f"must lie inside the window {window_start.isoformat()} – "
                                     f"{window_end.isoformat()}.")
    if list_date is not None and list_date > day_of_action:
        problems["list_date"] = f"must not be after the day of action ({day_of_action.isoformat()})."
    return problems


def is_initial_signatory(endorsed_at: datetime, list_date: date | None) -> bool:
    """Endorsed on or before the list date (a date on the UTC calendar), or no list date."""
    return list_date is None or endorsed_at.astimezone(timezone.utc).date() <= list_date
