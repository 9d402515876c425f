"""Scale benchmark: the cost per call as the centre grows, for the same number of calls.

Usage: ``python benchmarks/scale_speed.py [--calls 200000] [--agents 10 100 1000 5000] [--repeat 3] [--json]``

The Erlang-A shape (exponential handle 300 s, patience 180 s, 0.95 Erlangs per agent) at each size, its arrival
rate scaled with the agents and its horizon chosen for about ``--calls`` calls, so every size simulates the same
work. It times the engine alone (a `Centre` run to its records) and `bposim.simulate` (tables and summary too) in
CPU seconds of this process (``time.process_time``: a busy machine's other work does not count), best of
``--repeat``, the sizes alternating in each round, and prints microseconds per call and the ratio to the smallest
size.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import time
from typing import Any

import bposim
from bposim.engine.model import Centre

LOAD_PER_AGENT = 0.95
MEAN_HANDLE_SECONDS = 300.0
MEAN_PATIENCE_SECONDS = 180.0


def erlang_a_scenario(agents: int, calls: int) -> bposim.Scenario:
    """The Erlang-A shape with `agents` agents and the whole hours of arrivals closest to `calls` expected calls."""
    per_hour = LOAD_PER_AGENT * agents / MEAN_HANDLE_SECONDS * 3600
    hours = max(1, round(calls / per_hour))
    return bposim.Scenario.model_validate(
        {
            "name": f"Erlang-A, {agents} agents",
            "horizon": {"start": "00:00", "length_hours": hours, "interval_minutes": 60},
            "service_level": {"threshold_seconds": 20, "target": 0.8},
            "call_types": [
                {
                    "name": "support",
                    "arrivals": {"per_hour": per_hour},
                    "handle_time": {"distribution": "exponential", "mean_seconds": MEAN_HANDLE_SECONDS},
                    "patience": {"distribution": "exponential", "mean_seconds": MEAN_PATIENCE_SECONDS},
                }
            ],
            "agent_groups": [{"name": "team", "skills": ["support"], "agents": agents}],
        }
    )


def engine_calls(scenario: bposim.Scenario, seed: int) -> int:
    """Run the engine alone; the number of call records it made."""
    return len(Centre(scenario, seed).run().records.array())


def simulate_calls(scenario: bposim.Scenario, seed: int) -> int:
    """Run `bposim.simulate`; the rows of its calls table."""
    return len(bposim.simulate(scenario, seed=seed).calls)


def timed(fn, scenario: bposim.Scenario, seed: int) -> tuple[float, int]:
    """CPU time of one run (after a garbage collection) and its call count."""
    gc.collect()
    start = time.process_time()
    calls = fn(scenario, seed)
    return time.process_time() - start, calls


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Best-of timings per size and kind of run, the sizes alternating within each round."""
    scenarios = {agents: erlang_a_scenario(agents, args.calls) for agents in args.agents}
    kinds = {"engine": engine_calls} if args.engine_only else {"engine": engine_calls, "simulate": simulate_calls}
    best = {(kind, agents): math.inf for kind in kinds for agents in args.agents}
    counts: dict[tuple[str, int], int] = {}
    simulate_calls(erlang_a_scenario(args.agents[0], 1000), args.seed)  # warm imports and caches
    for _ in range(args.repeat):
        for agents, scenario in scenarios.items():
            for kind, fn in kinds.items():
                seconds, calls = timed(fn, scenario, args.seed)
                best[kind, agents] = min(best[kind, agents], seconds)
                counts[kind, agents] = calls
    rows = []
    for kind in kinds:
        base = best[kind, args.agents[0]] / counts[kind, args.agents[0]]
        for agents in args.agents:
            per_call = best[kind, agents] / counts[kind, agents]
            rows.append(
                {
                    "kind": kind,
                    "agents": agents,
                    "calls": counts[kind, agents],
                    "seconds": best[kind, agents],
                    "us_per_call": per_call * 1e6,
                    "ratio": per_call / base,
                }
            )
    return {"calls": args.calls, "repeat": args.repeat, "seed": args.seed, "rows": rows}


def print_table(figures: dict[str, Any]) -> None:
    """Print the figures as a compact table."""
    print(
        f"Erlang-A shape: handle exp({MEAN_HANDLE_SECONDS:.0f} s), patience exp({MEAN_PATIENCE_SECONDS:.0f} s), "
        f"{LOAD_PER_AGENT} Erlangs per agent, ~{figures['calls']:,} calls per run, best of {figures['repeat']}"
    )
    header = f"{'run':<10}{'agents':>8}{'calls':>10}{'CPU s':>10}{'µs/call':>10}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for row in figures["rows"]:
        print(
            f"{row['kind']:<10}{row['agents']:>8,}{row['calls']:>10,}{row['seconds']:>10.2f}"
            f"{row['us_per_call']:>10.2f}{row['ratio']:>7.2f}x"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="approximate calls per run")
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 100, 1000, 5000], help="centre sizes")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size; the best counts")
    parser.add_argument("--seed", type=int, default=1, help="seed of the runs")
    parser.add_argument("--engine-only", action="store_true", help="time the engine alone, not `simulate`")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeat < 1 or min(args.agents) < 1:
        parser.error("--calls, --repeat and --agents must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    figures = measure(args)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)


if __name__ == "__main__":
    main()
