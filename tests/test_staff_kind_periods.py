"""The period objective on weekly rosters over days that differ: the requirement searched per kind of day on the
floored scenario, each interval judged against its floor per kind (exempt maintenance left out), each call type
against its target over its period, and a call type short over its period raised on the kinds and intervals where
an agent gains most. Checked on a real plan and on the raising step alone, with negative controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_staff_day_kinds import weekly_site

import bposim
from bposim.optimise import optimise_roster
from bposim.optimise.requirement.day_kinds import DayKind
from bposim.optimise.roster.kind_periods import kind_floor_levels, raise_kinds_for_periods
from bposim.optimise.roster.objectives import with_staff_objective
from bposim.optimise.roster.period import erlang_gain, period_levels
from bposim.scenario import Scenario

FLOOR = 0.6


def period_site(exempt: bool = True) -> Scenario:
    """The weekly-volume site (four kinds of day, an exempt CRM maintenance at 12:00) under the period objective:
    80% over the week, no interval below 60%."""
    data = weekly_site(exempt)
    data["service_level"]["period"] = "week"
    data["scheduling"].update(objective="period", interval_floor=FLOOR)
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def period_plan():
    """One real weekly plan of the site under the period objective."""
    scenario = period_site()
    return scenario, optimise_roster(scenario, seed=3, replications=4, max_rounds=5, workers=1)


def test_the_requirement_is_searched_per_kind_on_the_floor(period_plan):
    _, plan = period_plan
    assert plan.objective == "period"
    assert [kind.label for kind in plan.kinds] == ["mon", "tue, thu-fri", "Wed 3 Mar", "sat"]
    for found in plan.requirements:
        source = found.source
        assert source.horizon.days == 1
        assert source.service_level_for(source.call_types[0])[1] == FLOOR
        assert source.period_for(source.call_types[0]) == "interval"


def test_the_floor_is_judged_per_kind_and_leaves_the_exempt_interval_out(period_plan):
    scenario, plan = period_plan
    achieved = plan.achieved
    assert set(achieved["kind"]) == set(range(len(plan.kinds)))
    assert (achieved["target"] == FLOOR).all()
    exempt = achieved[achieved["exempt"]]
    assert sorted(set(exempt["interval"])) == [8] and exempt["met"].all()
    assert plan.converged, plan.shortfall
    # on a fresh run of the horizon, every kind's judged intervals reach the floor, and the week its target
    fresh = bposim.simulate(plan.scenario, seed=plan.verification_seed + 1, replications=3)
    levels = kind_floor_levels(fresh.intervals, scenario, list(plan.kinds))
    judged = levels[~levels["exempt"]]
    assert (judged["service_level"] + judged["service_level_ci"].fillna(0) >= FLOOR).all()
    week = period_levels(fresh.intervals, scenario).set_index("call_type").loc["voice"]
    assert week["period"] == "week" and week["service_level"] + week["service_level_ci"] >= 0.8
    assert set(plan.periods["worst_interval"].str.split().str[-1]) != {"12:00"}  # the worst judged, not exempt


def test_the_period_roster_is_never_dearer_than_the_every_interval_one(period_plan):
    scenario, plan = period_plan
    every_interval = with_staff_objective(scenario, "interval")
    interval = optimise_roster(every_interval, seed=3, replications=4, max_rounds=5, workers=1)
    assert interval.objective == "interval"
    assert plan.cost_per_week <= interval.cost_per_week + 1e-9


def test_a_weekly_roster_with_a_confidence_is_never_cheaper_and_meets_it(period_plan):
    """`scheduling.confidence` on a weekly roster: P(week meets) is the share of the simulated weeks meeting the
    target; the roster is never cheaper than the plain period roster on the same days, and its fresh runs reach the
    confidence within their Wilson interval."""
    scenario, plain = period_plan
    confident = optimise_roster(
        scenario.updated({"scheduling.confidence": 0.9}), seed=3, replications=4, max_rounds=5, workers=1
    )
    assert confident.cost_per_week >= plain.cost_per_week - 1e-9
    row = confident.periods.set_index("call_type").loc["voice"]
    assert row["confidence"] == 0.9 and row["p_high"] >= 0.9 and row["p_low"] <= row["p_period_met"]
    assert confident.converged, confident.shortfall


def _kinds(dates: tuple[int, ...]) -> list[DayKind]:
    """Kinds with the given number of dates each (their rates unused by the raising)."""
    first = np.cumsum((0, *dates))
    return [
        DayKind(f"kind {k}", tuple(range(first[k], first[k] + n)), range(4), ((0.0,) * 4,)) for k, n in enumerate(dates)
    ]


def _achieved(offered: np.ndarray, exempt: np.ndarray | None = None) -> pd.DataFrame:
    """Per kind and interval: the calls offered per date (kinds × intervals), voice only."""
    kinds, intervals = offered.shape
    rows = pd.DataFrame(
        {
            "kind": np.repeat(np.arange(kinds), intervals),
            "call_type": "voice",
            "interval": np.tile(np.arange(intervals), kinds),
            "offered": offered.ravel(),
        }
    )
    return rows if exempt is None else rows.assign(exempt=exempt.ravel())


def _short(level: float) -> pd.DataFrame:
    return pd.DataFrame({"call_type": ["voice"], "service_level": [level], "target": [0.8]})


SITE = period_site()


@settings(max_examples=15, deadline=None)
@given(
    calls=st.lists(st.integers(0, 120), min_size=8, max_size=8),
    agents=st.integers(1, 12),
    level=st.floats(0.3, 0.79),
    dates=st.tuples(st.integers(1, 5), st.integers(1, 5)),
)
def test_period_raising_makes_up_the_short_calls_where_there_are_calls(calls, agents, level, dates):
    offered = np.array(calls, float).reshape(2, 4)
    want = np.full((2, 1, 4), agents, float)
    start = want.copy()
    kinds = _kinds(dates)
    raised = raise_kinds_for_periods(SITE, ["team"], want, _short(level), _achieved(offered), kinds, [1.0])
    added = want - start
    assert (added >= 0).all() and added.sum() == len(raised)
    assert (added[:, 0, :][offered == 0] == 0).all()  # nowhere without calls
    if offered.sum() == 0:
        assert not raised
        return
    assert raised
    # the estimated gains of the agents added, each counted on its kind's dates, make up the calls short (or
    # every further agent would add next to nothing)
    gained, place = 0.0, start.copy()
    for k, _, t in raised:
        gained += erlang_gain(SITE, "voice", offered[k, t], int(place[k, 0, t])) * len(kinds[k].days)
        place[k, 0, t] += 1
    horizon_calls = float((offered.sum(axis=1) * np.array(dates)).sum())
    missing = (0.8 - level) * horizon_calls
    assert gained >= missing - 1e-3 * horizon_calls * len(raised)


def test_period_raising_never_adds_in_an_exempt_interval():
    offered = np.array([[10.0, 40.0, 10.0, 10.0], [5.0, 20.0, 5.0, 5.0]])  # the exempt interval the busiest
    exempt = np.zeros_like(offered, bool)
    exempt[:, 1] = True
    kinds = _kinds((4, 1))
    want = np.full((2, 1, 4), 2.0)
    raise_kinds_for_periods(SITE, ["team"], want, _short(0.5), _achieved(offered, exempt), kinds, [1.0])
    assert (want[:, 0, 1] == 2).all() and (want > 2).any()
    # negative control: without the exempt flag the busiest interval is raised first
    want = np.full((2, 1, 4), 2.0)
    raised = raise_kinds_for_periods(SITE, ["team"], want, _short(0.5), _achieved(offered), kinds, [1.0])
    assert raised[0][2] == 1 and want[0, 0, 1] > 2
