"""How numbers read at the edges (CLI tables, charts, reports, messages): clock labels, shares, amounts, points.

Times are seconds inside bposim; these turn them into the labels a planner reads, in one place.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any

DAY_SECONDS = 86_400
MISSING = "—"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # in English whatever the locale, as the rest
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def hours_minutes(seconds: float) -> str:
    """Whole seconds as HH:MM, hours not wrapped at midnight (a shift ending at 2 a.m. the next day ends 26:00)."""
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def clock(seconds: float) -> str:
    """The time of day of seconds after midnight of day 0 as HH:MM; a later day wraps (90 000 s is 01:00)."""
    return hours_minutes(int(seconds) % DAY_SECONDS)


def day_clock(seconds: float) -> str:
    """Seconds after midnight of day 0 as HH:MM on day 0 and as "d1 08:00" on a later day."""
    day, rest = divmod(int(seconds), DAY_SECONDS)
    text = hours_minutes(rest)
    return text if day == 0 else f"d{day} {text}"


def missing(value: Any) -> bool:
    """No value to show: None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def share(value: Any, half: Any = None, digits: int = 1) -> str:
    """A share as a percentage with `digits` decimals, "± half" when a CI half-width is given, "—" when missing."""
    if missing(value):
        return MISSING
    return f"{value:.{digits}%}" + ("" if missing(half) else f" ± {half:.{digits}%}")


def amount(value: Any, half: Any = None, spec: str = ",.0f", signed: bool = False, half_spec: str | None = None) -> str:
    """An amount with thousands separators (format `spec`; with its sign, e.g. "+1,250", when `signed`), "± half"
    when a CI half-width is given (format `half_spec`, else `spec`: a mean count of whole calls keeps a decimal in
    its half-width), "—" when missing."""
    if missing(value):
        return MISSING
    text = format(value, ("+" if signed else "") + spec)
    return text + ("" if missing(half) else f" ± {format(half, half_spec or spec)}")


def estimate(value: Any, half: Any = None, spec: str = ",.0f") -> str:
    """An amount as `amount` writes it, but with no "± 0" when the half-width is zero (one replication, or no
    spread): a mean whose interval says nothing is shown as the number alone."""
    return amount(value, None if half == 0 else half, spec)


def points(value: Any, signed: bool = False, digits: int = 1) -> str:
    """A difference of two shares in percentage points, `digits` decimals: 0.025 is "2.5" ("+2.5" when `signed`),
    "—" when missing."""
    if missing(value):
        return MISSING
    return format(value * 100, f"{'+' if signed else ''}.{digits}f")


def money(value: Any, unit: str) -> str:
    """A cost with two decimals and its unit, e.g. "2,376.00 EUR" (the unit is "paid hours" where nothing is
    priced); "—" when missing."""
    return MISSING if missing(value) else f"{value:,.2f} {unit}"


def day_label(day: int, text: str, dates: Sequence[datetime.date] | None = None) -> str:
    """A clock label prefixed by its day, as charts spanning several days print it: "day 1 08:00", or with the
    horizon's `dates` (one per day), "Tue 2 Mar 08:00"."""
    return f"{date_label(dates[day])} {text}" if dates else f"day {day} {text}"


def dated_clock(seconds: float, dates: Sequence[datetime.date] | None = None) -> str:
    """Seconds after midnight of day 0 as `day_clock` writes them, or with the horizon's `dates` (one per day) as
    "Mon 1 Mar 08:00"."""
    if not dates:
        return day_clock(seconds)
    day, rest = divmod(int(seconds), DAY_SECONDS)
    return f"{date_label(dates[min(day, len(dates) - 1)])} {hours_minutes(rest)}"


def date_label(date: datetime.date) -> str:
    """A date as a planner reads it on a schedule: "Mon 1 Mar"."""
    return f"{_WEEKDAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]}"
