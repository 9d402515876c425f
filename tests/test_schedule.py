"""Shift scheduling and the closed-loop roster optimiser: the MILP covers and is cheapest, breaks cost coverage
where they are pinned, infeasible cases name the interval, and optimised rosters meet the target on fresh days.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, bposim
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import checked, fix_requirement, requirement_table

from bposim import ScenarioError, load_scenario, simulate
from bposim.optimise import ScheduleError, enumerate_patterns, optimise_roster, solve_schedule
from bposim.scenario import Scenario, Shift

SMALL = {
    "name": "Small",
    "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 60},
    "call_types": [
        {
            "name": "support",
            "arrivals": {"per_hour": 60},
            "handle_time": {"distribution": "exponential", "mean_seconds": 120},
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["support"]}],
    "scheduling": {
        "shifts": [
            {
                "name": "short",
                "length_hours": [2, 3],
                "starts": {"earliest": "08:00", "latest": "10:00", "every_minutes": 60},
            },
            {
                "name": "long",
                "length_hours": 4,
                "starts": {"earliest": "08:00"},
                "breaks": [
                    {"name": "lunch", "minutes": 30, "after_hours": [1.5, 2], "every_minutes": 30, "paid": False}
                ],
            },
        ]
    },
}


def small(**changes) -> Scenario:
    return Scenario.model_validate(SMALL).updated(changes) if changes else Scenario.model_validate(SMALL)


def covered(schedule, values: list[int]) -> np.ndarray:
    return schedule.coverage["scheduled"].to_numpy() - np.asarray(values, float)


@checked(30)
@given(st.lists(st.integers(0, 6), min_size=4, max_size=4))
def test_the_schedule_covers_the_requirement_in_every_interval(values):
    schedule = solve_schedule(small(), requirement_table(values))
    assert (covered(schedule, values) >= -1e-9).all()
    assert all(n > 0 for n in schedule.agents)
    paid = sum(p.cost * n for p, n in zip(schedule.patterns, schedule.agents, strict=True))
    assert schedule.cost == pytest.approx(paid)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=4, max_size=4))
def test_no_cheaper_integer_cover_exists(values):
    """Brute force over every count up to 4 per pattern (enough: coverage is ≥ 0.5 where positive, need ≤ 2)."""
    scenario = small()
    patterns = enumerate_patterns(scenario)
    coverage = np.array([p.coverage(scenario) for p in patterns])
    costs = np.array([p.cost for p in patterns])
    assert len(patterns) == 7 and set(np.unique(coverage)) == {0.0, 0.5, 1.0}
    counts = np.array(list(itertools.product(range(5), repeat=len(patterns))))
    feasible = (counts @ coverage >= np.asarray(values) - 1e-9).all(axis=1)
    cheapest = (counts[feasible] @ costs).min()
    assert solve_schedule(scenario, requirement_table(values)).cost == pytest.approx(cheapest)


def test_costs_per_paid_hour_steer_the_choice_and_unpaid_breaks_are_not_paid():
    scenario = small()
    schedule = solve_schedule(scenario, requirement_table([1, 1, 1, 1]))
    assert schedule.cost_unit == "paid hours"
    assert schedule.cost == pytest.approx(4.0)  # two 2-hour shifts; the 4-hour shift with lunch leaves a gap
    priced = scenario.updated({"costs": {"currency": "EUR", "groups": [{"group": "team", "per_paid_hour": 20}]}})
    assert solve_schedule(priced, requirement_table([1, 1, 1, 1])).cost == pytest.approx(80.0)
    long = [p for p in enumerate_patterns(scenario) if p.name == "long"]
    assert {p.paid_hours for p in long} == {3.5}


def test_a_pinned_break_takes_its_share_of_the_interval_off_the_phones():
    scenario = small(
        **{
            "horizon.interval_minutes": 30,
            "scheduling.shifts": [
                {
                    "name": "day",
                    "length_hours": 4,
                    "starts": {"earliest": "08:00"},
                    "breaks": [
                        {"name": "coffee", "minutes": 15, "after_hours": [1.5, 1.5]},
                        {"name": "lunch", "minutes": 30, "after_hours": [2.5, 2.5], "paid": False},
                    ],
                }
            ],
        }
    )
    (pattern,) = enumerate_patterns(scenario)
    assert pattern.coverage(scenario).tolist() == [1, 1, 1, 0.5, 1, 0, 1, 1]
    with pytest.raises(ScheduleError, match=r"needs 1 agent at 10:30 \(interval 5\), but every shift .* has a break"):
        solve_schedule(scenario, requirement_table([1] * 8))
    (shift,) = solve_schedule(scenario, requirement_table([1, 1, 1, 0, 1, 0, 1, 1])).roster()
    assert Shift.model_validate(shift.model_dump()) == shift
    assert [(b.name, b.window, b.minutes, b.paid) for b in shift.breaks] == [
        ("coffee", ("09:30", "09:45"), 15, True),
        ("lunch", ("10:30", "11:00"), 30, False),
    ]


def test_the_engine_starts_each_break_at_its_pinned_time():
    scenario = load_scenario(ROOT / "models" / "helpdesk_shifts.yaml")
    values = [4] * scenario.horizon.intervals
    schedule = solve_schedule(scenario, requirement_table(values))
    roster = schedule.roster()
    assert all(Shift.model_validate(s.model_dump()) == s for s in roster)
    run = simulate(scenario.updated({"roster": [s.model_dump() for s in roster]}), seed=3)
    breaks = run.activities[run.activities["kind"] == "break"]
    pinned = sorted(
        b.window_seconds[0] - scenario.horizon.start_seconds for s in roster for b in s.breaks for _ in range(s.agents)
    )
    assert sorted(breaks["planned"]) == pytest.approx(pinned)
    assert (breaks["start"] >= breaks["planned"]).all()


def test_an_interval_no_pattern_covers_is_named():
    scenario = small(**{"scheduling.shifts": [{"name": "late", "length_hours": 2, "starts": {"earliest": "10:00"}}]})
    with pytest.raises(ScheduleError, match=r"'team' needs 2 agents at 08:00 \(interval 0\), but no shift pattern"):
        solve_schedule(scenario, requirement_table([2, 0, 1, 1]))


def test_max_agents_too_low_names_the_interval():
    with pytest.raises(ScheduleError, match=r"needs 5 agents at 09:00 \(interval 1\), more than max_agents allows"):
        solve_schedule(small(**{"scheduling.max_agents": {"team": 4}}), requirement_table([1, 5, 1, 1]))
    with pytest.raises(ScheduleError, match=r"max_agents team: 3 is too low: .*falls short at \d\d:00 \(interval"):
        solve_schedule(small(**{"scheduling.max_agents": {"team": 3}}), requirement_table([3, 3, 3, 3]))


def test_scheduling_section_is_checked_against_the_centre(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        (ROOT / "models" / "helpdesk_shifts.yaml")
        .read_text()
        .replace("length_hours: 8.5", "length_hours: 13", 1)
        .replace("max_agents: {team: 45}", "max_agents: {crew: 45}")
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert "scheduling.shifts[0].starts: no 13-hour shift starting between 08:00 and 11:30 fits" in text
    assert "scheduling.max_agents.crew: unknown agent group 'crew'; known: team" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["models/helpdesk.yaml"], "models/helpdesk.yaml: no scheduling section; add one"),
        (["models/helpdesk_shifts.yaml", "--target", "1.5/20"], "--target: '1.5/20' is not a service level"),
        (["models/helpdesk_shifts.yaml", "--target", "0.8/soon"], "--target: '0.8/soon' is not a service level"),
        (["models/helpdesk_shifts.yaml", "--target", "80/20"], "--target: '80/20' is not a service level"),
        (["models/helpdesk_shifts.yaml", "--target", "0.8/"], "--target: '0.8/' has no threshold after '/'"),
        (["models/helpdesk_shifts.yaml", "--target", "0.8/-5"], "the threshold must be a number of seconds ≥ 0"),
    ],
)
def test_staff_bad_input_exits_2_with_an_error_line(args, expected):
    result = bposim("staff", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_staff_writes_a_roster_that_meets_the_target_on_fresh_days(tmp_path):
    result = bposim(
        "staff", "models/helpdesk_shifts.yaml", "--out", tmp_path / "roster.yaml", "--report", tmp_path / "roster.html"
    )
    assert result.returncode == 0, result.stderr
    assert "Cost: " in result.stdout and "EUR per day" in result.stdout
    roster = load_scenario(tmp_path / "roster.yaml")
    assert roster.roster and all(group.agents.count == 0 for group in roster.agent_groups)
    run = simulate(roster, seed=4242, replications=10)
    for call_type in roster.call_types:
        kpis = run.summary["by_call_type"][call_type.name]
        assert kpis["service_level"] + kpis["service_level_ci"] >= roster.service_level_for(call_type)[1]
    page = (tmp_path / "roster.html").read_text(encoding="utf-8")
    assert "requirement as the loop left it" in page and "scheduled, on the phones" in page


MULTI_SKILL = {
    "name": "Two teams",
    "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30},
    "service_level": {"threshold_seconds": 20, "target": 0.8},
    "call_types": [
        {
            "name": "en",
            "arrivals": {"per_interval": [60, 90, 120, 140, 150, 140, 120, 110, 100, 90, 80, 60]},
            "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            "patience": {"distribution": "exponential", "mean_seconds": 90},
        },
        {
            "name": "es",
            "arrivals": {"per_interval": [30, 40, 50, 60, 60, 55, 50, 45, 40, 35, 30, 25]},
            "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            "patience": {"distribution": "exponential", "mean_seconds": 120},
            "service_level": {"threshold_seconds": 30},
        },
    ],
    "agent_groups": [
        {"name": "english", "skills": ["en"]},
        {"name": "bilingual", "skills": ["es", {"call_type": "en", "priority": 2}]},
    ],
    "costs": {
        "currency": "EUR",
        "groups": [{"group": "english", "per_paid_hour": 20}, {"group": "bilingual", "per_paid_hour": 26}],
    },
    "scheduling": {
        "shifts": [
            {
                "name": "day",
                "length_hours": 6,
                "starts": {"earliest": "08:00"},
                "breaks": [{"name": "coffee", "minutes": 15, "after_hours": [2, 3.5], "every_minutes": 30}],
            },
            {"name": "part", "length_hours": [3, 4], "starts": {"earliest": "08:00", "latest": "11:00"}},
        ]
    },
}


def test_a_two_group_roster_meets_every_target_in_every_interval_on_fresh_days():
    """The optimised two-group roster on 100 days it never saw: every call type over the day, and every call type
    in every interval, is not below its target beyond the noise of those days (each interval's pooled service level
    within z standard errors of the target, z Bonferroni-corrected for the number of intervals at 1% overall)."""
    from scipy.stats import norm

    from bposim.optimise.roster import interval_service_levels

    scenario = Scenario.model_validate(MULTI_SKILL)
    plan = optimise_roster(scenario, seed=1, replications=6, max_rounds=6)
    assert set(plan.schedule.headcount) == {"english", "bilingual"} and all(plan.schedule.headcount.values())
    assert plan.converged and plan.simulations > 0 and plan.cost_unit == "EUR"
    run = simulate(plan.scenario, seed=987, replications=100)
    for call_type in plan.scenario.call_types:
        kpis = run.summary["by_call_type"][call_type.name]
        assert kpis["service_level"] + kpis["service_level_ci"] >= plan.scenario.service_level_for(call_type)[1]
    levels = interval_service_levels(run)
    z = norm.ppf(1 - 0.01 / len(levels))
    se = levels["service_level_ci"] / norm.ppf(0.975)
    short = levels[levels["service_level"] + z * se < levels["target"]]
    assert short.empty, short[["call_type", "interval_start", "service_level", "service_level_ci"]].to_string()
    assert plan.by_call_type["met"].all()


def test_the_loop_raises_missed_intervals_and_says_why_it_stopped(monkeypatch, tmp_path):
    """A requirement far too low: each round adds agents where the roster missed; at max_rounds the plan says
    which intervals still miss and by how much. The roster file reads back as the same scenario."""
    patience = {"distribution": "exponential", "mean_seconds": 60}
    scenario = small(
        **{
            "horizon.interval_minutes": 30,
            "call_types.support.arrivals.per_hour": 250,
            "call_types.support.patience": patience,
        }
    )
    fix_requirement(monkeypatch, [3] * 8)
    plan = optimise_roster(scenario, seed=2, replications=3, max_rounds=2)
    assert plan.rounds == 2 and not plan.converged
    assert plan.added["required"].tolist() == [1] * 8  # every interval missed in round 1
    assert (plan.schedule.coverage["required"] == 4).all()
    assert plan.shortfall.startswith("after 2 rounds, 8 interval(s) still miss their target: support ")
    assert "points short" in plan.shortfall and not plan.by_call_type["met"].any()
    assert plan.simulations == 3 * 3
    assert load_scenario(plan.to_yaml(tmp_path / "roster.yaml")) == plan.scenario


def test_the_trim_phase_makes_the_roster_no_dearer_and_every_interval_still_meets_its_target(monkeypatch):
    """Trimming after the loop, from a requirement with real slack (6 agents for 2 Erlangs): a kept trial is
    strictly cheaper, the saving is what the shifts cost less, the agents taken off are in the requirement the
    roster covers, and the trimmed roster keeps every target on its hold-out days and is not clearly below it on
    the search days. (A cut the search days only seem to allow is the next test's.)"""
    from bposim.optimise.evidence import HOLDOUT_SEED_OFFSET
    from bposim.optimise.roster import interval_service_levels

    scenario = small()
    fix_requirement(monkeypatch, [6, 6, 6, 6])
    loop_only = optimise_roster(scenario, seed=2, replications=6, max_rounds=2, trim_trials=0)
    plan = optimise_roster(scenario, seed=2, replications=6, max_rounds=2, trim_trials=8)
    assert loop_only.converged and plan.converged
    assert 0 < plan.trim_trials <= 8 and 0 < plan.trim_accepted <= plan.trim_trials
    assert plan.schedule.cost < loop_only.schedule.cost
    assert plan.schedule.cost == pytest.approx(loop_only.schedule.cost - plan.trim_saving)
    keys = ["group", "interval"]
    base = plan.requirement.table.set_index(keys)["required"]
    wanted = base.add(plan.added.set_index(keys)["required"], fill_value=0).sub(
        plan.trimmed.set_index(keys)["required"], fill_value=0
    )
    coverage = plan.schedule.coverage.set_index(keys)
    assert coverage["required"].tolist() == wanted.reindex(coverage.index).tolist()
    assert (coverage["scheduled"] >= coverage["required"] - 1e-9).all()
    assert plan.trimmed["required"].sum() > 0
    for seed in (2, 2 + HOLDOUT_SEED_OFFSET):
        levels = interval_service_levels(simulate(plan.scenario, seed=seed, replications=6))
        assert levels["met"].all()


def test_a_trim_that_breaks_a_target_is_undone_and_zero_trials_keep_the_loops_roster(monkeypatch):
    """A requirement at the edge: every interval meets 75/20 on the loop's search days (seed + LOOP_SEED_OFFSET),
    and the only cheaper roster (an agent fewer at 08:00) misses there; the trial is simulated, undone, and the
    loop's roster stays."""
    from bposim.optimise.evidence import LOOP_SEED_OFFSET
    from bposim.optimise.roster import interval_service_levels, roster_scenario

    scenario = small(**{"service_level": {"threshold_seconds": 20, "target": 0.75}})
    fix_requirement(monkeypatch, [4, 4, 4, 3])
    lines: list[str] = []
    plan = optimise_roster(scenario, seed=13, replications=4, max_rounds=1, progress=lines.append)
    loop_only = optimise_roster(scenario, seed=13, replications=4, max_rounds=1, trim_trials=0)
    assert plan.converged and plan.trim_trials >= 1 and plan.trim_accepted == 0 and plan.trim_saving == 0
    assert any(
        line.startswith("trim 1: one agent fewer required at team 08:00") and line.endswith("undone") for line in lines
    )
    assert loop_only.trim_trials == 0 and (loop_only.trimmed["required"] == 0).all()
    pd.testing.assert_frame_equal(plan.schedule.shifts, loop_only.schedule.shifts)
    lowered = solve_schedule(scenario, requirement_table([3, 4, 4, 3]))
    assert lowered.cost < plan.schedule.cost
    searched = interval_service_levels(
        simulate(roster_scenario(scenario, lowered), seed=13 + LOOP_SEED_OFFSET, replications=4)
    )
    assert (searched["service_level"] < searched["target"]).any()


def test_a_trim_without_a_margin_on_the_hold_out_days_is_not_kept(monkeypatch):
    """Only an agent fewer at 08:00 makes the roster cheaper. On the hold-out days (another seed than the search's)
    the interval after the cut still meets 80% by its point estimate, but not beyond its 95% confidence interval:
    the data do not support the cut, so the trial is undone and the loop's roster stays."""
    from bposim.optimise.evidence import HOLDOUT_SEED_OFFSET, SearchDays
    from bposim.optimise.roster import interval_service_levels, roster_scenario

    scenario = small(**{"service_level": {"threshold_seconds": 20, "target": 0.8}})
    fix_requirement(monkeypatch, [5, 4, 4, 4])
    lines: list[str] = []
    plan = optimise_roster(scenario, seed=4, replications=4, max_rounds=1, progress=lines.append)
    loop_only = optimise_roster(scenario, seed=4, replications=4, max_rounds=1, trim_trials=0)
    assert plan.converged and plan.trim_trials == 1 and plan.trim_accepted == 0
    (trial,) = [line for line in lines if line.startswith("trim 1: one agent fewer required at team 08:00")]
    assert "hold-out days support 09:00" in trial and trial.endswith("undone")
    pd.testing.assert_frame_equal(plan.schedule.shifts, loop_only.schedule.shifts)
    cut = roster_scenario(scenario, solve_schedule(scenario, requirement_table([4, 4, 4, 4])))
    holdout = SearchDays(4 + HOLDOUT_SEED_OFFSET, 4)
    holdout.batches = holdout.max_batches
    days = holdout.tables(cut)[0]
    levels = interval_service_levels(type("Days", (), {"intervals": days, "scenario": cut})())
    after = levels.set_index("interval_start").loc["09:00"]
    assert after["service_level"] >= 0.8 > after["service_level"] - after["service_level_ci"]


def test_staff_with_too_few_agents_allowed_names_the_interval_and_exits_2(tmp_path):
    """max_agents below what the requirement needs at the peak: a short error naming the group, the interval and
    the limit, exit status 2, no traceback."""
    model = tmp_path / "tight.yaml"
    model.write_text(
        (ROOT / "models" / "helpdesk_shifts.yaml")
        .read_text()
        .replace("max_agents: {team: 45}", "max_agents: {team: 8}")
    )
    result = bposim("staff", str(model))
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[-1].startswith(f"error: {model}: group 'team' needs ")
    assert "more than max_agents allows (team: 8)" in result.stderr


@pytest.mark.parametrize(
    ("target", "threshold", "expected"),
    [
        (0.0, None, "target must be a share of calls in (0, 1]"),
        (1.5, None, "target must be a share of calls in (0, 1]"),
        (0.8, -5.0, "threshold_seconds must be a number of seconds ≥ 0"),
    ],
)
def test_the_python_api_refuses_an_objective_that_is_not_one(target, threshold, expected):
    from bposim.optimise import staffing_requirement

    for call in (optimise_roster, staffing_requirement):
        with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace("]", r"\]")):
            call(small(), target=target, threshold_seconds=threshold, replications=1)
