"""`bposim plan`: the capacity plan over months, week by week (headcount, FTE available against required, service
level, P(meets), cost), with what-ifs on the hiring classes; a table, CSV files and an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bposim.cli.common import cannot_write, check_xlsx, fail, out, prepare_directory, write_xlsx
from bposim.formatting import amount, share

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from bposim.capacity import CapacityResult
    from bposim.scenario import Scenario
    from bposim.scenario.capacity import CapacityPlan


def plan(
    file: Annotated[Path, typer.Argument(help="capacity plan file (YAML) naming its scenario")],
    replications: Annotated[int, typer.Option(min=1, max=1000, help="plays of the plan (attrition, volume)")] = 3,
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same plan")] = 0,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="write weeks.csv, margin.csv, months.csv, replications.csv (and options.csv)"),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="write an HTML report")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write the tables as an Excel workbook")] = None,
    class_start: Annotated[
        str | None,
        typer.Option(help="what-if: hiring classes starting on these dates instead, e.g. 2027-04-05,2027-05-03"),
    ] = None,
    class_size: Annotated[
        str | None, typer.Option(help="what-if: the size of each --class-start class, e.g. 10,15")
    ] = None,
) -> None:
    """Play a capacity plan week by week: headcount, FTE available and required, service level, P(meets), cost.

    The plan's what_ifs (and, with --class-start and --class-size, its classes replaced by those) are played
    beside it under common random numbers: cost against P(every month meets its target).
    """
    from bposim.capacity import compare_plans, load_plan, what_if
    from bposim.scenario import ScenarioError

    try:
        capacity, scenario = load_plan(file)
    except ScenarioError as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])
    if capacity.service_level == "simulation":
        from bposim import workload

        try:
            workload.check(
                scenario, capacity.simulated_days, source=capacity.scenario, replications_field="simulated_days"
            )
        except ScenarioError as exc:
            fail([f"{file}: {problem}" for problem in exc.problems])
    options = capacity.options()
    if class_start is not None or class_size is not None:
        options["what-if"] = _what_if(capacity, scenario, class_start, class_size, what_if)
    check_xlsx(xlsx)
    for flag, path in (("--out", out_dir), ("--report", report.parent if report else None)):
        if path is not None:
            prepare_directory(path, flag)
    compared, results = compare_plans(options, scenario, replications=replications, seed=seed)
    result = results["plan"]
    print_weeks(result)
    print_months(result)
    print_options(compared, result.priced)
    tables = plan_tables(result, compared)
    if out_dir is not None:
        for name, table in tables.items():
            try:
                table.to_csv(out_dir / name, index=False)
            except OSError as exc:
                fail([cannot_write(exc, out_dir / name)])
        out.print(f"Tables written to {out_dir}/ ({', '.join(tables)})", highlight=False)
    if xlsx is not None:
        currency = scenario.costs.currency if scenario.costs is not None else None
        sheets = {name.removesuffix(".csv").capitalize(): table for name, table in tables.items()}
        write_xlsx(xlsx, sheets, currency)
    if report is not None:
        from bposim.report.capacity import capacity_report

        try:
            capacity_report(result, report, compared)
        except OSError as exc:
            fail([cannot_write(exc, report)])
        out.print(f"Report: {report}", highlight=False)


def plan_tables(result: CapacityResult, compared: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables `--out` writes (and `--xlsx` as sheets): weeks, margin, months, replications; accounts and
    clauses when the plan is priced; options with a what-if."""
    tables = {"weeks.csv": result.weekly, "margin.csv": result.margin, "months.csv": result.months}
    if result.priced:
        tables |= {"accounts.csv": result.accounts, "clauses.csv": result.clauses}
    tables["replications.csv"] = result.replications
    if len(compared) > 1:
        tables["options.csv"] = compared
    return tables


