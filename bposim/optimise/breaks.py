"""Implicit break placement: the shift scheduling programme's columns, a shift's breaks as variables of their own.

Enumerating every placement of a shift's breaks (one column per shift × coffee start × lunch start × ...) makes
the programme as large as the product of the break windows, and its many near-identical columns slow HiGHS down.
Aykin's formulation (Management Science 42(4), 1996) keeps one column x[s] per shift (group, pattern, start,
length) and one column y[s, b, t] per break b of the shift and start t in its window, linked by

    Σ_t y[s, b, t] = x[s]        for every shift s and break b

with the agents on the phones in interval i = Σ_s logged_in[s, i] · x[s] − Σ_{s,b,t} on_break[b, t, i] · y[s, b, t].
Every solution splits into whole agents each with one start per break (the k-th break start of each break goes to
the k-th agent), and every roster of enumerated patterns is such a solution, so both programmes have the same
optimum. That holds when any choice of the breaks' starts is a valid placement, i.e. the windows of a pattern's
breaks cannot overlap (coffee in the second hour, lunch in the fourth); a pattern whose windows can overlap, or
with few placements (`implicit_breaks`), keeps one column per placement (`schedule.enumerate_patterns`).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bposim.scenario import Scenario, Scheduling, ShiftPattern

BreakSlot = tuple[str, int, int, bool]  # name, start (seconds after midnight), minutes, paid


def overlap(start: float, end: float, edges: np.ndarray) -> np.ndarray:
    """Seconds of [start, end) inside each interval between consecutive edges."""
    return np.clip(np.minimum(end, edges[1:]) - np.maximum(start, edges[:-1]), 0.0, None)


@dataclass(frozen=True)
class BreakWindow:
    """A break of a shift whose start the programme chooses: the possible starts, seconds after midnight."""

    name: str
    starts: tuple[int, ...]
    minutes: int
    paid: bool


@dataclass(frozen=True)
class ShiftColumn:
    """A shift the programme may staff: group, pattern, log-in and log-out, the breaks placed already (a
    pattern with overlapping windows, one column per placement) and the break windows it chooses starts in."""

    group: str
    name: str
    start: int
    end: int
    placed: tuple[BreakSlot, ...]
    windows: tuple[BreakWindow, ...]
    unit_cost: float

    @property
    def cost(self) -> float:
        unpaid = sum(slot[2] for slot in self.placed if not slot[3]) + sum(
            window.minutes for window in self.windows if not window.paid
        )
        return ((self.end - self.start) / 3600 - unpaid / 60) * self.unit_cost


@dataclass(frozen=True)
class Columns:
    """The programme's variables: the shifts, then each break start of each shift's windows.

    `coverage[c, i]` is the share of interval i column c adds on the phones (negative for a break), `owner[c]`
    the group index, `cost[c]` the cost of one agent (0 for a break), and `links` the (shift column, break
    columns) of every window, whose break columns sum to the shift's agents."""

    shifts: tuple[ShiftColumn, ...]
    coverage: np.ndarray
    owner: np.ndarray
    cost: np.ndarray
    links: tuple[tuple[int, tuple[int, ...]], ...]
    slots: tuple[tuple[int, BreakSlot] | None, ...]  # per column: (shift column, break slot), None for a shift

    def link_matrix(self) -> np.ndarray:
        """One row per window: Σ_t y[s, b, t] − x[s] (= 0)."""
        matrix = np.zeros((len(self.links), len(self.cost)))
        for row, (shift, breaks) in enumerate(self.links):
            matrix[row, shift] = -1.0
            matrix[row, list(breaks)] = 1.0
        return matrix


def disjoint_windows(rule: ShiftPattern, length: int, step_minutes: int) -> list[BreakWindow] | None:
    """The rule's breaks as windows for a shift of `length` seconds starting at 0 (starts past the shift end
    left out), or None when two windows can overlap (the placements must then be enumerated)."""
    windows = [
        BreakWindow(
            item.name,
            tuple(offset for offset in item.offsets(step_minutes) if offset + item.minutes * 60 <= length),
            item.minutes,
            item.paid,
        )
        for item in rule.breaks
    ]
    if any(not window.starts for window in windows):
        return None
    spans = sorted((window.starts[0], window.starts[-1] + window.minutes * 60) for window in windows)
    if any(first[1] > second[0] for first, second in itertools.pairwise(spans)):
        return None
    return windows


