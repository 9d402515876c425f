"""`fit`: from a planner's interval history and/or call log and a base scenario to a fitted scenario file, the
steps in order (read, align on the scenario's grid, forecast and hold out, fit durations, write, validate), and
`calibrate`: the replay of the history's own dates for the report."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bposim.fitting import calibration, durations, forecast, reading, writing
from bposim.fitting.errors import FitError
from bposim.fitting.yaml_text import dump
from bposim.scenario import Scenario, ScenarioError, load_scenario
from bposim.scenario.loading import load_yaml_mapping

DEFAULT_WEEKS = 4


@dataclass
class FitResult:
    """Everything a fit produced: the scenario file's text and data, what the history and the call log gave, and
    the held-out rows with their forecast (`forecast` column)."""

    out_path: Path
    text: str
    data: dict
    grid: forecast.Grid
    base_dir: Path
    recognised: list[reading.Recognised] = field(default_factory=list)
    history: writing.HistoryFit | None = None
    aligned: pd.DataFrame | None = None
    held_out: pd.DataFrame | None = None
    calls: dict[str, durations.CallTypeFit] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _grid(scenario: Scenario, source: str) -> forecast.Grid:
    horizon = scenario.horizon
    if horizon.length_hours is not None:
        raise FitError(
            source, ["horizon.length_hours: bposim fit needs a horizon on a day's grid (start, end or opening_hours)"]
        )
    return forecast.Grid(float(horizon.start_seconds), float(horizon.interval_seconds), int(horizon.intervals))


def _history_fit(
    path: Path,
    aligned: pd.DataFrame,
    grid: forecast.Grid,
    start_date: datetime.date,
    weeks: int,
    holdout_weeks: int,
) -> tuple[writing.HistoryFit, pd.DataFrame]:
    """The forecast on every week, the error of the one fitted on the weeks before the held-out ones, busyness and
    the AHT per call type."""
    history_weeks = int(aligned["week"].max()) + 1
    if holdout_weeks >= history_weeks:
        raise FitError(
            "--holdout-weeks",
            [
                f"{holdout_weeks} held-out weeks leave no week to fit on: {path} covers {history_weeks} calendar "
                f"week(s); give fewer (0 to hold none out)"
            ],
        )
    held_out = aligned[aligned["week"] >= history_weeks - holdout_weeks]
    errors = pd.DataFrame(columns=["call_type", "level", "cells", "actual", "forecast", "mape", "wape"])
    if holdout_weeks:
        training = aligned[aligned["week"] < history_weeks - holdout_weeks]
        dates = held_out["date"]
        middle = dates.min() + (dates.max() - dates.min()) / 2
        trained = forecast.forecast(training, grid, middle)
        held_out = held_out.assign(forecast=forecast.forecast_for(trained, held_out))
        errors = forecast.holdout_errors(held_out, held_out["forecast"])
    middle = pd.Timestamp(start_date) + pd.Timedelta(days=3.5 * weeks)
    final = forecast.forecast(aligned, grid, middle)
    cv, days = forecast.busyness_cv(aligned, final.trend)
    handled = aligned[(aligned["handled"] > 0) & aligned["aht_seconds"].notna()]
    aht = {
        call_type: (float(np.average(rows["aht_seconds"], weights=rows["handled"])), int(rows["handled"].sum()))
        for call_type, rows in handled.groupby("call_type")
    }
    fit = writing.HistoryFit(
        path,
        aligned["date"].min().date(),
        aligned["date"].max().date(),
        history_weeks,
        holdout_weeks,
        final,
        cv,
        days,
        errors,
        aht,
    )
    return fit, held_out if holdout_weeks else held_out.iloc[0:0]


def _closed_weekdays_with_calls(aligned: pd.DataFrame, scenario: Scenario, source: str) -> list[str]:
    """A note for each weekday the history has calls on but the base scenario's opening hours close."""
    offered = aligned.groupby(aligned["date"].dt.day_of_week)["offered"].sum()
    week = scenario.horizon.week
    return [
        f"{source}: {offered[day]:,} calls on {forecast.WEEKDAYS[day]}, a weekday the base scenario's opening hours "
        "close: their forecast is written but draws nothing until horizon.opening_hours opens that day"
        for day in offered.index
        if offered[day] > 0 and week[day] is None
    ]


