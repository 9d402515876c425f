"""A site's own opening hours: when its agents may work, on the site's local clock.

`sites[].hours: {open: "08:00", close: "20:00"}` is one stretch of the site's local day, the same every day (a
planner reads a site's hours as "Manila works 08:00 to 20:00"; the centre's weekly hours stay in `horizon`); a
close before the open is a night site's, closing the next local day ("22:00" to "07:00"). The
hours are read date by date on the site's clock (`scenario.site_clock`), so a daylight saving change in either
zone moves them by an hour on the horizon's clock from the change date; a site without `time_zone` keeps the
horizon's clock. An interval of the horizon's grid is the site's when it lies wholly inside the hours of one of the
site's local days (an interval cut by opening or closing is not). Outside them the site's plan agents (`agents`) are
logged out, as on its holidays; a roster line of its groups outside them is refused (`hours_errors`) rather than
cut, so the roster a planner reads is the one that runs, and so is a shift pattern (`scheduling.shifts`) that
would let `bposim staff` propose one (`pattern_errors`). The centre's own hours are not touched: calls still
arrive, and another site serves them or they wait.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, model_validator

from bposim.scenario.common import SECONDS_PER_DAY, Clock, Model, clock_seconds
from bposim.scenario.site_clock import ANY_MONDAY, hhmm, horizon_seconds, scenario_time_zone

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario
    from bposim.scenario.sites import Site

Problem = tuple[tuple[str | int, ...], str, Any]


class SiteHours(Model):
    """A site's opening hours on its local clock: one stretch of the day, every day."""

    open: Clock = Field(description="the site opens, HH:MM on its local clock")
    close: Clock = Field(description="the site closes, HH:MM on its local clock (24:00 for midnight)")

    @model_validator(mode="after")
    def _order(self) -> SiteHours:
        if clock_seconds(self.close) == clock_seconds(self.open):
            raise ValueError(
                f"close {self.close} is open {self.open}: give a stretch of the day (00:00 to 24:00 for all day; a "
                "close before the open for a night site, e.g. 22:00 to 07:00)"
            )
        return self

    @property
    def overnight(self) -> bool:
        """Whether the site closes on the local day after it opens (a night site: open 22:00, close 07:00)."""
        return clock_seconds(self.close) < clock_seconds(self.open)


def hours_seconds(scenario: Scenario, site: Site, day: int, clock: str) -> float:
    """A site's local time on the date of the horizon's day `day` as the engine's seconds (from the start of day 0's
    grid on the horizon's clock). Without dates every day is read as a Monday in January; without both time zones
    the site's clock is the horizon's."""
    horizon = scenario.horizon
    if scenario_time_zone(scenario) is None or site.time_zone is None:
        return float(day * SECONDS_PER_DAY + clock_seconds(clock) - horizon.start_seconds)
    if horizon.start_date is None:
        dated = scenario.model_copy(update={"horizon": horizon.model_copy(update={"start_date": ANY_MONDAY})})
        return day * SECONDS_PER_DAY + horizon_seconds(dated, site, ANY_MONDAY, clock)
    return horizon_seconds(scenario, site, horizon.start_date + datetime.timedelta(days=day), clock)


def site_windows(scenario: Scenario, site: Site) -> list[tuple[float, float]]:
    """The site's hours as (open, close) in the engine's seconds, one per local day from the day before the
    horizon to the day after (a site ahead of or behind the horizon's clock reaches into its first and last day):
    local day d at index d + 1, so the horizon's day d meets the site's days at indexes d to d + 2."""
    hours = site.hours
    later = 1 if hours.overnight else 0  # a night site closes on the next local day
    days = range(-1, scenario.horizon.days + 1)
    if scenario.horizon.start_date is None:  # every day alike: day 0's hours, a day apart
        opens = hours_seconds(scenario, site, 0, hours.open)
        closes = hours_seconds(scenario, site, later, hours.close)
        return [(opens + day * SECONDS_PER_DAY, closes + day * SECONDS_PER_DAY) for day in days]
    return [
        (hours_seconds(scenario, site, day, hours.open), hours_seconds(scenario, site, day + later, hours.close))
        for day in days
    ]


def open_hours(scenario: Scenario) -> dict[str, np.ndarray]:
    """Agent group → (days, intervals): whether each interval of each day's grid lies inside its site's hours
    (groups of sites with `hours` only)."""
    horizon = scenario.horizon
    length = horizon.interval_seconds
    starts = np.arange(horizon.days)[:, None] * float(SECONDS_PER_DAY) + np.arange(horizon.intervals) * length
    ends = starts + length
    masks: dict[str, np.ndarray] = {}
    for site in scenario.sites:
        if site.hours is None:
            continue
        mask = np.zeros(starts.shape, bool)
        for opens, closes in site_windows(scenario, site):
            mask |= (starts >= opens) & (ends <= closes)
        for group in scenario.agent_groups:
            if group.site == site.name:
                masks[group.name] = mask
    return masks


def shut_intervals(scenario: Scenario) -> dict[str, frozenset[tuple[int, int]]]:
    """Agent group → the (day, interval) pairs outside its site's hours, when its plan agents are logged out."""
    return {
        group: frozenset((int(day), int(interval)) for day, interval in zip(*np.nonzero(~mask), strict=True))
        for group, mask in open_hours(scenario).items()
    }


