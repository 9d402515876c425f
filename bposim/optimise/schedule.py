"""Shift scheduling as an integer program: the cheapest set of shifts that covers a staffing requirement.

Formulation. Every shift the `scheduling` section allows is enumerated as a pattern p: a group, a start, a
length and one placement of each break (breaks do not overlap). a[p, i] is the share of interval i the agent
is on the phones (logged in and not on a break; a break covering part of an interval counts for that part).
x[p] ≥ 0 integer is the number of agents working p. Minimise Σ cost[p] · x[p], cost = paid hours × the group's
per_paid_hour (1 per paid hour without a cost for the group), subject to

    Σ_{p of group g} a[p, i] · x[p] ≥ required[g, i]     for every group g and interval i
    Σ_{p of group g} x[p] ≤ max_agents[g]                 for every group with a limit

solved by HiGHS through `scipy.optimize.milp`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

from bposim.optimise.breaks import agents_by_pattern, build_columns, implicit_breaks
from bposim.optimise.coverage import (
    TOLERANCE,
    ScheduleError,
    check_coverable,
    clock,
    interval_labels,
    overlap,
    shortfall_message,
)
from bposim.scenario import Break, Scenario, Scheduling, Shift, ShiftPattern

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement


@dataclass(frozen=True)
class Pattern:
    """One shift an agent may work: group, log-in and log-out, and each break pinned to its start."""

    group: str
    name: str
    start: int
    end: int
    breaks: tuple[tuple[str, int, int, bool], ...]
    unit_cost: float

    @property
    def paid_hours(self) -> float:
        unpaid = sum(minutes for _, _, minutes, paid in self.breaks if not paid)
        return (self.end - self.start) / 3600 - unpaid / 60

    @property
    def cost(self) -> float:
        return self.paid_hours * self.unit_cost

    @property
    def label(self) -> str:
        """E.g. ``full 08:00-16:00, lunch 11:30``."""
        text = f"{self.name} {clock(self.start)}-{clock(self.end)}"
        return ", ".join([text, *(f"{name} {clock(start)}" for name, start, _, _ in self.breaks)])

    def coverage(self, scenario: Scenario) -> np.ndarray:
        """Share of each interval of the day the agent is on the phones."""
        horizon = scenario.horizon
        edges = horizon.start_seconds + np.arange(horizon.intervals + 1) * horizon.interval_seconds
        on = overlap(self.start, self.end, edges)
        for _, start, minutes, _ in self.breaks:
            on -= overlap(start, start + minutes * 60, edges)
        return on / horizon.interval_seconds

    def shift(self, agents: int) -> Shift:
        """This pattern as a roster shift of `agents` agents, each break's window exactly its length."""
        breaks = [
            Break(name=name, minutes=minutes, window=(clock(start), clock(start + minutes * 60)), paid=paid)
            for name, start, minutes, paid in self.breaks
        ]
        return Shift(group=self.group, start=clock(self.start), end=clock(self.end), agents=agents, breaks=breaks)


