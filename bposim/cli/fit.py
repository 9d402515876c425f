"""`bposim fit`: a scenario from the planner's own data, an interval history (arrivals, busyness) and/or a call log
(handle time, wrap-up, patience, balking), on a base scenario; prints what it fitted and the forecast's error on
held-out weeks, writes the fitted scenario (and with --report the calibration report)."""

from __future__ import annotations

import datetime
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bposim.cli.common import cannot_write, fail, out
from bposim.formatting import share

if TYPE_CHECKING:
    from bposim.fitting import FitResult


def _command(
    history: Path | None,
    calls: Path | None,
    scenario: Path,
    out_path: Path,
    weeks: int | None,
    start_date: str | None,
    holdout_weeks: int,
) -> str:
    """The command line that writes this file again."""
    words = ["bposim", "fit", *([str(history)] if history else [])]
    words += [*(["--calls", str(calls)] if calls else []), "--scenario", str(scenario), "--out", str(out_path)]
    words += ["--weeks", str(weeks)] if weeks is not None else []
    words += ["--start-date", start_date] if start_date else []
    words += ["--holdout-weeks", str(holdout_weeks)] if holdout_weeks != 1 else []
    return shlex.join(words)


def fit(
    scenario: Annotated[Path, typer.Option("--scenario", help="base scenario (YAML): the centre the fit goes into")],
    out_path: Annotated[Path, typer.Option("--out", help="the fitted scenario file to write (YAML)")],
    history: Annotated[
        Path | None, typer.Argument(help="interval history, CSV or .xlsx (date, interval, call type, offered, ...)")
    ] = None,
    calls: Annotated[
        Path | None, typer.Option("--calls", help="call log, CSV or .xlsx: handle time, wrap-up, patience, balking")
    ] = None,
    weeks: Annotated[int | None, typer.Option(min=1, max=104, help="weeks to forecast (default 4)")] = None,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="first date forecast, YYYY-MM-DD (default: the Monday after)")
    ] = None,
    holdout_weeks: Annotated[
        int, typer.Option("--holdout-weeks", min=0, help="last weeks of the history held out to measure the error")
    ] = 1,
    report: Annotated[Path | None, typer.Option("--report", help="write the calibration report (HTML) here")] = None,
    seed: Annotated[int, typer.Option(min=0, help="seed of the report's replay of the history")] = 0,
) -> None:
    """Fit a scenario to your history: arrivals per weekday and interval, busyness, durations, patience."""
    # imported here: keeps the CLI's start fast (scipy, pandas)
    from bposim.fitting import FitError, calibrate
    from bposim.fitting import fit as fit_files
    from bposim.fitting.fit import DEFAULT_WEEKS
    from bposim.scenario import ScenarioError

    if history is None and calls is None:
        fail(["give an interval history (HISTORY) or a call log (--calls), or both"])
    if history is None and (weeks is not None or start_date is not None):
        fail(["--weeks and --start-date set the forecast's horizon: they need an interval history (HISTORY)"])
    first = None
    if start_date is not None:
        try:
            first = datetime.date.fromisoformat(start_date)
        except ValueError:
            fail([f"--start-date: {start_date!r} is not a date; give YYYY-MM-DD"])
    command = _command(history, calls, scenario, out_path, weeks, start_date, holdout_weeks)
    try:
        result = fit_files(
            scenario, out_path, history, calls, weeks or DEFAULT_WEEKS, first, holdout_weeks, command=command
        )
    except (FitError, ScenarioError) as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])
    except OSError as exc:
        fail([cannot_write(exc, out_path)])
    _print(result)
    if report is not None:
        # imported here: keeps the CLI's start fast (plotly)
        from bposim.report.fit import fit_report

        try:
            days = calibrate(result, seed=seed)
        except ScenarioError as exc:
            fail([f"--report: the history's days cannot be replayed: {problem}" for problem in exc.problems])
        try:
            page = fit_report(result, days, report)
        except OSError as exc:
            fail([cannot_write(exc, report)])
        out.print(f"Calibration report: {page}")


def _print(result: FitResult) -> None:
    for seen in result.recognised:
        for line in seen.lines():
            out.print(f"Columns recognised, {line}", highlight=False, soft_wrap=True)
    history = result.history
    if history is not None:
        trend = history.forecast.trend
        arrivals = Table(title=f"Arrivals forecast (calls a day), from {history.path.name}, {history.weeks} weeks")
        arrivals.add_column("Call type")
        weekdays = list(dict.fromkeys(day for curves in history.forecast.curves.values() for day in curves))
        for weekday in weekdays:
            arrivals.add_column(weekday, justify="right")
        for call_type, curves in history.forecast.curves.items():
            arrivals.add_row(call_type, *(f"{curves[day].sum():,.0f}" if day in curves else "—" for day in weekdays))
        out.print(arrivals)
        out.print(
            f"Trend {trend.slope_per_week:+.2%} a week (t = {trend.t_value:.1f}): "
            + (f"applied, × {trend.factor:.3f}" if trend.applied else "not applied (|t| < 2 or under 3 weeks)"),
            highlight=False,
        )
        if history.busyness_days == 0:
            busyness = "the base scenario's: no weekday has two dates or more to estimate it from"
        elif history.busyness_cv is None:
            busyness = "none: the days vary no more than Poisson"
        else:
            busyness = f"cv {history.busyness_cv:.3f} (method of moments, {history.busyness_days} days)"
        out.print(f"Busyness: {busyness}", highlight=False)
        if not history.errors.empty:
            errors = Table(title=f"Forecast error on the {history.holdout_weeks} held-out week(s)")
            for label in ("Call type", "By", "Actual", "Forecast", "MAPE", "WAPE"):
                errors.add_column(label, justify="left" if label in ("Call type", "By") else "right")
            for row in history.errors.itertuples():
                errors.add_row(
                    row.call_type,
                    row.level,
                    f"{row.actual:,.0f}",
                    f"{row.forecast:,.0f}",
                    share(row.mape),
                    share(row.wape),
                )
            out.print(errors)
    if result.calls:
        laws = Table(title="Durations from the call log (the law of least AIC)")
        for label in ("Call type", "What", "Law", "Mean s", "cv / shape", "n"):
            laws.add_column(label, justify="left" if label in ("Call type", "What", "Law") else "right")
        for fit in result.calls.values():
            for what, fitted in (
                ("handle time", fit.handle_time),
                ("wrap-up", fit.after_call_work),
                ("patience", fit.patience),
            ):
                if fitted is None:
                    continue
                law = fitted.distribution
                spread = law.get("cv", law.get("shape"))
                laws.add_row(
                    fit.call_type,
                    what,
                    fitted.family,
                    f"{law['mean_seconds']:,.1f}",
                    "—" if spread is None else f"{spread:.3f}",
                    f"{fitted.n:,}",
                )
            if fit.balking is not None:
                balked, queued = fit.balking_counts
                laws.add_row(fit.call_type, "balking", "share", share(fit.balking), "", f"{balked:,} of {queued:,}")
        out.print(laws)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False, soft_wrap=True)
    out.print(f"Wrote {result.out_path}: it validates; run it with bposim run {result.out_path}", highlight=False)
