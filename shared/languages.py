"""The platform's own languages: those its pages and e-mails are written in. One list; the web
front, the e-mails and the demo read it from here. (The languages an organisation or an event
works in are any ISO 639-1 code: shared.fields.LanguageCode.)"""
from __future__ import annotations

from flask import request

# Code → the language's own name, in the order the language menu shows them.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                             "fa": "فارسی", "tr": "Türkçe", "ru": "Русский"}
RIGHT_TO_LEFT = frozenset({"fa"})
DEFAULT = "en"
# The Babel locale that formats dates and times for each (British English for English: day
# before month, 24-hour clock, as most of the coalition reads them).
BABEL_LOCALES = {**{code: code for code in LANGUAGES}, "en": "en_GB"}


# --- choosing among a text's languages (per-language text: an object language → text) -------

def wanted_languages(args: dict) -> tuple[str, ...]:
    """The languages the caller reads, best first: `?lang=`, then Accept-Language (primary
    subtags), each once. Also a key of kept renderings."""
    wanted = [args["lang"]] if args.get("lang") else []
    wanted += [code.split("-")[0].lower() for code in request.accept_languages.values()]
    return tuple(dict.fromkeys(wanted))


def pick_language(texts: dict, languages: list, wanted: list[str] | tuple[str, ...]) -> str:
    """The first wanted language `texts` has, else the first of `languages` (the original
    language first) it has, else its first."""
    for code in wanted:
        if code in texts:
            return code
    return languages[0] if languages and languages[0] in texts else next(iter(texts), "")
