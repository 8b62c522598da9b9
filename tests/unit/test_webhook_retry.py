"""The webhook retry schedule, its jitter, Retry-After, and which answers are retried."""
from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from services.notify.webhooks import retry
from services.notify.webhooks.retry import DEFAULT_SCHEDULE, delay_before, parse_retry_after, parse_schedule


def test_the_default_schedule_is_the_standard_webhooks_one():
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


def test_parse_schedule_reads_comma_separated_seconds():
    assert parse_schedule("0, 5,300 ,1.5") == (0.0, 5.0, 300.0, 1.5)
    assert parse_schedule("0,5,300,1800,7200,18000,36000,50400,72000,86400") == DEFAULT_SCHEDULE


@pytest.mark.parametrize("text", ["", " ", "0,,5", "0,five", "-1", "0,nan", "inf", "5,"])
def test_parse_schedule_refuses_anything_else(text):
    with pytest.raises(ValueError, match="webhook schedule"):
        parse_schedule(text)


def test_the_first_attempt_is_immediate():
    for seed in range(20):
        assert delay_before(1, DEFAULT_SCHEDULE, random.Random(seed)) == 0


@pytest.mark.parametrize("attempt", range(2, 11))
def test_each_delay_is_the_schedules_within_ten_percent(attempt):
    base = DEFAULT_SCHEDULE[attempt - 1]
    delays = {delay_before(attempt, DEFAULT_SCHEDULE, random.Random(seed)) for seed in range(50)}
    assert all(base * 0.9 <= d <= base * 1.1 for d in delays)
    assert len(delays) > 1  # jittered, not constant


def test_jitter_is_reproducible_with_a_seeded_rng():
    assert delay_before(3, rng=random.Random(7)) == delay_before(3, rng=random.Random(7))


def test_the_schedule_runs_out():
    assert delay_before(11, DEFAULT_SCHEDULE) is None
    assert delay_before(2, (0,)) is None
    assert delay_before(11, DEFAULT_SCHEDULE, retry_after=60) is None


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError):
        delay_before(0, DEFAULT_SCHEDULE)


def test_retry_after_only_lengthens_the_wait():
    assert delay_before(2, (0, 5), random.Random(1), retry_after=120) == 120
    assert 4.5 <= delay_before(2, (0, 5), random.Random(1), retry_after=1) <= 5.5
    assert delay_before(1, (0, 5), retry_after=30) == 30
    assert delay_before(2, (0, 5), random.Random(1), retry_after=10**9) == retry.MAX_RETRY_AFTER


def test_parse_retry_after_reads_delta_seconds_capped_at_a_day():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after("9999999") == 86400


def test_parse_retry_after_reads_http_dates():
    now = 1_700_000_000
    assert parse_retry_after(formatdate(now + 300, usegmt=True), now=now) == pytest.approx(300)
    assert parse_retry_after(formatdate(now - 300, usegmt=True), now=now) == 0
    assert parse_retry_after(formatdate(now + 10 * 86400, usegmt=True), now=now) == 86400
    assert parse_retry_after("Sun Nov  6 08:49:37 1994", now=784111777 - 60) == pytest.approx(60)


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2024"])
def test_parse_retry_after_ignores_what_it_cannot_read(value):
    assert parse_retry_after(value) is None


@pytest.mark.parametrize("status, error, expected", [
    (None, "timed out connecting", True),
    (200, None, False), (204, None, False), (299, None, False),
    (302, "redirects are not followed", True),
    (400, None, True), (404, None, True), (408, None, True), (425, None, True), (429, None, True),
    (410, None, False),
    (500, None, True), (502, None, True), (503, None, True), (504, None, True),
])
def test_should_retry_follows_the_spec(status, error, expected):
    assert retry.should_retry(status, error) is expected


def test_only_410_disables_an_endpoint_at_once():
    assert retry.disables_at_once(410)
    assert not any(retry.disables_at_once(code) for code in (None, 200, 404, 429, 500, 503))
