"""Weekly tour scheduling: every contract rule and workable limit holds on the named schedule (checked from its
text, not from the programme), the requirement is covered, the roster is the cheapest (against every tour
enumerated on small horizons), and inputs nothing can meet give an error saying what."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from bposim.optimise.tours import (
    BreakWindow,
    Contract,
    Day,
    Limits,
    ShiftType,
    TourError,
    TourProblem,
    solve_tours,
)

H = 3600
DAY = 86_400


# --- the rules, checked from the named schedule -----------------------------------------------------------------


def _seconds(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * H + int(minutes) * 60


def _shift_of(problem: TourProblem, group: str, text: str) -> ShiftType:
    """The shift type a schedule cell ("08:00-16:30") names: the one of the group with those times."""
    start, end = (_seconds(part) for part in text.split("-"))
    (shift,) = [s for s in problem.shifts if s.group == group and (s.start, s.end) == (start, end)]
    return shift


def violations(problem: TourProblem, contract: Contract, tour: list[ShiftType | None]) -> list[str]:
    """Every rule of the contract one agent's days (a shift type or None per day) break."""
    found = []
    weeks = [range(start, min(start + 7, len(tour))) for start in range(0, len(tour), 7)]
    weekends_off = []
    for w, days in enumerate(weeks):
        worked = [d for d in days if tour[d] is not None]
        if not contract.min_days <= len(worked) <= contract.max_days:
            found.append(f"week {w}: {len(worked)} days worked")
        if any(not problem.days[d].open for d in worked):
            found.append(f"week {w}: works a closed day")
        runs = [len(list(run)) for off, run in itertools.groupby(tour[d] is None for d in days) if off]
        if max(runs, default=0) < min(contract.days_off_together, len(days)):
            found.append(f"week {w}: days off not {contract.days_off_together} together")
        weekend = [d for d in days if problem.days[d].weekday >= 5]
        off = [tour[d] is None for d in weekend]
        if contract.weekend == "one_off" and weekend and all(not day_off for day_off in off):
            found.append(f"week {w}: works the whole weekend")
        if contract.weekend == "both_off" and not all(off):
            found.append(f"week {w}: works at the weekend")
        weekends_off.append(all(off))
        if contract.max_weekly_hours is not None:
            paid = sum(tour[d].paid for d in worked)
            if paid > contract.max_weekly_hours + 1e-9:
                found.append(f"week {w}: {paid} paid hours")
        if contract.start_window_hours is not None and worked:
            starts = [tour[d].start for d in worked]
            if max(starts) - min(starts) > contract.start_window_hours * H:
                found.append(f"week {w}: starts spread over {(max(starts) - min(starts)) / H} h")
    if contract.weekend == "alternate" and not (all(weekends_off[0::2]) or all(weekends_off[1::2])):
        found.append("weekends not off every other week")
    shifts = [(d * DAY + shift.start, d * DAY + shift.end) for d, shift in enumerate(tour) if shift is not None]
    for (_, end), (start, _) in itertools.pairwise(shifts):
        if start - end < contract.min_rest_hours * H:
            found.append(f"rest of {(start - end) / H} h")
    return found


