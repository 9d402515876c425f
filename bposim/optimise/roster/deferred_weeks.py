"""Deferred work (email, case) on weekly rosters: the fluid plan over the whole calendar horizon, and its margins.

The daily start (`requirement.deferred_start`) plans one day repeated. On a calendar horizon the days differ: a
Monday's email volume is not a Saturday's, nothing is done on a Sunday or a holiday while the items it would have
taken keep their due times, and a Saturday open until 14:00 must clear the Friday evening's items due before the
Monday. So the weekly loop plans deferred work over the horizon's dates, as one fluid model:

- A_k(τ): items of deferred call type k arrived by τ (seconds from the first day's grid start; day d's grid starts
  at d × 24 h): each date's forecast (`day_kinds.open_rates`, nil outside its hours, nil on a closed date) spread
  evenly over its intervals, plus the initial backlog at the first opening.
- P_k(τ): items of k completed by τ; completions happen only in the open intervals of open dates, spread evenly
  over each (`z`, the items completed by the end of each open interval, nondecreasing).
- Due: P_k(τ) ≥ A_k(τ − θ_k) at every breakpoint (interval bounds and bounds + θ_k) up to the horizon's end: an
  item arriving on a Saturday and due on the closed Sunday must be done before Saturday's closing; nights and closed
  dates are flat for P, so the backlog carries over them with its due times running on.
- Causality: P_k at an interval's end ≤ A_k there. Keeping up: the last week completes at least its arrivals, so
  that the roster repeated week after week does not let the backlog grow.
- Capacity: in each open interval, a group's items take at most (idle + x) agents × the interval, idle the time
  its live requirement leaves free on that kind of day (each kind's Erlang start less its agents busy with live
  work) and x[kind, group, interval] the whole agents added for deferred work, the same on every date of a kind
  (the loop's requirement is per kind of day).

It minimises the cost of the added agents (paid on each date of the kind), then, as the daily start, the peak of
each kind's agents and the intervals with the fewest live agents. `WeeklyDeferred` holds the plan as the change
(`delta`, kind × scheduled group × interval) to each kind's own requirement, which holds the daily start of that
kind's day repeated; when the search days show a deferred call type short over the horizon, its arrivals get a
margin (the shortfall, at least `deferred_margins.MARGIN_STEP`, doubling while it misses again) and the model is
solved again, as in the daily loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import Bounds, milp

from bposim.optimise.requirement.day_kinds import DayKind, open_rates
from bposim.optimise.requirement.deferred_start import PEAK_WEIGHT, TILT, DeferredType, _Rows
from bposim.optimise.roster.deferred_margins import MarginRaises
from bposim.scenario import SECONDS_PER_DAY, Scenario

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement

WEEK_DAYS = 7


class HorizonDeferred:
    """The fluid model of a scenario's deferred work over its calendar horizon, per kind of day."""

    def __init__(self, scenario: Scenario, kinds: Sequence[DayKind], requirements: Sequence[Requirement]) -> None:
        horizon = scenario.horizon
        first = requirements[0].deferred
        self.groups = list(first.groups)
        self.types: list[DeferredType] = list(first.types)
        self.intervals, self.step = horizon.intervals, horizon.interval_seconds
        self.kinds = len(kinds)
        self.dates = np.array([len(kind.days) for kind in kinds], float)
        self.idle = np.stack([found.deferred.idle for found in requirements])  # kind × group × interval
        self.live = np.stack([found.deferred.live for found in requirements])
        self.cost = np.asarray(first.cost, float)
        kind_of = np.full(horizon.days, -1, int)
        for k, kind in enumerate(kinds):
            kind_of[list(kind.days)] = k
        # the open intervals of the open dates, in time order: (day, interval, kind)
        self.slots = np.array(
            [(d, t, kind_of[d]) for d in range(horizon.days) for t in horizon.open_intervals(d) if kind_of[d] >= 0],
            int,
        ).reshape(-1, 3)
        self.starts = self.slots[:, 0] * SECONDS_PER_DAY + self.slots[:, 1] * self.step
        self.end = float(horizon.days * SECONDS_PER_DAY)
        self.last_week = self.slots[:, 0] >= horizon.days - WEEK_DAYS
        by_name = {ct.name: ct for ct in scenario.call_types}
        rates = [np.array(open_rates(by_name[kind.name].arrivals, horizon), float) for kind in self.types]
        self.items = np.array(  # per type and open interval: items arriving (forecast)
            [own[self.slots[:, 0], self.slots[:, 1]] * self.step / 3600.0 for own in rates], float
        ).reshape(len(self.types), len(self.slots))

    def solve(self, margins: Sequence[float] | None = None, allowed: np.ndarray | None = None) -> np.ndarray:
        """The cheapest whole agents per kind × group × interval (all groups) that complete every deferred item by
        its due time over the horizon, each call type's arrivals × (1 + its margin), agents added only to the
        `allowed` groups. ValueError when no plan can."""
        kinds, groups, intervals, slots = self.kinds, len(self.groups), self.intervals, len(self.slots)
        margins = np.zeros(len(self.types)) if margins is None else np.asarray(margins, float)
        pairs = [(g, k) for k, kind in enumerate(self.types) for g in range(groups) if np.isfinite(kind.work[g])]
        n_x = kinds * groups * intervals
        n_y = len(pairs) * slots
        n_z = len(self.types) * slots
        n_vars = n_x + n_y + n_z + kinds * groups

        def x(k: int, g: int, t: np.ndarray | int) -> np.ndarray | int:
            return (k * groups + g) * intervals + t

        def z(k: int) -> int:
            return n_x + n_y + k * slots

        rows = _Rows()
        interval, kind_of = self.slots[:, 1], self.slots[:, 2]
        for g in range(groups):  # capacity: Σ y × work − step × x ≤ step × idle, per open interval
            mine = [p for p, (h, _) in enumerate(pairs) if h == g]
            for j in range(slots) if mine else ():
                columns = [x(kind_of[j], g, interval[j])] + [n_x + p * slots + j for p in mine]
                values = [-self.step] + [float(self.types[pairs[p][1]].work[g]) for p in mine]
                rows.add(columns, values, -np.inf, self.step * self.idle[kind_of[j], g, interval[j]])
        for k, kind in enumerate(self.types):
            mine = [p for p, (_, h) in enumerate(pairs) if h == k]
            if not mine:
                continue
            for j in range(slots):  # z_j = z_{j-1} + Σ y_j
                columns = [z(k) + j] + ([z(k) + j - 1] if j else []) + [n_x + p * slots + j for p in mine]
                values = [1.0] + ([-1.0] if j else []) + [-1.0] * len(mine)
                rows.add(columns, values, 0.0, 0.0)
            items = self.items[k] * (1.0 + margins[k])
            for moment, low, high in self._checkpoints(kind, items):
                columns, values = self._completed(z(k), moment)
                if columns:
                    rows.add(columns, values, low, high)
                elif low > 1e-9:
                    raise ValueError(f"{kind.name}: items fall due before any open interval could work them")
            if self.last_week.any():  # keeping up: the last week completes its arrivals
                before = np.flatnonzero(~self.last_week)
                columns = [z(k) + slots - 1] + ([z(k) + before[-1]] if len(before) else [])
                rows.add(columns, [1.0, -1.0][: len(columns)], float(items[self.last_week].sum()), np.inf)
        for k in range(kinds):  # peak: live + x ≤ peak, per kind, group and interval
            for g in range(groups):
                for t in range(intervals):
                    rows.add([x(k, g, t), n_x + n_y + n_z + k * groups + g], [1.0, -1.0], -np.inf, -self.live[k, g, t])
        hourly = self.cost * self.step / 3600.0
        load = self.live.sum(axis=1)  # kind × interval
        spread = load.max(axis=1, keepdims=True) - load.min(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            tilt = TILT * np.where(spread > 0, (load - load.min(axis=1, keepdims=True)) / spread, 0.0)
        objective = np.zeros(n_vars)
        objective[:n_x] = (self.dates[:, None, None] * hourly[None, :, None] * (1.0 + tilt[:, None, :])).ravel()
        objective[n_x + n_y + n_z :] = (PEAK_WEIGHT * self.dates[:, None] * hourly[None, :]).ravel()
        holders = np.zeros(groups, bool)
        for g, _ in pairs:
            holders[g] = True
        if allowed is not None:
            holders &= np.asarray(allowed, bool)
        upper = np.full(n_vars, np.inf)
        upper[:n_x] = np.broadcast_to(np.where(holders, np.inf, 0.0)[None, :, None], (kinds, groups, intervals)).ravel()
        integrality = np.zeros(n_vars)
        integrality[:n_x] = 1
        found = milp(
            objective,
            constraints=rows.linear(n_vars),
            integrality=integrality,
            bounds=Bounds(np.zeros(n_vars), upper),
        )
        if found.x is None:
            raise ValueError(f"the deferred-work programme over the horizon found no plan: {found.message}")
        return np.rint(found.x[:n_x]).astype(int).reshape(kinds, groups, intervals)

    def _completed(self, first: int, moment: float) -> tuple[list[int], list[float]]:
        """P(moment) as columns and weights of the cumulative completions z: the interval holding the moment
        counts by its share elapsed, an interval ended before it whole (nothing is done between open intervals)."""
        ended = np.flatnonzero(self.starts + self.step <= moment + 1e-9)
        inside = np.flatnonzero((self.starts < moment - 1e-9) & (self.starts + self.step > moment + 1e-9))
        columns, values = [], []
        if len(inside):
            j = int(inside[0])
            share = (moment - self.starts[j]) / self.step
            columns.append(first + j)
            values.append(share)
            if j:
                columns.append(first + j - 1)
                values.append(1.0 - share)
        elif len(ended):
            columns.append(first + int(ended[-1]))
            values.append(1.0)
        return columns, values

    def _checkpoints(self, kind: DeferredType, items: np.ndarray) -> list[tuple[float, float, float]]:
        """(moment, low, high) bounds on the items of `kind` completed by each moment: at least the items due by
        then (due moments up to the horizon's end), at most the items arrived by each open interval's end."""
        ends = self.starts + self.step

        def arrived(moments: np.ndarray, lag: float = 0.0) -> np.ndarray:
            share = np.clip((moments[:, None] - lag - self.starts[None, :]) / self.step, 0.0, 1.0)
            return share @ items

        first_open = float(self.starts[0]) if len(self.starts) else 0.0
        first_closing = float(ends[np.flatnonzero(self.slots[:, 0] == self.slots[0, 0])[-1]]) if len(ends) else 0.0
        backlog = sum(count for count, _ in kind.backlog)
        backlog_due = [
            (first_open + kind.due_seconds - age if kind.due_seconds > age else first_closing, count)
            for count, age in kind.backlog
        ]
        bounds = np.concatenate([self.starts, ends])
        moments = np.unique(np.concatenate([bounds, bounds + kind.due_seconds, [due for due, _ in backlog_due]]))
        moments = moments[(moments > first_open) & (moments <= self.end + 1e-9)]
        due = arrived(moments, kind.due_seconds) + np.array(
            [sum(count for when, count in backlog_due if when <= m + 1e-9) for m in moments]
        )
        checks = [(float(m), float(n), np.inf) for m, n in zip(moments, due, strict=True) if n > 1e-9]
        checks += [(float(m), 0.0, float(n + backlog)) for m, n in zip(ends, arrived(ends), strict=True)]
        return checks


class WeeklyDeferred(MarginRaises):
    """The deferred part of the weekly loop's requirement per kind of day, scheduled group and interval, as the
    change to each kind's requirement (whose daily start repeats the kind's day)."""

    def __init__(
        self, scenario: Scenario, kinds: Sequence[DayKind], requirements: Sequence[Requirement], groups: list[str]
    ) -> None:
        self.names = [ct.name for ct in scenario.call_types if not ct.live]
        self.delta = np.zeros((len(kinds), len(groups), scenario.horizon.intervals))
        if not self.names or any(found.deferred is None for found in requirements):
            self.names = []
            return
        self.model = HorizonDeferred(scenario, kinds, requirements)
        self.rows = [self.model.groups.index(name) for name in groups]
        self.allowed = np.isin(self.model.groups, groups)
        self.start = np.stack([found.deferred_plan.extra[self.rows] for found in requirements]).astype(float)
        self.margins = np.zeros(len(self.names))
        self.streak = np.zeros(len(self.names), int)
        self.delta = self.model.solve(allowed=self.allowed)[:, self.rows] - self.start

    def solved(self) -> np.ndarray:
        return self.model.solve(self.margins, allowed=self.allowed)[:, self.rows] - self.start
