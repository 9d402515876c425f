"""The planner's staffing requirement: agents needed per interval and group, from Erlang and from simulation side by
side, grossed up for shrinkage to the agents to schedule.

    import bposim
    scenario = bposim.load_scenario("models/helpdesk.yaml")
    table = bposim.requirement(scenario, method="erlang", replications=2)
    table[["interval_start", "group", "erlang", "shrinkage", "erlang_scheduled"]].head()

Both figures come from `bposim.optimise.requirement.staffing_requirement`, the requirement `bposim staff` covers
with shifts: `erlang` is its Erlang start (Erlang A per group and interval where call types have a patience, Erlang C
where none has; each call type's load split over the groups that serve it first), `simulation` the fewest agents
its search on simulated days (common random numbers) finds meeting every call type's target in every interval. Both
are agents on the phones (net): the simulation runs without the scenario's shrinkage and absence, so that the two
are grossed up alike.

Shrinkage gross-up. Agents to schedule = agents on the phones / (1 − shrinkage). A group's shrinkage is its share
of scheduled time lost: 1 − (1 − off-phone)(1 − absence), where off-phone is the share of logged-in time the
scenario's shrinkage episodes take (per_hour × mean duration / 3600) and absence the day-absence probability (the
group's own, else the scenario's; by weekday: the mean over the horizon's open days). A planner's own figure
(`shrinkage=0.3`) replaces it for every group. The scheduled figures are FTE on the interval, not rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from bposim.scenario import AgentGroup, Horizon, Scenario
from bposim.scenario.residency import resident_centre

PlanningMethod = Literal["erlang", "simulation", "both"]
PLANNING_METHODS = ("erlang", "simulation", "both")
COLUMNS = {
    "erlang": ["erlang", "shrinkage", "erlang_scheduled"],
    "simulation": ["simulation", "shrinkage", "simulation_scheduled"],
    "both": ["erlang", "simulation", "shrinkage", "erlang_scheduled", "simulation_scheduled"],
}


@dataclass(frozen=True)
class PlanningRequirement:
    """A requirement for the planner: `table`, one row per interval and group (see `requirement`); `achieved`, per
    live call type and interval, the service level on fresh days (replications R..2R−1) at the simulation's count
    (at Erlang's with method "erlang"); the Erlang model used ("Erlang A" or "Erlang C") and the method."""

    table: pd.DataFrame
    achieved: pd.DataFrame
    model: str
    method: str
    replications: int
    seed: int


def scheduled_agents(on_phones: float, shrinkage: float) -> float:
    """Agents to schedule so that `on_phones` remain after `shrinkage` (a share in [0, 1)): on_phones / (1 − S)."""
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be a share in [0, 1), e.g. 0.3 for 30%, got {shrinkage!r}")
    return on_phones / (1.0 - shrinkage)


def group_shrinkage(scenario: Scenario, group: AgentGroup) -> float:
    """The share of a group's scheduled time lost: 1 − (1 − off-phone)(1 − absence), from the scenario's shrinkage
    episodes and absence (the group's own, else the scenario's)."""
    off_phone = 0.0
    episodes = scenario.group_shrinkage(group)
    if episodes is not None:
        rate = _over_open_days(episodes.by_day(), scenario.horizon)
        off_phone = min(rate * episodes.duration.mean / 3600.0, 1.0)
    absence = scenario.group_absence(group)
    absent = _over_open_days(absence.by_day(), scenario.horizon) if absence is not None else 0.0
    return 1.0 - (1.0 - off_phone) * (1.0 - absent)


def requirement(
    scenario: Scenario,
    *,
    method: PlanningMethod = "both",
    occupancy_cap: float | None = None,
    shrinkage: float | None = None,
    replications: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """Agents required per interval and group, from Erlang and/or simulation, and grossed up for shrinkage.

    Columns: interval (0-based), interval_start (HH:MM), group, call_types (those it serves first, "a, b"), then by
    `method`: erlang and/or simulation (agents on the phones), shrinkage (the share grossed up for: the group's,
    or `shrinkage` for all) and erlang_scheduled and/or simulation_scheduled (FTE). `occupancy_cap` (default the
    scenario's scheduling.occupancy_cap) keeps each group's Erlang occupancy at most that. Raises ValueError for a
    bad argument, `RequirementError` when no staffing meets a target.
    """
    return planning_requirement(
        scenario,
        method=method,
        occupancy_cap=occupancy_cap,
        shrinkage=shrinkage,
        replications=replications,
        seed=seed,
    ).table


def planning_requirement(
    scenario: Scenario,
    *,
    method: PlanningMethod = "both",
    occupancy_cap: float | None = None,
    shrinkage: float | None = None,
    replications: int = 10,
    seed: int = 0,
) -> PlanningRequirement:
    """`requirement`'s table with the service level reached on fresh days (see `PlanningRequirement`)."""
    from bposim.optimise.requirement import staffing_requirement

    if method not in PLANNING_METHODS:
        raise ValueError(f"method must be one of {', '.join(PLANNING_METHODS)}, got {method!r}")
    if shrinkage is not None:
        scheduled_agents(0.0, shrinkage)  # checks the share
    if occupancy_cap is None and scenario.scheduling is not None:
        occupancy_cap = scenario.scheduling.occupancy_cap
    shares = {group.name: group_shrinkage(scenario, group) for group in scenario.agent_groups}
    if shrinkage is None and any(share >= 1 for share in shares.values()):
        whole = ", ".join(name for name, share in shares.items() if share >= 1)
        raise ValueError(f"the shrinkage and absence of {whole} leave no time on the phones; nothing to gross up")
    net = on_the_phones(scenario)
    found = staffing_requirement(
        net,
        method="erlang_a" if method == "erlang" else "simulation",
        occupancy_cap=occupancy_cap,
        seed=seed,
        replications=replications,
    )
    table = found.table.rename(columns={"required": "simulation"})
    table = table[["interval", "interval_start", "group", "erlang", "simulation"]].copy()
    served = _served_first(scenario)
    table.insert(3, "call_types", table["group"].map(served))
    table["shrinkage"] = table["group"].map(shares) if shrinkage is None else float(shrinkage)
    for column in ("erlang", "simulation"):
        table[f"{column}_scheduled"] = table[column] / (1.0 - table["shrinkage"])
    table = table.sort_values(["interval", "group"], key=_group_order(scenario), kind="stable")
    table = table[["interval", "interval_start", "group", "call_types", *COLUMNS[method]]].reset_index(drop=True)
    patience = any(ct.patience is not None for ct in scenario.call_types if ct.live)
    return PlanningRequirement(
        table, found.achieved, "Erlang A" if patience else "Erlang C", method, replications, seed
    )


def on_the_phones(scenario: Scenario) -> Scenario:
    """The scenario without shrinkage episodes and absence (the scenario's and every group's): agents logged in are
    agents on the phones, the net requirement the gross-up starts from."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    for part in (data, *data["agent_groups"]):
        part.pop("shrinkage", None)
        part.pop("absence", None)
    return Scenario.model_validate(data)


def _served_first(scenario: Scenario) -> dict[str, str]:
    """Each group's call types at routing priority 1, as "a, b"."""
    return {
        group.name: ", ".join(skill.call_type for skill in group.skills if skill.priority == 1)
        for group in resident_centre(scenario).agent_groups  # the skills as run
    }


def _group_order(scenario: Scenario):
    """A sort key keeping the scenario's order of groups within an interval."""
    order = {group.name: n for n, group in enumerate(scenario.agent_groups)}
    return lambda column: column.map(order) if column.name == "group" else column


def _over_open_days(by_weekday: tuple[float, ...], horizon: Horizon) -> float:
    """A weekday value's mean over the horizon's open days (its mon value without a calendar: all days alike)."""
    if not horizon.calendar:
        return by_weekday[0]
    days = horizon.open_days()
    return math.fsum(by_weekday[horizon.date(day).weekday()] for day in days) / max(len(days), 1)
