"""The short cuts taken for speed give what the long way gives, to the bit: the KPIs' grouped sums of seconds
against pandas' grouped sum, and the cycle collector left as it was found by a run."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import bposim
from bposim.cells import grouped_seconds
from bposim.engine.model import Centre, cycle_collection_paused

SPECIAL = (np.nan, np.inf, -np.inf, 0.0, -0.0, 1e300, -1e300)


def pandas_grouped_sum(values: np.ndarray, replications: int, types: int) -> np.ndarray:
    """What the KPIs summed by pandas: each row's cells grouped by (replication, call type), summed."""
    cells = values.shape[1]
    cell = np.arange(cells)
    group = cell // (cells // replications) * types + cell % types
    frame = pd.DataFrame({f"row{i}": row for i, row in enumerate(values)})
    summed = frame.groupby(pd.Index(group)).sum()
    return np.stack([summed[column].to_numpy() for column in frame.columns])


@st.composite
def cell_values(draw) -> tuple[np.ndarray, int, int]:
    """Two rows of cell values (replications × steps × call types), of any magnitude and sign, some special."""
    replications = draw(st.integers(1, 5))
    types = draw(st.integers(1, 6))
    steps = draw(st.one_of(st.integers(1, 60), st.integers(395, 520)))  # a step at a time, and through pandas
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (2, replications * steps * types)
    values = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 14, size=shape)
    if draw(st.booleans()):
        values = np.abs(values)  # seconds: what the KPIs sum
    if draw(st.booleans()):
        special = rng.random(shape) < 0.05
        values[special] = rng.choice(SPECIAL, int(special.sum()))
    return values, replications, types


@settings(max_examples=300, deadline=None)
@given(cell_values())
def test_grouped_seconds_are_pandas_grouped_sums_to_the_bit(case):
    values, replications, types = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = pandas_grouped_sum(values, replications, types)
        got = grouped_seconds(values, replications, types)
    assert got.shape == expected.shape
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))  # NaN where NaN, the same bits elsewhere


def test_a_plain_sum_in_cell_order_is_not_what_pandas_gives():
    """Negative control: the order and compensation matter; a naive sum differs in the last bits somewhere."""
    rng = np.random.default_rng(3)
    values = np.abs(rng.standard_normal((2, 3 * 48 * 5))) * 10.0 ** rng.integers(-3, 9, size=(2, 3 * 48 * 5))
    naive = values.reshape(2, 3, 48, 5).sum(axis=2).reshape(2, -1)
    assert not np.array_equal(naive, pandas_grouped_sum(values, 3, 5))
    assert np.array_equal(grouped_seconds(values, 3, 5), pandas_grouped_sum(values, 3, 5))


def test_a_run_leaves_the_cycle_collector_as_it_found_it(tmp_path):
    scenario = bposim.load_scenario("models/helpdesk.yaml").updated({"horizon.end": "10:00"})
    assert gc.isenabled()
    Centre(scenario, 1).run()
    assert gc.isenabled()
    gc.disable()
    try:
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # disabled before: left disabled
        bposim.simulate(scenario, seed=1)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_when_a_run_fails():
    assert gc.isenabled()
    try:
        with cycle_collection_paused():
            assert not gc.isenabled()
            raise RuntimeError("a handler failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
