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


BANK_AND_TELCO = """\
name: Two sites, a restricted bank
horizon: {start: "08:00", end: "14:00", interval_minutes: 30}
service_level: {threshold_seconds: 20, target: 0.80}
sites: [{name: onshore}, {name: offshore}]
call_types:
  - name: telco
    arrivals: {per_interval: [40, 60, 80, 90, 90, 80, 70, 60, 60, 50, 40, 30]}
    handle_time: {distribution: exponential, mean_seconds: 180}
    patience: {distribution: exponential, mean_seconds: 90}
  - name: bank
    arrivals: {per_interval: [20, 30, 40, 50, 50, 40, 40, 30, 30, 20, 20, 10]}
    handle_time: {distribution: exponential, mean_seconds: 240}
    patience: {distribution: exponential, mean_seconds: 120}
agent_groups:
  - {name: cleared, site: onshore, clearances: [pci], skills: [bank, telco], agents: 0}
  - {name: shared, site: offshore, skills: [telco, bank], agents: 0}
  - {name: bank_offshore, site: offshore, skills: [bank], agents: 0}   # cheapest, but not cleared for the bank
costs:
  currency: EUR
  groups:
    - {group: cleared, per_paid_hour: 30}
    - {group: shared, per_paid_hour: 10}
    - {group: bank_offshore, per_paid_hour: 8}
clients:
  - {name: telco, call_types: [telco]}
  - name: bank
    call_types: [bank]
    contract:
      billing: {model: per_handled_contact, rate: 3}
      restrict_to: {clearances: [pci]}
scheduling:
  shifts:
    - name: full
      length_hours: 6
      starts: {earliest: "08:00", latest: "08:00", every_minutes: 30}
      breaks:
        - {name: coffee, minutes: 15, after_hours: [2, 3], every_minutes: 30}
    - name: part
      length_hours: 3
      starts: {earliest: "08:00", latest: "11:00", every_minutes: 60}
"""


def test_staff_rosters_the_restricted_work_on_the_eligible_groups_and_meets_the_target(tmp_path):
    """`bposim staff` with the bank kept to PCI-cleared agents: exit 0, nobody rostered on the offshore bank team
    (the cheapest, but it may serve nothing), the cleared group rostered, and the written roster, simulated on
    days neither the search nor the verification saw, answers every bank call on the cleared group and meets both
    call types' targets."""
    from cli_runner import bposim as cli

    import bposim
    from bposim.optimise.roster import call_type_service_levels

    model, roster = tmp_path / "bank_and_telco.yaml", tmp_path / "roster.yaml"
    model.write_text(BANK_AND_TELCO, encoding="utf-8")
    result = cli("staff", model, "--out", roster, "--replications", 5, "--workers", 1, timeout=180)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert "Every interval met its target" in result.stdout
    rostered = bposim.load_scenario(roster)
    agents = {group.name: 0 for group in rostered.agent_groups}
    for shift in rostered.roster:
        agents[shift.group] += shift.agents
    assert agents["bank_offshore"] == 0 and agents["cleared"] > 0, agents
    fresh = bposim.simulate(rostered, seed=515_151, replications=5, tables=("calls", "intervals", "staffing"))
    calls = fresh.calls
    bank = calls[(calls["call_type"].astype(str) == "bank") & (calls["outcome"].astype(str) == "answered")]
    assert len(bank) > 0 and set(bank["group"].astype(str)) == {"cleared"}
    levels = call_type_service_levels(fresh).set_index("call_type")
    assert (levels["service_level"] >= levels["target"]).all(), levels
