"""Weeks that repeat are solved as one week (two with alternate weekends) and repeated: the roster still meets every
rule over the whole horizon (the rest across each week's turn above all), repeats week by week, never costs less
than the whole horizon's cheapest, and the solver prints nothing on the planner's terminal."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tours import EARLY, LATE, check_plan, requirement_table, week_problem

from bposim.optimise.tours import Contract, Day, Limits, TourProblem, solve_tours
from bposim.optimise.tours.checks import required_arrays
from bposim.optimise.tours.repeat import repeating_period

H = 3600
ROOT = Path(__file__).resolve().parent.parent


def weeks_of(week: list[list[float]], weeks: int) -> list[list[float]]:
    return [values for _ in range(weeks) for values in week]


def open_days(weeks: int, open_weekdays: tuple[int, ...]) -> tuple[Day, ...]:
    """Days from a Monday, open 07:00-23:00 in 4-hour intervals on the weekdays given."""
    return tuple(Day(d % 7, 4, 4 * H, 7 * H, open=d % 7 in open_weekdays) for d in range(7 * weeks))


def weekly_counts(plan) -> list[Counter]:
    """Per week, how many agents work each shift on each weekday."""
    table = plan.assignments
    return [
        Counter(zip(part.weekday, part["shift"], strict=True))
        for _, part in table[table["shift"] != "off"].groupby(table.day // 7)
    ]


def test_a_late_sunday_and_an_early_monday_every_week_need_two_agents():
    """Agents work Monday and Sunday, the only days open. A Sunday late shift cannot be followed by the next
    Monday's early one (9 h rest, 11 needed): one agent working both every week would break the rest at each week's
    turn."""
    contract = Contract("c", "team", min_days=2, max_days=2, min_rest_hours=11)
    problem = TourProblem(open_days(3, (0, 6)), (EARLY, LATE), (contract,))
    week = [[1, 0, 0, 0], *[[0] * 4] * 5, [0, 0, 1, 0]]
    requirement = requirement_table(weeks_of(week, 3))
    plan = solve_tours(problem, requirement)
    check_plan(problem, plan, requirement)
    assert sum(plan.headcount.values()) == 2
    assert plan.cost >= solve_tours(problem, requirement, repeat=False).cost - 1e-6


@settings(max_examples=20, deadline=None)
@given(
    week=st.lists(st.lists(st.integers(0, 2), min_size=4, max_size=4), min_size=4, max_size=4),
    weeks=st.integers(2, 3),
    min_days=st.integers(0, 1),
    weekend=st.sampled_from(["any", "one_off", "alternate"]),
)
def test_repeated_weeks_meet_every_rule_repeat_and_cost_no_less_than_the_whole_horizon(week, weeks, min_days, weekend):
    """Saturday to Tuesday open, the same requirement every week."""
    contract = Contract("c", "team", min_days=min_days, max_days=3, weekend=weekend, min_rest_hours=11)
    problem = TourProblem(open_days(weeks, (5, 6, 0, 1)), (EARLY, LATE), (contract,))
    table = [[0] * 4 for _ in range(7)]
    for weekday, values in zip((0, 1, 5, 6), week, strict=True):
        table[weekday] = values
    requirement = requirement_table(weeks_of(table, weeks))
    plan = solve_tours(problem, requirement)
    check_plan(problem, plan, requirement)
    whole = solve_tours(problem, requirement, repeat=False)
    assert plan.cost >= whole.cost - 1e-6
    period = 2 if weekend == "alternate" else 1
    counts = weekly_counts(plan)
    if weeks > period and counts:
        assert all(counts[w] == counts[w % period] for w in range(len(counts)))


def four_weeks(limits: Limits = Limits(), weekend: str = "alternate") -> TourProblem:
    """week_problem's shifts and contracts over four weeks, the full-timers' weekend rule `weekend`."""
    one = week_problem(limits)
    days = tuple(Day(d % 7, 12, H, 7 * H) for d in range(28))
    full, part = one.contracts
    return TourProblem(days, one.shifts, (replace(full, weekend=weekend), part), limits)


@pytest.mark.parametrize(
    ("limits", "weekend", "period"),
    [
        (Limits(), "alternate", 2),
        (Limits(max_starts_per_day=2, min_agents_per_line=2), "alternate", 2),
        (Limits(), "any", 1),
    ],
)
def test_four_weeks_repeat_and_each_agent_works_the_same_weeks_again(limits, weekend, period):
    """Alternate weekends repeat every two weeks (the crews take turns), other rules every week; each agent's
    weeks repeat too."""
    rng = np.random.default_rng(4)
    shape = np.array([2, 3, 4, 5, 5, 4, 4, 5, 5, 4, 3, 2])
    week = [list(np.maximum(shape + rng.integers(-1, 2, 12), 0)) for _ in range(7)]
    problem = four_weeks(limits, weekend)
    requirement = requirement_table(weeks_of(week, 4))
    assert repeating_period(problem, required_arrays(problem, requirement)) == period
    plan = solve_tours(problem, requirement)
    check_plan(problem, plan, requirement)
    counts = weekly_counts(plan)
    assert all(counts[w] == counts[w % period] for w in range(4))
    for row in plan.schedule.itertuples(index=False):
        cells = list(row)[3:]
        assert all(cells[d] == cells[d % (7 * period)] for d in range(28)), row.agent


def test_weeks_repeat_only_when_their_days_and_requirement_do():
    contract = Contract("c", "team", min_days=0, max_days=3)
    problem = TourProblem(open_days(3, (0, 1, 2)), (EARLY, LATE), (contract,))
    table = weeks_of([[1, 1, 0, 0]] * 3 + [[0] * 4] * 4, 3)
    assert repeating_period(problem, required_arrays(problem, requirement_table(table))) == 1
    changed = [list(values) for values in table]
    changed[15][0] = 2
    assert repeating_period(problem, required_arrays(problem, requirement_table(changed))) is None
    holiday = tuple(Day(day.weekday, 4, 4 * H, 7 * H, open=day.open and d != 8) for d, day in enumerate(problem.days))
    closed = [values if d != 8 else [0] * 4 for d, values in enumerate(table)]
    assert repeating_period(problem, required_arrays(problem, requirement_table(closed))) is None
    holiday_problem = TourProblem(holiday, problem.shifts, problem.contracts)
    assert repeating_period(holiday_problem, required_arrays(holiday_problem, requirement_table(closed))) is None
    alternate = TourProblem(problem.days, problem.shifts, (Contract("c", "team", weekend="alternate"),))
    assert repeating_period(alternate, required_arrays(alternate, requirement_table(table))) == 2
    two = TourProblem(open_days(2, (0, 1, 2)), problem.shifts, alternate.contracts)
    assert repeating_period(two, required_arrays(two, requirement_table(table[:14]))) is None


def test_the_solver_writes_nothing_on_standard_output():
    """What C code writes to file descriptor 1 while the solver runs goes nowhere; what the program prints before
    and after still reaches its standard output (a real process, its output captured by the operating system)."""
    script = textwrap.dedent(
        """
        import os
        from bposim.optimise.tours.quiet import quiet_solver
        print("before")
        with quiet_solver():
            os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\\n")
            print("inside")
        print("after")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout == "before\nafter\n"
    assert "Highs" not in done.stderr


def test_a_solve_with_the_workable_limits_prints_nothing():
    """A tour programme with lunch breaks and the workable limits, solved in a real process: its standard output
    holds only what the program prints."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests")
        from test_tours_repeat import four_weeks, requirement_for_four_weeks
        from bposim.optimise.tours import Limits, solve_tours
        limits = Limits(max_starts_per_day=2, min_agents_per_line=3)
        plan = solve_tours(four_weeks(limits), requirement_for_four_weeks())
        print("agents", len(plan.agents))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.startswith("agents ") and done.stdout.count("\n") == 1


def requirement_for_four_weeks():
    rng = np.random.default_rng(7)
    shape = np.array([2, 3, 4, 5, 5, 4, 4, 5, 5, 4, 3, 2])
    week = [list(np.maximum(shape + rng.integers(-1, 2, 12), 0)) for _ in range(7)]
    return requirement_table(weeks_of(week, 4))