def check_plan(problem: TourProblem, plan, requirement: pd.DataFrame) -> None:
    """Every agent's weeks meet its contract, the workable limits hold and the requirement is covered, all read
    from the named schedule and the breaks of the assignments table."""
    schedule = plan.schedule
    names = problem.day_names
    contracts = {contract.name: contract for contract in problem.contracts}
    assert list(schedule.columns) == ["agent", "contract", "group", *names]
    assert schedule["agent"].is_unique
    breaks = {(row.agent, row.day): row.breaks for row in plan.assignments.itertuples()}
    on_phones = Counter()
    lines = Counter()
    for row in schedule.itertuples(index=False):
        contract = contracts[row.contract]
        cells = list(row)[3:]
        tour = [None if cell == "off" else _shift_of(problem, row.group, cell) for cell in cells]
        assert violations(problem, contract, tour) == [], row.agent
        for d, shift in enumerate(tour):
            if shift is None:
                continue
            lines[row.group, d, shift.start, shift.end] += 1
            day = problem.days[d]
            taken = [(_seconds(item.split()[-1]), item.split()[0]) for item in breaks[row.agent, d].split(", ") if item]
            for i in range(day.intervals):
                lo, hi = day.opens + i * day.interval_seconds, day.opens + (i + 1) * day.interval_seconds
                seconds = max(0, min(hi, shift.end) - max(lo, shift.start))
                for start, name in taken:
                    (window,) = [w for w in shift.breaks if w.name == name]
                    seconds -= max(0, min(hi, start + window.minutes * 60) - max(lo, start))
                on_phones[row.group, d, i] += seconds / day.interval_seconds
    for row in requirement.itertuples(index=False):
        assert on_phones[row.group, row.day, row.interval] >= row.required - 1e-6, row
    limits = problem.limits
    if limits.min_agents_per_line is not None:
        assert min(lines.values(), default=limits.min_agents_per_line) >= limits.min_agents_per_line
    if limits.max_starts_per_day is not None:
        starts = Counter((group, d) for group, d, _ in {(g, d, start) for g, d, start, _ in lines})
        assert max(starts.values(), default=0) <= limits.max_starts_per_day
    for contract in problem.contracts:
        if contract.max_agents is not None:
            assert plan.headcount[contract.name] <= contract.max_agents
    cost = sum(
        _shift_of(problem, row.group, cell).cost
        for row in schedule.itertuples()
        for cell in list(row)[4:]
        if cell != "off"
    )
    assert plan.cost == pytest.approx(cost)


# --- the cheapest roster, by enumerating every tour --------------------------------------------------------------


def enumerated_cost(problem: TourProblem, requirement: pd.DataFrame) -> float | None:
    """The cheapest roster over every tour of the whole horizon that meets its contract (an integer programme
    with one variable per tour, and binaries for the workable limits); None when none covers the requirement."""
    tours = []
    for c, contract in enumerate(problem.contracts):
        mine = [
            s
            for s in problem.shifts
            if s.group == contract.group and (contract.shifts is None or s.name in contract.shifts)
        ]
        tours += [
            (c, t)
            for t in itertools.product([None, *mine], repeat=len(problem.days))
            if not violations(problem, contract, list(t))
        ]
    limits = problem.limits
    keys = sorted({(d, s.name, s.start) for _, tour in tours for d, s in enumerate(tour) if s is not None})
    starts = sorted({(d, start) for d, _, start in keys})
    lines = {key: len(tours) + n for n, key in enumerate(keys)}  # binary: the line is used
    opened = {key: len(tours) + len(keys) + n for n, key in enumerate(starts)}  # binary: the start is used
    width = len(tours) + len(keys) + len(starts)
    rows, lower, upper = [], [], []

    def add(entries: dict[int, float], lo: float, hi: float) -> None:
        row = np.zeros(width)
        for column, value in entries.items():
            row[column] += value
        rows.append(row)
        lower.append(lo)
        upper.append(hi)

    for r in requirement.itertuples(index=False):
        if r.required > 0:
            day = problem.days[r.day]
            lo, hi = day.opens + r.interval * day.interval_seconds, day.opens + (r.interval + 1) * day.interval_seconds
            shares = {
                t: max(0, min(hi, s.end) - max(lo, s.start)) / day.interval_seconds
                for t, (_, tour) in enumerate(tours)
                if (s := tour[r.day]) is not None and s.group == r.group
            }
            add(shares, r.required - 1e-6, np.inf)
    for c, contract in enumerate(problem.contracts):
        if contract.max_agents is not None:
            add({t: 1.0 for t, (owner, _) in enumerate(tours) if owner == c}, 0, contract.max_agents)
    big = 50
    for d, name, start in keys:
        members = {t: 1.0 for t, (_, tour) in enumerate(tours) if tour[d] is not None and tour[d].name == name}
        if limits.min_agents_per_line is not None:
            add(members | {lines[d, name, start]: -big}, -np.inf, 0)
            add(members | {lines[d, name, start]: -limits.min_agents_per_line}, 0, np.inf)
        add(members | {opened[d, start]: -big}, -np.inf, 0)
    if limits.max_starts_per_day is not None:
        for day in range(len(problem.days)):
            add({opened[key]: 1.0 for key in starts if key[0] == day}, -np.inf, limits.max_starts_per_day)
    cost = [sum(s.cost for s in tour if s is not None) for _, tour in tours] + [0.0] * (width - len(tours))
    result = milp(
        cost,
        integrality=np.ones(width),
        bounds=Bounds(0, np.r_[np.full(len(tours), np.inf), np.ones(width - len(tours))]),
        constraints=LinearConstraint(np.array(rows).reshape(len(rows), width), lower, upper),
    )
    return None if result.x is None else float(result.fun)


