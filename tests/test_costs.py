"""The cost model: the schema's checks, and each cost item redone by hand from the run's tables."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from strategies import SEEDS, checked

import bposim
from bposim.costs import COLUMNS, COMPONENTS, cost_summary, cost_table
from bposim.scenario.common import custom_error
from bposim.scenario.costs import Costs, cost_errors
from bposim.scenario.loading import format_validation_error
from bposim.scenario.sites import site_costs

SHIFT_HOURS = 4.0
UNPAID_LUNCH_HOURS = 0.5


def centre(**changes) -> bposim.Scenario:
    """A four-hour, two-site centre with fixed handle times: a rostered onshore team with an unpaid lunch and a
    plan-staffed offshore team; top-level fields are replaced by `changes`."""
    data = {
        "name": "cost centre",
        "horizon": {"start": "09:00", "end": "13:00", "interval_minutes": 30},
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 40},
                "handle_time": {"distribution": "fixed", "value_seconds": 240},
                "patience": {"distribution": "fixed", "value_seconds": 30},
            },
            {
                "name": "billing",
                "arrivals": {"per_hour": 30},
                "handle_time": {"distribution": "fixed", "value_seconds": 300},
                "patience": {"distribution": "fixed", "value_seconds": 30},
            },
        ],
        "agent_groups": [
            {"name": "onshore_team", "skills": ["support", "billing"]},
            {"name": "offshore_team", "skills": ["billing", "support"], "agents": 2},
        ],
        "roster": [
            {
                "group": "onshore_team",
                "start": "09:00",
                "end": "13:00",
                "agents": 2,
                "breaks": [
                    {"name": "coffee", "minutes": 15, "window": ["10:00", "10:30"]},
                    {"name": "lunch", "minutes": 30, "window": ["11:00", "12:00"], "paid": False},
                ],
            }
        ],
    }
    data.update(changes)
    return bposim.Scenario.model_validate(data)


def costs(**changes) -> Costs:
    """Two sites' rates, every kind of technology cost, abandoned calls and a penalty; fields replaced by `changes`."""
    data = {
        "currency": "EUR",
        "groups": [
            {"group": "onshore_team", "per_paid_hour": 24.0, "overtime_premium": 0.5, "site": "onshore"},
            {"group": "offshore_team", "per_paid_hour": 11.0, "overtime_premium": 0.25, "site": "offshore"},
        ],
        "technology": [
            {"name": "crm", "per_seat_per_day": 3.5},
            {"name": "ai_assist", "per_seat_per_day": 2.0, "groups": ["offshore_team"]},
            {"name": "bot", "per_contact": 0.15, "call_types": ["billing"]},
            {"name": "telephony", "fixed_per_day": 400.0},
        ],
        "abandoned_call": 3.0,
        "service_level_penalty": 250.0,
    }
    data.update(changes)
    return Costs.model_validate(data)


VARIANTS: dict[str, dict] = {
    "plain": {},
    "warm-up": {"horizon": {"start": "09:00", "end": "13:00", "interval_minutes": 30, "warmup_minutes": 30}},
    "bot and callbacks": {
        "technology": {
            "self_service": [
                {
                    "call_type": "billing",
                    "containment": 0.5,
                    "bounce_back": 0.2,
                    "bot_time": {"distribution": "fixed", "value_seconds": 60},
                }
            ],
            "callbacks": {"offer_when_wait_over_seconds": 10, "acceptance": 0.5},
        }
    },
    "three days with absence": {
        "horizon": {"start": "09:00", "end": "13:00", "interval_minutes": 30, "days": 3},
        "absence": {"probability": 0.3},
    },
}


@cache
def run(variant: str = "plain") -> bposim.Run:
    """The centre with one of the VARIANTS' changes, simulated with seed 7 (once per variant)."""
    return bposim.simulate(centre(**VARIANTS[variant]), seed=7)


def table_of(result: bposim.Run, cost_model: Costs | None = None) -> pd.DataFrame:
    cost_model = costs() if cost_model is None else cost_model
    return cost_table(cost_model, result.scenario, result.calls, result.intervals, result.agents)


def rows(table: pd.DataFrame, component: str) -> pd.DataFrame:
    return table[table["component"] == component].set_index("item")


def counted(calls: pd.DataFrame) -> pd.DataFrame:
    """Call attempts after the warm-up."""
    return calls[~calls["warmup"]]


# --- the table and the summary ---------------------------------------------------------------------------------


