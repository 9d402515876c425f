"""Engine speed benchmark: bposim against a plain SimPy Erlang-A model, plus memory per call.

Usage: ``python benchmarks/engine_speed.py [--calls 200000] [--repeat 3] [--json]``

Everything runs in one process. Timings are wall-clock (``time.perf_counter``), best of ``--repeat``;
the memory figures come from separate, untimed runs under ``tracemalloc``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import time
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import simpy
from idiomatic_simpy import run_idiomatic

import bposim

AGENTS = 50
LOAD_PER_AGENT = 0.95
MEAN_HANDLE_SECONDS = 300.0
MEAN_PATIENCE_SECONDS = 180.0
ARRIVAL_RATE = LOAD_PER_AGENT * AGENTS / MEAN_HANDLE_SECONDS  # calls per second
MULTISKILL_DAYS = 20
MULTISKILL_MODEL = Path(__file__).resolve().parent.parent / "models" / "bpo_multiskill.yaml"
MB = 1024 * 1024

T = TypeVar("T")


def horizon_hours(calls: int) -> int:
    """Whole hours of arrivals whose expected call count is closest to ``calls``."""
    return max(1, round(calls / (ARRIVAL_RATE * 3600)))


def erlang_a_scenario(hours: int) -> bposim.Scenario:
    """The Erlang-A reference system as a bposim scenario with ``hours`` of arrivals."""
    return bposim.Scenario.model_validate(
        {
            "name": "Erlang-A reference",
            "horizon": {"start": "00:00", "length_hours": hours, "interval_minutes": 60},
            "service_level": {"threshold_seconds": 20, "target": 0.8},
            "call_types": [
                {
                    "name": "support",
                    "arrivals": {"per_hour": ARRIVAL_RATE * 3600},
                    "handle_time": {"distribution": "exponential", "mean_seconds": MEAN_HANDLE_SECONDS},
                    "patience": {"distribution": "exponential", "mean_seconds": MEAN_PATIENCE_SECONDS},
                }
            ],
            "agent_groups": [{"name": "team", "skills": ["support"], "agents": AGENTS}],
        }
    )


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn`` ``repeat`` times; return the shortest wall time and the last result."""
    best = math.inf
    result: T | None = None
    for _ in range(repeat):
        seconds, result = timed(fn)
        best = min(best, seconds)
    assert result is not None
    return best, result


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall time of one call of ``fn`` (after a garbage collection) and its result."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def speed_row(calls: int, seconds: float, abandon_rate: float, asa_seconds: float) -> dict[str, float]:
    """One line of the speed table."""
    return {
        "calls": calls,
        "seconds": seconds,
        "calls_per_second": calls / seconds,
        "abandon_rate": abandon_rate,
        "asa_seconds": asa_seconds,
    }


def time_pair(n_calls: int, scenario: bposim.Scenario, repeat: int, seed: int) -> tuple[dict, dict]:
    """Time the plain SimPy model and ``bposim.simulate`` on the reference system, alternately, best of each.

    Alternating the two keeps them under the same machine load, so their ratio is fair even on a busy machine.
    """
    best = {"idiomatic": math.inf, "bposim": math.inf}
    plain, run = None, None
    bposim.simulate(scenario.updated({"horizon.length_hours": 1}), seed=seed)
    for _ in range(repeat):
        seconds, plain = timed(
            lambda: run_idiomatic(AGENTS, ARRIVAL_RATE, MEAN_HANDLE_SECONDS, MEAN_PATIENCE_SECONDS, n_calls, seed)
        )
        best["idiomatic"] = min(best["idiomatic"], seconds)
        seconds, run = timed(lambda: bposim.simulate(scenario, seed=seed))
        best["bposim"] = min(best["bposim"], seconds)
    return (
        speed_row(plain["offered"], best["idiomatic"], plain["abandon_rate"], plain["asa_seconds"]),
        speed_row(len(run.calls), best["bposim"], run.summary["abandon_rate"], run.summary["asa_seconds"]),
    )


def time_bposim(scenario: bposim.Scenario, repeat: int, seed: int) -> dict[str, float]:
    """Time ``bposim.simulate`` on a scenario; calls are rows of ``run.calls``."""
    seconds, run = best_of(repeat, lambda: bposim.simulate(scenario, seed=seed))
    return speed_row(len(run.calls), seconds, run.summary["abandon_rate"], run.summary["asa_seconds"])


