"""Numbers unchanged: the tables and summary of `simulate` here against another checkout of bposim, same seeds.

Usage: ``python benchmarks/same_tables.py REFERENCE [--replications 1 4] [--seed 7]``

REFERENCE is the directory of another bposim checkout (the one holding its ``bposim`` package). Each bundled model
in models/ is simulated with each replication count, here and there (each in a subprocess of its own, with that
checkout first on the path), and every table must be identical: columns, order, dtypes (categories included),
index and exact values; the summaries must be equal key by key, in order, NaN where NaN. Prints one line per model
and replication count and exits 1 on any difference. Also compares `simulate_replication` of replication 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.yaml"))
VARIANTS = [  # several days with a warm-up: statistics windows per day
    ("helpdesk.yaml", {"horizon.days": 3, "horizon.warmup_minutes": 30}),
    ("outage_prone_site.yaml", {"horizon.days": 2, "horizon.warmup_minutes": 15}),
]
TABLES = ("calls", "intervals", "agents", "staffing", "activities", "outages", "costs")

_DUMP = """
import json, pickle, sys
import bposim
from bposim.run import Run, simulate, simulate_replication
out, seed, counts, models = sys.argv[1], int(sys.argv[2]), [int(n) for n in sys.argv[3].split(",")], sys.argv[4:]
runs = {}
for model in models:
    path, _, updates = model.partition("|")
    scenario = bposim.load_scenario(path)
    if updates:
        scenario = scenario.updated(json.loads(updates))
    for count in counts:
        run = simulate(scenario, seed=seed, replications=count)
        runs[(model, count)] = ({name: getattr(run, name) for name in Run.TABLES}, run.summary)
    one = simulate_replication(scenario, seed, 1)
    runs[(model, "replication 1")] = ({name: getattr(one, name) for name in Run.TABLES}, one.summary)
with open(out, "wb") as handle:
    pickle.dump((bposim.__file__, runs), handle)
"""


def runs_of(checkout: Path, seed: int, counts: list[int]) -> dict:
    """The tables and summaries of every model and replication count, simulated by the bposim in `checkout`."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "runs.pickle"
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        command = [sys.executable, "-c", _DUMP, str(out), str(seed), ",".join(map(str, counts)), *models()]
        subprocess.run(command, check=True, env=env, cwd=directory)
        with open(out, "rb") as handle:
            where, runs = pickle.load(handle)
    if not Path(where).is_relative_to(checkout):
        raise SystemExit(f"{checkout}: simulated with the bposim at {where}, not this checkout's")
    return runs


def models() -> list[str]:
    """Each bundled model, and each variant as its path and its changes (JSON) after a bar."""
    return [str(path) for path in MODELS] + [
        f"{ROOT / 'models' / name}|{json.dumps(changes)}" for name, changes in VARIANTS
    ]


def same_value(a, b) -> bool:
    """Equal values, NaN equal to NaN, of the same type; dicts key by key in the same order, lists item by item."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def differences(ours: tuple, theirs: tuple) -> list[str]:
    """What differs between two (tables, summary) pairs."""
    found = []
    for name in TABLES:
        try:
            assert_frame_equal(ours[0][name], theirs[0][name], check_exact=True, check_index_type=True, obj=name)
        except AssertionError as error:
            found.append(str(error).splitlines()[0] + " " + " ".join(str(error).split()[1:12]))
    for key in dict.fromkeys([*ours[1], *theirs[1]]):
        if key not in ours[1] or key not in theirs[1] or not same_value(ours[1][key], theirs[1][key]):
            found.append(f"summary[{key!r}]: {ours[1].get(key)!r} here, {theirs[1].get(key)!r} there")
    if list(ours[1]) != list(theirs[1]):
        found.append("summary keys in another order")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, help="directory of the other bposim checkout")
    parser.add_argument("--replications", type=int, nargs="+", default=[1, 4], help="replication counts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ours = runs_of(ROOT, args.seed, args.replications)
    theirs = runs_of(args.reference.resolve(), args.seed, args.replications)
    failed = False
    for key in ours:
        found = differences(ours[key], theirs[key])
        failed |= bool(found)
        label = f"{Path(key[0]).name} × {key[1]}"
        print(f"{label:<45} {'same' if not found else 'DIFFERENT'}")
        for line in found:
            print(f"    {line}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
