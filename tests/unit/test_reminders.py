"""When reminders are due: the configured times in the event's own zone (by default the day
before at 11:00 and two hours before), moved out of the subscriber's quiet hours in their own
zone, except the last one. Pure: no database, no clock."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from services.notify.reminders import Slot, due_times, parse_quiet_hours, parse_slots

UTC = timezone.utc
DEFAULT_SLOTS = "-1d@11:00,-2h"  # shared/config.py REMINDERS
DEFAULT_QUIET = "22:00-08:00"  # shared/config.py QUIET_HOURS


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def due(starts_at: str, event_zone: str, subscriber_zone: str | None = None, slots: str = DEFAULT_SLOTS,
        quiet: str = DEFAULT_QUIET) -> list[datetime]:
    return due_times(utc(starts_at), event_zone, subscriber_zone, parse_slots(slots), parse_quiet_hours(quiet))


# -- the settings ----------------------------------------------------------------------------

def test_the_default_reminder_times_are_the_day_before_at_11_and_two_hours_before():
    assert parse_slots(DEFAULT_SLOTS) == [Slot(days_before=1, at=time(11, 0)), Slot(before=timedelta(hours=2))]


def test_reminder_times_may_be_minutes_and_several_days_and_spaced_out():
    assert parse_slots(" -2d@09:30 , -30m,-1h ") == [Slot(days_before=2, at=time(9, 30)),
                                                     Slot(before=timedelta(minutes=30)),
                                                     Slot(before=timedelta(hours=1))]


@pytest.mark.parametrize("text", ["", " , ", "tomorrow", "+2h", "2h", "-2", "-1d", "-1d@11", "-1d@11:0",
                                  "-1.5h", "-2h;-1d@11:00", "-1d@11:00,soon"])
def test_nonsense_reminder_times_are_refused_by_name(text):
    with pytest.raises(ValueError, match="reminder time"):
        parse_slots(text)


@pytest.mark.parametrize("parse,text,part", [(parse_slots, "-1d@11:00,-1d@25:00", "-1d@25:00"),
                                             (parse_slots, "-1d@11:75", "-1d@11:75"),
                                             (parse_quiet_hours, "22:00-24:30", "22:00-24:30")])
def test_clock_times_out_of_range_are_refused_naming_what_is_wrong(parse, text, part):
    with pytest.raises(ValueError, match=part):
        parse(text)


def test_the_default_quiet_hours_span_midnight():
    assert parse_quiet_hours(DEFAULT_QUIET) == (time(22, 0), time(8, 0))
    assert parse_quiet_hours(" 13:00 - 14:00 ") == (time(13, 0), time(14, 0))


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_quiet_hours_mean_none(text):
    assert parse_quiet_hours(text) is None


@pytest.mark.parametrize("text", ["22-08", "22:00", "22:00-", "night", "22:00–08:00", "22:00-08:00-09:00",
                                  "10pm-8am"])
def test_nonsense_quiet_hours_are_refused_by_name(text):
    with pytest.raises(ValueError, match="span of hours"):
        parse_quiet_hours(text)


# -- in the event's own zone -----------------------------------------------------------------
# No subscriber zone: their quiet hours are read in the event's zone, where 11:00 is never quiet.

@pytest.mark.parametrize("zone,starts_at,day_before,two_hours_before", [
    # +14: 2022-12-01 09:00 local; the day before at 11:00 is 2022-11-30 11:00 +14
    ("Pacific/Kiritimati", "2022-11-30T19:00", "2022-11-29T21:00", "2022-11-30T17:00"),
    # −11: 2022-12-01 18:00 local
    ("Pacific/Pago_Pago", "2022-12-02T05:00", "2022-11-30T22:00", "2022-12-02T03:00"),
    # +5:45: 2022-12-01 12:00 local
    ("Asia/Kathmandu", "2022-12-01T06:15", "2022-11-30T05:15", "2022-12-01T04:15"),
    # −3:30: 2022-12-01 17:00 local
    ("America/St_Johns", "2022-12-01T20:30", "2022-11-30T14:30", "2022-12-01T18:30"),
    # −2:30 in summer: 2022-07-01 17:00 local
    ("America/St_Johns", "2022-07-01T19:30", "2022-06-30T13:30", "2022-07-01T17:30"),
])
def test_the_day_before_at_11_and_two_hours_before_in_zones_with_odd_offsets(zone, starts_at, day_before,
                                                                             two_hours_before):
    assert due(starts_at, zone) == [utc(day_before), utc(two_hours_before)]


@pytest.mark.parametrize("zone,starts_at,day_before,two_hours_before", [
    # Lord Howe moves 30 minutes: 2022-10-02 02:00 +10:30 → 02:30 +11. The event is at 10:00 +11,
    # the day before at 11:00 is still +10:30.
    ("Australia/Lord_Howe", "2022-10-01T23:00", "2022-10-01T00:30", "2022-10-01T21:00"),
    # and back on 2023-04-02 02:00 +11 → 01:30 +10:30: the event at 10:00 +10:30, the day before +11.
    ("Australia/Lord_Howe", "2023-04-01T23:30", "2023-04-01T00:00", "2023-04-01T21:30"),
    # Berlin, 2022-03-27 02:00 CET → 03:00 CEST: the event at 17:00 CEST, the day before at 11:00 CET.
    ("Europe/Berlin", "2022-03-27T15:00", "2022-03-26T10:00", "2022-03-27T13:00"),
    # An event at 04:00 CEST that night: two hours before is 01:00 CET, two hours of real time.
    ("Europe/Berlin", "2022-03-27T02:00", "2022-03-26T10:00", "2022-03-27T00:00"),
    # Berlin, 2022-10-30 03:00 CEST → 02:00 CET: the event at 17:00 CET, the day before at 11:00 CEST.
    ("Europe/Berlin", "2022-10-30T16:00", "2022-10-29T09:00", "2022-10-30T14:00"),
    # Asunción before 2024 (it keeps −3 all year since): summer time began 2023-10-01 00:00 −4 → 01:00 −3.
    ("America/Asuncion", "2023-10-01T21:00", "2023-09-30T15:00", "2023-10-01T19:00"),
    # and ended 2023-03-26 00:00 −3 → 2023-03-25 23:00 −4: the event at 18:00 −4, the day before −3.
    ("America/Asuncion", "2023-03-26T22:00", "2023-03-25T14:00", "2023-03-26T20:00"),
])
def test_the_day_before_is_read_on_its_own_side_of_a_dst_change(zone, starts_at, day_before, two_hours_before):
    assert due(starts_at, zone) == [utc(day_before), utc(two_hours_before)]


def test_the_day_before_is_the_events_local_date_not_its_utc_date():
    # Kiritimati: 2022-12-01 09:00 local is 2022-11-30 in UTC; "the day before" is 2022-11-30 local.
    [day_before, _] = due("2022-11-30T19:00", "Pacific/Kiritimati")
    assert day_before.astimezone(UTC).date().isoformat() == "2022-11-29"
    # Pago Pago: 2022-12-01 18:00 local is 2022-12-02 in UTC; "the day before" is 2022-11-30 local.
    [day_before, _] = due("2022-12-02T05:00", "Pacific/Pago_Pago")
    assert day_before == utc("2022-11-30T22:00")


# -- the subscriber's quiet hours, in their own zone -----------------------------------------

def test_a_reminder_at_night_for_the_subscriber_comes_before_their_quiet_hours_but_the_last_does_not_move():
    # An event in Chicago at 2022-12-01 18:00 CST (00:00Z), a subscriber in Tokyo (+9).
    # The day before at 11:00 CST is 17:00Z, 02:00 in Tokyo: moved to 21:59 in Tokyo the evening before.
    # Two hours before is 22:00Z, 07:00 in Tokyo, also quiet: but it is the last, so it stays.
    assert due("2022-12-02T00:00", "America/Chicago", "Asia/Tokyo") == [utc("2022-11-30T12:59"),
                                                                        utc("2022-12-01T22:00")]


def test_a_reminder_late_in_the_subscribers_evening_moves_to_just_before_that_evenings_quiet_hours():
    # An event in Bangkok (+7) at 2022-12-01 19:00 (12:00Z); the day before at 11:00 is 04:00Z,
    # 23:00 of 2022-11-29 in New York (−5): moved to 21:59 that same evening, 02:59Z.
    assert due("2022-12-01T12:00", "Asia/Bangkok", "America/New_York") == [utc("2022-11-30T02:59"),
                                                                           utc("2022-12-01T10:00")]


def test_quiet_hours_begin_at_their_first_minute_and_end_before_their_last():
    # Shanghai 11:00 is 03:00Z, 22:00 in New York: quiet, so 21:59.
    assert due("2022-12-01T10:00", "Asia/Shanghai", "America/New_York")[0] == utc("2022-11-30T02:59")
    # Moscow 11:00 is 08:00Z, 08:00 in London: no longer quiet.
    assert due("2022-12-01T14:00", "Europe/Moscow", "Europe/London")[0] == utc("2022-11-30T08:00")


def test_a_subscriber_in_the_events_zone_or_without_one_reads_the_same_hours():
    moved = due("2022-12-01T00:00", "Asia/Tokyo", None, slots="-1d@23:00,-2h")
    assert moved == due("2022-12-01T00:00", "Asia/Tokyo", "Asia/Tokyo", slots="-1d@23:00,-2h")
    assert moved[0] == utc("2022-11-30T12:59")  # 2022-11-30 23:00 JST → 21:59 JST


def test_quiet_hours_are_read_in_the_subscribers_zone_across_its_dst_change():
    # An event in Tokyo at 2022-03-28 09:00 JST (00:00Z); the day before at 11:00 JST is 02:00Z,
    # 04:00 CEST in Berlin on 2022-03-27 (summer time began at 01:00Z): moved to 21:59 of the 26th,
    # when Berlin is still +1, so 20:59Z.
    assert due("2022-03-28T00:00", "Asia/Tokyo", "Europe/Berlin")[0] == utc("2022-03-26T20:59")


def test_a_middle_reminder_moves_and_only_the_last_keeps_its_time():
    # Berlin, 2022-12-01 08:30 CET (07:30Z). Ten hours before is 22:30 CET: moved to 21:59 CET;
    # an hour before is 07:30 CET, quiet too, but the last.
    assert due("2022-12-01T07:30", "Europe/Berlin", slots="-1d@11:00,-10h,-1h") == [
        utc("2022-11-30T10:00"), utc("2022-11-30T20:59"), utc("2022-12-01T06:30")]


def test_the_last_is_the_latest_whatever_order_the_times_are_written_in():
    # The same three times written in another order: the hour before still keeps its time.
    assert due("2022-12-01T07:30", "Europe/Berlin", slots="-1h,-10h,-1d@11:00") == [
        utc("2022-12-01T06:30"), utc("2022-11-30T20:59"), utc("2022-11-30T10:00")]


def test_quiet_hours_within_one_day():
    # Berlin, 2022-12-01 17:00 CET (16:00Z); quiet 13:00–14:00. The day before at 13:30 → 12:59 CET;
    # two hours before is 15:00 CET, not quiet.
    assert due("2022-12-01T16:00", "Europe/Berlin", slots="-1d@13:30,-2h", quiet="13:00-14:00") == [
        utc("2022-11-30T11:59"), utc("2022-12-01T14:00")]
    # 14:00 is no longer quiet, 12:59 is not yet.
    assert due("2022-12-01T16:00", "Europe/Berlin", slots="-1d@14:00,-1d@12:59,-2h", quiet="13:00-14:00")[:2] == [
        utc("2022-11-30T13:00"), utc("2022-11-30T11:59")]
    # The last, at 13:30 CET, stays in them.
    assert due("2022-12-01T14:30", "Europe/Berlin", slots="-1d@11:00,-2h", quiet="13:00-14:00") == [
        utc("2022-11-30T10:00"), utc("2022-12-01T12:30")]


def test_without_quiet_hours_nothing_moves():
    assert due("2022-12-02T00:00", "America/Chicago", "Asia/Tokyo", quiet="") == [utc("2022-11-30T17:00"),
                                                                                  utc("2022-12-01T22:00")]


def test_due_times_are_aware_utc_instants():
    for instant in due("2022-12-02T00:00", "America/Chicago", "Asia/Tokyo"):
        assert instant.utcoffset() == timedelta(0)
