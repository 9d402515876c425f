"""The provider's view changes nothing it should not: one client without a contract and one site on every group give
the tables and summary of today (same seed) on several bundled models; each billing model's revenue and credits
are redone from the run's tables; a credit is owed exactly when a period's pooled service level is below its tier.

A site outage leaves that site's agents idle through it and only them (tests/test_sites.py checks the calls it
cuts off, at random times); the capacity plan's headcount conservation over random plans is
tests/test_capacity_plan.py's."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_contracts import DAYS, OFFERED, client_run, clients, counted, expected_revenue, priced
from test_sites import centre

from bposim import load_scenario, simulate
from bposim.run import Run, jsonable
from bposim.scenario import Scenario

MODELS = ["helpdesk", "bpo_multiskill", "sales_service", "two_tier_support", "inbound_outbound_blend", "weekly_bpo"]
SEED = 4


def one_client_one_site(scenario: Scenario) -> Scenario:
    """The scenario with one client owning every call type, without a contract, and every group on one site."""
    data = scenario.model_dump(mode="python", exclude_none=True)
    data["clients"] = [{"name": "everyone", "call_types": [ct["name"] for ct in data["call_types"]]}]
    data["sites"] = [{"name": "the site"}]
    for group in data["agent_groups"]:
        group["site"] = "the site"
    return Scenario.model_validate(data)


@pytest.mark.parametrize("model", MODELS)
def test_one_client_and_one_site_without_a_contract_change_nothing(model):
    today = load_scenario(ROOT / "models" / f"{model}.yaml")
    provider = one_client_one_site(today)
    before, after = simulate(today, seed=SEED, replications=2), simulate(provider, seed=SEED, replications=2)
    for name in Run.TABLES:
        if name not in ("clients", "sites"):  # the tables of clients and sites, and any site label, are the added parts
            mine, theirs = (getattr(run, name).drop(columns="site", errors="ignore") for run in (before, after))
            pd.testing.assert_frame_equal(mine, theirs, check_exact=True, obj=name)
    assert set(after.summary) - set(before.summary) == {"clients", "sites"}
    for key, value in before.summary.items():
        assert json.dumps(jsonable(after.summary[key]), sort_keys=True) == json.dumps(jsonable(value), sort_keys=True)
    # the client is the whole centre: all the work, revenue 0 without a contract, the run's whole cost
    assert before.clients.empty and list(after.clients["billing"].unique()) == ["none"]
    assert (after.clients["revenue"] == 0).all() and (after.clients["credits"] == 0).all()
    assert np.allclose(after.clients["busy_share"], 1.0)
    everyone = after.summary["clients"]["by_client"]["everyone"]
    if today.costs is not None:
        assert everyone["cost"] == pytest.approx(before.summary["total_cost"])
        assert everyone["margin"] == pytest.approx(-before.summary["total_cost"])
    assert list(after.summary["sites"]) == ["the site"]


BILLINGS = [
    {"model": "per_handled_contact", "rate": 2.5},
    {"model": "per_handle_minute", "rate": 0.6},
    {"model": "per_productive_hour", "rate": 35},
    {"model": "per_fte_hour", "rate": 28, "groups": ["team_a", "shared"]},
    {"model": "fixed_monthly", "amount": 20000},
]


def levels_by_hand(calls: pd.DataFrame, call_type: str, threshold: float, period: str) -> list[float]:
    """The pooled service level of each day (or of the whole horizon: its one week and one month), by hand."""
    own = counted(calls)
    own = own[(own["call_type"] == call_type) & (own["path"] != "callback")]
    offered = own["outcome"].isin(OFFERED)
    quick = (own["outcome"] == "answered") & (own["wait"] <= threshold)
    if period != "day":
        return [quick.sum() / offered.sum()]
    return [quick[own["day"] == day].sum() / offered[own["day"] == day].sum() for day in range(DAYS)]


@pytest.mark.parametrize("billing", BILLINGS, ids=lambda billing: billing["model"])
def test_each_billing_models_revenue_and_credits_redo_from_the_tables(billing):
    """A daily clause on client a's voice: revenue is the billed units × rate, and each day below a tier owes its
    share of that day's revenue (the revenue over the horizon's days) or its amount, by hand from the calls."""
    tiers = [{"below": 0.9, "credit_share": 0.04}, {"below": 0.6, "credit_amount": 45.0}]
    clause = {"call_types": ["voice_a"], "threshold_seconds": 20, "target": 0.9, "period": "day", "tiers": tiers}
    listed = clients(billing_a=billing)
    listed[0]["contract"]["service_levels"] = [clause]
    run = client_run()
    table, _ = priced(listed, run)
    for replication in (0, 1):
        row = table[(table["client"] == "a") & (table["replication"] == replication)].iloc[0]
        revenue = expected_revenue(billing, run, replication)
        assert row["revenue"] == pytest.approx(revenue, rel=1e-9)
        credits = 0.0
        for level in levels_by_hand(run.calls[run.calls["replication"] == replication], "voice_a", 20, "day"):
            if level < 0.6:
                credits += 45.0
            elif level < 0.9:
                credits += 0.04 * revenue / DAYS
        assert row["credits"] == pytest.approx(credits, rel=1e-9, abs=1e-9)
        assert row["net_revenue"] == pytest.approx(revenue - credits)


@settings(max_examples=30, deadline=None)
@given(below=st.floats(0.0, 1.0), period=st.sampled_from(["day", "week", "month"]), amount=st.floats(1.0, 500.0))
def test_a_credit_is_owed_exactly_when_the_periods_pooled_level_is_below_the_tier(below, period, amount):
    """Three weekdays of one week and one month: a day clause judges each day, a week or month clause the three days
    pooled (not the mean of the days); a period owes the credit iff its level is strictly below the tier."""
    clause = {"call_types": ["voice_b"], "threshold_seconds": 20, "target": 0.8, "period": period}
    clause["tiers"] = [{"below": below, "credit_amount": amount}]
    run = client_run()
    table, summary = priced(clients(clauses_b=[clause]), run)
    owed = []
    for replication in (0, 1):
        levels = levels_by_hand(run.calls[run.calls["replication"] == replication], "voice_b", 20, period)
        below_tier = [level < below for level in levels if not math.isnan(level)]
        row = table[(table["client"] == "b") & (table["replication"] == replication)].iloc[0]
        assert row["periods_measured"] == len(below_tier)
        assert row["periods_credited"] == sum(below_tier)
        assert row["credits"] == pytest.approx(amount * sum(below_tier))
        owed += below_tier
    assert summary["by_client"]["b"]["p_penalty"] == pytest.approx(np.mean(owed))


def test_a_site_outage_idles_that_sites_agents_and_only_theirs():
    """Manila's power is out 09:00-10:00 (intervals 2 and 3 of 30 minutes from 08:00): its agents are busy with
    nothing through those intervals (the calls in progress at 09:00 cut off), Lisbon's keep working, and both are
    busy before and after."""
    outage = {"name": "power", "start": "09:00", "minutes": 60}
    run = simulate(Scenario.model_validate(centre(manila={"outages": [outage]})), seed=3)
    busy = run.staffing.pivot_table(index="interval", columns="group", values="busy", aggfunc="sum")
    assert np.allclose(busy.loc[[2, 3], "offshore"], 0.0, atol=1e-9)
    assert (busy.loc[[2, 3], "onshore"] > 1).all()
    assert (busy.loc[[0, 1, 4, 5], "offshore"] > 1).all()
    plain = simulate(Scenario.model_validate(centre()), seed=3)  # the negative control: no outage, no idle hour
    assert (plain.staffing.pivot_table(index="interval", columns="group", values="busy").loc[[2, 3]] > 1).all().all()
