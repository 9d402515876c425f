"""Clients and contracts: revenue, credits, bonuses and cost redone by hand from a run's tables, credits owed
exactly when a period's pooled service level is below a tier, no change to anything else, and bad input refused."""

from __future__ import annotations

import json
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from bposim import contracts
from bposim.experiment.tables import kpi_row
from bposim.report.run import run_report
from bposim.run import Run, jsonable, simulate, simulate_replication
from bposim.scenario import Scenario, ScenarioError

DAYS = 3
SEED = 11
OFFERED = ("answered", "abandoned", "blocked", "unserved", "dropped", "balked", "message", "disconnected")


def centre_data(clients: list[dict] | None = None) -> dict:
    """Three weekdays on dates of a small provider: client a's voice and chat, client b's voice and cases, and a
    voice queue no client owns; each client's team and a shared team; costs."""
    data = {
        "name": "two clients",
        "horizon": {"start_date": "2027-03-01", "start": "09:00", "end": "12:00", "interval_minutes": 30, "days": DAYS},
        "service_level": {"threshold_seconds": 20, "target": 0.8},
        "call_types": [
            {
                "name": "voice_a",
                "arrivals": {"per_hour": 70},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                "after_call_work": {"distribution": "fixed", "value_seconds": 20},
                "patience": {"distribution": "exponential", "mean_seconds": 90},
            },
            {
                "name": "chat_a",
                "channel": "chat",
                "arrivals": {"per_hour": 20},
                "handle_time": {"distribution": "fixed", "value_seconds": 300},
                "patience": {"distribution": "exponential", "mean_seconds": 200},
            },
            {
                "name": "voice_b",
                "arrivals": {"per_hour": 40},
                "handle_time": {"distribution": "exponential", "mean_seconds": 200},
                "patience": {"distribution": "exponential", "mean_seconds": 120},
            },
            {
                "name": "case_b",
                "channel": "case",
                "arrivals": {"per_hour": 4},
                "handle_time": {"distribution": "fixed", "value_seconds": 600},
            },
            {
                "name": "voice_c",
                "arrivals": {"per_hour": 10},
                "handle_time": {"distribution": "fixed", "value_seconds": 120},
                "patience": {"distribution": "exponential", "mean_seconds": 120},
            },
        ],
        "agent_groups": [
            {"name": "team_a", "skills": ["voice_a", "chat_a"], "agents": 3, "max_concurrency": 2},
            {"name": "team_b", "skills": ["voice_b", "case_b"], "agents": 2},
            {"name": "shared", "skills": ["voice_a", "voice_b", "voice_c"], "agents": 2},
        ],
        "costs": {
            "groups": [{"group": name, "per_paid_hour": 20} for name in ("team_a", "team_b", "shared")],
            "technology": [{"name": "crm", "per_seat_per_day": 5}],
            "abandoned_call": 1.5,
        },
    }
    if clients is not None:
        data["clients"] = clients
    return data


def clients(billing_a: dict | None = None, clauses_b: list[dict] | None = None) -> list[dict]:
    """Client a (voice_a, chat_a) and client b (voice_b, case_b)."""
    return [
        {
            "name": "a",
            "call_types": ["voice_a", "chat_a"],
            "contract": {"billing": billing_a or {"model": "per_handled_contact", "rate": 2.0}},
        },
        {
            "name": "b",
            "call_types": ["voice_b", "case_b"],
            "contract": {
                "billing": {"model": "per_fte_hour", "rate": 30, "groups": ["team_b"]},
                "service_levels": clauses_b or [],
            },
        },
    ]


DAILY = {"call_types": ["voice_b"], "threshold_seconds": 20, "target": 0.8, "period": "day"}


@cache
def plain_run() -> Run:
    """The centre without clients, two replications."""
    return simulate(Scenario.model_validate(centre_data()), seed=SEED, replications=2)


