"""A run of several replications is its replications' runs joined (`Run.concat`), and gives each back
(`Run.replication`): every table, costs included, and the pooled summary."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import bposim
from bposim.run import Run, jsonable, simulate, simulate_replication

MODELS = Path(__file__).resolve().parent.parent / "models"
SEED = 11
REPLICATIONS = 3


@pytest.fixture(
    scope="module",
    params=["outage_prone_site.yaml", "helpdesk.yaml"],
    ids=["costs_and_outages", "neither"],
)
def case(request) -> tuple[bposim.Scenario, Run]:
    """A scenario with costs and outages, and one with neither (empty costs and outages tables), each simulated with
    every table (backlog_intervals, built only when named, included)."""
    scenario = bposim.load_scenario(MODELS / request.param)
    return scenario, simulate(scenario, seed=SEED, replications=REPLICATIONS, tables=Run.TABLES)


def _summary_text(run: Run) -> str:
    """The summary as saved: the same text means the same keys, in the same order, with the same values."""
    return json.dumps(jsonable(run.summary))


def test_the_cases_cover_costs_and_outages(case):
    scenario, run = case
    assert (scenario.costs is not None) == (len(run.costs) > 0) == (len(run.outages) > 0)
    assert ("total_cost_ci" in run.summary) == (scenario.costs is not None)


def test_every_table_of_a_run_is_in_its_tables():
    fields = {f.name for f in dataclasses.fields(Run)} - {"scenario", "seed", "replications", "summary"}
    assert set(Run.TABLES) == fields


def test_replications_simulated_alone_and_joined_are_the_run_of_several(case):
    """simulate(s, seed, 3) is Run.concat of its three replications simulated alone: tables and summary."""
    scenario, run = case
    joined = Run.concat([simulate_replication(scenario, SEED, r, tables=Run.TABLES) for r in range(REPLICATIONS)])
    assert (joined.scenario, joined.seed, joined.replications) == (scenario, SEED, REPLICATIONS)
    for name in Run.TABLES:
        assert_frame_equal(getattr(joined, name), getattr(run, name), check_exact=True, obj=name)
    assert _summary_text(joined) == _summary_text(run)


def test_one_replication_of_a_run_is_that_replication_simulated_alone(case):
    scenario, run = case
    for r in range(REPLICATIONS):
        one, alone = run.replication(r), simulate_replication(scenario, SEED, r, tables=Run.TABLES)
        assert one.replications == 1
        for name in Run.TABLES:
            table = getattr(one, name)
            if name == "costs" and table.empty:
                assert "replication" not in table  # no costs section: no cost rows to number
            else:
                assert (table["replication"] == r).all(), name
                table = table.drop(columns="replication")
            assert_frame_equal(table, getattr(alone, name), check_exact=True, obj=name)
        assert one.summary is run.summary  # the run's pooled summary, not the replication's


def test_a_run_of_one_replication_is_its_own_replication_0(case):
    scenario, _ = case
    alone = simulate_replication(scenario, SEED, 0)
    assert alone.replication(0) is alone
    with pytest.raises(ValueError, match="one replication"):
        alone.replication(1)


def test_runs_read_back_without_summaries_join_under_their_own_numbers(case):
    """As a sweep's kept tables are joined: runs with an empty summary, numbered by the replication each was."""
    scenario, _ = case
    runs = [dataclasses.replace(simulate_replication(scenario, SEED, r, tables=Run.TABLES), summary={}) for r in (2, 0)]
    joined = Run.concat(runs, [2, 0])
    assert list(pd.unique(joined.calls["replication"])) == [2, 0]
    assert joined.summary.get("replications") == 2 and "service_level" not in joined.summary
    assert ("total_cost" in joined.summary) == (scenario.costs is not None)
    for r, run in zip((2, 0), runs, strict=True):
        assert_frame_equal(joined.replication(r).calls.drop(columns="replication"), run.calls)


def test_concat_refuses_what_it_cannot_join(case):
    scenario, run = case
    with pytest.raises(ValueError, match="at least one run"):
        Run.concat([])
    with pytest.raises(ValueError, match="has a replication column"):
        Run.concat([run, run])
    with pytest.raises(ValueError, match="has a replication column"):
        Run.concat([run.replication(0), run.replication(1)])
    with pytest.raises(ValueError, match="1 runs but 2 replication numbers"):
        Run.concat([simulate_replication(scenario, SEED, 0)], [0, 1])


@pytest.mark.parametrize("replications", [1, 2])
def test_a_centre_with_no_agents_yet_runs_with_every_caller_unanswered(replications):
    """A model waiting for `bposim staff` (no agents, no roster) still runs: an empty agents table, nobody answered."""
    scenario = bposim.load_scenario(MODELS / "omnichannel_bpo_shifts.yaml").updated({"horizon.days": 1})
    run = simulate(scenario, seed=7, replications=replications)
    assert run.agents.empty and run.summary["answered"] == 0 and run.summary["offered"] > 0