# --- small horizons -----------------------------------------------------------------------------------------------


def toy_days(
    first_weekday: int = 4, count: int = 4, intervals: int = 4, closed: tuple[int, ...] = ()
) -> tuple[Day, ...]:
    """`count` days from a weekday (Friday: Fri-Mon), open 07:00-23:00 in 4-hour intervals."""
    return tuple(Day((first_weekday + d) % 7, intervals, 4 * H, 7 * H, open=d not in closed) for d in range(count))


EARLY = ShiftType("early", "team", 7 * H, 8 * H)  # 07:00-15:00
LATE = ShiftType("late", "team", 14 * H, 8 * H, cost_per_paid_hour=1.25)  # 14:00-22:00: 9 h rest before an early


def requirement_table(table: list[list[float]], group: str = "team") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"group": group, "day": d, "interval": i, "required": value}
            for d, values in enumerate(table)
            for i, value in enumerate(values)
        ]
    )


def test_a_small_roster_meets_every_rule_and_costs_what_enumerating_every_tour_costs():
    contract = Contract("full", "team", min_days=2, max_days=3, weekend="one_off", min_rest_hours=11)
    problem = TourProblem(toy_days(), (EARLY, LATE), (contract,))
    requirement = requirement_table([[2, 2, 1, 1], [1, 1, 2, 2], [2, 1, 1, 0], [1, 2, 2, 1]])
    plan = solve_tours(problem, requirement)
    check_plan(problem, plan, requirement)
    assert plan.optimal and plan.gap == pytest.approx(0, abs=1e-6)
    assert plan.cost == pytest.approx(enumerated_cost(problem, requirement))


def test_enumerated_cost_agrees_with_trying_every_roster():
    """The reference itself: on a 3-day horizon, every multiset of up to 4 tours tried."""
    contract = Contract("full", "team", min_days=1, max_days=2, min_rest_hours=11)
    problem = TourProblem(toy_days(count=3), (EARLY, LATE), (contract,))
    requirement = requirement_table([[1, 1, 1, 0], [0, 1, 2, 0], [1, 1, 0, 0]])
    tours = [t for t in itertools.product([None, EARLY, LATE], repeat=3) if not violations(problem, contract, list(t))]
    best = np.inf
    for size in range(1, 4):
        for roster in itertools.combinations_with_replacement(tours, size):
            covered = all(
                sum(
                    max(0, min(7 * H + (r.interval + 1) * 4 * H, s.end) - max(7 * H + r.interval * 4 * H, s.start))
                    / (4 * H)
                    for tour in roster
                    if (s := tour[r.day]) is not None
                )
                >= r.required
                for r in requirement.itertuples()
            )
            if covered:
                best = min(best, sum(s.cost for tour in roster for s in tour if s is not None))
    assert enumerated_cost(problem, requirement) == pytest.approx(best)
    assert solve_tours(problem, requirement).cost == pytest.approx(best)


CONTRACTS = st.builds(
    Contract,
    name=st.just("c"),
    group=st.just("team"),
    min_days=st.integers(0, 2),
    max_days=st.integers(2, 4),
    max_weekly_hours=st.sampled_from([None, 14.0, 20.0]),
    days_off_together=st.integers(0, 2),
    weekend=st.sampled_from(["any", "one_off", "both_off", "alternate"]),
    min_rest_hours=st.sampled_from([0.0, 11.0, 16.0]),
    start_window_hours=st.sampled_from([None, 0.0, 5.0]),
    max_agents=st.sampled_from([None, 2, 3]),
)
SHORT = ShiftType("short", "team", 15 * H, 6 * H)  # 15:00-21:00, 6 paid hours
NIGHT = ShiftType("night", "team", 19 * H, 8 * H, cost_per_paid_hour=1.5)  # 19:00-03:00


