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


@pytest.mark.parametrize("value,expected", [("KE", "KE"), ("de", "DE"), (" co ", "CO")])
def test_country_codes_are_normalised_to_upper_case(value, expected):
    assert load(country=value)["country"] == expected


@pytest.mark.parametrize("value", ["XX", "DEU", "", "Germany"])
def test_unknown_country_codes_are_refused_with_an_example(value):
    with pytest.raises(ValidationError) as err:
        load(country=value)
    assert "ISO 3166-1" in err.value.messages["country"][0]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Asia/Kathmandu", "America/St_Johns",
                                  "Australia/Lord_Howe", "America/Asuncion", "UTC"])
def test_iana_zones_are_accepted(zone):
    assert load(zone=zone)["zone"] == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "CEST", "+02:00", "europe/berlin"])
def test_what_is_not_an_iana_zone_is_refused(zone):
    with pytest.raises(ValidationError) as err:
        load(zone=zone)
    assert "IANA" in err.value.messages["zone"][0]


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
