"""`bposim plan`: headcount conserved week by week, classes off the phones while training, attrition recovered,
the same seed the same plan, what-ifs under common random numbers, and bad plans refused naming the field."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim.capacity import compare_plans, plan_capacity, what_if, workforce
from bposim.scenario import Scenario, ScenarioError
from bposim.scenario.capacity import CapacityPlan, load_plan

PLAN = ROOT / "models" / "plans" / "capacity_plan.yaml"
DAY = {
    "name": "day",
    "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 60},
    "service_level": {"threshold_seconds": 20, "target": 0.8},
    "call_types": [
        {
            "name": "voice",
            "arrivals": {"per_interval": [60, 120, 120, 80]},
            "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            "patience": {"distribution": "exponential", "mean_seconds": 120},
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["voice"], "agents": 8}],
    "costs": {"groups": [{"group": "team", "per_paid_hour": 20.0}]},
}
START = datetime.date(2027, 4, 5)


def plan_of(**changes) -> CapacityPlan:
    data = {
        "scenario": "day.yaml",
        "start_date": START,
        "weeks": 12,
        "headcount": [
            {"group": "team", "bands": [{"tenure_weeks": 60, "agents": 20}, {"tenure_weeks": 3, "agents": 4}]}
        ],
        "hiring_classes": [
            {
                "group": "team",
                "size": 8,
                "start_date": "2027-04-19",
                "training_weeks": 3,
                "nesting_weeks": 2,
                "nesting_proficiency": [0.5, 0.8],
                "graduation_rate": 0.75,
            }
        ],
        "attrition": [
            {"tenure_weeks": [0, 12], "weekly_probability": 0.03},
            {"tenure_weeks": [12, None], "weekly_probability": 0.01},
        ],
    }
    return CapacityPlan.model_validate(data | changes)


@settings(max_examples=30, deadline=None)
@given(
    size=st.integers(1, 30),
    training=st.integers(0, 6),
    graduation=st.floats(0, 1),
    early=st.floats(0, 0.5),
    late=st.floats(0, 0.2),
    seed=st.integers(0, 2**16),
)
def test_headcount_is_conserved_every_week(size, training, graduation, early, late, seed):
    """start + hires − attrition − washouts = end, per replication and week; next week starts at this week's end."""
    plan = plan_of(
        hiring_classes=[
            {
                "group": "team",
                "size": size,
                "start_date": "2027-04-12",
                "training_weeks": training,
                "graduation_rate": graduation,
            }
        ],
        attrition=[
            {"tenure_weeks": [0, 8], "weekly_probability": early},
            {"tenure_weeks": [8, None], "weekly_probability": late},
        ],
    )
    for replication in range(2):
        table = workforce.headcount(plan, seed, replication)
        assert (table["start"] + table["hires"] - table["attrition"] - table["washouts"] == table["end"]).all()
        assert (table["start"].iloc[1:].to_numpy() == table["end"].iloc[:-1].to_numpy()).all()
        assert table["hires"].sum() == size and table["start"].iloc[0] == 24
        assert (table[["end", "attrition", "washouts"]] >= 0).all().all()
        assert (table["training"] + table["nesting"] + table["tenured"] == table["start"] + table["hires"]).all()


def test_a_class_in_training_adds_no_fte_until_it_graduates():
    """Under common random numbers, the plan with a class has the same FTE on the phones as the plan without it
    during the class's training weeks, and more once it nests; its agents are paid all along."""
    scenario = Scenario.model_validate(DAY)
    with_class = plan_capacity(plan_of(), scenario, replications=2, seed=4).replications
    without = plan_capacity(plan_of(hiring_classes=[]), scenario, replications=2, seed=4).replications
    joined, training_weeks = 2, 3
    training = with_class["week"].between(joined, joined + training_weeks - 1)
    after = with_class["week"] >= joined + training_weeks
    assert np.allclose(with_class.loc[training, "available_fte"], without.loc[training, "available_fte"])
    assert (with_class.loc[training, "paid_hours"] > without.loc[training, "paid_hours"]).all()
    graduated = with_class.loc[after, "start"] > without.loc[after, "start"]
    assert graduated.any()
    assert (with_class.loc[after & graduated, "available_fte"] > without.loc[after & graduated, "available_fte"]).all()
    assert (with_class.loc[training, "training"] > 0).all() and (with_class.loc[after, "training"] == 0).all()
    assert (with_class["available_fte"] >= without["available_fte"] - 1e-9).all()  # a class never takes FTE away


