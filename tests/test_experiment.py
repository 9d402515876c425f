"""Experiments: the same results table whatever the executor, resuming after a kill, common random numbers, and
bad experiment files refused at the door (exit status 2, a plain message, no traceback)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim, command, environment
from scenario_texts import helpdesk_data

from bposim import ScenarioError
from bposim.experiment import Experiment, ExperimentError, cell_summary, paired_differences, ranked_cells
from bposim.experiment.storage import saved_rows
from bposim.experiment.tables import shortfalls
from bposim.scenario import Scenario, load_scenario

SWEEP = """\
name: helpdesk_sweep
model: helpdesk.yaml
replications: 5
seed: 11
factors:
  agent_groups.team.agents: [10, 11, 12, 13]
"""


def helpdesk_spec(days: int = 1) -> dict:
    """The one-queue helpdesk (Erlang A) over `days` days, each day's arrival rates scaled by a gamma factor of
    mean 1: about 2,000 calls a day."""
    return helpdesk_data({"horizon.days": days, "busyness": {"cv": 0.1}})


def helpdesk(days: int = 1) -> Scenario:
    return Scenario.model_validate(helpdesk_spec(days))


def write_sweep(folder: Path, sweep: str = SWEEP, days: int = 1) -> Path:
    """An experiment file and its model in `folder`; returns the experiment file."""
    (folder / "helpdesk.yaml").write_text(yaml.safe_dump(helpdesk_spec(days), sort_keys=False))
    path = folder / "sweep.yaml"
    path.write_text(sweep)
    return path


def small_experiment(keep: str = "summary") -> Experiment:
    """Two staffing levels × AI assist off/on, three replications: 12 quick tasks."""
    agents = {"agent_groups.team.agents": [11, 12]}
    assist = {"off": {}, "on": {"technology.ai_assist": {"handle_time_multiplier": 0.9}}}
    return Experiment(helpdesk(), factors={**agents, "ai_assist": assist}, replications=3, seed=5, keep=keep)


def test_results_table_is_the_same_in_process_in_processes_and_on_dask(tmp_path: Path) -> None:
    experiment = small_experiment()
    here = experiment.run(workers=1, progress=False)
    assert len(here) == 4 * 3 and not here.duplicated(["cell", "replication"]).any()
    assert list(here.columns[:5]) == ["cell", "agent_groups.team.agents", "ai_assist", "replication", "seed"]
    assert (here["seed"] == 5).all() and "support.service_level" in here
    pd.testing.assert_frame_equal(here, experiment.run(workers=2, progress=False))
    pd.testing.assert_frame_equal(here, experiment.run(out=tmp_path / "saved", workers=2, progress=False))
    assert len(pd.read_parquet(tmp_path / "saved" / "cells.parquet")) == 4
    distributed = pytest.importorskip("distributed")
    try:
        cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    except Exception as exc:  # noqa: BLE001 - any failure to start means this machine cannot host a cluster
        pytest.skip(f"a local Dask cluster could not start here ({exc.__class__.__name__}: {exc})")
    try:
        on_dask = experiment.run(scheduler=cluster.scheduler_address, workers=2, progress=False)
    finally:
        cluster.close()
    pd.testing.assert_frame_equal(here, on_dask)


def test_keep_all_saves_every_run_tables(tmp_path: Path) -> None:
    experiment = Experiment(helpdesk(), factors={"agent_groups.team.agents": [11, 12]}, replications=2, keep="all")
    results = experiment.run(out=tmp_path, workers=1, progress=False)
    calls = pd.read_parquet(tmp_path / "tables" / "1" / "0" / "calls.parquet")
    assert len(calls) == results.loc[(results["cell"] == 1) & (results["replication"] == 0), "offered"].item()
    assert {file.name for file in (tmp_path / "tables" / "0" / "1").iterdir()} >= {
        "intervals.parquet",
        "staffing.parquet",
    }


def test_a_killed_sweep_resumes_to_the_same_results(tmp_path: Path) -> None:
    file = write_sweep(tmp_path, days=4)  # 20 tasks of about 0.2 s each
    out = tmp_path / "out"
    process = subprocess.Popen(
        command("sweep", file, "--out", out, "--workers", "1"),
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not saved_rows(out / "tasks") and time.monotonic() < deadline:
        time.sleep(0.02)
    still_running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = len(saved_rows(out / "tasks"))
    assert still_running and 1 <= saved < 20, saved
    assert not (out / "results.parquet").exists()

    again = bposim("sweep", file, "--out", out, "--workers", "1", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{saved} of 20 tasks already done" in " ".join(again.stderr.split())
    resumed = pd.read_parquet(out / "results.parquet")
    assert len(resumed) == 20 and not resumed.duplicated(["cell", "replication"]).any()
    whole = Experiment.from_file(file).run(out=tmp_path / "whole", workers=2, progress=False)
    pd.testing.assert_frame_equal(resumed, whole)


def test_a_row_cut_short_is_cut_off_and_its_task_redone(tmp_path: Path) -> None:
    """A sweep killed while writing a row leaves a line cut short at the end of tasks/rows.jsonl: the resumed sweep
    cuts it off, redoes that task (and only that one) and ends with every task once, as a sweep never stopped."""
    experiment = small_experiment()
    whole = experiment.run(out=tmp_path / "whole", workers=1, progress=False)
    out = tmp_path / "out"
    experiment.run(out=out, workers=1, progress=False)
    rows = out / "tasks" / "rows.jsonl"
    lines = rows.read_bytes().splitlines(keepends=True)
    rows.write_bytes(b"".join(lines[:7]) + lines[7][: len(lines[7]) // 2])  # killed mid-line at the eighth task
    for combined in ("results.parquet", "cells.parquet"):
        (out / combined).unlink()
    assert len(saved_rows(out / "tasks")) == 7
    resumed = experiment.run(out=out, workers=1, progress=False)
    pd.testing.assert_frame_equal(resumed, whole)
    again = rows.read_bytes().splitlines(keepends=True)
    assert again[:7] == lines[:7] and len(again) == len(lines) and again[-1].endswith(b"\n")


def test_a_results_directory_of_task_files_resumes(tmp_path: Path) -> None:
    """A results directory written by an earlier version (a parquet file per task, no rows file) is read as it is:
    the tasks there are not redone, the rest run, and the results are those of a sweep never stopped."""
    experiment = small_experiment()
    whole = experiment.run(workers=1, progress=False)
    out = tmp_path / "out"
    experiment.run(out=out, workers=1, progress=False)
    rows = out / "tasks" / "rows.jsonl"
    for row in saved_rows(out / "tasks")[:5]:
        pd.DataFrame([row]).to_parquet(out / "tasks" / f"cell{row['cell']}-rep{row['replication']}.parquet")
    rows.unlink()
    for combined in ("results.parquet", "cells.parquet"):
        (out / combined).unlink()
    resumed = experiment.run(out=out, workers=1, progress=False)
    pd.testing.assert_frame_equal(resumed, whole)
    assert len(saved_rows(out / "tasks")) == 12 and len(rows.read_bytes().splitlines()) == 7  # 5 not redone


def test_results_kept_in_memory_equal_those_saved(tmp_path: Path) -> None:
    """The results table of a sweep kept in memory is that of the same sweep saved to disk, dtypes and all."""
    experiment = small_experiment()
    pd.testing.assert_frame_equal(
        experiment.run(workers=1, progress=False), experiment.run(out=tmp_path / "out", workers=1, progress=False)
    )


def test_common_random_numbers_make_neighbouring_cells_differ_by_staffing_only() -> None:
    experiment = Experiment(helpdesk(), factors={"agent_groups.team.agents": [11, 12]}, replications=12, seed=3)
    results = experiment.run(workers=1, progress=False)
    level = results.pivot(index="replication", columns="agent_groups.team.agents", values="service_level")
    assert (results.groupby("replication")["offered"].nunique() == 1).all()  # the same callers in both cells
    assert (level[12] >= level[11]).mean() >= 0.9
    assert (level[12] - level[11]).var() < 0.5 * (level[11].var() + level[12].var())
    cells = cell_summary(results).set_index("agent_groups.team.agents")
    assert list(cells["replications"]) == [12, 12] and cells["service_level_ci"].gt(0).all()
    met = level >= helpdesk().service_level.target  # the days each headcount met the target, from the results
    assert cells["met_target_share"].to_dict() == pytest.approx(met.mean().to_dict())
    open_hours = helpdesk().horizon.open_seconds / 3600
    assert (results["scheduled_agent_hours"] == results["agent_groups.team.agents"] * open_hours).all()


def test_unknown_path_names_it_and_the_valid_paths_near_it() -> None:
    with pytest.raises(ExperimentError) as caught:
        Experiment(helpdesk(), factors={"agent_groups.tem.agents": [11, 12]})
    assert caught.value.problems == [
        "factors.agent_groups.tem.agents: unknown path 'agent_groups.tem.agents'; "
        "did you mean agent_groups.team.agents? (no item 'tem' in agent_groups; known: team)"
    ]
    with pytest.raises(ExperimentError, match="technology.ai_assist is not set in the model"):
        Experiment(helpdesk(), factors={"ai": {"on": {"technology.ai_assist.adoption": 0.5}}})
    with pytest.raises(ExperimentError, match="unknown path 'colour'; known under the scenario: name, description, "):
        Experiment(helpdesk(), factors={"colour": ["blue"]})


def test_bad_values_name_the_cell_and_the_field() -> None:
    with pytest.raises(ExperimentError) as caught:
        Experiment(helpdesk(), factors={"agent_groups.team.agents": [11, -2], "service_level.target": [0.8, 0.9]})
    assert caught.value.problems == [
        "factors: cell 2 (agent_groups.team.agents = -2, service_level.target = 0.8): agent_groups[0].agents: "
        "must be a whole number of agents (≥ 0), got -2 (also cells 3)"
    ]


def test_experiment_errors_are_scenario_errors_the_cli_prints() -> None:
    assert issubclass(ExperimentError, ScenarioError)


BAD_FILES = [
    pytest.param(
        SWEEP.replace("agent_groups.team.agents", "agent_groups.tem.agents"),
        ["unknown path 'agent_groups.tem.agents'", "did you mean agent_groups.team.agents?"],
        id="unknown-path",
    ),
    pytest.param(
        SWEEP.replace("[10, 11, 12, 13]", "[10, lots]"),
        [
            'sweep.yaml: factors: cell 1 (agent_groups.team.agents = "lots")',
            "agent_groups[0].agents: must be a whole number of agents",
        ],
        id="wrong-value-type",
    ),
    pytest.param(
        SWEEP.replace("helpdesk.yaml", "nowhere.yaml"), ["sweep.yaml: model: file not found: "], id="missing-model"
    ),
    pytest.param(
        SWEEP.replace("seed: 11", "seed: 11\ncolour: blue"),
        ["sweep.yaml: (top level): unknown field 'colour'; allowed: name, description, changes, factors"],
        id="unknown-field",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_experiment_files_exit_2_with_a_clear_message(tmp_path: Path, text: str, expected: list[str]) -> None:
    result = bposim("sweep", write_sweep(tmp_path, text), "--workers", "1", cwd=tmp_path)
    assert_refused(result, *expected)
    assert result.stderr.startswith("error: ")


def test_a_changed_experiment_file_is_not_mixed_into_old_results(tmp_path: Path) -> None:
    file = write_sweep(tmp_path, SWEEP.replace("replications: 5", "replications: 1").replace("10, 11, 12, ", ""))
    first = bposim("sweep", file, "--workers", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "out" / "helpdesk_sweep" / "results.parquet").exists()
    file.write_text(file.read_text().replace("seed: 11", "seed: 12"))
    second = bposim("sweep", file, "--workers", "1", cwd=tmp_path)
    assert second.returncode == 2 and "Traceback" not in second.stderr
    message = " ".join(second.stderr.split())
    assert "out/helpdesk_sweep: holds the results of a different experiment" in message
    assert "use another --out directory, or delete this one" in message


def test_paired_differences_are_day_by_day_and_narrower_than_the_cells_own() -> None:
    """Each cell minus the baseline on the same replication: the baseline's row is zero, the sign flips with the
    baseline, and under common random numbers the interval is narrower than the two cells' own added up."""
    base = load_scenario(ROOT / "models" / "helpdesk.yaml")
    experiment = Experiment(base, {"agent_groups.team.agents": [10, 11, 12]}, replications=6, seed=9)
    results = experiment.run(workers=1, progress=False)
    diffs = paired_differences(results, baseline=1, kpis=("service_level", "asa_seconds")).set_index("cell")
    assert diffs.loc[1, "service_level_diff"] == 0 and diffs.loc[1, "service_level_diff_ci"] == 0
    by_day = results.pivot(index="replication", columns="cell", values="service_level")
    assert diffs.loc[2, "service_level_diff"] == pytest.approx((by_day[2] - by_day[1]).mean())
    flipped = paired_differences(results, baseline=2, kpis=("service_level",)).set_index("cell")
    assert flipped.loc[1, "service_level_diff"] == pytest.approx(-diffs.loc[2, "service_level_diff"])
    assert flipped.loc[1, "service_level_diff_ci"] == pytest.approx(diffs.loc[2, "service_level_diff_ci"])
    cells = cell_summary(results).set_index("cell")
    assert diffs.loc[0, "service_level_diff_ci"] < cells.loc[0, "service_level_ci"] + cells.loc[1, "service_level_ci"]
    with pytest.raises(ValueError, match="cell 7"):
        paired_differences(results, baseline=7)


