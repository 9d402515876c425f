"""`bposim sweep` and `report`: run an experiment and list the cells that meet the target, write the HTML report of
a sweep or of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bposim.cli.common import cannot_write, check_xlsx, err, fail, out, write_xlsx
from bposim.scenario import ScenarioError


def sweep(
    file: Annotated[Path, typer.Argument(help="experiment file (YAML)")],
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes; default all cores, 1 runs in this process")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, or 'local' to start a local Dask cluster")
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="results directory; default out/<experiment>")] = None,
    report: Annotated[bool, typer.Option("--report", help="write report.html in the results directory")] = False,
    xlsx: Annotated[
        Path | None,
        typer.Option("--xlsx", help="also write an Excel workbook: the cells (means, 95% CIs) and every replication"),
    ] = None,
) -> None:
    """Run an experiment (cells × replications, resumable), then list the cells that meet the target."""
    # imported here: keeps the CLI's start fast (pandas, the engine; dask when asked for)
    from bposim.experiment import Experiment
    from bposim.experiment.report import print_sweep
    from bposim.experiment.runner import scheduler_problem
    from bposim.files import WriteError

    problem = scheduler_problem(scheduler) if scheduler is not None else None
    if problem is not None:
        fail([f"--scheduler: {problem}"])
    check_xlsx(xlsx)
    try:
        experiment = Experiment.from_file(file)
    except ScenarioError as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])
    directory = out_dir if out_dir is not None else Path("out") / experiment.name
    try:
        results = experiment.run(out=directory, workers=workers, scheduler=scheduler, progress=True)
    except ScenarioError as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])
    except WriteError as exc:
        fail(
            [
                f"{exc}; the finished tasks are kept in {directory}/: run the same command to carry on once it can be "
                "written"
            ]
        )
    except KeyboardInterrupt:
        err.print(f"interrupted: finished tasks are saved in {directory}/; run the same command to resume")
        raise typer.Exit(130) from None
    print_sweep(out, experiment, results, directory)
    if xlsx is not None:
        from bposim.experiment import cell_summary
        from bposim.workbooks import sweep_sheets

        costs = experiment.base.costs
        write_xlsx(xlsx, sweep_sheets(cell_summary(results), results), costs.currency if costs is not None else None)
    if report:
        # imported here: keeps the CLI's start fast (plotly)
        from bposim.report import ReportError, write_report

        try:
            page = write_report(directory, directory / "report.html")
        except ReportError as exc:
            fail([str(exc)])
        except OSError as exc:
            fail([cannot_write(exc, directory / "report.html")])
        out.print(f"Report: {page}", highlight=False)


def report_command(
    results: Annotated[Path, typer.Argument(help="a sweep's results directory, or a run's --out directory")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file; default RESULTS/report.html")] = (
        None
    ),
) -> None:
    """Write a self-contained HTML report (tables and plotly charts, opens offline) of a sweep or a run."""
    # imported here: keeps the CLI's start fast (plotly)
    from bposim.report import ReportError, write_report

    page = output if output is not None else results / "report.html"
    try:
        write_report(results, page)
    except ReportError as exc:
        fail([str(exc)])
    except OSError as exc:
        fail([cannot_write(exc, page)])
    out.print(f"Report: {page}", highlight=False)
