"""Kinds of day: the horizon's open days grouped by what a staffing requirement depends on, so that it is searched
once per kind and each date takes its kind's.

Two open days are of one kind when they open the same intervals of the grid and every call type has the same
arrival curve on them (`bposim.arrivals.day_rates`, nil outside the day's hours): on a horizon open mon-fri
08:00-20:00 and sat 09:00-14:00 with `arrivals.by_day_type: {mon-fri: ..., sat: ...}` and a campaign date
(`by_date: {2027-03-15: {factor: 1.4}}`), the kinds are mon-fri, sat and Mon 15 Mar. Busyness, absence and
shrinkage by weekday are left to the simulation (busyness has mean 1). A horizon whose days all open the same
hours with the same arrivals, every horizon without a calendar among them, is one kind.

A kind is named by the weekdays it holds most of the dates of ("mon-fri", "sat"; dates with arrivals of their own,
`by_date`, not counted), its other dates by the date ("Mon 15 Mar"). `kind_day` is the scenario as one day of a
kind, on the same grid: the day the requirement is searched on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bposim.arrivals import day_rates
from bposim.formatting import date_label
from bposim.scenario import Arrivals, Horizon, Scenario
from bposim.scenario.calendar import WEEKDAYS


@dataclass(frozen=True)
class DayKind:
    """Open days with the same hours and arrivals: their day indices (in order), the intervals of the grid they
    open, each call type's hourly rates per interval (nil outside the hours) and a name ("mon-fri", "Mon 15 Mar")."""

    label: str
    days: tuple[int, ...]
    open_intervals: range
    rates: tuple[tuple[float, ...], ...]

    @property
    def volume(self) -> float:
        """Calls offered on a day of the kind, per interval hour: the sum of its hourly rates (to rank kinds)."""
        return float(sum(sum(rates) for rates in self.rates))


def open_rates(arrivals: Arrivals, horizon: Horizon) -> list[tuple[float, ...]]:
    """Each day's hourly rates per interval of the grid, nil outside the day's hours (a closed day all nil)."""
    rates = []
    for day, curve in enumerate(day_rates(arrivals, horizon)):
        span = horizon.open_intervals(day)
        rates.append(tuple(float(rate) if i in span else 0.0 for i, rate in enumerate(curve)))
    return rates


def busiest_rates(arrivals: Arrivals, horizon: Horizon) -> list[float]:
    """The hourly rate of each interval on the busiest open day there (interval by interval): what one day's plan
    repeated every day must cover. The plain rates when every open day has them."""
    days = horizon.open_days()
    rates = open_rates(arrivals, horizon)
    return [max(rates[day][i] for day in days) for i in range(horizon.intervals)]


def day_kinds(scenario: Scenario) -> list[DayKind]:
    """The kinds of the horizon's open days, in the order of their first day."""
    horizon = scenario.horizon
    per_type = [open_rates(call_type.arrivals, horizon) for call_type in scenario.call_types]
    found: dict[tuple, list[int]] = {}
    for day in horizon.open_days():
        span = horizon.open_intervals(day)
        key = ((span.start, span.stop), tuple(rates[day] for rates in per_type))
        found.setdefault(key, []).append(day)
    groups = list(found.items())
    special = {date for call_type in scenario.call_types for date in call_type.arrivals.by_date or {}}
    owners = _weekday_owners(horizon, [days for _, days in groups], special)
    return [
        DayKind(_label(horizon, days, owners, k), tuple(days), range(*key[0]), key[1])
        for k, (key, days) in enumerate(groups)
    ]


def kind_of_day(kinds: list[DayKind], days: int) -> np.ndarray:
    """The kind (index into `kinds`) of each day of the horizon; -1 for a closed day."""
    found = np.full(days, -1, int)
    for k, kind in enumerate(kinds):
        found[list(kind.days)] = k
    return found


def kinds_text(kinds: list[DayKind]) -> str:
    """The kinds and how many dates each has, e.g. "mon-fri (9 dates), sat (2 dates), Mon 15 Mar (1 date)"."""
    return ", ".join(f"{kind.label} ({len(kind.days)} date{'' if len(kind.days) == 1 else 's'})" for kind in kinds)


def kind_day(scenario: Scenario, kind: DayKind) -> Scenario:
    """The scenario as one day of the kind on its grid: its first date (weekday rules kept, no closed dates) or,
    without a calendar, one day; each call type's arrivals the kind's curve (`per_interval`); no contracts, limits
    or dated roster lines; each interval judged against its target (a service level measured per day, week or month
    is not, on one day)."""
    horizon = scenario.horizon
    data = scenario.model_dump(mode="python", exclude_none=True)
    data.pop("roster_file", None)
    data["horizon"]["days"] = 1
    if horizon.calendar:
        data["horizon"].update(start_date=horizon.date(kind.days[0]), closed_dates=[])
    data["service_level"].pop("period", None)  # the requirement is searched per interval; a day has no weeks
    for call_type, rates in zip(data["call_types"], kind.rates, strict=True):
        call_type["arrivals"] = {"per_interval": list(rates)}
        call_type.get("service_level", {}).pop("period", None)
    if "scheduling" in data:
        data["scheduling"].pop("contracts", None)
        data["scheduling"].pop("limits", None)
    data["roster"] = [shift for shift in data.get("roster", []) if "days" not in shift]
    return Scenario.model_validate(data)


def _weekday_owners(horizon: Horizon, groups: list[list[int]], special: set) -> dict[int, int]:
    """The kind holding the most open dates of each weekday (the first on a tie), dates with arrivals of their own
    (`by_date`) not counted; without a calendar, none."""
    if not horizon.calendar:
        return {}
    counts: dict[int, list[int]] = {}
    for k, days in enumerate(groups):
        for day in days:
            if horizon.date(day) in special:
                continue
            weekday = horizon.date(day).weekday()
            counts.setdefault(weekday, [0] * len(groups))[k] += 1
    return {weekday: int(np.argmax(per_kind)) for weekday, per_kind in counts.items()}


def _label(horizon: Horizon, days: list[int], owners: dict[int, int], k: int) -> str:
    """A kind's name: the weekdays it owns as ranges ("mon-fri, sat"), then its other dates ("Mon 15 Mar")."""
    if not horizon.calendar:
        return "every day"
    mine = [owners.get(horizon.date(day).weekday()) == k for day in days]
    parts = _ranges(sorted({horizon.date(day).weekday() for day, owned in zip(days, mine, strict=True) if owned}))
    parts += [date_label(horizon.date(day)) for day, owned in zip(days, mine, strict=True) if not owned]
    return ", ".join(parts)


def _ranges(weekdays: list[int]) -> list[str]:
    """Runs of consecutive weekdays as "mon-fri", single ones as "sat"."""
    parts, first = [], None
    for n, weekday in enumerate(weekdays):
        if first is None:
            first = weekday
        if n + 1 == len(weekdays) or weekdays[n + 1] != weekday + 1:
            parts.append(WEEKDAYS[first] if first == weekday else f"{WEEKDAYS[first]}-{WEEKDAYS[weekday]}")
            first = None
    return parts
