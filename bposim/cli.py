"""The `bposim` command line: run, sweep, report, staff, validate, schema, erlang.

Bad input (a scenario file, a flag) prints one short message per problem to stderr and exits with status 2;
`staff` exits with status 1 when no roster it found meets the target (it still writes the best one).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bposim.formatting import day_clock, share
from bposim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from bposim.run import Run
    from bposim.workload import Workload

app = typer.Typer(
    help="Contact-centre simulation: staffing, skills and service level, checked against Erlang.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(width=None if Console().is_terminal else 120)
err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fail(lines: list[str]) -> None:
    for line in lines:
        err.print(Text("error: ", style="bold red") + Text(line), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _cannot_write(exc: OSError, path: Path) -> str:
    """'PATH: cannot write (REASON)', naming the file the error names (never a temporary one), else `path`."""
    from bposim.files import WriteError, cannot_write

    return str(exc if isinstance(exc, WriteError) else cannot_write(exc.filename or path, exc))


def _load(path: Path) -> Scenario:
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        _fail([f"{exc.source}: {problem}" for problem in exc.problems])


def _within_limits(scenario: Scenario, path: Path, replications: int = 1) -> Workload:
    """The scenario's workload, or exit 2 naming the field (or --replications) that takes it beyond bposim's limits."""
    from bposim import workload

    try:
        return workload.check(scenario, replications, source=str(path), replications_field="--replications")
    except ScenarioError as exc:
        _fail([f"{exc.source}: {problem}" for problem in exc.problems])


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same tables")] = 0,
    replications: Annotated[int, typer.Option(min=1, help="independent replications (days) to run")] = 1,
    format: Annotated[Format, typer.Option("--format", help="how to print the summary")] = Format.table,
    out_dir: Annotated[Path | None, typer.Option("--out", help="write calls/intervals/agents tables here")] = None,
    report: Annotated[bool, typer.Option("--report", help="also write report.html in the --out directory")] = False,
) -> None:
    """Simulate a scenario and print its service level, waiting, abandonment and occupancy."""
    from bposim.run import jsonable, simulate

    scenario = _load(file)
    _within_limits(scenario, file, replications)
    if report and out_dir is None:
        _fail(["--report: give --out DIRECTORY too; the report is written there as report.html"])
    if out_dir is not None:
        _prepare_directory(out_dir)
    result = simulate(scenario, seed=seed, replications=replications)
    if out_dir is not None:
        try:
            result.save(out_dir)
        except OSError as exc:
            _fail([_cannot_write(exc, out_dir)])
    if report:
        from bposim.report import run_report

        try:
            page = run_report(result, out_dir / "report.html")
        except OSError as exc:
            _fail([_cannot_write(exc, out_dir / "report.html")])
    if format is Format.json:
        print(json.dumps(jsonable(result.summary), indent=2))
    elif format is Format.csv:
        _summary_rows(result).to_csv(sys.stdout, index=False)
    else:
        _print_summary(result)
    if out_dir is not None and format is Format.table:
        out.print(f"Tables written to {out_dir}/ (every table as CSV and Parquet; summary.json)")
    if report:
        (err if format is not Format.table else out).print(f"Report: {page}", highlight=False)


@app.command()
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
) -> None:
    """Run an experiment (cells × replications, resumable), then list the cells that meet the target."""
    from bposim.experiment import Experiment
    from bposim.experiment.report import print_sweep
    from bposim.experiment.runner import scheduler_problem
    from bposim.files import WriteError

    problem = scheduler_problem(scheduler) if scheduler is not None else None
    if problem is not None:
        _fail([f"--scheduler: {problem}"])
    try:
        experiment = Experiment.from_file(file)
    except ScenarioError as exc:
        _fail([f"{exc.source}: {problem}" for problem in exc.problems])
    directory = out_dir if out_dir is not None else Path("out") / experiment.name
    try:
        results = experiment.run(out=directory, workers=workers, scheduler=scheduler, progress=True)
    except ScenarioError as exc:
        _fail([f"{exc.source}: {problem}" for problem in exc.problems])
    except WriteError as exc:
        _fail(
            [
                f"{exc}; the finished tasks are kept in {directory}/: run the same command to carry on once it can be "
                "written"
            ]
        )
    except KeyboardInterrupt:
        err.print(f"interrupted: finished tasks are saved in {directory}/; run the same command to resume")
        raise typer.Exit(130) from None
    print_sweep(out, experiment, results, directory)
    if report:
        from bposim.report import write_report

        try:
            page = write_report(directory, directory / "report.html")
        except OSError as exc:
            _fail([_cannot_write(exc, directory / "report.html")])
        out.print(f"Report: {page}", highlight=False)


@app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(help="a sweep's results directory, or a run's --out directory")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="HTML file; default RESULTS/report.html")] = (
        None
    ),
) -> None:
    """Write a self-contained HTML report (tables and plotly charts, opens offline) of a sweep or a run."""
    from bposim.report import ReportError, write_report

    page = output if output is not None else results / "report.html"
    try:
        write_report(results, page)
    except ReportError as exc:
        _fail([str(exc)])
    except OSError as exc:
        _fail([_cannot_write(exc, page)])
    out.print(f"Report: {page}", highlight=False)


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="scenario file (YAML)")]) -> None:
    """Check a scenario file and say what it describes, with the calls a day it expects."""
    from bposim.workload import about

    scenario = _load(file)
    load = _within_limits(scenario, file)
    planned = sum(max(g.agents.per_interval_counts(scenario.horizon.intervals)) for g in scenario.agent_groups)
    rostered = sum(shift.agents for shift in scenario.roster)
    staff = f"up to {planned} agents by plan" + (f", {rostered} on {len(scenario.roster)} shifts" if rostered else "")
    extras = [f"{len(scenario.tools)} tools"] if scenario.tools else []
    if scenario.scheduling is not None:
        extras.append(f"{len(scenario.scheduling.shifts)} shift patterns to schedule")
    extras += [
        name
        for name, on in (
            ("self-service", scenario.technology.self_service),
            ("AI assist", scenario.technology.ai_assist),
            ("callbacks", scenario.technology.callbacks),
            ("costs", scenario.costs),
        )
        if on
    ]
    callers, attempts = about(load.per_day("callers")), about(load.calls_per_day)
    calls = f"about {callers} calls a day" + (
        f" (up to {attempts} attempts with retrials and callbacks)" if attempts != callers else ""
    )
    out.print(
        f"{file}: valid — '{scenario.name}': {len(scenario.call_types)} call types, "
        f"{len(scenario.agent_groups)} agent groups ({staff}), {scenario.horizon.intervals} "
        f"intervals of {scenario.horizon.interval_minutes} min × {scenario.horizon.days} day(s)"
        + (f"; {', '.join(extras)}" if extras else "")
        + f"; {calls}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


@app.command()
def schema() -> None:
    """Print the JSON schema of scenario files (for editors and linters)."""
    print(json.dumps(Scenario.model_json_schema(), indent=2))


def _finite_number(low: float = 0.0, high: float = math.inf, *, above: bool = False) -> Callable[[str], float]:
    """A float flag's parser: a finite number from `low` (or `above` it) to `high`; nan and inf are refused."""
    allowed = f"a number {'>' if above else '≥'} {low:g}" + (f" and ≤ {high:g}" if high < math.inf else "")

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a number; give {allowed}") from None
        if not math.isfinite(value):
            raise typer.BadParameter(f"{text!r} is not a finite number; give {allowed}")
        if value < low or (above and value == low) or value > high:
            raise typer.BadParameter(f"{text!r} is out of range; give {allowed}")
        return value

    return parse


