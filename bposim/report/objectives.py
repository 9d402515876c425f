"""The staff objective in a roster's report: the service level per period the roster reached on the fresh days,
and, when both objectives were solved on the same days, what each costs and the risk each carries (a table and a
bar chart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.charts import PALETTE, TEMPLATE
from bposim.formatting import amount, estimate, share
from bposim.report.html import Section, html_table

if TYPE_CHECKING:
    import pandas as pd

    from bposim.optimise import RosterPlan


def objective_sections(plan: RosterPlan, comparison: pd.DataFrame | None) -> list[Section]:
    """The period section (period objective) and the comparison section (when given)."""
    sections = []
    if plan.objective == "period" and len(plan.periods):
        confident = "confidence" in plan.periods and plan.periods["confidence"].notna().any()
        rows = [
            [
                row.call_type,
                row.period,
                share(row.service_level, row.service_level_ci),
                share(row.target, digits=0),
                _p_met(row) if confident else share(row.p_period_met, digits=0),
                share(row.p_all_met, digits=0),
                f"{row.worst_interval} {share(row.worst_service_level)}",
                share(row.floor, digits=0),
            ]
            for row in plan.periods.itertuples(index=False)
        ]
        meets = "P(period meets target)" if confident else "P(period meets)"
        header = ["Call type", "Period", "Service level", "Target", meets, "P(all met)", "Worst interval"]
        risk = (
            f" With scheduling.confidence, P(period meets target) (with its 95% interval) must reach "
            f"{share(plan.periods['confidence'].dropna().iloc[0], digits=0)}: the share of the simulated periods "
            "meeting the target (for a daily roster measured per week or month, a normal estimate from its days)."
            if confident
            else ""
        )
        sections.append(
            Section(
                "Service level per period",
                "Objective period: each call type's service level pooled over its period on the fresh days (± 95% "
                "CI), with no interval below its floor. P(period meets): the share of the periods that met their "
                "target over the fresh runs; P(all met): the share of runs in which every period met." + risk,
                table=html_table([*header, "Floor"], rows, plan.periods["met"].astype(bool).tolist(), 2),
            )
        )
    if comparison is not None and len(comparison):
        rows = [
            [
                row.objective,
                f"{estimate(row.cost, row.cost_ci or None, ',.2f')} {row.cost_unit} a {row.per}",
                f"{amount(row.shifts_cost, spec=',.2f')} {row.shifts_cost_unit} a {row.per}",
                str(row.agents),
                row.call_type,
                f"{share(row.service_level, row.service_level_ci)} per {row.period}",
                share(row.p_period_met, digits=0),
                share(row.p_all_met, digits=0),
                f"{row.worst_interval} {share(row.worst_service_level)}",
            ]
            for row in comparison.itertuples(index=False)
        ]
        header = ["Objective", "Cost", "Shifts", "Agents", "Call type", "Service level", "P(period meets)"]
        sections.append(
            Section(
                "Objectives compared",
                "The cheapest roster meeting the target in every interval, and the cheapest meeting each call "
                "type's target over its period with no interval below the floor, solved on the same days and "
                "verified on the same fresh days: what each costs (a daily roster: the fresh days' mean total a day, "
                "and the shifts if every rostered agent comes in; a weekly roster: the shifts a week), and the risk "
                "each carries.",
                table=html_table([*header, "P(all met)", "Worst interval"], rows, None, 1),
                figure=objectives_chart(comparison),
            )
        )
    return sections


def objectives_chart(comparison: pd.DataFrame) -> go.Figure:
    """Bars per objective: the shifts' cost a day, and per call type P(a period meets)."""
    per = str(comparison["per"].iloc[0])
    fig = make_subplots(rows=1, cols=2, subplot_titles=[f"Shifts' cost a {per}", "P(period meets) on the fresh days"])
    costs = comparison.drop_duplicates("objective")
    fig.add_trace(
        go.Bar(x=costs["objective"], y=costs["shifts_cost"], marker_color=PALETTE[0], name=f"cost a {per}"),
        row=1,
        col=1,
    )
    for k, (call_type, rows) in enumerate(comparison.groupby("call_type", sort=False, observed=True)):
        fig.add_trace(
            go.Bar(
                x=rows["objective"],
                y=rows["p_period_met"],
                marker_color=PALETTE[(k + 1) % len(PALETTE)],
                name=str(call_type),
            ),
            row=1,
            col=2,
        )
    fig.update_yaxes(title_text=str(costs["shifts_cost_unit"].iloc[0]), row=1, col=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1], row=1, col=2)
    fig.update_layout(template=TEMPLATE, barmode="group", height=400)
    return fig


def _p_met(row) -> str:
    """E.g. ``93% (80–98%)``: P(period meets target) and its 95% interval; the plain share where not judged."""
    if row.confidence != row.confidence:  # NaN: a call type measured per interval
        return share(row.p_period_met, digits=0)
    return f"{share(row.p_period_met, digits=0)} ({row.p_low:.0%}–{row.p_high:.0%})"
