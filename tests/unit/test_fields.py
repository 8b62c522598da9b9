import pytest
from marshmallow import Schema, ValidationError

from shared.fields import CountryCode, Email, LanguageCode, Text, TimeZone


class Sample(Schema):
    country = CountryCode()
    zone = TimeZone()
    language = LanguageCode()
    email = Email()
    name = Text(max_length=10)


def load(**data):
    return Sample().load(data)


ZONES = ["Pacific/Kiritimati", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "America/Asuncion", "UTC"]


@pytest.mark.parametrize("field,value,expected", [
    ("country", "KE", "KE"), ("country", "de", "DE"), ("country", " co ", "CO"),  # upper case out
    *(("zone", zone, zone) for zone in ZONES),
])
def test_country_codes_and_iana_zones_are_accepted_and_normalised(field, value, expected):
    assert load(**{field: value})[field] == expected


@pytest.mark.parametrize("field,value,example", [
    *(("country", value, "ISO 3166-1") for value in ["XX", "DEU", "", "Germany"]),
    *(("zone", value, "IANA") for value in ["Mars/Olympus", "CEST", "+02:00", "europe/berlin"]),
])
def test_what_is_not_a_known_code_is_refused_saying_what_is_wanted(field, value, example):
    with pytest.raises(ValidationError) as err:
        load(**{field: value})
    assert example in err.value.messages[field][0]


def test_languages_are_iso_639_1():
    assert load(language="FA")["language"] == "fa"
    with pytest.raises(ValidationError):
        load(language="fas")


def test_emails_are_checked_without_asking_the_network():
    assert load(email="Someone@Example.org")["email"] == "Someone@example.org"
    with pytest.raises(ValidationError):
        load(email="not an address")


def test_text_is_trimmed_and_control_characters_are_refused():
    assert load(name="  БКП ")["name"] == "БКП"
    for bad in ("   ", "a\x00b", "x" * 11):
        with pytest.raises(ValidationError):
            load(name=bad)