def test_week_factors_follow_the_trend_the_dated_factors_and_the_cv():
    from bposim.capacity import week_factors

    plan = plan_of(weeks=10, volume={"weekly_trend": 0.02, "factors": {"2027-04-21": 1.5}})
    expected = 1.02 ** np.arange(10)
    expected[2] *= 1.5
    assert np.allclose(week_factors(plan, 0, 0), expected)
    noisy = plan_of(weeks=200, volume={"cv": 0.1})
    draws = np.concatenate([week_factors(noisy, 0, r) for r in range(5)])
    assert abs(draws.mean() - 1) < 4 * 0.1 / np.sqrt(draws.size) and abs(draws.std() - 0.1) < 0.015
    assert not np.allclose(week_factors(noisy, 0, 0), week_factors(noisy, 0, 1))


def test_nesting_ramps_from_first_to_last_proficiency():
    plan = plan_of(attrition=[], headcount=[{"group": "team", "bands": [{"tenure_weeks": 60, "agents": 0}]}])
    plan = plan.model_copy(
        update={"hiring_classes": [plan.hiring_classes[0].model_copy(update={"graduation_rate": 1.0})]}
    )
    table = workforce.headcount(plan, 0, 0).set_index("week")
    assert list(table.loc[[2, 3, 4], "productive"]) == [0, 0, 0]
    assert table.loc[5, "productive"] == pytest.approx(8 * 0.5) and table.loc[6, "productive"] == pytest.approx(8 * 0.8)
    assert table.loc[7, "productive"] == pytest.approx(8.0)


def test_the_attrition_rate_is_recovered_from_a_long_run():
    """One band at 3% a week over 104 weeks and 500 agents: leavers over agent-weeks present is 3% within 4
    standard errors."""
    plan = plan_of(
        weeks=104,
        headcount=[{"group": "team", "bands": [{"tenure_weeks": 0, "agents": 500}]}],
        hiring_classes=[],
        attrition=[{"tenure_weeks": [0, None], "weekly_probability": 0.03}],
    )
    table = workforce.headcount(plan, 11, 0)
    exposure = table["start"].sum()
    rate = table["attrition"].sum() / exposure
    assert abs(rate - 0.03) < 4 * np.sqrt(0.03 * 0.97 / exposure)


def test_washouts_follow_the_graduation_rate():
    plan = plan_of(
        attrition=[],
        hiring_classes=[
            {"group": "team", "size": 1000, "start_date": "2027-04-12", "training_weeks": 2, "graduation_rate": 0.7}
        ],
    )
    table = workforce.headcount(plan, 5, 0)
    assert table.loc[table["week"] == 2, "washouts"].item() == pytest.approx(300, abs=4 * np.sqrt(1000 * 0.21))
    assert table.loc[table["week"] != 2, "washouts"].sum() == 0


def test_the_same_seed_gives_the_same_plan_and_another_seed_another():
    scenario = Scenario.model_validate(DAY)
    first = plan_capacity(plan_of(), scenario, replications=2, seed=9)
    again = plan_capacity(plan_of(), scenario, replications=2, seed=9)
    other = plan_capacity(plan_of(), scenario, replications=2, seed=10)
    pd.testing.assert_frame_equal(first.replications, again.replications)
    pd.testing.assert_frame_equal(first.weekly, again.weekly)
    assert not first.replications["end"].equals(other.replications["end"])
    replications = first.replications
    assert (
        not replications.loc[replications["replication"] == 0, "end"]
        .reset_index(drop=True)
        .equals(replications.loc[replications["replication"] == 1, "end"].reset_index(drop=True))
    )


def test_cost_is_paid_hours_times_the_wage_and_more_fte_serves_better():
    scenario = Scenario.model_validate(DAY)
    result = plan_capacity(plan_of(), scenario, replications=2, seed=1).replications
    present = result["start"] + result["hires"]
    assert np.allclose(result["cost"], present * 37.5 * 20.0)
    ordered = result.sort_values("available_fte")
    assert ordered["service_level"].iloc[0] <= ordered["service_level"].iloc[-1]
    assert (result["gap_fte"] == result["available_fte"] - result["required_fte"]).all()


