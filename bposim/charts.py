"""Plotly figures built from the tidy tables of a `Run` and from experiment cell summaries.

The builders read tables only (no engine objects); each returns a `plotly.graph_objects.Figure`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from bposim import channel_views, formatting, metrics
from bposim.experiment.tables import pareto_frontier
from bposim.metrics import interval_profile, queue_and_busy  # shaped there, drawn here

if TYPE_CHECKING:
    from bposim.run import Run

TEMPLATE = "plotly_white"
PALETTE = qualitative.Plotly


def styled(fig: go.Figure, title: str, **kwargs: Any) -> go.Figure:
    """Apply the shared title, template and legend defaults."""
    fig.update_layout(title={"text": title}, template=TEMPLATE, hovermode="closest", **kwargs)
    return fig


def _column(cells: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as a float array, NaN when it is missing."""
    if name not in cells:
        return np.full(len(cells), np.nan)
    return pd.to_numeric(cells[name], errors="coerce").to_numpy(dtype=float)


def factor_columns(cells: pd.DataFrame) -> list[str]:
    """The factor columns of a cell summary: those between `cell` and `service_level_target`."""
    columns = list(cells.columns)
    if "cell" in columns and "service_level_target" in columns:
        return columns[columns.index("cell") + 1 : columns.index("service_level_target")]
    return []


def currency(data: Run | pd.DataFrame, given: str | None = None) -> str:
    """The currency of costs: `given`, else the data's (a cell summary's currency column, a Run's scenario), else
    "currency units"."""
    scenario = getattr(data, "scenario", None)
    if isinstance(data, pd.DataFrame):
        known = data["currency"].iloc[0] if "currency" in data and len(data) else ""
    else:
        known = scenario.costs.currency if scenario is not None and scenario.costs is not None else ""
    return given or known or "currency units"


def cost_unit(data: Run | pd.DataFrame, given: str | None = None) -> str:
    """What a cost is in, e.g. "EUR per day": the currency, per day when a replication is one day, else per
    replication."""
    scenario = getattr(data, "scenario", None)
    if isinstance(data, pd.DataFrame):
        days = data["horizon_days"].iloc[0] if "horizon_days" in data and len(data) else None
    else:
        days = scenario.horizon.days if scenario is not None else data.staffing["day"].nunique()
    return f"{currency(data, given)} per {'day' if days == 1 else 'replication'}"


def _hover(cells: pd.DataFrame, factors: list[str]) -> list[str]:
    """One hover label per cell listing its factor values."""
    labels = []
    for _, row in cells.iterrows():
        parts = [f"cell {row['cell']}"] if "cell" in cells else []
        parts += [f"{name}: {row[name]}" for name in factors]
        labels.append("<br>".join(parts))
    return labels


