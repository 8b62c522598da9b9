"""The web front's catalogues (services/web/translations/<lang>.json): every language has the
keys of en.json, no more and no fewer, with the same {placeholders}; every key a template asks
for exists in English; every language the front offers has its file. Only the package's own
files are read."""
from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

import services.web
from shared.languages import LANGUAGES

WEB = Path(services.web.__file__).parent
CATALOGUE_DIR = WEB / "translations"
TEMPLATES = sorted((WEB / "templates").glob("*.html"))

# t('key'), t("key", n=...), t('status_' + e.status): the quoted first argument, and whether it
# is only the start of the key. The lookbehind keeps out .get('x'), rect(...) and the like.
T_CALL = re.compile(r"""(?<![\w.])t\(\s*(['"])((?:(?!\1).)*)\1\s*(\+)?""")


def load(path: Path) -> dict[str, str]:
    """A catalogue, refusing a key given twice (json.loads would silently keep the last)."""
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        assert not repeated, f"{path.name}: keys given more than once: {repeated}"
        return dict(pairs)
    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def offered_languages() -> dict[str, str]:
    """The platform's languages (shared/languages.py): importing them loads no catalogue, so a
    missing file cannot stop the test before it says which."""
    return dict(LANGUAGES)


def template_calls() -> list[tuple[str, str, bool]]:
    """(template, key or key prefix, is_prefix) for every t() call with a quoted first argument."""
    return [(path.name, match.group(2), bool(match.group(3)))
            for path in TEMPLATES for match in T_CALL.finditer(path.read_text(encoding="utf-8"))]


EN = load(CATALOGUE_DIR / "en.json")
OTHER_FILES = sorted(p for p in CATALOGUE_DIR.glob("*.json") if p.stem != "en")


def test_english_is_a_flat_catalogue_of_texts():
    assert EN, "en.json is empty"
    bad = sorted(k for k, v in EN.items() if not isinstance(v, str) or not v.strip())
    assert not bad, f"en.json: keys without a text: {bad}"


@pytest.mark.parametrize("path", OTHER_FILES, ids=lambda p: p.stem)
def test_language_has_exactly_the_english_keys(path):
    catalogue = load(path)
    missing = [k for k in EN if k not in catalogue]
    extra = sorted(set(catalogue) - set(EN))
    assert not missing and not extra, f"{path.name}: missing {missing}, not in en.json {extra}"
    empty = sorted(k for k, v in catalogue.items() if not isinstance(v, str) or not v.strip())
    assert not empty, f"{path.name}: keys without a text: {empty}"


@pytest.mark.parametrize("path", OTHER_FILES, ids=lambda p: p.stem)
def test_language_keeps_the_english_placeholders(path):
    wrong = {}
    for key, text in load(path).items():
        if key not in EN:
            continue  # reported by the key test
        try:
            found = placeholders(text)
        except ValueError as error:  # an unbalanced { or }
            wrong[key] = str(error)
            continue
        if found != placeholders(EN[key]):
            wrong[key] = f"{sorted(found)} instead of {sorted(placeholders(EN[key]))}"
    assert not wrong, f"{path.name}: {wrong}"


def test_english_placeholders_are_well_formed():
    for key, text in EN.items():
        placeholders(text)  # raises ValueError on an unbalanced brace
        assert all(name.isidentifier() for name in placeholders(text)), key


def test_every_key_a_template_uses_is_in_english():
    calls = template_calls()
    assert TEMPLATES and calls, "no t('…') call found in services/web/templates: is the pattern stale?"
    unknown = sorted({(name, key) for name, key, is_prefix in calls if not is_prefix and key not in EN})
    assert not unknown, f"templates use keys missing from en.json: {unknown}"


def test_every_key_prefix_a_template_builds_has_keys_in_english():
    prefixes = {(name, key) for name, key, is_prefix in template_calls() if is_prefix}
    assert prefixes, "no t('prefix_' + …) call found in the templates: is the pattern stale?"
    unknown = sorted((name, prefix) for name, prefix in prefixes if not any(k.startswith(prefix) for k in EN))
    assert not unknown, f"templates build keys from prefixes en.json has no key for: {unknown}"


def test_every_offered_language_has_its_catalogue():
    languages = offered_languages()
    assert "en" in languages
    missing = sorted(code for code in languages if not (CATALOGUE_DIR / f"{code}.json").is_file())
    assert not missing, f"LANGUAGES offers languages without a file in translations/: {missing}"


def test_every_catalogue_is_an_offered_language():
    stray = sorted(p.name for p in CATALOGUE_DIR.glob("*.json") if p.stem not in offered_languages())
    assert not stray, f"catalogues for languages LANGUAGES does not offer: {stray}"
