"""A site's local clock against the horizon's, date by date.

The horizon's clock (`horizon.time_zone`, else the first site's) is a wall clock: "08:00" on day d is 08:00 there
on that date, and day d starts d × 86,400 s after day 0 whatever daylight saving does. A site in another zone sees
the same moment at a local time that moves by an hour when either zone changes between winter and summer time
(a Lisbon horizon and a Manila site: 09:00 in Manila is 01:00 in Lisbon until 2027-03-27 and 02:00 from
2027-03-28), so a local time is known on a date only: `local_clock` turns a horizon time into the site's local time
on one date,
`horizon_seconds` a site's local time on a date into the engine's seconds, and `by_date` says which dates share
one local text.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from typing import TYPE_CHECKING

from bposim.scenario.common import SECONDS_PER_DAY, clock_seconds

if TYPE_CHECKING:
    from bposim.scenario.centre import Horizon, Scenario
    from bposim.scenario.sites import Site

ANY_MONDAY = datetime.date(2026, 1, 5)  # the date a horizon without dates is read on (winter in the north)


def scenario_time_zone(scenario: Scenario) -> str | None:
    """The horizon's clock: horizon.time_zone, else the first site's time zone, else none."""
    if scenario.horizon.time_zone is not None:
        return scenario.horizon.time_zone
    return next((site.time_zone for site in scenario.sites if site.time_zone), None)


def horizon_dates(horizon: Horizon) -> list[datetime.date]:
    """The dates of the horizon's days (none without a start_date)."""
    first = horizon.start_date
    if first is None:
        return []
    return [first + datetime.timedelta(days=day) for day in range(horizon.days)]


def local_clock(scenario: Scenario, site: Site, seconds_of_day: float, date: datetime.date | None = None) -> str:
    """A time of day on the horizon's clock as the site's local clock time (HH:MM, with a +1d or -1d when the
    day differs), on `date` (else the horizon's first date, else a Monday in January: the offset can change with
    daylight saving); unchanged when either has no time zone."""
    home = scenario_time_zone(scenario)
    if home is None or site.time_zone is None:
        return hhmm(seconds_of_day)
    day = date or scenario.horizon.start_date or ANY_MONDAY
    moment = datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(home)) + datetime.timedelta(
        seconds=seconds_of_day
    )  # wall-clock arithmetic: the time the horizon's clock shows
    local = moment.astimezone(zoneinfo.ZoneInfo(site.time_zone))
    shift = (local.date() - day).days
    if shift == 1 and local.hour == local.minute == 0:
        return "24:00"  # the end of the day it began
    return local.strftime("%H:%M") + (f" {shift:+d}d" if shift else "")


def horizon_seconds(scenario: Scenario, site: Site, date: datetime.date, clock: str) -> float:
    """A site's local clock time (HH:MM) on a date as the engine's seconds: from the start of day 0's grid on the
    horizon's clock. Needs horizon.start_date and both time zones (`site_errors` checks). A local time daylight
    saving skips (the spring gap) is read with the offset before the change."""
    home = zoneinfo.ZoneInfo(scenario_time_zone(scenario))
    seconds = clock_seconds(clock)
    local = datetime.datetime.combine(
        date + datetime.timedelta(days=seconds // SECONDS_PER_DAY),
        datetime.time(seconds % SECONDS_PER_DAY // 3600, seconds % 3600 // 60),
        zoneinfo.ZoneInfo(site.time_zone),
    )
    there = local.astimezone(home)
    day = (there.date() - scenario.horizon.start_date).days
    wall = there.hour * 3600 + there.minute * 60 + there.second
    return float(day * SECONDS_PER_DAY + wall - scenario.horizon.start_seconds)


def by_date(horizon: Horizon, text_of: Callable[[datetime.date | None], str]) -> list[tuple[datetime.date | None, str]]:
    """(first date, text) for each run of consecutive dates with the same text (one, with None, without dates)."""
    spans: list[tuple[datetime.date | None, str]] = []
    for date in horizon_dates(horizon) or [None]:
        text = text_of(date)
        if not spans or spans[-1][1] != text:
            spans.append((date, text))
    return spans


def spans_text(spans: list[tuple[datetime.date | None, str]], suffix: str = "") -> str:
    """Spans of `by_date` for a planner: "08:00-16:00 local" alone, or "08:00-16:00 local to 2027-03-27,
    09:00-17:00 local from 2027-03-28" when daylight saving moves it."""
    if len(spans) == 1:
        return spans[0][1] + suffix
    parts = []
    for i, (first, text) in enumerate(spans):
        if i == 0:
            parts.append(f"{text}{suffix} to {spans[1][0] - datetime.timedelta(days=1)}")
        else:
            parts.append(f"{text}{suffix} from {first}")
    return ", ".join(parts)


def hhmm(seconds: float) -> str:
    """Seconds after midnight as HH:MM."""
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
