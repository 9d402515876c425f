"""Headcount week by week: cohorts of agents hired together, ageing in tenure, leaving at random.

A cohort is either a tenure band of the plan's starting headcount or a hiring class. Each week, in this order:
a class starting that week joins (hires); every agent present may leave with the weekly attrition probability of
their tenure band (attrition, a binomial draw per cohort); at the end of a class's last training week a share
1 − graduation_rate of those left wash out (washouts). So, per group and week, end = start + hires − attrition −
washouts, and the next week starts with this week's end. Agents present during a week are its start plus its
hires; they are all paid. A class is off the phones while training, then nesting (productivity ramping linearly
from nesting_proficiency[0] in its first nesting week to [1] in its last), then tenured: productivity from
proficiency_by_tenure (1 where no band holds the tenure). Starting agents are tenured.

Each cohort draws from its own random stream (seed, replication, cohort), so changing the hiring classes leaves the
starting agents' leavers as they were (common random numbers across what-ifs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim.scenario.capacity import CapacityPlan, HiringClass

COLUMNS = [
    "replication",
    "week",
    "group",
    "start",
    "hires",
    "attrition",
    "washouts",
    "end",
    "training",
    "nesting",
    "tenured",
    "productive",
]
"""The headcount table: agents at the week's start, joining, leaving (attrition, washouts) and at its end; agents
present in training, nesting and tenured; productive heads (agents on the phones × productivity)."""

_CLASS_STREAMS = 1_000_000
"""Hiring classes' streams start here, after the starting bands' (so their numbering never meets)."""


@dataclass
class Cohort:
    """Agents of one group hired in the same week (`hired`: the plan week, negative for tenure before the plan)."""

    group: str
    hired: int
    agents: int
    stream: np.random.Generator
    hiring: HiringClass | None = None

    def phase(self, week: int) -> str:
        """training, nesting or tenured in plan week `week`."""
        tenure = week - self.hired
        if self.hiring is None or tenure >= self.hiring.training_weeks + self.hiring.nesting_weeks:
            return "tenured"
        return "training" if tenure < self.hiring.training_weeks else "nesting"

    def productivity(self, week: int, plan: CapacityPlan) -> float:
        """A present agent's share of a seasoned agent's calls handled in `week` (0 in training)."""
        phase, tenure = self.phase(week), week - self.hired
        if phase == "training":
            return 0.0
        if phase == "nesting":
            low, high = self.hiring.nesting_proficiency
            step = tenure - self.hiring.training_weeks
            return low + (high - low) * step / max(self.hiring.nesting_weeks - 1, 1)
        return tenure_value(plan.proficiency_by_tenure, tenure, "proficiency", 1.0)


def tenure_value(bands: list, tenure: int, field: str, default: float) -> float:
    """The value of the band [from, to) holding `tenure`, else `default`."""
    for band in bands:
        low, high = band.tenure_weeks
        if low <= tenure and (high is None or tenure < high):
            return getattr(band, field)
    return default


def cohorts(plan: CapacityPlan, seed: int, replication: int) -> list[Cohort]:
    """The plan's cohorts for one replication, each with its own stream."""
    found = []
    stream = 0
    for start in plan.headcount:
        for band in start.bands:
            rng = np.random.default_rng([seed, replication, 1, stream])
            found.append(Cohort(start.group, -band.tenure_weeks, band.agents, rng))
            stream += 1
    for n, hiring in enumerate(plan.hiring_classes):
        rng = np.random.default_rng([seed, replication, 1, _CLASS_STREAMS + n])
        found.append(Cohort(hiring.group, plan.week_of(hiring.start_date), 0, rng, hiring))
    return found


def headcount(plan: CapacityPlan, seed: int, replication: int) -> pd.DataFrame:
    """One replication's headcount table (`COLUMNS`), one row per week and group in the plan's group order."""
    groups = list(dict.fromkeys([s.group for s in plan.headcount] + [h.group for h in plan.hiring_classes]))
    crew = cohorts(plan, seed, replication)
    rows = []
    for week in range(plan.weeks):
        tally = {group: dict.fromkeys(COLUMNS[3:], 0.0) for group in groups}
        for cohort in crew:
            if cohort.hiring is not None and cohort.hired == week:
                cohort.agents = cohort.hiring.size
                tally[cohort.group]["hires"] += cohort.agents
            elif cohort.hired <= week:
                tally[cohort.group]["start"] += cohort.agents
            if cohort.hired > week or cohort.agents == 0:
                continue
            present = cohort.agents
            tally[cohort.group][cohort.phase(week)] += present
            tally[cohort.group]["productive"] += present * cohort.productivity(week, plan)
            leave = tenure_value(plan.attrition, week - cohort.hired, "weekly_probability", 0.0)
            attrition = int(cohort.stream.binomial(present, leave))
            washouts = 0
            if cohort.hiring is not None and week - cohort.hired == cohort.hiring.training_weeks - 1:
                washouts = int(cohort.stream.binomial(present - attrition, 1.0 - cohort.hiring.graduation_rate))
            cohort.agents = present - attrition - washouts
            tally[cohort.group]["attrition"] += attrition
            tally[cohort.group]["washouts"] += washouts
            tally[cohort.group]["end"] += cohort.agents
        rows += [{"replication": replication, "week": week, "group": group, **tally[group]} for group in groups]
    table = pd.DataFrame(rows, columns=COLUMNS)
    counts = ["start", "hires", "attrition", "washouts", "end", "training", "nesting", "tenured"]
    return table.astype(dict.fromkeys(counts, "int64"))