@dataclass(frozen=True)
class Schedule:
    """The chosen shifts and their agents, what they cost, and how they cover the requirement."""

    scenario: Scenario
    patterns: tuple[Pattern, ...]
    agents: tuple[int, ...]
    cost: float
    cost_unit: str
    coverage: pd.DataFrame
    optimal: bool
    gap: float = 0.0  # the solver's relative MIP gap: how far from proven cheapest when `optimal` is False

    @property
    def shifts(self) -> pd.DataFrame:
        """One row per chosen pattern: group, pattern, start, end, breaks, paid_hours, agents, cost."""
        rows = [
            {
                "group": p.group,
                "pattern": p.name,
                "start": clock(p.start),
                "end": clock(p.end),
                "breaks": ", ".join(f"{name} {clock(start)}" for name, start, _, _ in p.breaks),
                "paid_hours": p.paid_hours,
                "agents": n,
                "cost": n * p.cost,
            }
            for p, n in zip(self.patterns, self.agents, strict=True)
        ]
        columns = ["group", "pattern", "start", "end", "breaks", "paid_hours", "agents", "cost"]
        return pd.DataFrame(rows, columns=columns)

    SHIFT_COLUMNS = ("Group", "Pattern", "Start", "End", "Breaks", "Agents", "Paid hours", "Cost")

    def shift_rows(self, total_breaks: str = "") -> list[list[str]]:
        """The shifts as text rows under SHIFT_COLUMNS, paid hours and cost for all their agents, then a total row
        ("all", with `total_breaks` in the Breaks column), for the CLI's table and the report's alike."""
        rows = [
            [
                row.group,
                row.pattern,
                row.start,
                row.end,
                row.breaks,
                f"{row.agents}",
                f"{row.paid_hours * row.agents:g}",
                f"{row.cost:,.2f}",
            ]
            for row in self.shifts.itertuples(index=False)
        ]
        total = f"{sum(self.agents)}", f"{self.paid_hours:g}", f"{self.cost:,.2f}"
        return [*rows, ["all", "", "", "", total_breaks, *total]]

    @property
    def headcount(self) -> dict[str, int]:
        """Agents on shifts per group."""
        counts = dict.fromkeys(self.coverage["group"].unique(), 0)
        for pattern, n in zip(self.patterns, self.agents, strict=True):
            counts[pattern.group] += n
        return counts

    @property
    def paid_hours(self) -> float:
        return float(sum(p.paid_hours * n for p, n in zip(self.patterns, self.agents, strict=True)))

    def roster(self) -> list[Shift]:
        """The schedule as roster shifts, one per chosen pattern, breaks pinned to their placement."""
        return [pattern.shift(n) for pattern, n in zip(self.patterns, self.agents, strict=True)]


def enumerate_patterns(scenario: Scenario, scheduling: Scheduling | None = None) -> list[Pattern]:
    """Every shift the scheduling section allows: group × start × length × break placements."""
    scheduling = _scheduling(scenario, scheduling)
    rules = range(len(scheduling.shifts))
    return [pattern for index in rules for pattern in _rule_patterns(scenario, scheduling, index)]


def _enumerated(scenario: Scenario, scheduling: Scheduling) -> list[Pattern]:
    """The patterns of the rules whose breaks must be placed one column per placement (`breaks.build_columns`),
    after checking every rule has a shift in the opening hours and room for its breaks."""
    found = []
    for index, rule in enumerate(scheduling.shifts):
        if implicit_breaks(rule, scenario):
            _rule_times(scenario, rule, index)
        else:
            found.extend(_rule_patterns(scenario, scheduling, index))
    return found


def _rule_times(scenario: Scenario, rule: ShiftPattern, index: int) -> list[tuple[int, int]]:
    """The rule's shifts inside the opening hours; ScheduleError when it has none."""
    horizon = scenario.horizon
    times = rule.shift_times(horizon)
    if not times:
        raise ScheduleError(
            f"shift pattern '{rule.name}' (scheduling.shifts[{index}]) has no shift inside the "
            f"opening hours {horizon.start}-{horizon.end}"
        )
    return times


def _rule_patterns(scenario: Scenario, scheduling: Scheduling, index: int) -> list[Pattern]:
    """Every shift of one rule: group × start × length × break placements."""
    rule = scheduling.shifts[index]
    rates = _hourly_costs(scenario)
    found = [
        (start, end, placement)
        for start, end in _rule_times(scenario, rule, index)
        for placement in _placements(rule, end - start, scenario.horizon.interval_minutes)
    ]
    if not found:
        raise ScheduleError(
            f"shift pattern '{rule.name}' (scheduling.shifts[{index}]): its breaks cannot be "
            "placed without overlapping or running past the shift end"
        )
    groups = [group.name for group in scenario.agent_groups]
    return [
        Pattern(group, rule.name, start, end, tuple((n, start + at, m, paid) for n, at, m, paid in slots), rates[group])
        for group in scheduling.groups_of(rule, groups)
        for start, end, slots in found
    ]


