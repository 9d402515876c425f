"""The report of `bposim requirement`: the agents required per interval and group, Erlang's and the simulation's,
on the phones and scheduled, as a chart and a table; and the service level they reached on fresh days."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.charts import PALETTE, TEMPLATE
from bposim.formatting import amount, share
from bposim.report.html import Section, html_table, write_page

if TYPE_CHECKING:
    from bposim.planning import PlanningRequirement

LINES = (  # column, name in the legend, colour, dash
    ("erlang", "Erlang, on the phones", PALETTE[1], "dash"),
    ("simulation", "simulation, on the phones", PALETTE[0], "dash"),
    ("erlang_scheduled", "Erlang, scheduled", PALETTE[1], "solid"),
    ("simulation_scheduled", "simulation, scheduled", PALETTE[0], "solid"),
)


def requirement_report(found: PlanningRequirement, name: str, path: str | Path) -> Path:
    """Write the requirement's report (`bposim.planning.PlanningRequirement`) to `path`; return `path`."""
    table = found.table
    columns = [column for column in ("interval_start", "group", "call_types") if column in table.columns]
    figures = [column for column, *_ in LINES if column in table.columns]
    header = ["Interval", "Group", "Serves", *[_label(column) for column in figures], "Shrinkage"]
    rows = [
        [
            *(str(getattr(row, column)) for column in columns),
            *(_figure(column, getattr(row, column)) for column in figures),
            share(row.shrinkage, digits=0),
        ]
        for row in table.itertuples(index=False)
    ]
    achieved = found.achieved
    levels = [
        [
            row.call_type,
            row.interval_start,
            amount(row.offered),
            share(row.service_level, row.service_level_ci),
            share(row.target, digits=0),
        ]
        for row in achieved.itertuples(index=False)
    ]
    count = "the simulation's" if found.method != "erlang" else f"{found.model}'s"
    sections = [
        Section(
            "Agents required",
            f"Per group and interval, by {_sources(found)}: the agents on the phones (dashed) and the agents to "
            "schedule, grossed up for shrinkage (solid: on the phones / (1 − shrinkage)).",
            figure=requirement_chart(found, name),
        ),
        Section(
            "Requirement table", "Scheduled figures are FTE, not rounded.", table=html_table(header, rows, None, 3)
        ),
        Section(
            "Service level on fresh days",
            f"At {count} requirement, on {found.replications} days the search never saw (seed {found.seed}); "
            "offered over all the days, service level ± 95% confidence half-width.",
            table=html_table(
                ["Call type", "Interval", "Offered", "Service level", "Target"],
                levels,
                achieved["met"].astype(bool).tolist(),
                2,
            ),
        ),
    ]
    return write_page(path, f"{name}: agents required", sections)


def requirement_chart(found: PlanningRequirement, name: str) -> go.Figure:
    """One panel per group: the agents required per interval, on the phones and scheduled, by each method."""
    table = found.table
    groups = list(dict.fromkeys(table["group"]))
    fig = make_subplots(rows=len(groups), cols=1, shared_xaxes=True, subplot_titles=[f"Agents: {g}" for g in groups])
    for row, group in enumerate(groups, start=1):
        mine = table[table["group"] == group]
        for column, legend, color, dash in LINES:
            if column not in mine.columns:
                continue
            fig.add_trace(
                go.Scatter(
                    x=mine["interval_start"],
                    y=mine[column],
                    name=legend,
                    legendgroup=legend,
                    showlegend=row == 1,
                    mode="lines",
                    line={"shape": "hv", "color": color, "dash": dash},
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=row, col=1)
    fig.update_xaxes(title_text="interval start", row=len(groups), col=1)
    fig.update_layout(
        title={"text": f"{name}: agents required"},
        template=TEMPLATE,
        hovermode="x unified",
        height=max(380, 300 * len(groups)),
    )
    return fig


def _sources(found: PlanningRequirement) -> str:
    """The methods shown: "Erlang A", "simulation" or "Erlang A and simulation"."""
    return {"erlang": found.model, "simulation": "simulation"}.get(found.method, f"{found.model} and simulation")


def _label(column: str) -> str:
    """A figure's column heading: "Erlang", "Scheduled (simulation)"."""
    method, _, scheduled = column.partition("_")
    return f"Scheduled ({method})" if scheduled else method.capitalize()


def _figure(column: str, value: float) -> str:
    """Agents on the phones whole, scheduled FTE to one decimal."""
    return amount(value, spec=",.1f") if column.endswith("_scheduled") else amount(value)