def test_what_ifs_share_the_starting_agents_random_numbers():
    """Two hiring options: the starting cohorts leave alike in every replication (common random numbers)."""
    scenario = Scenario.model_validate(DAY)
    later = what_if(plan_of(), [datetime.date(2027, 5, 10)], [12])
    compared, results = compare_plans({"plan": plan_of(), "later": later}, scenario, replications=2, seed=3)
    assert list(compared["option"]) == ["plan", "later"]
    base, other = results["plan"].replications, results["later"].replications
    before = base["week"] < 2  # neither class has joined
    pd.testing.assert_series_equal(base.loc[before, "end"], other.loc[before, "end"])
    assert compared.loc[1, "cost"] != compared.loc[0, "cost"]


def test_the_plans_what_ifs_are_played_beside_it():
    """The shipped plan's what_ifs become options with their own classes; a bad what-if names its field."""
    plan, _ = load_plan(PLAN)
    options = plan.options()
    assert list(options) == ["plan", *(option.name for option in plan.what_ifs)]
    assert options["one class"].hiring_classes == plan.what_ifs[1].hiring_classes
    assert options["plan"].hiring_classes == plan.hiring_classes


def test_simulated_days_give_the_week_service_level():
    scenario = Scenario.model_validate(DAY)
    plan = plan_of(weeks=3, service_level="simulation")
    result = plan_capacity(plan, scenario, replications=1, seed=2)
    assert result.replications["service_level"].between(0, 1).all()
    assert (result.replications["calls"] > 0).all()
    assert plan_capacity(plan, scenario, replications=1, seed=2).replications.equals(result.replications)


def test_the_shipped_plan_loads_and_the_command_writes_its_tables_and_report(tmp_path):
    plan, scenario = load_plan(PLAN)
    assert plan.weeks == 26 and len(plan.hiring_classes) == 2 and scenario.name
    short = tmp_path / "plan.yaml"
    text = PLAN.read_text(encoding="utf-8").split("what_ifs:")[0].replace("weeks: 26", "weeks: 8")
    short.write_text(text.replace("../capacity_day.yaml", str(ROOT / "models" / "capacity_day.yaml")), encoding="utf-8")
    short.write_text(
        short.read_text(encoding="utf-8").replace("2027-07-05", "2027-05-17").replace("2027-07-12", "2027-05-24")
    )
    result = bposim(
        "plan",
        short,
        "--replications",
        2,
        "--out",
        tmp_path / "out",
        "--report",
        tmp_path / "plan.html",
        "--class-start",
        "2027-04-12,2027-05-03",
        "--class-size",
        "6,6",
    )
    assert result.returncode == 0, result.stderr
    weeks = pd.read_csv(tmp_path / "out" / "weeks.csv")
    assert len(weeks) == 8 and {"available_fte", "required_fte", "p_meets", "cost"} <= set(weeks.columns)
    options = pd.read_csv(tmp_path / "out" / "options.csv")
    assert list(options["option"]) == ["plan", "what-if"] and "6 team 2027-04-12" in options.loc[1, "classes"]
    assert "P(every month meets)" in (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "what-if" in result.stdout


def bad_plan(tmp_path, old: str, new: str):
    """The shipped plan with `old` replaced by `new`, beside a copy of its scenario."""
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "capacity_day.yaml").write_text((ROOT / "models" / "capacity_day.yaml").read_text(encoding="utf-8"))
    text = PLAN.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "plans" / "plan.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "pieces"),
    [
        ("weeks: 26", "weeks: 0", ["weeks:", "greater than or equal to 1"]),
        ("weekly_probability: 0.02", "weekly_probability: 1.5", ["attrition[0].weekly_probability"]),
        (
            "group: team, size: 10, start_date: 2027-05-03",
            "group: tam, size: 10, start_date: 2027-05-03",
            ["hiring_classes[0].group: unknown agent group 'tam'; known: team"],
        ),
        ("start_date: 2027-05-03", "start_date: 2028-05-03", ["hiring_classes[0].start_date: 2028-05-03 is outside"]),
        ("{tenure_weeks: [12, 52]", "{tenure_weeks: [10, 52]", ["attrition[1].tenure_weeks: overlaps"]),
        ("scenario: ../capacity_day.yaml", "scenario: nowhere.yaml", ["scenario: file not found"]),
        ("open_days_per_week: 6", "open_days_per_weak: 6", ["unknown field 'open_days_per_weak'"]),
        ("nesting_proficiency: [0.5, 0.9]", "nesting_proficiency: [0.5, 3]", ["hiring_classes[0].nesting_proficiency"]),
        (
            "size: 16, start_date: 2027-04-19",
            "size: 16, start_date: 2026-04-19",
            ["what_ifs[1].hiring_classes[0].start_date"],
        ),
        ("name: one class", "name: plan", ["what-if names must differ", "plan"]),
    ],
)
def test_a_bad_plan_is_refused_naming_the_file_and_field(tmp_path, old, new, pieces):
    path = bad_plan(tmp_path, old, new)
    with pytest.raises(ScenarioError) as caught:
        load_plan(path)
    assert caught.value.source == str(path)
    message = " ".join(str(caught.value).split())
    assert all(piece in message for piece in pieces), message


