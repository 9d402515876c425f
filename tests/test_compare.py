"""`bposim compare` and `bposim.compare`: two scenarios on the same days, B − A with paired 95% intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import bposim as api
from bposim.comparison import CompareError, difference_table, replication_kpis

# two call types on one team of `agents`: 20 agents run the team hot, 24 give it room
CENTRE = """\
name: two desks
horizon: {{start: "08:00", end: "11:00", interval_minutes: 30}}
service_level: {{threshold_seconds: 20, target: 0.80}}
call_types:
  - name: sales
    arrivals: {{per_hour: 330}}
    handle_time: {{distribution: exponential, mean_seconds: 120}}
    patience: {{distribution: exponential, mean_seconds: 120}}
  - name: billing
    arrivals: {{per_hour: 250}}
    handle_time: {{distribution: exponential, mean_seconds: 120}}
    patience: {{distribution: exponential, mean_seconds: 120}}
agent_groups:
  - name: team
    skills: [sales, billing]
    agents: {agents}
costs:
  currency: EUR
  groups:
    - {{group: team, per_paid_hour: 20}}
"""
REPLICATIONS = 8


@pytest.fixture(scope="module")
def centres(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("centres")
    files = {}
    for agents in (20, 24):
        files[agents] = folder / f"team_{agents}.yaml"
        files[agents].write_text(CENTRE.format(agents=agents))
    return files


@pytest.fixture(scope="module")
def compared(centres, tmp_path_factory: pytest.TempPathFactory):
    """20 against 24 agents by the command line, with the table, workbook and report written."""
    out = tmp_path_factory.mktemp("compared")
    result = bposim(
        "compare",
        centres[20],
        centres[24],
        "--replications",
        REPLICATIONS,
        "--seed",
        3,
        "--out",
        out,
        "--report",
        out / "compare.html",
        "--xlsx",
        out / "compare.xlsx",
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result, out


def _row(table: pd.DataFrame, call_type: str, kpi: str) -> pd.Series:
    return table[(table["call_type"] == call_type) & (table["kpi"] == kpi)].iloc[0]


def test_four_more_agents_raise_the_service_level_with_an_interval_above_zero(compared):
    result, out = compared
    table = pd.read_csv(out / "compare.csv")
    for call_type in ("all", "sales", "billing"):
        level = _row(table, call_type, "service_level")
        assert level["b"] > level["a"]
        assert 0 < level["low"] <= level["difference"] <= level["high"], call_type
        assert level["significant"]
        wait = _row(table, call_type, "asa_seconds")
        assert wait["high"] < 0, call_type  # and callers wait less
    cost = _row(table, "all", "total_cost")
    assert cost["unit"] == "EUR" and cost["low"] > 0  # four more agents cost more
    assert list(table["call_type"].unique()) == ["all", "sales", "billing"]
    # the printed table: "service level ... +N.N pts [low, high]"
    overall = _row(table, "all", "service_level")
    expected = f"+{overall['difference'] * 100:.1f} pts [{overall['low'] * 100:.1f}, {overall['high'] * 100:.1f}]"
    assert expected in result.stdout
    assert "service level" in result.stdout and "ASA" in result.stdout


def test_the_means_are_those_of_bposim_run_on_the_same_seed(compared, centres):
    """A's and B's means are their own runs' means over the same seed and replications: the same days."""
    _, out = compared
    table = pd.read_csv(out / "compare.csv")
    for agents, side in ((20, "a"), (24, "b")):
        run = api.simulate(api.load_scenario(centres[agents]), seed=3, replications=REPLICATIONS)
        assert _row(table, "all", "service_level")[side] == pytest.approx(run.summary["service_level"], rel=1e-12)
        sales = run.summary["by_call_type"]["sales"]["asa_seconds"]
        assert _row(table, "sales", "asa_seconds")[side] == pytest.approx(sales, rel=1e-12)


def test_the_workbook_and_report_hold_the_table(compared):
    _, out = compared
    table = pd.read_csv(out / "compare.csv")
    sheet = pd.read_excel(out / "compare.xlsx", sheet_name="Comparison")
    assert list(sheet.columns[:6]) == ["Call type", "KPI", "Unit", "A", "B", "Difference"]
    assert sheet["Difference"].tolist() == pytest.approx(table["difference"].tolist())
    page = (out / "compare.html").read_text()
    assert "Plotly.newPlot" in page and "team_24.yaml against" in page
    assert "service level (pts)" in page


