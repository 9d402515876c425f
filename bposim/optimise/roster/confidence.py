"""Risk, not only the mean: the period objective with `scheduling.confidence` (the roster's period must meet its
target with that probability, e.g. "the month meets 80/20 with probability at least 0.9").

Without it the period objective judges each call type by its service level pooled over every simulated day: a
roster sitting right on that mean meets the target in about half the periods. With it, each call type measured
per day, week or month is judged by P(period meets), estimated from the simulated periods:

- where the simulated runs hold the periods themselves (a weekly roster run over its calendar horizon: each run's
  days, weeks or months; a daily roster measured per day: each simulated day), P is the share of the simulated
  periods (replications × periods) whose pooled service level reaches the target;
- a daily roster measured per week or month is simulated a day at a time, and no run holds a week or a month: its
  period pools independent days (7 a week, the days of the start date's month), so its service level is taken as
  normal around the pooled mean with the spread of one day's (the delta method's standard error over the days,
  times √days) divided by √(days in the period), and P = Φ((level − target) / spread).

The loop adds agents until P itself reaches the confidence: not its 95% lower bound, because that bound cannot
reach 0.9 on the search days' few periods (the Wilson bound of 30 periods that all met is 0.886), so the loop
would never stop. The agents go where the period objective puts them, for the level a period must reach on average
to meet its target with that probability (`required` = target + z σ, z the normal quantile of the confidence and
σ the spread of the period's service level across the simulated periods). The verification's fresh runs accept
P within their own tolerance: the Wilson interval of the share (or, for the normal estimate, P at the upper end of
the level's 95% interval) reaches the confidence.
"""

from __future__ import annotations

import calendar
import math

import numpy as np
import pandas as pd
from scipy import stats

from bposim import cells
from bposim.periods import horizon_periods, wilson
from bposim.scenario import Scenario

WEEK_DAYS = 7


def confidence_of(scenario: Scenario) -> float | None:
    """The probability a period must meet its target with (`scheduling.confidence`), or None: the pooled mean."""
    return scenario.scheduling.confidence if scenario.scheduling is not None else None


def with_confidence(periods: pd.DataFrame, intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """`periods` (`period.period_levels`, from the intervals table `intervals`) with, per call type: `p_met`
    (P(period meets its target)), its 95% interval `p_low`..`p_high`, `estimate` ("share" of the simulated periods
    or "normal"), `samples` (periods or days it rests on), `required` (the mean level meeting the target with the
    confidence) and `met` (P at least the confidence). Unchanged without a confidence."""
    confidence = confidence_of(scenario)
    if confidence is None or periods.empty:
        return periods
    rows = [
        _estimate(row, intervals, scenario, confidence)
        if row.period != "interval"
        else _row(math.nan, (math.nan, math.nan), "", 0, row.target)
        for row in periods.itertuples(index=False)
    ]
    found = periods.assign(**{key: [row[key] for row in rows] for key in rows[0]})
    pooled = found["period"].to_numpy() != "interval"
    met = np.where(pooled, found["p_met"].to_numpy(float) >= confidence, found["met"].to_numpy(bool))
    return found.assign(met=met, confidence=np.where(pooled, confidence, math.nan))


def verified_with_confidence(periods: pd.DataFrame) -> pd.DataFrame:
    """On the fresh runs: `met` when P(period meets) is not clearly below the confidence (its 95% interval
    reaches it)."""
    if "confidence" not in periods:
        return periods
    judged = periods["confidence"].notna()
    return periods.assign(met=np.where(judged, periods["p_high"] >= periods["confidence"], periods["met"]))


def _estimate(row, intervals: pd.DataFrame, scenario: Scenario, confidence: float) -> dict:
    """One call type's P(period meets) and the level it requires."""
    z = float(stats.norm.ppf(confidence))
    mine = intervals[intervals["call_type"].astype(str) == row.call_type]
    if "replication" not in mine:
        mine = mine.assign(replication=0)
    if scenario.scheduling.weekly or row.period == "day":
        levels = _period_levels(mine, scenario, row.period)
        levels = levels[np.isfinite(levels)]
        if len(levels) == 0:
            return _row(math.nan, (math.nan, math.nan), "share", 0, row.target)
        p = float(np.mean(levels >= row.target))
        spread = float(np.std(levels, ddof=1)) if len(levels) > 1 else 0.0
        return _row(p, wilson(p, len(levels)), "share", len(levels), row.target + z * spread)
    days = int(mine.groupby(["replication", "day"]).ngroups)
    spread = float(row.service_level_se) * math.sqrt(days) / math.sqrt(_period_days(scenario, row.period))
    if not math.isfinite(spread) or spread <= 0:
        p = float(row.service_level >= row.target)
        return _row(p, (p, p), "normal", days, row.target)
    p = float(stats.norm.cdf((row.service_level - row.target) / spread))
    half = float(row.service_level_ci) if math.isfinite(row.service_level_ci) else 0.0
    bounds = tuple(float(stats.norm.cdf((row.service_level + d - row.target) / spread)) for d in (-half, half))
    return _row(p, bounds, "normal", days, row.target + z * spread)


def _row(p: float, bounds: tuple[float, float], estimate: str, samples: int, required: float) -> dict:
    return {
        "p_met": p,
        "p_low": bounds[0],
        "p_high": bounds[1],
        "estimate": estimate,
        "samples": samples,
        "required": required,
    }


def _period_levels(mine: pd.DataFrame, scenario: Scenario, kind: str) -> np.ndarray:
    """The service level of every (replication, period) of the call type's rows, pooled over the period."""
    horizon = scenario.horizon
    _, grid = horizon_periods(horizon, kind)
    key = grid[mine["day"].to_numpy(int), mine["interval"].to_numpy(int)]
    table = mine.assign(period_index=key)[key >= 0]
    counts = ["offered", "answered", "answered_within_threshold", "abandoned_within_threshold"]
    sums = table.groupby(["replication", "period_index"], observed=True)[counts].sum()
    return np.asarray(
        cells.service_level(
            sums["answered_within_threshold"],
            sums["offered"],
            sums["answered"],
            sums["abandoned_within_threshold"],
            scenario.service_level.definition,
        ),
        float,
    )


def _period_days(scenario: Scenario, kind: str) -> int:
    """Days a week or a month pools on a daily roster (worked every day): 7, or the days of the start date's
    month (30 without dates)."""
    if kind == "week":
        return WEEK_DAYS
    horizon = scenario.horizon
    if not horizon.calendar:
        return 30
    first = horizon.date(0)
    return calendar.monthrange(first.year, first.month)[1]
