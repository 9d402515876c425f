"""Each week's requirement and service level: the scenario's representative day at the week's volume and staffing.

Load per group. Each live call type's hourly rate per interval (the scenario's day) is split evenly over the groups
serving it at priority 1 (all its groups when none does), with the skills as run (`resident_centre`: a group a
client's contract does not allow to serve a call type is not planned for it); a group's calls are pooled into one
queue with the rate-weighted mean handle time (talk + wrap-up), mean patience (none: callers wait for ever) and the
strictest threshold and target of its call types. The week's factor multiplies every rate.

Required FTE (net, on the phones): Erlang A (C without patience) agents per interval meeting the group's target,
× interval hours × open days per week / paid hours per FTE. Available FTE: the week's productive heads ×
(1 − shrinkage) (the plan's shrinkage, else the group's share from the scenario's shrinkage and absence,
`bposim.planning.group_shrinkage`). Staffing on the day: the required agents of each interval × available /
required (the available hours shaped like the requirement), rounded.

Service level: with `service_level: erlang`, each interval's Erlang service level at that staffing, pooled over
the intervals and groups by calls; with `simulation`, `simulated_days` days of the scenario (without its shrinkage
and absence, which the available FTE already nets out) simulated at the week's factor and staffing, each week and
replication on its own seed, and the pooled service level of the run's summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from bposim.analytic import erlang_a_metrics, required_agents
from bposim.arrivals import day_rates
from bposim.scenario import AgentGroup, CallType, Scenario
from bposim.scenario.residency import resident_centre


@dataclass(frozen=True)
class GroupLoad:
    """A group's pooled queue on the representative day: hourly rates per interval and its Erlang parameters."""

    group: str
    rates: tuple[float, ...]
    handle_seconds: float
    patience_seconds: float
    threshold_seconds: float
    target: float


def group_loads(scenario: Scenario) -> dict[str, GroupLoad]:
    """Every group's load on the scenario's day (groups serving no live call type get no load)."""
    intervals = scenario.horizon.intervals
    parts: dict[str, list] = {group.name: [] for group in scenario.agent_groups}
    for ct in scenario.call_types:
        if not ct.live:
            continue
        first = first_groups(scenario, ct)
        rates = np.asarray(day_rates(ct.arrivals, scenario.horizon)[0], dtype=float) / max(len(first), 1)
        handle = ct.handle_time.mean + (ct.after_call_work.mean if ct.after_call_work is not None else 0.0)
        patience = ct.patience.mean if ct.patience is not None else math.inf
        threshold, target = scenario.service_level_for(ct)
        for group in first:
            parts[group.name].append((rates, handle, patience, threshold, target))
    loads = {}
    for name, found in parts.items():
        if not found:
            continue
        rates = sum(part[0] for part in found)
        weights = np.array([part[0].sum() for part in found]) + 1e-12
        handle = float(np.average([part[1] for part in found], weights=weights))
        patiences = [part[2] for part in found]
        patience = math.inf if math.inf in patiences else float(np.average(patiences, weights=weights))
        loads[name] = GroupLoad(
            name,
            tuple(float(rate) for rate in rates[:intervals]),
            handle,
            patience,
            min(part[3] for part in found),
            max(part[4] for part in found),
        )
    return loads


def first_groups(scenario: Scenario, call_type: CallType) -> list[AgentGroup]:
    """The groups a call type's calls are planned on: those serving it at priority 1, else all serving it, with the
    skills as run (a client's `restrict_to` takes its call types from the groups not allowed to serve them)."""
    served_by = resident_centre(scenario).agent_groups
    serving = [g for g in served_by if any(s.call_type == call_type.name for s in g.skills)]
    return [g for g in serving if any(s.call_type == call_type.name and s.priority == 1 for s in g.skills)] or serving


@lru_cache(maxsize=200_000)
def _required(rate_per_hour: float, load: GroupLoad) -> int:
    if rate_per_hour <= 0:
        return 0
    patience = None if math.isinf(load.patience_seconds) else load.patience_seconds
    return required_agents(rate_per_hour / 3600.0, load.handle_seconds, load.threshold_seconds, load.target, patience)


