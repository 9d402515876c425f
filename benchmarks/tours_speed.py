"""How long the weekly tour programme takes on a 4-week horizon staffed by about 150 agents.

One group open 07:00-22:00 in 30-minute intervals, a weekday-heavy week with quieter weekends; full-timers work
5 days of 8.5 h (lunch unpaid, placed by the programme) with two days off together, every other weekend off, 11 h
rest and starts within 2 h across the week; part-timers work 3-4 days of 5 h (at most 20 paid hours a week),
Saturday or Sunday off. With --limits, at most 6 start times a day and at least 2 agents on every shift line
used. Prints the agents, the cost, the seconds and the gap to HiGHS's bound.

    .venv/bin/python benchmarks/tours_speed.py [--time-limit 240] [--node-limit N] [--limits]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bposim.optimise.tours import BreakWindow, Contract, Day, Limits, ShiftType, TourProblem, solve_tours

H = 3600
WEEKS = 4
INTERVALS = 30  # 07:00-22:00
PART_HOURS = 5


def problem(limits: bool = False) -> TourProblem:
    days = tuple(
        Day(
            d % 7,
            INTERVALS,
            1800,
            7 * H,
            label=f"w{d // 7 + 1} {('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[d % 7]}",
        )
        for d in range(7 * WEEKS)
    )
    lunch = (BreakWindow("lunch", 30, tuple(int(t * H) for t in (3.5, 4, 4.5, 5)), paid=False),)
    full = tuple(
        ShiftType(f"full {start:g}", "team", int(start * H), int(8.5 * H), breaks=lunch, cost_per_paid_hour=20)
        for start in np.arange(7, 13.5, 0.5)
    )
    part = tuple(
        ShiftType(f"part{hours} {start:g}", "team", int(start * H), hours * H, cost_per_paid_hour=18)
        for hours in (PART_HOURS,)
        for start in np.arange(9, 22 - hours + 0.5, 1.0)
    )
    contracts = (
        Contract(
            "full time",
            "team",
            5,
            5,
            days_off_together=2,
            weekend="alternate",
            start_window_hours=2,
            shifts=tuple(s.name for s in full),
            max_agents=130,
        ),
        Contract(
            "part time",
            "team",
            3,
            4,
            max_weekly_hours=20,
            weekend="one_off",
            start_window_hours=3,
            shifts=tuple(s.name for s in part),
            max_agents=40,
        ),
    )
    workable = Limits(max_starts_per_day=6, min_agents_per_line=2) if limits else Limits()
    return TourProblem(days, full + part, contracts, workable)


def requirement(seed: int = 1) -> pd.DataFrame:
    """A two-peaked day (late morning, early evening), weekends at 60%, weeks varying by ±10%."""
    rng = np.random.default_rng(seed)
    hours = 7 + 0.5 * np.arange(INTERVALS) + 0.25
    shape = 55 * np.exp(-(((hours - 11) / 2.5) ** 2)) + 40 * np.exp(-(((hours - 18) / 2.5) ** 2)) + 8
    rows = []
    for d in range(7 * WEEKS):
        scale = (0.6 if d % 7 >= 5 else 1.0) * (1 + 0.1 * np.sin(d / 7 * np.pi / 2))
        needed = np.maximum(np.round(shape * scale + rng.normal(0, 2, INTERVALS)), 0)
        rows += [{"group": "team", "day": d, "interval": i, "required": int(n)} for i, n in enumerate(needed)]
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=240.0)
    parser.add_argument("--node-limit", type=int, default=None)
    parser.add_argument("--limits", action="store_true", help="at most 6 starts a day, at least 2 agents a line")
    args = parser.parse_args()
    began = time.perf_counter()
    plan = solve_tours(
        problem(args.limits), requirement(), time_limit=args.time_limit, node_limit=args.node_limit, mip_rel_gap=1e-3
    )
    seconds = time.perf_counter() - began
    print(f"agents {sum(plan.headcount.values())} ({', '.join(f'{k}: {v}' for k, v in plan.headcount.items())})")
    print(f"cost {plan.cost:,.0f}, paid hours {plan.paid_hours:,.0f}")
    print(f"seconds {seconds:.1f}, optimal {plan.optimal}, gap {plan.gap:.4%}")
    short = plan.coverage.query("scheduled < required - 1e-6")
    print(f"intervals short: {len(short)}")


if __name__ == "__main__":
    main()
