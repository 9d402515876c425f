"""The short cuts taken for speed give what the long way gives, to the bit: the KPIs' grouped sums of seconds
against pandas' grouped sum, the check-free paths of a centre without the features checked, what is remembered per
scenario; and a run leaves the cycle collector as it found it."""

from __future__ import annotations

import gc
import pickle
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import bposim
from bposim import workload
from bposim.cells import grouped_seconds
from bposim.engine.model import Centre, cycle_collection_paused
from bposim.experiment.runner import KEPT_SCENARIOS, _worker_scenarios, run_pickled_task, run_task
from bposim.experiment.tables import scheduled_hours
from bposim.memo import per_scenario
from bposim.tables import scheduled

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


def _records(centre: Centre) -> np.ndarray:
    return centre.run().records.array()


def test_a_centre_without_the_features_answers_and_queues_by_the_short_paths_to_the_same_records():
    """Without first-contact resolution, transfers, outages cutting calls, balking or a maximum wait, the centre
    binds the check-free paths, and answers first attempts without making a call; they record every call as the
    full paths do."""
    assist = {"adoption": 0.7, "handle_time_multiplier": 0.88}
    scenario = bposim.load_scenario("models/bpo_multiskill.yaml").updated({"technology.ai_assist": assist})
    short = Centre(scenario, 5, 2)
    assert short._serve.__func__ is Centre._answer
    assert short._wait_or_callback.__func__ is Centre._wait_unless_called_back
    assert short.answer_drawn
    full = Centre(scenario, 5, 2)
    del full._serve, full._wait_or_callback  # back to the class's methods, with every check
    full.answer_drawn = False  # every first attempt made a call, through `_attempt`
    assert full._serve.__func__ is Centre._serve
    expected = _records(full)
    assert len(expected) > 1000
    assert np.array_equal(_records(short), expected, equal_nan=True)


def test_centres_with_the_features_keep_their_checks():
    helpdesk = bposim.load_scenario("models/helpdesk.yaml")
    support = helpdesk.call_types[0].name
    repeating = helpdesk.updated(
        {
            f"call_types.{support}.resolution": {
                "probability": 0.7,
                "repeat_delay": {"distribution": "exponential", "mean_hours": 1},
            }
        }
    )
    assert Centre(repeating, 1)._serve.__func__ is Centre._serve
    assert not Centre(repeating, 1).answer_drawn
    balking = helpdesk.updated({f"call_types.{support}.balking": {"probability": 0.3}})
    assert "_wait_or_callback" not in vars(Centre(balking, 1))
    assert Centre(bposim.load_scenario("models/two_tier_support.yaml"), 1)._serve.__func__ is not Centre._answer


def test_what_depends_on_the_scenario_alone_is_worked_out_once_per_scenario_object():
    calls = []

    @per_scenario
    def busiest(scenario, factor=1.0):
        calls.append(scenario)
        return np.array([ct.arrivals.per_hour or 0.0 for ct in scenario.call_types]) * factor

    helpdesk = bposim.load_scenario("models/helpdesk.yaml")
    first = busiest(helpdesk)
    assert busiest(helpdesk) is first and len(calls) == 1
    assert not first.flags.writeable  # shared: read-only
    assert busiest(helpdesk, 2.0)[0] == 2.0 * first[0] and len(calls) == 2  # other arguments: worked out apart
    again = bposim.load_scenario("models/helpdesk.yaml")  # equal, but another object: worked out anew
    assert np.array_equal(busiest(again), first) and len(calls) == 3
    changed = helpdesk.updated({"call_types.support.arrivals.per_hour": 1.0})
    assert busiest(changed)[0] == 1.0


def test_remembered_workloads_and_hours_are_those_worked_out_afresh():
    scenario = bposim.load_scenario("models/bpo_multiskill.yaml")
    assert workload.estimate(scenario) is workload.estimate(scenario)
    assert workload.estimate.__wrapped__(scenario) == workload.estimate(scenario)
    hours = scheduled_hours(scenario)
    assert hours == float(scheduled(scenario).sum() * scenario.horizon.interval_seconds / 3600.0)
    more = scenario.updated({"agent_groups.universal_en.agents": 9})
    assert scheduled_hours(more) > hours


def test_a_worker_unpickles_a_cells_scenario_once_and_runs_each_task_as_sent():
    scenario = bposim.load_scenario("models/helpdesk.yaml")
    pickled = pickle.dumps(scenario)
    first = run_pickled_task("sweep-a", pickled, 3, 0, 1, False)
    kept = _worker_scenarios[("sweep-a", 0)]
    second = run_pickled_task("sweep-a", b"not read again", 3, 0, 2, False)
    assert _worker_scenarios[("sweep-a", 0)] is kept  # the same object: what depends on it alone is remembered
    assert pd.Series(first.kpis).equals(pd.Series(run_task(scenario, 3, 0, 1, False).kpis))  # NaN as NaN
    assert pd.Series(second.kpis).equals(pd.Series(run_task(scenario, 3, 0, 2, False).kpis))
    assert not pd.Series(first.kpis).equals(pd.Series(second.kpis))
    assert (first.cell, first.replication, second.replication) == (0, 1, 2)
    for cell in range(1, KEPT_SCENARIOS + 1):  # a long sweep keeps only the last few cells' scenarios
        run_pickled_task("sweep-a", pickled, 3, cell, 1, False)
    assert ("sweep-a", 0) not in _worker_scenarios and len(_worker_scenarios) == KEPT_SCENARIOS
