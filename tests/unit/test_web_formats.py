"""What the pages show of times, countries, languages and zones, in the reader's language."""
from __future__ import annotations

from services.web import formats


def test_a_local_time_is_written_as_each_language_writes_it():
    assert formats.local_time("2027-01-18T14:00:00", "en") == "Mon, Jan 18, 14:00"
    assert formats.local_time("2027-01-18T14:00:00", "de") == "Mo., 18. Jan., 14:00"
    persian = formats.local_time("2027-01-18T14:00:00", "fa")
    assert persian.startswith("دوشنبه 18 ژانویه") and "،" in persian and persian.endswith("14:00")  # Persian comma
    assert formats.local_time("not a time", "en") == "not a time"


def test_a_reader_zone_that_is_not_one_gives_nothing():
    assert formats.zoned_time("2022-12-01T14:00:00+00:00", "America/Bogota", "en") == "Thu, Dec 1, 09:00 (Bogotá)"
    for zone in ("Europe", "Not/AZone", "../../etc/passwd", ""):
        assert formats.zoned_time("2022-12-01T14:00:00+00:00", zone, "en") is None


def test_countries_are_named_and_sorted_in_the_readers_language():
    assert formats.country_name("DE", "de") == "Deutschland" and formats.country_name("IR", "fa") == "ایران"
    assert formats.country_name("PS", "en") == "Palestine"  # the coalition's name for it
    assert formats.country_name("QQ", "en") == "QQ"  # no such country: its code
    german = formats.countries("de")
    names = [name for _code, name in german]
    assert names == sorted(names, key=str.casefold) and ("XK", "Kosovo") in german and len(german) > 240


def test_a_countrys_own_zones_come_first():
    assert [zone for zone, _label in formats.country_zones("KE", "en")] == ["Africa/Nairobi"]
    assert formats.country_zones("", "en") == [] and formats.country_zones("ZZ", "en") == []
    labels = dict(formats.time_zones("en"))
    assert labels["Asia/Tehran"].endswith("— Asia/Tehran") and "Etc/UTC" not in labels


def test_languages_by_their_name_in_the_readers_language():
    assert formats.language_name("fa", "fa") == "فارسی" and formats.language_name("de", "en") == "German"
    assert formats.language_name("xx", "en") == "xx"
    assert ("sw", "Swahili") in formats.languages("en")
