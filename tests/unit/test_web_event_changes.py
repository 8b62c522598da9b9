"""A change to an approved event as the coordinator's queue writes it: each field from the
approved value to the proposed one, in the reader's language."""
from __future__ import annotations

from services.web.event_changes import as_proposed, changed_labels, diff

CHANGE = {"changes": {
    "title": {"from": {"en": "Rally", "sw": "Mkutano"}, "to": {"en": "Rally", "sw": "Mkutano mpya"}},
    "start": {"from": "2022-12-01T17:00:00", "to": "2022-12-01T18:30:00"},
    "starts_at": {"from": "2022-12-01T14:00:00+00:00", "to": "2022-12-01T15:30:00+00:00"},
    "country": {"from": "KE", "to": "UG"},
    "venue": {"from": None, "to": "Kololo grounds"},
    "visibility": {"from": "public", "to": "coordinators"},
    "activity_type": {"from": "rally", "to": "my_own_kind"},
}}


def rows(language: str) -> dict[str, tuple[str, str]]:
    return {row["label"]: (row["before"], row["after"]) for row in diff(CHANGE, language)}


def test_each_changed_field_is_written_as_the_pages_write_it():
    english = rows("en")
    assert english == {
        "Title (Swahili)": ("Mkutano", "Mkutano mpya"),  # only the language whose text changed
        "Activity": ("Rally", "My own kind"),
        "Start (local time)": ("Thu, Dec 1, 17:00", "Thu, Dec 1, 18:30"),
        "Country": ("Kenya", "Uganda"),
        "Venue": ("—", "Kololo grounds"),
        "Who sees the event": ("Everyone", "Coordinators only"),
    }  # the instants (starts_at) are said by the local time and the zone


def test_the_diff_speaks_the_coordinators_language():
    german = rows("de")
    assert german["Land"] == ("Kenia", "Uganda")
    assert german["Beginn (Ortszeit)"] == ("Do., 1. Dez., 17:00", "Do., 1. Dez., 18:30")
    assert changed_labels(CHANGE, "de")[:2] == ["Titel", "Aktion"]


def test_the_edit_form_starts_from_the_waiting_change():
    event = {"titles": {"en": "Rally"}, "city": "Nairobi", "pending_change": {"changes": {
        "title": {"from": {"en": "Rally"}, "to": {"en": "Rally moved"}}, "city": {"from": "Nairobi", "to": "Kampala"}}}}
    proposed = as_proposed(event)
    assert (proposed["titles"], proposed["city"]) == ({"en": "Rally moved"}, "Kampala")
    assert event["city"] == "Nairobi" and as_proposed({"city": "Nairobi"}) == {"city": "Nairobi"}
