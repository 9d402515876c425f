"""A run's tables are built once for all its replications, from their records as columns: the numbers are the ones
each replication's KPIs give alone, the same as recorded, and a run asked for fewer tables has the same summary.

`tests/data/golden_tables.json` holds digests of every table and the summary of a few runs, recorded when the
tables were first built once per run, after checking them identical (columns, dtypes, values to the bit) with
those built a replication at a time (`benchmarks/same_tables.py` compares two checkouts). Like the calls digests
of `test_regression`, they hold for the library versions they were recorded with; rewrite them with
`PYTHONPATH=. python tests/test_run_columns.py` only after such a check.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from test_regression import versions

import bposim
from bposim import metrics
from bposim.experiment.runner import run_task
from bposim.run import Run, jsonable, simulate, simulate_replication
from bposim.tables import scheduled

MODELS = Path(__file__).resolve().parent.parent / "models"
GOLDEN_FILE = Path(__file__).parent / "data" / "golden_tables.json"
RUNS = {
    "helpdesk/1": ("helpdesk.yaml", 1),
    "helpdesk/3": ("helpdesk.yaml", 3),
    "outages/3": ("outage_prone_site.yaml", 3),
}
SEED = 5


RECORDED = ("calls", "intervals", "agents", "staffing", "activities", "outages", "costs")  # the tables digested
CHANNEL_COLUMNS = {"calls": ["channel"], "intervals": ["channel"], "staffing": ["sessions"]}  # added with channels
CALENDAR_COLUMNS = ["date", "weekday", "open"]  # added with horizons on dates (absent from these runs' tables)
JOURNEY_COLUMNS = {"calls": ["leg"]}  # added with transfers: every row 1 in these runs (checked below)
CHANNEL_KEYS = ("by_channel", "channels")
PERIOD_KEYS = ("periods",)  # added with service level by period (the periods table is not digested)


def digests(run: Run) -> dict[str, str]:
    """A digest per table (its columns, dtypes and values, bit for bit) and of the summary as saved: the tables and
    summary as they were recorded, before channels added their columns, keys and the backlog table (which
    `test_a_voice_only_run_has_one_channel_and_no_backlog` checks) and the calendar its date, weekday and open
    columns (only a horizon on dates has them, which these runs have not), the calls' `leg` (added with transfers, 1
    on every row here, which `test_a_voice_only_run_has_one_channel_and_no_backlog` checks), and the summary's
    `periods` (service level by period, which `tests/test_periods.py` checks)."""
    out = {}
    for name in RECORDED:
        table = getattr(run, name).drop(columns=CHANNEL_COLUMNS.get(name, []))
        table = table.drop(columns=[column for column in CALENDAR_COLUMNS if column in table])
        table = table.drop(columns=JOURNEY_COLUMNS.get(name, []))
        layout = json.dumps([[str(column), str(dtype)] for column, dtype in table.dtypes.items()])
        values = pd.util.hash_pandas_object(table, index=True).to_numpy() if len(table.columns) else np.zeros(0)
        out[name] = hashlib.sha256(layout.encode() + values.tobytes()).hexdigest()
    summary = {key: value for key, value in run.summary.items() if key not in (*CHANNEL_KEYS, *PERIOD_KEYS)}
    out["summary"] = hashlib.sha256(json.dumps(jsonable(summary)).encode()).hexdigest()
    return out


def recorded_run(key: str) -> Run:
    model, replications = RUNS[key]
    return simulate(bposim.load_scenario(MODELS / model), seed=SEED, replications=replications)


@pytest.mark.parametrize("key", sorted(RUNS))
def test_tables_and_summary_are_the_recorded_ones(key: str) -> None:
    golden = json.loads(GOLDEN_FILE.read_text())
    if golden["versions"] != versions():
        pytest.skip(f"recorded with {golden['versions']}, this is {versions()}: check and record again")
    now = digests(recorded_run(key))
    changed = [name for name in now if now[name] != golden["runs"][key][name]]
    assert not changed, f"{key}: {', '.join(changed)} changed"


@pytest.mark.parametrize("key", sorted(RUNS))
def test_a_voice_only_run_has_one_channel_and_no_backlog(key: str) -> None:
    """What channels add to a voice-only run, beside the recorded digests: every call and interval is voice, no
    chat session is held, the backlog table is empty, and the voice channel's KPIs are the overall ones."""
    run = recorded_run(key)
    assert run.calls["channel"].eq("voice").all() and run.intervals["channel"].eq("voice").all()
    assert list(run.calls["channel"].cat.categories) == ["voice", "chat", "email", "case"]
    assert run.staffing["sessions"].eq(0).all()
    assert run.backlog.empty and "open_at_end" in run.backlog
    assert run.calls["leg"].eq(1).all() and "transfer_mode" not in run.calls and "journeys" not in run.summary
    assert run.summary["channels"] == ["voice"] and list(run.summary["by_channel"]) == ["voice"]
    voice = run.summary["by_channel"]["voice"]
    assert json.dumps(jsonable(voice)) == json.dumps(
        jsonable({key: value for key, value in run.summary.items() if key in voice})
    )


