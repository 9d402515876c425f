"""The capacity plan's margin: revenue, credits and bonuses redone from the plan's own tables for each billing model,
a clause judged on the plan's own service level (a week, a day, a month pooled over its weeks), margin = revenue −
credits + bonuses − cost week by week and by month, a plan nobody pays costed only, and bad pricing refused."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from openpyxl import load_workbook
from test_capacity_plan import DAY, plan_of

from bposim.capacity import compare_plans, plan_capacity
from bposim.contracts import period_owed
from bposim.scenario import Scenario, ScenarioError
from bposim.scenario.capacity import load_plan, plan_errors
from bposim.scenario.clients import DAYS_PER_MONTH, ServiceLevelClause

PLAN = ROOT / "models" / "plans" / "capacity_plan.yaml"
WEEK = 7 / DAYS_PER_MONTH
BILLINGS = [
    {"model": "per_handled_contact", "rate": 3.5},
    {"model": "per_handle_minute", "rate": 0.7},
    {"model": "per_productive_hour", "rate": 40.0},
    {"model": "per_fte_hour", "rate": 25.0, "groups": ["team"]},
    {"model": "fixed_monthly", "amount": 90000.0},
    {"model": "per_handled_contact", "rate": 3.5, "minimum_volume": 1e6},  # far above: billed at the minimum
    {"model": "per_handle_minute", "rate": 0.7, "volume_cap": 100.0},  # far below: billed at the cap
]


def day_with_client(clauses: list[dict], billing: dict | None = None) -> Scenario:
    """The test day on a date, its voice owned by one client with `clauses`."""
    data = copy.deepcopy(DAY)
    data["horizon"]["start_date"] = "2027-04-05"
    contract = {"billing": billing or {"model": "per_handled_contact", "rate": 3.0}, "service_levels": clauses}
    data["clients"] = [{"name": "client", "call_types": ["voice"], "contract": contract}]
    return Scenario.model_validate(data)


def tight(**changes):
    """A plan staffed near the day's requirement (about 4.4 FTE), so the service level crosses 80% both ways."""
    hiring = [{"group": "team", "size": 2, "start_date": "2027-05-03", "training_weeks": 2}]
    team = [{"group": "team", "bands": [{"tenure_weeks": 60, "agents": 5}]}]
    return plan_of(**({"headcount": team, "hiring_classes": hiring, "volume": {"cv": 0.1}} | changes))


def clause(period: str, **more) -> dict:
    return {"threshold_seconds": 20, "target": 0.8, "period": period} | more


def expected_units(billing: dict, accounts: pd.DataFrame, replications: pd.DataFrame, plan) -> np.ndarray:
    """Each week's billed units, by hand from the accounts' handled contacts and work hours and the headcount."""
    model = billing["model"]
    if model == "fixed_monthly":
        return np.full(len(accounts), WEEK)
    if model == "per_handled_contact":
        units = accounts["handled"].to_numpy()
    elif model == "per_handle_minute":
        units = accounts["work_hours"].to_numpy() * 60
    elif model == "per_productive_hour":
        units = accounts["work_hours"].to_numpy()
    else:
        out_of_training = replications["nesting"] + replications["tenured"]
        units = (out_of_training * plan.paid_hours_per_week).to_numpy(dtype=float)
    if "minimum_volume" in billing:
        units = np.maximum(units, billing["minimum_volume"] * WEEK)
    if "volume_cap" in billing:
        units = np.minimum(units, billing["volume_cap"] * WEEK)
    return units