def test_components_add_up_to_the_total() -> None:
    table = table_of(run())
    summary = cost_summary(table, run().calls)
    assert list(table.columns) == list(COLUMNS)
    assert set(table["component"]) == set(COMPONENTS)
    assert table["amount"].to_numpy() == pytest.approx((table["quantity"] * table["unit_cost"]).to_numpy())
    assert sum(summary[f"cost_{component}"] for component in COMPONENTS) == pytest.approx(summary["total_cost"])
    assert summary["total_cost"] == pytest.approx(table["amount"].sum())


def test_agent_cost_is_paid_time_at_the_group_rate_from_the_agents_table() -> None:
    result = run()
    agents = result.agents
    assert (agents.loc[agents["group"] == "onshore_team", "unpaid_seconds"] > 0).all()
    table = rows(table_of(result), "agents")
    for group, rate in (("onshore_team", 24.0), ("offshore_team", 11.0)):
        mine = agents[agents["group"] == group]
        regular_hours = (mine["logged_in_seconds"] - mine["unpaid_seconds"] - mine["overtime_seconds"]).sum() / 3600
        assert table.loc[group, "quantity"] == pytest.approx(regular_hours)
        assert table.loc[group, "amount"] == pytest.approx(rate * regular_hours)
    assert table.loc["onshore_team", "quantity"] == pytest.approx(2 * (SHIFT_HOURS - UNPAID_LUNCH_HOURS))
    assert table.loc["offshore_team", "quantity"] == pytest.approx(2 * SHIFT_HOURS)


def test_overtime_premium_is_paid_on_overtime_hours_only() -> None:
    result = run()
    overtime_hours = result.agents.groupby("group", observed=True)["overtime_seconds"].sum() / 3600
    assert (overtime_hours > 0).all()
    plain = costs(
        groups=[
            {"group": "onshore_team", "per_paid_hour": 24.0, "site": "onshore"},
            {"group": "offshore_team", "per_paid_hour": 11.0, "site": "offshore"},
        ]
    )
    with_premium, without = table_of(result), table_of(result, plain)
    pd.testing.assert_frame_equal(rows(with_premium, "agents"), rows(without, "agents"))
    overtime = rows(with_premium, "overtime")
    assert overtime.loc["onshore_team", "amount"] == pytest.approx(24.0 * 1.5 * overtime_hours["onshore_team"])
    assert overtime.loc["offshore_team", "amount"] == pytest.approx(11.0 * 1.25 * overtime_hours["offshore_team"])
    extra = cost_summary(with_premium, result.calls)["total_cost"] - cost_summary(without, result.calls)["total_cost"]
    premiums = 24.0 * 0.5 * overtime_hours["onshore_team"] + 11.0 * 0.25 * overtime_hours["offshore_team"]
    assert extra == pytest.approx(premiums)


def test_agent_rows_carry_their_site_and_other_rows_none() -> None:
    table = table_of(run())
    people = table[table["component"].isin(["agents", "overtime"])]
    assert dict(zip(people["item"], people["site"], strict=True)) == {
        "onshore_team": "onshore",
        "offshore_team": "offshore",
    }
    assert (table.loc[~table.index.isin(people.index), "site"] == "").all()
    by_site = people.groupby("site")["amount"].sum()
    assert by_site["onshore"] > by_site["offshore"] > 0


def test_per_contact_cost_counts_the_covered_call_types_after_the_warm_up() -> None:
    result = run("warm-up")
    calls = result.calls
    assert calls["warmup"].any()
    bot = rows(table_of(result), "technology").query("unit == 'contacts'").loc["bot"]
    billing = counted(calls)[counted(calls)["call_type"] == "billing"]
    assert bot["quantity"] == len(billing)
    assert len(billing) < (calls["call_type"] == "billing").sum()
    everything = table_of(result, costs(technology=[{"name": "bot", "per_contact": 0.15}]))
    assert rows(everything, "technology").loc["bot", "quantity"] == len(counted(calls))


def test_bot_sessions_are_the_callers_who_went_into_the_bot() -> None:
    calls = run("bot and callbacks").calls
    bot = costs(
        technology=[
            {"name": "bot", "per_contact": 0.15, "contacts": "bot_sessions"},
            {"name": "carrier", "per_contact": 0.02},
        ]
    )
    technology = rows(table_of(run("bot and callbacks"), bot), "technology")
    entered_bot = calls["path"].astype(str).str.startswith("bot_")
    assert (calls["outcome"] == "contained").any() and (calls["path"] == "callback").any()
    billing_callers = (calls["call_type"] == "billing") & (calls["path"] != "callback")
    assert technology.loc["bot", "quantity"] == entered_bot.sum() == billing_callers.sum()
    assert technology.loc["bot", "unit"] == "bot sessions"
    assert technology.loc["carrier", "quantity"] == len(calls)


