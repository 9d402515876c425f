"""The fitted scenario: the base scenario with the fitted numbers put in, each with a comment saying where it came
from (file, dates and weeks, method, n), as YAML text a planner can read, edit and run.

What changes: the horizon (`start_date`, `weeks`; the base's closed dates outside it dropped), `busyness` (the
estimated cv, or none), and for each call type in the history its `arrivals` (`by_day_type`: one `per_interval`
curve of calls per hour per weekday seen) and, without a call log, the mean of its handle time (the history's
average handle time, weighted by calls handled, less the base's mean wrap-up: the ACD's AHT includes wrap-up);
for each call type in the call log its `handle_time`, `after_call_work`, `patience` and `balking`. Everything else
is the base's, as it was written.
"""

from __future__ import annotations

import copy
import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bposim.fitting.durations import CallTypeFit, Fitted
from bposim.fitting.errors import FitError
from bposim.fitting.forecast import TREND_T, WEEKDAYS, Forecast, Grid
from bposim.fitting.yaml_text import Path as KeyPath

WEEKDAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass
class HistoryFit:
    """What an interval history gave: the forecast (on every week), busyness, held-out errors and the AHT."""

    path: Path
    first: datetime.date
    last: datetime.date
    weeks: int
    holdout_weeks: int
    forecast: Forecast
    busyness_cv: float | None
    busyness_days: int
    errors: pd.DataFrame
    aht_seconds: dict[str, tuple[float, int]]  # call type -> (AHT weighted by handled, calls handled)


@dataclass
class FittedFile:
    """The scenario's data with its comments, ready for `yaml_text.dump`."""

    data: dict
    comments: dict[KeyPath, list[str]] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)


def _call_type_index(data: dict, name: str, source: str, what: str) -> int:
    names = [call_type.get("name") for call_type in data.get("call_types", [])]
    if name not in names:
        raise FitError(
            source,
            [f"call type {name!r} {what} is not in the base scenario; its call types: {', '.join(map(str, names))}"],
        )
    return names.index(name)


def _law_text(fitted: Fitted) -> str:
    tried = ", ".join(f"{family} {aic:,.0f}" for family, aic in sorted(fitted.aic.items(), key=lambda item: item[1]))
    return f"{fitted.family} by least AIC (AIC: {tried})"


def _horizon(data: dict, start_date: datetime.date, weeks: int) -> None:
    horizon = data.setdefault("horizon", {})
    horizon.pop("days", None)
    horizon["start_date"] = start_date
    horizon["weeks"] = weeks
    end = start_date + datetime.timedelta(days=7 * weeks)
    closed = [day for day in horizon.get("closed_dates", []) if start_date <= _date(day) < end]
    if closed:
        horizon["closed_dates"] = closed
    else:
        horizon.pop("closed_dates", None)


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _arrivals(history: HistoryFit, call_type: str, grid: Grid) -> tuple[dict, dict[str, list[str]]]:
    """`by_day_type` curves in calls per hour, and a comment per weekday."""
    per_hour = 3600.0 / grid.interval_seconds
    by_day_type, notes = {}, {}
    for weekday in WEEKDAYS:
        curve = history.forecast.curves.get(call_type, {}).get(weekday)
        if curve is None:
            continue
        by_day_type[weekday] = {"per_interval": [round(float(value) * per_hour, 2) for value in curve]}
        dates = history.forecast.dates.get(weekday, [])
        notes[weekday] = [
            f"{len(dates)} {WEEKDAY_NAMES[WEEKDAYS.index(weekday)]} ({dates[0]} to {dates[-1]}): "
            f"{curve.sum():,.0f} calls a day forecast"
        ]
    return {"by_day_type": by_day_type}, notes


def _arrivals_comment(history: HistoryFit, call_type: str, start: datetime.date, weeks: int) -> list[str]:
    trend = history.forecast.trend
    errors = history.errors[history.errors["call_type"] == call_type]
    lines = [
        f"arrivals: forecast for {weeks} weeks from {start} from {history.path.name} ({history.first} to "
        f"{history.last}, {history.weeks} weeks): offered calls per weekday and interval, the mean of the same "
        f"weekday's dates weighted by recency (halving every {history.forecast.half_life_weeks:g} weeks back), "
        f"× trend {trend.factor:.3f} (slope {trend.slope_per_week:+.2%} a week, t = {trend.t_value:.1f}; "
        f"applied when |t| ≥ {TREND_T:g}); calls per hour below."
    ]
    if not errors.empty:
        parts = [f"{row.level} MAPE {row.mape:.1%}, WAPE {row.wape:.1%}" for row in errors.itertuples()]
        lines.append(
            f"error on the {history.holdout_weeks} held-out week(s), fitted on the weeks before: {'; '.join(parts)}"
        )
    return lines


def _handle_time_from_history(base: dict, aht: float, handled: int, source: str) -> tuple[dict, list[str]]:
    """The base's handle-time law with the history's mean talk time (AHT less the base's wrap-up)."""
    from pydantic import TypeAdapter

    from bposim.distributions import Distribution, Fixed

    wrap = 0.0
    if base.get("after_call_work"):
        wrap = TypeAdapter(Distribution).validate_python(base["after_call_work"]).mean
    talk = round(max(aht - wrap, 1.0), 1)
    law = dict(base.get("handle_time") or {})
    note = (
        f"handle_time: mean {talk:g} s = average handle time {aht:,.1f} s in {source} (weighted by {handled:,} calls "
        f"handled) less the base's mean wrap-up {wrap:g} s"
    )
    if "mean_seconds" in law:
        law["mean_seconds"] = talk
        return law, [note + f"; the {law['distribution']} shape kept from the base scenario"]
    kind = TypeAdapter(Distribution).validate_python(law) if law else None
    if isinstance(kind, Fixed):
        return {"distribution": "fixed", "value_seconds": talk}, [note]
    return {"distribution": "exponential", "mean_seconds": talk}, [note + "; exponential: the base's law has no mean"]


