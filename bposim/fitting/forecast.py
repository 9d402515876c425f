"""Arrivals from an interval history: a forecast per weekday × interval, the day-to-day overdispersion, and the
forecast's error on held-out weeks.

The method, stated so a planner can redo it by hand:

- **Weeks.** Week 0 is the calendar week (Monday to Sunday) of the history's first date. The last `holdout_weeks`
  weeks are held out: the method fitted on the weeks before them forecasts them, and the error is measured there.
  The scenario written is then fitted on every week.
- **Level.** For each call type, weekday and interval: the mean of the offered calls on the history's dates of that
  weekday, with recency weights halving every `half_life_weeks` weeks back from the last week fitted (a date with
  no row, a holiday, takes no part).
- **Trend.** Each date's offered calls over its weekday's level (a day index) are regressed on time in weeks by
  weighted least squares (the recency weights). The slope is applied, as a factor 1 + slope × (weeks from the
  level's weighted mean date to the middle of the forecast horizon), only when it is at least twice its standard
  error and the history has three weeks or more; the factor is kept within 0.5 to 2.
- **Busyness.** A day's offered calls over all call types, N, against its expected E (the mean of its weekday's
  days, trend-adjusted when the trend is applied), under N ~ Poisson(E × B) with E[B] = 1, Var[B] = cv²: the
  method of moments cv² = Σ[(N − E)² × n / (n − 1) − N] / Σ E² over the days (n: the days of that weekday; the
  factor undoes fitting E on the same days). No busyness when that is ≤ 0: the days vary no more than Poisson.
- **Error.** On the held-out dates, per call type: WAPE = Σ|forecast − actual| / Σ actual and MAPE = the mean of
  |forecast − actual| / actual over the cells with actual > 0, by interval and by day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim.fitting.errors import FitError
from bposim.formatting import clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HALF_LIFE_WEEKS = 4.0
TREND_T = 2.0  # the slope is applied when at least this many standard errors from 0


@dataclass(frozen=True)
class Grid:
    """The scenario's grid of intervals: `intervals` of `interval_seconds` from `start_seconds` after midnight."""

    start_seconds: float
    interval_seconds: float
    intervals: int


@dataclass(frozen=True)
class Trend:
    """The weekly slope of the day index, its t value, and the factor applied to the level (1 if not applied)."""

    slope_per_week: float
    t_value: float
    factor: float

    @property
    def applied(self) -> bool:
        return self.factor != 1.0


@dataclass(frozen=True)
class Forecast:
    """Offered calls per interval for each call type and weekday (`curves[call_type][weekday]`, one value per
    interval of the grid), the trend, and the dates each weekday was fitted on."""

    curves: dict[str, dict[str, np.ndarray]]
    trend: Trend
    dates: dict[str, list[datetime.date]]
    weeks: list[int]
    half_life_weeks: float


