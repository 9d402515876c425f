"""A roster judged by simulation: the service level per call type and interval pooled over days, with its 95%
confidence interval, and the intervals the days show below target.

`interval_service_levels` and `call_type_service_levels` read a run (the verification's fresh days);
`search_levels` simulates a roster scenario on the loop's search days, with more days while an interval (or a
deferred call type over the horizon) is undecided, and `search_misses` picks the intervals the loop raises.
Intervals an exempt maintenance window overlaps (`tools[].maintenance[].exempt`, the intervals table's `exempt`)
are outside the objective: met whatever their level, never raised, named by `exempt_text`.
Deferred work (email, case) has no intervals: it is judged per call type over the judged days
(`bposim.optimise.deferred`), by `search_deferred` and `deferred_misses` on the search days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.optimise.deferred import deferred_levels
from bposim.optimise.evidence import SearchDays, clearly_short, undecided
from bposim.scenario import Scenario

if TYPE_CHECKING:
    from bposim.run import Run

ACHIEVED_COLUMNS = [
    "call_type",
    "interval",
    "interval_start",
    "offered",
    "service_level",
    "service_level_ci",
    "target",
    "met",
]


def interval_service_levels(run: Run) -> pd.DataFrame:
    """Per call type and interval of the day: calls offered per day, the service level pooled over the days with
    its 95% confidence half-width (`metrics.pooled_service_level`), the target and whether it is met (the target
    inside or below the interval)."""
    table = run.intervals if "replication" in run.intervals else run.intervals.assign(replication=0)
    levels = interval_levels(table, run.scenario)
    return levels[[*ACHIEVED_COLUMNS, *(["exempt"] if "exempt" in levels else [])]]


def interval_levels(intervals: pd.DataFrame, scenario: Scenario, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """`interval_service_levels` from an intervals table (one row per replication, day, interval, call type),
    with the standard error as well; pooled per `keys` too when given (e.g. the kind of day). With exempt
    maintenance windows, `exempt` says which intervals they overlap: outside the objective, met whatever their
    level."""
    keys = [*keys, "call_type", "interval", "interval_start"]
    pooled = metrics.pooled_service_level(intervals, keys, scenario.service_level.definition)
    result = pooled[["service_level", "service_level_se", "service_level_ci"]].copy()
    result.insert(0, "offered", pooled["offered"] / pooled["days"])
    grouped = intervals.groupby(keys, observed=True, sort=True)
    result["target"] = grouped["target"].first()
    exempt = "exempt" in intervals
    if exempt:
        result["exempt"] = grouped["exempt"].first().astype(bool)
    result = result.reset_index()
    result["met"] = ~clearly_short(result["service_level"], result["service_level_ci"], result["target"])
    if exempt:
        result["met"] |= result["exempt"]
    return result[[*keys[:-3], *ACHIEVED_COLUMNS, "service_level_se", *(["exempt"] if exempt else [])]]


def call_type_service_levels(run: Run) -> pd.DataFrame:
    """Per call type over the day: offered per day, service level with 95% CI half-width, target, met, channel. A
    deferred call type (email, case): items arrived per day, and the share of the items due over the run's days
    done by their due time, pooled over its replications (`deferred.deferred_levels`; met unless clearly short)."""
    rows = []
    deferred = deferred_levels(run.backlog, run.scenario).set_index("call_type") if len(run.backlog) else pd.DataFrame()
    for call_type in run.scenario.call_types:
        kpis = run.summary["by_call_type"][call_type.name]
        if not call_type.live:
            rows.append(_deferred_row(run, call_type, kpis, deferred))
            continue
        level, half = kpis["service_level"], kpis.get("service_level_ci", np.nan)
        target = run.scenario.service_level_for(call_type)[1]
        rows.append(
            {
                "call_type": call_type.name,
                "offered": kpis["offered"] / run.scenario.horizon.days,
                "service_level": level,
                "service_level_ci": half,
                "target": target,
                "met": not (level + (0 if np.isnan(half) else half) < target),
            }
        )
    columns = ["call_type", "offered", "service_level", "service_level_ci", "target", "met"]
    channels = [call_type.channel for call_type in run.scenario.call_types]
    return pd.DataFrame(rows, columns=columns).assign(channel=channels)


def _deferred_row(run: Run, call_type, kpis: dict, deferred: pd.DataFrame) -> dict:
    """A deferred call type's row of `call_type_service_levels`: pooled from the backlog table when the run has
    one, else the summary's mean over replications."""
    pooled = call_type.name in deferred.index
    level = deferred.loc[call_type.name, "service_level"] if pooled else kpis["service_level"]
    half = deferred.loc[call_type.name, "service_level_ci"] if pooled else kpis.get("service_level_ci", np.nan)
    target = run.scenario.service_level_for(call_type)[1]
    return {
        "call_type": call_type.name,
        "offered": kpis["arrived"] / run.scenario.horizon.days,
        "service_level": level,
        "service_level_ci": half,
        "target": target,
        "met": not (level + (0 if np.isnan(half) else half) < target),
    }