def solve_schedule(
    scenario: Scenario,
    requirement: pd.DataFrame | Requirement,
    *,
    scheduling: Scheduling | None = None,
    time_limit: float = 60.0,
    node_limit: int | None = None,
    cheaper_than: float | None = None,
) -> Schedule:
    """The cheapest roster covering `requirement` (a table or a Requirement with group, interval, required).

    HiGHS searches until the roster is proven cheapest, `node_limit` branch-and-bound nodes are spent (a limit the
    roster does not depend on the machine's load for) or `time_limit` seconds have passed; the roster is then the
    cheapest found, `optimal` False and `gap` its distance to the proven bound. Groups no pattern applies to are
    left out. Raises ScheduleError when no roster can cover the requirement, and,
    with `cheaper_than`, when the linear relaxation's bound shows none costs less (the integer programme is then
    not solved: a fraction of the time).
    """
    scheduling = _scheduling(scenario, scheduling)
    horizon = scenario.horizon
    groups = scheduling.scheduled_groups([group.name for group in scenario.agent_groups])
    required = _required(requirement, groups, horizon.intervals)
    columns = build_columns(scenario, scheduling, groups, _enumerated(scenario, scheduling), _hourly_costs(scenario))
    check_coverable(scenario, scheduling, groups, required, columns)
    owner, coverage = columns.owner, columns.coverage
    rows = [(g, i) for g in range(len(groups)) for i in range(horizon.intervals) if required[g, i] > 0]
    matrix = np.array([coverage[:, i] * (owner == g) for g, i in rows]).reshape(len(rows), len(owner))
    constraints = [LinearConstraint(csr_matrix(matrix), lb=[required[g, i] - TOLERANCE for g, i in rows])]
    if columns.links:
        constraints.append(LinearConstraint(csr_matrix(columns.link_matrix()), lb=0, ub=0))
    shifts = len(columns.shifts)
    limited = [g for g, name in enumerate(groups) if name in scheduling.max_agents]
    if limited:
        heads = np.array([np.r_[owner[:shifts] == g, np.zeros(len(owner) - shifts)] for g in limited], float)
        constraints.append(LinearConstraint(heads, ub=[scheduling.max_agents[groups[g]] for g in limited]))
    if cheaper_than is not None:
        bound = milp(columns.cost, bounds=Bounds(0, np.inf), constraints=constraints)
        if bound.status == 0 and bound.fun >= cheaper_than - TOLERANCE:
            raise ScheduleError(
                f"no roster costs less than {cheaper_than:g}: the cheapest fractional one costs {bound.fun:g}"
            )
    result = milp(
        columns.cost,
        integrality=np.ones(len(owner)),
        bounds=Bounds(0, np.inf),
        constraints=constraints,
        options={"time_limit": time_limit, "node_limit": node_limit, "mip_rel_gap": 1e-6},
    )
    if result.x is None:
        if result.status == 2:
            patterns = enumerate_patterns(scenario, scheduling)
            explicit = np.array([pattern.coverage(scenario) for pattern in patterns])
            heads = np.array([groups.index(pattern.group) for pattern in patterns])
            raise ScheduleError(shortfall_message(scenario, scheduling, groups, required, explicit, heads))
        raise ScheduleError(f"the shift scheduling problem was not solved: {result.message}")
    chosen = [
        (Pattern(shift.group, shift.name, shift.start, shift.end, breaks, shift.unit_cost), agents)
        for shift, breaks, agents in agents_by_pattern(columns, np.round(result.x).astype(int))
    ]
    patterns = [pattern for pattern, _ in chosen]
    counts = np.array([agents for _, agents in chosen], int)
    on_phones = np.array([pattern.coverage(scenario) for pattern in patterns]).reshape(len(patterns), horizon.intervals)
    owners = np.array([groups.index(pattern.group) for pattern in patterns], int)
    scheduled = np.array([on_phones[owners == g].T @ counts[owners == g] for g in range(len(groups))])
    logged_in = np.array([(on_phones[owners == g] > 0).T @ counts[owners == g] for g in range(len(groups))])
    table = pd.DataFrame(
        {
            "group": np.repeat(groups, horizon.intervals),
            "interval": np.tile(np.arange(horizon.intervals), len(groups)),
            "interval_start": np.tile(interval_labels(scenario), len(groups)),
            "required": required.ravel(),
            "scheduled": scheduled.ravel(),
            "logged_in": logged_in.ravel(),
        }
    )
    unit = "paid hours" if not _priced(scenario) else (scenario.costs.currency or "cost")
    return Schedule(
        scenario,
        tuple(patterns),
        tuple(int(n) for n in counts),
        float(sum(pattern.cost * n for pattern, n in chosen)),
        unit,
        table,
        result.status == 0,
        float(getattr(result, "mip_gap", 0.0) or 0.0),
    )