@pytest.mark.parametrize("billing", BILLINGS, ids=lambda billing: billing["model"] + str(len(billing)))
def test_revenue_and_margin_recompute_from_the_plans_tables(billing):
    plan = plan_of(revenue=billing)
    result = plan_capacity(plan, Scenario.model_validate(DAY), replications=2, seed=3)
    accounts, rows = result.accounts, result.replications
    assert list(accounts["client"].unique()) == ["revenue"] and len(accounts) == len(rows)  # one group, one account
    price = billing.get("rate", billing.get("amount"))
    units = expected_units(billing, accounts, rows, plan)
    assert np.allclose(accounts["billed_units"], units) and np.allclose(accounts["revenue"], units * price)
    # the handled contacts are the week's offered calls less those abandoning: a little below the calls offered
    offered = rows["calls"].to_numpy() * plan.open_days_per_week  # hourly rates over hour-long intervals
    assert (accounts["handled"].to_numpy() <= offered + 1e-9).all()
    assert (accounts["handled"].to_numpy() >= 0.8 * offered).all()
    assert np.allclose(accounts["work_hours"], accounts["handled"] * 240 / 3600)
    # margin per week: revenue − credits + bonuses − the plan's cost, means over replications
    by_week = accounts.groupby("week")[["revenue", "credits", "bonuses"]].sum() / 2
    cost = rows.groupby("week")["cost"].sum() / 2
    margin = result.margin.set_index("week")
    assert np.allclose(margin["revenue"], by_week["revenue"]) and np.allclose(margin["cost"], cost)
    assert np.allclose(margin["margin"], by_week["revenue"] - by_week["credits"] + by_week["bonuses"] - cost)
    assert (margin["margin_low"] <= margin["margin_high"]).all()
    months = result.months.set_index("month")
    in_month = result.margin.assign(month=result.margin["week_start"].str[:7]).groupby("month")["margin"].sum()
    assert np.allclose(months["margin"], in_month)
    assert result.totals["margin"] == pytest.approx(margin["margin"].sum())
    assert result.totals["revenue"] == pytest.approx(accounts["revenue"].sum() / 2)


def test_a_week_clause_judges_the_plans_own_week_service_level():
    """At the scenario's threshold a week clause's level is the week's service level of the plan; the credit is
    owed exactly below the tier, as a share of the week's revenue."""
    tiers = [{"below": 0.85, "credit_share": 0.05}, {"below": 0.7, "credit_amount": 500.0}]
    scenario = day_with_client([clause("week", tiers=tiers, bonus={"at_least": 0.95, "share": 0.01})])
    result = plan_capacity(tight(), scenario, replications=3, seed=2)
    judged = result.clauses.merge(
        result.replications[["replication", "week_start", "service_level"]],
        left_on=["replication", "period_start"],
        right_on=["replication", "week_start"],
    )
    assert len(judged) == len(result.replications)
    assert np.allclose(judged["level"], judged["service_level"])
    assert (judged["periods_credited"] == (judged["level"] < 0.85)).all()
    rule = ServiceLevelClause.model_validate(clause("week", tiers=tiers, bonus={"at_least": 0.95, "share": 0.01}))
    for row in judged.itertuples():
        credit, bonus = period_owed(rule, row.level, row.revenue)
        assert (row.credits, row.bonuses) == pytest.approx((credit, bonus))
    assert judged["credits"].gt(0).any() and judged["credits"].eq(0).any()  # the tier is crossed both ways
    per_week = result.accounts.set_index(["replication", "week_start"])
    joined = judged.set_index(["replication", "period_start"])
    assert np.allclose(per_week.loc[joined.index, "credits"], joined["credits"])


def test_a_day_clause_judges_each_open_day_and_a_month_clause_pools_its_weeks():
    """Under Erlang every open day of a week is alike: a day clause owes the day's credit on each open day; a month
    clause's level is the month's service level pooled over its weeks, and its credit shared over them."""
    share = [{"below": 0.88, "credit_share": 0.1}]
    scenario = day_with_client([clause("day", tiers=share), clause("month", tiers=share)])
    plan = tight(weeks=9, open_days_per_week=5)
    result = plan_capacity(plan, scenario, replications=2, seed=7)
    clauses, rows, accounts = result.clauses, result.replications, result.accounts
    days = clauses[clauses["clause"] == 0].merge(
        rows, left_on=["replication", "period_start"], right_on=["replication", "week_start"]
    )
    assert np.allclose(days["level"], days["service_level"]) and (days["periods"] == 5).all()
    owed = np.where(days["service_level"] < 0.88, 0.1 * days["revenue"], 0.0)  # 10% of a day's revenue, each day
    assert np.allclose(days["credits"], owed)
    months = clauses[clauses["clause"] == 1]
    pooled = rows.assign(month=rows["week_start"].str[:7]).groupby(["replication", "month"])[["calls", "within"]].sum()
    levels = (pooled["within"] / pooled["calls"]).to_numpy()
    assert np.allclose(months["level"], levels) and len(months) == len(pooled)
    revenue = accounts.assign(month=accounts["week_start"].str[:7]).groupby(["replication", "month"])["revenue"].sum()
    assert np.allclose(months["revenue"], revenue.to_numpy())
    assert np.allclose(months["credits"], np.where(levels < 0.88, 0.1 * revenue.to_numpy(), 0.0))
    # every credit is booked in some week: the weeks' credits sum to the clauses'
    assert accounts["credits"].sum() == pytest.approx(clauses["credits"].sum())
    assert clauses["credits"].gt(0).any()


