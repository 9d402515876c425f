"""Deferred work (email, case) as the optimiser judges it: by what the contract measures, the share of the items
due that were completed by their due time, over the days of the horizon.

A day's deferred result depends on the days before it (the backlog carries over the nights, and the first day holds
the initial backlog, whose overdue items no staffing can meet), so the optimiser does not judge day by day: per
deferred call type it pools the items due over all the days of a replication (`met_due` and `due` of the run's
backlog table, summed over its days) and over the replications, R = Σ met_due / Σ due, with a 95% confidence
interval by the delta method over replications (`metrics.pooled_service_level`: replications, not days or items,
are independent). A call type is short when the whole interval lies below its target, as a live interval is.

The days judged are the scenario's, or more when its first day's items would not fall due within them
(`judged_days`): on a one-day horizon, email due in 24 hours falls due after the horizon and the
backlog table would count none of it, so a one-day scenario with such work is simulated for two days (three for a
48-hour due time), the same day repeated: the day's items fall due on the next, and what the plan leaves undone
shows. A due time of a few hours falls within the day and needs no more. A scenario without deferred work is
simulated as it is.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.formatting import share
from bposim.scenario import SECONDS_PER_DAY, Scenario

COLUMNS = ["call_type", "channel", "due", "met_due", "service_level", "service_level_se", "service_level_ci"]


def has_deferred(scenario: Scenario) -> bool:
    """Whether the scenario has email or case work."""
    return any(not call_type.live for call_type in scenario.call_types)


def judged_days(scenario: Scenario) -> int:
    """Days over which deferred work is planned and judged: the scenario's, or more when its first day's items would
    fall due after them (the backlog table counts an item due on a day when its due time falls before the next
    opening, the last day's running 24 h: a due time of θ needs ceil((open hours + θ) / 24 h) days). A horizon open
    more than a day has one day and is left as it is."""
    horizon = scenario.horizon
    dues = [ct.due_seconds for ct in scenario.call_types if not ct.live]
    if not dues or horizon.open_seconds > SECONDS_PER_DAY:
        return horizon.days
    return max(horizon.days, math.ceil((horizon.open_seconds + max(dues)) / SECONDS_PER_DAY - 1e-9))


def judged(scenario: Scenario) -> Scenario:
    """The scenario over the days its deferred work is judged on (itself when that is its horizon)."""
    days = judged_days(scenario)
    return scenario if days == scenario.horizon.days else scenario.updated({"horizon.days": days})


def deferred_levels(backlog: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per deferred call type: items due and met over the days and replications of a backlog table (one row per
    replication, day and deferred call type), the pooled share met with its standard error and 95% half-width
    over replications, the target, and `short` (the whole interval below the target; not when nothing was due).
    Call types in the scenario's order; empty without deferred work."""
    kinds = [ct for ct in scenario.call_types if not ct.live]
    if not kinds:
        return pd.DataFrame(columns=[*COLUMNS, "target", "short"])
    table = backlog if "replication" in backlog else backlog.assign(replication=0)
    per_replication = table.groupby(["call_type", "replication"], observed=True)[["due", "met_due"]].sum().reset_index()
    counts = pd.DataFrame(
        {
            "call_type": per_replication["call_type"].astype(str),
            "offered": per_replication["due"].to_numpy(float),
            "answered": per_replication["due"].to_numpy(float),
            "answered_within_threshold": per_replication["met_due"].to_numpy(float),
            "abandoned_within_threshold": 0.0,
        }
    )
    pooled = metrics.pooled_service_level(counts, ["call_type"], "offered")
    names = [ct.name for ct in kinds]
    pooled = pooled.reindex(names)
    result = pd.DataFrame(
        {
            "call_type": names,
            "channel": [ct.channel for ct in kinds],
            "due": pooled["offered"].fillna(0).to_numpy(np.int64),
            "met_due": pooled["within"].fillna(0).to_numpy(np.int64),
            "service_level": pooled["service_level"].to_numpy(float),
            "service_level_se": pooled["service_level_se"].to_numpy(float),
            "service_level_ci": pooled["service_level_ci"].to_numpy(float),
            "target": [scenario.service_level_for(ct)[1] for ct in kinds],
        }
    )
    with np.errstate(invalid="ignore"):  # as `evidence.clearly_short`: NaN (nothing due) is not short
        result["short"] = result["service_level"] + result["service_level_ci"].fillna(0) < result["target"]
    return result


def shortfall_text(levels: pd.DataFrame, days: int) -> str:
    """E.g. ``email_en 84.0% ± 2.1% of the items due over 5 days done by their due time < 90%``; "" when no
    deferred call type is short."""
    short = levels[levels["short"].astype(bool)]
    return "; ".join(
        f"{row.call_type} {share(row.service_level, row.service_level_ci)} of the items due over {days} "
        f"day{'' if days == 1 else 's'} done by their due time < {share(row.target, digits=0)}"
        for row in short.itertuples(index=False)
    )