def _scheduling(scenario: Scenario, scheduling: Scheduling | None) -> Scheduling:
    chosen = scheduling if scheduling is not None else scenario.scheduling
    if chosen is None:
        raise ScheduleError(
            "the scenario has no scheduling section: add scheduling: {shifts: [...]} with the shift "
            "patterns the optimiser may use"
        )
    if scenario.horizon.end is None:
        raise ScheduleError("shift scheduling needs a horizon with an end time (HH:MM), not length_hours")
    return chosen


def _priced(scenario: Scenario) -> bool:
    return scenario.costs is not None and bool(scenario.costs.groups)


def _hourly_costs(scenario: Scenario) -> dict[str, float]:
    """Cost of a paid hour per group: its per_paid_hour, else 1 (the objective is then paid hours)."""
    rates = {group.name: 1.0 for group in scenario.agent_groups}
    if _priced(scenario):
        rates.update({entry.group: entry.per_paid_hour for entry in scenario.costs.groups})
    return rates


def _placements(rule: ShiftPattern, length: int, step_minutes: int) -> list[tuple[tuple[str, int, int, bool], ...]]:
    """Each way to place the pattern's breaks in a shift of `length` seconds, breaks in time order, none overlapping."""
    options = [
        [
            (item.name, offset, item.minutes, item.paid)
            for offset in item.offsets(step_minutes)
            if offset + item.minutes * 60 <= length
        ]
        for item in rule.breaks
    ]
    placements = []
    for combination in itertools.product(*options):
        ordered = sorted(combination, key=lambda item: item[1])
        if all(a[1] + a[2] * 60 <= b[1] for a, b in itertools.pairwise(ordered)):
            placements.append(tuple(ordered))
    return placements


def _required(requirement: Any, groups: list[str], intervals: int) -> np.ndarray:
    """The requirement as a groups × intervals array (missing rows are 0)."""
    table = getattr(requirement, "table", requirement)
    missing = {"group", "interval", "required"} - set(table.columns)
    if missing:
        raise ScheduleError(f"the requirement table lacks the column(s) {', '.join(sorted(missing))}")
    required = np.zeros((len(groups), intervals))
    for row in table.itertuples(index=False):
        if row.group not in groups:
            continue
        if not 0 <= int(row.interval) < intervals:
            raise ScheduleError(
                f"requirement for group '{row.group}' at interval {row.interval}: the day has "
                f"intervals 0-{intervals - 1}"
            )
        if not math.isfinite(row.required) or row.required < 0:
            raise ScheduleError(
                f"requirement for group '{row.group}' at interval {row.interval} is {row.required}; "
                "it must be a number of agents ≥ 0"
            )
        required[groups.index(row.group), int(row.interval)] = row.required
    return required