def build_columns(
    scenario: Scenario, scheduling: Scheduling, groups: list[str], explicit: list, rates: dict[str, float]
) -> Columns:
    """The programme's columns: each rule whose break windows cannot overlap as shifts with break windows, the
    others as the enumerated `explicit` patterns (`schedule.Pattern`) of their rule."""
    horizon = scenario.horizon
    edges = horizon.start_seconds + np.arange(horizon.intervals + 1) * horizon.interval_seconds
    shifts: list[ShiftColumn] = []
    enumerated = {rule.name for rule in scheduling.shifts if not implicit_breaks(rule, scenario)}
    for rule in scheduling.shifts:
        if rule.name in enumerated:
            shifts.extend(
                ShiftColumn(p.group, p.name, p.start, p.end, p.breaks, (), p.unit_cost)
                for p in explicit
                if p.name == rule.name
            )
            continue
        for group in scheduling.groups_of(rule, [g.name for g in scenario.agent_groups]):
            for start, end in rule.shift_times(horizon):
                windows = disjoint_windows(rule, end - start, horizon.interval_minutes) or []
                placed = tuple(
                    BreakWindow(w.name, tuple(start + t for t in w.starts), w.minutes, w.paid) for w in windows
                )
                shifts.append(ShiftColumn(group, rule.name, start, end, (), placed, rates[group]))
    coverage, owner, cost, slots, links = [], [], [], [], []
    for shift in shifts:
        on = overlap(shift.start, shift.end, edges)
        for _, start, minutes, _ in shift.placed:
            on = on - overlap(start, start + minutes * 60, edges)
        coverage.append(on / horizon.interval_seconds)
        owner.append(groups.index(shift.group))
        cost.append(shift.cost)
        slots.append(None)
    for s, shift in enumerate(shifts):
        for window in shift.windows:
            first = len(cost)
            for start in window.starts:
                coverage.append(-overlap(start, start + window.minutes * 60, edges) / horizon.interval_seconds)
                owner.append(groups.index(shift.group))
                cost.append(0.0)
                slots.append((s, (window.name, start, window.minutes, window.paid)))
            links.append((s, tuple(range(first, len(cost)))))
    return Columns(
        tuple(shifts),
        np.array(coverage).reshape(len(cost), horizon.intervals),
        np.array(owner, int),
        np.array(cost),
        tuple(links),
        tuple(slots),
    )


def best_coverage(columns: Columns, group: int) -> np.ndarray:
    """The most of each interval one agent of the group can be on the phones: the best shift, each break
    window's start chosen to spare the interval."""
    shifts = len(columns.shifts)
    best = columns.coverage[:shifts].copy()
    for shift, breaks in columns.links:
        best[shift] += columns.coverage[list(breaks)].max(axis=0)  # the break that takes least of the interval
    mine = columns.owner[:shifts] == group
    return best[mine].max(axis=0, initial=0.0)


def agents_by_pattern(columns: Columns, counts: np.ndarray) -> list[tuple[ShiftColumn, tuple[BreakSlot, ...], int]]:
    """The solution as whole agents: per shift column, each combination of break starts with its agents (the k-th
    start of each window to the k-th agent), in the order of the columns and then of the starts."""
    by_shift: dict[int, list[list[BreakSlot]]] = {}
    for column, slot in enumerate(columns.slots):
        if slot is not None and counts[column] > 0:
            shift, placed = slot
            by_shift.setdefault(shift, []).append([placed] * int(counts[column]))
    chosen = []
    for s, shift in enumerate(columns.shifts):
        agents = int(counts[s])
        if agents <= 0:
            continue
        if not shift.windows:
            chosen.append((shift, shift.placed, agents))
            continue
        starts = by_shift.get(s, [])
        per_window = [[slot for run in starts for slot in run if slot[0] == window.name] for window in shift.windows]
        combos = Counter(tuple(window[k] for window in per_window) for k in range(agents))
        for picked in sorted(combos, key=lambda slots: [slot[1] for slot in slots]):  # the windows' order
            breaks = tuple(sorted([*shift.placed, *picked], key=lambda slot: slot[1]))
            chosen.append((shift, breaks, combos[picked]))
    return chosen


def implicit_breaks(rule: ShiftPattern, scenario: Scenario) -> bool:
    """Whether the rule's breaks become variables of their own: every shift's break windows cannot overlap, and
    the placements are more than twice the columns of the windows (with few placements, HiGHS finds the optimum
    of the enumerated programme sooner: on `bpo_multiskill_shifts.yaml`, 12 placements of coffee and lunch
    against 8 columns, in a tenth of the time)."""
    horizon = scenario.horizon
    for start, end in rule.shift_times(horizon):
        windows = disjoint_windows(rule, end - start, horizon.interval_minutes)
        if windows is None or math.prod(len(w.starts) for w in windows) <= 2 * (
            1 + sum(len(w.starts) for w in windows)
        ):
            return False
    return True
