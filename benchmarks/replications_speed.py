"""Replications' speed: `simulate(..., replications=R)` of the Erlang-A reference as 8-hour days, with every table
and the summary, against plain SimPy on the same total calls and against the engine alone; and memory per call.

Usage: ``python benchmarks/replications_speed.py [--replications 44] [--hours 8] [--repeat 3] [--json]``

Everything runs in one process, the models alternately, best of ``--repeat`` each (so a busy machine slows them
alike). "engine" runs each replication's `Centre` and nothing else; tables/engine is what `simulate` spends beyond
the engine (records to columns, every table, KPIs, summary) over the engine's time. The memory figures come from
untimed runs under ``tracemalloc``: the peak of `simulate` for one long horizon, and for many replications, next
to the calls table it returns.
"""

from __future__ import annotations

import argparse
import json
import math
import tracemalloc
from typing import Any

from engine_speed import AGENTS, ARRIVAL_RATE, MEAN_HANDLE_SECONDS, MEAN_PATIENCE_SECONDS, erlang_a_scenario, timed
from idiomatic_simpy import run_idiomatic

import bposim
from bposim.engine.model import Centre

MB = 1024 * 1024


def engine_only(scenario: bposim.Scenario, seed: int, replications: int) -> None:
    """Run each replication's engine and nothing else (its records stay as the engine keeps them)."""
    for r in range(replications):
        Centre(scenario, seed, r).run()


def speeds(replications: int, hours: int, repeat: int, seed: int) -> dict[str, Any]:
    """Best wall times of plain SimPy, the engine alone, `simulate` with every table and with the summary only."""
    scenario = erlang_a_scenario(hours)
    bposim.simulate(scenario.updated({"horizon.length_hours": 1}), seed=seed, replications=2)
    calls = len(bposim.simulate(scenario, seed=seed, replications=replications).calls)
    runs = {
        "idiomatic SimPy": lambda: run_idiomatic(
            AGENTS, ARRIVAL_RATE, MEAN_HANDLE_SECONDS, MEAN_PATIENCE_SECONDS, calls, seed
        )["offered"],
        "engine alone": lambda: engine_only(scenario, seed, replications),
        "simulate, every table": lambda: len(bposim.simulate(scenario, seed=seed, replications=replications).calls),
        "simulate, summary only": lambda: bposim.simulate(
            scenario, seed=seed, replications=replications, tables=()
        ).summary["offered"],
    }
    best = dict.fromkeys(runs, math.inf)
    counted = {}
    for _ in range(repeat):
        for label, run in runs.items():
            seconds, counted[label] = timed(run)
            best[label] = min(best[label], seconds)
    counted["engine alone"] = counted["simulate, summary only"] = calls
    rows = {label: {"calls": counted[label], "seconds": best[label]} for label in runs}
    for row in rows.values():
        row["calls_per_second"] = row["calls"] / row["seconds"]
    plain = rows["idiomatic SimPy"]["calls_per_second"]
    engine = rows["engine alone"]["seconds"]
    return {
        "replications": replications,
        "hours": hours,
        "repeat": repeat,
        "rows": rows,
        "ratio_to_idiomatic": {label: row["calls_per_second"] / plain for label, row in rows.items()},
        "tables_over_engine": {
            label: (rows[label]["seconds"] - engine) / engine
            for label in ("simulate, every table", "simulate, summary only")
        },
    }


def memory(scenario: bposim.Scenario, replications: int, seed: int) -> dict[str, float]:
    """Peak traced memory of one `simulate` next to the calls table it returns (after a small run, so that what
    loads on first use is not counted)."""
    bposim.simulate(scenario.updated({"horizon.length_hours": 1}), seed=seed, replications=2)
    tracemalloc.start()
    try:
        run = bposim.simulate(scenario, seed=seed, replications=replications)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    calls = len(run.calls)
    table = int(run.calls.memory_usage(deep=True).sum())
    return {
        "replications": replications,
        "calls": calls,
        "peak_bytes_per_call": peak / calls,
        "table_bytes_per_call": table / calls,
        "peak_over_table": peak / table,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=44, help="replications (days) per simulate")
    parser.add_argument("--hours", type=int, default=8, help="hours of arrivals per day")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per model; the best counts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory-hours", type=int, default=440, help="hours of the one long horizon measured")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = speeds(args.replications, args.hours, args.repeat, args.seed)
    figures["memory"] = [
        memory(erlang_a_scenario(args.memory_hours), 1, args.seed),
        memory(erlang_a_scenario(args.hours), args.replications, args.seed),
    ]
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"Erlang-A reference ({AGENTS} agents), {args.replications} replications of {args.hours} h, best of "
        f"{args.repeat}; ratios against plain SimPy on the same calls, in this process"
    )
    print(f"{'model':<26}{'calls':>10}{'seconds':>9}{'calls/s':>10}{'× SimPy':>9}{'tables/engine':>15}")
    for label, row in figures["rows"].items():
        extra = figures["tables_over_engine"].get(label)
        print(
            f"{label:<26}{row['calls']:>10,}{row['seconds']:>9.2f}{row['calls_per_second']:>10,.0f}"
            f"{figures['ratio_to_idiomatic'][label]:>8.2f}×{'' if extra is None else f'{extra:>14.2f}×'}"
        )
    print()
    print("Memory of simulate (tracemalloc peak) vs the calls table it returns (deep)")
    print(f"{'replications':>13}{'calls':>10}{'peak B/call':>13}{'table B/call':>14}{'peak/table':>12}")
    for row in figures["memory"]:
        print(
            f"{row['replications']:>13}{row['calls']:>10,}{row['peak_bytes_per_call']:>13,.0f}"
            f"{row['table_bytes_per_call']:>14,.0f}{row['peak_over_table']:>12.2f}"
        )


if __name__ == "__main__":
    main()
