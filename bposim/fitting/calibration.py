"""Does the fitted model reproduce the history? The fitted scenario is run over the history's own dates and its
KPIs per day set beside the history's.

The replay keeps the fitted centre (handle times, wrap-up, patience, balking, agents, hours) and gives each date
the calls the history says it had: every history date gets its own curve (`arrivals.by_date`, the offered calls
of each interval as a rate), busyness is left out (the day's volume is known), dates of open weekdays the history
lacks are closed. What is left to compare is what the model adds: the queue. Per call type and date, history and
simulation (the replications pooled): offered, service level (answered within the threshold over offered, as the
history's column, when it has one), abandonment (abandoned and balked over offered: an ACD counts a caller who
hung up at once as abandoned) and the mean wait of answered calls (when the history has it).
"""

from __future__ import annotations

import copy
import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from bposim.fitting.forecast import Grid
from bposim.scenario import Scenario


def replay_scenario(data: dict, history: pd.DataFrame, grid: Grid, base_dir: Path) -> Scenario:
    """The fitted scenario's data over the history's dates, each date with its history's calls."""
    replay = copy.deepcopy(data)
    first = history["date"].min().date()
    last = history["date"].max().date()
    span = (last - first).days + 1
    seen = {day.date() for day in history["date"].unique()}
    horizon = replay["horizon"]
    horizon.pop("weeks", None)
    horizon.update(start_date=first, days=span)
    probe = Scenario.model_validate(
        {**replay, "horizon": {**horizon, "closed_dates": []}}, context={"base_dir": str(base_dir)}
    )
    week = probe.horizon.week
    closed = [
        first + datetime.timedelta(days=d)
        for d in range(span)
        if (first + datetime.timedelta(days=d)) not in seen and week[(first + datetime.timedelta(days=d)).weekday()]
    ]
    if closed:
        horizon["closed_dates"] = closed
    else:
        horizon.pop("closed_dates", None)
    replay.pop("busyness", None)
    per_hour = 3600.0 / grid.interval_seconds
    for call_type, rows in history.groupby("call_type"):
        entry = next(entry for entry in replay["call_types"] if entry["name"] == call_type)
        by_date = {}
        for date, day in rows.groupby("date"):
            curve = np.zeros(grid.intervals)
            curve[day["interval"].to_numpy()] = day["offered"].to_numpy() * per_hour
            by_date[date.date()] = {"per_interval": curve.tolist()}
        entry["arrivals"] = {"per_hour": 0, "by_date": by_date}
    return Scenario.model_validate(replay, context={"base_dir": str(base_dir)})


def _history_days(history: pd.DataFrame) -> pd.DataFrame:
    table = history.assign(
        within=history["service_level"] * history["offered"] if "service_level" in history else np.nan,
        waited=history["average_wait_seconds"] * history["handled"] if "average_wait_seconds" in history else np.nan,
    )
    days = table.groupby(["call_type", "date"], as_index=False)[
        ["offered", "handled", "abandoned", "within", "waited"]
    ].sum(min_count=1)
    return pd.DataFrame(
        {
            "call_type": days["call_type"],
            "date": days["date"],
            "offered_history": days["offered"],
            "service_level_history": days["within"] / days["offered"],
            "abandon_rate_history": days["abandoned"] / days["offered"],
            "asa_history": days["waited"] / days["handled"],
        }
    )


def _simulated_days(intervals: pd.DataFrame) -> pd.DataFrame:
    balked = intervals.get("balked", 0)
    table = intervals.assign(
        gone=intervals["abandoned"] + balked, waited=intervals["asa_seconds"].fillna(0) * intervals["answered"]
    )
    days = table.groupby(["call_type", "date"], as_index=False, observed=True)[
        ["offered", "answered", "answered_within_threshold", "gone", "waited"]
    ].sum()
    replications = intervals["replication"].nunique() if "replication" in intervals else 1
    return pd.DataFrame(
        {
            "call_type": days["call_type"].astype(str),
            "date": days["date"],
            "offered_simulated": days["offered"] / replications,
            "service_level_simulated": days["answered_within_threshold"] / days["offered"],
            "abandon_rate_simulated": days["gone"] / days["offered"],
            "asa_simulated": days["waited"] / days["answered"],
        }
    )


def compare_days(history: pd.DataFrame, scenario: Scenario, seed: int, replications: int) -> pd.DataFrame:
    """Per call type and date, the history's KPIs beside the replay's (see the module's docstring)."""
    from bposim.run import simulate

    run = simulate(scenario, seed=seed, replications=replications)
    intervals = run.intervals[run.intervals["call_type"].astype(str).isin(history["call_type"].unique())]
    merged = _history_days(history).merge(_simulated_days(intervals), on=["call_type", "date"], how="left")
    return merged.sort_values(["call_type", "date"]).reset_index(drop=True)
