"""Regression guard: scenarios that use none of the later features give exactly the same calls as the core did.

`tests/data/golden_calls.json` holds digests of the calls tables of frozen copies of the first bundled models
(`tests/data/*.yaml`), computed with the core engine before shifts, outages and technology levers existed, and
again when a fall in a staffing plan came to hold back new calls until the group is down to the plan (the two
models whose plans fall). A change that moves any call of these runs, by a single bit, fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import bposim

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "golden_calls.json").read_text())
COLUMNS = ["call_id", "call_type", "attempt", "arrival", "answer", "end", "wait", "handle_seconds", "wrap_seconds",
           "outcome", "agent", "group"]  # fmt: skip


def digest(calls: pd.DataFrame) -> str:
    """A digest of the calls table's content, independent of dtype details such as categorical codes."""
    frame = calls[COLUMNS].astype({"call_type": str, "outcome": str, "agent": str, "group": str, "attempt": "int64"})
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_core_scenarios_give_the_same_calls_as_before(key: str) -> None:
    model, seed = key.split("/")
    run = bposim.simulate(bposim.load_scenario(DATA / f"{model}.yaml"), seed=int(seed))
    assert digest(run.calls) == GOLDEN[key]