def service_level_vs_cost(
    cells: pd.DataFrame, target: float | None = None, color_by: str | None = None, currency: str | None = None
) -> go.Figure:
    """Mean service level against mean total cost per sweep cell, with 95% CI bars, Pareto frontier and target."""
    if color_by is not None and color_by not in cells:
        raise ValueError(f"color_by {color_by!r} is not a column of the cell summary")
    factors = factor_columns(cells)
    channels = [c for c in channel_views.CHANNELS if f"{c}.service_level" in cells]
    if channels not in ([], ["voice"]) and ("service_level" not in cells or cells["service_level"].isna().all()):
        return _channel_levels_vs_cost(cells, channels, factors, currency)
    fig = go.Figure()
    groups = [(None, cells)] if color_by is None else list(cells.groupby(color_by, sort=True))
    for i, (key, part) in enumerate(groups):
        fig.add_trace(
            go.Scatter(
                x=_column(part, "total_cost"),
                y=_column(part, "service_level"),
                mode="markers",
                name="cells" if color_by is None else f"{color_by} = {key}",
                marker={"size": 10, "color": PALETTE[i % len(PALETTE)]},
                error_x={"type": "data", "array": _column(part, "total_cost_ci"), "visible": True, "thickness": 1},
                error_y={"type": "data", "array": _column(part, "service_level_ci"), "visible": True, "thickness": 1},
                customdata=part["cell"].to_numpy() if "cell" in part else None,
                text=_hover(part, factors),
                hovertemplate="%{text}<br>cost %{x:,.0f}<br>service level %{y:.1%}<extra></extra>",
            )
        )
    frontier = pareto_frontier(cells)
    fig.add_trace(
        go.Scatter(
            x=frontier["total_cost"].to_numpy(dtype=float),
            y=frontier["service_level"].to_numpy(dtype=float),
            mode="lines",
            name="Pareto frontier",
            line={"color": "black", "dash": "dot", "shape": "hv"},
            hoverinfo="skip",
        )
    )
    if target is None and "service_level_target" in cells and cells["service_level_target"].nunique() == 1:
        target = float(cells["service_level_target"].iloc[0])
    if target is not None:
        fig.add_hline(y=target, line={"color": "firebrick", "dash": "dash"}, annotation_text=f"target {target:.0%}")
    fig.update_xaxes(title_text=f"Mean total cost ({cost_unit(cells, currency)})", tickformat=",.0f")
    fig.update_yaxes(title_text="Mean service level (% of calls)", tickformat=".0%")
    return styled(fig, "Service level vs cost per sweep cell (95% CI)", legend_title_text=color_by or "")


