"""The programme's counts as named agents: who works which shift on which day, with which breaks.

Within a skeleton, each worked day's agents are matched to the next worked day's shifts; across weeks, a class's
agents are matched to its tours of the next week. Both matchings take the agent ending latest first and give it
any shift (or tour) that starts late enough: each agent's possible successors contain those of every agent
ending later, so this never gets stuck when Hall's condition holds, which the programme's rest rows ensure. Across
weeks an agent keeps last week's tour (else the one of the week before, as alternate weekends take turns) when the
next week has it and the rest allows (any pick will do, so this one costs nothing): weeks that repeat give each
agent the same week every week.
Breaks go to a line's agents in turn: the k-th agent on a line takes the k-th start of each of its breaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bposim.optimise.tours.model import WEEK_DAYS, TourProblem
from bposim.optimise.tours.programme import DAY_SECONDS, TOLERANCE, Programme
from bposim.optimise.tours.weeks import crews

Tour = dict[int, int]  # horizon day → shift type index, for the days worked


@dataclass(frozen=True)
class Agent:
    """One agent of the roster: name, contract, crew, the shift type (index) worked each day (None when off) and
    the breaks taken each day (name, start in seconds after midnight, minutes)."""

    name: str
    contract: int
    crew: int
    shifts: tuple[int | None, ...]
    breaks: tuple[tuple[tuple[str, int, int], ...], ...]


def agents(programme: Programme, values: np.ndarray) -> list[Agent]:
    """The solution's agents, contract by contract and crew by crew, named "agent 1", "agent 2", ..."""
    problem = programme.problem
    days = len(problem.days)
    found: list[Tour] = []
    owners: list[tuple[int, int]] = []
    for c, contract in enumerate(problem.contracts):
        for crew in crews(contract):
            chained = _chain(programme, values, c, crew)
            found += chained
            owners += [(c, crew)] * len(chained)
    breaks = _breaks(programme, values, found)
    return [
        Agent(
            f"agent {a + 1}",
            c,
            crew,
            tuple(tour.get(d) for d in range(days)),
            tuple(breaks.get((a, d), ()) for d in range(days)),
        )
        for a, (tour, (c, crew)) in enumerate(zip(found, owners, strict=True))
    ]


def _chain(programme: Programme, values: np.ndarray, c: int, crew: int) -> list[Tour]:
    """The class's agents over the whole horizon: week 0's tours, each next week's tours matched to them."""
    problem = programme.problem
    rest = problem.contracts[c].min_rest_hours * 3600
    chained: list[Tour] = []
    for week in range(len(problem.weeks)):
        tours = [
            tour
            for k, skeleton in enumerate(programme.skeletons)
            if (skeleton.contract, skeleton.crew, skeleton.week) == (c, crew, week)
            for tour in _week_tours(programme, values, k)
        ]
        if week == 0:
            chained = [dict(tour) for tour in tours]
            continue
        order = sorted(range(len(chained)), key=lambda a: -_last_end(problem, chained[a]))
        for a in order:
            end = _last_end(problem, chained[a])
            fits = [t for t, tour in enumerate(tours) if _first_start(problem, tour) >= end + rest - TOLERANCE]
            again = [_moved(chained[a], problem.weeks[week - lag], lag * WEEK_DAYS) for lag in (1, 2) if lag <= week]
            pick = next((t for tour in again for t in fits if tours[t] == tour), fits[0])
            chained[a].update(tours.pop(pick))
    return chained


def _moved(tour: Tour, days: range, by: int) -> Tour:
    """The tour's days among `days`, `by` days later."""
    return {d + by: s for d, s in tour.items() if d in days}


def _week_tours(programme: Programme, values: np.ndarray, k: int) -> list[Tour]:
    """The skeleton's agents' weeks: each worked day's shifts matched to the agents of the day before."""
    problem = programme.problem
    skeleton = programme.skeletons[k]
    rest = problem.contracts[skeleton.contract].min_rest_hours * 3600
    tours: list[Tour] = [{} for _ in range(int(values[programme.tours[k]]))]
    for j, day in enumerate(skeleton.worked):
        slots = [s for s in skeleton.options[j] for _ in range(int(values[programme.shifts_worked[k, j, s]]))]
        order = sorted(range(len(tours)), key=lambda a: -_last_end(problem, tours[a]))
        for a in order:
            end = _last_end(problem, tours[a])
            pick = next(
                t for t, s in enumerate(slots) if day * DAY_SECONDS + problem.shifts[s].start >= end + rest - TOLERANCE
            )
            tours[a][day] = slots.pop(pick)
    return tours


def _last_end(problem: TourProblem, tour: Tour) -> float:
    if not tour:
        return -np.inf
    day = max(tour)
    return day * DAY_SECONDS + problem.shifts[tour[day]].end


def _first_start(problem: TourProblem, tour: Tour) -> float:
    if not tour:
        return np.inf
    day = min(tour)
    return day * DAY_SECONDS + problem.shifts[tour[day]].start


def _breaks(programme: Programme, values: np.ndarray, tours: list[Tour]) -> dict[tuple[int, int], tuple]:
    """Per (agent, day), the breaks the agent takes: the k-th agent on a line the k-th start of each break."""
    problem = programme.problem
    on_line = defaultdict(list)
    for a, tour in enumerate(tours):
        for day, s in tour.items():
            on_line[day, s].append(a)
    found = {}
    for (day, s), crew in on_line.items():
        shift = problem.shifts[s]
        if shift.coverage is not None or not shift.breaks:
            continue
        taken = [
            [
                (window.name, shift.start + start, window.minutes)
                for t, start in enumerate(window.starts)
                for _ in range(int(values[programme.breaks[day, s, b, t]]))
            ]
            for b, window in enumerate(shift.breaks)
        ]
        for k, a in enumerate(crew):
            found[a, day] = tuple(sorted((window[k] for window in taken), key=lambda item: item[1]))
    return found
