"""The tour programme's variables and rows (the formulation is in the package's docstring).

Variables, all integer: H[c, r] agents of contract c in crew r; w[k] agents on skeleton k; y[k, j, s] agents of
skeleton k working shift type s on its j-th worked day; x[g, d, s] agents of group g on shift type s on day d;
z[g, d, s, b, t] of them taking break b at its t-th start; with the workable limits, binaries u[g, d, τ] (start
time τ used on day d) and v[g, d, s] (shift line used).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix

from bposim.optimise.breaks import overlap
from bposim.optimise.tours.model import WEEK_DAYS, Day, ShiftType, TourProblem
from bposim.optimise.tours.weeks import Skeleton, crews

DAY_SECONDS = 86_400
TOLERANCE = 1e-6


@dataclass
class Programme:
    """The integer programme: costs, bounds, rows, and where each variable sits."""

    problem: TourProblem
    skeletons: list[Skeleton]
    cost: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[dict[int, float]] = field(default_factory=list)
    lower_bounds: list[float] = field(default_factory=list)
    upper_bounds: list[float] = field(default_factory=list)
    headcount: dict[tuple[int, int], int] = field(default_factory=dict)
    tours: dict[int, int] = field(default_factory=dict)
    shifts_worked: dict[tuple[int, int, int], int] = field(default_factory=dict)
    lines: dict[tuple[int, int], int] = field(default_factory=dict)
    breaks: dict[tuple[int, int, int, int], int] = field(default_factory=dict)
    coverage_keys: list[tuple[str, int, int]] = field(default_factory=list)

    def variable(self, cost: float = 0.0, upper: float = np.inf) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        return len(self.cost) - 1

    def row(self, entries: dict[int, float], lower: float = -np.inf, upper: float = np.inf) -> None:
        self.rows.append(entries)
        self.lower_bounds.append(lower)
        self.upper_bounds.append(upper)

    def matrix(self) -> csr_matrix:
        data, cols, indptr = [], [], [0]
        for entries in self.rows:
            cols.extend(entries)
            data.extend(entries.values())
            indptr.append(len(cols))
        return csr_matrix((data, cols, indptr), shape=(len(self.rows), len(self.cost)))


def shift_row(shift: ShiftType, day: Day) -> np.ndarray:
    """The share of each of the day's intervals an agent on the shift is logged in (its `coverage` when given:
    breaks then already counted off). Time past the day's last interval counts for nothing."""
    if shift.coverage is not None:
        return np.asarray(shift.coverage, float)
    return overlap(shift.start, shift.end, _edges(day)) / day.interval_seconds


def break_row(start: int, minutes: int, day: Day) -> np.ndarray:
    """The share of each interval a break from `start` (seconds after midnight) takes off the phones."""
    return overlap(start, start + minutes * 60, _edges(day)) / day.interval_seconds


def _edges(day: Day) -> np.ndarray:
    return day.opens + np.arange(day.intervals + 1) * day.interval_seconds


def build(
    problem: TourProblem,
    skeletons: list[Skeleton],
    required: dict[str, list[np.ndarray]],
    *,
    headcount: bool = True,
    workable: bool = True,
    cyclic: bool = False,
) -> Programme:
    """The programme for the requirement (per group, one array of agents per day); without `headcount` or
    `workable`, the contracts' max_agents or the workable limits are left out (to find which makes it
    infeasible); `cyclic` joins the last week to the first too (by rest), for weeks repeated after the horizon."""
    programme = Programme(problem, skeletons)
    _tours(programme, headcount)
    _rest(programme, cyclic)
    _shifts_worked(programme)
    _coverage(programme, required)
    if workable:
        _workable(programme, required)
    return programme


def _tours(programme: Programme, headcount: bool) -> None:
    """H, w and y with their links: each week a class's tours hold its agents; each worked day its shifts do."""
    problem = programme.problem
    staffed = {(skeleton.contract, skeleton.crew) for skeleton in programme.skeletons}
    for c, contract in enumerate(problem.contracts):
        limit = contract.max_agents if headcount and contract.max_agents is not None else np.inf
        mine = [programme.variable(upper=limit if (c, r) in staffed else 0.0) for r in crews(contract)]
        programme.headcount.update({(c, r): index for r, index in enumerate(mine)})
        if len(mine) > 1 and np.isfinite(limit):
            programme.row(dict.fromkeys(mine, 1.0), upper=limit)
    by_class = defaultdict(list)
    for k, skeleton in enumerate(programme.skeletons):
        programme.tours[k] = programme.variable()
        by_class[skeleton.contract, skeleton.crew, skeleton.week].append(k)
        for j, options in enumerate(skeleton.options):
            entries = {programme.tours[k]: -1.0}
            for s in options:
                index = programme.variable(cost=problem.shifts[s].cost)
                programme.shifts_worked[k, j, s] = index
                entries[index] = 1.0
            programme.row(entries, 0.0, 0.0)
    for (c, crew, _), tours in by_class.items():
        entries = {programme.tours[k]: 1.0 for k in tours} | {programme.headcount[c, crew]: -1.0}
        programme.row(entries, 0.0, 0.0)