@cache
def client_run() -> Run:
    """The centre with clients, two replications."""
    clauses = [DAILY | {"tiers": [{"below": 0.8, "credit_amount": 100}]}]
    return simulate(Scenario.model_validate(centre_data(clients(clauses_b=clauses))), seed=SEED, replications=2)


def priced(clients_list: list[dict], run: Run, definition: str = "offered") -> tuple[pd.DataFrame, dict]:
    """The clients table and pooled summary of `clients_list` priced on `run`'s tables (clients and the
    service-level definition do not change what is simulated, so any contract can be priced on the same tables)."""
    data = centre_data(clients_list)
    data["service_level"]["definition"] = definition
    scenario = Scenario.model_validate(data)
    table, each = contracts.client_results(scenario, run.calls, run.agents, run.backlog, run.costs)
    return table, contracts.pooled(each)


def counted(calls: pd.DataFrame) -> pd.DataFrame:
    return calls[~calls["warmup"]]


def work_seconds(calls: pd.DataFrame, call_types: list[str]) -> float:
    answered = counted(calls)
    answered = answered[(answered["outcome"] == "answered") & answered["call_type"].isin(call_types)]
    return float((answered["handle_seconds"] + answered["wrap_seconds"]).sum())


def daily_levels(calls: pd.DataFrame, call_type: str, threshold: float) -> np.ndarray:
    """Each day's service level of a live call type, by hand: answered within threshold over offered."""
    own = counted(calls)
    own = own[(own["call_type"] == call_type) & (own["path"] != "callback")]
    offered = own[own["outcome"].isin(OFFERED)].groupby("day").size().reindex(range(DAYS), fill_value=0)
    quick = own[(own["outcome"] == "answered") & (own["wait"] <= threshold)]
    within = quick.groupby("day").size().reindex(range(DAYS), fill_value=0)
    return (within / offered).to_numpy(dtype=float)


# --- billing ---------------------------------------------------------------------------------------------------


def expected_revenue(billing: dict, run: Run, replication: int) -> float:
    calls = run.calls[run.calls["replication"] == replication]
    agents = run.agents[run.agents["replication"] == replication]
    own = ["voice_a", "chat_a"]
    months = DAYS / 30.4
    model = billing["model"]
    if model == "fixed_monthly":
        return billing["amount"] * months
    if model == "per_handled_contact":
        units = float(((counted(calls)["outcome"] == "answered") & counted(calls)["call_type"].isin(own)).sum())
    elif model == "per_handle_minute":
        units = work_seconds(calls, own) / 60
    elif model == "per_productive_hour":
        units = work_seconds(calls, own) / 3600
    else:
        units = float(agents[agents["group"].isin(billing["groups"])]["logged_in_seconds"].sum()) / 3600
    if "minimum_volume" in billing:
        units = max(units, billing["minimum_volume"] * months)
    if "volume_cap" in billing:
        units = min(units, billing["volume_cap"] * months)
    return units * billing["rate"]


@pytest.mark.parametrize(
    "billing",
    [
        {"model": "per_handled_contact", "rate": 2.5},
        {"model": "per_handle_minute", "rate": 0.6},
        {"model": "per_productive_hour", "rate": 35},
        {"model": "per_fte_hour", "rate": 28, "groups": ["team_a", "shared"]},
        {"model": "fixed_monthly", "amount": 20000},
        {"model": "per_handled_contact", "rate": 2.5, "minimum_volume": 100000},  # far above: billed at the minimum
        {"model": "per_handle_minute", "rate": 0.6, "volume_cap": 10},  # far below: billed at the cap
    ],
)
def test_revenue_is_the_billed_units_of_the_tables_times_the_rate(billing):
    run = client_run()
    table, summary = priced(clients(billing_a=billing), run)
    rows = table[table["client"] == "a"]
    for replication in (0, 1):
        revenue = float(rows[rows["replication"] == replication]["revenue"].iloc[0])
        assert revenue == pytest.approx(expected_revenue(billing, run, replication), rel=1e-9)
    assert summary["by_client"]["a"]["revenue"] == pytest.approx(rows["revenue"].mean(), rel=1e-12)