@lru_cache(maxsize=200_000)
def _service_level(agents: int, rate_per_hour: float, load: GroupLoad) -> float:
    if rate_per_hour <= 0:
        return 1.0
    if agents < 1:
        return 0.0
    metrics = erlang_a_metrics(
        agents, rate_per_hour / 3600.0, load.handle_seconds, load.patience_seconds, load.threshold_seconds
    )
    return metrics.service_level


@lru_cache(maxsize=200_000)
def _metrics(agents: int, rate_per_hour: float, load: GroupLoad, threshold_seconds: float):
    return erlang_a_metrics(
        agents, rate_per_hour / 3600.0, load.handle_seconds, load.patience_seconds, threshold_seconds
    )


def abandon_share(agents: int, rate_per_hour: float, load: GroupLoad) -> float:
    """The share of a group's calls abandoning in an interval at `agents` (Erlang A; all of them without agents)."""
    if agents < 1:
        return 1.0
    return _metrics(agents, rate_per_hour, load, load.threshold_seconds).p_abandon


def level_at(agents: int, rate_per_hour: float, load: GroupLoad, threshold_seconds: float, answered: bool) -> float:
    """A group's interval service level at `threshold_seconds`: of the calls offered, or of those answered."""
    if agents < 1:
        return 0.0
    metrics = _metrics(agents, rate_per_hour, load, threshold_seconds)
    return metrics.service_level_answered if answered else metrics.service_level


def required_per_interval(load: GroupLoad, factor: float) -> np.ndarray:
    """Erlang agents on the phones per interval at `factor` × the day's rates."""
    return np.array([_required(round(rate * factor, 3), load) for rate in load.rates], dtype=float)


def staffing(required: np.ndarray, available_fte: float, required_fte: float) -> np.ndarray:
    """Agents per interval: the requirement scaled by available / required FTE, rounded."""
    ratio = available_fte / required_fte if required_fte > 0 else 0.0
    return np.rint(required * ratio).astype(int)


def erlang_week(load: GroupLoad, factor: float, agents: np.ndarray) -> tuple[float, float]:
    """(calls a day, calls answered within threshold a day) of a group's day at `agents` per interval, by Erlang."""
    calls = within = 0.0
    for rate, count in zip(load.rates, agents, strict=True):
        rate = round(rate * factor, 3)
        interval_calls = rate  # per hour; the intervals share one length, so hourly rates pool alike
        calls += interval_calls
        within += interval_calls * _service_level(int(count), rate, load)
    return calls, within


class SimulatedWeek(NamedTuple):
    """The week's simulated days: calls offered, answered within threshold, and the calls table when asked for."""

    offered: float
    within: float
    calls: pd.DataFrame | None


def simulated_week(
    scenario: Scenario, factor: float, agents: dict[str, np.ndarray], seed: int, days: int, calls: bool = False
) -> SimulatedWeek:
    """The calls offered and answered within threshold over `days` simulated days at `factor` and `agents` per
    group (and the calls table with `calls`)."""
    from bposim.planning import on_the_phones
    from bposim.run import simulate

    changes: dict = {}
    for ct in scenario.call_types:
        if ct.arrivals.per_hour is not None:
            changes[f"call_types.{ct.name}.arrivals.per_hour"] = ct.arrivals.per_hour * factor
        elif ct.arrivals.per_interval is not None:
            changes[f"call_types.{ct.name}.arrivals.per_interval"] = [r * factor for r in ct.arrivals.per_interval]
    for group in scenario.agent_groups:
        counts = agents.get(group.name)
        if counts is not None:
            changes[f"agent_groups.{group.name}.agents"] = {"per_interval": [int(c) for c in counts]}
    week = on_the_phones(scenario).updated(changes)
    run = simulate(week, seed=seed, replications=days, tables=("calls",) if calls else ())
    summary = run.summary
    return SimulatedWeek(
        float(summary["offered"]), float(summary["answered_within_threshold"]), run.calls if calls else None
    )
