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

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

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


class CohortWeek(NamedTuple):
    """One cohort in one week it is employed: agents joining (a class's first week), present, leaving."""

    week: int
    cohort: Cohort
    joined: int
    present: int
    attrition: int
    washouts: int


def cohort_weeks(plan: CapacityPlan, seed: int, replication: int) -> Iterator[CohortWeek]:
    """Play one replication: each week, each cohort employed that week (in the plan's cohort order), with its
    joiners, agents present and leavers drawn from its own stream."""
    crew = cohorts(plan, seed, replication)
    for week in range(plan.weeks):
        for cohort in crew:
            joined = 0
            if cohort.hiring is not None and cohort.hired == week:
                cohort.agents = joined = cohort.hiring.size
            if cohort.hired > week or cohort.agents == 0:
                continue
            present = cohort.agents
            leave = tenure_value(plan.attrition, week - cohort.hired, "weekly_probability", 0.0)
            attrition = int(cohort.stream.binomial(present, leave))
            washouts = 0
            if cohort.hiring is not None and week - cohort.hired == cohort.hiring.training_weeks - 1:
                washouts = int(cohort.stream.binomial(present - attrition, 1.0 - cohort.hiring.graduation_rate))
            cohort.agents = present - attrition - washouts
            yield CohortWeek(week, cohort, joined, present, attrition, washouts)


def plan_groups(plan: CapacityPlan) -> list[str]:
    """The plan's groups: those of its starting headcount, then those only its classes hire into."""
    return list(dict.fromkeys([s.group for s in plan.headcount] + [h.group for h in plan.hiring_classes]))


def headcount(plan: CapacityPlan, seed: int, replication: int) -> pd.DataFrame:
    """One replication's headcount table (`COLUMNS`), one row per week and group in the plan's group order."""
    groups = plan_groups(plan)
    tally = {(week, group): dict.fromkeys(COLUMNS[3:], 0.0) for week in range(plan.weeks) for group in groups}
    for step in cohort_weeks(plan, seed, replication):
        cohort, own = step.cohort, tally[step.week, step.cohort.group]
        own["hires"] += step.joined
        own["start"] += step.present - step.joined
        own[cohort.phase(step.week)] += step.present
        own["productive"] += step.present * cohort.productivity(step.week, plan)
        own["attrition"] += step.attrition
        own["washouts"] += step.washouts
        own["end"] += step.present - step.attrition - step.washouts
    rows = [{"replication": replication, "week": week, "group": group, **own} for (week, group), own in tally.items()]
    table = pd.DataFrame(rows, columns=COLUMNS)
    counts = ["start", "hires", "attrition", "washouts", "end", "training", "nesting", "tenured"]
    return table.astype(dict.fromkeys(counts, "int64"))


def tenure_headcount(
    plan: CapacityPlan, seed: int, replication: int, edges: tuple[int, ...] = (12, 26, 52)
) -> pd.DataFrame:
    """One replication's agents present per week, group and tenure band (weeks since hire: [0, 12), [12, 26), ...,
    52+ with the default `edges`), the same agents as `headcount` (same seed, same draws)."""
    labels = [f"{low}-{high} weeks" for low, high in zip((0, *edges), edges, strict=False)] + [f"{edges[-1]}+ weeks"]
    groups = plan_groups(plan)
    tally = {(week, group, label): 0 for week in range(plan.weeks) for group in groups for label in labels}
    for step in cohort_weeks(plan, seed, replication):
        band = sum(step.week - step.cohort.hired >= edge for edge in edges)
        tally[step.week, step.cohort.group, labels[band]] += step.present
    rows = [
        {"replication": replication, "week": week, "group": group, "tenure": label, "agents": agents}
        for (week, group, label), agents in tally.items()
    ]
    return pd.DataFrame(rows, columns=["replication", "week", "group", "tenure", "agents"])
