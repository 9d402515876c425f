"""The staffing requirement: the Erlang start, the simulation search on it, and a verification on fresh days.

With ``method="erlang_a"`` or ``"erlang_c"`` the Erlang start (`erlang_start`) is the requirement; with
``"simulation"`` the search (`search`) refines it on simulated days under common random numbers.

Verification. The final plan (any method) is simulated on `replications` fresh days, replications R..2R−1 of the
same seed, never seen by the search: `achieved` shows how the requirement holds on other days (met: not clearly
below target), and for the Erlang methods where Erlang misleads. An interval an exempt maintenance window overlaps
is outside the objective: the search neither raises nor cuts it, and it counts as met (`exempt` in `achieved`).
Deferred work (email, case) is judged over the days of the horizon (`bposim.optimise.deferred`), in
`deferred_achieved`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from bposim import workload
from bposim.optimise.days import Simulator
from bposim.optimise.deferred import deferred_levels, judged_days
from bposim.optimise.requirement.erlang_start import Centre
from bposim.optimise.requirement.judgement import Judge
from bposim.optimise.requirement.result import Requirement, RequirementError
from bposim.optimise.requirement.search import Search
from bposim.optimise.trunks import trunk_limit_text, trunk_limits
from bposim.scenario import Scenario

Method = Literal["simulation", "erlang_a", "erlang_c"]
METHODS = ("simulation", "erlang_a", "erlang_c")


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
    simulator: Simulator | None = None,
) -> Requirement:
    """The fewest agents per group and interval meeting every call type's service level in every interval.

    `target` and `threshold_seconds` replace the objective of every call type when given. Raises
    RequirementError when a target cannot be met (naming the call type and interval), ScenarioError when the
    scenario with `replications` is beyond the limits of `bposim.workload`. A `simulator` (`days.Simulator`)
    shares the days among worker processes; the result is the same.
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
    centre = Centre(source, method, occupancy_cap)
    plan, iterations, simulations = centre.erlang.copy(), 0, 0
    if method == "simulation":
        search = Search(centre, Judge(centre, seed, replications, simulator))
        plan = search.run(max_iterations)
        iterations, simulations = search.iterations, search.simulations
    requirement = Requirement(centre.table(plan), pd.DataFrame(), 0, iterations, method, source)
    achieved, deferred = _verify(centre, requirement.scenario(), seed, replications, simulator or Simulator())
    simulations += replications * judged_days(source)
    return Requirement(
        requirement.table,
        achieved,
        simulations,
        iterations,
        method,
        source,
        by_channel=centre.channel_table(plan),
        deferred_achieved=deferred,
        deferred=centre.deferred,
        deferred_plan=centre.deferred_plan,
    )


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


def _check_objective(target: float | None, threshold_seconds: float | None) -> None:
    """A ValueError naming the argument when a service-level objective is not one."""
    if target is not None and not 0 < target <= 1:
        raise ValueError(f"target must be a share of calls in (0, 1], e.g. 0.8 for 80%, got {target!r}")
    if threshold_seconds is not None and not 0 <= threshold_seconds < math.inf:
        raise ValueError(f"threshold_seconds must be a number of seconds ≥ 0, e.g. 20, got {threshold_seconds!r}")


def _verify(
    centre: Centre, staffed: Scenario, seed: int, replications: int, simulator: Simulator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Service level per live call type and interval on days the search never saw, with 95% half-widths; and the
    share of deferred items done by their due time over the judged days (`deferred.deferred_levels`)."""
    found = simulator.tables(staffed, seed, list(range(replications, 2 * replications)))
    days = pd.concat([tables[0].assign(replication=r) for r, tables in enumerate(found)], ignore_index=True)
    backlog = pd.concat([tables[2] for tables in found], ignore_index=True)
    deferred = deferred_levels(backlog, staffed)
    level, half, offered = centre.levels(days)
    targets = np.repeat(centre.targets, centre.intervals)
    level, half = level.ravel(), half.ravel()
    live = np.repeat(centre.live, centre.intervals)
    exempt = np.tile(centre.exempt, len(centre.types))
    achieved = pd.DataFrame(
        {
            "call_type": np.repeat(centre.types, centre.intervals),
            "interval": np.tile(np.arange(centre.intervals), len(centre.types)),
            "interval_start": centre.labels * len(centre.types),
            "offered": offered.ravel().astype(np.int64),
            "service_level": level,
            "service_level_ci": half,
            "target": targets,
            "met": np.isnan(level) | ~(level + np.nan_to_num(half) < targets) | exempt,
        }
    )
    if centre.exempt.any():  # exempt maintenance: outside the objective, met whatever its level
        achieved["exempt"] = exempt
    return achieved[live].reset_index(drop=True), deferred