def _channel_levels_vs_cost(
    cells: pd.DataFrame, channels: list[str], factors: list[str], currency: str | None
) -> go.Figure:
    """Each channel's mean service level against mean total cost per sweep cell, with 95% CI bars: a centre of
    several channels has no overall service level to put on one axis."""
    fig = go.Figure()
    for i, channel in enumerate(channels):
        fig.add_trace(
            go.Scatter(
                x=_column(cells, "total_cost"),
                y=_column(cells, f"{channel}.service_level"),
                mode="markers",
                name=channel,
                marker={"size": 10, "color": PALETTE[i % len(PALETTE)]},
                error_x={"type": "data", "array": _column(cells, "total_cost_ci"), "visible": True, "thickness": 1},
                error_y={
                    "type": "data",
                    "array": _column(cells, f"{channel}.service_level_ci"),
                    "visible": True,
                    "thickness": 1,
                },
                customdata=cells["cell"].to_numpy() if "cell" in cells else None,
                text=_hover(cells, factors),
                hovertemplate=f"%{{text}}<br>cost %{{x:,.0f}}<br>{channel} service level %{{y:.1%}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text=f"Mean total cost ({cost_unit(cells, currency)})", tickformat=",.0f")
    fig.update_yaxes(title_text="Mean service level per channel (% of contacts)", tickformat=".0%")
    return styled(fig, "Service level per channel vs cost per sweep cell (95% CI)", legend_title_text="channel")


def slot_labels(table: pd.DataFrame, dates: list | None = None) -> pd.Series:
    """A label per row for its day and interval: HH:MM, prefixed by the day (its date, given the horizon's
    `dates`) when there are several."""
    start = table["interval_start"].astype(str) if "interval_start" in table else table["interval"].astype(str)
    if table["day"].nunique() > 1:
        labels = [formatting.day_label(day, text, dates) for day, text in zip(table["day"], start, strict=True)]
        return pd.Series(labels, index=table.index)
    return start


def horizon_dates(run: Run) -> list | None:
    """The dates of a run's days, when its horizon has a start_date (else None)."""
    scenario = getattr(run, "scenario", None)
    return scenario.horizon.dates() if scenario is not None and scenario.horizon.calendar else None


CONTACTS = {"voice": "calls", "chat": "chats"}  # what a live channel's contacts are called on axes and legends


def day_profile(run: Run, call_type: str | None = None, channel: str | None = None) -> go.Figure:
    """By interval: offered calls (bars), service level vs target (secondary axis) and scheduled vs on-phone agents.

    `channel` (a live one) keeps its call types and the agent groups holding their skills."""
    profile = interval_profile(run if channel is None else channel_views.live_view(run, channel), call_type)
    contacts = CONTACTS.get(channel or "voice", "contacts")
    if "interval_start" in profile:
        profile["interval_start"] = profile["interval_start"].fillna(profile["interval"].astype(str))
    x = slot_labels(profile, horizon_dates(run)).tolist()
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        row_heights=[0.6, 0.4],
        specs=[[{"secondary_y": True}], [{}]],
    )
    fig.add_trace(go.Bar(x=x, y=profile["offered"], name=f"offered {contacts}", marker_color="#9ecae1"), row=1, col=1)
    fig.add_trace(
        go.Scatter(x=x, y=profile["service_level"], name="service level", mode="lines+markers", line_color="#08519c"),
        row=1,
        col=1,
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(x=x, y=profile["target"], name="target", mode="lines", line={"color": "firebrick", "dash": "dash"}),
        row=1,
        col=1,
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(x=x, y=profile["scheduled"], name="scheduled agents", mode="lines", line={"shape": "hv"}),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(x=x, y=profile["on_phone"], name="on-phone agents", mode="lines", line={"shape": "hv"}),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text=f"Offered {contacts} (per interval)", row=1, col=1, secondary_y=False)
    fig.update_yaxes(
        title_text="Service level (%)",
        tickformat=".0%",
        range=[0, 1.05],
        tick0=0,
        dtick=0.2,
        showgrid=False,
        row=1,
        col=1,
        secondary_y=True,
    )
    fig.update_yaxes(title_text="Agents", row=2, col=1, **({"rangemode": "tozero"} if channel else {}))
    fig.update_xaxes(title_text="Interval start (HH:MM)", row=2, col=1)
    scope = "".join(f" — {name}" for name in (channel, call_type) if name)
    return styled(fig, f"Day profile{scope}: demand, service level and staffing", bargap=0.1)


def occupancy_heatmap(run: Run) -> go.Figure:
    """Occupancy (busy / on-phone) of each agent group in each interval, as a heatmap."""
    staffing = run.staffing.sort_values(["day", "interval"]).copy()
    staffing["slot"] = slot_labels(staffing, horizon_dates(run))
    slots = list(dict.fromkeys(staffing["slot"]))
    grid = staffing.pivot_table(index="group", columns="slot", values="occupancy", aggfunc="mean", sort=True)
    grid = grid.reindex(columns=slots)
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float),
            x=list(grid.columns),
            y=list(grid.index),
            zmin=0,
            zmax=1,
            colorscale="YlOrRd",
            colorbar={"title": {"text": "occupancy"}, "tickformat": ".0%"},
            hovertemplate="%{y} at %{x}<br>occupancy %{z:.1%}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="Interval start (HH:MM)")
    fig.update_yaxes(title_text="Agent group")
    return styled(fig, "Occupancy by agent group and interval (busy / on-phone, %)")


def cost_components(run_or_cells: Run | pd.DataFrame) -> pd.DataFrame:
    """Long table (bar, component, amount): a Run's cost items by item, or a cell summary's cost_<component> means."""
    if isinstance(run_or_cells, pd.DataFrame):
        cells = run_or_cells
        components = [
            c
            for c in cells.columns
            if c.startswith("cost_") and not c.endswith("_ci") and c != "cost_per_handled_contact"
        ]
        bars = cells["cell"].astype(str) if "cell" in cells else pd.Series(cells.index.astype(str), index=cells.index)
        if factor_columns(cells):
            bars = cells[factor_columns(cells)].astype(str).agg(" / ".join, axis=1)
        long = pd.DataFrame(
            [
                {"bar": bars.loc[i], "component": c.removeprefix("cost_"), "amount": float(cells.loc[i, c])}
                for i in cells.index
                for c in components
            ],
            columns=["bar", "component", "amount"],
        )
        return long
    costs = run_or_cells.costs
    if costs.empty:
        return pd.DataFrame(columns=["bar", "component", "amount"])
    long = costs.groupby(["item", "component"], as_index=False, sort=False)["amount"].sum()
    return long.rename(columns={"item": "bar"})[["bar", "component", "amount"]]