def test_the_run_itself_bills_the_bank_by_its_team_hours_and_prints_it():
    run = client_run()
    rows = run.clients[run.clients["client"] == "b"]
    for replication in (0, 1):
        agents = run.agents[(run.agents["replication"] == replication) & (run.agents["group"] == "team_b")]
        hours = float(agents["logged_in_seconds"].sum()) / 3600
        assert float(rows[rows["replication"] == replication]["revenue"].iloc[0]) == pytest.approx(30 * hours)


# --- credits and bonuses ---------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    high=st.floats(0.0, 1.0),
    gap=st.floats(0.0, 0.5),
    share=st.floats(0.0, 1.0),
    at_least=st.floats(0.0, 1.0),
)
def test_a_day_owes_the_worst_tier_it_is_below_and_otherwise_may_earn_the_bonus(high, gap, share, at_least):
    low = max(0.0, high - gap)
    tiers = [{"below": high, "credit_share": share}] + ([{"below": low, "credit_amount": 70.0}] if low < high else [])
    clause = DAILY | {"tiers": tiers, "bonus": {"at_least": at_least, "share": 0.03}}
    run = client_run()
    table, summary = priced(clients(clauses_b=[clause]), run)
    for replication in (0, 1):
        calls = run.calls[run.calls["replication"] == replication]
        row = table[(table["client"] == "b") & (table["replication"] == replication)].iloc[0]
        day_revenue = row["revenue"] / DAYS
        credits = bonuses = 0.0
        for level in daily_levels(calls, "voice_b", 20):
            if math.isnan(level):
                continue
            if low < high and level < low:
                credits += 70.0
            elif level < high:
                credits += share * day_revenue
            elif level >= at_least:
                bonuses += 0.03 * day_revenue
        assert row["credits"] == pytest.approx(credits, rel=1e-9, abs=1e-9)
        assert row["bonuses"] == pytest.approx(bonuses, rel=1e-9, abs=1e-9)
        assert row["net_revenue"] == pytest.approx(row["revenue"] - credits + bonuses)


def test_a_credit_applies_exactly_below_the_tier_on_both_sides_of_a_measured_day():
    run = client_run()
    levels = np.concatenate([daily_levels(run.calls[run.calls["replication"] == r], "voice_b", 20) for r in (0, 1)])
    level = float(levels[0])
    assert 0 < level < 1  # a day with some calls answered late, so tiers can sit on either side of it
    at, above = (
        priced(clients(clauses_b=[DAILY | {"tiers": [{"below": below, "credit_amount": 1.0}]}]), run)[0]
        for below in (level, np.nextafter(level, 2.0))
    )
    first = (at["client"] == "b") & (at["replication"] == 0)
    others_at = sum(float(other) < level for other in levels[1:DAYS])
    others_above = sum(float(other) < np.nextafter(level, 2.0) for other in levels[1:DAYS])
    assert float(at[first]["credits"].iloc[0]) == others_at  # at the tier: not below it, no credit that day
    assert float(above[first]["credits"].iloc[0]) == 1 + others_above  # just above it: the day owes a credit


def test_p_trigger_is_the_share_of_days_credited_over_the_replications():
    run = client_run()
    levels = np.concatenate([daily_levels(run.calls[run.calls["replication"] == r], "voice_b", 20) for r in (0, 1)])
    clause = run.summary["clients"]["by_client"]["b"]["clauses"][0]
    measured = ~np.isnan(levels)
    assert clause["periods_total"] == int(measured.sum())
    assert clause["p_trigger"] == pytest.approx(float((levels[measured] < 0.8).mean()))
    assert clause["p_trigger_low"] <= clause["p_trigger"] <= clause["p_trigger_high"]
    assert run.summary["clients"]["by_client"]["b"]["p_penalty"] == clause["p_trigger"]


