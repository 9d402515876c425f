"""`bposim erlang`: Erlang C (or A) service level per agent count, and the agents required, without simulating."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table

from bposim.cli.common import Format, fail, out
from bposim.formatting import MISSING, amount, share

SHARES = ("service_level", "p_wait", "p_abandon", "occupancy", "service_level_answered")


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
    # imported here: keeps the CLI's start fast (scipy, pandas)
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
        # imported here: keeps the CLI's start fast (the engine: simpy, pandas)
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
    """The agent counts to tabulate: `--agents` as "12" or "10-20", else three either side of the required."""
    if text is None:
        return max(1, required - 3), required + 3
    try:
        low, _, high = text.partition("-")
        bounds = (int(low), int(high or low))
    except ValueError:
        bounds = (0, -1)
    if not 1 <= bounds[0] <= bounds[1] or bounds[1] - bounds[0] > 2_000:
        fail([f"--agents: '{text}' is not an agent count or range; write e.g. 12 or 10-20 (at most 2,000 rows)"])
    return bounds


def _cell(name: str, value: Any) -> str:
    """One cell of the Erlang table: shares as percentages, other numbers to two decimals, "—" where a number is
    undefined or infinite (fewer agents than the load)."""
    if not isinstance(value, float):
        return str(value)
    if math.isinf(value):
        return MISSING
    return share(value) if name in SHARES else amount(value, spec=".2f")
