"""The labels a planner reads: clock times, shares and amounts, written one way everywhere."""

import math

import pytest

from bposim.formatting import (
    amount,
    clock,
    day_clock,
    day_label,
    estimate,
    hours_minutes,
    missing,
    money,
    points,
    share,
)


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0, "00:00"),
        (59.9, "00:00"),
        (8 * 3600 + 30 * 60, "08:30"),
        (23 * 3600 + 59 * 60 + 59, "23:59"),
        (86_400, "00:00"),
        (90_000, "01:00"),
        (2 * 86_400 + 7 * 3600, "07:00"),
    ],
)
def test_clock_is_the_time_of_day(seconds, label):
    assert clock(seconds) == label


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0, "00:00"),
        (8 * 3600, "08:00"),
        (86_399, "23:59"),
        (86_400, "d1 00:00"),
        (86_400 + 8 * 3600, "d1 08:00"),
        (3 * 86_400 + 17 * 3600 + 45 * 60, "d3 17:45"),
    ],
)
def test_day_clock_names_a_later_day(seconds, label):
    assert day_clock(seconds) == label


@pytest.mark.parametrize(
    ("seconds", "label"), [(0, "00:00"), (16 * 3600, "16:00"), (26 * 3600, "26:00"), (7 * 3600 + 59.9, "07:00")]
)
def test_hours_minutes_keeps_hours_past_midnight_and_cuts_seconds(seconds, label):
    assert hours_minutes(seconds) == label


def test_clock_agrees_with_the_labels_it_replaces():
    """The same labels as the arithmetic written out, for every minute of three days."""
    for seconds in range(0, 3 * 86_400, 60):
        s = float(seconds) + 0.5
        assert clock(s) == f"{int(s // 3600) % 24:02d}:{int(s % 3600 // 60):02d}"
        assert day_clock(s) == (clock(s) if s < 86_400 else f"d{int(s // 86_400)} {clock(s)}")


def test_missing():
    assert missing(None) and missing(math.nan) and missing(float("nan"))
    assert not missing(0.0) and not missing(0) and not missing("text")


def test_share():
    assert share(0.8123) == "81.2%"
    assert share(0.8123, 0.0456) == "81.2% ± 4.6%"
    assert share(0.8123, math.nan) == share(0.8123, None) == "81.2%"
    assert share(0.8, 0.0) == "80.0% ± 0.0%"
    assert share(0.804, digits=0) == "80%"
    assert share(math.nan) == share(None) == "—"


def test_amount():
    assert amount(1234567.4) == "1,234,567"
    assert amount(1234.5, 12.25, ",.2f") == "1,234.50 ± 12.25"
    assert amount(1000, 0) == "1,000 ± 0"
    assert amount(1000, math.nan) == amount(1000) == "1,000"
    assert amount(math.nan, 3) == amount(None) == "—"


def test_signed_amount():
    assert amount(1250.4, signed=True) == "+1,250"
    assert amount(-1250.4, 30, signed=True) == "-1,250 ± 30"
    assert amount(0.0, signed=True) == "+0"
    assert amount(math.nan, signed=True) == "—"


def test_estimate_leaves_off_a_zero_half_width():
    assert estimate(1234.5, 12.25, ",.2f") == "1,234.50 ± 12.25"
    assert estimate(1000, 0) == estimate(1000, 0.0) == estimate(1000) == estimate(1000, math.nan) == "1,000"
    assert amount(1000, 0) == "1,000 ± 0"  # unlike amount, which shows a zero half-width
    assert estimate(math.nan, 3) == "—"


def test_points():
    assert points(0.025) == "2.5"
    assert points(0.025, signed=True) == "+2.5"
    assert points(-0.1234, signed=True) == "-12.3"
    assert points(0.0, signed=True) == "+0.0"
    assert points(math.nan) == points(None, signed=True) == "—"


def test_day_label():
    assert day_label(0, "08:00") == "day 0 08:00"
    assert day_label(2, clock(2 * 86_400 + 9 * 3600)) == "day 2 09:00"


def test_amount_with_its_own_half_width_format():
    assert amount(2026.0, 72.38, ",.0f", half_spec=".1f") == "2,026 ± 72.4"
    assert amount(1960.3, 1102.49, half_spec=".1f") == "1,960 ± 1102.5"
    assert amount(2026.0, math.nan, half_spec=".1f") == amount(2026.0, None, half_spec=".1f") == "2,026"
    assert amount(None, 3.0, half_spec=".1f") == "—"


def test_money():
    assert money(2376, "EUR") == "2,376.00 EUR"
    assert money(112, "paid hours") == "112.00 paid hours"
    assert money(math.nan, "EUR") == money(None, "EUR") == "—"


def test_points_digits():
    assert points(0.8 - 0.763) == "3.7"
    assert points(0.05, digits=0) == "5"
