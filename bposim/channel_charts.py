"""Plotly figures of the channels beyond voice: the backlog of deferred work (email, case) by age band at each
closing, and the chat sessions an agent holds, interval by interval. Shaped by `bposim.channel_views`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim import channel_views
from bposim.channel_views import AGE_BANDS
from bposim.charts import PALETTE, slot_labels, styled

if TYPE_CHECKING:
    from bposim.run import Run

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
