"""How numbers read at the edges (CLI tables, charts, reports, messages): clock labels, shares, amounts.

Times are seconds inside bposim; these turn them into the labels a planner reads, in one place.
"""

from __future__ import annotations

import math
from typing import Any

DAY_SECONDS = 86_400
MISSING = "—"


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


def amount(value: Any, half: Any = None, spec: str = ",.0f") -> str:
    """An amount with thousands separators (format `spec`), "± half" when a CI half-width is given, "—" when
    missing."""
    if missing(value):
        return MISSING
    return format(value, spec) + ("" if missing(half) else f" ± {format(half, spec)}")


def money(value: Any, unit: str) -> str:
    """A cost with two decimals and its unit, e.g. "2,376.00 EUR" (the unit is "paid hours" where nothing is
    priced); "—" when missing."""
    return MISSING if missing(value) else f"{value:,.2f} {unit}"


def points(difference: Any, digits: int = 1) -> str:
    """A difference of two shares in percentage points, e.g. "3.7 points" for 0.037; "—" when missing."""
    if missing(difference):
        return MISSING
    return f"{100 * difference:.{digits}f} points"
