"""Staffing requirement per interval: an Erlang start, refined by simulation with common random numbers.

Erlang start. Each call type's load in an interval (hourly rate × mean talk after proficiency + mean wrap-up)
is split over the groups that hold the skill at routing priority 1, in proportion to the agents those groups
have planned in that interval in the given scenario (equal shares where none are). Each group is then an
Erlang queue with the summed load, and needs the smallest headcount meeting the service level of every call
type it serves first (and the occupancy cap). Patience enters as Erlang A with the load-weighted abandonment
rate 1/mean; a non-exponential patience is replaced by an exponential one of the same mean (an approximation);
without patience, or with ``method="erlang_c"``, it is Erlang C. Busyness, retrials, trunk lines, shrinkage,
overflow delays and technology are left to the simulation.

Simulation refinement (the iterative staffing algorithm for time-varying load), on evidence. Every search run
simulates the same days (same seed: common random numbers), so two plans differ only by their staffing. The
service level of a call type in an interval is pooled over those days by the scenario's definition, with a 95%
confidence interval over days (`metrics.pooled_service_level`); the Erlang plan stands until the days show
otherwise. An interval is raised only where it is clearly short (the whole interval below target): agents go to
the group whose extra agent gives the most gain per cost (a priority-1 holder of the skill counts fully, a
secondary holder by the share of the interval it was idle, both divided by proficiency; cost is the group's
per_paid_hour, else 1), as many as the group's Erlang curve, scaled to the simulated shortfall 1 − SL, says reach
the target, twice as many each time the interval stays short. When no interval is clearly short, agents are
taken only where the scaled curve says the targets still hold with the 95% margin (lower bound at or above target;
a group sharing a skill with another also moves work to the groups that share it, so its removal is judged by the
predicted losses of every call type those groups serve first, with SHARED_MARGIN to spare); a removal is undone,
and never tried again, when the new run does not keep that margin in the call types the group serves, or leaves the
next interval (the queue carries over) below target where it met it. While an interval is
ambiguous (below target by the point estimate but not beyond its interval) or a removal's margin is, the search
days grow by another `replications` days, up to 3 × `replications` (`evidence.SearchDays`). Intervals are adjusted
together and re-simulated, since a change in one carries over into the next. The search stops when no removal is
left to try or after `max_iterations` runs; the result is the last plan with no interval clearly short in the
search runs (on those days, not a guarantee for others). An occupancy cap is a floor from Erlang that removals
respect; an interval where nothing was offered (a warm-up) keeps its Erlang number. When more agents stop
helping, one run with every group at BOUND_FACTOR × its Erlang number tells whether any staffing can meet the
target; if not, RequirementError names the call type and interval.

Verification. The final plan (any method) is simulated on `replications` fresh days, replications R..2R−1 of the
same seed, never seen by the search: `achieved` shows how the requirement holds on other days (met: not clearly
below target), and for the Erlang methods where Erlang misleads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

from bposim import analytic, metrics, workload
from bposim.formatting import clock
from bposim.optimise.evidence import SearchDays, ambiguous, clearly_short
from bposim.optimise.trunks import trunk_limit_text, trunk_limits
from bposim.run import simulate_replication
from bposim.scenario import Scenario
from bposim.scenario.common import clock_seconds

Method = Literal["simulation", "erlang_a", "erlang_c"]
METHODS = ("simulation", "erlang_a", "erlang_c")
BOUND_FACTOR = 10  # the search never staffs a group above 10 × its Erlang number (at least Erlang + 10)
SHARED_MARGIN = 0.02  # a shared group's removal leaves every call type it affects 2 points beyond its loss
ADD_MARGIN = 0.01


class RequirementError(ValueError):
    """No staffing up to the bound meets a call type's target in some interval."""


