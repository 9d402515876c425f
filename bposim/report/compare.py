"""The report of two scenarios compared (`bposim compare --report`): the table of differences with their paired
95% intervals, and a chart of each KPI's difference per call type, its interval as a bar across zero."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.comparison import KPIS
from bposim.comparison_views import LABELS, comparison_rows, in_points, shown
from bposim.report.html import Section, html_table, write_page

UNIT_TITLES = {"share": "pts", "seconds": "s"}


def compare_report(table: pd.DataFrame, path: str | Path, name_a: str, name_b: str, facts: str) -> Path:
    """Write the comparison of `name_b` against `name_a` (`bposim.comparison.compare`'s table) to `path`."""
    rows = comparison_rows(table)
    body = html_table(rows.header, rows.rows, rows.significant, numeric_from=2)
    text = (
        f"A = {name_a}, B = {name_b}. {facts} Each difference is B − A replication by replication, its mean with the "
        "95% Student-t interval of those differences; a green edge marks an interval that excludes 0. "
        "'Unpaired ±' is the half-width two independent runs would give: what simulating both on the same days saves."
    )
    sections = [
        Section("Differences", text, table=body),
        Section(
            "Each KPI's difference per call type",
            "The dot is the mean difference, the bar its paired 95% interval; left of the zero line B is lower.",
            figure=difference_chart(table),
        ),
    ]
    return write_page(path, f"{name_b} against {name_a}", sections)


def difference_chart(table: pd.DataFrame) -> go.Figure:
    """One panel per KPI: each call type's mean difference B − A with its paired 95% interval, a line at zero."""
    table = in_points(shown(table))
    kpis = [kpi for kpi in KPIS if kpi in set(table["kpi"])]  # service level first, whatever the first row holds
    titles = [f"{LABELS.get(kpi, kpi)} ({_unit(table, kpi)})" for kpi in kpis]
    figure = make_subplots(rows=1, cols=len(kpis), subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.04)
    order = list(dict.fromkeys(table["call_type"]))
    for column, kpi in enumerate(kpis, start=1):
        part = table[table["kpi"] == kpi].set_index("call_type").reindex(order).dropna(subset=["difference"])
        colours = ["#2ca02c" if flag else "#7f7f7f" for flag in part["significant"].astype(bool)]
        figure.add_trace(
            go.Scatter(
                x=part["difference"],
                y=list(part.index),
                mode="markers",
                marker={"size": 10, "color": colours},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["high"] - part["difference"]).fillna(0),
                    "arrayminus": (part["difference"] - part["low"]).fillna(0),
                    "thickness": 2,
                    "width": 6,
                },
                name=LABELS.get(kpi, kpi),
                showlegend=False,
                hovertemplate="%{y}: %{x:.2f} " + _unit(table, kpi) + "<extra></extra>",
            ),
            row=1,
            col=column,
        )
        figure.add_vline(x=0, line_dash="dot", line_color="#444", row=1, col=column)
    figure.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=order)
    figure.update_layout(height=140 + 60 * len(order), margin={"l": 10, "r": 10, "t": 60, "b": 40})
    return figure


def _unit(table: pd.DataFrame, kpi: str) -> str:
    unit = str(table.loc[table["kpi"] == kpi, "unit"].iloc[0])
    return UNIT_TITLES.get(unit, unit)
