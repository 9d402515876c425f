"""The `bposim` command line, run for real as `python -m bposim` in a subprocess."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import ROOT, bposim

from bposim import analytic, load_scenario

HELPDESK = ROOT / "models" / "helpdesk.yaml"
COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "blocked",
    "unserved",
    "answered_within_threshold",
    "abandoned_within_threshold",
)
KEYS = (*COUNTS, "service_level", "asa_seconds", "abandon_rate", "occupancy")
CALLS_COLUMNS = [
    "call_id",
    "call_type",
    "channel",
    "attempt",
    "leg",
    "day",
    "interval",
    "arrival",
    "answer",
    "end",
    "wait",
    "handle_seconds",
    "wrap_seconds",
    "outcome",
    "agent",
    "group",
    "path",
    "bot_seconds",
    "warmup",
]
TWO_QUEUES = """\
name: Two queues
horizon: {start: "09:00", end: "11:00", interval_minutes: 30}
call_types:
  - name: sales
    arrivals: {per_hour: 120}
    handle_time: {distribution: exponential, mean_seconds: 180}
    patience: {distribution: exponential, mean_seconds: 90}
  - name: billing
    arrivals: {per_hour: 60}
    handle_time: {distribution: lognormal, mean_seconds: 240, cv: 0.8}
agent_groups:
  - name: generalists
    skills: [sales, billing]
    agents: 10