def test_meets_target_needs_every_call_type_at_its_own_target() -> None:
    """A VIP line with its own 99% target: a cell whose overall service level reaches 80% but whose VIP calls fall
    short of 99% does not meet the target, is not ranked, and names vip as its short call type."""
    spec = helpdesk_spec()
    spec["call_types"].append(
        {
            "name": "vip",
            "arrivals": {"per_hour": 30},
            "handle_time": {"distribution": "exponential", "mean_seconds": 120},
            "service_level": {"target": 0.99},
        }
    )
    spec["agent_groups"][0]["skills"].append("vip")
    scenario = Scenario.model_validate(spec)
    results = Experiment(scenario, {"agent_groups.team.agents": [12, 14]}, replications=3, seed=5).run(
        workers=1, progress=False
    )
    assert (results["vip.service_level_target"] == 0.99).all()
    assert (results["support.service_level_target"] == 0.8).all()
    cells = cell_summary(results)
    reach = {ct: cells[f"{ct}.service_level"] >= cells[f"{ct}.service_level_target"] for ct in ("support", "vip")}
    overall = cells["service_level"] >= cells["service_level_target"]
    assert cells["meets_target"].tolist() == (overall & reach["support"] & reach["vip"]).tolist()
    missed = cells[overall & ~reach["vip"]]
    assert len(missed), "some cell reaches 80% overall while its VIP calls miss 99%"
    assert not missed["meets_target"].any() and set(missed["short_call_types"]) <= {"vip", "support, vip"}
    assert ranked_cells(cells)["cell"].tolist() == cells.loc[cells["meets_target"], "cell"].tolist() == [1]
    row = missed.iloc[0]
    assert shortfalls(row).endswith(f"vip {row['vip.service_level']:.1%} < 99%")
