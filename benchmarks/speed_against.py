"""This checkout's speed against another checkout's, in processor time, the two alternating: sweep tasks of the
multi-skill day (summary only, as `sweep_speed.py`'s) and `simulate(..., replications=44)` of the Erlang-A reference
(as `replications_speed.py`'s tables/engine).

Usage: ``python benchmarks/speed_against.py REFERENCE [--rounds 3] [--days 25]``

Each round runs a subprocess per checkout, this one first, with that checkout first on the path: it times
4 cells × `--days` sweep tasks in-process (`run_task` without keep: all) and, best of two, the engines alone of the
44 replications, `simulate` with every table and with the summary only. Processor time (`time.process_time`) of
the process, so other work on a busy machine slows the figures less than the wall clock; alternating rounds slow
both checkouts alike. Prints each round and the mean of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MEASURE = """
import json, math, sys, time
sys.path.insert(0, sys.argv[1] + "/benchmarks")
import bposim
from bposim.engine.model import Centre
from bposim.experiment.runner import run_task
from engine_speed import erlang_a_scenario
from sweep_speed import experiment

days = int(sys.argv[2])
sweep = experiment(days)
jobs = [(cell.index, r) for cell in sweep.cells for r in range(days)]
run_task(sweep.cells[0].scenario, sweep.seed, 0, 0, False)
start = time.process_time()
for cell, r in jobs:
    run_task(sweep.cells[cell].scenario, sweep.seed, cell, r, False)
days_per_second = len(jobs) / (time.process_time() - start)
scenario = erlang_a_scenario(8)
bposim.simulate(scenario.updated({"horizon.length_hours": 1}), seed=1, replications=2)
runs = {
    "engine": lambda: [Centre(scenario, 1, r).run() and None for r in range(44)],
    "every table": lambda: bposim.simulate(scenario, seed=1, replications=44),
    "summary only": lambda: bposim.simulate(scenario, seed=1, replications=44, tables=()),
}
best = dict.fromkeys(runs, math.inf)
for _ in range(2):
    for label, run in runs.items():
        start = time.process_time()
        run()
        best[label] = min(best[label], time.process_time() - start)
print(json.dumps({"days_per_second": days_per_second, **best, "where": bposim.__file__}))
"""


def measure(checkout: Path, days: int) -> dict:
    """One round's figures for the bposim in `checkout`."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(checkout), str(days)],
        env=env,
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(figures.pop("where")).is_relative_to(checkout):
        raise SystemExit(f"{checkout}: measured another checkout's bposim")
    engine = figures["engine"]
    figures["every table / engine"] = (figures["every table"] - engine) / engine
    figures["summary only / engine"] = (figures["summary only"] - engine) / engine
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="directory of the other bposim checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=25, help="sweep days per cell (the grid has 4 cells)")
    args = parser.parse_args()
    checkouts = {"here": ROOT, "reference": args.reference.resolve()}
    rounds: dict[str, list[dict]] = {name: [] for name in checkouts}
    keys = ("days_per_second", "every table / engine", "summary only / engine")
    print(f"{'round':>5} {'checkout':>10} {'days/s':>8} {'every table/engine':>19} {'summary only/engine':>20}")
    for number in range(1, args.rounds + 1):
        for name, checkout in checkouts.items():
            figures = measure(checkout, args.days)
            rounds[name].append(figures)
            print(f"{number:>5} {name:>10} {_row([figures[key] for key in keys])}")
    for name, own in rounds.items():
        means = [sum(figures[key] for figures in own) / len(own) for key in keys]
        print(f"{'mean':>5} {name:>10} {_row(means)}")


def _row(values: list[float]) -> str:
    return " ".join(f"{value:>{width}.2f}" for value, width in zip(values, (8, 19, 20), strict=True))


if __name__ == "__main__":
    main()