def build(
    base: dict,
    base_path: Path,
    out_path: Path,
    grid: Grid,
    start_date: datetime.date | None,
    weeks: int | None,
    history: HistoryFit | None,
    calls: dict[str, CallTypeFit],
    calls_path: Path | None,
    command: str,
) -> FittedFile:
    """The fitted scenario's data and comments (see the module's docstring)."""
    data = copy.deepcopy(base)
    fitted = FittedFile(data)
    fitted.header = [
        f"Fitted by `bposim fit` on {datetime.date.today()} from the base scenario {base_path.name}"
        + (f", the interval history {history.path.name}" if history else "")
        + (f" and the call log {calls_path.name}" if calls_path else "")
        + ".",
        "Every fitted number says where it came from in a comment; the rest is the base scenario as it was.",
        f"Regenerate: {command}",
    ]
    if weeks is not None:
        _horizon(data, start_date, weeks)
        fitted.comments[("horizon",)] = [
            f"horizon: the forecast's {weeks} weeks from {start_date} (bposim fit --weeks, --start-date)"
        ]
    if data.get("roster_file"):
        target = (base_path.parent / str(data["roster_file"])).resolve()
        data["roster_file"] = os.path.relpath(target, out_path.parent.resolve())
    if history is not None:
        _put_history(fitted, history, grid, start_date, weeks, calls)
    for fit in calls.values():
        _put_call_log(fitted, fit, calls_path)
    return fitted


def _put_history(
    fitted: FittedFile, history: HistoryFit, grid: Grid, start: datetime.date, weeks: int, calls: dict
) -> None:
    data = fitted.data
    source = str(history.path)
    if history.busyness_days == 0:
        if "busyness" in data:
            fitted.comments[("busyness",)] = [
                f"busyness kept from the base scenario: {history.path.name} has no weekday with two dates or more "
                "to estimate it from"
            ]
    elif history.busyness_cv is None:
        data.pop("busyness", None)
        fitted.header.append(
            f"No busyness: the {history.busyness_days} days of {history.path.name} vary no more than Poisson "
            "(method of moments on daily totals)."
        )
    else:
        data["busyness"] = {"cv": round(history.busyness_cv, 3)}
        fitted.comments[("busyness",)] = [
            f"busyness.cv from the {history.busyness_days} daily totals (all call types) of {history.path.name}, "
            "method of moments: cv² = Σ[(N − E)² n/(n − 1) − N] / Σ E², "
            "N a day's offered calls, E its weekday's mean over n days; the base's week_correlation is not estimated",
        ]
    for call_type in history.forecast.curves:
        index = _call_type_index(data, call_type, source, "in the history")
        entry = data["call_types"][index]
        entry["arrivals"], notes = _arrivals(history, call_type, grid)
        path = ("call_types", index)
        fitted.comments[(*path, "arrivals")] = _arrivals_comment(history, call_type, start, weeks)
        for weekday, lines in notes.items():
            fitted.comments[(*path, "arrivals", "by_day_type", weekday)] = lines
        if call_type not in calls and call_type in history.aht_seconds:
            aht, handled = history.aht_seconds[call_type]
            entry["handle_time"], lines = _handle_time_from_history(entry, aht, handled, history.path.name)
            fitted.comments[(*path, "handle_time")] = lines


def _put_call_log(fitted: FittedFile, fit: CallTypeFit, calls_path: Path) -> None:
    data = fitted.data
    index = _call_type_index(data, fit.call_type, str(calls_path), "in the call log")
    entry = data["call_types"][index]
    path = ("call_types", index)
    name = calls_path.name
    entry["handle_time"] = fit.handle_time.distribution
    fitted.comments[(*path, "handle_time")] = [
        f"handle_time: talk seconds of {fit.handle_time.n:,} answered calls in {name}, maximum likelihood, "
        + _law_text(fit.handle_time),
    ]
    if fit.after_call_work is not None:
        entry["after_call_work"] = fit.after_call_work.distribution
        fitted.comments[(*path, "after_call_work")] = [
            f"after_call_work: wrap seconds > 0 of {fit.after_call_work.n:,} answered calls in {name} "
            f"({fit.wrap_zero_share:.1%} had none), maximum likelihood, " + _law_text(fit.after_call_work),
        ]
    else:
        entry.pop("after_call_work", None)
        fitted.comments[(*path, "handle_time")].append(f"no after_call_work: too few wrap seconds > 0 in {name}")
    if fit.patience is not None:
        entry["patience"] = fit.patience.distribution
        observed = fit.patience.n - fit.patience.censored
        fitted.comments[(*path, "patience")] = [
            f"patience: waits of {fit.patience.n:,} callers in {name}, {observed:,} abandoned (observed) and "
            f"{fit.patience.censored:,} answered (right-censored), "
            "censored maximum likelihood (scipy.stats.CensoredData), " + _law_text(fit.patience),
        ]
    if fit.balking is not None:
        balked, queued = fit.balking_counts
        if balked:
            entry["balking"] = {"probability": round(fit.balking, 4)}
            fitted.comments[(*path, "balking")] = [
                f"balking: {balked:,} balked of {queued:,} callers who had to queue in {name} (balked + answered "
                "after a wait + abandoned)"
            ]
        else:
            entry.pop("balking", None)
