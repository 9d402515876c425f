"""A scenario's weekly roster as a tour problem, and a tour plan back as the scenario's roster.

The days are the horizon's dates: each on the week's grid of intervals (from the earliest opening to the latest
closing), closed days not open. The shift types are every shift the scheduling section's patterns allow (each
start and length inside the grid, for each group of the pattern), their breaks placed by the programme; a
contract with several groups is one tour contract per group (its `max_agents` then holds per group). A day with
shorter hours (a Saturday 09:00-14:00) holds only the shift types that fit within them (`Day.hours`): a shift is
paid in full, so one running past closing would pay for hours no one works.

The plan goes back as roster lines with `days`: the agents working the same shift on the same dates share a line,
its breaks the pattern's windows (start of the earliest to end of the latest), staggered by the engine.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd

from bposim.optimise.coverage import clock
from bposim.optimise.tours.model import BreakWindow, Contract, Day, Limits, ShiftType, TourProblem
from bposim.optimise.tours.plan import TourPlan
from bposim.scenario import Horizon, Scenario, Scheduling, ShiftPattern


def tour_problem(scenario: Scenario) -> TourProblem:
    """The tour problem of a scenario whose scheduling section has contracts, on its calendar horizon."""
    scheduling: Scheduling = scenario.scheduling
    horizon = scenario.horizon
    groups = [group.name for group in scenario.agent_groups]
    days = tuple(
        Day(
            weekday=date.weekday(),
            intervals=horizon.intervals,
            interval_seconds=round(horizon.interval_seconds),
            opens=horizon.start_seconds,
            open=bool(horizon.open_intervals(d)),
            label=date.isoformat(),
            hours=_short_hours(horizon, d),
        )
        for d, date in enumerate(horizon.dates())
    )
    rates = _hourly_costs(scenario)
    shifts: list[ShiftType] = []
    for pattern in scheduling.shifts:
        for group in scheduling.groups_of(pattern, groups):
            shifts += _shift_types(pattern, group, scenario, rates[group])
    contracts = []
    for contract in scheduling.contracts:
        mine = scheduling.contract_groups(contract, groups)
        for group in mine:
            allowed = contract.shifts
            names = (
                tuple(shift.name for shift in shifts if shift.group == group and _pattern_of(shift) in allowed)
                if allowed
                else None
            )
            contracts.append(
                Contract(
                    name=contract.name if len(mine) == 1 else f"{contract.name} ({group})",
                    group=group,
                    min_days=contract.days[0],
                    max_days=contract.days[1],
                    max_weekly_hours=contract.max_weekly_hours,
                    days_off_together=contract.days_off_together,
                    weekend=contract.weekend,
                    min_rest_hours=contract.min_rest_hours,
                    start_window_hours=contract.start_window_hours,
                    max_agents=contract.max_agents,
                    shifts=names,
                )
            )
    limits = scheduling.limits
    return TourProblem(
        days,
        tuple(shifts),
        tuple(contracts),
        Limits(limits.max_starts_per_day, limits.min_agents_per_line) if limits is not None else Limits(),
    )


def _short_hours(horizon: Horizon, day: int) -> tuple[int, int] | None:
    """A day's hours (open, close in seconds after midnight) when it opens less than the grid, else None."""
    span = horizon.open_intervals(day)
    if not span or len(span) == horizon.intervals:
        return None
    start, step = horizon.start_seconds, round(horizon.interval_seconds)
    return start + span.start * step, start + span.stop * step


def _shift_types(pattern: ShiftPattern, group: str, scenario: Scenario, rate: float) -> list[ShiftType]:
    """Every shift of the pattern for the group, named "<pattern> HH:MM-HH:MM", its breaks as windows of starts."""
    step = scenario.horizon.interval_minutes
    found = []
    for start, end in pattern.shift_times(scenario.horizon):
        length = end - start
        breaks = tuple(
            BreakWindow(
                rule.name,
                rule.minutes,
                tuple(offset for offset in rule.offsets(step) if offset + rule.minutes * 60 <= length),
                rule.paid,
            )
            for rule in pattern.breaks
        )
        found.append(
            ShiftType(
                name=f"{pattern.name} {clock(start)}-{clock(end)}",
                group=group,
                start=start,
                length=length,
                breaks=breaks,
                cost_per_paid_hour=rate,
            )
        )
    return found


