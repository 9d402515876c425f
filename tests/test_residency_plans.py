"""A client's `restrict_to` holds wherever a plan is made: `bposim plan` plans the restricted call types on the
eligible groups only (required FTE, Erlang service, what the weeks earn), and `bposim staff` proposes a roster
whose verification runs answer the restricted calls on eligible groups only."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from bposim.capacity import margin, plan_capacity, service
from bposim.scenario import Scenario
from bposim.scenario.capacity import CapacityPlan

VOICE_A = [60, 120, 120, 80]  # client a's calls per hour, 08:00 to 12:00
VOICE_B = [40, 80, 80, 40]  # client b's


def voice(name: str, rates: list[int]) -> dict:
    return {
        "name": name,
        "arrivals": {"per_interval": rates},
        "handle_time": {"distribution": "exponential", "mean_seconds": 240},
        "patience": {"distribution": "exponential", "mean_seconds": 120},
    }


def plan_day(restrict_to: dict | None) -> Scenario:
    """The plan's day: two groups on two sites, both serving a's and b's voice lines; b's contract may keep its
    calls to the onshore site."""
    contract_b: dict = {"billing": {"model": "per_handled_contact", "rate": 2.0}}
    if restrict_to is not None:
        contract_b["restrict_to"] = restrict_to
    return Scenario.model_validate(
        {
            "name": "plan day",
            "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 60},
            "service_level": {"threshold_seconds": 20, "target": 0.8},
            "call_types": [voice("voice_a", VOICE_A), voice("voice_b", VOICE_B)],
            "sites": [{"name": "onshore"}, {"name": "offshore"}],
            "agent_groups": [
                {"name": "onshore", "site": "onshore", "skills": ["voice_a", "voice_b"], "agents": 8},
                {"name": "offshore", "site": "offshore", "skills": ["voice_a", "voice_b"], "agents": 8},
            ],
            "costs": {
                "groups": [{"group": "onshore", "per_paid_hour": 25.0}, {"group": "offshore", "per_paid_hour": 9.0}]
            },
            "clients": [
                {
                    "name": "a",
                    "call_types": ["voice_a"],
                    "contract": {"billing": {"model": "per_handled_contact", "rate": 1.0}},
                },
                {"name": "b", "call_types": ["voice_b"], "contract": contract_b},
            ],
        }
    )


def two_site_plan(service_level: str = "erlang") -> CapacityPlan:
    return CapacityPlan.model_validate(
        {
            "scenario": "day.yaml",
            "start_date": datetime.date(2027, 4, 5),
            "weeks": 4,
            "service_level": service_level,
            "headcount": [
                {"group": "onshore", "bands": [{"tenure_weeks": 60, "agents": 14}]},
                {"group": "offshore", "bands": [{"tenure_weeks": 60, "agents": 14}]},
            ],
        }
    )


ONSHORE = {"sites": ["onshore"]}


def test_the_plans_load_puts_the_restricted_calls_on_the_eligible_group_only():
    """Restricted, the offshore group's queue is a's calls alone (half of them: both groups serve a at priority 1)
    and the onshore group's is the other half of a's and all of b's; unrestricted, each takes half of each."""
    free, kept = service.group_loads(plan_day(None)), service.group_loads(plan_day(ONSHORE))
    halves = (np.array(VOICE_A) + np.array(VOICE_B)) / 2
    assert np.allclose(free["onshore"].rates, halves) and np.allclose(free["offshore"].rates, halves)
    assert np.allclose(kept["offshore"].rates, np.array(VOICE_A) / 2)
    assert np.allclose(kept["onshore"].rates, np.array(VOICE_A) / 2 + np.array(VOICE_B))
    prices = margin.pricing(two_site_plan(), plan_day(ONSHORE))
    assert set(prices.shares["voice_b"]) == {"onshore"}  # b's calls earn on the group that may answer them
    assert set(prices.shares["voice_a"]) == {"onshore", "offshore"}


@pytest.mark.parametrize("service_level", ["erlang", "simulation"])
def test_a_restriction_raises_the_eligible_groups_required_fte_and_lowers_the_others(service_level):
    """The same plan on the same day: with b kept onshore, the onshore group needs more FTE and the offshore group
    fewer than without; the offshore group is not counted for b's calls."""
    plan = two_site_plan(service_level)
    free = plan_capacity(plan, plan_day(None), replications=1, seed=3).weekly.set_index(["week", "group"])
    kept = plan_capacity(plan, plan_day(ONSHORE), replications=1, seed=3).weekly.set_index(["week", "group"])
    for week in range(plan.weeks):
        assert kept.loc[(week, "onshore"), "required_fte"] > free.loc[(week, "onshore"), "required_fte"]
        assert kept.loc[(week, "offshore"), "required_fte"] < free.loc[(week, "offshore"), "required_fte"]
