"""A self-contained HTML report of a sweep or a run: the key table and the charts, plotly embedded (opens offline).

    from bposim.report import write_report
    write_report("out/multiskill_agents_ai", "out/multiskill_agents_ai/report.html")   # a sweep's results directory
    write_report("out/helpdesk", "out/helpdesk/report.html")   # `bposim run models/helpdesk.yaml --out out/helpdesk`

A sweep's report shows every cell ranked (those meeting the target overall and for every call type first, cheapest
first), service level against cost with the Pareto frontier, the cost breakdown per cell, and the recommended cell
over the day (all its replications pooled, then its first alone: from the kept tables, or simulated again from the
experiment file, which gives the same days). Costs are in the scenario's currency, per day when a replication is
one day.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from bposim import charts
from bposim.files import write_text_atomically
from bposim.formatting import amount, missing, share
from bposim.run import Run


class ReportError(ValueError):
    """The directory holds neither a sweep's results nor a run's tables."""

    def __init__(self, source: str, problem: str):
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass
class Section:
    """One part of the report: a heading, a few sentences, a table and/or a figure."""

    title: str
    text: str = ""
    table: str = ""
    figure: go.Figure | None = None
    note: str = ""


def write_report(results: str | Path, path: str | Path) -> Path:
    """Write the report of a sweep's results directory or a run's tables directory to `path`; return `path`."""
    results, path = Path(results), Path(path)
    title, sections = report_sections(results)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, render(title, sections))
    return path


def run_report(run: Any, path: str | Path) -> Path:
    """Write the report of a `Run` in memory to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, render(*_run_sections(run)))
    return path


def report_sections(results: Path) -> tuple[str, list[Section]]:
    """The title and sections for a directory: a sweep's (manifest.json) or a run's (summary.json)."""
    if not results.is_dir():
        raise ReportError(str(results), "not a directory; give a sweep's results directory or a run's --out directory")
    import pyarrow

    try:
        if (results / "manifest.json").is_file():
            return _sweep_sections(results)
        if (results / "summary.json").is_file() and (results / "calls.parquet").is_file():
            return _run_sections(Run.load(results))
    except (OSError, ValueError, KeyError, pyarrow.ArrowException) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(
            str(results),
            f"cannot read its tables ({type(exc).__name__}: {exc}); was it written by "
            "this version of bposim, and completely?",
        ) from None
    raise ReportError(
        str(results),
        "holds neither a sweep's results (manifest.json, written by `bposim sweep`) nor "
        "a run's tables (summary.json and calls.parquet, written by `bposim run --out`)",
    )


# -- a sweep ------------------------------------------------------------------------------------------------------


