"""What the tour programme is given, checked before it is built: the problem's values, the requirement's rows,
and intervals no shift of a group can cover; each failure a TourError naming the value and what is allowed.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from bposim.formatting import hours_minutes
from bposim.optimise.tours.model import WEEK_DAYS, Day, TourError, TourProblem
from bposim.optimise.tours.programme import TOLERANCE, shift_row
from bposim.optimise.tours.weeks import Skeleton

WEEKEND_RULES = ("any", "one_off", "both_off", "alternate")


def check_problem(problem: TourProblem) -> None:
    """The days, shift types, contracts and limits make sense; TourError naming the first that does not."""
    days = problem.days
    if not days:
        raise TourError("the horizon has no days")
    if len(days) > WEEK_DAYS and len(days) % WEEK_DAYS:
        raise TourError(f"the horizon has {len(days)} days: it must be at most 7 days or whole weeks (7, 14, 21, ...)")
    for d, day in enumerate(days):
        if day.weekday != (days[0].weekday + d) % WEEK_DAYS:
            raise TourError(
                f"days[{d}].weekday is {day.weekday}: days must follow each other "
                f"(expected {(days[0].weekday + d) % WEEK_DAYS})"
            )
        if day.intervals < 1 or day.interval_seconds < 60:
            raise TourError(f"days[{d}]: intervals must be ≥ 1 and interval_seconds ≥ 60")
    if not problem.contracts:
        raise TourError("no contract: give at least one (group, days worked, ...)")
    names = [shift.name for shift in problem.shifts]
    for s, shift in enumerate(problem.shifts):
        where = f"shifts[{s}] ('{shift.name}')"
        if not 0 < shift.length <= 86_400 or shift.start < 0:
            raise TourError(
                f"{where}: length must be in (0, 24 h] and start ≥ 0, "
                f"got start {shift.start} s, length {shift.length} s"
            )
        if shift.cost_per_paid_hour < 0 or shift.paid < 0:
            raise TourError(f"{where}: paid hours and cost per paid hour must be ≥ 0")
        if shift.coverage is not None and any(len(shift.coverage) != day.intervals for day in days):
            raise TourError(
                f"{where}: coverage has {len(shift.coverage)} values; every day must have as many intervals"
            )
        for window in shift.breaks:
            if not window.starts or any(t < 0 or t + window.minutes * 60 > shift.length for t in window.starts):
                raise TourError(
                    f"{where}: break '{window.name}' needs starts inside the shift (0 to length − its minutes)"
                )
    for c in range(len(problem.contracts)):
        _check_contract(problem, c, names)
    limits = problem.limits
    for name in ("max_starts_per_day", "min_agents_per_line"):
        value = getattr(limits, name)
        if value is not None and value < 1:
            raise TourError(f"limits.{name} must be a whole number ≥ 1, got {value}")


def _check_contract(problem: TourProblem, c: int, names: list[str]) -> None:
    contract = problem.contracts[c]
    where = f"contracts[{c}] ('{contract.name}')"
    if not 0 <= contract.min_days <= contract.max_days <= WEEK_DAYS:
        raise TourError(f"{where}: need 0 ≤ min_days ≤ max_days ≤ 7, got {contract.min_days} and {contract.max_days}")
    if contract.weekend not in WEEKEND_RULES:
        raise TourError(f"{where}.weekend: unknown rule '{contract.weekend}'; known: {', '.join(WEEKEND_RULES)}")
    if not 0 <= contract.min_rest_hours <= 24:
        raise TourError(f"{where}.min_rest_hours must be in [0, 24], got {contract.min_rest_hours}")
    if not 0 <= contract.days_off_together <= WEEK_DAYS:
        raise TourError(f"{where}.days_off_together must be in [0, 7], got {contract.days_off_together}")
    for name in ("max_weekly_hours", "start_window_hours", "max_agents"):
        value = getattr(contract, name)
        if value is not None and value < 0:
            raise TourError(f"{where}.{name} must be ≥ 0, got {value}")
    unknown = sorted(set(contract.shifts or ()) - set(names))
    if unknown:
        raise TourError(
            f"{where}.shifts: unknown shift type(s) {', '.join(unknown)}; known: {', '.join(dict.fromkeys(names))}"
        )
    if not problem.contract_shifts(contract):
        raise TourError(f"{where}: no shift type of group '{contract.group}' for it to work")


def required_arrays(problem: TourProblem, requirement: pd.DataFrame) -> dict[str, list[np.ndarray]]:
    """The requirement (columns group, day, interval, required) as one array of agents per group and day."""
    missing = {"group", "day", "interval", "required"} - set(requirement.columns)
    if missing:
        raise TourError(f"the requirement table lacks the column(s) {', '.join(sorted(missing))}")
    groups = problem.groups
    found = {group: [np.zeros(day.intervals) for day in problem.days] for group in groups}
    for row in requirement.itertuples(index=False):
        where = f"requirement for group '{row.group}' on day {row.day} at interval {row.interval}"
        if row.group not in groups:
            raise TourError(f"{where}: no contract staffs group '{row.group}'; contracts cover {', '.join(groups)}")
        if not 0 <= int(row.day) < len(problem.days):
            raise TourError(f"{where}: the horizon has days 0-{len(problem.days) - 1}")
        if not 0 <= int(row.interval) < problem.days[int(row.day)].intervals:
            raise TourError(f"{where}: the day has intervals 0-{problem.days[int(row.day)].intervals - 1}")
        if not math.isfinite(row.required) or row.required < 0:
            raise TourError(f"{where} is {row.required}; it must be a number of agents ≥ 0")
        found[row.group][int(row.day)][int(row.interval)] = row.required
    return found


def check_coverable(problem: TourProblem, required: dict[str, list[np.ndarray]], skeletons: list[Skeleton]) -> None:
    """Intervals that need agents when no shift of the group has any on the phones, when no contract's week works
    such a shift that day, or when more than the group's contracts' headcount limits could be there; named one by
    one."""
    worked = defaultdict(set)
    for skeleton in skeletons:
        for d, options in zip(skeleton.worked, skeleton.options, strict=True):
            worked[d].update(options)
    names = problem.day_names
    problems = []
    for group, days in required.items():
        contracts = [contract for contract in problem.contracts if contract.group == group]
        limit = None if any(c.max_agents is None for c in contracts) else sum(c.max_agents for c in contracts)
        mine = [s for s, shift in enumerate(problem.shifts) if shift.group == group]
        for d, needed in enumerate(days):
            day = problem.days[d]
            rows = {s: shift_row(problem.shifts[s], day) for s in mine}
            best = np.max([rows[s] for s in mine if s in worked[d]] or [np.zeros(day.intervals)], axis=0)
            for i in np.flatnonzero(needed > 0):
                when = f"{names[d]} {hours_minutes(day.opens + i * day.interval_seconds)}"
                count = f"{needed[i]:g} agent{'' if needed[i] == 1 else 's'}"
                need = f"group '{group}' needs {count} on {when} (day {d}, interval {i})"
                if not day.open:
                    problems.append(f"{need}, but the site is closed that day")
                elif all(rows[s][i] <= TOLERANCE for s in mine):
                    problems.append(f"{need}, but no shift type of '{group}' is logged in then")
                elif day.hours is not None and not any(day.fits(problem.shifts[s]) for s in mine):
                    hours = f"{hours_minutes(day.hours[0])}-{hours_minutes(day.hours[1])}"
                    problems.append(
                        f"{need}, but no shift type of '{group}' fits within the day's hours ({hours}): a shift is "
                        "worked on a date only inside its opening hours; add a pattern that fits them"
                    )
                elif best[i] <= TOLERANCE:
                    problems.append(
                        f"{need}, but no contract of '{group}' works a shift logged in then that day"
                        + _fitting(problem, day, mine)
                    )
                elif limit is not None and limit * best[i] < needed[i] - TOLERANCE:
                    problems.append(f"{need}, more than the contracts' max_agents allow ({limit} in all)")
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise TourError("; ".join(problems[:5]) + more)


def _fitting(problem: TourProblem, day: Day, mine: list[int]) -> str:
    """On a day open less than the grid, the shift types that fit its hours (the only ones worked that day)."""
    if day.hours is None:
        return ""
    names = [problem.shifts[s].name for s in mine if day.fits(problem.shifts[s])]
    listed = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    hours = f"{hours_minutes(day.hours[0])}-{hours_minutes(day.hours[1])}"
    return f" (of the shift types, only {listed} fit the day's hours {hours}; do the contracts allow them then?)"
