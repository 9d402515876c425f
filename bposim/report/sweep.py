"""A sweep's report: every cell ranked (those meeting the target overall and for every call type first, cheapest
first), the recommendation, service level against cost with the Pareto frontier, the cost breakdown per cell, each
site's figures per cell (with sites), and the recommended cell over the day; with clients, each one's service level,
margin and P(credit) per cell."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bposim import charts, period_views
from bposim.experiment.days import cell_days
from bposim.experiment.storage import saved_results
from bposim.experiment.tables import (
    best_cells,
    call_type_names,
    cell_summary,
    paired_differences,
    ranked_cells,
    short_on_call_types,
    shortfalls,
)
from bposim.formatting import amount, estimate, missing, points, share
from bposim.report.client_sweep import client_sections
from bposim.report.errors import ReportError
from bposim.report.html import Section, html_table
from bposim.report.outbound_sweep import outbound_sections
from bposim.report.run import day_sections, few_replications, pooled_section
from bposim.report.site_sweep import site_sections
from bposim.scenario.call_types import CHANNELS, DEFERRED_CHANNELS


def sweep_sections(directory: Path) -> tuple[str, list[Section]]:
    """The title and sections of the report of a sweep's results directory, finished or not."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(str(directory / "manifest.json"), f"cannot read the manifest ({exc})") from None
    if (directory / "results.parquet").is_file() and manifest.get("finished"):
        results = pd.read_parquet(directory / "results.parquet")
    else:
        results = saved_results(directory / "tasks")
        if results.empty:
            raise ReportError(str(directory), "the sweep has no finished tasks yet")
    cells = cell_summary(results)
    ranked = ranked_cells(cells)
    factors = charts.factor_columns(cells)
    target = float(cells["service_level_target"].iloc[0]) if "service_level_target" in cells else None
    costed = "total_cost" in cells and not cells["total_cost"].isna().all()
    done, total = len(results), manifest.get("tasks", len(results))
    name = manifest.get("experiment", directory.name)
    facts = [
        f"{len(cells)} cells × {manifest.get('replications', '?')} replications under common random numbers "
        f"(seed {manifest.get('seed', '?')}); factors: {', '.join(factors) or 'none'}.",
        f"Experiment file: {manifest.get('source', '?')}; started {manifest.get('started', '?')}, "
        + (
            f"finished {manifest['finished']}."
            if manifest.get("finished")
            else f"unfinished: {done} of {total} tasks done (run the same sweep again to resume)."
        ),
    ]
    sections = [
        Section("Experiment", " ".join(facts), note=few_replications(int(cells["replications"].min()), "per cell"))
    ]
    channel_of = manifest.get("channels") if cell_channels(cells) else None
    best = ranked.iloc[0] if len(ranked) else best_cells(cells).iloc[0]
    paired = paired_differences(
        results, int(best["cell"]), ("service_level", "total_cost" if costed else "scheduled_agent_hours")
    )
    cells = cells.merge(paired, on="cell", how="left")
    ranked = ranked.merge(paired, on="cell", how="left")
    unit = charts.cost_unit(cells)
    recommendation = _recommendation(cells, ranked, factors, target, costed, unit, channel_of)
    sections.append(Section("Recommendation", recommendation))
    order = pd.concat([ranked, best_cells(cells[~cells["cell"].isin(ranked["cell"])])])
    sections.append(
        Section(
            "Cells",
            (
                "Every cell: those meeting the service-level target of every call type first"
                if cell_channels(cells)
                else "Every cell: those meeting the service-level target overall and for every call type first"
            )
            + (", cheapest first" if costed else ", fewest agent hours first")
            + "; then the rest, fewest call types short of their target first. Means over replications ± 95% "
            "confidence half-widths; days meeting target: the share of replications "
            + (
                "with every call type at its target in every period it is measured over (see Service level by period)."
                if _measured_by_period(cells)
                else "with every call type at or above its own target."
                if cell_channels(cells)
                else "at or above it overall."
            )
            + " The Δ columns compare each cell "
            f"with cell {int(best['cell'])} on the same days (common random numbers), so their intervals are usually "
            "much narrower than the difference of two cells' own intervals.",
            table=_cells_table(order, factors, costed, int(best["cell"]), unit, channel_of),
        )
    )
    periods = _period_section(order, factors)
    if periods is not None:
        sections.append(periods)
    sections += outbound_sections(order, factors, target)
    sections += site_sections(order, factors)
    sections += client_sections(order, factors)
    color_by = min(factors, key=lambda f: (cells[f].nunique(), factors.index(f))) if len(factors) > 1 else None
    if costed:
        sections.append(
            Section(
                "Service level against cost",
                (
                    "One point per cell and channel with 95% confidence bars on both axes (email and case: the share "
                    "done within its due time)."
                    if cell_channels(cells)
                    else "One point per cell with 95% confidence bars on both axes; the dotted line joins the cells "
                    "no other cell beats on both cost and service level (the Pareto frontier)."
                ),
                figure=charts.service_level_vs_cost(cells, target=target, color_by=color_by),
            )
        )
        sections.append(
            Section(
                "Cost by component",
                f"Mean cost of each cell, by component, in {unit}.",
                figure=charts.cost_breakdown(cells),
            )
        )
    else:
        sections.append(
            Section(
                "Service level against agent hours",
                "The model has no costs section, so agent hours stand in for cost.",
                figure=charts.service_level_vs_cost(
                    cells.assign(total_cost=cells["scheduled_agent_hours"], total_cost_ci=float("nan")),
                    target=target,
                    color_by=color_by,
                )
                .update_xaxes(title_text="Scheduled agent hours per replication")
                .update_layout(title_text="Service level vs agent hours per sweep cell (95% CI)"),
            )
        )
    run, how = cell_days(directory, manifest, int(best["cell"]))
    if run is None:
        sections.append(Section("A day of the recommended cell", how))
    else:
        cell = f"cell {int(best['cell'])} ({_levels(best, factors)})"
        sections += pooled_section(run, f"The recommended {cell} over its {run.replications} replications, {how}")
        sections += day_sections(
            run.replication(0),
            f"A day of cell {int(best['cell'])}",
            f"Replication 0 of {cell}: one day, with its own luck.",
        )
    return f"{name}: sweep report", sections


