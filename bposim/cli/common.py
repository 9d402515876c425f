"""What every command shares: the consoles, the output formats, and failing on bad input with status 2."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bposim.formatting import amount, share
from bposim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from bposim.workload import Workload

out = Console(width=None if Console().is_terminal else 120)
err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)


class Format(StrEnum):
    """How a command prints its result (--format)."""

    table = "table"
    json = "json"
    csv = "csv"


def fail(lines: list[str]) -> NoReturn:
    """Print each problem as an "error: ..." line on stderr and exit with status 2."""
    for line in lines:
        err.print(Text("error: ", style="bold red") + Text(line), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def finite_number(
    low: float = 0.0, high: float = math.inf, *, above: bool = False, below: bool = False
) -> Callable[[str], float]:
    """A float flag's parser: a finite number from `low` (or `above` it) to `high` (or `below` it); nan and inf are
    refused."""
    allowed = f"a number {'>' if above else '≥'} {low:g}" + (
        f" and {'<' if below else '≤'} {high:g}" if high < math.inf else ""
    )

    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a number; give {allowed}") from None
        if not math.isfinite(value):
            raise typer.BadParameter(f"{text!r} is not a finite number; give {allowed}")
        if value < low or (above and value == low) or value > high or (below and value == high):
            raise typer.BadParameter(f"{text!r} is out of range; give {allowed}")
        return value

    return parse


def cannot_write(exc: OSError, path: Path) -> str:
    """'PATH: cannot write (REASON)', naming the file the error names (never a temporary one), else `path`."""
    from bposim import files

    return str(exc if isinstance(exc, files.WriteError) else files.cannot_write(exc.filename or path, exc))


def load(path: Path) -> Scenario:
    """The scenario in `path`, or exit 2 with one line per problem found in it."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])


def within_limits(scenario: Scenario, path: Path, replications: int = 1) -> Workload:
    """The scenario's workload, or exit 2 naming the field (or --replications) that takes it beyond bposim's limits."""
    from bposim import workload

    try:
        return workload.check(scenario, replications, source=str(path), replications_field="--replications")
    except ScenarioError as exc:
        fail([f"{exc.source}: {problem}" for problem in exc.problems])


def prepare_directory(directory: Path, flag: str = "--out") -> None:
    """Create the output directory and check a file can be written there before a long run, so a bad `flag` (or a
    read-only or full volume) fails at once."""
    from bposim.files import WriteError, check_writable

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail([f"{flag}: cannot create directory {directory} ({exc.strerror or exc})"])
    try:
        check_writable(directory)
    except WriteError as exc:
        fail([str(exc)])


def check_xlsx(path: Path | None, flag: str = "--xlsx") -> None:
    """Exit 2 before any work when `path` cannot be a workbook: not .xlsx, or in a directory that does not exist."""
    from bposim.excel import xlsx_problem

    problem = xlsx_problem(path) if path is not None else None
    if problem is not None:
        fail([f"{flag}: {problem}"])


def write_xlsx(path: Path, sheets: dict, currency: str | None, console: Console = out) -> None:
    """Write the workbook (`bposim.excel.write_workbook`) and say where on `console`; exit 2 naming the file if it
    cannot be written."""
    from bposim.excel import write_workbook

    try:
        write_workbook(path, sheets, currency=currency)
    except (OSError, ValueError) as exc:
        fail([cannot_write(exc, path) if isinstance(exc, OSError) else f"--xlsx: {exc}"])
    console.print(f"Workbook: {path}", highlight=False)


def fresh_levels(by_call_type, runs: str, seed: int) -> Table:
    """The service level each call type reached on the fresh runs that verify a roster, against its target."""
    levels = Table(title=f"Service level on {runs} (seed {seed}, ± 95% CI)")
    for label in ("Call type", "Offered/day", "Service level", "Target", "Met"):
        levels.add_column(label, justify="left" if label == "Call type" else "right")
    for row in by_call_type.itertuples(index=False):
        levels.add_row(
            row.call_type,
            amount(row.offered),
            share(row.service_level, row.service_level_ci),
            share(row.target, digits=0),
            "yes" if row.met else "no",
            style=None if row.met else "red",
        )
    return levels
