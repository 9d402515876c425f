"""The loop's raise for deferred work (email, case): the fluid start solved again with more work than forecast.

When the search days show a deferred call type below its target over the judged days (`evaluation.deferred_misses`),
the loop cannot say in which interval an agent is missing, as it does for live work: the items that missed were due
at many moments, and what they lacked is agent time at any moment between their arrival and their due time. So it
asks the deferred start (`requirement.deferred_start`) for more: the call type's arrivals × (1 + margin), the margin
growing by the shortfall (target − share met) with at least MARGIN_STEP, twice as much each round the call type
misses again, and only the scheduled groups may take added agents. The programme places the extra time where it
placed the rest, before the due times and where it costs least; the loop's requirement for deferred work is the new
solution in place of the start (`delta`, whole agents per scheduled group and interval, which can be negative where
the new plan moved agents elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement

MARGIN_STEP = 0.05  # a missed deferred call type's arrivals grow by at least 5% of the forecast a round


class MarginRaises:
    """The margins on the deferred call types' arrivals and the plan they give, relative to the start: what the
    daily loop (`DeferredMargins`) and the weekly one (`deferred_weeks.WeeklyDeferred`) share. A subclass sets
    `names`, `margins`, `streak` and `delta`, and says how the plan is solved again (`solved`)."""

    names: list[str]
    margins: np.ndarray
    streak: np.ndarray
    delta: np.ndarray

    def solved(self) -> np.ndarray:
        """The deferred plan at the present margins, less the start (raises ValueError when none is found)."""
        raise NotImplementedError

    def raise_for(self, misses: pd.DataFrame) -> list[str]:
        """Raise the margins of the missed call types and solve again; returns the call types whose raise changes
        no scheduled group's requirement (no scheduled group can take them)."""
        if not self.names or misses.empty:
            if self.names:
                self.streak[:] = 0
            return [str(name) for name in misses.get("call_type", [])]
        missed = np.zeros(len(self.names), bool)
        for row in misses.itertuples(index=False):
            k = self.names.index(row.call_type)
            missed[k] = True
            gap = float(row.target - row.service_level) if np.isfinite(row.service_level) else MARGIN_STEP
            self.margins[k] += max(MARGIN_STEP, gap) * 2.0 ** self.streak[k]
        self.streak = np.where(missed, self.streak + 1, 0)
        try:
            solved = self.solved()
        except ValueError:
            return [str(name) for name in misses["call_type"]]
        if np.array_equal(solved, self.delta):
            return [str(name) for name in misses["call_type"]]
        self.delta = solved.astype(float)
        return []

    def margins_text(self) -> str:
        """E.g. ``email_en +10%, backoffice_case +5%``: the margins raised so far; "" when none is."""
        if not self.names:
            return ""
        return ", ".join(f"{n} +{m:.0%}" for n, m in zip(self.names, self.margins, strict=True) if m > 0)


class DeferredMargins(MarginRaises):
    """The deferred part of the loop's requirement, per scheduled group and interval, relative to the start."""

    def __init__(self, requirement: Requirement, groups: list[str], intervals: int) -> None:
        self.model = getattr(requirement, "deferred", None)  # a requirement from elsewhere may have no deferred start
        plan = getattr(requirement, "deferred_plan", None)
        self.delta = np.zeros((len(groups), intervals))
        self.names: list[str] = []
        if self.model is None or plan is None or not self.model.types:
            return
        self.names = [kind.name for kind in self.model.types]
        self.rows = [self.model.groups.index(name) for name in groups]
        self.allowed = np.isin(self.model.groups, groups)
        self.start = plan.extra[self.rows]
        self.margins = np.zeros(len(self.names))
        self.streak = np.zeros(len(self.names), int)

    def solved(self) -> np.ndarray:
        return self.model.solve(self.margins, allowed=self.allowed).extra[self.rows] - self.start

    def floor(self) -> np.ndarray:
        """The agents the deferred plan adds per scheduled group and interval (the start with its raises): the trim
        takes none of them."""
        if not self.names:
            return np.zeros_like(self.delta)
        return np.clip(self.start + self.delta, 0, None)
