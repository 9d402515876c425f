"""Changes an experiment states relative to its base scenario, so that its file need not copy the base's numbers.

Scale factors (`scale: {staffing: [0.9, 1.0, 1.1], arrivals: [1.0, 1.2]}`) are sweep dimensions, crossed with the
factors, and act on each cell's scenario after its factors' changes:

- staffing: every group's agents by plan (`agents`, a count or each `per_interval` count) and every roster line's
  `agents`, times the factor, each rounded to the nearest whole agent, a half to the even one (Python's `round`:
  5 × 0.9 = 4.5 → 4, 7 × 0.5 = 3.5 → 4). Deferred reserves, outbound campaigns and shift patterns to schedule are
  left as they are.
- arrivals: every call type's arrival rates times the factor: `per_hour`, `per_interval`, the rates of
  `by_day_type` and `by_date` (a date's `factor` stays a factor of the day's rates) and a `weekly` volume. Initial
  backlogs, retrials and outbound campaigns are left as they are.

A factor of 1 leaves the scenario as it is. The results table has one column per scale, `staffing_scale` and
`arrivals_scale`, holding the factor.

Appending to a list: a path ending in `+` adds its items to the list there instead of replacing it
(`costs.technology+: [{name: ai_assist, per_seat_per_day: 6}]`, `roster+: [{group: team, ...}]`); a mapping adds one
item.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from bposim.scenario import Scenario

SCALES = ("staffing", "arrivals")
APPEND = "+"


def scale_column(scale: str) -> str:
    """The results-table column of a scale: staffing_scale, arrivals_scale."""
    return f"{scale}_scale"


def scaled(scenario: Scenario, factors: dict[str, float]) -> Scenario:
    """The scenario with each scale (staffing, arrivals) in `factors` applied; itself when every factor is 1."""
    factors = {scale: factor for scale, factor in factors.items() if factor != 1}
    if not factors:
        return scenario
    data = scenario.model_dump(mode="python", exclude_none=True)
    if "staffing" in factors:
        _scale_staffing(data, factors["staffing"])
    if "arrivals" in factors:
        _scale_arrivals(data, factors["arrivals"])
    return Scenario.model_validate(data)


def _scale_staffing(data: dict[str, Any], factor: float) -> None:
    """Agents by plan and on roster lines × factor, rounded half to even, in the scenario's plain data."""

    def agents(n: int) -> int:
        return round(n * factor)

    for group in data["agent_groups"]:
        staffing = group.get("agents", {})
        if "count" in staffing:
            staffing["count"] = agents(staffing["count"])
        if "per_interval" in staffing:
            staffing["per_interval"] = [agents(n) for n in staffing["per_interval"]]
    for shift in data.get("roster", []):
        shift["agents"] = agents(shift["agents"])


def _scale_arrivals(data: dict[str, Any], factor: float) -> None:
    """Every call type's arrival rates and weekly volume × factor, in the scenario's plain data."""

    def rates(node: dict[str, Any]) -> None:
        if "per_hour" in node:
            node["per_hour"] = node["per_hour"] * factor
        if "per_interval" in node:
            node["per_interval"] = [rate * factor for rate in node["per_interval"]]

    for call_type in data["call_types"]:
        arrivals = call_type["arrivals"]
        rates(arrivals)
        for day_type in arrivals.get("by_day_type", {}).values():
            rates(day_type)
        for date in arrivals.get("by_date", {}).values():
            rates(date)
        if "weekly" in arrivals:
            arrivals["weekly"]["volume"] = arrivals["weekly"]["volume"] * factor


def with_appends(changes: dict[str, Any], lookup: Callable[[str], Any]) -> dict[str, Any]:
    """`changes` with each `path+: items` made `path: the list there + items`, the list read by `lookup(path)`
    (the scenario's value at the path). Raises ValueError when the path holds no list."""
    expanded = {}
    for path, value in changes.items():
        if not path.endswith(APPEND):
            expanded[path] = value
            continue
        target = path.removesuffix(APPEND)
        current = lookup(target)
        if not isinstance(current, list):
            raise ValueError(f"{path}: {target} is not a list; '+' adds items to a list (roster+, costs.technology+)")
        items = value if isinstance(value, list) else [value]
        expanded[target] = [*copy.deepcopy(current), *items]
    return expanded