@settings(max_examples=60, deadline=None)
@given(
    contract=CONTRACTS,
    required=st.lists(st.lists(st.integers(0, 2), min_size=4, max_size=4), min_size=4, max_size=4),
    limits=st.sampled_from([Limits(), Limits(max_starts_per_day=1), Limits(min_agents_per_line=2)]),
)
def test_random_small_rosters_meet_every_rule_at_the_enumerated_cost(contract, required, limits):
    problem = TourProblem(toy_days(), (EARLY, LATE, SHORT, NIGHT), (contract,), limits)
    requirement = requirement_table(required)
    best = enumerated_cost(problem, requirement)
    try:
        plan = solve_tours(problem, requirement)
    except TourError:
        assert best is None
        return
    check_plan(problem, plan, requirement)
    assert best is not None and plan.cost == pytest.approx(best)


def two_weeks(open_days: tuple[int, ...]) -> tuple[Day, ...]:
    return tuple(Day(d % 7, 4, 4 * H, 7 * H, open=d in open_days) for d in range(14))


@settings(max_examples=40, deadline=None)
@given(
    required=st.lists(st.lists(st.integers(0, 2), min_size=4, max_size=4), min_size=4, max_size=4),
    min_days=st.integers(0, 1),
    weekend=st.sampled_from(["any", "alternate"]),
)
@example(required=[[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]], min_days=1, weekend="any")
def test_rest_holds_across_the_week_boundary_at_the_enumerated_cost(required, min_days, weekend):
    """Saturday, Sunday, Monday and Tuesday open: a late Sunday shift cannot be followed by an early Monday."""
    contract = Contract("c", "team", min_days=min_days, max_days=2, weekend=weekend, min_rest_hours=11)
    open_days = (5, 6, 7, 8)
    problem = TourProblem(two_weeks(open_days), (EARLY, LATE), (contract,))
    table = [[0] * 4 for _ in range(14)]
    for d, values in zip(open_days, required, strict=True):
        table[d] = values
    requirement = requirement_table(table)
    best = _enumerated_on(problem, requirement, open_days)
    plan = solve_tours(problem, requirement)
    check_plan(problem, plan, requirement)
    assert plan.cost == pytest.approx(best)


def _enumerated_on(problem: TourProblem, requirement: pd.DataFrame, open_days: tuple[int, ...]) -> float:
    """enumerated_cost with the closed days' None fixed (3^4 tours, not 3^14)."""
    (contract,) = problem.contracts
    tours = []
    for choice in itertools.product([None, EARLY, LATE], repeat=len(open_days)):
        tour = [None] * len(problem.days)
        for d, shift in zip(open_days, choice, strict=True):
            tour[d] = shift
        if not violations(problem, contract, tour):
            tours.append(tour)
    rows = requirement[requirement.required > 0]
    matrix = [
        [
            0.0
            if (s := tour[r.day]) is None
            else max(0, min(7 * H + (r.interval + 1) * 4 * H, s.end) - max(7 * H + r.interval * 4 * H, s.start))
            / (4 * H)
            for tour in tours
        ]
        for r in rows.itertuples()
    ]
    cost = [sum(s.cost for s in tour if s is not None) for tour in tours]
    if not matrix:
        return 0.0
    result = milp(
        cost, integrality=np.ones(len(tours)), constraints=LinearConstraint(np.array(matrix), rows.required - 1e-6)
    )
    return float(result.fun)