def test_callbacks_made_are_handled_contacts() -> None:
    result = run("bot and callbacks")
    summary = cost_summary(table_of(result), result.calls)
    handled = (result.calls["outcome"] == "answered").sum()
    assert handled > result.summary["answered"]
    assert summary["cost_per_handled_contact"] == pytest.approx(summary["total_cost"] / handled)


def test_fixed_cost_is_per_day_and_seats_are_agents_logged_in_on_days_not_absent() -> None:
    result = run("three days with absence")
    agents = result.agents
    assert agents["absent_days"].sum() > 0
    technology = rows(table_of(result), "technology")
    assert technology.loc["telephony", "quantity"] == 3
    assert technology.loc["telephony", "amount"] == pytest.approx(3 * 400.0)
    logged_in = agents[agents["logged_in_seconds"] > 0]
    assert technology.loc["crm", "quantity"] == (3 - logged_in["absent_days"]).sum()
    offshore = logged_in[logged_in["group"] == "offshore_team"]
    assert technology.loc["ai_assist", "quantity"] == 3 * len(offshore) == 6
    assert technology.loc["ai_assist", "amount"] == pytest.approx(6 * 2.0)


def test_abandoned_call_cost_is_the_count_times_the_rate() -> None:
    calls = run().calls
    table = rows(table_of(run()), "abandoned_calls")
    abandoned = counted(calls)[counted(calls)["outcome"] == "abandoned"]
    assert len(abandoned) > 0
    assert table["quantity"].sum() == len(abandoned)
    assert table.loc["billing", "quantity"] == (abandoned["call_type"] == "billing").sum()
    assert table["amount"].sum() == pytest.approx(3.0 * len(abandoned))


def test_penalty_counts_intervals_with_calls_offered_below_target() -> None:
    intervals = pd.DataFrame(
        {
            "call_type": ["support", "support", "support", "support", "billing", "billing"],
            "offered": [5, 0, 3, 4, 2, 0],
            "service_level": [0.5, math.nan, 0.9, 0.8, 0.0, 0.0],
            "target": [0.8] * 6,
        }
    )
    result = run()
    table = cost_table(costs(), result.scenario, result.calls, intervals, result.agents)
    penalty = rows(table, "service_level_penalty")
    assert penalty["quantity"].to_dict() == {"support": 1, "billing": 1}
    assert penalty["amount"].sum() == pytest.approx(2 * 250.0)


def test_penalty_from_a_run_matches_the_intervals_table() -> None:
    intervals = run().intervals
    missed = ((intervals["offered"] > 0) & (intervals["service_level"] < intervals["target"])).sum()
    assert rows(table_of(run()), "service_level_penalty")["quantity"].sum() == missed > 0


def test_cost_per_handled_contact_is_the_total_over_answered_calls() -> None:
    result = run("warm-up")
    summary = cost_summary(table_of(result), result.calls)
    answered = (counted(result.calls)["outcome"] == "answered").sum()
    assert summary["cost_per_handled_contact"] == pytest.approx(summary["total_cost"] / answered)


def test_components_not_configured_cost_nothing() -> None:
    only_people = costs(technology=[], abandoned_call=None, service_level_penalty=None)
    table = table_of(run(), only_people)
    summary = cost_summary(table, run().calls)
    assert set(table["component"]) == {"agents", "overtime"}
    assert summary["cost_technology"] == summary["cost_abandoned_calls"] == summary["cost_service_level_penalty"] == 0
    assert set(summary) == {"total_cost", "cost_per_handled_contact", *(f"cost_{c}" for c in COMPONENTS)}


def test_no_costs_section_gives_an_empty_table_and_no_summary_keys() -> None:
    result = run()
    table = cost_table(None, result.scenario, result.calls, result.intervals, result.agents)
    assert table.empty and list(table.columns) == list(COLUMNS)
    assert cost_summary(table, result.calls) == {}


def test_several_replications_give_rows_per_replication_and_a_mean() -> None:
    scenario = centre()
    pooled = bposim.simulate(scenario, seed=7, replications=2)
    table = cost_table(costs(), scenario, pooled.calls, pooled.intervals, pooled.agents)
    assert sorted(table["replication"].unique()) == [0, 1]
    first = bposim.simulate(scenario, seed=7)
    alone = table_of(first)
    pd.testing.assert_frame_equal(table[table["replication"] == 0].drop(columns="replication"), alone)
    totals = table.groupby("replication")["amount"].sum()
    summary = cost_summary(table, pooled.calls)
    assert summary["total_cost"] == pytest.approx(totals.mean())
    assert summary["total_cost_ci"] > 0


