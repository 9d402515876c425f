"""`bposim requirement`: agents required per interval and group, from Erlang and from simulation side by side, grossed
up for shrinkage to the agents to schedule; a table, CSV files and an HTML report."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bposim.cli.common import (
    cannot_write,
    check_xlsx,
    fail,
    finite_number,
    load,
    out,
    prepare_directory,
    within_limits,
    write_xlsx,
)
from bposim.formatting import amount, share

if TYPE_CHECKING:
    import pandas as pd

    from bposim.planning import PlanningRequirement
    from bposim.scenario import Scenario

LABELS = {
    "interval_start": "Interval",
    "group": "Group",
    "call_types": "Serves",
    "erlang": "Erlang",
    "simulation": "Simulation",
    "shrinkage": "Shrinkage",
    "erlang_scheduled": "Scheduled (Erlang)",
    "simulation_scheduled": "Scheduled (simulation)",
}
TEXT_COLUMNS = ("interval_start", "group", "call_types")


class Method(StrEnum):
    """Which requirement to find (--method): Erlang's, the simulation's, or both side by side."""

    erlang = "erlang"
    simulation = "simulation"
    both = "both"


def requirement(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="write requirement.csv and service_level.csv here")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="write an HTML report with the chart")] = None,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx", help="also write an Excel workbook: the requirement, and the service level on fresh days"
        ),
    ] = None,
    method: Annotated[Method, typer.Option(help="Erlang, simulation or both side by side")] = Method.both,
    occupancy_cap: Annotated[
        float | None,
        typer.Option(
            parser=finite_number(0, 1, above=True),
            help="keep Erlang's occupancy at most this, e.g. 0.85; default the scenario's scheduling.occupancy_cap",
        ),
    ] = None,
    shrinkage: Annotated[
        float | None,
        typer.Option(
            parser=finite_number(0, 1, below=True),
            help="share of scheduled time off the phones, e.g. 0.3, for every group; default the scenario's "
            "shrinkage and absence",
        ),
    ] = None,
    replications: Annotated[int, typer.Option(min=1, help="days simulated for each evaluation")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same requirement")] = 0,
) -> None:
    """Agents required per interval and group: Erlang and simulation side by side, grossed up for shrinkage.

    Both figures are agents on the phones; the scheduled ones are agents / (1 − shrinkage). The simulation's is the
    fewest agents meeting every call type's target in every interval on simulated days (the requirement `bposim
    staff` covers with shifts).
    """
    from bposim.optimise.requirement import RequirementError
    from bposim.planning import planning_requirement

    scenario = load(file)
    within_limits(scenario, file, replications)
    check_xlsx(xlsx)
    for flag, path in (("--out", out_dir), ("--report", report.parent if report else None)):
        if path is not None:
            prepare_directory(path, flag)
    try:
        found = planning_requirement(
            scenario,
            method=method.value,
            occupancy_cap=occupancy_cap,
            shrinkage=shrinkage,
            replications=replications,
            seed=seed,
        )
    except (RequirementError, ValueError) as exc:
        fail([f"{file}: {exc}"])
    _print_requirement(found, scenario)
    if out_dir is not None:
        for name, table in (("requirement.csv", found.table), ("service_level.csv", found.achieved)):
            try:
                table.to_csv(out_dir / name, index=False)
            except OSError as exc:
                fail([cannot_write(exc, out_dir / name)])
        out.print(f"Tables written to {out_dir}/ (requirement.csv, service_level.csv)", highlight=False)
    if report is not None:
        from bposim.report.requirement import requirement_report

        try:
            requirement_report(found, scenario.name, report)
        except OSError as exc:
            fail([cannot_write(exc, report)])
        out.print(f"Report: {report}", highlight=False)
    if xlsx is not None:
        from bposim.workbooks import requirement_sheets

        write_xlsx(xlsx, requirement_sheets(found.table, found.achieved), None)


def _print_requirement(found: PlanningRequirement, scenario: Scenario) -> None:
    """The requirement per interval and group, then the totals and how it held on fresh days."""
    table = found.table
    sources = {"erlang": found.model, "simulation": "simulation", "both": f"{found.model} and simulation"}
    title = f"{scenario.name} — agents required ({sources[found.method]})"
    view = Table(title=f"{title}; scheduled = on the phones / (1 − shrinkage)")
    columns = [column for column in LABELS if column in table.columns]
    last = table["group"].iloc[-1] if table["group"].nunique() > 1 else None
    for column in columns:
        view.add_column(LABELS[column], justify="left" if column in TEXT_COLUMNS else "right")
    for row in table.itertuples(index=False):
        view.add_row(*[_cell(column, getattr(row, column)) for column in columns], end_section=row.group == last)
    out.print(view)
    if len(scenario.agent_groups) > 1:
        out.print(f"Served by: {_served_by(scenario)}.", highlight=False, soft_wrap=True)
    for line in _totals(table, scenario.horizon.interval_seconds / 3600.0):
        out.print(line, highlight=False)
    met = bool(found.achieved["met"].all())
    out.print(_verdict(found), highlight=False, soft_wrap=True, style=None if met else "yellow")


def _served_by(scenario: Scenario) -> str:
    """Each call type and the groups that serve it: first (routing priority 1), then the others with their priority,
    e.g. "billing_en: billing_en_team, universal_en (bilingual_billing at priority 2)"."""
    parts = []
    for call_type in scenario.call_types:
        mine = [
            (group.name, skill.priority)
            for group in scenario.agent_groups
            for skill in group.skills
            if skill.call_type == call_type.name
        ]
        first = [name for name, priority in mine if priority == 1]
        later = [f"{name} at priority {priority}" for name, priority in mine if priority > 1]
        parts.append(
            f"{call_type.name}: {', '.join(first) or 'no group first'}" + (f" ({', '.join(later)})" if later else "")
        )
    return "; ".join(parts)


def _cell(column: str, value: object) -> str:
    """Agents as whole numbers, scheduled FTE to one decimal, shrinkage as a percentage, names as they are."""
    if column == "shrinkage":
        return share(value, digits=0)
    if column.endswith("_scheduled"):
        return amount(value, spec=",.1f")
    if column in ("erlang", "simulation"):
        return amount(value)
    return str(value)


def _totals(table: pd.DataFrame, interval_hours: float) -> list[str]:
    """Per figure: the peak of agents over the groups and the agent-hours a day, on the phones and scheduled."""
    lines = []
    for column in ("erlang", "simulation"):
        if column not in table.columns:
            continue
        per_interval = table.groupby("interval")[[column, f"{column}_scheduled"]].sum()
        net, gross = per_interval[column], per_interval[f"{column}_scheduled"]
        lines.append(
            f"{LABELS[column]}: peak {amount(net.max())} agents on the phones ({amount(gross.max(), spec=',.1f')} "
            f"scheduled); {amount(net.sum() * interval_hours, spec=',.1f')} agent-hours a day "
            f"({amount(gross.sum() * interval_hours, spec=',.1f')} scheduled)."
        )
    return lines


def _verdict(found: PlanningRequirement) -> str:
    """How the requirement held on fresh days: every target met, or the intervals clearly below their target."""
    achieved = found.achieved
    count = "the simulation's" if found.method != "erlang" else f"{found.model}'s"
    days = f"{found.replications} fresh day{'' if found.replications == 1 else 's'} (seed {found.seed})"
    missed = achieved[~achieved["met"]]
    if missed.empty:
        return f"At {count} requirement every call type met its target in every interval on {days}."
    shown = [
        f"{row.call_type} {row.interval_start} ({share(row.service_level, digits=0)} < {share(row.target, digits=0)})"
        for row in missed.head(8).itertuples(index=False)
    ]
    more = f" and {len(missed) - 8} more" if len(missed) > 8 else ""
    return (
        f"At {count} requirement, {len(missed)} of {len(achieved)} call-type intervals fell clearly below their "
        f"target on {days}: {', '.join(shown)}{more}."
    )
