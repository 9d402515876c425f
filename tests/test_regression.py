"""Regression guard: scenarios that use none of the later features give exactly the same calls as the core did.

`tests/data/golden_calls.json` holds digests of the calls tables of frozen copies of the first bundled models
(`tests/data/*.yaml`), computed with the core engine before shifts, outages and technology levers existed, and
again when a fall in a staffing plan came to hold back new calls until the group is down to the plan (the two
models whose plans fall). A change that moves any call of these runs, by a single bit, fails here.

The digests hold only for the numpy, SimPy and pandas versions they were checked with (random streams and hashing
may change between releases): under others the test is skipped, saying which. So that a failure says what changed,
`tests/data/golden_calls_detail.json` describes the same tables: row count, a digest and a sum (or the counts of
each value) per column, and a digest per block of rows. Rewrite it, once the digests match, with
`PYTHONPATH=. python tests/test_regression.py` from the project root.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy

import bposim

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "golden_calls.json").read_text())
DETAIL_FILE = DATA / "golden_calls_detail.json"
COLUMNS = [
    "call_id",
    "call_type",
    "attempt",
    "arrival",
    "answer",
    "end",
    "wait",
    "handle_seconds",
    "wrap_seconds",
    "outcome",
    "agent",
    "group",
]
BLOCK_ROWS = 50
MOST_VALUES_COUNTED = 20
ROWS_SHOWN = 8


def versions() -> dict[str, str]:
    """The major.minor versions the digests depend on."""
    return {
        name: ".".join(module.__version__.split(".")[:2])
        for name, module in (("numpy", np), ("simpy", simpy), ("pandas", pd))
    }


def table(calls: pd.DataFrame) -> pd.DataFrame:
    """The digested columns, independent of dtype details such as categorical codes."""
    return calls[COLUMNS].astype({"call_type": str, "outcome": str, "agent": str, "group": str, "attempt": "int64"})


def _sha(hashes: pd.Series | np.ndarray) -> str:
    return hashlib.sha256(np.asarray(hashes).tobytes()).hexdigest()


def digest(calls: pd.DataFrame) -> str:
    """A digest of the calls table's content, independent of dtype details such as categorical codes."""
    return _sha(pd.util.hash_pandas_object(table(calls), index=False).values)


def describe(calls: pd.DataFrame) -> dict:
    """What a failure message compares: rows, per column a digest and a sum or value counts, per block a digest."""
    frame = table(calls)
    row_hashes = pd.util.hash_pandas_object(frame, index=False).values
    columns = {}
    for name in COLUMNS:
        column = frame[name]
        entry: dict = {"digest": _sha(pd.util.hash_pandas_object(column, index=False).values)}
        if pd.api.types.is_numeric_dtype(column):
            entry["sum"] = float(column.sum())
        elif column.nunique() <= MOST_VALUES_COUNTED:
            entry["counts"] = {str(key): int(value) for key, value in column.value_counts().sort_index().items()}
        columns[name] = entry
    blocks = [_sha(row_hashes[start : start + BLOCK_ROWS])[:16] for start in range(0, len(frame), BLOCK_ROWS)]
    return {"rows": len(frame), "columns": columns, "blocks": blocks}


