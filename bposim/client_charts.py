"""The clients of a sweep side by side: per cell and client, the client's service level (its contract clauses'
contacts within threshold over the horizon) against its margin, each with its 95% confidence bars; what one
client gains when agents or routing change, and what the other loses."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bposim.charts import styled


def client_names(cells: pd.DataFrame) -> list[str]:
    """The clients with columns in a results or cells table (`client.<name>.margin`)."""
    suffix = ".margin"
    return [
        str(column).removeprefix("client.").removesuffix(suffix)
        for column in cells.columns
        if str(column).startswith("client.") and str(column).endswith(suffix)
    ]


def service_vs_margin(cells: pd.DataFrame, factors: list[str]) -> go.Figure:
    """One point per cell and client: the client's margin (x) against its service level (y), with 95% confidence
    bars on both, one colour per client, labelled by the cell's factor levels."""
    labels = [", ".join(str(row[factor]) for factor in factors) or f"cell {row['cell']}" for _, row in cells.iterrows()]
    fig = go.Figure()
    for name in client_names(cells):
        key = f"client.{name}."
        margin_ci, level_ci = cells.get(f"{key}margin_ci"), cells.get(f"{key}service_level_ci")
        fig.add_scatter(
            x=cells[f"{key}margin"],
            y=cells[f"{key}service_level"],
            mode="markers+text",
            text=labels,
            textposition="top center",
            error_x={"type": "data", "array": None if margin_ci is None else margin_ci.fillna(0.0)},
            error_y={"type": "data", "array": None if level_ci is None else level_ci.fillna(0.0)},
            name=name,
        )
    return styled(
        fig,
        "Each client's service level vs its margin per sweep cell (95% CI)",
        xaxis_title="margin per run",
        yaxis_title="client's service level (its clauses)",
        yaxis_tickformat=".0%",
    )
