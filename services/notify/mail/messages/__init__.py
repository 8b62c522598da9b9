"""The fixed texts of every e-mail, one catalogue per language, English the fallback for a missing key.

A catalogue is a plain dict (message id → text with `{named}` placeholders) so a translator edits one
file and a test can check that every translation keeps the English placeholders.
"""
from __future__ import annotations

from services.notify.mail.messages import de, en, es, fa, fr, ru, tr

CATALOGUES: dict[str, dict[str, str]] = {
    "en": en.MESSAGES, "de": de.MESSAGES, "fr": fr.MESSAGES, "es": es.MESSAGES,
    "fa": fa.MESSAGES, "tr": tr.MESSAGES, "ru": ru.MESSAGES,
}


def message(language: str, key: str) -> str:
    """The text for `key` in `language`, else in English; an unknown key is a programming error (KeyError)."""
    found = CATALOGUES.get(language, en.MESSAGES).get(key)
    return found if found is not None else en.MESSAGES[key]
