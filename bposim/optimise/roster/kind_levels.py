"""A weekly roster judged per kind of day: the service level per kind, call type and interval, pooled over the
kind's dates and the days simulated (`requirement.day_kinds`).

Pooled over every date, a Saturday short of its target would hide among the weekdays that meet theirs; pooled per
kind, each kind of day is judged on its own dates, as its requirement was searched on its own day. The rows carry
`kind` (the index into the kinds) and `kind_label`; with several kinds, `interval_start` reads "sat 09:00" so that
the shortfalls name the kind.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim.optimise.evidence import SearchDays, undecided
from bposim.optimise.requirement.day_kinds import DayKind, kind_of_day
from bposim.optimise.roster.evaluation import interval_levels
from bposim.scenario import Scenario


def kind_levels(intervals: pd.DataFrame, scenario: Scenario, kinds: list[DayKind]) -> pd.DataFrame:
    """Per kind of day, call type and interval: offered per day, the service level pooled over the kind's dates and
    the replications with its 95% half-width and standard error, the target and met (`interval_levels`); closed
    days left out."""
    kind = kind_of_day(kinds, scenario.horizon.days)[intervals["day"].to_numpy()]
    table = intervals.assign(kind=kind)[kind >= 0]
    if "replication" not in table:
        table = table.assign(replication=0)
    levels = interval_levels(table, scenario, keys=("kind",))
    labels = np.array([day_kind.label for day_kind in kinds])[levels["kind"].to_numpy()]
    levels.insert(1, "kind_label", labels)
    if len(kinds) > 1:
        starts = levels["interval_start"]
        levels["interval_start"] = [f"{label} {start}" for label, start in zip(labels, starts, strict=True)]
    return levels


def search_kind_levels(days: SearchDays, rostered: Scenario, kinds: list[DayKind]) -> pd.DataFrame:
    """The roster's levels per kind on the search days, with another batch of days while one is undecided (its 95%
    confidence interval holds the target, on either side), and `days_spent`."""
    while True:
        achieved = kind_levels(days.tables(rostered)[0], rostered, kinds)
        unclear = undecided(achieved["service_level"], achieved["service_level_ci"], achieved["target"])
        if "exempt" in achieved:
            unclear = unclear & ~achieved["exempt"].to_numpy(bool)
        if not unclear.any() or not days.extend():
            return achieved.assign(days_spent=days.batches >= days.max_batches)