# --- the schema -------------------------------------------------------------------------------------------------


def schema_error(**changes) -> str:
    with pytest.raises(ValidationError) as caught:
        costs(**changes)
    return "\n".join(format_validation_error(caught.value, Costs))


def cross_errors(cost_model: Costs) -> list[str]:
    """cost_errors raised as Scenario's validator will, rendered as the user sees them."""
    problems = list(cost_errors(cost_model, centre()))
    if not problems:
        return []
    return format_validation_error(custom_error("Scenario", problems), bposim.Scenario)


def test_negative_or_infinite_costs_are_refused() -> None:
    assert "groups[0].per_paid_hour: Input should be greater than or equal to 0" in schema_error(
        groups=[{"group": "onshore_team", "per_paid_hour": -1}]
    )
    assert "abandoned_call: Input should be greater than or equal to 0" in schema_error(abandoned_call=-3)
    assert "technology[0].fixed_per_day: Input should be a finite number" in schema_error(
        technology=[{"name": "telephony", "fixed_per_day": math.inf}]
    )
    assert "overtime_premium" in schema_error(groups=[{"group": "a", "per_paid_hour": 1, "overtime_premium": -0.5}])


def test_a_group_or_tool_listed_twice_is_refused() -> None:
    twice = [{"group": "onshore_team", "per_paid_hour": 20}, {"group": "onshore_team", "per_paid_hour": 21}]
    assert "groups: more than one cost entry for agent group 'onshore_team'" in schema_error(groups=twice)
    tools = [{"name": "crm", "per_seat_per_day": 1}, {"name": "crm", "fixed_per_day": 5}]
    assert "technology 'crm' listed more than once" in schema_error(technology=tools)


def test_a_tool_must_cost_something_and_narrow_only_what_it_prices() -> None:
    assert "technology 'crm' has no cost" in schema_error(technology=[{"name": "crm"}])
    assert "groups narrows per_seat_per_day, which is not given" in schema_error(
        technology=[{"name": "bot", "per_contact": 0.1, "groups": ["onshore_team"]}]
    )
    assert "call_types narrows per_contact, which is not given" in schema_error(
        technology=[{"name": "crm", "per_seat_per_day": 1, "call_types": ["billing"]}]
    )
    assert "contacts says what per_contact counts, which is not given" in schema_error(
        technology=[{"name": "crm", "per_seat_per_day": 1, "contacts": "bot_sessions"}]
    )


def test_a_costs_section_with_nothing_to_cost_is_refused() -> None:
    assert cross_errors(Costs.model_validate({"currency": "EUR"})) == [
        "costs: costs lists nothing to cost; give groups, technology, abandoned_call or service_level_penalty (or "
        "a site's wage_per_hour)"
    ]


def test_sites_wages_give_a_costs_section_of_its_currency_alone_something_to_cost() -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "models" / "two_sites.yaml").read_text(encoding="utf-8")
    )
    data["costs"] = {"currency": "PHP"}
    scenario = bposim.Scenario.model_validate(data)
    priced = site_costs(scenario)
    assert priced.currency == "PHP"
    wages = {site["name"]: site["wage_per_hour"] for site in data["sites"]}
    assert {entry.group: entry.per_paid_hour for entry in priced.groups} == {
        group["name"]: wages[group["site"]] for group in data["agent_groups"]
    }


def test_unknown_group_is_named_with_the_known_ones() -> None:
    groups = [*costs().groups, {"group": "night_team", "per_paid_hour": 30}]
    assert cross_errors(costs(groups=groups)) == [
        "costs.groups[2].group: unknown agent group 'night_team'; known: onshore_team, offshore_team"
    ]


def test_every_agent_group_needs_a_rate() -> None:
    only_one = costs(groups=[{"group": "onshore_team", "per_paid_hour": 24}])
    assert cross_errors(only_one) == [
        "costs.groups: no cost given for agent group 'offshore_team'; every agent group needs a per_paid_hour "
        "when costs.groups is given (or a site with wage_per_hour)"
    ]
    assert cross_errors(costs(groups=[])) == []
    nobody = costs(groups=[], abandoned_call=None, technology=[])
    several = [{"group": "night_team", "per_paid_hour": 30}]
    assert cross_errors(nobody) == []
    assert "no cost given for agent groups 'onshore_team', 'offshore_team';" in cross_errors(costs(groups=several))[1]


