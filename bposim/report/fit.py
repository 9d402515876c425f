"""A fit's calibration report (`bposim fit --report`): what was fitted and how, the forecast against the held-out
weeks, QQ plots of the duration laws, patience's survival, and the fitted model replaying the history's own days
against what the history recorded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bposim import fit_charts
from bposim.fitting import FitResult
from bposim.fitting.durations import Fitted
from bposim.formatting import share
from bposim.report.html import Section, html_table, write_page


def fit_report(result: FitResult, days: pd.DataFrame | None, path: str | Path) -> Path:
    """Write the calibration report of `result` (with `days`, the replay from `bposim.fitting.calibrate`)."""
    sections = [_fitted_section(result)]
    if result.history is not None:
        sections.append(_holdout_section(result))
    for fit in result.calls.values():
        sections.append(
            Section(
                f"{fit.call_type}: handle time and wrap-up",
                "Observed quantiles against those of the law chosen by AIC: points on the diagonal mean the law "
                "fits; a bend in the top right is a tail heavier (above) or lighter (below) than the law's.",
                figure=fit_charts.qq_chart(fit),
            )
        )
        if fit.patience is not None:
            sections.append(
                Section(
                    f"{fit.call_type}: patience",
                    "Abandoned callers' waits are observed patience, answered callers' waits right-censored: the "
                    "Kaplan-Meier curve is the share still willing to wait, the fitted law should follow it where "
                    "there are waits to see (beyond the longest wait the data say nothing).",
                    figure=fit_charts.patience_chart(fit),
                )
            )
    if days is not None:
        sections.append(_replay_section(days))
    name = result.data.get("name", result.out_path.stem)
    return write_page(path, f"Calibration of {name}", sections)


def _law(fitted: Fitted | None) -> str:
    if fitted is None:
        return "—"
    law = dict(fitted.distribution)
    family = law.pop("distribution")
    return f"{family} " + ", ".join(f"{key} {value:g}" for key, value in law.items())


def _fitted_section(result: FitResult) -> Section:
    rows = []
    history = result.history
    if history is not None:
        for call_type, curves in history.forecast.curves.items():
            per_day = ", ".join(f"{weekday} {curve.sum():,.0f}" for weekday, curve in curves.items())
            rows.append([call_type, "arrivals a day", per_day, f"{history.weeks} weeks"])
        busyness = "none (no more than Poisson)" if history.busyness_cv is None else f"cv {history.busyness_cv:.3f}"
        busyness = "the base scenario's (too few dates)" if history.busyness_days == 0 else busyness
        rows.append(["all", "busyness", busyness, f"{history.busyness_days} days"])
    for fit in result.calls.values():
        rows.append([fit.call_type, "handle time", _law(fit.handle_time), f"{fit.handle_time.n:,} calls"])
        if fit.after_call_work is not None:
            rows.append([fit.call_type, "wrap-up", _law(fit.after_call_work), f"{fit.after_call_work.n:,} calls"])
        if fit.patience is not None:
            observed = fit.patience.n - fit.patience.censored
            rows.append(
                [fit.call_type, "patience", _law(fit.patience), f"{observed:,} abandoned of {fit.patience.n:,}"]
            )
        if fit.balking is not None:
            rows.append([fit.call_type, "balking", share(fit.balking), f"{fit.balking_counts[1]:,} had to queue"])
    recognised = "; ".join(line for seen in result.recognised for line in seen.lines())
    text = f"Written to {result.out_path}. Columns recognised: {recognised}."
    return Section("What was fitted", text, html_table(["Call type", "What", "Fitted", "From"], rows, None, 3))


def _holdout_section(result: FitResult) -> Section:
    history = result.history
    if not history.holdout_weeks:
        return Section(
            "Forecast error", "No week was held out (--holdout-weeks 0): the forecast's error is not measured."
        )
    rows = [
        [
            row.call_type,
            row.level,
            f"{row.cells:,}",
            f"{row.actual:,.0f}",
            f"{row.forecast:,.0f}",
            share(row.mape),
            share(row.wape),
        ]
        for row in history.errors.itertuples()
    ]
    text = (
        f"The last {history.holdout_weeks} week(s) of {history.path.name} held out: the same method fitted on the "
        "weeks before forecasts them. WAPE = Σ|forecast − actual| / Σ actual; MAPE = the mean of |forecast − actual| "
        "/ actual over cells with calls. Interval errors include the Poisson noise no forecast can remove."
    )
    table = html_table(["Call type", "By", "Cells", "Actual", "Forecast", "MAPE", "WAPE"], rows, None, 2)
    return Section(
        "Forecast against actual, held-out weeks", text, table, fit_charts.holdout_chart(result.held_out, result.grid)
    )


def _replay_section(days: pd.DataFrame) -> Section:
    rows = [
        [
            row.call_type,
            f"{row.date:%a %d %b %Y}",
            f"{row.offered_history:,.0f}",
            share(row.service_level_history),
            share(row.service_level_simulated),
            share(row.abandon_rate_history),
            share(row.abandon_rate_simulated),
        ]
        for row in days.itertuples()
    ]
    text = (
        "Does the model reproduce the history? The fitted scenario replays the history's own dates, each with the "
        "calls it recorded (busyness left out: the volumes are known), so what differs is the queue: handle times, "
        "patience, balking, staffing. Abandonment counts balked callers, as an ACD does."
    )
    header = ["Call type", "Date", "Offered", "SL history", "SL model", "Abandoned history", "Abandoned model"]
    return Section(
        "The history's days replayed", text, html_table(header, rows, None, 2), fit_charts.replay_chart(days)
    )
