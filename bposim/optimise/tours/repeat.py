"""Weeks that repeat: when every week of the horizon has the same days and the same requirement, the programme is
solved for one week (two under an "alternate" weekend rule, whose crews take turns) and its tours repeated.

The representative block is the horizon's first `period` weeks, its rest rows cyclic: the block's last week is
joined to its first (`programme.build(cyclic=True)`), as the next block follows it. Repeating the block's counts
in every block then meets each row of the whole horizon's programme: a week's tours, headcount, coverage and limits
are the block's own, and the rest from week t to week t + 1 is either a row inside the block or the cyclic one. The
named agents are then matched across the weeks as for any solution (`roster.agents`).

The result is the cheapest roster whose weeks repeat (each week the same counts of each tour and shift), solved on
a programme `period / weeks` of the size. A roster of the whole horizon can cost less only by varying from week to
week where the rest at the horizon's end or whole agents leave room; `solve_tours(..., repeat=False)` solves the
whole horizon instead.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bposim.optimise.tours.model import WEEK_DAYS, TourProblem
from bposim.optimise.tours.programme import Programme


def repeating_period(problem: TourProblem, required: dict[str, list[np.ndarray]]) -> int | None:
    """The weeks in a block that repeats over the horizon (1, or 2 under an "alternate" weekend rule), or None when
    the weeks differ (a holiday, a requirement that changes) or the horizon is no longer than one block."""
    period = 2 if any(contract.weekend == "alternate" for contract in problem.contracts) else 1
    weeks = problem.weeks
    if len(weeks) <= period or any(len(days) != WEEK_DAYS for days in weeks):
        return None
    for week in range(period, len(weeks)):
        for d, same in zip(weeks[week], weeks[week % period], strict=True):
            if replace(problem.days[d], label="") != replace(problem.days[same], label=""):
                return None
            if any(not np.array_equal(days[d], days[same]) for days in required.values()):
                return None
    return period


def block(problem: TourProblem, required: dict[str, list[np.ndarray]], period: int):
    """The problem and requirement of the horizon's first `period` weeks."""
    days = period * WEEK_DAYS
    return replace(problem, days=problem.days[:days]), {group: arrays[:days] for group, arrays in required.items()}


def repeated(programme: Programme, representative: Programme, values: np.ndarray) -> np.ndarray:
    """The whole horizon's solution (a value per variable of `programme`) made of the block's solution `values`
    (of `representative`, the block's programme) repeated in every block of weeks."""
    period = len(representative.problem.weeks)
    days = period * WEEK_DAYS
    full = np.zeros(len(programme.cost))
    for (c, crew), index in programme.headcount.items():
        full[index] = values[representative.headcount[c, crew]]
    found = {_key(skeleton, period): k for k, skeleton in enumerate(representative.skeletons)}
    for k, skeleton in enumerate(programme.skeletons):
        mine = found[_key(skeleton, period)]
        full[programme.tours[k]] = values[representative.tours[mine]]
        for j, options in enumerate(skeleton.options):
            for s in options:
                full[programme.shifts_worked[k, j, s]] = values[representative.shifts_worked[mine, j, s]]
    for (d, s), index in programme.lines.items():
        full[index] = values[representative.lines[d % days, s]]
    for (d, s, b, t), index in programme.breaks.items():
        full[index] = values[representative.breaks[d % days, s, b, t]]
    return full


def _key(skeleton, period: int) -> tuple:
    """A skeleton as the block's: its week and days moved back into the first block."""
    shift = (skeleton.week - skeleton.week % period) * WEEK_DAYS
    return (
        skeleton.contract,
        skeleton.crew,
        skeleton.week % period,
        tuple(d - shift for d in skeleton.worked),
        skeleton.options,
    )
