"""`bposim compare A.yaml B.yaml`: two scenarios on the same days, each KPI's difference B − A per call type and
overall with its paired 95% interval; as a table, CSV, a workbook and an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bposim.cli.common import cannot_write, check_xlsx, fail, load, out, prepare_directory, within_limits, write_xlsx


def compare(
    file_a: Annotated[Path, typer.Argument(help="scenario A (YAML): the one to compare against")],
    file_b: Annotated[Path, typer.Argument(help="scenario B (YAML): the change")],
    replications: Annotated[
        int, typer.Option(min=2, help="days (replications) simulated for each, the same days for both")
    ] = 10,
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same days")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out", help="write compare.csv (the table) here")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="write an HTML report: table and chart")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="also write the table as an Excel workbook")] = None,
) -> None:
    """Compare two scenarios on the same simulated days: service level, ASA, abandonment, occupancy and cost, each
    difference B − A with its paired 95% confidence interval."""
    from bposim.comparison import call_type_problem

    scenario_a, scenario_b = load(file_a), load(file_b)
    problem = call_type_problem(scenario_a, scenario_b, str(file_a), str(file_b))
    if problem is not None:
        fail([problem])
    within_limits(scenario_a, file_a, replications)
    within_limits(scenario_b, file_b, replications)
    check_xlsx(xlsx)
    if out_dir is not None:
        prepare_directory(out_dir)
    if report is not None:
        prepare_directory(report.parent, "--report")
    # imported here: keeps the CLI's start fast (the engine, pandas, scipy)
    from bposim.comparison import compare as compare_scenarios

    table = compare_scenarios(scenario_a, scenario_b, replications=replications, seed=seed)
    facts = f"Seed {seed}, {replications} replications of each, replication r of both on the same day."
    _print_table(table, file_a, file_b, facts)
    if out_dir is not None:
        from bposim.files import write_text_atomically

        path = out_dir / "compare.csv"
        try:
            write_text_atomically(path, table.to_csv(index=False, lineterminator="\n"))
        except OSError as exc:
            fail([cannot_write(exc, path)])
        out.print(f"Table: {path}", highlight=False)
    if xlsx is not None:
        from bposim.workbooks import currency_of

        unit = table.loc[table["kpi"] == "total_cost", "unit"]
        write_xlsx(xlsx, {"Comparison": table}, currency_of(unit.iloc[0] if len(unit) else None))
    if report is not None:
        # imported here: keeps the CLI's start fast (plotly)
        from bposim.report.compare import compare_report

        try:
            compare_report(table, report, str(file_a), str(file_b), facts)
        except OSError as exc:
            fail([cannot_write(exc, report)])
        out.print(f"Report: {report}", highlight=False)


def _print_table(table, file_a: Path, file_b: Path, facts: str) -> None:
    """The differences as a table, those whose interval excludes 0 in bold, then how much the pairing saved."""
    from bposim.comparison_views import amount_text, comparison_rows

    shown = comparison_rows(table)
    view = Table(title=f"B = {file_b} against A = {file_a}")
    for i, label in enumerate(shown.header):
        view.add_column(label, justify="left" if i < 2 else "right")
    for row, significant in zip(shown.rows, shown.significant, strict=True):
        view.add_row(*row, style="bold" if significant else "dim")
    out.print(view)
    out.print(
        f"{facts} B − A [paired 95% CI]; bold: the interval excludes 0 (B differs from A); 'Unpaired ±': the "
        "half-width without the same days.",
        style="dim",
        highlight=False,
        markup=False,
    )
    overall = table[(table["call_type"] == "all") & (table["kpi"] == "service_level")]
    if len(overall):
        row = overall.iloc[0]
        out.print(
            f"Simulating both on the same days narrows the service level's interval to ±"
            f"{amount_text(row['half_width'], 'share')} from ±{amount_text(row['unpaired_half_width'], 'share')}.",
            highlight=False,
        )