@dataclass(frozen=True)
class Requirement:
    """Required agents per group and interval of the day, and how the requirement performs on fresh days.

    `table`: group, interval (0-based in the open day), interval_start (HH:MM), erlang (the Erlang start) and
    required. `achieved`: per call type and interval, from the verification run: offered (calls over all its
    days), service_level (pooled over those days), service_level_ci (95% half-width, delta method over days; see
    `metrics.pooled_service_level`), target and met (the target inside or below the interval; True where nothing
    was offered). `simulations` counts simulated days, verification included.
    """

    table: pd.DataFrame
    achieved: pd.DataFrame
    simulations: int
    iterations: int
    method: str
    source: Scenario = field(repr=False)

    def per_interval(self, group: str) -> list[int]:
        """Required agents in each interval of the day, for one group."""
        rows = self.table[self.table["group"] == group]
        if rows.empty:
            known = ", ".join(self.table["group"].unique())
            raise ValueError(f"unknown agent group '{group}'; known: {known}")
        return [int(n) for n in rows.sort_values("interval")["required"]]

    def scenario(self) -> Scenario:
        """The scenario staffed by the requirement: every group by `per_interval`, no roster, the objective used."""
        changes: dict = {"roster": [], "roster_file": None}
        for group in self.source.agent_groups:
            changes[f"agent_groups.{group.name}.agents"] = {"per_interval": self.per_interval(group.name)}
        return self.source.updated(changes)


@dataclass(frozen=True)
class _Queue:
    """One group in one interval as an Erlang queue: the load it serves first."""

    arrival_rate: float  # per second
    handle_seconds: float
    patience_seconds: float | None  # None: Erlang C

    def service_level(self, agents: int, threshold: float) -> float:
        if self.arrival_rate == 0:
            return 1.0
        if agents == 0:
            return 0.0
        if self.patience_seconds is None:
            return analytic.erlang_c_metrics(agents, self.arrival_rate, self.handle_seconds, threshold).service_level
        return analytic.erlang_a_metrics(
            agents, self.arrival_rate, self.handle_seconds, self.patience_seconds, threshold
        ).service_level


def staffing_requirement(
    scenario: Scenario,
    *,
    target: float | None = None,
    threshold_seconds: float | None = None,
    occupancy_cap: float | None = None,
    seed: int = 0,
    replications: int = 10,
    max_iterations: int = 12,
    method: Method = "simulation",
) -> Requirement:
    """The fewest agents per group and interval meeting every call type's service level in every interval.

    `target` and `threshold_seconds` replace the objective of every call type when given. Raises
    RequirementError when a target cannot be met (naming the call type and interval), ScenarioError when the
    scenario with `replications` is beyond the limits of `bposim.workload`.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if replications < 1 or max_iterations < 1:
        raise ValueError("replications and max_iterations must be at least 1")
    workload.check(scenario, replications)
    if occupancy_cap is not None and not 0 < occupancy_cap <= 1:
        raise ValueError(f"occupancy_cap must be in (0, 1], got {occupancy_cap!r}")
    source = with_objective(scenario, target, threshold_seconds)
    limits = trunk_limits(source)
    if limits:
        raise RequirementError(trunk_limit_text(limits))
    centre = _Centre(source, method, occupancy_cap)
    plan, iterations, simulations = centre.erlang.copy(), 0, 0
    if method == "simulation":
        search = _Search(centre, seed, replications)
        plan = search.run(max_iterations)
        iterations, simulations = search.iterations, search.simulations
    requirement = Requirement(centre.table(plan), pd.DataFrame(), 0, iterations, method, source)
    achieved = centre.verify(requirement.scenario(), seed, replications)
    simulations += replications * source.horizon.days
    return Requirement(requirement.table, achieved, simulations, iterations, method, source)


def _check_objective(target: float | None, threshold_seconds: float | None) -> None:
    """A ValueError naming the argument when a service-level objective is not one."""
    if target is not None and not 0 < target <= 1:
        raise ValueError(f"target must be a share of calls in (0, 1], e.g. 0.8 for 80%, got {target!r}")
    if threshold_seconds is not None and not 0 <= threshold_seconds < math.inf:
        raise ValueError(f"threshold_seconds must be a number of seconds ≥ 0, e.g. 20, got {threshold_seconds!r}")


def with_objective(scenario: Scenario, target: float | None, threshold_seconds: float | None) -> Scenario:
    """The scenario with `target` and/or `threshold_seconds` as every call type's objective."""
    _check_objective(target, threshold_seconds)
    if target is None and threshold_seconds is None:
        return scenario
    data = scenario.model_dump(mode="python", exclude_none=True)
    replaced = {
        key: value for key, value in (("target", target), ("threshold_seconds", threshold_seconds)) if value is not None
    }
    data["service_level"] = {**data.get("service_level", {}), **replaced}
    for call_type in data["call_types"]:
        override = {k: v for k, v in call_type.get("service_level", {}).items() if k not in replaced}
        call_type.pop("service_level", None)
        if override:
            call_type["service_level"] = override
    return Scenario.model_validate(data)


