"""The days the optimiser decides on: search days under common random numbers, extended where the data are
ambiguous, and a hold-out set for judging cuts.

Every plan is simulated on the same days (replications of one seed), so two plans differ only by their staffing. A
decision is taken on the service level pooled over those days with its 95% confidence interval
(`metrics.pooled_service_level`): an interval is *clearly short* when the whole interval lies below its target,
*ambiguous* when the point estimate is below the target but the interval reaches it, and *undecided* when the
interval holds the target on either side. While some interval is ambiguous (the requirement search) or undecided
(the roster loop, which must also tell a lucky pass from a real one), another batch of `replications` days is added
(up to MAX_BATCHES batches): the confidence interval narrows as 1/√days, so a real shortfall becomes clear and noise
stops looking like one. The search days are replications 0..R−1 of the seed, then 2R, 2R+1, ...: replications
R..2R−1 are the requirement's verification days. The roster loop searches on seed + LOOP_SEED_OFFSET and judges
trims on seed + HOLDOUT_SEED_OFFSET. Simulated days are cached by plan, so extending the days of a plan simulates
only the new ones, and a plan judged again (the loop's roster when a trim is undone) simulates none; the days a plan
needs are shared among the `days.Simulator`'s worker processes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim.optimise.days import Simulator
from bposim.optimise.deferred import judged
from bposim.scenario import Scenario

MAX_BATCHES = 3  # the search days grow to at most 3 × replications
HOLDOUT_SEED_OFFSET = 2_000  # hold-out days: another seed than the search's (seed) and the verification's (+1000)
LOOP_SEED_OFFSET = 3_000  # the roster loop's search days: not the days the requirement was tuned on


class SearchDays:
    """Replications of one seed, in batches of `replications`, simulated once per plan and day."""

    def __init__(
        self, seed: int, replications: int, max_batches: int = MAX_BATCHES, simulator: Simulator | None = None
    ) -> None:
        self.seed, self.replications, self.max_batches = seed, replications, max(1, max_batches)
        self.simulator = simulator or Simulator()
        self.batches = 1
        self.simulated = 0  # days simulated (a replication of a several-day horizon counts each day)
        self._cache: dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = {}

    @property
    def count(self) -> int:
        """Replications in use."""
        return self.batches * self.replications

    def extend(self) -> bool:
        """Add a batch of days, unless the budget is spent; say whether one was added."""
        if self.batches >= self.max_batches:
            return False
        self.batches += 1
        return True

    def indices(self) -> list[int]:
        n = self.replications
        return [r if r < n else r + n for r in range(self.count)]

    def tables(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The intervals and staffing tables of the scenario over the days in use (column `replication`)."""
        found = self._days(scenario)
        return pd.concat([day[0] for day in found], ignore_index=True), pd.concat(
            [day[1] for day in found], ignore_index=True
        )

    def backlog(self, scenario: Scenario) -> pd.DataFrame:
        """The backlog table of the scenario's deferred work over the days in use (column `replication`), over the
        judged days (`deferred.judged`); empty without deferred work."""
        return pd.concat([day[2] for day in self._days(scenario)], ignore_index=True)

    def _days(self, scenario: Scenario) -> list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
        """The tables of each replication in use, simulating those not simulated yet for this scenario."""
        key = scenario.model_dump_json()
        missing = [r for r in self.indices() if (key, r) not in self._cache]
        for r, found in zip(missing, self.simulator.tables(scenario, self.seed, missing), strict=True):
            self._cache[(key, r)] = found
        self.simulated += len(missing) * judged(scenario).horizon.days
        return [self._cache[(key, r)] for r in self.indices()]


def clearly_short(level, half, targets) -> np.ndarray:
    """The whole 95% confidence interval lies below the target (NaN levels, where nothing was offered, are not)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(level + np.nan_to_num(half) < targets, bool)


def ambiguous(level, half, targets) -> np.ndarray:
    """Below the target by the point estimate, but the 95% confidence interval reaches it: more days may tell."""
    with np.errstate(invalid="ignore"):
        return np.asarray((level < targets) & ~(level + np.nan_to_num(half) < targets), bool)


def undecided(level, half, targets) -> np.ndarray:
    """The 95% confidence interval holds the target: the days tell neither that it is met nor that it is missed."""
    with np.errstate(invalid="ignore"):
        half = np.nan_to_num(half)
        return np.asarray((level - half < targets) & (level + half >= targets), bool)


def holds_with_margin(level, half, targets) -> np.ndarray:
    """The whole 95% confidence interval lies at or above the target: a cut is supported."""
    with np.errstate(invalid="ignore"):
        return np.asarray(level - np.nan_to_num(half, nan=np.inf) >= targets, bool)
