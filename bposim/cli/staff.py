"""`bposim staff`: the cheapest roster of a scenario's shift patterns that meets the service level, its shifts,
its service level on fresh days, its cost, and whether every target held."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bposim.cli.common import (
    cannot_write,
    check_xlsx,
    err,
    fail,
    fresh_levels,
    load,
    out,
    prepare_directory,
)
from bposim.cli.objectives import periods_view, print_comparison, staff_confidence, staff_objective
from bposim.formatting import amount, money, share
from bposim.processes import available_cores, too_many_workers

if TYPE_CHECKING:
    from bposim.optimise import RosterPlan, WeeklyPlan


class Objective(StrEnum):
    """What a roster must meet (--objective): every interval's target, or each call type's over its period."""

    interval = "interval"
    period = "period"


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
    max_rounds: Annotated[int, typer.Option(min=1, max=100, help="rounds of simulate-and-raise at most")] = 8,
    trim_trials: Annotated[
        int,
        typer.Option(
            min=0, max=1000, help="trials at taking agents off where there is slack, once every target is met"
        ),
    ] = 12,
    workers: Annotated[
        int | None, typer.Option(min=1, help="processes simulating days; default the cores available")
    ] = None,
    schedule_file: Annotated[
        Path | None,
        typer.Option("--schedule", help="write the named agent schedule as CSV (weekly rosters: one column per date)"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or news on stderr")] = False,
    objective: Annotated[
        Objective | None,
        typer.Option(
            help="meet the target in every interval, or per call type over its period; default the scenario's"
        ),
    ] = None,
    floor: Annotated[
        float | None,
        typer.Option(help="with --objective period, the service level no interval may fall below, e.g. 0.6"),
    ] = None,
    confidence: Annotated[
        float | None,
        typer.Option(
            help="with --objective period, the probability each call type's period must meet its target with, e.g. "
            "0.9 (the share of simulated periods meeting it); default the scenario's, else the pooled mean"
        ),
    ] = None,
    compare_objectives: Annotated[
        bool,
        typer.Option(
            "--compare-objectives",
            help="solve the other objective on the same days too (--floor: the period objective's), and compare",
        ),
    ] = False,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx",
            help="also write an Excel workbook: the shifts (weekly: the named schedule), the service level per call "
            "type and per interval",
        ),
    ] = None,
) -> None:
    """Find the cheapest roster of the scenario's shift patterns that meets the service level in every interval.

    With scheduling.contracts on a calendar horizon, plans each agent's weeks (a shift or a day off per date) under
    the contracts' weekly rules; --schedule writes the named schedule as CSV.

    Exits with status 1 if the best roster found still misses the target somewhere, on the search days or on the
    fresh days that verify it (it is written all the same); the last line says where.
    """
    from bposim import workload

    goal, threshold = _staff_target(target)
    scenario = staff_confidence(
        staff_objective(load(file), file, objective, floor, compare_objectives), file, confidence
    )
    problems = workload.staff_problems(scenario, replications)
    if problems:
        fail([f"{file}: {problem}" for problem in problems])
    weekly = scenario.scheduling is not None and scenario.scheduling.weekly
    if scenario.horizon.varies and not weekly:  # the daily optimiser staffs one day's grid, the same every day
        fail(
            [
                f"{file}: horizon: bposim staff plans days that all open on the same hours; this horizon has closed "
                "days or shorter hours on some (opening_hours, closed_dates): leave them out to staff a typical day, "
                "or give scheduling.contracts to plan agents' weeks"
            ]
        )
    if scenario.scheduling is None:
        fail(
            [
                f"{file}: no scheduling section; add one listing the shift patterns the optimiser may use, e.g. "
                'scheduling: {shifts: [{name: day, length_hours: 8, starts: {earliest: "08:00", latest: '
                '"12:00"}}]} (see models/helpdesk_shifts.yaml)'
            ]
        )
    crowd = too_many_workers(workers) if workers is not None else None
    if crowd is not None:
        fail([f"--workers: {crowd}"])
    if schedule_file is not None and not weekly:
        fail(
            [
                f"--schedule: {file} plans one repeated day; the named agent schedule needs weekly rosters "
                "(scheduling.contracts on a calendar horizon)"
            ]
        )
    for flag, path in (("--out", out_file), ("--report", report), ("--schedule", schedule_file)):
        if path is not None:
            prepare_directory(path.parent, flag)
    check_xlsx(xlsx)
    with _Bar(quiet) as watch:
        # imported here: keeps the CLI's start fast (the engine, pandas, scipy)
        from bposim.optimise import RequirementError, ScheduleError, optimise_roster
        from bposim.optimise.roster.objectives import compare_objectives as both_objectives

        options = {
            "target": goal,
            "threshold_seconds": threshold,
            "seed": seed,
            "replications": replications,
            "max_rounds": max_rounds,
            "trim_trials": trim_trials,
            "progress": watch,
            "workers": workers or available_cores(),
        }
        try:
            comparison = both_objectives(scenario, floor, **options) if compare_objectives else None
            plan = next(iter(comparison.plans.values())) if comparison else optimise_roster(scenario, **options)
        except (ScheduleError, RequirementError) as exc:
            watch.close()
            fail([f"{file}: {exc}"])
    if weekly:
        _finish_weekly(plan, replications, out_file, schedule_file, report, comparison, xlsx)
        return
    _print_roster_plan(plan, replications, trim_trials)
    if comparison is not None:
        print_comparison(comparison.table())
    # imported here: keeps the CLI's start fast (plotly)
    from functools import partial

    from bposim.report import roster_report

    writer = partial(roster_report, comparison=comparison.table() if comparison else None)
    writes = [(out_file, plan.to_yaml, "Roster scenario written to"), (xlsx, _workbook(plan), "Workbook:")]
    _write_files(plan, writes, report, writer)
    for line in _roster_verdict(plan, replications):
        out.print(line, style=None if plan.verified else "yellow", highlight=False, soft_wrap=True)
    if not plan.verified:
        raise typer.Exit(1)


def _finish_weekly(
    plan: WeeklyPlan,
    replications: int,
    out_file: Path | None,
    schedule_file: Path | None,
    report: Path | None,
    comparison=None,
    xlsx: Path | None = None,
) -> None:
    """Print the weekly plan, write the roster scenario, the named schedule and the report, and give the verdict
    (exit 1 when a target was missed)."""
    from functools import partial

    from bposim.cli.weekly import print_weekly_plan, weekly_verdict
    from bposim.report.roster import weekly_roster_report

    print_weekly_plan(plan, replications)
    if comparison is not None:
        print_comparison(comparison.table())
    writes = [
        (out_file, plan.to_yaml, "Roster scenario written to"),
        (schedule_file, plan.write_schedule, "Schedule:"),
        (xlsx, _workbook(plan), "Workbook:"),
    ]
    report_writer = partial(weekly_roster_report, comparison=comparison.table() if comparison else None)
    _write_files(plan, writes, report, report_writer)
    for line in weekly_verdict(plan, replications):
        out.print(line, style=None if plan.verified else "yellow", highlight=False, soft_wrap=True)
    if not plan.verified:
        raise typer.Exit(1)


def _write_files(plan, writes: list, report: Path | None, report_writer) -> None:
    """Write each (path, writer, label) asked for and the report, naming each file written; a file that cannot be
    written stops with exit 2."""
    for path, write, label in writes:
        if path is not None:
            try:
                out.print(f"{label} {write(path)}", highlight=False)
            except OSError as exc:
                fail([cannot_write(exc, path)])
    if report is not None:
        try:
            report_writer(plan, report)
        except OSError as exc:
            fail([cannot_write(exc, report)])
        out.print(f"Report: {report}", highlight=False)


def _workbook(plan):
    """What writes the plan's workbook (`--xlsx`) to a path and returns it."""
    from bposim.excel import write_workbook
    from bposim.workbooks import currency_of, roster_sheets

    def write(path: Path) -> Path:
        try:
            return write_workbook(path, roster_sheets(plan), currency=currency_of(plan.cost_unit))
        except ValueError as exc:  # a table longer than a sheet
            fail([f"--xlsx: {exc}"])

    return write