"""


def succeed(*args: object) -> str:
    """Run the command line, require exit status 0 and no traceback, and return what it printed."""
    result = bposim(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def json_run(tmp_path_factory) -> tuple[dict, Path, str]:
    """The helpdesk run with seed 5 as JSON (parsed, its tables directory, and the text printed)."""
    tables = tmp_path_factory.mktemp("tables") / "out"
    text = succeed("run", HELPDESK, "--seed", 5, "--format", "json", "--out", tables)
    return json.loads(text), tables, text


@pytest.fixture(scope="module")
def pooled_run() -> dict:
    """The helpdesk run over three replications, as JSON."""
    return json.loads(succeed("run", HELPDESK, "--replications", 3, "--format", "json"))


def test_run_prints_a_table_with_call_type_and_service_level():
    """The default output is a table naming the call type and the service level."""
    text = succeed("run", HELPDESK)
    assert "support" in text
    assert "Service level" in text


def test_run_json_has_every_kpi_overall_and_per_call_type(json_run):
    """The JSON summary holds each KPI over all calls and under by_call_type.<name>."""
    summary, _, _ = json_run
    assert list(summary["by_call_type"]) == ["support"]
    for kpis in (summary, summary["by_call_type"]["support"]):
        for key in KEYS:
            assert isinstance(kpis[key], int | float), key


def test_run_json_values_are_consistent(json_run):
    """Counts add up, rates are proportions, and the overall summary agrees with the only call type (each KPI is
    counted again from the tables in the next test)."""
    summary, _, _ = json_run
    for kpis in (summary, summary["by_call_type"]["support"]):
        assert kpis["offered"] > 0
        assert kpis["offered"] == kpis["answered"] + kpis["abandoned"] + kpis["blocked"] + kpis["unserved"]
        assert 0 <= kpis["answered_within_threshold"] <= kpis["answered"]
        assert 0 <= kpis["abandoned_within_threshold"] <= kpis["abandoned"]
        assert 0 <= kpis["service_level"] <= 1
        assert 0 <= kpis["occupancy"] <= 1
        assert kpis["asa_seconds"] >= 0
    for key in KEYS:
        assert summary[key] == pytest.approx(summary["by_call_type"]["support"][key]), key


def test_run_json_kpis_are_those_counted_from_its_calls_and_agents_tables(json_run):
    """Counts and rates of the JSON summary, counted again from the calls and agents tables written by --out."""
    summary, tables, _ = json_run
    calls, agents = pd.read_parquet(tables / "calls.parquet"), pd.read_parquet(tables / "agents.parquet")
    assert not calls["warmup"].any()
    threshold = load_scenario(HELPDESK).service_level.threshold_seconds
    outcome, wait = calls["outcome"].astype(str), calls["wait"]
    answered = outcome == "answered"
    from_tables = {
        "offered": len(calls),
        **{name: int((outcome == name).sum()) for name in ("answered", "abandoned", "blocked", "unserved")},
        "answered_within_threshold": int((answered & (wait <= threshold)).sum()),
        "abandoned_within_threshold": int(((outcome == "abandoned") & (wait <= threshold)).sum()),
        "service_level": (answered & (wait <= threshold)).sum() / len(calls),  # the helpdesk's definition: offered
        "abandon_rate": (outcome == "abandoned").sum() / len(calls),
        "asa_seconds": wait[answered].mean(),
        "aht_seconds": (calls["handle_seconds"] + calls["wrap_seconds"])[answered].mean(),
        "occupancy": agents["busy_seconds"].sum() / (agents["logged_in_seconds"] - agents["off_phone_seconds"]).sum(),
    }
    for kpis in (summary, summary["by_call_type"]["support"]):
        for key, value in from_tables.items():
            assert kpis[key] == pytest.approx(value), key


def test_replications_give_a_confidence_half_width_for_every_kpi(pooled_run):
    """With several replications each KPI has a `<key>_ci` half-width ≥ 0, overall and per call type."""
    assert pooled_run["replications"] == 3
    for kpis in (pooled_run, pooled_run["by_call_type"]["support"]):
        for key in KEYS:
            half = kpis[f"{key}_ci"]
            assert isinstance(half, int | float), key
            assert math.isfinite(half)
            assert half >= 0, key
        assert 0 <= kpis["service_level"] <= 1
    assert pooled_run["offered_ci"] > 0


def test_same_seed_gives_identical_json_and_another_seed_differs(json_run):
    """A seed fixes the run: the same seed prints the same JSON, another seed different results."""
    summary, _, text = json_run
    assert succeed("run", HELPDESK, "--seed", 5, "--format", "json") == text
    other = json.loads(succeed("run", HELPDESK, "--seed", 6, "--format", "json"))
    assert other["seed"] == 6
    assert {key: other[key] for key in KEYS} != {key: summary[key] for key in KEYS}


def test_csv_summary_has_an_all_row_and_one_row_per_call_type(tmp_path):
    """The CSV summary parses with pandas: an 'all' row and one per call type, whose counts add up to 'all'."""
    scenario = tmp_path / "two_queues.yaml"
    scenario.write_text(TWO_QUEUES)
    text = succeed("run", scenario, "--format", "csv", "--seed", 3)
    table = pd.read_csv(io.StringIO(text)).set_index("call_type")
    assert list(table.index) == ["all", "sales", "billing"]
    assert set(KEYS) <= set(table.columns)
    for key in COUNTS:
        assert table.loc["all", key] == table.loc["sales", key] + table.loc["billing", key], key
    assert ((table["service_level"] >= 0) & (table["service_level"] <= 1)).all()


def test_out_writes_calls_intervals_and_agents_tables_and_the_summary(json_run):
    """--out writes each table as CSV and Parquet, and summary.json equal to the printed summary."""
    summary, tables, _ = json_run
    for name in ("calls", "intervals", "agents"):
        csv = pd.read_csv(tables / f"{name}.csv")
        parquet = pd.read_parquet(tables / f"{name}.parquet")
        assert len(parquet) > 0, name
        assert len(csv) == len(parquet), name
        # the CSV has a clock time beside each column of seconds (`bposim.clocktimes`), Parquet the seconds alone
        assert [c for c in csv.columns if not c.endswith("_time")] == list(parquet.columns), name
    assert json.loads((tables / "summary.json").read_text()) == summary


def test_parquet_calls_table_has_the_documented_columns_and_one_row_per_offered_call(json_run):
    """The calls table has the columns documented in bposim.run, one row per offered call (no warm-up here)."""
    summary, tables, _ = json_run
    calls = pd.read_parquet(tables / "calls.parquet")
    assert list(calls.columns) == CALLS_COLUMNS
    assert not calls["warmup"].any()
    assert len(calls) == summary["offered"]
    assert (calls["outcome"] == "answered").sum() == summary["answered"]
    assert set(calls["call_type"]) == {"support"}


def test_validate_accepts_a_good_file():
    """validate exits 0 on the helpdesk model and says it is valid."""
    result = bposim("validate", HELPDESK)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"{HELPDESK}: valid — " in " ".join(result.stdout.split())  # not "invalid"
    assert "1 call type, 1 agent group (up to 12 agents by plan)" in " ".join(result.stdout.split())


def test_validate_counts_a_roster_only_or_to_be_scheduled_centre_in_words():
    """No "0 agents by plan": a centre staffed by shifts alone says how many, one to schedule says so."""
    said = " ".join(bposim("validate", ROOT / "models" / "weekly_bpo_shifts.yaml").stdout.split())
    assert "1 agent group (no agents yet: bposim staff schedules them)" in said and "0 agents" not in said
    said = " ".join(bposim("validate", ROOT / "models" / "weekly_bpo.yaml").stdout.split())
    assert "2 agent groups (up to 4 agents by plan, 10 agents on 3 shifts)" in said and "× 28 days" in said


def test_schema_prints_the_json_schema_of_scenarios():
    """schema prints a JSON schema whose properties include call_types and agent_groups."""
    schema = json.loads(succeed("schema"))
    assert {"call_types", "agent_groups", "horizon"} <= set(schema["properties"])


@pytest.mark.parametrize("patience", [None, 60.0], ids=["erlang_c", "erlang_a"])
def test_erlang_required_agents_match_the_analytic_module(patience):
    """erlang --format json gives the same required_agents as bposim.analytic, Erlang C or (with patience) A."""
    args = [
        "erlang",
        "--calls-per-hour",
        252,
        "--handle-seconds",
        120,
        "--threshold-seconds",
        20,
        "--target",
        0.8,
        "--format",
        "json",
    ]
    if patience is not None:
        args += ["--patience-seconds", patience]
    printed = json.loads(succeed(*args))
    expected = analytic.required_agents(252 / 3600, 120, 20, 0.8, mean_patience_seconds=patience)
    assert printed["required_agents"] == expected
    service = {row["agents"]: row["service_level"] for row in printed["rows"]}
    assert service[expected] >= 0.8
    assert service[expected - 1] < 0.8