def test_a_plan_nobody_pays_is_costed_only():
    result = plan_capacity(plan_of(), Scenario.model_validate(DAY), replications=1, seed=0)
    assert not result.priced and result.accounts.empty and result.clauses.empty
    assert result.margin["revenue"].isna().all() and result.margin["margin"].isna().all()
    assert result.margin["cost"].notna().all() and math.isnan(result.totals["margin"])
    no_contract = copy.deepcopy(DAY) | {"clients": [{"name": "client", "call_types": ["voice"]}]}
    assert not plan_capacity(plan_of(), Scenario.model_validate(no_contract), replications=1, seed=0).priced
    priced = plan_capacity(
        plan_of(revenue={"model": "per_handled_contact", "rate": 1.0}),
        Scenario.model_validate(no_contract),
        replications=1,
        seed=0,
    )
    assert priced.priced  # a client without a contract leaves the plan's revenue to price it


def test_the_simulated_week_prices_its_simulated_days():
    scenario = day_with_client([clause("day", tiers=[{"below": 0.8, "credit_amount": 100.0}])])
    plan = tight(weeks=3, service_level="simulation", simulated_days=2)
    result = plan_capacity(plan, scenario, replications=1, seed=2)
    accounts, clauses = result.accounts, result.clauses
    assert np.allclose(accounts["revenue"], 3.0 * accounts["handled"])
    assert (accounts["handled"] > 0).all() and clauses["level"].between(0, 1).all()
    # a day credit is 100 on each open day, the open days credited in the share of the simulated days below 80%
    assert set(clauses["periods_credited"]) <= {0.0, 2.5, 5.0}
    assert np.allclose(clauses["credits"], 100 * clauses["periods_credited"])
    again = plan_capacity(plan, scenario, replications=1, seed=2)
    pd.testing.assert_frame_equal(again.accounts, accounts)


def test_what_ifs_compare_margin_and_the_command_writes_it(tmp_path):
    plan, scenario = load_plan(PLAN)
    short = plan.model_copy(update={"weeks": 10, "volume": plan.volume.model_copy(update={"factors": {}})})
    options = {
        name: option.model_copy(update={"weeks": 10, "volume": short.volume})
        for name, option in short.options().items()
    }
    compared, results = compare_plans(options, scenario, replications=2, seed=1)
    for row in compared.itertuples():
        assert row.margin == pytest.approx(row.revenue - row.credits + row.bonuses - row.cost)
        assert row.margin == pytest.approx(results[row.option].margin["margin"].sum())
    out, book = tmp_path / "out", tmp_path / "plan.xlsx"
    done = bposim("plan", PLAN, "--replications", 2, "--out", out, "--report", tmp_path / "plan.html", "--xlsx", book)
    assert done.returncode == 0, done.stderr
    assert "Margin" in done.stdout and "margin" in done.stdout
    margin, accounts = pd.read_csv(out / "margin.csv"), pd.read_csv(out / "accounts.csv")
    replications = pd.read_csv(out / "replications.csv")
    revenue = accounts.groupby("week")["revenue"].sum() / 2
    assert np.allclose(margin["revenue"], revenue)
    assert np.allclose(margin["cost"], replications.groupby("week")["cost"].sum() / 2)
    assert {"revenue", "credits", "bonuses", "margin"} <= set(pd.read_csv(out / "options.csv").columns)
    assert {"revenue", "credits", "cost", "margin"} <= set(pd.read_csv(out / "months.csv").columns)
    assert {"Weeks", "Margin", "Months", "Accounts", "Clauses", "Options"} <= set(load_workbook(book).sheetnames)
    page = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "Margin by week" in page and "P(every month meets) against margin" in page


