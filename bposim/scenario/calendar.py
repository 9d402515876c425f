"""The calendar of a horizon: weekday names, opening hours per weekday, and the checks of what a planner writes.

A horizon with a `start_date` runs on dates: day d is the date start_date + d days, with its weekday. Opening hours
may differ by weekday (`opening_hours: {mon-fri: "08:00-20:00", sat: "09:00-14:00", sun: closed}`); weekdays left
out keep the horizon's `start`-`end`. Dates in `closed_dates` (holidays) are closed whatever their weekday.

Every day shares one grid of planning intervals, from the earliest opening to the latest closing over the week, so
tables keep days × intervals; a day opening later or closing earlier has the intervals outside its hours closed.
Hours are seconds after midnight here; the horizon (`scenario.centre.Horizon`) turns them into seconds from the
start of the horizon.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, NamedTuple

from bposim.formatting import hours_minutes
from bposim.scenario.common import clock_seconds, custom_error

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names, in the order of `datetime.date.weekday()` (Monday is 0)."""
CLOSED = "closed"
NEEDS_START_DATE = "needs horizon.start_date (the date of day 0, YYYY-MM-DD) to know each day's weekday and date"
_RANGE = re.compile(r"^\s*([a-z]{3})\s*-\s*([a-z]{3})\s*$")
_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


class Hours(NamedTuple):
    """A day's opening hours, in seconds after midnight: it opens at `open` and closes at `close` (> open)."""

    open: int
    close: int


def weekdays_of(key: Any) -> list[int]:
    """The weekdays (0 = mon) an `opening_hours` key names: one name ("sat") or a range in week order ("mon-fri").
    Raises ValueError saying what is allowed."""
    allowed = f"write a weekday ({', '.join(WEEKDAYS)}) or a range of them in week order, like mon-fri"
    if not isinstance(key, str):
        raise ValueError(f"'{key}' is not a weekday; {allowed}")
    name = key.strip().lower()
    if name in WEEKDAYS:
        return [WEEKDAYS.index(name)]
    match = _RANGE.match(name)
    if match and match[1] in WEEKDAYS and match[2] in WEEKDAYS:
        first, last = WEEKDAYS.index(match[1]), WEEKDAYS.index(match[2])
        if first <= last:
            return list(range(first, last + 1))
        raise ValueError(f"'{key}' runs backwards; {allowed}")
    raise ValueError(f"'{key}' is not a weekday; {allowed}")


def hours_of(value: Any) -> Hours | None:
    """The hours an `opening_hours` value gives: "HH:MM-HH:MM" (closing after opening, 24:00 at the latest), or
    None for "closed". Raises ValueError saying what is allowed."""
    allowed = 'write "HH:MM-HH:MM" (e.g. "08:00-20:00") or closed'
    if isinstance(value, str) and value.strip().lower() == CLOSED:
        return None
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not opening hours; {allowed}")
    hours = Hours(clock_seconds(match[1]), clock_seconds(match[2]))
    if hours.close <= hours.open:
        raise ValueError(f"'{value}' closes before it opens; {allowed}, closing after opening on the same day")
    return hours


def week_of(opening_hours: dict[str, str], usual: Hours | None) -> tuple[Hours | None, ...]:
    """The hours of each weekday (mon..sun; None: closed): those `opening_hours` gives, else `usual` (the horizon's
    start-end). The keys and values must be valid (see `opening_hours_errors`)."""
    week: list[Hours | None] = [usual] * 7
    for key, value in opening_hours.items():
        for weekday in weekdays_of(key):
            week[weekday] = hours_of(value)
    return tuple(week)


def opening_hours_errors(opening_hours: dict[Any, Any]) -> list[tuple[tuple[str, ...], str, Any]]:
    """What is wrong with an `opening_hours` mapping, as (location, message, value): a key that is not a weekday or
    range, hours that cannot be read, a weekday given by two keys."""
    problems: list[tuple[tuple[str, ...], str, Any]] = []
    given: dict[int, str] = {}
    for key, value in opening_hours.items():
        loc = ("opening_hours", str(key))
        try:
            weekdays = weekdays_of(key)
        except ValueError as exc:
            problems.append((loc, str(exc), key))
            continue
        try:
            hours_of(value)
        except ValueError as exc:
            problems.append((loc, str(exc), value))
        for weekday in weekdays:
            if weekday in given:
                message = f"{WEEKDAYS[weekday]} is also in '{given[weekday]}'; give each weekday once"
                problems.append((loc, message, key))
                break
        given.update(dict.fromkeys(weekdays, str(key)))
    return problems


def weekday_key_errors(mapping: dict[Any, Any]) -> list[tuple[Any, str]]:
    """What is wrong with the keys of a mapping keyed by weekdays (arrivals by day type, weekday shares, absence by
    weekday), as (key, message): a key that is not a weekday or range, a weekday given by two keys."""
    problems: list[tuple[Any, str]] = []
    given: dict[int, str] = {}
    for key in mapping:
        try:
            weekdays = weekdays_of(key)
        except ValueError as exc:
            problems.append((key, str(exc)))
            continue
        for weekday in weekdays:
            if weekday in given:
                problems.append((key, f"{WEEKDAYS[weekday]} is also in '{given[weekday]}'; give each weekday once"))
                break
        given.update(dict.fromkeys(weekdays, str(key)))
    return problems


def weekday_mapping(title: str, value: Any, example: str) -> Any:
    """A mapping keyed by weekdays or ranges of them (as `opening_hours` is), each weekday given once; refused
    naming the key and what is allowed."""
    if value is None:
        return value
    if not isinstance(value, dict) or not value:
        raise ValueError(f"write a mapping of weekdays or ranges of them, e.g. {example}")
    problems = weekday_key_errors(value)
    if problems:
        raise custom_error(title, [((str(key),), message, key) for key, message in problems])
    return {str(key).strip().lower(): item for key, item in value.items()}


def listed_weekdays(opening_hours: dict[str, str] | None) -> set[int]:
    """The weekdays an (already checked) `opening_hours` mapping gives hours for."""
    return {weekday for key in opening_hours or {} for weekday in weekdays_of(key)}


def read_date(value: Any) -> Any:
    """A date as YAML reads it (2027-03-01) or as ISO text ("2027-03-01"); anything else is left for pydantic to
    refuse, except a date with a time of day and a bare number, refused here with what to write."""
    if isinstance(value, datetime.datetime):
        raise ValueError(f"'{value}' has a time of day; write a date as YYYY-MM-DD")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"'{value}' is not a date; write YYYY-MM-DD, e.g. 2027-03-01") from None
    raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2027-03-01")


def hours_label(hours: Hours | None) -> str:
    """Hours as "08:00-20:00", or "closed"."""
    if hours is None:
        return CLOSED
    return f"{hours_minutes(hours.open)}-{hours_minutes(hours.close)}"