def test_unknown_technology_groups_and_call_types_are_located() -> None:
    tools = [
        {"name": "ai_assist", "per_seat_per_day": 2, "groups": ["offshore_team", "nights"]},
        {"name": "bot", "per_contact": 0.1, "call_types": ["sales"]},
    ]
    assert cross_errors(costs(technology=tools)) == [
        "costs.technology[0].groups[1]: unknown agent group 'nights'; known: onshore_team, offshore_team",
        "costs.technology[1].call_types[0]: unknown call type 'sales'; known: support, billing",
    ]
    assert cross_errors(costs()) == []


# --- for any small centre ---------------------------------------------------------------------------------------


@st.composite
def costed_centres(draw) -> tuple[dict, dict]:
    """A small random centre (1–2 call types, 1–2 groups, some shifts, maybe a bot and callbacks) and a random
    costs section for it."""
    types = ["support", "billing"][: draw(st.integers(1, 2))]
    groups = ["onshore_team", "offshore_team"][: draw(st.integers(1, 2))]
    patience = st.none() | st.floats(5.0, 120.0).map(lambda mean: {"distribution": "exponential", "mean_seconds": mean})
    call_types = []
    for name in types:
        handle = {"distribution": "exponential", "mean_seconds": draw(st.floats(30.0, 400.0))}
        spec = {"name": name, "arrivals": {"per_hour": draw(st.floats(0.0, 60.0))}, "handle_time": handle}
        if (waiting := draw(patience)) is not None:
            spec["patience"] = waiting
        call_types.append(spec)
    bot = {
        "call_type": types[0],
        "containment": draw(st.floats(0.0, 1.0)),
        "bot_time": {"distribution": "fixed", "value_seconds": 30},
    }
    scenario = {
        "name": "property",
        "horizon": {
            "start": "09:00",
            "end": draw(st.sampled_from(["10:00", "11:00"])),
            "interval_minutes": 30,
            "days": draw(st.integers(1, 2)),
            "warmup_minutes": draw(st.sampled_from([0, 15])),
        },
        "service_level": {"definition": draw(st.sampled_from(["offered", "answered", "offered_less_short_abandons"]))},
        "call_types": call_types,
        "agent_groups": [{"name": name, "skills": types, "agents": draw(st.integers(0, 3))} for name in groups],
        "roster": [
            {
                "group": groups[0],
                "start": "09:00",
                "end": "10:00",
                "agents": draw(st.integers(0, 2)),
                "breaks": [{"name": "lunch", "minutes": 10, "window": ["09:20", "09:50"], "paid": draw(st.booleans())}],
            }
        ],
        "absence": {"probability": draw(st.sampled_from([0.0, 0.3]))},
        "technology": {
            "self_service": draw(st.just([]) | st.just([bot])),
            "callbacks": draw(st.none() | st.just({"offer_when_wait_over_seconds": 20, "acceptance": 0.5})),
        },
    }
    money = st.floats(0.0, 100.0)
    cost_model: dict = {
        "groups": [
            {
                "group": name,
                "per_paid_hour": draw(money),
                "overtime_premium": draw(st.floats(0.0, 1.0)),
                "site": draw(st.sampled_from(["onshore", "offshore"])),
            }
            for name in groups
        ],
        "technology": [
            {"name": "crm", "per_seat_per_day": draw(money), "groups": draw(st.none() | st.just(groups[:1]))},
            {
                "name": "bot",
                "per_contact": draw(money),
                "fixed_per_day": draw(st.none() | money),
                "call_types": draw(st.none() | st.just(types[-1:])),
                "contacts": draw(st.sampled_from(["attempts", "bot_sessions"])),
            },
        ],
        "abandoned_call": draw(st.none() | money),
        "service_level_penalty": draw(st.none() | money),
    }
    return scenario, cost_model


@checked(25)
@given(costed_centres(), SEEDS)
def test_amounts_are_never_negative_and_sum_to_the_total(specs: tuple[dict, dict], seed: int) -> None:
    scenario_spec, cost_spec = specs
    scenario, cost_model = bposim.Scenario.model_validate(scenario_spec), Costs.model_validate(cost_spec)
    assert list(cost_errors(cost_model, scenario)) == []
    result = bposim.simulate(scenario, seed=seed)
    table = cost_table(cost_model, scenario, result.calls, result.intervals, result.agents)
    summary = cost_summary(table, result.calls)
    assert (table["amount"].to_numpy() >= 0).all()
    assert np.isfinite(table["amount"].to_numpy()).all()
    assert table["amount"].sum() == summary["total_cost"]
    assert sum(summary[f"cost_{component}"] for component in COMPONENTS) == pytest.approx(summary["total_cost"])