def hours_errors(scenario: Scenario) -> Iterator[Problem]:
    """Roster lines of a site's groups that work outside the site's hours on a day they work (the first such day)."""
    sites = {site.name: site for site in scenario.sites if site.hours is not None}
    groups = {group.name: sites[group.site] for group in scenario.agent_groups if group.site in sites}
    if not groups:
        return
    horizon = scenario.horizon
    windows = {name: site_windows(scenario, site) for name, site in sites.items()}
    first = horizon.start_date
    for r, shift in enumerate(scenario.roster):
        site = groups.get(shift.group)
        if site is None:
            continue
        if shift.days is not None and first is not None:
            days = sorted(d for d in ((date - first).days for date in shift.days) if 0 <= d < horizon.days)
        else:
            days = [day for day in range(horizon.days) if horizon.open_intervals(day)]
        holidays = {(date - first).days for date in site.holidays} if first is not None else set()
        for day in days:
            if day in holidays:
                continue
            start = day * SECONDS_PER_DAY + clock_seconds(shift.start) - horizon.start_seconds
            end = day * SECONDS_PER_DAY + clock_seconds(shift.end) - horizon.start_seconds
            if not any(opens <= start and end <= closes for opens, closes in windows[site.name][day : day + 3]):
                on = f" on {first + datetime.timedelta(days=day)}" if first is not None else ""
                message = (
                    f"shift {shift.start}-{shift.end} of {shift.group} is outside the hours of site '{site.name}', "
                    f"{site.hours.open}-{site.hours.close} local, open {day_hours_text(scenario, site, day)} on the "
                    f"horizon's clock{on}; a site's agents work inside its hours only: move the shift or the hours"
                )
                yield ("roster", r), message, f"{shift.start}-{shift.end}"
                break


def pattern_errors(scenario: Scenario) -> Iterator[Problem]:
    """Shift patterns (`scheduling.shifts`) of a site's groups that allow a shift outside the site's hours on an open
    day: `bposim staff` could not propose it, so it is refused here (the first such shift and day)."""
    if scenario.scheduling is None or scenario.horizon.length_hours is not None:
        return
    sites = {site.name: site for site in scenario.sites if site.hours is not None}
    groups = {group.name: sites[group.site] for group in scenario.agent_groups if group.site in sites}
    horizon = scenario.horizon
    days = [day for day in range(horizon.days) if horizon.open_intervals(day)]
    for p, pattern in enumerate(scenario.scheduling.shifts):
        for name in pattern.groups or list(groups):
            site = groups.get(name)
            if site is None:
                continue
            windows = site_windows(scenario, site)
            found = next(
                (
                    (start, end, day)
                    for start, end in pattern.shift_times(horizon)
                    for day in days
                    if not any(
                        opens <= day * SECONDS_PER_DAY + start - horizon.start_seconds
                        and day * SECONDS_PER_DAY + end - horizon.start_seconds <= closes
                        for opens, closes in windows[day : day + 3]  # the site's local days around it
                    )
                ),
                None,
            )
            if found is not None:
                start, end, day = found
                on = f" on {horizon.start_date + datetime.timedelta(days=day)}" if horizon.start_date else ""
                message = (
                    f"pattern '{pattern.name}' allows shift {hhmm(start)}-{hhmm(end)} of {name}, outside the hours of "
                    f"site '{site.name}', {site.hours.open}-{site.hours.close} local, open "
                    f"{day_hours_text(scenario, site, day)} on the horizon's clock{on}; narrow the pattern's starts "
                    "or lengths, or give the group a pattern of its own"
                )
                yield ("scheduling", "shifts", p, "starts"), message, pattern.starts.earliest
                break


def day_hours_text(scenario: Scenario, site: Site, day: int) -> str:
    """The parts of the horizon's day `day` (midnight to midnight on its clock) inside the site's hours, as
    HH:MM-HH:MM on the horizon's clock ("closed" when none)."""
    midnight = day * SECONDS_PER_DAY - scenario.horizon.start_seconds
    parts = []
    for opens, closes in site_windows(scenario, site):
        start, end = max(opens, midnight), min(closes, midnight + SECONDS_PER_DAY)
        if start < end:
            parts.append(f"{hhmm(start - midnight)}-{hhmm(end - midnight)}")
    return " and ".join(parts) or "closed"


def horizon_hours_text(scenario: Scenario, site: Site, day: int) -> str:
    """The site's hours on the local day of the horizon's day `day` as the horizon's clock times (HH:MM-HH:MM, a
    +1d or -1d when the day differs)."""
    texts = []
    for clock, on in ((site.hours.open, day), (site.hours.close, day + (1 if site.hours.overnight else 0))):
        seconds = hours_seconds(scenario, site, on, clock) + scenario.horizon.start_seconds - day * SECONDS_PER_DAY
        shift = int(seconds // SECONDS_PER_DAY)
        rest = seconds - shift * SECONDS_PER_DAY
        if shift == 1 and rest == 0 and clock == site.hours.close:
            texts.append("24:00")
        elif shift and clock == site.hours.open:
            texts.append(f"{hhmm(rest)} ({shift:+d}d)")
        else:
            texts.append(hhmm(rest) + (f" {shift:+d}d" if shift else ""))
    return "-".join(texts)
