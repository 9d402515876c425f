"""Implicit break placement: a shift's breaks as variables of their own give the same cheapest roster as one
variable per placement, every agent's breaks a valid placement, and the roster still covers the requirement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from strategies import checked, requirement_table

from bposim import load_scenario
from bposim.optimise import enumerate_patterns, solve_schedule
from bposim.optimise.breaks import implicit_breaks
from bposim.scenario import Scenario

DAY = {
    "name": "Breaks",
    "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30},
    "call_types": [
        {
            "name": "support",
            "arrivals": {"per_hour": 60},
            "handle_time": {"distribution": "exponential", "mean_seconds": 120},
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["support"]}],
    "costs": {"currency": "EUR", "groups": [{"group": "team", "per_paid_hour": 20}]},
    "scheduling": {
        "shifts": [
            {
                "name": "full",
                "length_hours": 6,
                "starts": {"earliest": "08:00", "latest": "10:00", "every_minutes": 30},
                "breaks": [
                    {"name": "coffee", "minutes": 15, "after_hours": [1, 2], "every_minutes": 15},
                    {"name": "lunch", "minutes": 30, "after_hours": [3, 4], "every_minutes": 15, "paid": False},
                ],
            },
            {"name": "part", "length_hours": 3, "starts": {"earliest": "08:00", "latest": "13:00"}},
        ]
    },
}


def enumerated_optimum(scenario: Scenario, values: list[int]) -> float:
    """The cheapest cover with one variable per (shift, break placement): the programme before implicit breaks."""
    patterns = enumerate_patterns(scenario)
    coverage = np.array([p.coverage(scenario) for p in patterns]).T
    rows = [i for i, value in enumerate(values) if value > 0]
    result = milp(
        np.array([p.cost for p in patterns]),
        integrality=np.ones(len(patterns)),
        bounds=Bounds(0, np.inf),
        constraints=[LinearConstraint(coverage[rows], lb=[values[i] - 1e-6 for i in rows])],
        options={"mip_rel_gap": 1e-9},
    )
    return result.fun


def test_breaks_with_many_placements_become_variables_and_few_stay_enumerated():
    scenario = Scenario.model_validate(DAY)
    assert [implicit_breaks(rule, scenario) for rule in scenario.scheduling.shifts] == [True, False]
    overlapping = scenario.updated({"scheduling.shifts.0.breaks.1.after_hours": [1.5, 4]})
    assert not implicit_breaks(overlapping.scheduling.shifts[0], overlapping)  # the windows can overlap


@checked(25)
@given(st.lists(st.integers(0, 5), min_size=16, max_size=16))
def test_implicit_breaks_give_the_enumerated_optimum_with_valid_placements(values):
    scenario = Scenario.model_validate(DAY)
    schedule = solve_schedule(scenario, requirement_table(values))
    assert schedule.optimal
    assert schedule.cost == pytest.approx(enumerated_optimum(scenario, values))
    allowed = set(enumerate_patterns(scenario))
    assert all(pattern in allowed for pattern in schedule.patterns)
    assert len(set(schedule.patterns)) == len(schedule.patterns)
    assert (schedule.coverage["scheduled"].to_numpy() >= np.asarray(values) - 1e-9).all()
    paid = sum(p.cost * n for p, n in zip(schedule.patterns, schedule.agents, strict=True))
    assert schedule.cost == pytest.approx(paid)


# A round's requirement on the programme-sized site (agents per 30-minute interval from 08:00), whose programme
# HiGHS does not prove at the root.
PROGRAMME_REQUIRED = {
    "service": [20, 26, 43, 53, 60, 64, 64, 60, 56, 52, 50, 49, 48, 48, 47, 45, 43, 40, 38, 37, 36, 35, 33, 30, 23]
    + [20, 15, 13],
    "technical": [9, 12, 16, 21, 24, 28, 30, 31, 33, 32, 30, 31, 30, 28, 27, 27, 22, 25, 24, 23, 22, 20, 18, 15, 11]
    + [10, 9, 7],
    "senior": [13, 17, 16, 17, 20, 21, 20, 24, 23, 23, 25, 22, 22, 20, 20, 19, 20, 20, 17, 17, 17, 15, 14, 14, 12]
    + [12, 11, 8],
}


def test_a_node_limit_stops_the_search_at_a_roster_that_does_not_depend_on_the_clock():
    scenario = load_scenario(ROOT / "models/bpo_programme_shifts.yaml")
    table = pd.DataFrame(
        [
            {"group": group, "interval": i, "required": value}
            for group, values in PROGRAMME_REQUIRED.items()
            for i, value in enumerate(values)
        ]
    )
    first = solve_schedule(scenario, table, node_limit=1)
    again = solve_schedule(scenario, table, node_limit=1, time_limit=600)
    assert not first.optimal and first.gap > 0  # stopped by the limit, with its distance to the proven bound
    assert (first.patterns, first.agents, first.cost) == (again.patterns, again.agents, again.cost)
    coverage = first.coverage
    assert (coverage["scheduled"] >= coverage["required"] - 1e-9).all()
    assert len(set(first.patterns)) == len(first.patterns)
    assert set(first.patterns) <= set(enumerate_patterns(scenario))