def _check_call_types(names: set[str], scenario: Scenario, source: str, what: str) -> None:
    known = [call_type.name for call_type in scenario.call_types]
    unknown = sorted(names - set(known))
    if unknown:
        raise FitError(
            source,
            [
                f"call type {name!r} in the {what} is not in the base scenario; its call types: {', '.join(known)}"
                for name in unknown
            ],
        )


def fit(
    scenario_path: str | Path,
    out_path: str | Path,
    history_path: str | Path | None = None,
    calls_path: str | Path | None = None,
    weeks: int = DEFAULT_WEEKS,
    start_date: datetime.date | None = None,
    holdout_weeks: int = 1,
    command: str = "bposim fit",
) -> FitResult:
    """Fit the history and/or call log onto the base scenario and write the fitted scenario to `out_path`.

    Raises FitError (a file or flag that cannot be used) or ScenarioError (the base scenario, or the fitted one,
    does not validate)."""
    scenario_path, out_path = Path(scenario_path), Path(out_path)
    base = load_scenario(scenario_path)
    raw = load_yaml_mapping(scenario_path)
    grid = _grid(base, str(scenario_path))
    recognised: list[reading.Recognised] = []
    history_fit, aligned, held_out, notes = None, None, None, []
    if history_path is not None:
        history_path = Path(history_path)
        history, seen = reading.read_history(history_path)
        recognised.append(seen)
        _check_call_types(set(history["call_type"]), base, str(history_path), "history")
        aligned = forecast.align(history, grid, str(history_path))
        last = aligned["date"].max().date()
        start = start_date or last + datetime.timedelta(days=7 - last.weekday())
        history_fit, held_out = _history_fit(history_path, aligned, grid, start, weeks, holdout_weeks)
        notes = _closed_weekdays_with_calls(aligned, base, history_path.name)
    calls: dict[str, durations.CallTypeFit] = {}
    if calls_path is not None:
        calls_path = Path(calls_path)
        log, seen = reading.read_call_log(calls_path)
        recognised.append(seen)
        _check_call_types(set(log["call_type"]), base, str(calls_path), "call log")
        balked_seen = bool((log["outcome"] == "balked").any())
        problems = []
        for call_type, rows in log.groupby("call_type", sort=False):
            fitted = durations.fit_call_type(str(call_type), rows, balked_seen)
            if isinstance(fitted, str):
                problems.append(fitted)
            else:
                calls[str(call_type)] = fitted
        if problems:
            raise FitError(str(calls_path), problems)
    if history_fit is not None:
        horizon_start, horizon_weeks = start, weeks
    else:
        horizon_start = base.horizon.start_date
        horizon_weeks = None
    fitted = writing.build(
        raw, scenario_path, out_path, grid, horizon_start, horizon_weeks, history_fit, calls, calls_path, command
    )
    text = dump(fitted.data, fitted.comments, [*fitted.header, *notes])
    try:
        Scenario.model_validate(yaml.safe_load(text), context={"base_dir": str(out_path.parent)})
    except ScenarioError as exc:
        raise ScenarioError(f"{out_path} (as fitted)", exc.problems) from None
    from bposim.files import write_text_atomically

    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out_path, text)
    return FitResult(
        out_path, text, fitted.data, grid, out_path.parent, recognised, history_fit, aligned, held_out, calls, notes
    )


def calibrate(result: FitResult, seed: int = 0, replications: int = 3) -> pd.DataFrame | None:
    """The history's KPIs per call type and day beside the fitted model's over the same dates (None without a
    history)."""
    if result.aligned is None:
        return None
    replay = calibration.replay_scenario(result.data, result.aligned, result.grid, result.base_dir)
    return calibration.compare_days(result.aligned, replay, seed, replications)
