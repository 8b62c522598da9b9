"""The platform's own languages: those its pages and e-mails are written in. One list; the web
front, the e-mails and the demo read it from here. (The languages an organisation or an event
works in are any ISO 639-1 code: shared.fields.LanguageCode.)"""
from __future__ import annotations

# Code → the language's own name, in the order the language menu shows them.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                             "fa": "فارسی", "tr": "Türkçe", "ru": "Русский"}
RIGHT_TO_LEFT = frozenset({"fa"})
DEFAULT = "en"
# The Babel locale that formats dates and times for each (British English for English: day
# before month, 24-hour clock, as most of the coalition reads them).
BABEL_LOCALES = {**{code: code for code in LANGUAGES}, "en": "en_GB"}
