"""The outbound trade-off of a sweep: per cell, the inbound service level against a campaign's right-party
connects per dialling hour, each with its 95% confidence bars (ContactCenters' Blend example: the dialer's
threshold trades inbound service for outbound contacts)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from bposim.charts import styled


def campaign_names(cells: pd.DataFrame) -> list[str]:
    """The campaigns with columns in a results or cells table (`outbound.<campaign>.right_party_per_hour`)."""
    suffix = ".right_party_per_hour"
    return [
        str(column).removeprefix("outbound.").removesuffix(suffix)
        for column in cells.columns
        if str(column).startswith("outbound.") and str(column).endswith(suffix)
    ]


def service_vs_connects(cells: pd.DataFrame, campaign: str, factors: list[str], target: float | None) -> go.Figure:
    """One point per cell: right-party connects per dialling hour of `campaign` (x) against the inbound service
    level (y), with 95% confidence bars on both, labelled by the cell's factor levels."""
    x = cells[f"outbound.{campaign}.right_party_per_hour"]
    x_ci = cells.get(f"outbound.{campaign}.right_party_per_hour_ci")
    labels = [", ".join(str(row[factor]) for factor in factors) or f"cell {row['cell']}" for _, row in cells.iterrows()]
    fig = go.Figure()
    fig.add_scatter(
        x=x,
        y=cells["service_level"],
        mode="markers+text",
        text=labels,
        textposition="top center",
        error_x={"type": "data", "array": None if x_ci is None else x_ci.fillna(0.0)},
        error_y={"type": "data", "array": cells["service_level_ci"].fillna(0.0)},
        name="cells",
    )
    if target is not None:
        fig.add_hline(y=target, line_dash="dot", annotation_text="target")
    return styled(
        fig,
        f"Inbound service level vs {campaign} right-party connects per hour (95% CI)",
        xaxis_title="right-party connects per dialling hour",
        yaxis_title="inbound service level",
        yaxis_tickformat=".0%",
    )