@pytest.fixture(scope="module", params=["outage_prone_site.yaml", "bpo_bot_ai.yaml"])
def case(request) -> tuple[bposim.Scenario, Run]:
    scenario = bposim.load_scenario(MODELS / request.param).updated({"horizon.warmup_minutes": 30})
    return scenario, simulate(scenario, seed=SEED, replications=3)


def test_each_replications_kpis_are_those_of_its_calls_alone(case):
    """Per replication: its interval rows are `metrics.kpi_tables` of its own calls, its occupancy
    `metrics.occupancy` of its own agents, and the summary pools those as means with 95% half-widths."""
    scenario, run = case
    thresholds = {ct.name: scenario.service_level_for(ct)[0] for ct in scenario.call_types}
    callbacks = scenario.technology.callbacks
    deadline = callbacks.deadline_minutes * 60.0 if callbacks is not None else math.inf
    horizon = scenario.horizon
    alone = []
    for r in range(run.replications):
        one = run.replication(r)
        table, overall, per_type = metrics.kpi_tables(
            one.calls,
            thresholds,
            scenario.service_level.definition,
            horizon.days,
            horizon.intervals,
            deadline,
        )
        rows = one.intervals[table.columns]
        assert_frame_equal(rows, table, check_exact=True, check_categorical=False)
        overall["occupancy"] = metrics.occupancy(one.agents)
        for call_type in scenario.call_types:
            holders = [g.name for g in scenario.agent_groups if any(s.call_type == call_type.name for s in g.skills)]
            per_type[call_type.name]["occupancy"] = metrics.occupancy(one.agents, holders)
        alone.append({**overall, "by_call_type": per_type})
    for key in metrics.SUMMARY_KEYS:
        mean, half = metrics.mean_and_ci([float(s[key]) for s in alone])
        assert _same(run.summary[key], mean) and _same(run.summary[f"{key}_ci"], half), key
        for name in run.summary["by_call_type"]:
            mean, half = metrics.mean_and_ci([float(s["by_call_type"][name][key]) for s in alone])
            assert _same(run.summary["by_call_type"][name][key], mean), (name, key)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("tables", [(), ("intervals",), ("staffing", "costs"), ("outages",), ("calls", "agents")])
def test_a_run_asked_for_fewer_tables_has_those_tables_and_the_same_summary(case, tables):
    scenario, run = case
    fewer = simulate(scenario, seed=SEED, replications=3, tables=tables)
    assert json.dumps(jsonable(fewer.summary)) == json.dumps(jsonable(run.summary))
    for name in Run.TABLES:
        if name in tables:
            assert_frame_equal(getattr(fewer, name), getattr(run, name), check_exact=True, obj=name)
        else:
            assert getattr(fewer, name).empty and not len(getattr(fewer, name).columns), name


def test_unknown_tables_are_refused_naming_the_known_ones():
    scenario = bposim.load_scenario(MODELS / "helpdesk.yaml")
    with pytest.raises(ValueError, match="unknown table 'call'; known: calls, intervals"):
        simulate_replication(scenario, SEED, 0, tables=("call",))


def test_a_sweep_task_without_kept_tables_gives_the_same_kpis(case):
    scenario, _ = case
    lean, whole = (run_task(scenario, SEED, 0, 1, keep) for keep in (False, True))
    assert lean.tables is None and set(whole.tables) == set(Run.TABLES)
    assert json.dumps(jsonable(lean.kpis)) == json.dumps(jsonable(whole.kpis))


def record() -> None:
    """Write golden_tables.json from the runs now."""
    runs = {key: digests(recorded_run(key)) for key in sorted(RUNS)}
    GOLDEN_FILE.write_text(json.dumps({"versions": versions(), "runs": runs}, indent=2) + "\n")
    print(f"wrote {GOLDEN_FILE}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    record()


@pytest.mark.parametrize("model", ["helpdesk.yaml", "bpo_multiskill_shifts.yaml", "omnichannel_bpo.yaml"])
def test_the_agents_scheduled_by_a_scenario_are_its_staffing_tables(model: str) -> None:
    """A sweep task reads the scheduled agent hours from the scenario, building no staffing table: the same
    numbers, to the bit, as the table's (plan agents and rostered shifts, over several days too)."""
    scenario = bposim.load_scenario(MODELS / model)
    run = simulate_replication(scenario, SEED, 1, tables=("staffing",))
    np.testing.assert_array_equal(scheduled(scenario), run.staffing["scheduled"].to_numpy())
