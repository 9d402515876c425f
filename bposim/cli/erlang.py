"""`bposim erlang`: Erlang C (or A) service level per agent count, and the agents required, without simulating."""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from bposim.cli.common import Format, fail, finite_number, out
from bposim.formatting import MISSING, amount, share

SHARES = ("service_level", "p_wait", "p_abandon", "occupancy", "service_level_answered")


def erlang(
    calls_per_hour: Annotated[float, typer.Option(parser=finite_number(), help="offered calls per hour")],
    handle_seconds: Annotated[float, typer.Option(parser=finite_number(above=True), help="mean handle time, seconds")],
    threshold_seconds: Annotated[float, typer.Option(parser=finite_number(), help="service-level threshold")] = 20,
    target: Annotated[float, typer.Option(parser=finite_number(high=1), help="service-level target")] = 0.8,
    patience_seconds: Annotated[
        float | None,
        typer.Option(parser=finite_number(above=True), help="mean patience: Erlang A; leave out for Erlang C"),
    ] = None,
    agents: Annotated[str | None, typer.Option(help="agent count or range, e.g. 12 or 10-20")] = None,
    shrinkage: Annotated[
        float | None,
        typer.Option(
            parser=finite_number(0, 1, below=True),
            help="share of scheduled time off the phones, e.g. 0.3: also print the agents to schedule",
        ),
    ] = None,
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Erlang C (or A, with --patience-seconds): service level per agent count, and agents required.

    With --shrinkage S, the agents required (on the phones) grossed up to the agents to schedule: required / (1 − S).
    """
    # imported here: keeps the CLI's start fast (scipy, pandas)
    from bposim import analytic
    from bposim.planning import scheduled_agents

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
        found = {"required_agents": required}
        if shrinkage is not None:
            found |= {"shrinkage": shrinkage, "scheduled_agents": scheduled_agents(required, shrinkage)}
        print(json.dumps({**found, "rows": rows}, indent=2))
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
    if shrinkage is None:
        out.print(f"Agents required: [bold]{required}[/]")
        return
    scheduled = scheduled_agents(required, shrinkage)
    out.print(
        f"Agents required: [bold]{required}[/] on the phones; [bold]{scheduled:,.1f}[/] scheduled with "
        f"{share(shrinkage)} shrinkage ({required} / (1 − {shrinkage:g})), {math.ceil(scheduled - 1e-9):,} whole agents"
    )


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
