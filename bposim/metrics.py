"""KPIs computed from the flat tables of a run, by small pure functions a planner can read and redo.

Definitions (all times in seconds; calls that arrive during the warm-up are left out of every KPI):

- offered: call attempts that arrived (answered + abandoned + blocked + unserved). A retrial is a new attempt.
- answered_within_threshold: answered with wait ≤ the call type's threshold.
- abandoned_within_threshold: abandoned with wait ≤ the threshold ("short abandons").
- service_level, by the scenario's `service_level.definition`:
  ``offered``: answered within T / offered;
  ``answered``: answered within T / answered;
  ``offered_less_short_abandons``: answered within T / (offered − abandoned within T).
- asa_seconds: mean wait of answered calls. aht_seconds: mean talk + wrap-up of answered calls.
- abandon_rate: abandoned / offered.
- occupancy: busy (talk + wrap-up) seconds / logged-in seconds of the agents concerned; per call type, of the
  agents holding that skill.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

COUNTS = (
    "offered", "answered", "abandoned", "blocked", "unserved", "answered_within_threshold",
    "abandoned_within_threshold",
)  # fmt: skip
SUMMARY_KEYS = (
    *COUNTS, "service_level", "asa_seconds", "aht_seconds", "abandon_rate", "occupancy",
)  # fmt: skip
SERVICE_LEVEL_DEFINITIONS = ("offered", "answered", "offered_less_short_abandons")


def call_counts(calls: pd.DataFrame, thresholds: dict[str, float]) -> dict[str, np.ndarray]:
    """Per call attempt, a 0/1 indicator for each count in COUNTS, plus the wait and work of answered calls."""
    categories = calls["call_type"].cat.categories
    threshold = np.array([thresholds[name] for name in categories], dtype=float)[calls["call_type"].cat.codes]
    outcome = calls["outcome"].to_numpy()
    wait = calls["wait"].to_numpy()
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    return {
        "offered": np.ones(len(calls)),
        "answered": answered,
        "abandoned": abandoned,
        "blocked": outcome == "blocked",
        "unserved": outcome == "unserved",
        "answered_within_threshold": answered & (wait <= threshold),
        "abandoned_within_threshold": abandoned & (wait <= threshold),
        "wait_answered_seconds": np.where(answered, wait, 0.0),
        "work_seconds": np.where(answered, calls["handle_seconds"] + calls["wrap_seconds"], 0.0),
    }


def summed(indicators: dict[str, np.ndarray], cells: np.ndarray, n_cells: int) -> pd.DataFrame:
    """Sum every indicator over the cells (0..n_cells-1) that each call attempt belongs to."""
    return pd.DataFrame({
        key: (np.bincount(cells, weights=np.asarray(values, dtype=float), minlength=n_cells).round().astype(np.int64)
              if key in COUNTS else np.bincount(cells, weights=values, minlength=n_cells))
        for key, values in indicators.items()
    })  # fmt: skip


def service_level(within, offered, answered, short_abandons, definition: str):
    """The service level under one of the three definitions (NaN where the denominator is 0)."""
    denominators = {
        "offered": offered,
        "answered": answered,
        "offered_less_short_abandons": np.subtract(offered, short_abandons),
    }
    if definition not in denominators:
        raise ValueError(f"unknown service-level definition '{definition}'; known: {SERVICE_LEVEL_DEFINITIONS}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(np.asarray(within, dtype=float), np.asarray(denominators[definition], dtype=float))


def with_rates(sums: pd.DataFrame, definition: str) -> pd.DataFrame:
    """Add service_level, asa_seconds, aht_seconds and abandon_rate to a frame of summed counts."""
    out = sums.drop(columns=["wait_answered_seconds", "work_seconds"])
    answered = sums["answered"].to_numpy(float)
    out["service_level"] = service_level(
        sums["answered_within_threshold"], sums["offered"], sums["answered"], sums["abandoned_within_threshold"],
        definition,
    )  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        out["asa_seconds"] = sums["wait_answered_seconds"].to_numpy(float) / answered
        out["aht_seconds"] = sums["work_seconds"].to_numpy(float) / answered
        out["abandon_rate"] = sums["abandoned"].to_numpy(float) / sums["offered"].to_numpy(float)
    return out


def kpi_tables(
    calls: pd.DataFrame, thresholds: dict[str, float], definition: str, days: int, intervals: int
) -> tuple[pd.DataFrame, dict, dict[str, dict]]:
    """KPIs per (day, interval, call type) with every cell present, overall, and per call type.

    Calls that arrived during the warm-up are left out. Occupancy is not included (see `occupancy`).
    """
    kept = calls[~calls["warmup"].to_numpy()]
    types = kept["call_type"].cat.categories
    type_codes = kept["call_type"].cat.codes.to_numpy().astype(np.int64)
    indicators = call_counts(kept, thresholds)
    cells = (kept["day"].to_numpy() * intervals + kept["interval"].to_numpy()) * len(types) + type_codes
    sums = summed(indicators, cells, days * intervals * len(types))
    grid = pd.MultiIndex.from_product([range(days), range(intervals), range(len(types))])
    keys = pd.DataFrame({
        "day": grid.get_level_values(0), "interval": grid.get_level_values(1),
        "call_type": pd.Categorical.from_codes(grid.get_level_values(2), categories=types),
    })  # fmt: skip
    table = pd.concat([keys, with_rates(sums, definition)], axis=1)
    per_type_sums = sums.groupby(np.tile(np.arange(len(types)), days * intervals)).sum()
    per_type = with_rates(per_type_sums, definition)
    overall = with_rates(per_type_sums.sum().to_frame().T, definition)
    return table, _clean(overall.iloc[0]), {name: _clean(per_type.iloc[i]) for i, name in enumerate(types)}


def agent_table(calls: pd.DataFrame, sessions: pd.DataFrame, window_start) -> pd.DataFrame:
    """Per agent: calls handled, busy, logged-in and idle seconds, occupancy, counted after the warm-up.

    `calls["agent"]` and `sessions["agent"]` are categoricals over the same agent names, `sessions["group"]`
    gives each session's group; `window_start(times)` says when statistics start on each time's day.
    """
    names = sessions["agent"].cat.categories
    answered = calls[calls["outcome"].to_numpy() == "answered"]
    codes = answered["agent"].cat.codes.to_numpy()
    begin = answered["answer"].to_numpy()
    window = window_start(begin)
    start = np.maximum(begin, window)
    busy = np.clip((answered["end"] + answered["wrap_seconds"]).to_numpy() - start, 0.0, None)
    login = sessions["login"].to_numpy()
    logged = np.clip(sessions["logout"].to_numpy() - np.maximum(login, window_start(login)), 0.0, None)
    session_codes = sessions["agent"].cat.codes.to_numpy()
    group_of = np.empty(len(names), dtype=object)
    group_of[session_codes] = sessions["group"].to_numpy()
    table = pd.DataFrame({
        "agent": names,
        "group": group_of,
        "calls_handled": np.bincount(codes[begin >= window], minlength=len(names)),
        "busy_seconds": np.bincount(codes, weights=busy, minlength=len(names)),
        "logged_in_seconds": np.bincount(session_codes, weights=logged, minlength=len(names)),
    })  # fmt: skip
    table.insert(4, "idle_seconds", table["logged_in_seconds"] - table["busy_seconds"])
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = table["busy_seconds"] / table["logged_in_seconds"]
    return table


def occupancy(agents: pd.DataFrame, groups: list[str] | None = None) -> float:
    """Busy over logged-in seconds of the agents (of the given groups)."""
    if groups is not None:
        agents = agents[agents["group"].isin(groups)]
    return _ratio(agents["busy_seconds"].sum(), agents["logged_in_seconds"].sum())


def mean_and_ci(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean over replications and the half-width of its Student-t confidence interval (NaN for one)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(data) == 0:
        return math.nan, math.nan
    if len(data) < 2:
        return float(data[0]), math.nan
    half = scipy_stats.t.ppf(0.5 + confidence / 2, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data))
    return float(data.mean()), float(half)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def _clean(row) -> dict:
    return {
        key: (int(value) if key in COUNTS else float(value))
        for key, value in dict(row).items()
        if key in SUMMARY_KEYS
    }