def memory_profile(calls: int, seed: int) -> dict[str, float]:
    """Peak traced memory of one ``bposim.simulate`` run next to the size of its calls table."""
    scenario = erlang_a_scenario(horizon_hours(calls))
    gc.collect()
    tracemalloc.start()
    try:
        run = bposim.simulate(scenario, seed=seed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows = len(run.calls)
    table = int(run.calls.memory_usage(deep=True).sum())
    return {
        "calls": rows,
        "peak_bytes": peak,
        "peak_bytes_per_call": peak / rows,
        "calls_table_bytes": table,
        "calls_table_bytes_per_call": table / rows,
        "peak_over_table": peak / table,
    }


def package_version(name: str) -> str:
    """Installed version of a distribution, or ``?`` when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement the options ask for and gather the figures."""
    hours = horizon_hours(args.calls)
    n_calls = round(hours * 3600 * ARRIVAL_RATE)
    figures: dict[str, Any] = {
        "config": {
            "agents": AGENTS,
            "load_erlangs_per_agent": LOAD_PER_AGENT,
            "arrival_rate_per_hour": ARRIVAL_RATE * 3600,
            "mean_handle_seconds": MEAN_HANDLE_SECONDS,
            "mean_patience_seconds": MEAN_PATIENCE_SECONDS,
            "horizon_hours": hours,
            "expected_calls": n_calls,
            "repeat": args.repeat,
            "seed": args.seed,
            "python": platform.python_version(),
            "simpy": simpy.__version__,
            "bposim": package_version("bposim"),
        }
    }
    figures["idiomatic"], figures["bposim"] = time_pair(n_calls, erlang_a_scenario(hours), args.repeat, args.seed)
    figures["ratio"] = figures["bposim"]["calls_per_second"] / figures["idiomatic"]["calls_per_second"]

    if MULTISKILL_MODEL.exists():
        days = bposim.load_scenario(str(MULTISKILL_MODEL)).updated({"horizon.days": MULTISKILL_DAYS})
        figures["multiskill"] = time_bposim(days, args.repeat, 1)
    else:
        figures["multiskill"] = None

    figures["memory"] = [] if args.no_memory else [memory_profile(n, args.seed) for n in args.memory_calls]
    return figures


def print_speed_row(label: str, row: dict[str, float]) -> None:
    """Print one line of the speed table."""
    print(
        f"{label:<26}{row['calls']:>10,}{row['seconds']:>10.2f}{row['calls_per_second']:>11,.0f}"
        f"{row['abandon_rate']:>10.2%}{row['asa_seconds']:>8.2f}"
    )


def print_table(figures: dict[str, Any]) -> None:
    """Print the figures as a compact table."""
    cfg = figures["config"]
    print(
        f"Erlang-A reference: {cfg['agents']} agents, {cfg['load_erlangs_per_agent']} Erlangs per agent, "
        f"handle exp({cfg['mean_handle_seconds']:.0f} s), "
        f"patience exp({cfg['mean_patience_seconds']:.0f} s), "
        f"{cfg['horizon_hours']} h of arrivals (~{cfg['expected_calls']:,} calls), best of {cfg['repeat']}"
    )
    print(f"Python {cfg['python']}, SimPy {cfg['simpy']}, bposim {cfg['bposim']}")
    print()
    header = f"{'model':<26}{'calls':>10}{'seconds':>10}{'calls/s':>11}{'abandon':>10}{'ASA s':>8}"
    print(header)
    print("-" * len(header))
    print_speed_row("idiomatic SimPy", figures["idiomatic"])
    print_speed_row("bposim.simulate", figures["bposim"])
    print(f"{'ratio bposim / idiomatic':<26}{'':>20}{figures['ratio']:>10.2f}x")
    if figures["multiskill"] is None:
        print(f"(multi-skill model skipped: {MULTISKILL_MODEL} not found)")
    else:
        print_speed_row(f"multi-skill, {MULTISKILL_DAYS} days", figures["multiskill"])

    if figures["memory"]:
        print()
        print("Memory of bposim.simulate (tracemalloc peak, separate untimed run) vs the calls table (deep)")
        header = (
            f"{'calls':>10}{'peak MB':>10}{'peak B/call':>13}{'table MB':>10}{'table B/call':>14}{'peak/table':>12}"
        )
        print(header)
        print("-" * len(header))
        for mem in figures["memory"]:
            print(
                f"{mem['calls']:>10,}{mem['peak_bytes'] / MB:>10.1f}{mem['peak_bytes_per_call']:>13,.0f}"
                f"{mem['calls_table_bytes'] / MB:>10.1f}{mem['calls_table_bytes_per_call']:>14,.0f}"
                f"{mem['peak_over_table']:>12.2f}"
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000, help="approximate calls per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per model; the best counts")
    parser.add_argument("--seed", type=int, default=1, help="seed of the Erlang-A runs")
    parser.add_argument(
        "--memory-calls",
        type=int,
        nargs="+",
        default=[50_000, 200_000],
        help="call counts of the memory runs",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.repeat < 1:
        parser.error("--calls and --repeat must be positive")
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
