"""Sweep throughput: simulated days per second of an experiment on the multi-skill model, with 1 and 2 workers.

Usage: ``python benchmarks/sweep_speed.py [--replications 8] [--workers 1 2] [--dask] [--save] [--json]``

The grid is 2 staffing levels of the generalist pool × AI assist off/on, each cell `--replications` days. With
1 worker the tasks run in this process; with more, in a process pool (or a Dask LocalCluster with ``--dask``).
The per-task overhead is the sweep's wall time per task (× workers) minus one in-process `simulate` of a day; it
includes starting the process pool or cluster, so it shrinks as sweeps grow.
Timings are wall-clock, best of ``--repeat``; results are kept in memory, so no disk writes are timed, unless
``--save``: then each sweep also saves its results as `bposim sweep --out DIR` does (a row per task as it finishes,
the combined tables at the end), in a new temporary directory each time.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import tempfile
import time
from pathlib import Path

import bposim
from bposim.experiment import Experiment
from bposim.run import simulate_replication

MODEL = Path(__file__).resolve().parent.parent / "models" / "bpo_multiskill.yaml"
ASSIST = {"adoption": 0.7, "handle_time_multiplier": 0.88}


def experiment(replications: int) -> Experiment:
    """A small grid on the multi-skill model: generalists all day × AI assist, `replications` days per cell."""
    assist = {"off": {}, "on": {"technology.ai_assist": ASSIST}}
    factors = {"agent_groups.universal_en.agents": [4, 6], "ai_assist": assist}
    return Experiment(bposim.load_scenario(MODEL), factors=factors, replications=replications, seed=1)


def best_time(repeat: int, run) -> float:
    """The shortest wall time of `repeat` calls of `run`."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Time one simulated day in-process, then the sweep with each worker count; print throughput and overhead."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=8, help="days per cell (the grid has 4 cells)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    parser.add_argument("--repeat", type=int, default=2, help="timings per setting; the best is kept")
    parser.add_argument("--dask", action="store_true", help="run the multi-worker sweeps on a Dask LocalCluster")
    parser.add_argument("--save", action="store_true", help="save the results as `bposim sweep --out` does")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    sweep = experiment(args.replications)
    tasks = len(sweep.cells) * sweep.replications
    one_day = best_time(max(3, args.repeat), lambda: simulate_replication(sweep.scenario(0), sweep.seed, 0))
    rows = []
    for workers in args.workers:
        scheduler = "local" if args.dask and workers > 1 else None
        options = {"workers": workers, "scheduler": scheduler, "progress": False}
        with tempfile.TemporaryDirectory() as folder:
            outs = iter(Path(folder) / f"run{i}" for i in range(args.repeat))
            seconds = best_time(
                args.repeat,
                lambda options=options, outs=outs: sweep.run(**options, out=next(outs) if args.save else None),
            )
        executor = "in-process" if workers == 1 else "dask" if scheduler else "processes"
        rows.append(
            {
                "workers": workers,
                "executor": executor,
                "seconds": seconds,
                "days_per_second": tasks / seconds,
                "overhead_per_task_seconds": seconds * workers / tasks - one_day,
            }
        )
    base = rows[0]["days_per_second"]
    for row in rows:
        row["scaling"] = row["days_per_second"] / base
    figures = {
        "python": platform.python_version(),
        "bposim": bposim.__version__,
        "tasks": tasks,
        "one_day_in_process_seconds": one_day,
        "saved": args.save,
        "runs": rows,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"Sweep of {tasks} tasks (4 cells × {args.replications} days, multi-skill model); one day in-process: "
        f"{one_day * 1000:.0f} ms" + ("; results saved as `bposim sweep --out` does" if args.save else "")
    )
    print(f"{'workers':>8} {'executor':>11} {'seconds':>8} {'days/s':>8} {'scaling':>8} {'overhead/task':>14}")
    for row in rows:
        print(
            f"{row['workers']:>8} {row['executor']:>11} {row['seconds']:>8.2f} {row['days_per_second']:>8.1f} "
            f"{row['scaling']:>7.2f}× {row['overhead_per_task_seconds'] * 1000:>11.1f} ms"
        )


if __name__ == "__main__":
    main()