def start_at(skeleton: Skeleton, j: int, shift: ShiftType) -> int:
    """The start of shift type `shift` on the skeleton's j-th worked day, seconds from the horizon's start."""
    return skeleton.worked[j] * DAY_SECONDS + shift.start


def _rest(programme: Programme, cyclic: bool = False) -> None:
    """Rest between consecutive shifts as Hall's condition of the matching between one worked day's agents and
    the next's: the agents ending at e or later fit no more than those starting at e + rest or later (every agent
    ending later can follow with fewer shifts, so these sets are the only ones to check); `cyclic`, the last week's
    agents to the first week's tours as well, as if the weeks started again after the last."""
    problem = programme.problem
    for k, skeleton in enumerate(programme.skeletons):
        rest = problem.contracts[skeleton.contract].min_rest_hours * 3600
        for j in range(len(skeleton.worked) - 1):
            ends = [
                (start_at(skeleton, j, problem.shifts[s]) + problem.shifts[s].length, s) for s in skeleton.options[j]
            ]
            nexts = [(start_at(skeleton, j + 1, problem.shifts[s]), s) for s in skeleton.options[j + 1]]
            for threshold in sorted({end for end, _ in ends}):
                if min(start for start, _ in nexts) >= threshold + rest - TOLERANCE:
                    continue
                entries = {programme.shifts_worked[k, j, s]: 1.0 for end, s in ends if end >= threshold}
                for start, s in nexts:
                    if start >= threshold + rest - TOLERANCE:
                        entries[programme.shifts_worked[k, j + 1, s]] = -1.0
                programme.row(entries, upper=0.0)
    weeks = len(problem.weeks)
    joined = [(week, week + 1) for week in range(weeks - 1)] + ([(weeks - 1, 0)] if cyclic else [])
    for (c, crew), _ in programme.headcount.items():
        for week, following in joined:
            _rest_across(programme, c, crew, week, following)


def _rest_across(programme: Programme, c: int, crew: int, week: int, following: int) -> None:
    """Hall's condition between a class's last shifts of one week and its first shifts (or weeks off) of the
    following week (the first week again, its days moved after the last, when the weeks repeat; a variable on both
    sides then counts once with both signs)."""
    problem = programme.problem
    rest = problem.contracts[c].min_rest_hours * 3600
    moved = (following <= week) * len(problem.weeks) * WEEK_DAYS * DAY_SECONDS
    lasts, firsts, idle = [], [], []
    for k, skeleton in enumerate(programme.skeletons):
        if (skeleton.contract, skeleton.crew) != (c, crew):
            continue
        if skeleton.week == following:
            if not skeleton.worked:
                idle.append(programme.tours[k])
            else:
                firsts += [(moved + start_at(skeleton, 0, problem.shifts[s]), k, 0, s) for s in skeleton.options[0]]
        if skeleton.week == week and skeleton.worked:
            j = len(skeleton.worked) - 1
            lasts += [
                (start_at(skeleton, j, problem.shifts[s]) + problem.shifts[s].length, k, j, s)
                for s in skeleton.options[j]
            ]
    earliest = min((start for start, *_ in firsts), default=np.inf)
    for threshold in sorted({end for end, *_ in lasts}):
        if earliest >= threshold + rest - TOLERANCE:
            continue
        entries = defaultdict(
            float, {programme.shifts_worked[k, j, s]: 1.0 for end, k, j, s in lasts if end >= threshold}
        )
        for index in idle:
            entries[index] -= 1.0
        for start, k, j, s in firsts:
            if start >= threshold + rest - TOLERANCE:
                entries[programme.shifts_worked[k, j, s]] -= 1.0
        programme.row({index: value for index, value in entries.items() if value != 0}, upper=0.0)