def test_a_late_sunday_and_an_early_monday_need_two_agents():
    contract = Contract("c", "team", min_days=0, max_days=2, min_rest_hours=11)
    problem = TourProblem(two_weeks((6, 7)), (EARLY, LATE), (contract,))
    table = [[0] * 4 for _ in range(14)]
    table[6] = [0, 0, 1, 0]  # Sunday afternoon: the late shift
    table[7] = [1, 0, 0, 0]  # Monday morning: the early shift
    plan = solve_tours(problem, requirement_table(table))
    assert sum(plan.headcount.values()) == 2
    assert set(plan.schedule["w1 Sun"]) == {"14:00-22:00", "off"} and set(plan.schedule["w2 Mon"]) == {
        "07:00-15:00",
        "off",
    }
    relaxed = TourProblem(
        problem.days, problem.shifts, (Contract("c", "team", min_days=0, max_days=2, min_rest_hours=9),)
    )
    assert sum(solve_tours(relaxed, requirement_table(table)).headcount.values()) == 1


def test_rest_between_days_of_a_week_can_take_an_agent_more():
    """One agent may work a late Friday and an early Saturday only when 9 hours' rest are enough."""
    requirement = requirement_table([[0, 0, 1, 0], [1, 0, 0, 0], [0] * 4, [0] * 4])
    tight = TourProblem(toy_days(), (EARLY, LATE), (Contract("c", "team", 0, 2, min_rest_hours=11, max_agents=1),))
    with pytest.raises(TourError, match="max_agents too low"):
        solve_tours(tight, requirement)
    loose = TourProblem(toy_days(), (EARLY, LATE), (Contract("c", "team", 0, 2, min_rest_hours=9, max_agents=1),))
    plan = solve_tours(loose, requirement)
    assert plan.schedule.iloc[0, 3:].tolist() == ["14:00-22:00", "07:00-15:00", "off", "off"]


# --- a week: the named schedule, the tours, breaks -----------------------------------------------------------------


def week_problem(limits: Limits = Limits()) -> TourProblem:
    days = tuple(Day(w, 12, H, 7 * H, label=f"2025-03-{3 + w:02d}") for w in range(7))
    lunch = (BreakWindow("lunch", 30, (3 * H, int(3.5 * H), 4 * H), paid=False),)
    shifts = tuple(ShiftType(f"s{start}", "team", start * H, int(8.5 * H), breaks=lunch) for start in (7, 8, 9, 10)) + (
        ShiftType("p", "team", 14 * H, 5 * H, cost_per_paid_hour=0.9),
    )
    contracts = (
        Contract("full", "team", 5, 5, 40, days_off_together=2, weekend="alternate", start_window_hours=1),
        Contract("part", "team", 2, 4, 15, weekend="one_off", max_agents=3),
    )
    return TourProblem(days, shifts, contracts, limits)