def _staff_target(text: str | None) -> tuple[float | None, float | None]:
    """`0.80/20` as (target, threshold seconds); `0.80` alone keeps the scenario's threshold."""
    if text is None:
        return None, None
    level, slash, seconds = text.partition("/")
    if slash and not seconds.strip():
        fail(
            [
                f"--target: '{text}' has no threshold after '/'; write TARGET/SECONDS, e.g. 0.80/20, or TARGET alone "
                "to keep the scenario's threshold"
            ]
        )
    try:
        goal = float(level)
        threshold = float(seconds) if seconds else None
    except ValueError:
        goal, threshold = math.nan, None
    if not 0 < goal <= 1:
        fail(
            [
                f"--target: '{text}' is not a service level; write TARGET/SECONDS with TARGET between 0 and 1, "
                "e.g. 0.80/20 (80% of calls answered within 20 seconds)"
            ]
        )
    if threshold is not None and not 0 <= threshold < math.inf:
        fail([f"--target: '{text}': the threshold must be a number of seconds ≥ 0, e.g. 0.80/20"])
    return goal, threshold


def _print_roster_plan(plan: RosterPlan, replications: int, trim_trials: int = 0) -> None:
    """The chosen shifts, the service level they achieved on fresh days (and the exempt intervals left out), and
    what they cost."""
    from bposim.optimise.roster.evaluation import exempt_text

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
    out.print(fresh_levels(plan.by_call_type, f"{replications} fresh days", plan.verification_seed))
    exempt = exempt_text(plan.achieved)
    if exempt:
        out.print(f"{exempt}: outside the service-level objective, not raised nor a miss.", highlight=False)
    if plan.objective == "period":
        out.print(periods_view(plan, f"{replications} fresh days"))
    deferred = plan.by_call_type[~plan.by_call_type["channel"].isin(("voice", "chat"))]
    if len(deferred):
        days = plan.requirement.source.horizon.days
        out.print(
            f"{', '.join(deferred['call_type'])}: the share of the items due done by their due time over the days of "
            f"each fresh run ({_judged_text(plan, days)}); offered: items arrived a day.",
            highlight=False,
        )
    _print_channel_hours(plan)
    cost = amount(plan.cost, plan.cost_ci or None, ",.2f")  # paid hours have no spread: no "± 0.00"
    basis = "mean total of the fresh days" if plan.cost_unit != "paid hours" else "the roster's paid hours"
    out.print(
        f"Cost: {cost} {plan.cost_unit} per day ({basis}); shifts {schedule.cost:,.2f} {schedule.cost_unit} "
        "if every rostered agent comes in."
        + (
            ""
            if schedule.optimal
            else " The solver's search stopped at its limit: the cheapest roster it found, not proven the cheapest "
            "(within "
            f"{schedule.gap:.2%} of it)."
        ),
        highlight=False,
    )
    out.print(
        f"Search: {plan.rounds} round{'' if plan.rounds == 1 else 's'}, {plan.simulations:,} simulated days.",
        highlight=False,
    )
    if plan.converged and trim_trials and plan.objective != "period":
        out.print(
            f"Trim: {plan.trim_trials} trial{'' if plan.trim_trials == 1 else 's'}, {plan.trim_accepted} "
            f"accepted, saved {plan.trim_saving:,.2f} {schedule.cost_unit} a day on the shifts.",
            highlight=False,
        )