def _recommendation(
    cells: pd.DataFrame,
    ranked: pd.DataFrame,
    factors: list[str],
    target: float | None,
    costed: bool,
    unit: str,
    channel_of: dict[str, str] | None = None,
) -> str:
    """The cheapest cell meeting the target, what it costs and how sure that is, and how the next cheapest
    compares on the same days; or, when no cell meets it, the best and where it falls short (each short call type
    with its channel, from `channel_of`)."""
    goal = f"the {target:.0%} service-level target" if target is not None else "the service-level target"
    channels = cell_channels(cells)
    if channels:
        goal = "the service-level target of every call type"

    def level(row: pd.Series) -> str:
        return _channel_levels(row, channels) if channels else share(row["service_level"], row["service_level_ci"])

    if len(ranked) == 0:
        best = best_cells(cells).iloc[0]
        short = shortfalls(best, channel_of)
        if channels:
            return (
                f"No cell meets {goal} on average. The best, cell {int(best['cell'])} ({_levels(best, factors)}), "
                f"reaches {level(best)} by channel" + (f", but {short}." if short else ".")
            )
        return (
            f"No cell meets {goal} on average overall and for every call type. The best, cell "
            f"{int(best['cell'])} ({_levels(best, factors)}), reaches {level(best)}"
            + (f" overall, but {short}." if short else ".")
        )
    best = ranked.iloc[0]
    money = f" at {estimate(best['total_cost'], best['total_cost_ci'])} {unit}" if costed else ""
    text = (
        f"Cell {int(best['cell'])} ({_levels(best, factors)}) is the cheapest of the {len(ranked)} cells meeting "
        + (f"{goal}: service level " if channels else f"{goal} overall and for every call type: service level ")
        + f"{level(best)}{money}, "
        f"{best['scheduled_agent_hours']:,.0f} agent hours; {best['met_target_share']:.0%} of its days met the "
        + (
            "target in every period it is measured over."
            if _measured_by_period(cells)
            else "target of every call type."
            if channels
            else "target overall."
        )
    )
    key = "total_cost" if costed else "scheduled_agent_hours"
    overall = short_on_call_types(cells)
    cheaper = overall[overall[key] < best[key]].sort_values([key, "cell"])
    if len(cheaper):
        text += (
            " Cheaper cells reach the target overall but not for every call type: "
            + "; ".join(f"cell {int(r['cell'])} ({shortfalls(r)})" for _, r in cheaper.iterrows())
            + "."
        )
    if not channels and best["service_level"] - best["service_level_ci"] < (target or 0):
        text += " Its confidence interval reaches below the target: more replications would settle it."
    if len(ranked) > 1:
        other = ranked.iloc[1]
        key, what = ("total_cost", "costs") if costed else ("scheduled_agent_hours", "takes")
        diff, half = other[f"{key}_diff"], other[f"{key}_diff_ci"]
        gap = estimate(abs(diff), half) + (f" {charts.currency(cells)}" if costed else " agent hours")
        service = f"{points(other['service_level_diff'], signed=True)} ± {points(other['service_level_diff_ci'])}"
        if not missing(half) and abs(diff) > half:
            text += (
                f" On the same days, the next cheapest, cell {int(other['cell'])}, {what} {gap} "
                f"{'more' if diff > 0 else 'less'}, with service level {service} points."
            )
        else:
            text += (
                f" The next cheapest, cell {int(other['cell'])} ({_levels(other, factors)}), is not "
                f"distinguishable on cost on the same days ({amount(diff, signed=True)} ± {amount(half)}); "
                f"its service level differs by {service} points."
            )
    return text


