"""Plotly figures of an optimised roster: agents required against agents scheduled, and what the roster achieved."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.charts import PALETTE, TEMPLATE
from bposim.formatting import money

if TYPE_CHECKING:
    from bposim.optimise.roster import RosterPlan


def requirement_vs_scheduled(plan: RosterPlan) -> go.Figure:
    """Per scheduled group, agents required and scheduled by interval; below, the service level achieved.

    Required is the staffing requirement, and with what the closed loop added when the simulated roster
    missed; scheduled is agents on the phones (breaks taken out) and logged in.
    """
    coverage = plan.schedule.coverage
    groups = list(dict.fromkeys(coverage["group"]))
    base = plan.requirement.table.set_index(["group", "interval"])["required"]
    closing = plan.scenario.horizon.end
    titles = [f"Agents: {group}" for group in groups] + ["Service level achieved (fresh days, 95% CI)"]
    fig = make_subplots(rows=len(groups) + 1, cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.08)
    for row, group in enumerate(groups, start=1):
        mine = coverage[coverage["group"] == group]
        x = [*mine["interval_start"], closing]  # each step drawn to the interval's end, the last to closing
        first = row == 1
        requirement = [base.get((group, i), 0) for i in mine["interval"]]
        lines = [
            ("requirement", requirement, PALETTE[1], "dash"),
            ("requirement as the loop left it", mine["required"].tolist(), PALETTE[1], "solid"),
            ("scheduled, on the phones", mine["scheduled"].tolist(), PALETTE[0], "solid"),
            ("scheduled, logged in", mine["logged_in"].tolist(), PALETTE[0], "dot"),
        ]
        for name, values, color, dash in lines:
            values = [*values, values[-1]]
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=values,
                    name=name,
                    legendgroup=name,
                    showlegend=first,
                    mode="lines",
                    line={"shape": "hv", "color": color, "dash": dash},
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=row, col=1)
    last = len(groups) + 1
    achieved = plan.achieved
    for k, (name, part) in enumerate(achieved.groupby("call_type", observed=True, sort=False)):
        color = PALETTE[(k + 2) % len(PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=part["interval_start"],
                y=part["service_level"],
                name=f"{name} service level",
                mode="lines+markers",
                line={"color": color},
                error_y={"type": "data", "array": part["service_level_ci"], "visible": True},
            ),
            row=last,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=part["interval_start"],
                y=part["target"],
                name=f"{name} target",
                mode="lines",
                line={"color": color, "dash": "dash", "shape": "hv"},
            ),
            row=last,
            col=1,
        )
    fig.update_yaxes(title_text="service level", tickformat=".0%", row=last, col=1)
    fig.update_xaxes(title_text="interval start", row=last, col=1)
    title = (
        f"{plan.scenario.name}: {sum(plan.schedule.agents)} agents on {len(plan.schedule.agents)} shifts, "
        f"cost {money(plan.cost, plan.cost_unit)}"
    )
    fig.update_layout(title={"text": title}, template=TEMPLATE, hovermode="x unified", height=320 * len(groups) + 320)
    return fig


def requirement_by_channel(plan: RosterPlan) -> go.Figure:
    """The requirement per interval stacked by channel: each group's agents split by its channels' share of its
    load (`Requirement.by_channel`), summed over groups."""
    by_channel = plan.requirement.by_channel
    closing = plan.scenario.horizon.end
    fig = go.Figure()
    for k, (channel, part) in enumerate(by_channel.groupby("channel", observed=True, sort=True)):
        values = part["required"].tolist()
        fig.add_trace(
            go.Scatter(
                x=[*part["interval_start"], closing],
                y=[*values, values[-1]],
                name=str(channel),
                mode="lines",
                stackgroup="channels",
                line={"shape": "hv", "color": PALETTE[k % len(PALETTE)]},
            )
        )
    fig.update_yaxes(title_text="agents required", rangemode="tozero")
    fig.update_xaxes(title_text="interval start")
    fig.update_layout(
        title={"text": f"{plan.scenario.name}: the requirement by channel"},
        template=TEMPLATE,
        hovermode="x unified",
        height=380,
    )
    return fig
