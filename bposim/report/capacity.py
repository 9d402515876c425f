"""The report of `bposim plan`: FTE available against required week by week (with the band across replications),
the service level and P(meets) per week, the headcount, the months, and the what-ifs' P(meets) against cost; when
the plan is priced, its margin by week and the what-ifs' P(meets) against margin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go

from bposim.capacity.margin import MONEY
from bposim.charts import PALETTE, TEMPLATE
from bposim.formatting import amount, share
from bposim.report.html import Section, html_table, write_page

if TYPE_CHECKING:
    import pandas as pd

    from bposim.capacity import CapacityResult


def capacity_report(result: CapacityResult, path: str | Path, options: pd.DataFrame | None = None) -> Path:
    """Write the plan's report to `path` (with the what-if chart when `options` holds several plans)."""
    weekly = result.weekly
    sections = [
        Section(
            "FTE available and required",
            "Per group and week: FTE on the phones (productive heads after shrinkage; trainees count nothing, nesting "
            "agents their productivity), the mean over replications with its 10th-90th percentile band, against the "
            "FTE the week's volume requires (Erlang, on the phones).",
            figure=fte_chart(weekly),
        ),
        Section(
            "Service level and P(meets) per week",
            f"The centre's service level each week (mean over replications), and the share of replications meeting "
            f"the target of {share(result.target, digits=0)}.",
            figure=service_chart(weekly, result.target),
        ),
        Section(
            "Headcount",
            "Agents employed (mean over replications): tenured, nesting and in training.",
            figure=headcount_chart(weekly),
        ),
        Section(
            "Months",
            "Each month's service level pooled over its weeks, and P(month meets the target); when the plan is priced, "
            "its revenue, credits, bonuses, cost and margin (means over replications).",
            table=_months_table(result.months, result.priced),
        ),
        Section("Weeks", "", table=_weeks_table(weekly)),
    ]
    if result.priced:
        sections.insert(
            0,
            Section(
                "Margin by week",
                "What the plan earns each week (mean over replications): revenue billed under the contracts, credits "
                "owed and bonuses earned by their service-level clauses (a month's shared over its weeks by "
                "revenue), the plan's cost (paid hours × wage), and the margin = revenue − credits + bonuses − cost "
                "with its 10th-90th percentile band across replications.",
                figure=margin_chart(result.margin),
            ),
        )
    if options is not None and len(options) > 1:
        sections.insert(
            0,
            Section(
                "What-if: P(every month meets) against cost",
                "Each option's hiring classes under the same random numbers: its cost over the plan against the "
                "chance that every month meets its target.",
                figure=options_chart(options),
                table=_options_table(options, result.priced),
            ),
        )
        if result.priced:
            sections.insert(
                1,
                Section(
                    "What-if: P(every month meets) against margin",
                    "The same options by their margin over the plan (revenue − credits + bonuses − cost): hiring "
                    "more costs more but may save credits and earn bonuses.",
                    figure=options_chart(options, "margin"),
                ),
            )
    return write_page(path, f"{result.plan.name} — capacity plan", sections)


def fte_chart(weekly: pd.DataFrame) -> go.Figure:
    """Available FTE with its band, and required FTE, per week and group."""
    figure = go.Figure()
    for n, (group, rows) in enumerate(weekly.groupby("group", sort=False)):
        colour = PALETTE[n % len(PALETTE)]
        x = rows["week_start"].tolist()
        figure.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=rows["available_high"].tolist() + rows["available_low"].tolist()[::-1],
                fill="toself",
                line={"width": 0},
                fillcolor=colour,
                opacity=0.2,
                name=f"{group}: available, 10th-90th percentile",
                hoverinfo="skip",
            )
        )
        figure.add_trace(go.Scatter(x=x, y=rows["available_fte"], name=f"{group}: available", line={"color": colour}))
        figure.add_trace(
            go.Scatter(x=x, y=rows["required_fte"], name=f"{group}: required", line={"color": colour, "dash": "dash"})
        )
    figure.update_layout(template=TEMPLATE, xaxis_title="week", yaxis_title="FTE on the phones")
    return figure


