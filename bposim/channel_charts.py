"""Plotly figures of the channels beyond voice: the backlog of deferred work (email, case) by age band at each
closing and open interval by interval through the horizon, and the chat sessions an agent holds, interval by
interval. Shaped by `bposim.channel_views`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim import channel_views
from bposim.channel_views import AGE_BANDS
from bposim.charts import PALETTE, slot_labels, styled
from bposim.formatting import clock

if TYPE_CHECKING:
    from bposim.run import Run

MAX_SHADED_NIGHTS = 62  # a longer horizon's nights are left unshaded (the lines still break)
BAND_COLOURS = dict(zip(AGE_BANDS, ("#74c476", "#fdae6b", "#d62728"), strict=True))


def backlog_by_age(run: Run) -> go.Figure:
    """Deferred items waiting at each closing (and at the first opening when a backlog was there), stacked by age
    band against each item's due time, one panel per deferred call type; means per replication."""
    ages = channel_views.backlog_ages(run)
    names = list(dict.fromkeys(ages["call_type"]))
    due = channel_views.due_hours(run)
    fig = make_subplots(
        rows=max(len(names), 1),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[f"{name} (due {due[name]:g} h after arrival)" for name in names] or None,
    )
    for row, name in enumerate(names, start=1):
        part = ages[ages["call_type"] == name]
        for band in AGE_BANDS:
            items = part[part["band"] == band]
            fig.add_trace(
                go.Bar(
                    x=items["label"],
                    y=items["items"],
                    name=band,
                    legendgroup=band,
                    showlegend=row == 1,
                    marker_color=BAND_COLOURS[band],
                    hovertemplate=f"{name}, %{{x}}<br>{band}: %{{y:,.1f}} items<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="Items waiting", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(title_text="Moment (items not yet started)", row=max(len(names), 1), col=1)
    return styled(
        fig,
        "Backlog of deferred work at each closing, by time left to its due time",
        barmode="stack",
        height=max(450, 320 * len(names)),
        legend_title_text="age band",
    )


def backlog_over_intervals(run: Run) -> go.Figure:
    """Deferred items open at each interval's end through the horizon, a line per deferred call type (dashed: the
    overdue ones among them), means per replication; broken over the nights, which are shaded. Reads the
    backlog_intervals table (`channel_views.backlog_over_intervals`)."""
    points = channel_views.backlog_over_intervals(run)
    fig = go.Figure()
    for i, (name, part) in enumerate(points.groupby("call_type", sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        gapped = _broken_at_nights(part)
        fig.add_trace(
            go.Scatter(
                x=gapped["hours"],
                y=gapped["open"],
                name=f"{name}: open",
                mode="lines",
                line={"color": colour},
                connectgaps=False,
                text=[_hover(name, row) for row in gapped.itertuples(index=False)],
                hovertemplate="%{text}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=gapped["hours"],
                y=gapped["overdue"],
                name=f"{name}: overdue",
                mode="lines",
                line={"color": colour, "dash": "dot"},
                connectgaps=False,
                hoverinfo="skip",
            )
        )
    _shade_nights(fig, run)
    fig.update_yaxes(title_text="Items open (not yet completed)", rangemode="tozero")
    return styled(fig, "Open email and case items through the horizon, interval by interval", height=460)


def _hover(name: str, point) -> str:
    """What hovering over a point of the open items says: when, how many open, and at an interval's end how many
    are overdue and the oldest one's age."""
    if pd.isna(point.open):
        return ""
    text = f"{name}, {point.label}<br>{point.open:,.1f} open"
    if not pd.isna(point.overdue):
        text += f", {point.overdue:,.1f} overdue<br>oldest {point.oldest_age_hours:.1f} h"
    return text


def _broken_at_nights(points: pd.DataFrame) -> pd.DataFrame:
    """One call type's points with an empty row after each day's closing, so that its line breaks over the night."""
    parts = []
    for _, day in points.groupby("day", sort=True):
        parts += [day, pd.DataFrame({"hours": [day["hours"].iloc[-1]], "label": [""]})]
    return pd.concat(parts[:-1], ignore_index=True) if parts else points


def _shade_nights(fig: go.Figure, run: Run) -> None:
    """Shade each night (a closing to the next opening) and label each day's opening on the x axis."""
    horizon = run.scenario.horizon
    opening, open_hours = horizon.start_seconds / 3600, horizon.open_seconds / 3600
    days = horizon.days
    step = max(1, -(-days // 10))  # at most about ten labelled openings
    ticks = [day * 24 + opening for day in range(0, days, step)]
    fig.update_xaxes(
        title_text="Day and time of day (shaded: the centre closed)",
        tickvals=ticks,
        ticktext=[f"day {day}<br>{clock(horizon.start_seconds)}" for day in range(0, days, step)],
        range=[opening - 0.5, (days - 1) * 24 + opening + open_hours + 0.5],
    )
    if days <= MAX_SHADED_NIGHTS:
        for day in range(days - 1):
            fig.add_vrect(
                x0=day * 24 + opening + open_hours,
                x1=(day + 1) * 24 + opening,
                fillcolor="#888888",
                opacity=0.12,
                line_width=0,
                layer="below",
            )


def chat_sessions(run: Run) -> go.Figure:
    """Chat sessions held per agent on the phone, per group holding chat and interval (means per replication),
    against each group's most sessions at once."""
    table = channel_views.chat_concurrency(run).sort_values(["day", "interval"])
    table = table.assign(slot=slot_labels(table)) if len(table) else table.assign(slot=[])
    caps = channel_views.concurrency_caps(run)
    fig = go.Figure()
    for i, (group, part) in enumerate(table.groupby("group", observed=True, sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=part["slot"],
                y=part["sessions_per_agent"],
                name=f"{group}: sessions per agent",
                mode="lines+markers",
                line={"color": colour, "shape": "hv"},
                customdata=part[["sessions", "on_phone"]].to_numpy(dtype=float),
                hovertemplate=f"{group} at %{{x}}<br>%{{y:.2f}} sessions per agent<br>"
                "%{customdata[0]:.1f} sessions, %{customdata[1]:.1f} agents on the phone<extra></extra>",
            )
        )
        if str(group) in caps:
            fig.add_trace(
                go.Scatter(
                    x=part["slot"],
                    y=[caps[str(group)]] * len(part),
                    name=f"{group}: most at once",
                    mode="lines",
                    line={"color": colour, "dash": "dash"},
                    hoverinfo="skip",
                )
            )
    fig.update_xaxes(title_text="Interval start (HH:MM)")
    fig.update_yaxes(title_text="Chat sessions per agent on the phone", rangemode="tozero")
    return styled(fig, "Chat concurrency: sessions held per agent on the phone, by interval")