def test_the_command_refuses_a_bad_plan_and_bad_what_if_flags(tmp_path):
    path = bad_plan(tmp_path, "weekly_probability: 0.02", "weekly_probability: 1.5")
    assert_refused(bposim("plan", path), "attrition[0].weekly_probability", source=path)
    outside = bposim("plan", PLAN, "--class-start", "2027-04-12,2029-01-05", "--class-size", "3,4")
    assert_refused(outside, "--class-start/--class-size: hiring_classes[1].start_date: 2029-01-05 is outside the plan")


@st.composite
def random_plans(draw) -> CapacityPlan:
    """A plan of one to three groups, each with starting tenure bands, zero to three hiring classes in any group,
    and attrition bands over tenure."""
    weeks = draw(st.integers(1, 30))
    groups = [f"g{n}" for n in range(draw(st.integers(1, 3)))]
    headcount = [
        {
            "group": group,
            "bands": [
                {"tenure_weeks": tenure, "agents": agents}
                for tenure, agents in draw(
                    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), min_size=1, max_size=3)
                )
            ],
        }
        for group in groups
    ]
    classes = [
        {
            "group": draw(st.sampled_from(groups)),
            "size": draw(st.integers(1, 25)),
            "start_date": START + datetime.timedelta(days=draw(st.integers(0, 7 * weeks - 1))),
            "training_weeks": draw(st.integers(0, 8)),
            "nesting_weeks": draw(st.integers(0, 8)),
            "graduation_rate": draw(st.floats(0, 1)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    edges = sorted(set(draw(st.lists(st.integers(1, 100), max_size=3))))
    spans = list(zip([0, *edges], [*edges, None], strict=True))
    attrition = [{"tenure_weeks": list(span), "weekly_probability": draw(st.floats(0, 0.3))} for span in spans]
    return plan_of(weeks=weeks, headcount=headcount, hiring_classes=classes, attrition=attrition)


@settings(max_examples=60, deadline=None)
@given(plan=random_plans(), seed=st.integers(0, 2**16))
def test_random_plans_conserve_headcount_per_group_and_week(plan, seed):
    """Per group and week: end = start + hires − attrition − washouts, the next week starts at this week's end, the
    hires are the classes' sizes, and the tenure bands hold exactly the agents present."""
    table = workforce.headcount(plan, seed, 0)
    tenure = workforce.tenure_headcount(plan, seed, 0)
    groups = list(dict.fromkeys([s.group for s in plan.headcount] + [h.group for h in plan.hiring_classes]))
    assert len(table) == plan.weeks * len(groups)
    assert (table["start"] + table["hires"] - table["attrition"] - table["washouts"] == table["end"]).all()
    assert (table[["start", "hires", "attrition", "washouts", "end"]] >= 0).all().all()
    for group, rows in table.groupby("group"):
        assert (rows["start"].iloc[1:].to_numpy() == rows["end"].iloc[:-1].to_numpy()).all()
        starting = sum(band.agents for s in plan.headcount if s.group == group for band in s.bands)
        assert rows["start"].iloc[0] == starting
        assert rows["hires"].sum() == sum(c.size for c in plan.hiring_classes if c.group == group)
    present = table.set_index(["week", "group"])["start"] + table.set_index(["week", "group"])["hires"]
    banded = tenure.groupby(["week", "group"])["agents"].sum()
    assert (banded.reindex(present.index) == present).all()
    assert (table["training"] + table["nesting"] + table["tenured"] == present.to_numpy()).all()
