"""What a staffing requirement is: agents per group and interval, and how they perform on fresh days."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from bposim.scenario import Scenario

if TYPE_CHECKING:
    from bposim.optimise.requirement.deferred_start import DeferredSolution, DeferredStart


class RequirementError(ValueError):
    """No staffing up to the bound meets a call type's target in some interval."""


@dataclass(frozen=True)
class Requirement:
    """Required agents per group and interval of the day, and how the requirement performs on fresh days.

    `table`: group, interval (0-based in the open day), interval_start (HH:MM), erlang (the start: Erlang's agents
    for live work plus the deferred start's for email and case work) and required. `achieved`: per live call type
    and interval, from the verification run: offered (calls over all its days), service_level (pooled over those
    days), service_level_ci (95% half-width, delta method over days; see `metrics.pooled_service_level`), target
    and met (the target inside or below the interval; True where nothing
    was offered). `simulations` counts simulated days, verification included. `by_channel`: per channel of the
    scenario and interval, the agents its call types need (erlang and required, each group's numbers split by the
    channel's share of the group's load in the Erlang start, summed over groups: fractions of agents where a
    group serves several channels; deferred work by the agents at work on items in the deferred start).
    `deferred_achieved`: per deferred call type, from the verification run over the judged days
    (`bposim.optimise.deferred.deferred_levels`): due, met_due, service_level (the share of the items due done by
    their due time), its standard error and 95% half-width, target and short. `deferred` is the fluid model of the
    deferred work (`deferred_start.DeferredStart`) and `deferred_plan` its start, which the roster loop solves again
    with margins when the simulated days miss a deferred target.
    """

    table: pd.DataFrame
    achieved: pd.DataFrame
    simulations: int
    iterations: int
    method: str
    source: Scenario = field(repr=False)
    by_channel: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    deferred_achieved: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    deferred: DeferredStart | None = field(default=None, repr=False)
    deferred_plan: DeferredSolution | None = field(default=None, repr=False)

    def channel_hours(self) -> pd.DataFrame:
        """Per channel of `by_channel`: agent_hours a day its call types take of the requirement, their share of
        the requirement's agent-hours, the channel's peak agents and the interval_start of that peak; empty with
        fewer than two channels (one channel drives the whole requirement)."""
        table = self.by_channel
        if table.empty or table["channel"].nunique() < 2:
            return pd.DataFrame(columns=["channel", "agent_hours", "share", "peak", "peak_start"])
        hours = self.source.horizon.interval_seconds / 3600.0
        rows = []
        for channel, mine in table.groupby("channel", observed=True, sort=True):
            peak = mine.loc[mine["required"].idxmax()]
            rows.append(
                {
                    "channel": str(channel),
                    "agent_hours": float(mine["required"].sum() * hours),
                    "peak": float(peak["required"]),
                    "peak_start": str(peak["interval_start"]),
                }
            )
        result = pd.DataFrame(rows)
        total = result["agent_hours"].sum()
        result.insert(2, "share", result["agent_hours"] / total if total > 0 else float("nan"))
        return result

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
