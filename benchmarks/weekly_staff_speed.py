"""`bposim staff` on weekly rosters (scheduling.contracts): wall time, the time of each phase, the solves of the tour
programme and their gap, the agents and the cost a week.

Usage: ``python benchmarks/weekly_staff_speed.py [--workers 2] [--models ...]`` (``make bench-weekly-staff``;
minutes, not seconds).

The default models are the bundled two-week model (`models/weekly_bpo_shifts.yaml`, about 50 agents) and the size a
planner's month holds (`benchmarks/weekly_bpo_shifts_4w.yaml`: the same site over four weeks with 3.3 times the
calls, about 150 agents). `bposim.optimise.optimise_roster` runs as `bposim staff` runs it (default flags,
`--workers` processes sharing the simulated days); each round's news line (agents, cost, the solve's seconds and
gap) is printed as it comes, then the seconds spent in each phase (requirement search, scheduling = the tour
programme, evaluation = the simulated search days, verification) and the plan.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import bposim
from bposim.optimise import optimise_roster
from bposim.optimise.progress import Progress
from bposim.processes import available_cores

MODELS = ["models/weekly_bpo_shifts.yaml", "benchmarks/weekly_bpo_shifts_4w.yaml"]


class PhaseClock(Progress):
    """Seconds and simulated days per phase, the news lines printed as they come."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.days: dict[str, int] = defaultdict(int)
        self.current, self.since = None, time.perf_counter()

    def phase(self, name: str, round_number: int | None = None) -> None:
        self.stop()
        self.current = name

    def stop(self) -> None:
        now = time.perf_counter()
        if self.current is not None:
            self.seconds[self.current] += now - self.since
        self.since = now

    def simulated(self, days: int) -> None:
        self.days[self.current] += days

    def say(self, line: str) -> None:
        print(f"  {line}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--workers", type=int, default=min(2, available_cores()))
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    print(f"bposim staff on weekly rosters, {args.workers} worker process(es)")
    for name in args.models:
        print(name, flush=True)
        scenario = bposim.load_scenario(root / name)
        clock = PhaseClock()
        start = time.perf_counter()
        plan = optimise_roster(scenario, workers=args.workers, progress=clock)
        wall = time.perf_counter() - start
        clock.stop()
        phases = ", ".join(
            f"{phase} {seconds:.1f} s" + (f" ({clock.days[phase]:,} days)" if clock.days[phase] else "")
            for phase, seconds in clock.seconds.items()
        )
        headcount = ", ".join(f"{contract} {count}" for contract, count in plan.tours.headcount.items())
        print(
            f"{name}: {wall:.1f} s; {plan.rounds} solve(s) of the tour programme, {plan.weeks} weeks; {phases}; "
            f"{len(plan.tours.agents)} agents ({headcount}), {plan.cost_per_week:,.2f} {plan.cost_unit} a week, last "
            f"solve {'proven cheapest' if plan.tours.optimal else f'within {plan.tours.gap:.2%} of its bound'}; "
            f"{plan.simulations:,} simulated days; {'verified' if plan.verified else 'NOT verified'}",
            flush=True,
        )


if __name__ == "__main__":
    main()