def service_chart(weekly: pd.DataFrame, target: float) -> go.Figure:
    """The service level per week, its target, and P(meets) on a second axis."""
    weeks = weekly.drop_duplicates("week")
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=weeks["week_start"], y=weeks["service_level"], name="service level"))
    figure.add_trace(go.Bar(x=weeks["week_start"], y=weeks["p_meets"], name="P(meets)", opacity=0.3, yaxis="y2"))
    figure.add_hline(y=target, line_dash="dot", annotation_text="target")
    figure.update_layout(
        template=TEMPLATE,
        yaxis={"title": "service level", "tickformat": ".0%"},
        yaxis2={
            "title": "P(meets)",
            "overlaying": "y",
            "side": "right",
            "range": [0, 1.05],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".0%",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def headcount_chart(weekly: pd.DataFrame) -> go.Figure:
    """Agents employed each week, stacked: tenured, nesting, training (all groups)."""
    weeks = weekly.groupby("week_start", sort=False)[["start", "hires", "training", "nesting"]].sum()
    present = weeks["start"] + weeks["hires"]
    figure = go.Figure()
    for name, values in (
        ("tenured", present - weeks["training"] - weeks["nesting"]),
        ("nesting", weeks["nesting"]),
        ("training", weeks["training"]),
    ):
        figure.add_trace(go.Bar(x=weeks.index, y=values, name=name))
    figure.update_layout(template=TEMPLATE, barmode="stack", yaxis_title="agents employed")
    return figure


def margin_chart(margin: pd.DataFrame) -> go.Figure:
    """Revenue, cost and margin per week, the margin with its band across replications, and credits as bars."""
    x = margin["week_start"].tolist()
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x + x[::-1],
            y=margin["margin_high"].tolist() + margin["margin_low"].tolist()[::-1],
            fill="toself",
            line={"width": 0},
            fillcolor=PALETTE[2],
            opacity=0.2,
            name="margin, 10th-90th percentile",
            hoverinfo="skip",
        )
    )
    figure.add_trace(go.Scatter(x=x, y=margin["margin"], name="margin", line={"color": PALETTE[2]}))
    figure.add_trace(go.Scatter(x=x, y=margin["revenue"], name="revenue", line={"color": PALETTE[0]}))
    figure.add_trace(go.Scatter(x=x, y=margin["cost"], name="cost", line={"color": PALETTE[1], "dash": "dash"}))
    figure.add_trace(go.Bar(x=x, y=margin["credits"], name="credits", marker_color=PALETTE[3], opacity=0.6))
    figure.add_hline(y=0, line_dash="dot")
    figure.update_layout(template=TEMPLATE, xaxis_title="week", yaxis_title="per week")
    return figure


def options_chart(options: pd.DataFrame, by: str = "cost") -> go.Figure:
    """One point per plan: its cost (or margin, `by`) over the plan against P(every month meets)."""
    figure = go.Figure(
        go.Scatter(
            x=options[by],
            y=options["p_all_months_meet"],
            mode="markers+text",
            text=options["option"],
            textposition="top center",
            hovertext=options["classes"],
            marker={"size": 12},
        )
    )
    figure.update_layout(
        template=TEMPLATE,
        xaxis_title=f"{by} over the plan",
        yaxis={
            "title": "P(every month meets)",
            "range": [-0.05, 1.15],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "tickformat": ".0%",
        },
    )
    return figure


def _months_table(months: pd.DataFrame, priced: bool) -> str:
    money = MONEY if priced else ()
    rows = [
        [row["month"], str(row["weeks"]), share(row["service_level"]), share(row["p_meets"], digits=0)]
        + [amount(row[key]) for key, _ in money]
        for row in months.to_dict("records")
    ]
    header = ["Month", "Weeks", "Service level", "P(meets)", *(label for _, label in money)]
    return html_table(header, rows, None, 1)


def _weeks_table(weekly: pd.DataFrame) -> str:
    header = [
        "Week",
        "Group",
        "Start",
        "Hires",
        "Leavers",
        "End",
        "Training",
        "Nesting",
        "Available FTE",
        "Required FTE",
        "Gap FTE",
        "Cost",
        "Service level",
        "P(meets)",
    ]
    rows = [
        [
            row.week_start,
            row.group,
            amount(row.start, spec=",.1f"),
            amount(row.hires, spec=",.1f"),
            amount(row.leavers + row.washouts, spec=",.1f"),
            amount(row.end, spec=",.1f"),
            amount(row.training, spec=",.1f"),
            amount(row.nesting, spec=",.1f"),
            amount(row.available_fte, spec=",.1f"),
            amount(row.required_fte, spec=",.1f"),
            amount(row.gap_fte, spec=",.1f", signed=True),
            amount(row.cost),
            share(row.service_level),
            share(row.p_meets, digits=0),
        ]
        for row in weekly.itertuples(index=False)
    ]
    return html_table(header, rows, None, 2)


def _options_table(options: pd.DataFrame, priced: bool) -> str:
    money = ("revenue", "credits", "margin") if priced else ()
    rows = [
        [row["option"], row["classes"], amount(row["cost"])]
        + [amount(row[key]) for key in money]
        + [share(row["p_all_months_meet"], digits=0), share(row["months_meeting_share"], digits=0)]
        for row in options.to_dict("records")
    ]
    header = ["Option", "Hiring classes", "Cost", *(key.capitalize() for key in money)]
    return html_table([*header, "P(every month meets)", "Months meeting"], rows, None, 2)