def _pattern_of(shift: ShiftType) -> str:
    """The pattern a shift type comes from (its name without the hours)."""
    return shift.name.rsplit(" ", 1)[0]


def _hourly_costs(scenario: Scenario) -> dict[str, float]:
    """Cost of a paid hour per group: its per_paid_hour, else 1 (the objective is then paid hours)."""
    rates = {group.name: 1.0 for group in scenario.agent_groups}
    if scenario.costs is not None:
        rates.update({entry.group: entry.per_paid_hour for entry in scenario.costs.groups})
    return rates


def requirement_by_day(scenario: Scenario, required: np.ndarray, groups: list[str]) -> pd.DataFrame:
    """The requirement of each date where it is open (columns group, day, interval, required; whole agents):
    `required` is one day's (group × interval of the grid, `groups` in order), the same every date, or each
    date's (day × group × interval: its kind of day's)."""
    horizon = scenario.horizon
    required = np.asarray(required, float)
    if required.ndim == 2:
        required = np.broadcast_to(required, (horizon.days, *required.shape))
    rows = []
    for d in range(horizon.days):
        open_intervals = horizon.open_intervals(d)
        for g, group in enumerate(groups):
            for i in range(horizon.intervals):
                needed = int(round(required[d, g, i])) if i in open_intervals else 0
                rows.append((group, d, i, needed))
    return pd.DataFrame(rows, columns=["group", "day", "interval", "required"])


def roster_lines(scenario: Scenario, plan: TourPlan) -> list[dict[str, Any]]:
    """The plan's agents as roster lines (Shift fields): one per shift and set of dates, its agents those who
    work that shift on exactly those dates."""
    problem = plan.problem
    dates = scenario.horizon.dates()
    patterns = {pattern.name: pattern for pattern in scenario.scheduling.shifts}
    counted: Counter = Counter()
    for agent in plan.agents:
        worked = defaultdict(list)
        for d, s in enumerate(agent.shifts):
            if s is not None:
                worked[s].append(d)
        for s, days in worked.items():
            counted[s, tuple(days)] += 1
    lines = []
    for (s, days), agents in sorted(counted.items(), key=lambda item: (problem.shifts[item[0][0]].start, item[0])):
        shift = problem.shifts[s]
        pattern = patterns[_pattern_of(shift)]
        lines.append(
            {
                "group": shift.group,
                "start": clock(shift.start),
                "end": clock(shift.end),
                "agents": agents,
                "breaks": [_break_window(rule, shift) for rule in pattern.breaks],
                "days": [dates[d] for d in days],
            }
        )
    return lines


def _break_window(rule: Any, shift: ShiftType) -> dict[str, Any]:
    """A pattern's break as a roster break: the window from its earliest start to the end of its latest."""
    window = next(window for window in shift.breaks if window.name == rule.name)
    first = shift.start + min(window.starts)
    last = shift.start + max(window.starts) + rule.minutes * 60
    return {"name": rule.name, "minutes": rule.minutes, "window": (clock(first), clock(last)), "paid": rule.paid}


def weekly_roster_scenario(scenario: Scenario, plan: TourPlan) -> Scenario:
    """The scenario staffed by the plan: its roster lines replace the scheduled groups' shifts and plan agents."""
    scheduled = set(plan.problem.groups)
    data = scenario.model_dump(mode="python", exclude_none=True)
    data.pop("roster_file", None)
    kept = [
        shift.model_dump(mode="python", exclude_none=True) for shift in scenario.roster if shift.group not in scheduled
    ]
    data["roster"] = kept + roster_lines(scenario, plan)
    for group in data["agent_groups"]:
        if group["name"] in scheduled:
            group["agents"] = 0
    return Scenario.model_validate(data)