def search_levels(days: SearchDays, rostered: Scenario) -> pd.DataFrame:
    """The roster's service levels on the search days, with another batch of days while an interval, or a
    deferred call type over the judged days, is undecided (its 95% confidence interval holds the target, on either
    side)."""
    while True:
        achieved = interval_levels(days.tables(rostered)[0], rostered)
        unclear = undecided(achieved["service_level"], achieved["service_level_ci"], achieved["target"])
        deferred = search_deferred(days, rostered)
        unclear_deferred = undecided(deferred["service_level"], deferred["service_level_ci"], deferred["target"])
        if not (unclear.any() or unclear_deferred.any()) or not days.extend():
            return achieved.assign(days_spent=days.batches >= days.max_batches)


def search_deferred(days: SearchDays, rostered: Scenario) -> pd.DataFrame:
    """Per deferred call type, the share of the items due over the judged days done by their due time on the
    search days in use (`deferred.deferred_levels`), with `days_spent`; empty without deferred work."""
    levels = deferred_levels(days.backlog(rostered), rostered)
    return levels.assign(days_spent=days.batches >= days.max_batches)


def deferred_misses(levels: pd.DataFrame) -> pd.DataFrame:
    """Deferred call types below target on the search days: clearly, or by more than one standard error once the
    search days can grow no more (as `search_misses`)."""
    level, target = levels["service_level"], levels["target"]
    short = levels["short"].astype(bool).to_numpy()
    if len(levels) and levels["days_spent"].all():
        short = short | np.asarray(level + levels["service_level_se"].fillna(np.inf) < target, bool)
    return levels[short]


def search_misses(achieved: pd.DataFrame) -> pd.DataFrame:
    """Intervals below target on the search days: clearly (the whole 95% confidence interval below it), or, once
    the search days can grow no more, by more than one standard error (the evidence there is to have)."""
    level, target = achieved["service_level"], achieved["target"]
    short = clearly_short(level, achieved["service_level_ci"], target)
    if "days_spent" in achieved and achieved["days_spent"].all():
        short = short | np.asarray(level + achieved["service_level_se"].fillna(np.inf) < target, bool)
    if "exempt" in achieved:  # exempt maintenance: outside the objective, never raised
        short = short & ~achieved["exempt"].to_numpy(bool)
    return achieved[short]


def exempt_text(achieved: pd.DataFrame) -> str:
    """E.g. "2 exempt intervals (planned maintenance: 19:30, 20:00) not judged"; "" without exempt intervals."""
    if "exempt" not in achieved or not achieved["exempt"].any():
        return ""
    labels = achieved.loc[achieved["exempt"].astype(bool), "interval_start"].astype(str)
    starts = sorted({label.split()[-1] for label in labels})  # the time of day ("sat 12:00" per kind of day)
    count = len(starts)
    return f"{count} exempt interval{'' if count == 1 else 's'} (planned maintenance: {', '.join(starts)}) not judged"


def worst_first(missed: pd.DataFrame) -> pd.DataFrame:
    """Intervals below target with `gap` = target − service level, the furthest below first."""
    return missed.assign(gap=missed["target"] - missed["service_level"]).sort_values("gap", ascending=False)