def test_a_monthly_clause_pools_the_month_rather_than_averaging_days():
    run = client_run()
    clause = DAILY | {"period": "month", "tiers": [{"below": 1.0, "credit_share": 0.5}]}
    table, _ = priced(clients(clauses_b=[clause]), run)
    calls = counted(run.calls[run.calls["replication"] == 0])
    own = calls[(calls["call_type"] == "voice_b") & (calls["path"] != "callback")]
    level = ((own["outcome"] == "answered") & (own["wait"] <= 20)).sum() / own["outcome"].isin(OFFERED).sum()
    row = table[(table["client"] == "b") & (table["replication"] == 0)].iloc[0]
    assert row["periods_measured"] == 1
    assert row["credits"] == pytest.approx(0.5 * row["revenue"] if level < 1.0 else 0.0)


# --- cost and margin -------------------------------------------------------------------------------------------


def expected_cost(calls: pd.DataFrame, costs: pd.DataFrame, own: list[str]) -> float:
    """A client's cost by hand: each group's pay (agents, overtime lines) by the client's share of that group's busy
    seconds, technology by its share of all busy seconds, plus its own call types' penalty lines."""
    everything = ["voice_a", "chat_a", "voice_b", "case_b", "voice_c"]
    overall = work_seconds(calls, own) / work_seconds(calls, everything)
    cost = float(costs[costs["item"].isin(own)]["amount"].sum())
    for line in costs.itertuples(index=False):
        if line.component in ("agents", "overtime"):
            in_group = calls[calls["group"] == line.item]
            pool = work_seconds(in_group, everything)
            cost += line.amount * (work_seconds(in_group, own) / pool if pool else overall)
        elif line.component == "technology":
            cost += line.amount * overall
    return cost


def test_cost_shares_each_groups_pay_by_its_busy_time_and_adds_each_clients_own_penalties():
    run = client_run()
    for replication in (0, 1):
        calls = run.calls[run.calls["replication"] == replication]
        costs = run.costs[run.costs["replication"] == replication]
        rows = run.clients[run.clients["replication"] == replication].set_index("client")
        for client, own in (("a", ["voice_a", "chat_a"]), ("b", ["voice_b", "case_b"])):
            cost = expected_cost(calls, costs, own)
            assert rows.loc[client, "cost"] == pytest.approx(cost)
            assert rows.loc[client, "margin"] == pytest.approx(rows.loc[client, "net_revenue"] - cost)
        unowned = expected_cost(calls, costs, ["voice_c"])
        assert rows["cost"].sum() + unowned == pytest.approx(float(costs["amount"].sum()))
    provider = run.summary["clients"]["provider"]
    assert provider["cost"] == pytest.approx(run.summary["total_cost"])
    assert provider["margin"] == pytest.approx(provider["net_revenue"] - provider["cost"])


def test_a_client_served_by_its_own_team_bears_that_teams_pay_whatever_the_others_earn():
    """Two clients, each served only by its own team, one team paid three times the other: each client's cost is its
    own team's pay (the wage gap is not averaged away by busy time)."""
    data = centre_data(clients())
    for group in data["agent_groups"]:
        group["skills"] = {"team_a": ["voice_a", "chat_a"], "team_b": ["voice_b", "case_b"]}.get(
            group["name"], ["voice_c"]
        )
    data["costs"]["groups"] = [
        {"group": "team_a", "per_paid_hour": 60},
        {"group": "team_b", "per_paid_hour": 20},
        {"group": "shared", "per_paid_hour": 20},
    ]
    data["costs"].pop("technology", None)
    run = simulate(Scenario.model_validate(data), seed=SEED)
    pay = run.costs[run.costs["component"].isin(["agents", "overtime"])].groupby("item", observed=True)["amount"].sum()
    penalties = run.costs[~run.costs["component"].isin(["agents", "overtime"])]
    rows = run.clients.set_index("client")
    for client, team, own in (("a", "team_a", ["voice_a", "chat_a"]), ("b", "team_b", ["voice_b", "case_b"])):
        own_penalties = float(penalties[penalties["item"].isin(own)]["amount"].sum())
        assert rows.loc[client, "cost"] == pytest.approx(float(pay[team]) + own_penalties)
    assert rows.loc["a", "cost"] > 2 * rows.loc["b", "cost"] - 1e-9


