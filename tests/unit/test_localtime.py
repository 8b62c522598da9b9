"""Wall-clock times in the zones a worldwide day of action crosses, DST changes included."""
from datetime import datetime, timezone

import pytest

from services.events.localtime import LocalTimeError, to_utc, zone_in_country

UTC = timezone.utc


@pytest.mark.parametrize("zone,local,utc", [
    ("Pacific/Kiritimati", "2022-12-01T09:00", "2022-11-30T19:00"),   # +14: the day begins here
    ("Pacific/Pago_Pago", "2022-12-01T18:00", "2022-12-02T05:00"),    # −11: and ends near here
    ("Asia/Kathmandu", "2022-12-01T12:00", "2022-12-01T06:15"),       # +5:45
    ("Asia/Tehran", "2022-12-01T17:00", "2022-12-01T13:30"),          # +3:30
    ("America/St_Johns", "2022-12-01T17:00", "2022-12-01T20:30"),     # −3:30
    ("America/St_Johns", "2022-07-01T17:00", "2022-07-01T19:30"),     # −2:30 in summer
    ("Australia/Lord_Howe", "2022-12-01T10:00", "2022-11-30T23:00"),  # +11 in its summer
    ("Australia/Lord_Howe", "2022-07-01T10:00", "2022-06-30T23:30"),  # +10:30 in winter
    ("America/Asuncion", "2023-07-01T10:00", "2023-07-01T14:00"),     # −4 in winter, before 2024
    ("America/Asuncion", "2025-07-01T10:00", "2025-07-01T13:00"),     # −3 all year since
])
def test_local_times_become_the_right_instants(zone, local, utc):
    assert to_utc(datetime.fromisoformat(local), zone, "starts_at") == datetime.fromisoformat(utc).replace(tzinfo=UTC)


@pytest.mark.parametrize("zone,local,offsets", [
    ("Europe/Berlin", "2022-03-27T02:30", "+01:00 to +02:00"),
    ("Australia/Lord_Howe", "2022-10-02T02:15", "+10:30 to +11:00"),   # a 30-minute jump
    ("America/Asuncion", "2023-10-01T00:30", "-04:00 to -03:00"),
    ("America/St_Johns", "2022-03-13T02:30", "-03:30 to -02:30"),
])
def test_a_time_in_a_dst_gap_is_refused_with_the_change_named(zone, local, offsets):
    with pytest.raises(LocalTimeError) as err:
        to_utc(datetime.fromisoformat(local), zone, "starts_at")
    assert err.value.field == "starts_at" and "does not exist" in err.value.message
    assert offsets in err.value.message


@pytest.mark.parametrize("zone,local,first,second", [
    ("Europe/Berlin", "2022-10-30T02:30", "+02:00", "+01:00"),
    ("Australia/Lord_Howe", "2022-04-03T01:45", "+11:00", "+10:30"),
    ("America/Asuncion", "2023-03-25T23:30", "-03:00", "-04:00"),
])
def test_a_time_in_a_fold_must_say_which_offset_it_means(zone, local, first, second):
    wall = datetime.fromisoformat(local)
    with pytest.raises(LocalTimeError) as err:
        to_utc(wall, zone, "starts_at")
    assert err.value.field == "starts_at_offset" and first in err.value.message and second in err.value.message
    one, other = to_utc(wall, zone, "starts_at", first), to_utc(wall, zone, "starts_at", second)
    assert one < other and (other - one).total_seconds() in (1800, 3600)
    with pytest.raises(LocalTimeError):
        to_utc(wall, zone, "starts_at", "+05:00")


def test_an_offset_given_for_an_ordinary_time_must_match_the_zone():
    assert to_utc(datetime(2022, 12, 1, 12), "Asia/Kathmandu", "starts_at", "+05:45").hour == 6
    with pytest.raises(LocalTimeError) as err:
        to_utc(datetime(2022, 12, 1, 12), "Asia/Kathmandu", "starts_at", "+05:30")
    assert "+05:45" in err.value.message


def test_a_local_time_must_come_without_an_offset():
    with pytest.raises(LocalTimeError):
        to_utc(datetime(2022, 12, 1, 12, tzinfo=UTC), "Europe/Berlin", "starts_at")


@pytest.mark.parametrize("zone,country,expected", [
    ("Europe/Berlin", "DE", True), ("Europe/Busingen", "DE", True), ("Asia/Tehran", "IR", True),
    ("America/Bogota", "CO", True), ("Europe/Kiev", "UA", True),  # an old name for Europe/Kyiv
    ("Pacific/Kiritimati", "KI", True), ("Europe/Berlin", "TR", False), ("Etc/UTC", "DE", False),
    ("Asia/Kolkata", "IN", True), ("Asia/Calcutta", "IN", True), ("America/Asuncion", "PY", True),
])
def test_a_zone_belongs_to_its_countries(zone, country, expected):
    assert zone_in_country(zone, country) is expected
