"""The deferred-work start: the agents email and case work needs per group and interval, from a fluid model solved
as a small integer programme.

Deferred items are not answered within seconds but completed within a due time of hours, so an Erlang queue per
interval says nothing about them: what matters is that the work done by each moment covers the work falling due
by then. Fluid model, per deferred call type k (its items worked first-in first-out, as the engine does):

- A_k(τ): items arrived by time τ (τ in seconds from the first opening; day d opens at d × 24 h): the forecast
  rate of each interval spread evenly over it (open hours only), plus the initial backlog at the first opening.
  An item arriving at s is due at s + θ_k (`threshold_hours`); items of an initial backlog already overdue at the
  first opening are due at the first closing (late whatever the staffing; the plan works them off on day one).
- P_k(τ): items of k completed by τ, from the agents' time: in interval t of day d, group g completes y[g,k,d,t]
  items, spread evenly over the interval, each taking its mean handle time × the skill's proficiency plus its
  mean wrap-up.
- Due: P_k(τ) ≥ A_k(τ − θ_k) at every τ from the first due time to the end of the judged days: every item done by
  its due time. Both sides are piecewise linear in τ, so checking them at their breakpoints (interval bounds and
  interval bounds + θ_k) is exact; nights are flat for P (nothing starts after closing), so the binding moment of
  a night is the next opening. Causality: P_k(τ) ≤ A_k(τ) at every interval's end (no item done before it arrives).
- Keeping up: on the last judged day the groups complete a full day's arrivals of k, so that the plan is
  sustainable day after day and not just over a short horizon (a backlog growing by a little each day would meet
  the due times of a few days and then miss them all).
- Capacity: in each interval, a group's items take at most (idle + x[g,t]) agents × the interval, where idle is the
  time its live requirement leaves free (the Erlang start's agents less the agents busy with live work: arrivals ×
  handle time, a chat session counted as a whole agent, as sessions go to idle agents first) and x[g,t] the whole
  agents added for deferred work, the same in every interval t of every day (one roster for every day).

The programme minimises the cost of the added agents (the group's per_paid_hour, else 1, per agent-interval): idle
time of blended groups is counted first (it costs nothing), then agents are added where they cost least, before the
due times. Among plans of equal cost it takes the one whose groups' peak of agents (live start + added) is lowest
(a thousandth of an agent-interval per agent of peak): the added agents fill the valleys of the live requirement
(a group without live work gets them spread evenly), which shifts can cover; then the intervals with the fewest
live agents. x is integer (scipy.optimize.milp, HiGHS), so the start is in whole agents without rounding;
the completions y are continuous. The days judged are the scenario's, at least enough for the first day's items
to fall due (`judged_days`).

Approximations the simulation then corrects: the fluid meets every due time, and the target's slack (1 − target)
is left to randomness (Poisson arrivals, handle times, day-to-day busyness), which the closed loop measures; the
engine works items only when no live contact waits and without interrupting them, which the idle time counted here
does not see; a group's overflow delay on a deferred skill is ignored unless it is as long as the due time (then
the group does not count for that call type); `deferred_reserve` is ignored. `margins` inflates a call type's
arrivals (1 + margin) when the simulated days show the fluid plan missing its target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from bposim.optimise.deferred import judged_days
from bposim.optimise.requirement.day_kinds import busiest_rates
from bposim.scenario import SECONDS_PER_DAY, Scenario

PEAK_WEIGHT = 1e-3  # a group's peak of agents costs this much of an agent-interval: among equal costs, the flattest
TILT = 1e-5  # then the intervals with the fewest live agents, this much cheaper at most


@dataclass(frozen=True)
class DeferredType:
    """A deferred call type as the fluid model sees it."""

    name: str
    channel: str
    due_seconds: float
    per_interval: np.ndarray  # items arriving in each interval of a day (forecast mean)
    backlog: tuple[tuple[float, float], ...]  # (items, age in seconds) at the first opening
    work: np.ndarray  # per group: seconds an item takes (talk × proficiency + wrap-up); NaN where it cannot


@dataclass(frozen=True)
class DeferredSolution:
    """The deferred start: `extra` whole agents per group × interval added for deferred work, and `work`, the agents
    at work on items of each deferred type per group × type × interval on the last judged day (the steady state)."""

    extra: np.ndarray
    work: np.ndarray


class DeferredStart:
    """The fluid model of a scenario's deferred work, solved for the agents it needs beyond the live work's idle time.

    `live` (group × interval) is the agents the live work needs (the Erlang start), `busy` those of them busy
    with live work, so that live − busy is the idle time deferred work may use; `cost` per group and agent-hour."""

    def __init__(self, scenario: Scenario, live: np.ndarray, busy: np.ndarray, cost: np.ndarray) -> None:
        horizon = scenario.horizon
        self.intervals = horizon.intervals
        self.step = horizon.interval_seconds
        self.days = judged_days(scenario)
        self.groups = [group.name for group in scenario.agent_groups]
        self.types = [_deferred_type(scenario, ct) for ct in scenario.call_types if not ct.live]
        self.live = np.asarray(live, float)
        self.idle = np.clip(self.live - np.asarray(busy, float), 0.0, None)
        self.cost = np.asarray(cost, float)
        load = self.live.sum(axis=0)
        spread = load.max() - load.min() if load.size else 0.0
        self.tilt = TILT * ((load - load.min()) / spread if spread > 0 else np.zeros_like(load))
        self.starts = (
            np.arange(self.days)[:, None] * SECONDS_PER_DAY + np.arange(self.intervals)[None, :] * self.step
        ).ravel()  # start of every interval of every judged day, from the first opening

    @property
    def channels(self) -> list[str]:
        """The channel of each deferred call type, in order."""
        return [kind.channel for kind in self.types]

    def solve(self, margins: Sequence[float] | None = None, allowed: np.ndarray | None = None) -> DeferredSolution:
        """The cheapest whole agents per group and interval that complete every deferred item by its due time in
        the fluid model, each call type's arrivals × (1 + its margin), agents added only to the `allowed` groups
        (all unless given). ValueError when no plan can (the allowed groups cannot take some deferred work)."""
        groups, intervals = len(self.groups), self.intervals
        if not self.types:
            return DeferredSolution(np.zeros((groups, intervals), int), np.zeros((groups, 0, intervals)))
        margins = np.zeros(len(self.types)) if margins is None else np.asarray(margins, float)
        pairs = [(g, k) for k, kind in enumerate(self.types) for g in range(groups) if np.isfinite(kind.work[g])]
        slots = len(self.starts)  # day × interval
        n_x = groups * intervals
        n_y = len(pairs) * slots
        n_vars = n_x + n_y + groups  # x, y, then each group's peak of agents (live + x)

        def y(p: int) -> slice:
            return slice(n_x + p * slots, n_x + (p + 1) * slots)

        constraints = _Rows()
        # Capacity: Σ_k y × work − step × x ≤ step × idle, per group, day and interval.
        for g in range(groups):
            mine = [p for p, (h, _) in enumerate(pairs) if h == g]
            if not mine:
                continue
            for j in range(slots):
                t = j % intervals
                columns = [g * intervals + t] + [y(p).start + j for p in mine]
                values = [-self.step] + [float(self.types[pairs[p][1]].work[g]) for p in mine]
                constraints.add(columns, values, -np.inf, self.step * self.idle[g, t])
        for k, kind in enumerate(self.types):
            mine = [p for p, (_, h) in enumerate(pairs) if h == k]
            if not mine:
                continue
            rate = kind.per_interval * (1.0 + margins[k])
            for moment, low, high in self._checkpoints(kind, rate):
                share = np.clip((moment - self.starts) / self.step, 0.0, 1.0)
                used = np.flatnonzero(share > 0)
                constraints.add(
                    np.concatenate([y(p).start + used for p in mine]), np.tile(share[used], len(mine)), low, high
                )
            last = np.arange((self.days - 1) * intervals, slots)
            columns = np.concatenate([y(p).start + last for p in mine])
            constraints.add(columns, np.ones(len(columns)), float(rate.sum()), np.inf)
        # Peak: live + x ≤ peak, per group and interval.
        for g in range(groups):
            for t in range(intervals):
                constraints.add([g * intervals + t, n_x + n_y + g], [1.0, -1.0], -np.inf, -self.live[g, t])
        objective = np.zeros(n_vars)
        hourly = self.cost * self.step / 3600.0  # an agent-interval of each group
        objective[:n_x] = (hourly[:, None] * (1.0 + self.tilt[None, :])).ravel()
        objective[n_x + n_y :] = PEAK_WEIGHT * hourly
        integrality = np.zeros(n_vars)
        integrality[:n_x] = 1
        holders = np.zeros((groups, intervals), bool)
        for g, _ in pairs:
            holders[g] = True
        if allowed is not None:
            holders &= np.asarray(allowed, bool)[:, None]
        upper = np.where(holders.ravel(), np.inf, 0.0)
        found = milp(
            objective,
            constraints=constraints.linear(n_vars),
            integrality=integrality,
            bounds=Bounds(np.zeros(n_vars), np.concatenate([upper, np.full(n_y + groups, np.inf)])),
        )
        if found.x is None:
            raise ValueError(f"the deferred-work programme found no plan: {found.message}")
        extra = np.rint(found.x[:n_x]).astype(int).reshape(groups, intervals)
        work = np.zeros((groups, len(self.types), intervals))
        last = slice((self.days - 1) * intervals, slots)
        for p, (g, k) in enumerate(pairs):
            done = found.x[y(p)][last]
            work[g, k] = done * self.types[k].work[g] / self.step
        return DeferredSolution(extra, work)

    def _checkpoints(self, kind: DeferredType, rate: np.ndarray) -> list[tuple[float, float, float]]:
        """(moment, low, high) bounds on the items of `kind` completed by each moment: the due constraints (at
        least the items due by then) and the causality constraints (at most the items arrived by then)."""
        rates = np.tile(rate, self.days)
        backlog_items = sum(items for items, _ in kind.backlog)
        ends = self.starts + self.step
        end_of_days = self.days * SECONDS_PER_DAY

        def arrived(moment: np.ndarray) -> np.ndarray:
            share = np.clip((moment[:, None] - self.starts[None, :]) / self.step, 0.0, 1.0)
            return share @ rates + backlog_items * (moment >= 0)

        first_closing = float(ends[self.intervals - 1])
        backlog_due = [
            (kind.due_seconds - age if kind.due_seconds > age else first_closing, items) for items, age in kind.backlog
        ]
        bounds = np.concatenate([self.starts, ends])
        moments = np.unique(np.concatenate([bounds, bounds + kind.due_seconds, [d for d, _ in backlog_due]]))
        arriving = np.flatnonzero(rates > 0)
        first_due = [self.starts[arriving[0]] + kind.due_seconds] if len(arriving) else []
        earliest = min([d for d, _ in backlog_due] + first_due, default=np.inf)
        moments = moments[(moments >= earliest - 1e-9) & (moments <= end_of_days + 1e-9)]
        due = np.clip((moments[:, None] - kind.due_seconds - self.starts[None, :]) / self.step, 0.0, 1.0) @ rates
        due += np.array([sum(items for d, items in backlog_due if d <= m + 1e-9) for m in moments])
        checks = [(float(m), float(n), np.inf) for m, n in zip(moments, due, strict=True) if n > 1e-12]
        checks += [(float(m), 0.0, float(n)) for m, n in zip(ends, arrived(ends), strict=True)]
        return checks


class _Rows:
    """The rows of a sparse constraint matrix with their bounds, gathered one at a time."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.columns: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.lows: list[float] = []
        self.highs: list[float] = []

    def add(self, columns, values, low: float, high: float) -> None:
        columns = np.asarray(columns, int)
        self.rows.append(np.full(len(columns), len(self.lows)))
        self.columns.append(columns)
        self.values.append(np.asarray(values, float))
        self.lows.append(low)
        self.highs.append(high)

    def linear(self, variables: int) -> LinearConstraint:
        """lows ≤ A x ≤ highs."""
        matrix = sparse.csr_matrix(
            (np.concatenate(self.values), (np.concatenate(self.rows), np.concatenate(self.columns))),
            shape=(len(self.lows), variables),
        )
        return LinearConstraint(matrix, np.array(self.lows), np.array(self.highs))


def _deferred_type(scenario: Scenario, call_type) -> DeferredType:
    """A deferred call type's forecast, backlog and work per item per group."""
    horizon = scenario.horizon
    due = float(call_type.due_seconds)
    talk = call_type.handle_time.mean
    wrap = call_type.after_call_work.mean if call_type.after_call_work else 0.0
    work = np.full(len(scenario.agent_groups), np.nan)
    for g, group in enumerate(scenario.agent_groups):
        for skill in group.skills:
            if skill.call_type == call_type.name and skill.delay_seconds < due:
                work[g] = talk * skill.proficiency + wrap
    per_interval = np.array(busiest_rates(call_type.arrivals, horizon), float) * horizon.interval_seconds / 3600
    backlog = tuple((float(band.items), band.age_hours * 3600.0) for band in call_type.initial_backlog)
    return DeferredType(call_type.name, call_type.channel, due, per_interval, backlog, work)