def cost_breakdown(run_or_cells: Run | pd.DataFrame, currency: str | None = None) -> go.Figure:
    """Stacked bars of cost by component: per cost item for a Run, per sweep cell for a cell summary."""
    long = cost_components(run_or_cells)
    fig = go.Figure()
    for i, (component, part) in enumerate(long.groupby("component", sort=False)):
        fig.add_trace(
            go.Bar(
                x=part["bar"],
                y=part["amount"],
                name=str(component),
                marker_color=PALETTE[i % len(PALETTE)],
                hovertemplate="%{x}<br>" + str(component) + ": %{y:,.2f}<extra></extra>",
            )
        )
    per_cell = isinstance(run_or_cells, pd.DataFrame)
    fig.update_xaxes(title_text="Sweep cell" if per_cell else "Cost item")
    fig.update_yaxes(title_text=f"Cost ({cost_unit(run_or_cells, currency)})", tickformat=",.0f")
    title = "Mean cost by component per sweep cell" if per_cell else "Cost by component and item"
    return styled(fig, title, barmode="stack", legend_title_text="component")


def outage_label(row: Any) -> str:
    """The calls an outage affected, as printed beside its bar: those arriving during it, and any dropped or blocked."""
    counts = ((row.dropped, "dropped"), (row.blocked_during, "blocked"))
    return ", ".join([f"{row.offered_during:,} calls", *(f"{count:,} {what}" for count, what in counts if count)])


