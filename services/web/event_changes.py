"""What a change to an approved event says, field by field, in the reader's language: the
coordinator's queue shows it as a diff (the approved value → the proposed one), the
organisation's area names the fields that wait for review. The events service gives each
change as {field: {"from", "to"}} by the names a PATCH uses (docs/api.md)."""
from __future__ import annotations

from services.web import formats
from services.web.i18n import translator

# Each field a change can touch, in the form's order, with the catalogue key of its label.
# starts_at and ends_at (the instants) are left out: the local times and the zone say them.
LABELS = {"title": "title", "description": "description", "languages": "languages", "activity_type": "activity",
          "start": "start_local", "end": "end_local", "timezone": "timezone", "city": "city", "country": "country",
          "venue": "venue", "address": "address", "latitude": "latitude", "longitude": "longitude",
          "online_url": "online_url", "expected_participants": "expected_participants", "visibility": "visibility",
          "address_public": "address_public", "address_public_hours": "address_public_hours"}
TEXTS = ("title", "description")  # one text per language: only the languages whose text changed


def in_words(field: str, value, language: str, t) -> str:
    """One value as the pages write it (a country by its name, a time as the language writes
    it); none as a dash."""
    if value is None or value in ("", [], {}):
        return "—"
    if field in ("start", "end"):
        return formats.local_time(value, language)
    if field == "country":
        return formats.country_name(value, language)
    if field == "languages":
        return ", ".join(formats.language_name(code, language) for code in value)
    if field == "timezone":
        return f"{formats.zone_place(value, language)} ({value})"
    if field == "activity_type":
        return t(f"activity_{value}", _default=formats.label(value))
    if field == "visibility":
        return t(f"visibility_{value}", _default=value)
    if field == "address_public":
        return t(f"address_{value}", _default=value)
    return str(value)


def _texts(old: dict | None, new: dict | None) -> list[tuple[str, str, str]]:
    old, new = old or {}, new or {}
    return [(code, old.get(code) or "—", new.get(code) or "—")
            for code in sorted(set(old) | set(new)) if old.get(code) != new.get(code)]


def diff(change: dict, language: str) -> list[dict]:
    """The rows of a change's diff: {"field", "label", "before", "after"}, in the form's order
    (a text per language that changed, its label naming the language)."""
    t = translator(language)
    rows = []
    for field, key in LABELS.items():
        if field not in change.get("changes", {}):
            continue
        values = change["changes"][field]
        if field in TEXTS:
            rows += [{"field": field, "label": f"{t(key)} ({formats.language_name(code, language)})",
                      "before": old, "after": new}
                     for code, old, new in _texts(values.get("from"), values.get("to"))]
        else:
            rows.append({"field": field, "label": t(key), "before": in_words(field, values.get("from"), language, t),
                         "after": in_words(field, values.get("to"), language, t)})
    return rows


def changed_labels(change: dict, language: str) -> list[str]:
    """The names of the fields a change touches, in the reader's language."""
    t = translator(language)
    return [t(key) for field, key in LABELS.items() if field in change.get("changes", {})]


def as_proposed(event: dict) -> dict:
    """The event as its pending change would make it (the edit form starts from there: what is
    saved replaces the pending change)."""
    pending = event.get("pending_change")
    if not pending:
        return event
    proposed = dict(event)
    for field, values in pending["changes"].items():
        proposed[{"title": "titles", "description": "descriptions"}.get(field, field)] = values["to"]
    return proposed