def test_bad_pricing_is_refused_naming_the_field(tmp_path):
    scenario = day_with_client([])
    plan = plan_of(revenue={"model": "per_handled_contact", "rate": 1.0})
    assert any(
        problem.startswith("revenue: the scenario's clients have contracts") for problem in plan_errors(plan, scenario)
    )
    wrong = plan_of(revenue={"model": "per_fte_hour", "rate": 1.0, "groups": ["tem"]})
    assert plan_errors(wrong, Scenario.model_validate(DAY)) == [
        "revenue.groups[0]: unknown agent group 'tem'; known: team"
    ]
    (tmp_path / "plans").mkdir()
    (tmp_path / "capacity_day.yaml").write_text((ROOT / "models" / "capacity_day.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "plans" / "plan.yaml"
    path.write_text(PLAN.read_text(encoding="utf-8") + "revenue: {model: per_handled_contact}\n", encoding="utf-8")
    with pytest.raises(ScenarioError):
        load_plan(path)
    assert_refused(bposim("plan", path), "revenue: per_handled_contact needs rate", source=path)


def test_a_bad_workbook_path_is_refused_before_the_plan_is_played(tmp_path):
    assert_refused(bposim("plan", PLAN, "--xlsx", tmp_path / "plan.txt"), "--xlsx:", "ends in .xlsx")
    assert_refused(bposim("plan", PLAN, "--xlsx", tmp_path / "nowhere" / "plan.xlsx"), "--xlsx:", "does not exist")


def test_the_command_costs_a_plan_nobody_pays_without_margin_columns(tmp_path):
    (tmp_path / "day.yaml").write_text(yaml.safe_dump(DAY), encoding="utf-8")
    plan = plan_of(weeks=4).model_dump(mode="json", exclude={"what_ifs", "revenue"})
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    done = bposim("plan", tmp_path / "plan.yaml", "--replications", 1, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "Margin" not in done.stdout and "revenue" not in done.stdout
    margin = pd.read_csv(tmp_path / "out" / "margin.csv")
    assert margin["margin"].isna().all() and margin["cost"].gt(0).all()
    assert not (tmp_path / "out" / "accounts.csv").exists()
    priced = plan | {"revenue": {"model": "fixed_monthly", "amount": 30400}}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(priced), encoding="utf-8")
    done = bposim("plan", tmp_path / "plan.yaml", "--replications", 1, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    accounts = pd.read_csv(tmp_path / "out" / "accounts.csv")
    assert np.allclose(accounts["revenue"], 30400 * 7 / 30.4)  # a month's fee, a week at a time
    assert "Margin" in done.stdout


def test_callers_who_wait_for_ever_are_handled_no_faster_than_the_agents_work():
    """Without patience nobody abandons, but an understaffed week's agents answer no more than they can handle:
    the work billed never exceeds the week's staffed agent hours, and with too few agents it fills them."""
    from bposim.capacity import service

    data = copy.deepcopy(DAY)
    del data["call_types"][0]["patience"]
    scenario = Scenario.model_validate(data)
    team = [{"group": "team", "bands": [{"tenure_weeks": 60, "agents": 3}]}]
    plan = plan_of(weeks=2, hiring_classes=[], headcount=team, revenue={"model": "per_handled_contact", "rate": 1})
    result = plan_capacity(plan, scenario, replications=1, seed=0)
    load = service.group_loads(scenario)["team"]
    for week in result.replications.itertuples():
        required = service.required_per_interval(load, week.factor)
        hours = service.staffing(required, week.available_fte, week.required_fte).sum() * plan.open_days_per_week
        worked = result.accounts.loc[result.accounts["week"] == week.week, "work_hours"].item()
        assert worked == pytest.approx(hours)  # every agent busy all day: the queue never empties
        assert result.accounts.loc[result.accounts["week"] == week.week, "handled"].item() < week.calls * 5