def cell_channels(cells: pd.DataFrame) -> list[str]:
    """The channels a sweep's cells report separately (`<channel>.service_level` columns), in channel order; none
    for a voice-only sweep, whose overall service level says it all."""
    found = [c for c in CHANNELS if f"{c}.service_level" in cells]
    return [] if found in ([], ["voice"]) else found


def _channel_levels(row: pd.Series, channels: list[str]) -> str:
    """A cell's service level per channel, e.g. "voice 82.0% ± 1.1%, email 95.0% (done within due time)"."""
    parts = []
    for channel in channels:
        value, half = row.get(f"{channel}.service_level", math.nan), row.get(f"{channel}.service_level_ci")
        what = " (done within due time)" if channel in DEFERRED_CHANNELS else ""
        parts.append(f"{channel} {share(value, half)}{what}")
    return ", ".join(parts)


def _levels(row: pd.Series, factors: list[str]) -> str:
    """A cell's factor levels as "staffing_scale = 0.95, ai_assist = on"."""
    return ", ".join(f"{f} = {row[f]}" for f in factors) or "the base scenario"


def _cells_table(
    cells: pd.DataFrame,
    factors: list[str],
    costed: bool,
    baseline: int,
    unit: str,
    channel_of: dict[str, str] | None = None,
) -> str:
    """Every cell as a row: factors, service level, days meeting target, abandonment, ASA, hours, cost, the paired
    differences from the baseline cell, and the call types short of their target."""
    currency = charts.currency(cells)
    columns: list[tuple[str, Callable[[pd.Series], str]]] = [("Cell", lambda r: str(int(r["cell"])))]
    columns += [(f, lambda r, f=f: str(r[f])) for f in factors]
    channels = cell_channels(cells)
    if channels:  # the overall rates are not averaged across channels: each channel's service level instead
        columns += [
            (
                f"{c.capitalize()} service level",
                lambda r, c=c: share(r[f"{c}.service_level"], r.get(f"{c}.service_level_ci")),
            )
            for c in channels
        ]
        columns.append(("Days meeting target", lambda r: share(r["met_target_share"])))
    else:
        columns += [
            ("Service level", lambda r: share(r["service_level"], r["service_level_ci"])),
            ("Days meeting target", lambda r: share(r["met_target_share"])),
            ("Abandoned", lambda r: share(r.get("abandon_rate", math.nan), r.get("abandon_rate_ci"))),
            ("ASA s", lambda r: estimate(r.get("asa_seconds", math.nan), r.get("asa_seconds_ci"), ",.1f")),
        ]
    columns.append(("Agent hours", lambda r: amount(r["scheduled_agent_hours"])))
    if costed:
        columns.append((f"Cost, {unit}", lambda r: estimate(r["total_cost"], r["total_cost_ci"])))
    key = "total_cost" if costed else "scheduled_agent_hours"
    if not channels:
        columns.append(
            (
                f"Δ service level vs {baseline}, points",
                lambda r: (
                    "—"
                    if r["cell"] == baseline
                    else f"{points(r['service_level_diff'], signed=True)} ± {points(r['service_level_diff_ci'])}"
                ),
            )
        )
    columns.append(
        (
            f"Δ cost vs {baseline}, {currency}" if costed else f"Δ agent hours vs {baseline}",
            lambda r: (
                "—"
                if r["cell"] == baseline
                else f"{amount(r[f'{key}_diff'], signed=True)} ± {amount(r[f'{key}_diff_ci'])}"
            ),
        )
    )
    numbers = len(columns)
    if cells["short_call_types"].ne("").any():
        columns.append(("Short call types", lambda r: shortfalls(r, channel_of).replace(", ", "\n") or "—"))
    rows = [[render(r) for _, render in columns] for _, r in cells.iterrows()]
    meets = cells["meets_target"].astype(bool).tolist()
    return html_table([name for name, _ in columns], rows, meets, numeric_from=1 + len(factors), numeric_to=numbers)