def week_requirement(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shape = np.array([2, 3, 4, 5, 5, 4, 4, 5, 5, 4, 3, 2])
    return requirement_table([list(np.maximum(shape + rng.integers(-1, 2, 12), 0)) for _ in range(7)])


@pytest.mark.parametrize("limits", [Limits(), Limits(max_starts_per_day=2, min_agents_per_line=2)])
def test_a_week_with_lunch_breaks_meets_every_rule_and_the_schedule_is_the_tours(limits):
    problem = week_problem(limits)
    requirement = week_requirement(3)
    plan = solve_tours(problem, requirement, time_limit=60)
    check_plan(problem, plan, requirement)
    schedule = plan.schedule
    assert list(schedule.columns[3:]) == [f"2025-03-{3 + w:02d}" for w in range(7)]
    counted = Counter(
        (row.contract, ", ".join(f"{day.name} {cell}" for day, cell in zip(problem.days, list(row)[4:], strict=True)))
        for row in schedule.itertuples()
    )
    tours = plan.tours
    assert dict(zip(zip(tours.contract, tours.tour, strict=True), tours.agents, strict=True)) == dict(counted)
    assert tours.agents.sum() == len(schedule) == sum(plan.headcount.values())
    assert (plan.coverage.scheduled >= plan.coverage.required - 1e-6).all()
    assert plan.paid_hours == pytest.approx(plan.assignments.paid_hours.sum())
    lunches = plan.assignments.query("shift != 'off' and shift != 'p'").breaks
    assert lunches.str.fullmatch(r"lunch \d\d:\d\d").all()


def test_the_workable_limits_cost_more_but_never_less():
    requirement = week_requirement(5)
    free = solve_tours(week_problem(), requirement)
    limited = solve_tours(week_problem(Limits(max_starts_per_day=2, min_agents_per_line=3)), requirement)
    assert limited.cost >= free.cost - 1e-6
    check_plan(week_problem(Limits(max_starts_per_day=2, min_agents_per_line=3)), limited, requirement)


# --- what cannot be met ---------------------------------------------------------------------------------------------


def test_an_interval_no_shift_covers_is_named():
    problem = TourProblem(toy_days(), (EARLY,), (Contract("c", "team", 1, 3),))
    with pytest.raises(
        TourError, match=r"group 'team' needs 2 agents on Sat 19:00 \(day 1, interval 3\), but no shift type"
    ):
        solve_tours(problem, requirement_table([[1, 0, 0, 0], [0, 0, 0, 2], [0] * 4, [0] * 4]))


def test_a_weekend_no_contract_works_is_named():
    problem = TourProblem(toy_days(), (EARLY,), (Contract("c", "team", 1, 2, weekend="both_off"),))
    with pytest.raises(TourError, match=r"on Sat 07:00 \(day 1, interval 0\), but no contract of 'team' works"):
        solve_tours(problem, requirement_table([[1, 0, 0, 0], [1, 0, 0, 0], [0] * 4, [0] * 4]))


def test_a_contract_no_week_can_meet_is_named():
    problem = TourProblem(week_problem().days, (EARLY,), (Contract("c", "team", 6, 6, days_off_together=2),))
    with pytest.raises(
        TourError,
        match=r"contract 'c' \(group 'team'\): no week 1 meets its rules \(6-6 days worked, at least 2 days off",
    ):
        solve_tours(problem, requirement_table([[1, 0, 0, 0]] + [[0] * 4] * 6))


def test_too_few_agents_for_the_week_is_named():
    """Two agents working five days of seven cannot be there all seven days."""
    problem = TourProblem(week_problem().days, (EARLY,), (Contract("full", "team", 5, 5, max_agents=2),))
    with pytest.raises(TourError, match=r"max_agents too low: no roster meets the requirement with at most full: 2"):
        solve_tours(problem, requirement_table([[2] + [0] * 11] * 7))


def test_too_few_start_times_are_named():
    problem = TourProblem(toy_days(), (EARLY, LATE), (Contract("c", "team", 1, 3),), Limits(max_starts_per_day=1))
    with pytest.raises(TourError, match=r"at most 1 start times per day \(limits\); without them one does"):
        solve_tours(problem, requirement_table([[1, 0, 0, 1], [0] * 4, [0] * 4, [0] * 4]))


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        (
            Contract("c", "team", weekend="sundays"),
            r"contracts\[0\] \('c'\)\.weekend: unknown rule 'sundays'; known: any",
        ),
        (Contract("c", "team", 4, 3), r"contracts\[0\] \('c'\): need 0 ≤ min_days ≤ max_days ≤ 7, got 4 and 3"),
        (
            Contract("c", "team", shifts=("noon",)),
            r"contracts\[0\] \('c'\)\.shifts: unknown shift type\(s\) noon; known: early",
        ),
        (Contract("c", "team", min_rest_hours=30), r"min_rest_hours must be in \[0, 24\], got 30"),
    ],
)
def test_bad_contracts_are_named(contract, message):
    with pytest.raises(TourError, match=message):
        solve_tours(TourProblem(toy_days(), (EARLY,), (contract,)), requirement_table([[0] * 4] * 4))


def test_a_bad_requirement_row_is_named():
    problem = TourProblem(toy_days(), (EARLY,), (Contract("c", "team", 1, 3),))
    with pytest.raises(
        TourError, match=r"requirement for group 'team' on day 2 at interval 9: the day has intervals 0-3"
    ):
        solve_tours(problem, pd.DataFrame([{"group": "team", "day": 2, "interval": 9, "required": 1}]))
    with pytest.raises(TourError, match=r"no contract staffs group 'sales'"):
        solve_tours(problem, pd.DataFrame([{"group": "sales", "day": 0, "interval": 0, "required": 1}]))
