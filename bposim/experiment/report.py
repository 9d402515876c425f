"""What `bposim sweep` prints: the cells that meet the service-level target (overall and for every call type),
cheapest first, with their risk; when none does, every cell, the closest to the targets first."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from bposim.experiment.design import Experiment
from bposim.experiment.tables import (
    FEW,
    best_cells,
    cell_summary,
    channel_names,
    factor_columns,
    ranked_cells,
    short_on_call_types,
    shortfalls,
)
from bposim.formatting import amount, estimate, share


def print_sweep(console: Console, experiment: Experiment, results: pd.DataFrame, out: Path | None = None) -> None:
    """A table of the cells meeting the service-level target overall and for every call type (when none does, of
    every cell, the closest to the targets first: `best_cells`), then where the results are. With several channels
    (no overall service level) the table has each channel's service level, and a cell short of the target names its
    call types and their channels."""
    cells = cell_summary(results)
    feasible = ranked_cells(cells)
    factors = factor_columns(results)
    channels = channel_names(results)
    channel_of = {ct.name: ct.channel for ct in experiment.base.call_types} if channels else None
    costed = "total_cost" in cells and not cells["total_cost"].isna().all()
    unit = "Days" if experiment.base.horizon.days == 1 else "Runs"
    currency = experiment.base.costs.currency if experiment.base.costs is not None else ""
    target = experiment.base.service_level
    goal = (
        f"the service-level target of every call type ({', '.join(channels)})"
        if channels
        else f"the service-level target ({target.target:.0%} in {target.threshold_seconds:g} s) overall and for every "
        "call type"
    )
    title = (
        f"{experiment.name}: {len(feasible)} of {len(cells)} cells meet {goal}, "
        f"{experiment.replications} replications each"
        + (", cheapest first" if costed else ", fewest agent hours first")
    )
    shown = feasible
    if feasible.empty:
        shown = best_cells(cells)
        title = (
            f"{experiment.name}: no cell meets {goal}; all {len(cells)} cells, {experiment.replications} replications "
            "each, the closest to the targets first"
        )
    view = Table(title=title)
    campaigns = _campaigns(cells)
    cost = f"Cost per {unit.lower()[:-1]}" + (f", {currency}" if currency else "")
    levels = [f"{channel.capitalize()} service level" for channel in channels] or ["Service level"]
    for label in (
        "Cell",
        *factors,
        *levels,
        f"{unit} meeting target",
        "Agent hours",
        *((cost,) if costed else ()),
        *(
            f"{name}: {label}" if len(campaigns) > 1 else label.capitalize()
            for name in campaigns
            for label in ("right party / h", "nuisance")
        ),
    ):
        view.add_column(label, justify="left" if label in factors else "right", overflow="fold")
    for row in shown.to_dict(orient="records"):
        view.add_row(
            str(row["cell"]),
            *[str(row[name]) for name in factors],
            *[share(row[f"{key}service_level"], row[f"{key}service_level_ci"]) for key in _prefixes(channels)],
            share(row["met_target_share"]),
            f"{row['scheduled_agent_hours']:,.0f}",
            *((amount(row["total_cost"], row["total_cost_ci"]),) if costed else ()),
            *(
                text
                for name in campaigns
                for text in (
                    estimate(
                        row[f"outbound.{name}.right_party_per_hour"],
                        row.get(f"outbound.{name}.right_party_per_hour_ci"),
                        ",.1f",
                    ),
                    share(row[f"outbound.{name}.nuisance_rate"], row.get(f"outbound.{name}.nuisance_rate_ci")),
                )
            ),
        )
    console.print(view)
    if feasible.empty:
        best = best_cells(cells).iloc[0]
        reach = ", ".join(
            f"{key.rstrip('.') or 'overall'} {share(best[f'{key}service_level'], best[f'{key}service_level_ci'])}"
            for key in _prefixes(channels)
        )
        if not channels:
            reach = share(best["service_level"], best["service_level_ci"])
        missing = shortfalls(best, channel_of)
        console.print(
            f"{experiment.name}: no cell meets {goal}; the best, cell {best['cell']}, reaches {reach}"
            + (f" but {missing}." if missing else "."),
            highlight=False,
        )
    overall = short_on_call_types(cells)
    if len(overall):
        console.print(
            "Reach the target overall but not for every call type: "
            + "; ".join(f"cell {row['cell']} ({shortfalls(row, channel_of)})" for _, row in overall.iterrows())
            + ".",
            highlight=False,
        )
    console.print(
        "Service level: mean over replications ± 95% CI; "
        + (
            f"{unit.lower()} meeting target: the share of replications with every call type at its target in every "
            "period it is measured over (service_level.period)."
            if any(experiment.base.period_for(ct) != "interval" for ct in experiment.base.call_types)
            else f"{unit.lower()} meeting target: the share of replications with every call type at or above its own."
            if channels
            else f"{unit.lower()} meeting target: the share of replications at or above it overall."
        ),
        style="dim",
    )
    if experiment.replications < FEW:
        console.print(
            f"Only {experiment.replications} replication{'s' if experiment.replications != 1 else ''} per "
            "cell: the ± figures are wide; run more replications to narrow them.",
            style="dim",
        )
    if out is not None:
        console.print(
            f"Results in {out}/ (results.parquet: one row per cell × replication; cells.parquet; manifest.json)",
            highlight=False,
        )


def _campaigns(cells: pd.DataFrame) -> list[str]:
    """The outbound campaigns whose right-party connects per hour and nuisance rate the cells carry."""
    suffix = ".right_party_per_hour"
    return [
        column[len("outbound.") : -len(suffix)]
        for column in cells.columns
        if column.startswith("outbound.")
        and column.endswith(suffix)
        and column.replace(suffix, ".nuisance_rate") in cells
    ]


def _prefixes(channels: list[str]) -> list[str]:
    """The column prefixes of the service levels shown: each channel's ("chat."), or the overall one ("")."""
    return [f"{channel}." for channel in channels] or [""]
