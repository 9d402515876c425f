"""`bposim staff` on the bundled multi-skill site and the programme-sized site: wall time, and as a ratio against
simulating the same number of days one after another in the same process.

Usage: ``python benchmarks/staff_speed.py [--workers 2] [--models models/bpo_multiskill_shifts.yaml ...]``
(``make bench-staff``; minutes, not seconds).

For each model, `bposim.optimise.optimise_roster` runs as `bposim staff` runs it (default flags, `--workers`
processes sharing the simulated days); then its final roster is simulated for `--sample` days in this process,
which gives the time of a day. The ratio is the optimiser's wall time over that of its simulated days done
serially: above 1 the programme and the bookkeeping cost more than the parallel days save, below 1 the workers win.
The plan's cost and verdict are printed too, to compare rosters before and after a change, and the processor time
of this process and of the worker processes: on a shared machine the wall time grows with the load, those much less.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import bposim
from bposim.optimise import optimise_roster
from bposim.processes import available_cores
from bposim.run import simulate_replication

MODELS = ["models/bpo_multiskill_shifts.yaml", "models/bpo_programme_shifts.yaml"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--workers", type=int, default=min(2, available_cores()))
    parser.add_argument("--sample", type=int, default=10, help="days simulated to time a day")
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print(f"bposim staff, {args.workers} worker process(es)")
    for name in args.models:
        scenario = bposim.load_scenario(root / name)
        start, processor, workers = time.perf_counter(), time.process_time(), _workers_time()
        plan = optimise_roster(scenario, workers=args.workers)
        wall = time.perf_counter() - start
        processor, workers = time.process_time() - processor, _workers_time() - workers
        start = time.perf_counter()
        for r in range(args.sample):
            simulate_replication(plan.scenario, 0, r)
        per_day = (time.perf_counter() - start) / args.sample
        serial = per_day * plan.simulations
        verdict = "verified" if plan.verified else "NOT verified"
        print(
            f"{name}: {wall:.1f} s for {plan.simulations:,} simulated days ({per_day:.3f} s a day, {serial:.1f} s "
            f"serially): ratio {wall / serial:.2f}; {plan.rounds} round(s), {plan.trim_trials} trim trial(s); "
            f"shifts {plan.schedule.cost:,.2f} {plan.schedule.cost_unit}, {sum(plan.schedule.agents)} agents, "
            f"{verdict}; processor time {processor:.1f} s here, {workers:.1f} s in the workers",
            flush=True,
        )


def _workers_time() -> float:
    """Processor seconds of the worker processes that have ended (the optimiser's pool ends with it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