def outage_timeline(run: Run) -> go.Figure:
    """One horizontal bar per tool outage on the clock (HH:MM, day-prefixed over several days), labelled with the
    calls it affected."""
    outages, staffing = run.outages, run.staffing
    scenario = getattr(run, "scenario", None)
    opening = scenario.horizon.start_seconds if scenario is not None else metrics.opening_seconds(staffing)
    several = staffing["day"].nunique() > 1
    dates = horizon_dates(run)
    fig = go.Figure()
    for i, (kind, part) in enumerate(outages.groupby("kind", sort=True)):
        text = [
            f"{row.tool} ({row.kind})<br>{row.effects}<br>from {_day_clock(opening + row.start, several, dates)} to "
            f"{_day_clock(opening + row.end, several, dates)}<br>calls offered during {row.offered_during}, "
            f"dropped {row.dropped}, blocked {row.blocked_during}"
            for row in part.itertuples()
        ]
        fig.add_trace(
            go.Bar(
                y=part["tool"],
                x=part["duration_seconds"] / 3600,
                base=(opening + part["start"]) / 3600,
                orientation="h",
                name=str(kind),
                marker_color=PALETTE[i % len(PALETTE)],
                text=[outage_label(row) for row in part.itertuples()],
                textposition="outside",
                textfont={"size": 11},
                cliponaxis=False,
                hovertext=text,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    if len(outages):
        first, last = (opening + outages["start"].min()) / 3600, (opening + outages["end"].max()) / 3600
        whole_days = 24 * math.ceil((last - first) / 24 / 12)  # outages over weeks: ticks whole days apart
        step = next((h for h in (1, 2, 3, 6, 12, 24) if (last - first) / h <= 12), whole_days)
        ticks = np.arange(np.floor(first / step) * step, last + step, step)
        fig.update_xaxes(
            tickvals=ticks,
            ticktext=[_day_clock(t * 3600, several, dates) for t in ticks],
            range=[ticks[0], max(ticks[-1], last + (last - first) * 0.15)],
        )  # room for the last label
    fig.update_xaxes(title_text="Time of day (HH:MM)")
    fig.update_yaxes(title_text="Tool", type="category")
    return styled(
        fig,
        f"Tool outages ({len(outages)}) and the calls arriving during each",
        barmode="overlay",
        legend={"title_text": "kind", "orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"},
    )


def staffing_results(results_by_agents: pd.DataFrame | Mapping[int, Run]) -> pd.DataFrame:
    """Table (agents, service_level, service_level_ci) from a DataFrame or a mapping agents → Run."""
    if isinstance(results_by_agents, pd.DataFrame):
        table = results_by_agents.copy()
    else:
        table = pd.DataFrame(
            [
                {
                    "agents": n,
                    "service_level": run.summary["service_level"],
                    "service_level_ci": run.summary.get("service_level_ci", float("nan")),
                }
                for n, run in results_by_agents.items()
            ]
        )
    if "service_level_ci" not in table:
        table["service_level_ci"] = float("nan")
    return table.sort_values("agents", ignore_index=True)[["agents", "service_level", "service_level_ci"]]


def staffing_curve(results_by_agents: pd.DataFrame | Mapping[int, Run], erlang: pd.DataFrame) -> go.Figure:
    """Service level against agents: simulated (with 95% CI) beside the analytic Erlang curve."""
    sim = staffing_results(results_by_agents)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=erlang["agents"],
            y=erlang["service_level"],
            mode="lines+markers",
            name="Erlang (analytic)",
            line={"color": "grey", "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=sim["agents"],
            y=sim["service_level"],
            mode="markers+lines",
            name="simulation",
            error_y={"type": "data", "array": sim["service_level_ci"].to_numpy(dtype=float), "visible": True},
        )
    )
    fig.update_xaxes(title_text="Agents (headcount)", dtick=1)
    fig.update_yaxes(title_text="Service level (%)", tickformat=".0%")
    return styled(fig, "Service level vs agents: simulation vs Erlang")


def _day_clock(seconds: float, several: bool, dates: list | None = None) -> str:
    """Seconds after midnight of day 0 as HH:MM, prefixed by the day (its date, given `dates`) when there are
    several."""
    clock = formatting.clock(seconds)
    day = min(int(seconds // formatting.DAY_SECONDS), len(dates) - 1) if dates else int(seconds // 86_400)
    return formatting.day_label(day, clock, dates) if several else clock


def queue_and_agents(run: Run, day: int = 0, bin_minutes: float = 5) -> go.Figure:
    """Calls waiting and agents busy over one day (time averages per bin), beside the agents on the phone.

    With channels other than voice, the queue is of live contacts only, one line per live channel (deferred work
    waits in its backlog), and a chat agent holding sessions counts once among the agents busy."""
    several = channel_views.several_channels(run)
    if several:
        table = channel_views.live_queue(run, day=day, bin_minutes=bin_minutes)
        queues = [(c, f"{CONTACTS[c]} waiting") for c in channel_views.LIVE_CHANNELS if f"waiting_{c}" in table]
    else:
        table = queue_and_busy(run, day=day, bin_minutes=bin_minutes)
        queues = [("", "calls waiting")]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.45, 0.55])
    for i, (channel, label) in enumerate(queues):
        fig.add_trace(
            go.Scatter(
                x=table["clock"],
                y=table[f"waiting_{channel}" if channel else "waiting"],
                name=label,
                mode="lines",
                line={"color": ("#d62728", "#ff7f0e")[i % 2], "shape": "hv"},
                **({"stackgroup": "waiting"} if several else {"fill": "tozeroy"}),
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=table["clock"],
            y=table["busy"],
            name="agents busy",
            mode="lines",
            line={"color": "#1f77b4", "shape": "hv"},
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=table["clock"],
            y=table["on_phone"],
            name="agents on the phone",
            mode="lines",
            line={"color": "grey", "dash": "dot", "shape": "hv"},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="Live contacts waiting (mean)" if several else "Calls waiting (mean)", row=1, col=1)
    fig.update_yaxes(title_text="Agents (mean)", row=2, col=1)
    fig.update_xaxes(title_text="Time of day (HH:MM)", row=2, col=1)
    what = "Live contacts waiting" if several else "Queue length"
    dates = horizon_dates(run)
    when = formatting.date_label(dates[day]) if dates else f"day {day}"
    return styled(fig, f"{what} and agents busy, {when} ({bin_minutes:g}-minute averages)")