# --- nothing else changes --------------------------------------------------------------------------------------


def test_clients_change_no_other_table_nor_the_rest_of_the_summary():
    plain, priced_run = plain_run(), client_run()
    assert plain.clients.empty and list(plain.clients.columns) == [*contracts.COLUMNS, "replication"]
    assert "clients" not in plain.summary
    for name in Run.TABLES:
        if name != "clients":
            assert_frame_equal(getattr(plain, name), getattr(priced_run, name), check_exact=True, obj=name)
    rest = {key: value for key, value in priced_run.summary.items() if key != "clients"}
    assert json.dumps(jsonable(rest)) == json.dumps(jsonable(plain.summary))


def test_joined_replications_give_the_same_clients_as_one_run():
    whole = client_run()
    parts = [simulate_replication(whole.scenario, SEED, replication) for replication in (0, 1)]
    joined = Run.concat(parts)
    assert json.dumps(jsonable(joined.summary["clients"])) == json.dumps(jsonable(whole.summary["clients"]))
    alone = Run.concat(parts[:1])
    assert json.dumps(jsonable(alone.summary["clients"])) == json.dumps(jsonable(parts[0].summary["clients"]))


def test_sweep_rows_and_the_report_show_the_clients(tmp_path):
    run = simulate(client_run().scenario, seed=SEED, replications=1)
    row = kpi_row(run)
    for key in contracts.CELL_KPIS:
        assert row[f"client.b.{key}"] == pytest.approx(run.summary["clients"]["by_client"]["b"][key], nan_ok=True)
    page = run_report(run, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Clients and contracts" in page and "voice_b: 80% within 20 s per day" in page


# --- the command line ------------------------------------------------------------------------------------------


def test_bposim_run_prints_each_client_and_the_provider(tmp_path):
    path = tmp_path / "clients.yaml"
    path.write_text(
        yaml.safe_dump(centre_data(clients(clauses_b=[DAILY | {"tiers": [{"below": 0.8, "credit_amount": 5}]}])))
    )
    result = bposim("run", path, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for title in ("Client a", "Client b", "Provider (all clients)", "Clause voice_b: 80% within 20 s per day"):
        assert title in result.stdout
    saved = pd.read_csv(tmp_path / "out" / "clients.csv")
    assert list(saved["client"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("change", "pieces"),
    [
        (
            lambda c: c[0].update(call_types=["voice_a", "voice_x"]),
            ["clients[0].call_types[1]: unknown call type 'voice_x'; known: voice_a, chat_a"],
        ),
        (
            lambda c: c[1].update(call_types=["voice_b", "voice_a"]),
            ["clients[1].call_types[1]: call type 'voice_a' already belongs to client 'a'"],
        ),
        (
            lambda c: c[1]["contract"]["billing"].update(groups=["team_z"]),
            ["clients[1].contract.billing.groups[0]: unknown agent group 'team_z'"],
        ),
        (
            lambda c: c[0]["contract"].update(billing={"model": "per_fte_hour", "rate": 3}),
            ["clients[0].contract.billing", "per_fte_hour needs it"],
        ),
        (
            lambda c: c[1]["contract"].update(service_levels=[DAILY | {"call_types": ["voice_a"]}]),
            ["clients[1].contract.service_levels[0].call_types[0]: call type 'voice_a' is not the client's"],
        ),
        (
            lambda c: c[0]["contract"].update(billing={"model": "per_minute", "rate": 3}),
            ["clients[0].contract.billing.model"],
        ),
    ],
)
def test_bad_clients_are_refused_naming_the_file_and_the_field(tmp_path, change, pieces):
    given_clients = clients()
    change(given_clients)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(centre_data(given_clients)))
    assert_refused(bposim("validate", path), *pieces, source=path)


def test_a_monthly_clause_needs_dates():
    data = centre_data(clients(clauses_b=[DAILY | {"period": "month"}]))
    del data["horizon"]["start_date"]
    with pytest.raises(ScenarioError, match=r"clients\[1\]\.contract\.service_levels\[0\]\.period"):
        Scenario.model_validate(data)


def test_the_two_client_model_runs_and_prices_both_clients():
    result = bposim("run", ROOT / "models" / "bpo_two_clients.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["clients"]
    assert set(summary["by_client"]) == {"telecom", "bank"}
    assert summary["provider"]["revenue"] == pytest.approx(sum(own["revenue"] for own in summary["by_client"].values()))


def test_a_sweep_has_client_columns_whose_cell_means_are_the_replications_means(tmp_path):
    scenario = tmp_path / "clients.yaml"
    clauses = [DAILY | {"tiers": [{"below": 0.8, "credit_amount": 100}]}]
    scenario.write_text(yaml.safe_dump(centre_data(clients(clauses_b=clauses))))
    experiment = tmp_path / "team_b.yaml"
    experiment.write_text(
        "name: team_b\nmodel: clients.yaml\nreplications: 2\nseed: 3\nkeep: summary\n"
        "factors:\n  agent_groups.team_b.agents.count: [1, 4]\n"
    )
    result = bposim("sweep", experiment, "--workers", "1", "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    results = pd.read_parquet(tmp_path / "out" / "results.parquet")
    cells = pd.read_parquet(tmp_path / "out" / "cells.parquet")
    for key in contracts.CELL_KPIS:
        assert f"client.b.{key}" in results and f"client.b.{key}_ci" in cells
    means = results.groupby("cell")["client.b.p_penalty"].mean()
    assert cells.set_index("cell")["client.b.p_penalty"].to_numpy() == pytest.approx(means.to_numpy())
    few, more = cells.sort_values("agent_groups.team_b.agents.count")["client.b.p_penalty"]
    assert few > more  # four agents on b's queue owe fewer daily credits than one


@pytest.mark.parametrize("definition", ["answered", "offered_less_short_abandons"])
def test_a_clause_follows_the_scenarios_service_level_definition(definition):
    run = client_run()
    calls = counted(run.calls[run.calls["replication"] == 0])
    own = calls[(calls["call_type"] == "voice_b") & (calls["path"] != "callback")]
    answered = own["outcome"] == "answered"
    short = (own["outcome"] == "abandoned") & (own["wait"] <= 20)
    denominator = answered if definition == "answered" else own["outcome"].isin(OFFERED) & ~short
    within = (answered & (own["wait"] <= 20)).groupby(own["day"]).sum()
    levels = (within / denominator.groupby(own["day"]).sum()).to_numpy(dtype=float)
    below = float(np.sort(levels)[1])  # the middle day's level: the lowest day is below it, the others not
    clause = DAILY | {"tiers": [{"below": below, "credit_amount": 10.0}]}
    table, _ = priced(clients(clauses_b=[clause]), run, definition)
    row = table[(table["client"] == "b") & (table["replication"] == 0)].iloc[0]
    assert row["credits"] == 10.0 * int((levels < below).sum()) == 10.0


def test_a_clause_over_case_work_counts_items_done_by_their_due_time():
    run = client_run()
    clause = {"call_types": ["case_b"], "threshold_seconds": 0, "target": 0.9, "period": "day"}
    clause["tiers"] = [{"below": 1.0, "credit_amount": 1.0}]
    table, summary = priced(clients(clauses_b=[clause]), run)
    for replication in (0, 1):
        backlog = run.backlog[(run.backlog["replication"] == replication) & (run.backlog["call_type"] == "case_b")]
        due = backlog[backlog["due"] > 0]
        row = table[(table["client"] == "b") & (table["replication"] == replication)].iloc[0]
        assert len(due) and row["periods_measured"] == len(due)
        assert row["credits"] == float((due["met_due"] < due["due"]).sum())