def differences(key: str, recorded: dict, calls: pd.DataFrame) -> str:
    """What differs between the recorded description of a calls table and the table now, in a few lines."""
    now = describe(calls)
    lines = [f"{key}: the calls table of tests/data/{key.split('/')[0]}.yaml, seed {key.split('/')[1]}, has changed"]
    if recorded["rows"] != now["rows"]:
        lines.append(f"  rows: {recorded['rows']} recorded, {now['rows']} now")
    changed = [name for name in COLUMNS if recorded["columns"][name]["digest"] != now["columns"][name]["digest"]]
    lines.append(f"  columns that differ: {', '.join(changed) or 'none (the row order or count)'}")
    for name in changed:
        before, after = recorded["columns"][name], now["columns"][name]
        if "sum" in before and before["sum"] != after.get("sum"):
            lines.append(f"  {name} sum: {before['sum']!r} recorded, {after.get('sum')!r} now")
        if "counts" in before and before["counts"] != after.get("counts"):
            counts = after.get("counts", {})
            moved = [
                f"{value} {before['counts'].get(value, 0)} → {counts.get(value, 0)}"
                for value in sorted(before["counts"].keys() | counts.keys())
                if before["counts"].get(value, 0) != counts.get(value, 0)
            ]
            lines.append(f"  {name} counts (recorded → now): {'; '.join(moved)}")
    first = next(
        (i for i, (a, b) in enumerate(zip(recorded["blocks"], now["blocks"], strict=False)) if a != b),
        min(len(recorded["blocks"]), len(now["blocks"])),
    )
    start = first * BLOCK_ROWS
    lines.append(f"  first differing rows: within {start}–{start + BLOCK_ROWS - 1}; the first {ROWS_SHOWN} now:")
    shown = table(calls).iloc[start : start + ROWS_SHOWN]
    lines.append(shown.to_string() if len(shown) else "  (none: the table now ends before them)")
    return "\n".join(lines)


def recorded_details() -> dict:
    """golden_calls_detail.json, once the test is known to run under the versions the digests were checked with."""
    details = json.loads(DETAIL_FILE.read_text())
    if versions() != details["versions"]:
        pytest.skip(
            f"the digests were checked with {details['versions']}, this is {versions()}: their random "
            "streams or hashing may differ; check the digests under these versions and record them"
        )
    return details


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_core_scenarios_give_the_same_calls_as_before(key: str) -> None:
    details = recorded_details()
    model, seed = key.split("/")
    run = bposim.simulate(bposim.load_scenario(DATA / f"{model}.yaml"), seed=int(seed))
    assert digest(run.calls) == GOLDEN[key], differences(key, details["tables"][key], run.calls)


def test_a_changed_table_is_described_by_model_columns_counts_and_rows() -> None:
    """The failure message of the digest test names what moved (negative control: tables changed on purpose)."""
    details = recorded_details()["tables"]["helpdesk/1"]
    calls = bposim.simulate(bposim.load_scenario(DATA / "helpdesk.yaml"), seed=1).calls
    assert digest(calls) == GOLDEN["helpdesk/1"], "see test_core_scenarios_give_the_same_calls_as_before[helpdesk/1]"

    nudged = calls.copy()
    nudged.loc[700, "end"] += 1.0
    message = differences("helpdesk/1", details, nudged)
    assert "tests/data/helpdesk.yaml, seed 1" in message
    assert "columns that differ: end\n" in message and "end sum:" in message
    assert f"within 700–{700 + BLOCK_ROWS - 1}" in message

    shorter = calls.drop(index=[3]).reset_index(drop=True)
    message = differences("helpdesk/1", details, shorter)
    assert f"rows: {len(calls)} recorded, {len(calls) - 1} now" in message
    assert "outcome counts (recorded → now): " in message
    assert f"within 0–{BLOCK_ROWS - 1}" in message


def test_other_library_versions_skip_the_digests_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(np, "__version__", "1.26.4")
    with pytest.raises(pytest.skip.Exception, match=r"checked with .*, this is .*'numpy': '1\.26'"):
        test_core_scenarios_give_the_same_calls_as_before("helpdesk/1")


def record_details() -> None:
    """Write golden_calls_detail.json from the runs now, refusing unless their digests are the recorded ones."""
    if Path(bposim.__file__).resolve().parents[1] != DATA.parents[1]:
        sys.exit(f"bposim is imported from {bposim.__file__}, not this project: run with PYTHONPATH=.")
    tables = {}
    for key in sorted(GOLDEN):
        model, seed = key.split("/")
        calls = bposim.simulate(bposim.load_scenario(DATA / f"{model}.yaml"), seed=int(seed)).calls
        if digest(calls) != GOLDEN[key]:
            sys.exit(f"{key}: the calls table does not match its digest in golden_calls.json; details not written")
        tables[key] = describe(calls)
    DETAIL_FILE.write_text(json.dumps({"versions": versions(), "tables": tables}, indent=1) + "\n")
    print(f"wrote {DETAIL_FILE}")


if __name__ == "__main__":
    record_details()
