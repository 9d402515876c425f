"""What a shift programme can cover: the checks before it is solved (an interval no pattern covers, a headcount
limit too low for one interval) and the message when the headcount limits leave it infeasible.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from bposim.formatting import hours_minutes
from bposim.optimise.breaks import Columns, best_coverage, overlap
from bposim.scenario import Scenario, Scheduling

TOLERANCE = 1e-6


class ScheduleError(ValueError):
    """No roster can be built: an interval no shift covers, too few agents allowed, or no shift fits the day."""


def check_coverable(
    scenario: Scenario,
    scheduling: Scheduling,
    groups: list[str],
    required: np.ndarray,
    columns: Columns,
) -> None:
    """Intervals no pattern covers, and headcount limits too low for a single interval, named one by one."""
    labels = interval_labels(scenario)
    horizon = scenario.horizon
    edges = horizon.start_seconds + np.arange(horizon.intervals + 1) * horizon.interval_seconds
    problems = []
    for g, group in enumerate(groups):
        best = best_coverage(columns, g)
        logged_in = np.zeros(horizon.intervals, bool)
        for shift in (s for s in columns.shifts if s.group == group):
            logged_in |= overlap(shift.start, shift.end, edges) > 0
        limit = scheduling.max_agents.get(group)
        for i in np.flatnonzero(required[g] > 0):
            count = required[g, i]
            need = f"group '{group}' needs {count:g} agent{'' if count == 1 else 's'} at {labels[i]} (interval {i})"
            if best[i] <= 0 and logged_in[i]:
                problems.append(f"{need}, but every shift of '{group}' logged in then has a break there")
            elif best[i] <= 0:
                problems.append(
                    f"{need}, but no shift pattern of '{group}' has agents on the phones then "
                    f"({_span(best, labels, scenario)})"
                )
            elif limit is not None and limit * best[i] < required[g, i] - TOLERANCE:
                problems.append(f"{need}, more than max_agents allows ({group}: {limit})")
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ScheduleError("; ".join(problems[:5]) + more)


def shortfall_message(
    scenario: Scenario,
    scheduling: Scheduling,
    groups: list[str],
    required: np.ndarray,
    coverage: np.ndarray,
    owner: np.ndarray,
) -> str:
    """Why the headcount limits leave the requirement uncovered: the intervals short of agents at best."""
    labels = interval_labels(scenario)
    parts = []
    for g, group in enumerate(groups):
        limit = scheduling.max_agents.get(group)
        if limit is None:
            continue
        mine = coverage[owner == g]
        rows = np.flatnonzero(required[g] > 0)
        # Fewest shortfall agent-intervals with at most `limit` agents: a linear program with slack per interval.
        n, m = len(mine), len(rows)
        matrix = np.hstack([mine[:, rows].T, np.eye(m)])
        result = milp(
            np.r_[np.zeros(n), np.ones(m)],
            integrality=np.r_[np.ones(n), np.zeros(m)],
            bounds=Bounds(0, np.inf),
            constraints=[
                LinearConstraint(matrix, lb=required[g, rows]),
                LinearConstraint(np.r_[np.ones(n), np.zeros(m)][None, :], ub=limit),
            ],
            options={"time_limit": 30},
        )
        if result.x is None:
            continue
        short = [(rows[k], result.x[n + k]) for k in range(m) if result.x[n + k] > TOLERANCE]
        if short:
            listed = ", ".join(f"{labels[i]} (interval {i}) by {gap:.1f}" for i, gap in short[:6])
            parts.append(
                f"max_agents {group}: {limit} is too low: with {limit} agents on shifts, '{group}' falls "
                f"short at {listed}{' …' if len(short) > 6 else ''}"
            )
    return "; ".join(parts) or "no roster meets the requirement within the max_agents limits"


def _span(best: np.ndarray, labels: list[str], scenario: Scenario) -> str:
    """The part of the day a group's patterns cover (`best`: the most of each interval an agent is on the phones),
    for an error message."""
    covered = np.flatnonzero(best > 0)
    if not len(covered):
        return "its patterns cover no interval"
    end = scenario.horizon.start_seconds + (covered[-1] + 1) * scenario.horizon.interval_seconds
    return f"its patterns cover {labels[covered[0]]}-{clock(end)}"


def interval_labels(scenario: Scenario) -> list[str]:
    horizon = scenario.horizon
    return [clock(horizon.start_seconds + i * horizon.interval_seconds) for i in range(horizon.intervals)]


def clock(seconds: float) -> str:
    """A pattern's time as HH:MM, rounded to the second first (an end past midnight stays past 24:00)."""
    return hours_minutes(round(seconds))