class _Centre:
    """The scenario as arrays: skills, objectives, Erlang queues, the Erlang start and the search bounds."""

    def __init__(self, scenario: Scenario, method: str, occupancy_cap: float | None) -> None:
        self.scenario = scenario
        horizon = scenario.horizon
        self.intervals = horizon.intervals
        self.groups = [g.name for g in scenario.agent_groups]
        self.types = [ct.name for ct in scenario.call_types]
        objectives = [scenario.service_level_for(ct) for ct in scenario.call_types]
        self.thresholds = np.array([threshold for threshold, _ in objectives])
        self.targets = np.array([goal for _, goal in objectives])
        starts = horizon.start_seconds + np.arange(self.intervals) * horizon.interval_seconds
        self.labels = [clock(s) for s in starts]
        shape = (len(self.groups), len(self.types))
        self.holds = np.zeros(shape, bool)
        self.proficiency = np.ones(shape)
        self.priority = np.zeros(shape, int)
        self.delay = np.zeros(shape)
        for g, group in enumerate(scenario.agent_groups):
            for skill in group.skills:
                k = self.types.index(skill.call_type)
                self.holds[g, k] = True
                self.proficiency[g, k] = skill.proficiency
                self.priority[g, k] = skill.priority
                self.delay[g, k] = skill.delay_seconds
        rates = {gc.group: gc.per_paid_hour for gc in scenario.costs.groups} if scenario.costs else {}
        self.cost = np.array([rates.get(name, 1.0) or 1.0 for name in self.groups])
        self.first = self.holds & (self.priority == 1)
        sharing = (self.holds.astype(int) @ self.holds.T.astype(int)) > 0  # group × group: a skill in common
        self.alone = sharing.sum(axis=1) == 1
        self.neighbours = (sharing.astype(int) @ self.holds.astype(int)) > 0  # call types of groups sharing a skill
        self.own = np.where(self.alone[:, None], self.holds, self.first)  # the call types a group's curve is about
        self.queues = self._queues(method)
        self.service_level = cache(lambda g, t, agents, threshold: self.queues[g][t].service_level(agents, threshold))
        self.erlang, self.floor = self._erlang_start(occupancy_cap)
        self.bound = np.maximum(BOUND_FACTOR * self.erlang, self.erlang + 10)

    def _planned(self) -> np.ndarray:
        """Agents each group has in each interval in the given scenario: plan plus shifts covering its start."""
        horizon = self.scenario.horizon
        planned = np.array([g.agents.per_interval_counts(self.intervals) for g in self.scenario.agent_groups], float)
        starts = horizon.start_seconds + np.arange(self.intervals) * horizon.interval_seconds
        for shift in self.scenario.roster:
            covered = (clock_seconds(shift.start) <= starts) & (starts < clock_seconds(shift.end))
            planned[self.groups.index(shift.group)] += shift.agents * covered
        return planned

    def _queues(self, method: str) -> list[list[_Queue]]:
        """Each group's Erlang queue per interval, from its share of the priority-1 load."""
        planned = self._planned()
        rates = np.array([ct.arrivals.hourly_rates(self.intervals) for ct in self.scenario.call_types]) / 3600.0
        talk = np.array([ct.handle_time.mean for ct in self.scenario.call_types])
        wrap = np.array([ct.after_call_work.mean if ct.after_call_work else 0.0 for ct in self.scenario.call_types])
        abandon = np.array(
            [
                0.0 if ct.patience is None or method == "erlang_c" else 1.0 / ct.patience.mean
                for ct in self.scenario.call_types
            ]
        )
        handle = talk[None, :] * self.proficiency + wrap[None, :]  # group × call type
        weight = self.first[:, :, None] * planned[:, None, :]  # group × call type × interval
        weight = np.where(weight.sum(axis=0) > 0, weight, self.first[:, :, None] * 1.0)
        share = weight / weight.sum(axis=0)
        arrivals = share * rates[None, :, :]
        total = arrivals.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_handle = (arrivals * handle[:, :, None]).sum(axis=1) / total
            theta = (arrivals * abandon[None, :, None]).sum(axis=1) / total
        return [
            [
                _Queue(float(total[g, t]), float(mean_handle[g, t]), 1.0 / theta[g, t] if theta[g, t] > 0 else None)
                if total[g, t] > 0
                else _Queue(0.0, 1.0, None)
                for t in range(self.intervals)
            ]
            for g in range(len(self.groups))
        ]

    def _erlang_start(self, occupancy_cap: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Erlang headcount per group and interval, and the floor the occupancy cap alone sets."""
        erlang = np.zeros((len(self.groups), self.intervals), int)
        floor = np.zeros_like(erlang)
        for g, row in enumerate(self.queues):
            for t, queue in enumerate(row):
                if queue.arrival_rate == 0:
                    continue
                load = queue.arrival_rate * queue.handle_seconds
                ceiling = max(BOUND_FACTOR * math.ceil(load), math.ceil(load) + 50)
                arguments = (queue.arrival_rate, queue.handle_seconds)
                if occupancy_cap is not None:
                    floor[g, t] = analytic.required_agents(
                        *arguments, math.inf, 1e-9, queue.patience_seconds, occupancy_cap, ceiling
                    )
                for k in np.flatnonzero(self.first[g]):
                    goal = max(float(self.targets[k]), 1e-9)
                    try:
                        needed = analytic.required_agents(
                            *arguments, float(self.thresholds[k]), goal, queue.patience_seconds, occupancy_cap, ceiling
                        )
                    except ValueError:
                        raise RequirementError(
                            f"call type '{self.types[k]}' in interval {t} ({self.labels[t]}): Erlang finds no "
                            f"staffing up to {ceiling} agents of group '{self.groups[g]}' meeting "
                            f"{self.targets[k]:.0%} within {self.thresholds[k]:g} s"
                        ) from None
                    erlang[g, t] = max(erlang[g, t], needed)
        return erlang, floor

    def staffed(self, plan: np.ndarray) -> Scenario:
        """The scenario with each group's agents per interval from `plan`, and no roster."""
        changes: dict = {"roster": [], "roster_file": None}
        for g, name in enumerate(self.groups):
            changes[f"agent_groups.{name}.agents"] = {"per_interval": [int(n) for n in plan[g]]}
        return self.scenario.updated(changes)

    def levels(self, days: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled service level, its 95% half-width and calls offered (over all days) per call type × interval,
        from a run's intervals table (`metrics.pooled_service_level`; NaN where nothing was offered)."""
        grid = pd.MultiIndex.from_product([self.types, range(self.intervals)], names=["call_type", "interval"])
        pooled = metrics.pooled_service_level(days, ["call_type", "interval"], self.scenario.service_level.definition)
        pooled = pooled.reindex(grid)
        shape = (len(self.types), self.intervals)
        return (
            pooled["service_level"].to_numpy(float).reshape(shape),
            pooled["service_level_ci"].to_numpy(float).reshape(shape),
            pooled["offered"].fillna(0).to_numpy(float).reshape(shape),
        )

    def table(self, plan: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "group": np.repeat(self.groups, self.intervals),
                "interval": np.tile(np.arange(self.intervals), len(self.groups)),
                "interval_start": self.labels * len(self.groups),
                "erlang": self.erlang.ravel(),
                "required": np.asarray(plan, int).ravel(),
            }
        )

    def verify(self, staffed: Scenario, seed: int, replications: int) -> pd.DataFrame:
        """Service level per call type and interval on days the search never saw, with 95% half-widths."""
        runs = [simulate_replication(staffed, seed, r) for r in range(replications, 2 * replications)]
        days = pd.concat([run.intervals.assign(replication=r) for r, run in enumerate(runs)], ignore_index=True)
        level, half, offered = self.levels(days)
        targets = np.repeat(self.targets, self.intervals)
        level, half = level.ravel(), half.ravel()
        return pd.DataFrame(
            {
                "call_type": np.repeat(self.types, self.intervals),
                "interval": np.tile(np.arange(self.intervals), len(self.types)),
                "interval_start": self.labels * len(self.types),
                "offered": offered.ravel().astype(np.int64),
                "service_level": level,
                "service_level_ci": half,
                "target": targets,
                "met": np.isnan(level) | ~(level + np.nan_to_num(half) < targets),
            }
        )


class _Search:
    """The simulation refinement: add where short, remove where slack, on the same days every run."""

    def __init__(self, centre: _Centre, seed: int, replications: int) -> None:
        self.centre = centre
        self.days = SearchDays(seed, replications)
        self.iterations = 0
        self.saturation_checked = False

    @property
    def simulations(self) -> int:
        return self.days.simulated

    def simulate(self, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pooled service level and its 95% half-width (0 where unknown) and offered calls per call type ×
        interval, and occupancy per group × interval, on the search days."""
        c = self.centre
        intervals, staffing = self.days.tables(c.staffed(plan))
        level, half, offered = c.levels(intervals)
        staffing = staffing.groupby(["group", "interval"], observed=True)[["busy", "on_phone"]].sum()
        staffing = staffing.reindex(pd.MultiIndex.from_product([c.groups, range(c.intervals)]), fill_value=0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            busy = (staffing["busy"] / staffing["on_phone"]).to_numpy().reshape(len(c.groups), c.intervals)
        return level, np.nan_to_num(half, nan=0.0), offered, np.nan_to_num(np.clip(busy, 0, 1), nan=0.0)

    def evidence(self, plan: np.ndarray, removed: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`simulate`, with more search days while a shortfall, or a removal's margin, is ambiguous."""
        c = self.centre
        while True:
            level, half, offered, busy = self.simulate(plan)
            unclear = ambiguous(level, half, c.targets[:, None]) & (offered > 0)
            for g, t in removed:
                mine = c.own[g] & (offered[:, t] > 0)
                unclear[:, t] |= mine & (level[:, t] >= c.targets) & (level[:, t] - half[:, t] < c.targets)
            if not unclear.any() or not self.days.extend():
                return level, half, offered, busy

    def run(self, max_iterations: int) -> np.ndarray:
        c = self.centre
        plan = np.maximum(c.erlang, c.floor)
        lowest = c.floor.copy()  # fewer agents than this failed (or the occupancy cap forbids them)
        streak = np.zeros((len(c.types), c.intervals), int)
        removed: dict[tuple[int, int], int] = {}
        best, kept = None, np.zeros((len(c.types), c.intervals))
        previous = np.zeros((len(c.types), c.intervals))
        while self.iterations < max_iterations:
            self.iterations += 1
            level, half, offered, busy = self.evidence(plan, removed)
            short = (offered > 0) & clearly_short(level, half, c.targets[:, None])
            failed = self._failed(removed, level, half, kept, offered)
            if not short.any() and not failed:
                best, kept = plan.copy(), level
                removed = self._removals(plan, lowest, level, half, offered)
                if not removed:
                    break
                for (g, t), count in removed.items():
                    plan[g, t] -= count
                continue
            undone = self._undo(plan, lowest, failed, short)
            removed = {}
            if not (short & ~undone).any():
                continue  # only removals failed: simulate the plan with them put back
            streak = np.where(short & ~undone, streak + 1, 0)
            if ((streak >= 3) & (level <= previous + 1e-9)).any() or streak.max() >= 5:
                self._check_saturation()  # more agents did not help on the same days: can any number?
            previous = level
            self._add(plan, short & ~undone, streak, level, busy)
        if best is None:
            self._check_saturation()
            k, t = np.argwhere(short)[0] if short.any() else (0, 0)
            raise RequirementError(
                f"call type '{c.types[k]}' in interval {t} ({c.labels[t]}) still misses its target "
                f"({level[k, t]:.1%} < {c.targets[k]:.0%}) after {max_iterations} search runs; "
                "raise max_iterations"
            )
        return best

    def _failed(self, removed, level, half, kept, offered) -> dict[tuple[int, int], int]:
        """The removals the search days do not support: in their interval a call type the group's calls reach no
        longer keeps its target with the 95% margin (lower bound below target), or in the next interval one
        falls below target where it met it before the removal (the queue carries over)."""
        c = self.centre
        failed = {}
        targets = c.targets
        for (g, t), count in removed.items():
            affected = c.own[g] & (offered[:, t] > 0)
            weak = affected & (level[:, t] - half[:, t] < targets)
            if t + 1 < c.intervals:
                later = c.own[g] & (offered[:, t + 1] > 0)
                weak = weak | (later & (level[:, t + 1] < targets) & (kept[:, t + 1] >= targets))
                weak = weak | (later & (level[:, t + 1] + half[:, t + 1] < targets))
            if weak.any():
                failed[(g, t)] = count
        return failed

    def _undo(self, plan, lowest, removed, short) -> np.ndarray:
        """Put back the failed removals, and those in or just before a clearly short interval, raising the lowest
        headcount there. Returns the shortfalls these removals explain (they need no added agents)."""
        explained = np.zeros_like(short)
        for (g, t), count in removed.items():
            lowest[g, t] = plan[g, t] + 1
            plan[g, t] += count
            explained[:, t] |= short[:, t]
            if t + 1 < short.shape[1]:
                explained[:, t + 1] |= short[:, t + 1]
        return explained

    def predicted(self, g: int, t: int, k: int, level: float, agents: int, new: int) -> float:
        """Service level of call type k with `new` instead of `agents` agents in group g, from the simulated
        `level`: the shortfall 1 − SL scales as Erlang's does (additive where Erlang has no shortfall)."""
        c = self.centre
        threshold = float(c.thresholds[k])
        before, after = c.service_level(g, t, agents, threshold), c.service_level(g, t, new, threshold)
        if before < 1.0 - 1e-9 and after < 1.0 - 1e-9:
            return float(np.clip(1.0 - (1.0 - level) * (1.0 - after) / (1.0 - before), 0.0, 1.0))
        return float(np.clip(level + after - before, 0.0, 1.0))

    def _weight(self, t: int, busy: np.ndarray) -> np.ndarray:
        """Gain of one more agent of each group for each call type in interval t, before cost."""
        c = self.centre
        available = np.where(c.priority == 1, 1.0, (1.0 - busy[:, t])[:, None])
        fast_enough = c.delay < c.thresholds[None, :]
        return np.where(c.holds & fast_enough, available / c.proficiency, 0.0)

    def _add(self, plan, short, streak, level, busy) -> None:
        """Add agents in every short interval: best gain per cost first, sized by the Erlang curve."""
        c = self.centre
        for t in np.flatnonzero(short.any(axis=0)):
            weight = self._weight(t, busy)
            gap = np.where(short[:, t], c.targets - np.nan_to_num(level[:, t]), 0.0)
            while gap.any():
                score = (weight * gap[None, :]).sum(axis=1) / c.cost
                score[plan[:, t] >= c.bound[:, t]] = 0.0
                if not score.any():
                    self._check_saturation()
                    k = int(np.argmax(gap))
                    raise RequirementError(
                        f"call type '{c.types[k]}' in interval {t} ({c.labels[t]}) misses its target even with "
                        f"{BOUND_FACTOR} × the Erlang staffing of every group that can take it"
                    )
                g = int(np.argmax(score))
                k = int(np.argmax(weight[g] * gap))
                step = max(self._step(plan, g, t, k, float(level[k, t])), 2 ** (streak[k, t] - 1))
                plan[g, t] = min(plan[g, t] + step, c.bound[g, t])
                gap[(weight[g] > 0) & (c.priority[g] == 1)] = 0.0
                gap[k] = 0.0

    def _step(self, plan, g: int, t: int, k: int, level: float) -> int:
        """Agents the Erlang-scaled curve says lift call type k a point above its target (so that the next run is
        not a near miss again): at most a quarter more, at least 1."""
        n, target = int(plan[g, t]), float(self.centre.targets[k]) + ADD_MARGIN
        cap = max(1, math.ceil(0.25 * n))
        for extra in range(1, cap + 1):
            if self.predicted(g, t, k, level, n, n + extra) >= target:
                return extra
        return cap

    def _removals(self, plan, lowest, level, half, offered) -> dict[tuple[int, int], int]:
        """Agents to take from each group and interval so that, by the Erlang-scaled curves, the call types the
        group's calls reach still meet their targets with the 95% margin (level − half-width); the most expensive
        groups first.

        A group alone with its skills is sized by its own curve, up to a quarter of its agents. A group sharing a
        skill also sends work to the other groups (`_shared_losses`), so its removal is sized by the predicted
        losses of every call type those groups serve, on top of the removals already chosen in the interval, and
        each affected call type must keep SHARED_MARGIN beyond them: the curves are an approximation there.
        """
        c = self.centre
        chosen = {}
        for t in range(c.intervals):
            drop, lost = np.zeros(len(c.types)), np.zeros(len(c.groups))
            slack = np.nan_to_num(level[:, t] - half[:, t], nan=1.0) - c.targets
            for g in np.argsort(-c.cost, kind="stable"):
                n = int(plan[g, t])
                mine = np.flatnonzero(c.holds[g] & (offered[:, t] > 0))
                if not len(mine):  # nothing measured (e.g. a warm-up interval): keep the Erlang number
                    continue
                count, losses, after = 0, np.zeros(len(c.types)), lost
                for fewer in range(1, max(1, n // 4) + 1):
                    if n - fewer < lowest[g, t]:
                        break
                    if c.alone[g]:
                        loss = np.zeros(len(c.types))
                        for k in mine:
                            loss[k] = level[k, t] - self.predicted(int(g), t, k, level[k, t], n, n - fewer)
                        if np.any((slack - drop - loss < 0) & c.neighbours[g]):
                            break
                        count, losses = fewer, loss
                        continue
                    trial = lost + self._moved(int(g), t, n, fewer)
                    loss = self._shared_losses(plan, t, trial, level[:, t], offered[:, t])
                    if np.any((slack - drop - loss - SHARED_MARGIN < 0) & c.own[g] & (offered[:, t] > 0)):
                        break
                    if np.any(clearly_short(level[:, t] - drop - loss, half[:, t], c.targets) & (loss > 0)):
                        break
                    count, after = fewer, trial
                if count:
                    chosen[(int(g), t)] = count
                    drop += losses
                    lost = after
        return chosen

    def _moved(self, g: int, t: int, n: int, fewer: int) -> np.ndarray:
        """Agents' worth of work each group loses in interval t when group g has `fewer` agents fewer. g loses
        them. The work they carried of g's first call types (Erlang B: g's load × the rise in blocking, at most
        `fewer`) goes to the other holders of those call types, and the rest of their time, which was free to
        help with g's other call types, is missing to the groups serving those first; each such group is charged
        as if it took all of it, at its proficiency over g's."""
        c = self.centre
        queue = c.queues[g][t]
        moved = np.zeros(len(c.groups))
        moved[g] = fewer
        load = queue.arrival_rate * queue.handle_seconds
        carried = load * (analytic.erlang_b(n - fewer, load) - analytic.erlang_b(n, load)) if load > 0 else 0.0
        carried = min(max(carried, 0.0), float(fewer))
        for share, served in ((carried, c.first[g]), (fewer - carried, c.holds[g] & ~c.first[g])):
            if share <= 0 or not served.any():
                continue
            takers = c.holds[:, served].any(axis=1) if served is c.first[g] else c.first[:, served].any(axis=1)
            takers[g] = False
            speed = np.where(c.holds[:, served], c.proficiency[:, served], np.inf).min(axis=1, initial=np.inf)
            ratio = np.where(takers, c.proficiency[g, served].max() / np.where(np.isfinite(speed), speed, 1.0), 0.0)
            moved += share * ratio
        return moved

    def _shared_losses(self, plan, t: int, lost: np.ndarray, level: np.ndarray, offered: np.ndarray) -> np.ndarray:
        """Predicted loss of each call type's service level in interval t when each group has `lost` agents'
        worth fewer, by the group's Erlang-scaled curve for the call types it serves first (fractional agents by
        linear interpolation), summed over groups."""
        c = self.centre
        loss = np.zeros(len(c.types))
        for h in np.flatnonzero(lost > 1e-9):
            n = int(plan[h, t])
            remaining = max(n - float(lost[h]), 0.0)
            low = math.floor(remaining)
            for k in np.flatnonzero(c.first[h] & (offered > 0)):
                at_low = self.predicted(int(h), t, k, float(level[k]), n, low)
                at_high = self.predicted(int(h), t, k, float(level[k]), n, min(low + 1, n))
                loss[k] += level[k] - (at_low + (remaining - low) * (at_high - at_low))
        return np.maximum(loss, 0.0)

    def _check_saturation(self) -> None:
        """Once: simulate every group at its bound; a call type short even then cannot be met."""
        if self.saturation_checked:
            return
        self.saturation_checked = True
        c = self.centre
        level, half, offered, _ = self.simulate(c.bound)
        short = (offered > 0) & (level + half < c.targets[:, None])
        if short.any():
            k, t = np.argwhere(short)[0]
            raise RequirementError(
                f"call type '{c.types[k]}' in interval {t} ({c.labels[t]}) cannot meet its target: "
                f"{level[k, t]:.1%} < {c.targets[k]:.0%} even with {BOUND_FACTOR} × the Erlang staffing "
                f"(at least Erlang + 10) in every group{self._busy_signals(k, t)}"
            )

    def _busy_signals(self, k: int, t: int) -> str:
        """The trunk lines' part in a target missed with every group at its bound: the share of the attempts that
        got a busy signal there, when the scenario has trunk lines and there were any."""
        scenario = self.centre.scenario
        if scenario.trunk_lines is None:
            return ""
        days = self.days.tables(self.centre.staffed(self.centre.bound))[0]
        mine = days[(days["call_type"] == self.centre.types[k]) & (days["interval"] == t)]
        offered, blocked = mine["offered"].sum(), mine["blocked"].sum()
        if not blocked:
            return ""
        share = blocked / offered
        lines = scenario.trunk_lines
        why = (
            f"they alone keep it below target: {1 - share:.1%} of the attempts get through"
            if 1 - share < self.centre.targets[k]
            else "more lines would help"
        )
        return (
            f"; trunk_lines: {lines} lines allow at most {lines} calls in the system, and {share:.1%} of the "
            f"attempts there got a busy signal ({why})"
        )