def _judged_text(plan: RosterPlan, days: int) -> str:
    """E.g. "the scenario's 5 days", or "2 days: the scenario's 1 repeated, as items fall due after it"."""
    from bposim.optimise.deferred import judged_days

    judged = judged_days(plan.scenario)
    if judged == days:
        return f"the scenario's {days} day{'' if days == 1 else 's'}"
    return f"{judged} days: the scenario's {days} repeated, as its items fall due after it"


def _print_channel_hours(plan: RosterPlan) -> None:
    """The requirement by channel: agent-hours a day, share and peak agents of each channel, and what the first
    deferred (else non-voice) channel drives, e.g. "email drives 12% of the agent-hours"; nothing with one
    channel."""
    hours = plan.requirement.channel_hours()
    if hours.empty:
        return
    view = Table(title="Requirement by channel")
    for label in ("Channel", "Agent-hours/day", "Share", "Peak agents", "At"):
        view.add_column(label, justify="left" if label == "Channel" else "right")
    for row in hours.itertuples(index=False):
        view.add_row(
            row.channel, f"{row.agent_hours:,.1f}", share(row.share, digits=0), f"{row.peak:.1f}", row.peak_start
        )
    out.print(view)
    drivers = hours[hours["channel"] != "voice"]
    out.print(
        ", ".join(f"{row.channel} drives {share(row.share, digits=0)}" for row in drivers.itertuples(index=False))
        + " of the agent-hours.",
        highlight=False,
    )


def _roster_verdict(plan: RosterPlan, replications: int) -> list[str]:
    """Whether every target held, on the search days and on the fresh days that verify the roster; the last line
    is about the fresh days whenever they show a shortfall."""
    if plan.verified:
        return [
            f"{plan.targets} met its target: on the search days in round {plan.rounds}, and on {replications} "
            f"fresh day{'' if replications == 1 else 's'} (seed {plan.verification_seed})."
        ]
    lines = []
    if not plan.converged and plan.objective == "period":
        lines.append(f"Not every target holds: {plan.shortfall}")
    elif not plan.converged:
        lines.append(f"Not every interval meets its target: {plan.shortfall}")
    if plan.fresh_shortfall:
        searched = f" (the search days met every target in round {plan.rounds})" if plan.converged else ""
        what = "Not every target holds" if plan.objective == "period" else "Not every interval meets its target"
        lines.append(f"{what} on the fresh days{searched}: {plan.fresh_shortfall}")
    return lines


class _Bar:
    """The optimiser's progress (a `bposim.optimise.progress.Progress`, not imported: it loads the optimiser) on
    stderr: a rich bar with the phase, round, days simulated, cheapest roster so far and time elapsed, from the
    first second, and the news lines above it; without a terminal, the news lines alone; with --quiet, nothing."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live = None
        if not quiet and err.is_terminal:
            from rich.progress import Progress as Bar
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Bar(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err)
            self.task = self.live.add_task("starting", total=None)
            self.live.start()
        self.stage, self.days, self.cost = "starting", 0, ""

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def say(self, line: str) -> None:
        if not self.quiet:
            err.print(line, style="dim", highlight=False)

    def phase(self, name: str, round_number: int | None = None) -> None:
        self.stage = (
            name if round_number is None else f"{name}, {'trial' if name == 'trim' else 'round'} {round_number}"
        )
        self._show()

    def simulated(self, days: int) -> None:
        self.days += days
        self._show()

    def best(self, cost: float, unit: str) -> None:
        self.cost = f"; cheapest roster {money(cost, unit)}"
        self._show()

    def _show(self) -> None:
        if self.live is not None:
            self.live.update(self.task, description=f"{self.stage}: {self.days:,} days simulated{self.cost}")