def test_paired_intervals_are_narrower_than_unpaired_ones_on_the_same_runs(centres):
    """Common random numbers: replication r of A and B share their days, so the differences vary far less than
    either side; the table's half-widths are the paired t and Welch intervals recomputed here."""
    a, b = (api.load_scenario(centres[agents]) for agents in (20, 24))
    kpis_a, kpis_b = replication_kpis(a, 3, REPLICATIONS), replication_kpis(b, 3, REPLICATIONS)
    table = difference_table(kpis_a, kpis_b, {})

    def levels(kpis: pd.DataFrame, call_type: str) -> np.ndarray:
        return kpis[(kpis["call_type"] == call_type) & (kpis["kpi"] == "service_level")]["value"].to_numpy()

    for call_type in ("all", "sales", "billing"):
        level_a, level_b = levels(kpis_a, call_type), levels(kpis_b, call_type)
        assert np.corrcoef(level_a, level_b)[0, 1] > 0.5  # the same busy and quiet days on both sides
        differences = level_b - level_a
        paired = stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / math.sqrt(len(differences))
        welch = stats.ttest_ind(level_b, level_a, equal_var=False).confidence_interval(0.95)
        unpaired = (welch.high - welch.low) / 2
        row = _row(table, call_type, "service_level")
        assert row["half_width"] == pytest.approx(paired)
        assert row["unpaired_half_width"] == pytest.approx(unpaired)
        assert paired < unpaired, call_type


def test_a_scenario_against_itself_differs_by_nothing(centres):
    scenario = api.load_scenario(centres[20])
    table = api.compare(scenario, scenario, replications=4, seed=1)
    assert set(table["kpi"]) == {"service_level", "asa_seconds", "abandon_rate", "occupancy", "total_cost"}
    assert (table["difference"] == 0).all() and (table["half_width"] == 0).all()
    assert (table["low"] == 0).all() and (table["high"] == 0).all()
    assert not table["significant"].any()
    assert (table["unpaired_half_width"] > 0).all()  # the days themselves vary


def test_a_file_against_itself_prints_zero_differences(centres):
    result = bposim("compare", centres[20], centres[20], "--replications", 3)
    assert result.returncode == 0, result.stderr
    assert "+0.0 pts [0.0, 0.0]" in result.stdout


def test_call_types_that_differ_are_refused_naming_both_files_and_the_names(tmp_path, centres):
    other = tmp_path / "other.yaml"
    other.write_text(CENTRE.format(agents=20).replace("billing", "claims"))
    result = bposim("compare", centres[20], other)
    assert_refused(result, str(centres[20]), str(other), "only in", "billing", "claims", "different call types")
    with pytest.raises(CompareError, match="billing"):
        api.compare(api.load_scenario(centres[20]), api.load_scenario(other), replications=2)


def test_a_workbook_path_that_is_not_xlsx_is_refused_before_simulating(tmp_path, centres):
    result = bposim("compare", centres[20], centres[24], "--xlsx", tmp_path / "table.csv")
    assert_refused(result, "--xlsx", "table.csv", ".xlsx")


_values = st.lists(st.floats(0, 1, allow_nan=False), min_size=3, max_size=8)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_swapping_the_scenarios_negates_every_difference_and_keeps_the_interval(data):
    """B − A is −(A − B), with the same half-width: the table does not favour a side."""
    first = data.draw(_values)
    second = data.draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=len(first), max_size=len(first)))

    def kpis(values):
        return pd.DataFrame(
            {"replication": range(len(values)), "call_type": "all", "kpi": "service_level", "value": values}
        )

    forward = difference_table(kpis(first), kpis(second), {"service_level": "share"}).iloc[0]
    backward = difference_table(kpis(second), kpis(first), {"service_level": "share"}).iloc[0]
    assert forward["difference"] == pytest.approx(-backward["difference"], abs=1e-12)
    assert forward["half_width"] == pytest.approx(backward["half_width"], abs=1e-12)
    assert forward["low"] == pytest.approx(-backward["high"], abs=1e-12)
    same = difference_table(kpis(first), kpis(first), {}).iloc[0]
    assert same["difference"] == 0 and same["half_width"] == 0 and not same["significant"]