@app.command()
def erlang(
    calls_per_hour: Annotated[float, typer.Option(parser=_finite_number(), help="offered calls per hour")],
    handle_seconds: Annotated[float, typer.Option(parser=_finite_number(above=True), help="mean handle time, seconds")],
    threshold_seconds: Annotated[float, typer.Option(parser=_finite_number(), help="service-level threshold")] = 20,
    target: Annotated[float, typer.Option(parser=_finite_number(high=1), help="service-level target")] = 0.8,
    patience_seconds: Annotated[
        float | None,
        typer.Option(parser=_finite_number(above=True), help="mean patience: Erlang A; leave out for Erlang C"),
    ] = None,
    agents: Annotated[str | None, typer.Option(help="agent count or range, e.g. 12 or 10-20")] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Erlang C (or A, with --patience-seconds): service level per agent count, and agents required."""
    from bposim import analytic

    rate = calls_per_hour / 3600.0
    required = analytic.required_agents(
        rate, handle_seconds, threshold_seconds, target, mean_patience_seconds=patience_seconds
    )
    low, high = _agent_range(agents, required)
    table = analytic.erlang_table(
        rate, handle_seconds, threshold_seconds, range(low, high + 1), mean_patience_seconds=patience_seconds
    )
    if format is Format.json:
        from bposim.run import jsonable

        rows = jsonable(table.to_dict(orient="records"))
        print(json.dumps({"required_agents": required, "rows": rows}, indent=2))
        return
    if format is Format.csv:
        table.to_csv(sys.stdout, index=False)
        return
    model = "Erlang A" if patience_seconds else "Erlang C"
    load = rate * handle_seconds
    title = f"{model}: {calls_per_hour:g} calls/h × {handle_seconds:g} s = {load:.2f} Erlangs"
    view = Table(title=f"{title}; target {target:.0%} in {threshold_seconds:g} s")
    for column in table.columns:
        view.add_column(column, justify="right")
    for row in table.itertuples(index=False):
        marker = "bold green" if row.agents == required else None
        view.add_row(*[_cell(name, value) for name, value in zip(table.columns, row, strict=True)], style=marker)
    out.print(view)
    out.print(f"Agents required: [bold]{required}[/]")


def _agent_range(text: str | None, required: int) -> tuple[int, int]:
    if text is None:
        return max(1, required - 3), required + 3
    try:
        low, _, high = text.partition("-")
        bounds = (int(low), int(high or low))
    except ValueError:
        bounds = (0, -1)
    if not 1 <= bounds[0] <= bounds[1] or bounds[1] - bounds[0] > 2_000:
        _fail([f"--agents: '{text}' is not an agent count or range; write e.g. 12 or 10-20 (at most 2,000 rows)"])
    return bounds


def _cell(name: str, value) -> str:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "—"
        if name in ("service_level", "p_wait", "p_abandon", "occupancy", "service_level_answered"):
            return f"{value:.1%}"
        return f"{value:.2f}"
    return str(value)


def _summary_rows(result: Run):
    import pandas as pd

    rows = [{"call_type": "all", **_flat(result.summary)}]
    rows += [{"call_type": name, **_flat(kpis)} for name, kpis in result.summary["by_call_type"].items()]
    return pd.DataFrame(rows)


def _flat(kpis: dict) -> dict:
    from bposim import metrics

    return {key: value for key, value in kpis.items() if key.removesuffix("_ci") in metrics.SUMMARY_KEYS}


def _print_summary(result: Run) -> None:
    summary = result.summary
    pooled = result.replications > 1
    title = f"{summary['scenario']} — seed {result.seed}"
    title += f", mean of {result.replications} replications (± 95% CI)" if pooled else ""
    view = Table(title=title)
    columns = [
        ("offered", "Offered"),
        ("answered", "Answered"),
        ("abandoned", "Abandoned"),
        ("blocked", "Blocked"),
        ("service_level", "Service level"),
        ("asa_seconds", "ASA s"),
        ("abandon_rate", "Abandon %"),
        ("occupancy", "Occupancy"),
    ]
    view.add_column("Call type")
    for _, label in columns:
        view.add_column(label, justify="right")
    rows = [(name, kpis) for name, kpis in summary["by_call_type"].items()]
    if len(rows) > 1:
        rows.append(("all", summary))
    for name, kpis in rows:
        view.add_row(name, *[_kpi(kpis, key, pooled) for key, _ in columns], style="bold" if name == "all" else None)
    out.print(view)
    definition = summary["service_level_definition"].replace("_", " ")
    out.print(
        f"Service level = answered within threshold / {definition}; ASA = mean wait of answered calls.",
        style="dim",
        highlight=False,
    )
    extras = [
        f"{summary[key]:,.0f} {label}"
        for key, label in (
            ("contained", "contained by the bot"),
            ("callback_requests", "callbacks requested"),
            ("callbacks_made", "callbacks made"),
        )
        if summary.get(key)
    ]
    if extras:
        out.print("Also: " + ", ".join(extras) + ".", highlight=False)
    if len(result.outages) and not pooled:
        _print_outages(result)


def _print_outages(result: Run) -> None:
    """The tool outages of the run and what they did to the calls arriving during and after them."""
    view = Table(title="Tool outages")
    for label in ("Tool", "Kind", "From", "To", "Effects", "Offered", "SL during", "SL after"):
        view.add_column(label, justify="left" if label in ("Tool", "Kind", "Effects") else "right")
    opening = result.scenario.horizon.start_seconds
    for row in result.outages.itertuples(index=False):
        view.add_row(
            str(row.tool),
            str(row.kind),
            day_clock(opening + row.start),
            day_clock(opening + row.end),
            row.effects,
            f"{row.offered_during:,}",
            share(row.service_level_during, digits=0),
            share(row.service_level_after, digits=0),
        )
    out.print(view)


def _kpi(kpis: dict, key: str, pooled: bool) -> str:
    value = kpis[key]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    percent = key in ("service_level", "abandon_rate", "occupancy")
    text = f"{value:.1%}" if percent else (f"{value:.1f}" if key.endswith("seconds") else f"{value:,.0f}")
    half = kpis.get(f"{key}_ci")
    if pooled and half is not None and not math.isnan(half):
        text += f" ± {half:.1%}" if percent else f" ± {half:.1f}"
    return text


def _prepare_directory(directory: Path) -> None:
    """Create the output directory and check a file can be written there before a long run, so a bad --out (or a
    read-only or full volume) fails at once."""
    from bposim.files import WriteError, check_writable

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail([f"--out: cannot create directory {directory} ({exc.strerror or exc})"])
    try:
        check_writable(directory)
    except WriteError as exc:
        _fail([str(exc)])


@app.command()
def staff(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML) with a scheduling section")],
    target: Annotated[
        str | None, typer.Option(help="service level wanted as TARGET/SECONDS, e.g. 0.80/20; default the scenario's")
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="write the roster as a scenario file (YAML)")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write an HTML report: shifts, service level, agents by interval")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same roster")] = 0,
    replications: Annotated[int, typer.Option(min=1, help="days simulated for each evaluation")] = 10,
    max_rounds: Annotated[int, typer.Option(min=1, help="rounds of simulate-and-raise at most")] = 8,
    trim_trials: Annotated[
        int, typer.Option(min=0, help="trials at taking agents off where there is slack, once every target is met")
    ] = 12,
) -> None:
    """Find the cheapest roster of the scenario's shift patterns that meets the service level in every interval.

    Exits with status 1 if the best roster found still misses the target somewhere, on the search days or on the
    fresh days that verify it (it is written all the same); the last line says where.
    """
    from bposim.files import WriteError, check_writable

    goal, threshold = _staff_target(target)
    scenario = _load(file)
    from bposim import workload

    problems = workload.staff_problems(scenario, replications)
    if problems:
        _fail([f"{file}: {problem}" for problem in problems])
    if scenario.scheduling is None:
        _fail(
            [
                f"{file}: no scheduling section; add one listing the shift patterns the optimiser may use, e.g. "
                'scheduling: {shifts: [{name: day, length_hours: 8, starts: {earliest: "08:00", latest: '
                '"12:00"}}]} (see models/helpdesk_shifts.yaml)'
            ]
        )
    for flag, path in (("--out", out_file), ("--report", report)):
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                _fail([f"{flag}: cannot create directory {path.parent} ({exc.strerror or exc})"])
            try:
                check_writable(path.parent)
            except WriteError as exc:
                _fail([str(exc)])
    from bposim.optimise import RequirementError, ScheduleError, optimise_roster

    try:
        plan = optimise_roster(
            scenario,
            target=goal,
            threshold_seconds=threshold,
            seed=seed,
            replications=replications,
            max_rounds=max_rounds,
            trim_trials=trim_trials,
            progress=lambda line: err.print(line, style="dim", highlight=False),
        )
    except (ScheduleError, RequirementError) as exc:
        _fail([f"{file}: {exc}"])
    _print_roster_plan(plan, replications, trim_trials)
    if out_file is not None:
        try:
            out.print(f"Roster scenario written to {plan.to_yaml(out_file)}", highlight=False)
        except OSError as exc:
            _fail([_cannot_write(exc, out_file)])
    if report is not None:
        from bposim.report import roster_report

        try:
            roster_report(plan, report)
        except OSError as exc:
            _fail([_cannot_write(exc, report)])
        out.print(f"Report: {report}", highlight=False)
    for line in _roster_verdict(plan, replications):
        out.print(line, style=None if plan.verified else "yellow", highlight=False, soft_wrap=True)
    if not plan.verified:
        raise typer.Exit(1)


def _staff_target(text: str | None) -> tuple[float | None, float | None]:
    """`0.80/20` as (target, threshold seconds); `0.80` alone keeps the scenario's threshold."""
    if text is None:
        return None, None
    share, slash, seconds = text.partition("/")
    if slash and not seconds.strip():
        _fail(
            [
                f"--target: '{text}' has no threshold after '/'; write TARGET/SECONDS, e.g. 0.80/20, or TARGET alone "
                "to keep the scenario's threshold"
            ]
        )
    try:
        goal = float(share)
        threshold = float(seconds) if seconds else None
    except ValueError:
        goal, threshold = math.nan, None
    if not 0 < goal <= 1:
        _fail(
            [
                f"--target: '{text}' is not a service level; write TARGET/SECONDS with TARGET between 0 and 1, "
                "e.g. 0.80/20 (80% of calls answered within 20 seconds)"
            ]
        )
    if threshold is not None and not 0 <= threshold < math.inf:
        _fail([f"--target: '{text}': the threshold must be a number of seconds ≥ 0, e.g. 0.80/20"])
    return goal, threshold


def _print_roster_plan(plan, replications: int, trim_trials: int = 0) -> None:
    """The chosen shifts, the service level they achieved on fresh days, and what they cost."""
    schedule = plan.schedule
    view = Table(title=f"{plan.scenario.name} — optimised roster")
    for label in schedule.SHIFT_COLUMNS:
        view.add_column(label, justify="right" if label in ("Agents", "Paid hours", "Cost") else "left")
    headcount = ", ".join(f"{group} {n}" for group, n in schedule.headcount.items())
    *rows, total = schedule.shift_rows(total_breaks=headcount)
    for row in rows:
        view.add_row(*row)
    view.add_row(*total, style="bold")
    out.print(view)
    levels = Table(title=f"Service level on {replications} fresh days (seed {plan.verification_seed}, ± 95% CI)")
    for label in ("Call type", "Offered/day", "Service level", "Target", "Met"):
        levels.add_column(label, justify="left" if label == "Call type" else "right")
    for row in plan.by_call_type.itertuples(index=False):
        half = "" if math.isnan(row.service_level_ci) else f" ± {row.service_level_ci:.1%}"
        levels.add_row(
            row.call_type,
            f"{row.offered:,.0f}",
            f"{row.service_level:.1%}{half}",
            f"{row.target:.0%}",
            "yes" if row.met else "no",
            style=None if row.met else "red",
        )
    out.print(levels)
    cost = f"{plan.cost:,.2f}" + ("" if math.isnan(plan.cost_ci) or not plan.cost_ci else f" ± {plan.cost_ci:,.2f}")
    basis = "mean total of the fresh days" if plan.cost_unit != "paid hours" else "the roster's paid hours"
    out.print(
        f"Cost: {cost} {plan.cost_unit} per day ({basis}); shifts {schedule.cost:,.2f} {schedule.cost_unit} "
        "if every rostered agent comes in."
        + (
            ""
            if schedule.optimal
            else " The solver's time ran out: the cheapest roster it found, not proven the cheapest."
        ),
        highlight=False,
    )
    out.print(
        f"Search: {plan.rounds} round{'' if plan.rounds == 1 else 's'}, {plan.simulations:,} simulated days.",
        highlight=False,
    )
    if plan.converged and trim_trials:
        out.print(
            f"Trim: {plan.trim_trials} trial{'' if plan.trim_trials == 1 else 's'}, {plan.trim_accepted} "
            f"accepted, saved {plan.trim_saving:,.2f} {schedule.cost_unit} a day on the shifts.",
            highlight=False,
        )


def _roster_verdict(plan, replications: int) -> list[str]:
    """Whether every target held, on the search days and on the fresh days that verify the roster; the last line
    is about the fresh days whenever they show a shortfall."""
    if plan.verified:
        return [
            f"Every interval met its target: on the search days in round {plan.rounds}, and on {replications} "
            f"fresh day{'' if replications == 1 else 's'} (seed {plan.verification_seed})."
        ]
    lines = []
    if not plan.converged:
        lines.append(f"Not every interval meets its target: {plan.shortfall}")
    if plan.fresh_shortfall:
        searched = f" (the search days met every target in round {plan.rounds})" if plan.converged else ""
        lines.append(f"Not every interval meets its target on the fresh days{searched}: {plan.fresh_shortfall}")
    return lines


def main() -> None:
    """Console entry point."""
    app()
