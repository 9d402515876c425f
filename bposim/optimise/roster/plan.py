"""What the closed loop returns: the requirement, the chosen shifts, the roster scenario, and what it achieved."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bposim.files import write_text_atomically
from bposim.formatting import money
from bposim.optimise.roster.evaluation import worst_first
from bposim.optimise.schedule import Schedule
from bposim.scenario import Scenario, scenario_text

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement


@dataclass(frozen=True)
class RosterPlan:
    """An optimised roster: the requirement, the chosen shifts, the roster scenario, and what it achieved.

    `achieved` is per call type and interval, `by_call_type` per call type over the day, both from a verification
    run with fresh seeds (`verification_seed`): the service level pooled over the days with its 95% confidence
    half-width, the target, and `met` (the target is inside or below the confidence interval). `cost` is the
    verification run's mean total cost when the scenario has costs, else the roster's paid hours. `converged` says
    whether the last round of the loop left no interval clearly below target; `shortfall` says why not;
    `fresh_shortfall` says which intervals the verification found clearly below target, and by how much ("" when
    none), and `verified` whether every target held on both. `added` holds the agents the loop added to the
    requirement (group, interval, required); `simulations` counts simulated days, the requirement's, the
    hold-out's and the verification's included. `trim_trials` counts the trim trials spent after the loop
    converged, `trim_accepted` those kept, `trim_saving` what they saved on the shifts' cost (`cost_unit` of the
    schedule), and `trimmed` the agents they took off the requirement (group, interval, required).
    """

    requirement: Requirement
    schedule: Schedule
    scenario: Scenario
    achieved: pd.DataFrame
    by_call_type: pd.DataFrame
    cost: float
    cost_ci: float
    cost_unit: str
    rounds: int
    simulations: int
    converged: bool
    shortfall: str
    added: pd.DataFrame
    verification_seed: int
    trim_trials: int = 0
    trim_accepted: int = 0
    trim_saving: float = 0.0
    trimmed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["group", "interval", "required"]))
    fresh_shortfall: str = ""
    objective: str = "interval"
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def fresh_misses(self) -> pd.DataFrame:
        """The call types and intervals clearly below target on the fresh days (the whole 95% confidence interval
        below it), the furthest below first, with `gap` = target − service level."""
        return worst_first(self.achieved[~self.achieved["met"].astype(bool)])

    @property
    def verified(self) -> bool:
        """Every target held: the loop converged, and on the fresh days no interval and no call type over the day
        is clearly below its target."""
        pooled = self.periods[self.periods["period"] != "interval"] if len(self.periods) else self.periods
        periods_met = self.objective != "period" or bool(pooled["met"].astype(bool).all())
        return self.converged and self.fresh_misses.empty and bool(self.by_call_type["met"].all()) and periods_met

    @property
    def targets(self) -> str:
        """What the targets are held over, for the verdict: every interval, and email and case work over the
        horizon where the scenario has them."""
        deferred = [
            channel for channel in ("email", "case") if any(ct.channel == channel for ct in self.scenario.call_types)
        ]
        if self.objective == "period":
            held = "Every call type over its period (and every interval above its floor)"
            return held + (f", every {' and '.join(deferred)} type (over the horizon)" if deferred else "")
        if not deferred:
            return "Every interval"
        return f"Every interval and every {' and '.join(deferred)} type (over the horizon)"

    def to_yaml(self, path: str | Path) -> Path:
        """Write the roster scenario as a scenario file that `bposim run` accepts (whole or not at all)."""
        headcount = ", ".join(f"{group}: {n}" for group, n in self.schedule.headcount.items())
        header = (
            f"# Roster optimised by bposim staff: {sum(self.schedule.agents)} agents on "
            f"{len(self.schedule.agents)} shifts ({headcount}); cost {money(self.cost, self.cost_unit)}.\n"
        )
        path = Path(path)
        write_text_atomically(path, header + scenario_text(self.scenario, drop=("roster_file",)))
        return path
