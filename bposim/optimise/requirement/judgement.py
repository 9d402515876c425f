"""What the search days say about a plan: the service levels, with more days where they are ambiguous, the
removals they do not support, and whether any staffing could meet a target.

Every plan is simulated on the same days (same seed: common random numbers), so two plans differ only by their
staffing. The service level of a call type in an interval is pooled over those days by the scenario's definition,
with a 95% confidence interval over days (`metrics.pooled_service_level`). While an interval is ambiguous (below
target by the point estimate but not beyond its interval) or a removal's margin is, the search days grow by
another `replications` days, up to 3 × `replications` (`evidence.SearchDays`). A removal is not supported when
the new run does not keep the 95% margin in the call types the group serves, or leaves the next interval (the
queue carries over) below target where it met it. When more agents stop helping, one run with every group at
BOUND_FACTOR × its Erlang number tells whether any staffing can meet the target; if not, RequirementError names
the call type and interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim.optimise.days import Simulator
from bposim.optimise.evidence import SearchDays, ambiguous
from bposim.optimise.requirement.erlang_start import BOUND_FACTOR, Centre
from bposim.optimise.requirement.result import RequirementError


class Judge:
    """The search days of one seed, and the verdicts the search takes on them."""

    def __init__(self, centre: Centre, seed: int, replications: int, simulator: Simulator | None = None) -> None:
        self.centre = centre
        self.days = SearchDays(seed, replications, simulator=simulator)
        self.saturation_checked = False

    @property
    def simulations(self) -> int:
        """Days simulated so far."""
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
            unclear = ambiguous(level, half, c.targets[:, None]) & (offered > 0) & ~c.exempt[None, :]
            for g, t in removed:
                mine = c.own[g] & (offered[:, t] > 0)
                unclear[:, t] |= mine & (level[:, t] >= c.targets) & (level[:, t] - half[:, t] < c.targets)
            if not unclear.any() or not self.days.extend():
                return level, half, offered, busy

    def failed(self, removed, level, half, kept, offered) -> dict[tuple[int, int], int]:
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
                later = c.own[g] & (offered[:, t + 1] > 0) & ~c.exempt[t + 1]
                weak = weak | (later & (level[:, t + 1] < targets) & (kept[:, t + 1] >= targets))
                weak = weak | (later & (level[:, t + 1] + half[:, t + 1] < targets))
            if weak.any():
                failed[(g, t)] = count
        return failed

    def check_saturation(self) -> None:
        """Once: simulate every group at its bound; a call type short even then cannot be met."""
        if self.saturation_checked:
            return
        self.saturation_checked = True
        c = self.centre
        level, half, offered, _ = self.simulate(c.bound)
        short = (offered > 0) & (level + half < c.targets[:, None]) & ~c.exempt[None, :]
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