def align(history: pd.DataFrame, grid: Grid, source: str) -> pd.DataFrame:
    """The history with `interval` (its index on the grid) and `week`; refuses intervals off the grid, a row twice,
    and a gap: a missing interval between two present ones of one call type and date."""
    offset = (history["interval_start"] - grid.start_seconds) / grid.interval_seconds
    off = (offset % 1 != 0) | (offset < 0) | (offset >= grid.intervals)
    grid_text = (
        f"the scenario's grid is {grid.interval_seconds / 60:g}-minute intervals from "
        f"{clock(grid.start_seconds)} to {clock(grid.start_seconds + grid.intervals * grid.interval_seconds)}"
    )
    problems = [
        f"row {row}: interval {clock(start)} is not on the scenario's grid; {grid_text}"
        for row, start in history.loc[off, ["row", "interval_start"]].head(10).itertuples(index=False)
    ]
    if problems:
        raise FitError(source, problems)
    aligned = history.assign(interval=offset.astype(np.int64))
    twice = aligned.duplicated(["date", "call_type", "interval"])
    problems = [
        f"row {row}: {call_type} on {date:%Y-%m-%d} at {clock(start)} is given twice; one row per date, interval "
        "and call type"
        for row, call_type, date, start in aligned.loc[twice, ["row", "call_type", "date", "interval_start"]]
        .head(10)
        .itertuples(index=False)
    ]
    for (call_type, date), day in aligned.groupby(["call_type", "date"], sort=True):
        present = np.sort(day["interval"].unique())
        missing = sorted(set(range(present[0], present[-1] + 1)) - set(present))
        if missing:
            first = grid.start_seconds + missing[0] * grid.interval_seconds
            problems.append(
                f"{call_type} on {date:%Y-%m-%d}: no row for {clock(first)}"
                + (f" and {len(missing) - 1} more intervals" if len(missing) > 1 else "")
                + f" between {clock(grid.start_seconds + present[0] * grid.interval_seconds)} and "
                f"{clock(grid.start_seconds + present[-1] * grid.interval_seconds)}; every interval of an open day "
                "needs a row (offered 0 when no call came)"
            )
        if len(problems) >= 10:
            break
    if problems:
        raise FitError(source, problems)
    first_monday = aligned["date"].min() - pd.to_timedelta(aligned["date"].min().weekday(), unit="D")
    return aligned.assign(week=((aligned["date"] - first_monday).dt.days // 7).astype(np.int64))


def _weights(weeks: pd.Series, last_week: int, half_life_weeks: float) -> np.ndarray:
    return 0.5 ** ((last_week - weeks.to_numpy()) / half_life_weeks)


def _day_totals(history: pd.DataFrame) -> pd.DataFrame:
    """Offered per call type and date, with the date's week and weekday."""
    days = history.groupby(["call_type", "date"], as_index=False).agg(
        offered=("offered", "sum"), week=("week", "first")
    )
    return days.assign(weekday=days["date"].dt.day_of_week)


def _trend(days: pd.DataFrame, half_life_weeks: float, horizon_middle: pd.Timestamp) -> Trend:
    """The weighted least-squares slope of the day index over time in weeks, applied when |t| ≥ TREND_T."""
    last = int(days["week"].max())
    weights = _weights(days["week"], last, half_life_weeks)
    level = days.assign(w=weights, wx=weights * days["offered"]).groupby(["call_type", "weekday"])[["w", "wx"]].sum()
    expected = (level["wx"] / level["w"]).reindex(pd.MultiIndex.from_frame(days[["call_type", "weekday"]])).to_numpy()
    keep = expected > 0
    if days["week"].nunique() < 3 or keep.sum() < 4:
        return Trend(0.0, 0.0, 1.0)
    index = days["offered"].to_numpy()[keep] / expected[keep]
    origin = days["date"].min()
    time = ((days["date"] - origin).dt.days.to_numpy() / 7.0)[keep]
    w = weights[keep]
    mean_time = np.average(time, weights=w)
    mean_index = np.average(index, weights=w)
    sxx = np.sum(w * (time - mean_time) ** 2)
    if sxx <= 0:
        return Trend(0.0, 0.0, 1.0)
    slope = np.sum(w * (time - mean_time) * (index - mean_index)) / sxx
    residual = index - mean_index - slope * (time - mean_time)
    variance = np.sum(w * residual**2) / max(len(index) - 2, 1)  # weighted least squares, weights as precisions
    se = np.sqrt(variance / sxx)
    t_value = slope / se if se > 0 else 0.0
    factor = 1.0
    if abs(t_value) >= TREND_T:
        ahead = (horizon_middle - origin).days / 7.0 - mean_time
        factor = float(np.clip(1.0 + slope * ahead, 0.5, 2.0))
    return Trend(float(slope), float(t_value), factor)


def forecast(
    history: pd.DataFrame,
    grid: Grid,
    horizon_middle: pd.Timestamp,
    half_life_weeks: float = HALF_LIFE_WEEKS,
) -> Forecast:
    """The forecast from an aligned history (see the module's docstring): offered calls per interval per call type
    and weekday, level × trend factor."""
    last = int(history["week"].max())
    trend = _trend(_day_totals(history), half_life_weeks, horizon_middle)
    weighted = history.assign(
        w=_weights(history["week"], last, half_life_weeks), weekday=history["date"].dt.day_of_week
    )
    dated = weighted.drop_duplicates(["call_type", "date"])
    curves: dict[str, dict[str, np.ndarray]] = {}
    for call_type, rows in weighted.groupby("call_type", sort=False):
        own = dated[dated["call_type"] == call_type]
        curves[call_type] = {}
        for weekday, day_rows in rows.groupby("weekday"):
            total_weight = own.loc[own["weekday"] == weekday, "w"].sum()
            sums = (day_rows["offered"] * day_rows["w"]).groupby(day_rows["interval"]).sum()
            curve = np.zeros(grid.intervals)
            curve[sums.index.to_numpy()] = sums.to_numpy() / total_weight * trend.factor
            if curve.sum() > 0:
                curves[call_type][WEEKDAYS[weekday]] = curve
    dates = {
        WEEKDAYS[weekday]: sorted(day.date() for day in group["date"].unique())
        for weekday, group in weighted.groupby("weekday")
    }
    return Forecast(curves, trend, dates, sorted(history["week"].unique().tolist()), half_life_weeks)


def busyness_cv(history: pd.DataFrame, trend: Trend | None = None) -> tuple[float | None, int]:
    """The day-level coefficient of variation by the method of moments (see the module's docstring), None when the
    days vary no more than Poisson, and the number of days it used."""
    days = history.groupby("date", as_index=False)["offered"].sum()
    days["weekday"] = days["date"].dt.day_of_week
    counts = days.groupby("weekday")["offered"].transform("size")
    days = days[counts >= 2].copy()
    if days.empty:
        return None, 0
    expected = days.groupby("weekday")["offered"].transform("mean").to_numpy(dtype=float)
    if trend is not None and trend.applied:
        time = (days["date"] - days["date"].min()).dt.days.to_numpy() / 7.0
        expected = expected * (1.0 + trend.slope_per_week * (time - time.mean()))
    n = days.groupby("weekday")["offered"].transform("size").to_numpy(dtype=float)
    observed = days["offered"].to_numpy(dtype=float)
    excess = np.sum((observed - expected) ** 2 * n / (n - 1) - observed)
    cv2 = excess / np.sum(expected**2)
    if not np.isfinite(cv2) or cv2 <= 0:
        return None, len(days)
    return float(min(np.sqrt(cv2), 2.0)), len(days)


def forecast_for(forecast_: Forecast, history: pd.DataFrame) -> pd.Series:
    """The forecast's offered calls for each row of an aligned history (0 where the weekday has no curve)."""
    values = [
        forecast_.curves.get(call_type, {}).get(WEEKDAYS[date.weekday()], None)
        for call_type, date in zip(history["call_type"], history["date"], strict=True)
    ]
    return pd.Series(
        [0.0 if curve is None else curve[i] for curve, i in zip(values, history["interval"], strict=True)],
        index=history.index,
    )


def holdout_errors(held_out: pd.DataFrame, predicted: pd.Series) -> pd.DataFrame:
    """MAPE and WAPE of `predicted` against the held-out rows' offered calls, per call type, by interval and by
    day: columns call_type, level (interval, day), cells, actual, forecast, mape, wape."""
    table = held_out.assign(forecast=predicted)
    rows = []
    for call_type, own in table.groupby("call_type", sort=False):
        by_day = own.groupby("date")[["offered", "forecast"]].sum()
        for level, cells in (("interval", own[["offered", "forecast"]]), ("day", by_day)):
            actual = cells["offered"].to_numpy(dtype=float)
            fitted = cells["forecast"].to_numpy(dtype=float)
            positive = actual > 0
            rows.append(
                {
                    "call_type": call_type,
                    "level": level,
                    "cells": len(cells),
                    "actual": actual.sum(),
                    "forecast": fitted.sum(),
                    "mape": float(np.mean(np.abs(fitted - actual)[positive] / actual[positive]))
                    if positive.any()
                    else np.nan,
                    "wape": float(np.abs(fitted - actual).sum() / actual.sum()) if actual.sum() > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)