def _sweep_sections(directory: Path) -> tuple[str, list[Section]]:
    from bposim.experiment.tables import cell_summary, paired_differences, ranked_cells, results_table

    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(str(directory / "manifest.json"), f"cannot read the manifest ({exc})") from None
    tasks = sorted((directory / "tasks").glob("cell*-rep*.parquet"))
    if (directory / "results.parquet").is_file() and manifest.get("finished"):
        results = pd.read_parquet(directory / "results.parquet")
    elif tasks:
        results = results_table([pd.read_parquet(file) for file in tasks])
    else:
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
    sections = [Section("Experiment", " ".join(facts), note=_few(int(cells["replications"].min()), "per cell"))]
    best_first = cells.sort_values(["service_level", "cell"], ascending=[False, True])
    best = ranked.iloc[0] if len(ranked) else best_first.iloc[0]
    paired = paired_differences(
        results, int(best["cell"]), ("service_level", "total_cost" if costed else "scheduled_agent_hours")
    )
    cells = cells.merge(paired, on="cell", how="left")
    ranked = ranked.merge(paired, on="cell", how="left")
    unit = charts.cost_unit(cells)
    sections.append(Section("Recommendation", _recommendation(cells, ranked, factors, target, costed, unit)))
    order = pd.concat(
        [ranked, cells[~cells["cell"].isin(ranked["cell"])].sort_values("service_level", ascending=False)]
    )
    sections.append(
        Section(
            "Cells",
            "Every cell: those meeting the service-level target overall and for every call type first"
            + (", cheapest first" if costed else ", fewest agent hours first")
            + "; then the rest, best service first. Means over replications ± 95% confidence half-widths; "
            "days meeting target: the share of replications at or above it overall. The Δ columns compare each cell "
            f"with cell {int(best['cell'])} on the same days (common random numbers), so their intervals are usually "
            "much narrower than the difference of two cells' own intervals.",
            table=_cells_table(order, factors, costed, int(best["cell"]), unit),
        )
    )
    color_by = min(factors, key=lambda f: (cells[f].nunique(), factors.index(f))) if len(factors) > 1 else None
    if costed:
        sections.append(
            Section(
                "Service level against cost",
                "One point per cell with 95% confidence bars on both axes; the dotted line joins the cells no other "
                "cell beats on both cost and service level (the Pareto frontier).",
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
    run, how = _cell_days(directory, manifest, int(best["cell"]))
    if run is None:
        sections.append(Section("A day of the recommended cell", how))
    else:
        cell = f"cell {int(best['cell'])} ({_levels(best, factors)})"
        sections += _pooled_section(run, f"The recommended {cell} over its {run.replications} replications, {how}")
        sections += _day_sections(
            _replication(run, 0),
            f"A day of cell {int(best['cell'])}",
            f"Replication 0 of {cell}: one day, with its own luck.",
        )
    return f"{name}: sweep report", sections


def _pooled_section(run: Run, text: str) -> list[Section]:
    """The day profile over every replication of a run (none when it has one)."""
    if run.replications < 2:
        return []
    return [
        Section(
            "Over the day, every replication",
            f"{text}: offered calls and agents are means per replication, the service level is pooled over them.",
            figure=charts.day_profile(run),
        )
    ]


def _recommendation(
    cells: pd.DataFrame, ranked: pd.DataFrame, factors: list[str], target: float | None, costed: bool, unit: str
) -> str:
    from bposim.experiment.tables import short_on_call_types, shortfalls

    goal = f"the {target:.0%} service-level target" if target is not None else "the service-level target"
    if len(ranked) == 0:
        best = cells.sort_values(["service_level", "cell"], ascending=[False, True]).iloc[0]
        short = shortfalls(best)
        return (
            f"No cell meets {goal} on average overall and for every call type. The best, cell "
            f"{int(best['cell'])} ({_levels(best, factors)}), reaches "
            f"{share(best['service_level'], best['service_level_ci'])}" + (f" overall, but {short}." if short else ".")
        )
    best = ranked.iloc[0]
    money = f" at {_amount(best['total_cost'], best['total_cost_ci'])} {unit}" if costed else ""
    text = (
        f"Cell {int(best['cell'])} ({_levels(best, factors)}) is the cheapest of the {len(ranked)} cells meeting "
        f"{goal} overall and for every call type: service level "
        f"{share(best['service_level'], best['service_level_ci'])}{money}, "
        f"{best['scheduled_agent_hours']:,.0f} agent hours; {best['met_target_share']:.0%} of its days met the "
        f"target overall."
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
    if best["service_level"] - best["service_level_ci"] < (target or 0):
        text += " Its confidence interval reaches below the target: more replications would settle it."
    if len(ranked) > 1:
        other = ranked.iloc[1]
        key, what = ("total_cost", "costs") if costed else ("scheduled_agent_hours", "takes")
        diff, half = other[f"{key}_diff"], other[f"{key}_diff_ci"]
        amount = _amount(abs(diff), half) + (f" {charts.currency(cells)}" if costed else " agent hours")
        if not missing(half) and abs(diff) > half:
            text += (
                f" On the same days, the next cheapest, cell {int(other['cell'])}, {what} {amount} "
                f"{'more' if diff > 0 else 'less'}, with service level {_signed(other['service_level_diff'])} "
                f"± {other['service_level_diff_ci'] * 100:.1f} points."
            )
        else:
            text += (
                f" The next cheapest, cell {int(other['cell'])} ({_levels(other, factors)}), is not "
                f"distinguishable on cost on the same days ({_signed_amount(diff)} ± {_amount(half, None)}); "
                f"its service level differs by {_signed(other['service_level_diff'])} ± "
                f"{other['service_level_diff_ci'] * 100:.1f} points."
            )
    return text


def _signed(share: float) -> str:
    return f"{share * 100:+.1f}"


def _signed_amount(value: float) -> str:
    return f"{value:+,.0f}"


def _levels(row: pd.Series, factors: list[str]) -> str:
    return ", ".join(f"{f} = {row[f]}" for f in factors) or "the base scenario"


def _cells_table(cells: pd.DataFrame, factors: list[str], costed: bool, baseline: int, unit: str) -> str:
    from bposim.experiment.tables import shortfalls

    currency = charts.currency(cells)
    columns: list[tuple[str, Callable[[pd.Series], str]]] = [("Cell", lambda r: str(int(r["cell"])))]
    columns += [(f, lambda r, f=f: str(r[f])) for f in factors]
    columns += [
        ("Service level", lambda r: share(r["service_level"], r["service_level_ci"])),
        ("Days meeting target", lambda r: share(r["met_target_share"])),
        ("Abandoned", lambda r: share(r.get("abandon_rate", math.nan), r.get("abandon_rate_ci"))),
        ("ASA s", lambda r: _number(r.get("asa_seconds", math.nan), r.get("asa_seconds_ci"), ",.1f")),
        ("Agent hours", lambda r: _number(r["scheduled_agent_hours"], None, ",.0f")),
    ]
    if costed:
        columns.append((f"Cost, {unit}", lambda r: _amount(r["total_cost"], r["total_cost_ci"])))
    key = "total_cost" if costed else "scheduled_agent_hours"
    columns += [
        (
            f"Δ service level vs {baseline}, points",
            lambda r: (
                "—"
                if r["cell"] == baseline
                else f"{_signed(r['service_level_diff'])} ± {r['service_level_diff_ci'] * 100:.1f}"
            ),
        ),
        (
            f"Δ cost vs {baseline}, {currency}" if costed else f"Δ agent hours vs {baseline}",
            lambda r: (
                "—"
                if r["cell"] == baseline
                else f"{_signed_amount(r[f'{key}_diff'])} ± {_amount(r[f'{key}_diff_ci'], None)}"
            ),
        ),
    ]
    numbers = len(columns)
    if cells["short_call_types"].ne("").any():
        columns.append(("Short call types", lambda r: shortfalls(r) or "—"))
    rows = [[render(r) for _, render in columns] for _, r in cells.iterrows()]
    meets = cells["meets_target"].astype(bool).tolist()
    return _html_table([name for name, _ in columns], rows, meets, numeric_from=1 + len(factors), numeric_to=numbers)


def _cell_days(directory: Path, manifest: dict, cell: int) -> tuple[Any, str]:
    """Every replication of a cell (column `replication`): from kept tables, else simulated again from the
    experiment (the same seed gives the same days)."""
    kept = sorted(
        (
            folder
            for folder in (directory / "tables" / str(cell)).glob("*")
            if folder.name.isdigit() and (folder / "calls.parquet").is_file()
        ),
        key=lambda f: int(f.name),
    )
    if kept and kept[0].name == "0":
        return _joined([Run.load(folder, summary={}) for folder in kept], [int(f.name) for f in kept]), (
            "from the tables the sweep kept"
        )
    source = Path(manifest.get("source", ""))
    if not source.is_file():
        return None, (
            f"The sweep kept no tables (keep: summary) and its experiment file {source} is not here to "
            "simulate the day again; run the report where the sweep ran, or sweep with keep: all."
        )
    from bposim.experiment import Experiment, ExperimentError
    from bposim.run import simulate_replication
    from bposim.scenario import ScenarioError

    try:
        experiment = Experiment.from_file(source)
    except (ExperimentError, ScenarioError):
        return None, f"The experiment file {source} no longer loads, so the day cannot be simulated again."
    if experiment.sha256 != manifest.get("experiment_sha256") or experiment.model_sha256 != manifest.get(
        "model_sha256"
    ):
        return None, f"The experiment file {source} or its model changed since the sweep; the day is not shown."
    runs = [simulate_replication(experiment.scenario(cell), experiment.seed, r) for r in range(experiment.replications)]
    return _joined(runs, list(range(experiment.replications))), (
        "simulated again from the experiment file (the same seed gives the same days)"
    )


def _joined(runs: list[Run], replications: list[int]) -> Run:
    """Runs of one replication each as one run, every table with its `replication` column."""
    tables = {
        name: pd.concat(
            [getattr(run, name).assign(replication=r) for run, r in zip(runs, replications, strict=True)],
            ignore_index=True,
        )
        for name in (*Run.TABLES, "costs")
    }
    return dataclasses.replace(runs[0], replications=len(runs), **tables)


# -- a run --------------------------------------------------------------------------------------------------------


def _run_sections(run: Any) -> tuple[str, list[Section]]:
    summary = run.summary
    name = summary.get("scenario", "run")
    replications = summary.get("replications", 1)
    facts = f"Seed {summary.get('seed', '?')}, {replications} replication{'s' if replications != 1 else ''}"
    facts += ", means ± 95% confidence half-widths." if replications > 1 else "."
    definition = str(summary.get("service_level_definition", "offered")).replace("_", " ")
    facts += f" Service level = answered within the threshold / {definition}; ASA = mean wait of answered calls."
    sections = [Section("Key figures", facts, table=_summary_table(summary), note=_few(replications, ""))]
    if summary.get("total_cost") is not None and not missing(summary.get("total_cost")):
        total = _amount(summary["total_cost"], summary.get("total_cost_ci"))
        sections[0].text += f" Total cost {total} {charts.cost_unit(run)}."
    sections += _pooled_section(run, f"The run's {replications} replications")
    if replications > 1:
        run = _replication(run, 0)
    sections += _day_sections(
        run,
        "The day" if replications == 1 else "The first replication",
        "" if replications == 1 else "Replication 0 of the run.",
    )
    return f"{name}: run report", sections


def _few(replications: int, scope: str) -> str:
    """A warning when too few replications make the ± figures wide (or absent), else ""."""
    from bposim.experiment.tables import FEW

    where = f" {scope}" if scope else ""
    if replications == 1:
        return (
            f"Only one replication{where}: there are no confidence intervals, and every figure is one "
            "replication's, as noisy as a single day."
        )
    if replications < FEW:
        return (
            f"Only {replications} replications{where}: the ± figures are 95% Student-t intervals over only "
            f"{replications} replications, so they are wide; run more replications to narrow them."
        )
    return ""


def _replication(run: Run, replication: int) -> Run:
    """One replication's rows of every table of a run with several."""
    tables = {}
    for name in (*Run.TABLES, "costs"):
        table = getattr(run, name)
        tables[name] = table[table["replication"] == replication] if "replication" in table else table
    return dataclasses.replace(run, replications=1, **tables)


def _summary_table(summary: dict) -> str:
    by_type = summary.get("by_call_type", {})
    rows_in = [(name, kpis) for name, kpis in by_type.items()]
    if len(rows_in) != 1:
        rows_in.append(("all", summary))
    columns = [
        ("offered", "Offered", ",.0f"),
        ("answered", "Answered", ",.0f"),
        ("abandoned", "Abandoned", ",.0f"),
        ("service_level", "Service level", "%"),
        ("asa_seconds", "ASA s", ",.1f"),
        ("abandon_rate", "Abandon rate", "%"),
        ("occupancy", "Occupancy", "%"),
    ]
    rows = []
    for name, kpis in rows_in:
        row = [name]
        for key, _, spec in columns:
            value, half = kpis.get(key, math.nan), kpis.get(f"{key}_ci")
            row.append(share(value, half) if spec == "%" else _number(value, half, spec))
        rows.append(row)
    return _html_table(["Call type", *(label for _, label, _ in columns)], rows, None, numeric_from=1)


def _day_sections(run: Any, title: str, text: str) -> list[Section]:
    """Charts of one run's day: profile, queue and busy agents, occupancy, costs, outages."""
    sections = [
        Section(
            title,
            (text + " " if text else "") + "Offered calls, service level against its target, and agents "
            "scheduled and on the phone, interval by interval.",
            figure=charts.day_profile(run),
        ),
        Section(
            "Queue and agents",
            "Calls waiting and agents busy, averaged over 5 minutes; the dotted line is the "
            "agents on the phone (logged in, not on a break).",
            figure=charts.queue_and_agents(run),
        ),
        Section(
            "Occupancy",
            "Busy time over on-phone time of each agent group in each interval.",
            figure=charts.occupancy_heatmap(run),
        ),
    ]
    if len(run.costs):
        sections.append(Section("Cost", "Cost by component and item.", figure=charts.cost_breakdown(run)))
    if len(run.outages):
        sections.append(
            Section(
                "Tool outages", "Each outage of a tool and the calls it touched.", figure=charts.outage_timeline(run)
            )
        )
    return sections


# -- an optimised roster -------------------------------------------------------------------------------------------


def roster_report(plan: Any, path: str | Path) -> Path:
    """Write the report of an optimised roster (`bposim.optimise.RosterPlan`): shifts, service level, chart."""
    from bposim.optimise.charts import requirement_vs_scheduled

    schedule = plan.schedule
    rows = schedule.shift_rows()
    shifts = _html_table(list(schedule.SHIFT_COLUMNS), rows, None, numeric_from=5)
    levels = [
        [row.call_type, f"{row.offered:,.0f}", share(row.service_level, row.service_level_ci), f"{row.target:.0%}"]
        for row in plan.by_call_type.itertuples(index=False)
    ]
    met = plan.by_call_type["met"].astype(bool).tolist()
    cost = _number(plan.cost, plan.cost_ci or None, ",.2f")
    if plan.verified:
        verdict = (
            f"Every interval met its target, on the search days in round {plan.rounds} of the loop and on the "
            "fresh days"
        )
    elif plan.converged:
        verdict = f"The search days met every target in round {plan.rounds} of the loop, but the fresh days did not"
    else:
        rounds = f"{plan.rounds} round{'' if plan.rounds == 1 else 's'}"
        verdict = f"After {rounds} of the loop, not every interval meets its target"
    sections = [
        Section(
            "Roster",
            f"The cheapest set of the scenario's shift patterns covering the requirement: "
            f"{sum(schedule.agents)} agents, {schedule.paid_hours:g} paid hours, shifts {schedule.cost:,.2f} "
            f"{schedule.cost_unit}. {verdict}; {plan.simulations:,} simulated days.",
            table=shifts,
            note="" if plan.verified else _roster_shortfall_note(plan),
        ),
        Section(
            "Service level on fresh days",
            f"Requirement by {plan.requirement.method.replace('_', ' ')}; the roster verified on days the search "
            f"never saw (seed {plan.verification_seed}), means ± 95% confidence half-widths. Cost {cost} "
            f"{plan.cost_unit} per day.",
            table=_html_table(["Call type", "Offered / day", "Service level", "Target"], levels, met, 1),
        ),
        *_fresh_misses_section(plan),
        Section(
            "Required and scheduled agents",
            "Per group and interval: the requirement (dashed) and the "
            "requirement as the loop left it (solid: raised where the simulated roster missed, lowered where a "
            "trim held), against the agents scheduled on the phones and logged in; below, the service level "
            "each interval achieved.",
            figure=requirement_vs_scheduled(plan),
        ),
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, render(f"{plan.scenario.name}: optimised roster", sections))
    return path


def _roster_shortfall_note(plan: Any) -> str:
    """The warning at the top of a roster report whose roster misses a target somewhere."""
    parts = []
    if not plan.converged:
        parts.append(f"Not every interval meets its target on the search days: {plan.shortfall}.")
    if plan.fresh_shortfall:
        parts.append(f"Not every interval meets its target on the fresh days: {plan.fresh_shortfall}.")
    return " ".join(parts)


def _fresh_misses_section(plan: Any) -> list[Section]:
    """A section listing each call type and interval clearly below target on the fresh days, by how much."""
    missed = plan.fresh_misses
    if missed.empty:
        return []
    rows = [
        [
            row.call_type,
            row.interval_start,
            share(row.service_level, row.service_level_ci),
            f"{row.target:.0%}",
            f"{100 * row.gap:.1f}",
        ]
        for row in missed.itertuples(index=False)
    ]
    return [
        Section(
            "Below target on the fresh days",
            f"The call types and intervals clearly below target on the fresh days (the whole 95% confidence "
            f"interval below it; with one day, the day's value): {len(missed)}, the furthest below first.",
            table=_html_table(
                ["Call type", "Interval", "Service level", "Target", "Points short"], rows, [False] * len(rows), 2
            ),
        )
    ]


# -- HTML ---------------------------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid
#ddd; padding-bottom: .2rem; } p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; } th { text-align: left; background: #f6f6f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.num { white-space: nowrap; }
tr.meets td:first-child { border-left: 4px solid #2ca02c; } tr.misses td:first-child { border-left: 4px solid #ddd; }
.figure { min-height: 450px; }
p.note { background: #fff4e5; border-left: 4px solid #f0a030; padding: .4rem .6rem; }
"""


def render(title: str, sections: list[Section]) -> str:
    """The whole HTML page: plotly.js inlined once, then each section's text, table and figure."""
    from bposim import __version__

    parts = []
    for number, section in enumerate(sections):
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{html.escape(section.text)}</p>")
        if section.note:
            parts.append(f'<p class="note">{html.escape(section.note)}</p>')
        parts.append(section.table)
        if section.figure is not None:
            figure = pio.to_html(
                section.figure,
                full_html=False,
                include_plotlyjs=False,
                div_id=f"figure-{number}",
                config={"displaylogo": False, "responsive": True},
            )
            parts.append(f'<div class="figure">{figure}</div>')
        parts.append("</section>")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<h1>{html.escape(title)}</h1><p class="meta">bposim {__version__}, written {stamp}</p>'
        + "\n".join(parts)
        + "</body></html>\n"
    )


def _html_table(
    header: list[str], rows: list[list[str]], meets: list[bool] | None, numeric_from: int, numeric_to: int | None = None
) -> str:
    """Columns numeric_from up to numeric_to (exclusive; None: to the end) are numbers: right-aligned, unwrapped."""

    def cell(tag: str, i: int, text: str) -> str:
        kind = ' class="num"' if numeric_from <= i < (len(header) if numeric_to is None else numeric_to) else ""
        return f"<{tag}{kind}>{html.escape(text)}</{tag}>"

    head = "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"
    body = []
    for n, row in enumerate(rows):
        mark = "" if meets is None else (' class="meets"' if meets[n] else ' class="misses"')
        body.append(f"<tr{mark}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _number(value: Any, half: Any, spec: str) -> str:
    """An amount whose ± is left off when the half-width is zero (one replication, or no spread)."""
    return amount(value, None if half == 0 else half, spec)


def _amount(value: Any, half: Any) -> str:
    return _number(value, half, ",.0f")