def _what_if(
    capacity: CapacityPlan, scenario: Scenario, class_start: str | None, class_size: str | None, what_if: Callable
) -> CapacityPlan:
    """The plan with the flags' classes, or exit 2 naming the flag."""
    from pydantic import ValidationError

    from bposim.scenario.calendar import read_date
    from bposim.scenario.capacity import plan_errors
    from bposim.scenario.errors import format_validation_error

    if class_start is None or class_size is None:
        fail(["--class-start and --class-size go together: one size per start date"])
    try:
        starts = [read_date(text) for text in class_start.split(",")]
    except ValueError as exc:
        fail([f"--class-start: {exc}"])
    try:
        sizes = [int(text) for text in class_size.split(",")]
    except ValueError:
        fail([f"--class-size: {class_size!r} is not a list of whole numbers, e.g. 10,15"])
    try:
        option = what_if(capacity, starts, sizes)
    except ValidationError as exc:
        fail([f"--class-start/--class-size: {line}" for line in format_validation_error(exc, type(capacity))])
    except ValueError as exc:
        fail([f"--class-start/--class-size: {exc}"])
    problems = plan_errors(option, scenario)
    if problems:
        fail([f"--class-start/--class-size: {problem}" for problem in problems])
    return option


def print_weeks(result: CapacityResult) -> None:
    """The weekly table: headcount, FTE, gap, service level, P(meets) and cost (means over replications); the group
    column only with several groups."""
    weekly = result.weekly
    groups = weekly["group"].nunique() > 1
    table = Table(title=f"{result.plan.name} — {result.replications['replication'].nunique()} replications")
    labels = ["Week", *(["Group"] if groups else []), "Start", "Hires", "Left", "End", "Train", "Nest"]
    money = result.margin.set_index("week")["margin"] if result.priced else None
    for label in [
        *labels,
        "FTE avail",
        "FTE req",
        "Gap",
        "SL",
        "P(met)",
        "Cost",
        *(["Margin"] if result.priced else []),
    ]:
        table.add_column(label, justify="left" if label in ("Week", "Group") else "right", no_wrap=label == "Week")
    first = ~weekly["week"].duplicated()
    for row, opens in zip(weekly.itertuples(index=False), first, strict=True):
        heads = (row.start, row.hires, row.leavers + row.washouts, row.end, row.training, row.nesting)
        margin = [amount(money[row.week]) if opens else ""] if money is not None else []
        table.add_row(
            row.week_start,
            *([row.group] if groups else []),
            *(f"{value:.1f}" for value in heads),
            f"{row.available_fte:.1f}",
            f"{row.required_fte:.1f}",
            f"{row.gap_fte:+.1f}",
            share(row.service_level),
            share(row.p_meets, digits=0),
            amount(row.cost),
            *margin,
            style="red" if row.gap_fte < 0 else None,
        )
    out.print(table)


def print_months(result: CapacityResult) -> None:
    """Each month's pooled service level and P(meets); when the plan is priced its revenue, credits, bonuses, cost
    and margin (means over replications)."""
    from bposim.capacity.margin import MONEY

    table = Table(title=f"Months (target {share(result.target, digits=0)})")
    money = MONEY if result.priced else ()
    for label in ("Month", "Weeks", "Service level", "P(meets)", *(label for _, label in money)):
        table.add_column(label, justify="left" if label == "Month" else "right")
    for row in result.months.to_dict("records"):
        cells = [row["month"], str(row["weeks"]), share(row["service_level"]), share(row["p_meets"], digits=0)]
        table.add_row(*cells, *(amount(row[key]) for key, _ in money))
    out.print(table)


def print_options(compared: pd.DataFrame, priced: bool = False) -> None:
    """Each option's hiring, cost (and margin when priced), leavers and P(every month meets)."""
    for row in compared.itertuples(index=False):
        earned = f"; revenue {amount(row.revenue)}, credits {amount(row.credits)}, margin {amount(row.margin)}"
        out.print(
            f"{row.option}: {row.classes}; cost {amount(row.cost)}{earned if priced else ''}; {row.hires:.1f} hires, "
            f"{row.leavers:.1f} leavers; P(every month meets) {share(row.p_all_months_meet, digits=0)}; months "
            f"meeting {share(row.months_meeting_share, digits=0)}; smallest weekly gap {row.min_gap_fte:+.1f} FTE",
            highlight=False,
            soft_wrap=True,
        )