def _shifts_worked(programme: Programme) -> None:
    """x[g, d, s] = the agents of every skeleton working s on day d; z for each break start, summing to x."""
    problem = programme.problem
    parts = defaultdict(list)
    for (k, j, s), index in programme.shifts_worked.items():
        parts[programme.skeletons[k].worked[j], s].append(index)
    for (d, s), indices in sorted(parts.items()):
        line = programme.variable()
        programme.lines[d, s] = line
        programme.row({line: 1.0} | dict.fromkeys(indices, -1.0), 0.0, 0.0)
        shift = problem.shifts[s]
        if shift.coverage is not None:
            continue
        for b, window in enumerate(shift.breaks):
            starts = [programme.variable() for _ in window.starts]
            programme.breaks.update({(d, s, b, t): index for t, index in enumerate(starts)})
            programme.row({line: -1.0} | dict.fromkeys(starts, 1.0), 0.0, 0.0)


def on_phones(programme: Programme, group: str, d: int) -> dict[int, np.ndarray]:
    """The agents on the phones in each interval of day d for the group, as each variable's row of shares:
    logged in on a line, less the breaks taken."""
    problem = programme.problem
    day = problem.days[d]
    found = {}
    for (line_day, s), index in programme.lines.items():
        if line_day == d and problem.shifts[s].group == group:
            found[index] = shift_row(problem.shifts[s], day)
    for (line_day, s, b, t), index in programme.breaks.items():
        shift = problem.shifts[s]
        if line_day == d and shift.group == group:
            window = shift.breaks[b]
            found[index] = -break_row(shift.start + window.starts[t], window.minutes, day)
    return found


def _coverage(programme: Programme, required: dict[str, list[np.ndarray]]) -> None:
    """Agents on the phones ≥ the requirement in every interval that needs any (the interval floor; a period
    target would add its own rows over the same sums)."""
    for group, days in required.items():
        for d, needed in enumerate(days):
            rows = on_phones(programme, group, d)
            for i in np.flatnonzero(needed > 0):
                entries = {index: float(row[i]) for index, row in rows.items() if row[i] != 0}
                programme.row(entries, lower=float(needed[i]) - TOLERANCE)
                programme.coverage_keys.append((group, d, int(i)))


def _workable(programme: Programme, required: dict[str, list[np.ndarray]]) -> None:
    """At most N start times per group and day (binary u per start, x ≤ M·u), and each line empty or with at
    least M agents (binary v, m·v ≤ x ≤ M·v)."""
    problem = programme.problem
    limits = problem.limits
    if limits.max_starts_per_day is None and limits.min_agents_per_line is None:
        return
    big = {group: agent_bound(problem, group, required.get(group, [])) for group in problem.groups}
    starts = defaultdict(lambda: defaultdict(list))
    for (d, s), line in programme.lines.items():
        shift = problem.shifts[s]
        starts[shift.group, d][shift.start].append(line)
        if limits.min_agents_per_line is not None:
            used = programme.variable(upper=1.0)
            programme.row({line: 1.0, used: -float(big[shift.group])}, upper=0.0)
            programme.row({line: 1.0, used: -float(limits.min_agents_per_line)}, lower=0.0)
    if limits.max_starts_per_day is None:
        return
    for (group, _), by_start in starts.items():
        used = []
        for lines in by_start.values():
            flag = programme.variable(upper=1.0)
            used.append(flag)
            programme.row(dict.fromkeys(lines, 1.0) | {flag: -float(big[group])}, upper=0.0)
        programme.row(dict.fromkeys(used, 1.0), upper=float(limits.max_starts_per_day))


def agent_bound(problem: TourProblem, group: str, required: list[np.ndarray]) -> int:
    """Most agents of the group a cheapest roster can hold: the contracts' max_agents when all have one, else a
    roster where each agent is needed somewhere: at an interval, the agents it cannot lose are fewer than
    (requirement + 1) / the least share of an interval an agent is on the phones (a minute of it, with breaks)."""
    contracts = [contract for contract in problem.contracts if contract.group == group]
    if all(contract.max_agents is not None for contract in contracts):
        return sum(contract.max_agents for contract in contracts)
    shares = [
        share
        for shift in problem.shifts
        if shift.group == group
        for day in problem.days
        for share in shift_row(shift, day)
        if share > TOLERANCE
    ]
    least = min(shares, default=1.0)
    if any(shift.breaks for shift in problem.shifts if shift.group == group):
        least = min(least, 60 / max(day.interval_seconds for day in problem.days))
    return int(sum(np.sum((needed + 1) * (needed > 0)) for needed in required) / least) + 1
