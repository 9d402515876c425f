"""Checking large scenarios: seconds per thousand call types and agent groups, YAML parsing included.

Usage: ``python benchmarks/validation_speed.py [--sizes 1000 5000] [--repeat 3]``

Each size is a generated scenario file with that many call types, as many agent groups (each group takes its own
call type and the next one, with overflow), a roster shift per group, a tool whose outage covers every other call
type, costs per group and a shift-scheduling section; it is read with `bposim.load_scenario`, so reading the YAML,
the schema and every cross-field check are timed. Wall-clock, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import yaml

import bposim


def scenario_data(size: int) -> dict:
    """A valid scenario with `size` call types and `size` agent groups."""
    names = [f"type_{i:05d}" for i in range(size)]
    return {
        "name": f"large_{size}",
        "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30},
        "trunk_lines": 10 * size,
        "call_types": [
            {
                "name": name,
                "priority": 1 + i % 3,
                "arrivals": {"per_hour": 20},
                "handle_time": {"distribution": "lognormal", "mean_seconds": 240, "cv": 0.8},
                "patience": {"distribution": "exponential", "mean_seconds": 90},
                "retrial": {"after_blocked": 0.5, "delay": {"distribution": "fixed", "value_seconds": 60}},
            }
            for i, name in enumerate(names)
        ],
        "agent_groups": [
            {
                "name": f"group_{i:05d}",
                "agents": 2,
                "skills": [{"call_type": name}, {"call_type": names[(i + 1) % size], "delay_seconds": 30}],
            }
            for i, name in enumerate(names)
        ],
        "roster": [{"group": f"group_{i:05d}", "start": "08:00", "end": "16:00", "agents": 1} for i in range(size)],
        "tools": [
            {
                "name": "crm",
                "effects": [{"type": "arrivals_blocked", "call_types": names[::2]}],
                "maintenance": [{"start": "12:00", "minutes": 15}],
            }
        ],
        "costs": {"currency": "EUR", "groups": [{"group": f"group_{i:05d}", "per_paid_hour": 20} for i in range(size)]},
        "scheduling": {
            "shifts": [
                {
                    "name": "day",
                    "length_hours": 8,
                    "starts": {"earliest": "08:00"},
                    "groups": [f"group_{i:05d}" for i in range(size)],
                }
            ]
        },
    }


def best_time(repeat: int, path: Path) -> float:
    """The shortest wall time of `repeat` loads of the scenario file."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        bposim.load_scenario(path)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"large_{size}.yaml"
            path.write_text(yaml.safe_dump(scenario_data(size), sort_keys=False), encoding="utf-8")
            seconds = best_time(args.repeat, path)
            print(
                f"{size:>6,} call types and agent groups ({path.stat().st_size / 2**20:.1f} MB): "
                f"{seconds:.2f} s, {seconds / size * 1000:.3f} s per thousand"
            )


if __name__ == "__main__":
    main()
