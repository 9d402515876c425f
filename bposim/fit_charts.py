"""Charts of a fit (`bposim fit --report`): the forecast against the held-out weeks, QQ plots of the fitted
handle-time and wrap-up laws, patience's Kaplan-Meier survival against the fitted law, and the replay of the
history's days against the history. Each returns a plotly Figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.fitting.durations import CallTypeFit, Fitted, kaplan_meier
from bposim.fitting.forecast import Grid

QQ_POINTS = 200


def holdout_chart(held_out: pd.DataFrame, grid: Grid) -> go.Figure:
    """Offered calls per interval over the held-out weeks: actual (dots) and forecast (line), a panel per call type."""
    call_types = list(dict.fromkeys(held_out["call_type"]))
    figure = make_subplots(rows=len(call_types), cols=1, shared_xaxes=True, subplot_titles=call_types)
    for row, call_type in enumerate(call_types, start=1):
        own = held_out[held_out["call_type"] == call_type].sort_values(["date", "interval"])
        when = own["date"] + pd.to_timedelta(grid.start_seconds + own["interval"] * grid.interval_seconds, unit="s")
        # a break in the line at each night: None between one date's intervals and the next's
        night = own["date"].ne(own["date"].shift()) & (np.arange(len(own)) > 0)
        times, actual, fitted = [], [], []
        for at, count, value, new_day in zip(when, own["offered"], own["forecast"], night, strict=True):
            if new_day:
                times, actual, fitted = [*times, None], [*actual, None], [*fitted, None]
            times, actual, fitted = [*times, at], [*actual, count], [*fitted, value]
        figure.add_trace(
            go.Scatter(x=times, y=actual, mode="markers", name=f"{call_type}: actual", marker={"size": 4}),
            row=row,
            col=1,
        )
        figure.add_trace(
            go.Scatter(x=times, y=fitted, mode="lines", name=f"{call_type}: forecast", connectgaps=False),
            row=row,
            col=1,
        )
        figure.update_yaxes(title_text="calls per interval", row=row, col=1)
    figure.update_layout(height=320 * len(call_types), title="Forecast against actual, held-out weeks")
    return figure


def _qq(figure: go.Figure, values: np.ndarray, fitted: Fitted, name: str) -> None:
    data = np.sort(np.asarray(values, dtype=float))
    probabilities = (np.arange(1, len(data) + 1) - 0.5) / len(data)
    keep = np.unique(np.linspace(0, len(data) - 1, min(QQ_POINTS, len(data))).astype(int))
    theoretical = fitted.law.ppf(probabilities[keep])
    figure.add_trace(go.Scatter(x=theoretical, y=data[keep], mode="markers", name=f"{name} ({fitted.family})"))


def qq_chart(fit: CallTypeFit) -> go.Figure:
    """Observed quantiles against the fitted law's, for talk and wrap seconds: on the diagonal, the law fits."""
    figure = go.Figure()
    _qq(figure, fit.talk, fit.handle_time, "handle time")
    if fit.after_call_work is not None:
        _qq(figure, fit.wrap, fit.after_call_work, "wrap-up")
    top = max(float(np.max(np.concatenate([trace.x, trace.y]))) for trace in figure.data)
    figure.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="fits exactly", line={"dash": "dot"}))
    figure.update_layout(
        title=f"{fit.call_type}: QQ plot of the fitted laws",
        xaxis_title="fitted law's quantile, seconds",
        yaxis_title="observed quantile, seconds",
    )
    return figure


def patience_chart(fit: CallTypeFit) -> go.Figure:
    """The share of callers still willing to wait after t seconds: Kaplan-Meier from the censored waits, and the
    fitted law."""
    survival = kaplan_meier(fit.abandoned_waits, fit.answered_waits)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=survival["seconds"], y=survival["survival"], mode="lines", line_shape="hv", name="Kaplan-Meier")
    )
    seconds = np.linspace(0, float(survival["seconds"].max()), 200)
    figure.add_trace(
        go.Scatter(x=seconds, y=fit.patience.law.sf(seconds), mode="lines", name=f"fitted {fit.patience.family}")
    )
    figure.update_layout(
        title=f"{fit.call_type}: patience survival",
        xaxis_title="seconds waited",
        yaxis_title="share still willing to wait",
        yaxis_range=[0, 1.02],
    )
    return figure


def replay_chart(days: pd.DataFrame) -> go.Figure:
    """Service level and abandonment per day: the history (solid) against the fitted model replaying it (dashed)."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=["Service level", "Abandonment"])
    for call_type, own in days.groupby("call_type", sort=False):
        for row, kpi in ((1, "service_level"), (2, "abandon_rate")):
            if own[f"{kpi}_history"].notna().any():
                figure.add_trace(
                    go.Scatter(
                        x=own["date"], y=own[f"{kpi}_history"], mode="lines+markers", name=f"{call_type}: history"
                    ),
                    row=row,
                    col=1,
                )
            figure.add_trace(
                go.Scatter(
                    x=own["date"],
                    y=own[f"{kpi}_simulated"],
                    mode="lines+markers",
                    line={"dash": "dash"},
                    name=f"{call_type}: fitted model",
                    legendgroup=f"{call_type}: fitted model",
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
    figure.update_yaxes(tickformat=".0%")
    figure.update_layout(height=600, title="The history's days replayed by the fitted model")
    return figure