def _measured_by_period(cells: pd.DataFrame) -> list[str]:
    """The call types whose target some cell measures over days, weeks or months (not by the interval)."""
    return [
        name
        for name in call_type_names(cells)
        if f"{name}.service_level_period" in cells and cells[f"{name}.service_level_period"].ne("interval").any()
    ]


def _period_section(cells: pd.DataFrame, factors: list[str]) -> Section | None:
    """Per cell and call type measured over days, weeks or months: the share of its periods met and P(every period
    met) with its 95% Wilson interval over the cell's replications (none when every target is by the interval)."""
    types = _measured_by_period(cells)
    if not types:
        return None
    rows, meets = [], []
    for _, cell in cells.iterrows():
        for name in types:
            met = cell[f"{name}.all_periods_met"]
            rows.append(
                [
                    str(int(cell["cell"])),
                    *(str(cell[factor]) for factor in factors),
                    name,
                    str(cell[f"{name}.service_level_period"]),
                    share(cell[f"{name}.service_level_target"], digits=0),
                    share(cell[f"{name}.periods_met_share"], cell.get(f"{name}.periods_met_share_ci"), digits=0),
                    period_views.cell_probability(met, int(cell["replications"])),
                ]
            )
            meets.append(True if met == 1 else False if met == 0 else None)
    text = (
        "Each call type's target holds over its period (a day, an ISO week, a calendar month), the service level "
        "pooled over the period. Periods met: the mean share of its periods that met the target (± 95% "
        "half-width); P(every period met): the share of the cell's replications in which every one did, with its "
        "95% Wilson interval. A replication meets the target (the cells' days meeting target) when every such call "
        "type met in every period and every other call type reached its own."
    )
    header = ["Cell", *factors, "Call type", "Period", "Target", "Periods met", "P(every period met)"]
    table = html_table(header, rows, meets, numeric_from=len(header) - 3)
    return Section("Service level by period", text, table=table)
