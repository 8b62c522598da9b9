"""The pages' own words in the seven languages of the coalition. The reader's language comes
from `?lang=`, then the `lang` cookie (set when they switch), then the browser's
Accept-Language; English fills any gap (a missing key in English is a bug, found by the
unit tests)."""
from __future__ import annotations

import json
from pathlib import Path

from flask import request

from shared.languages import LANGUAGES

# One JSON file per language under translations/, keyed like en.json (the reference).
CATALOGUES: dict[str, dict[str, str]] = {
    code: json.loads((Path(__file__).parent / "translations" / f"{code}.json").read_text(encoding="utf-8"))
    for code in LANGUAGES}
_EN = CATALOGUES["en"]


def reader_language() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return wanted
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def translator(language: str):
    catalogue = CATALOGUES.get(language, _EN)

    def t(key: str, _default: str | None = None, **values) -> str:
        """The words for `key`, its {placeholders} filled from `values`; without values they
        stay as they are (the page's script fills them). `_default` for a key that may have
        no words (an activity type a campaign named itself)."""
        text = catalogue.get(key) or _EN.get(key)
        if text is None:
            if _default is None:
                raise KeyError(key)
            return _default
        return text.format(**values) if values else text

    return t
