"""Invariants of the simulator that must hold for any small scenario and any seed, checked with hypothesis.

Scenarios are drawn as plain dicts (the YAML shape) so a failing example reads like a scenario file.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import SEEDS, answered_calls, checked, max_concurrent, scenario_specs, simulate, staffing_plans

import bposim
from bposim.scenario import SECONDS_PER_DAY

OUTCOMES = ("answered", "abandoned", "blocked", "unserved")
COUNTS = ("offered", *OUTCOMES, "answered_within_threshold", "abandoned_within_threshold")
TOL = 1e-9


# --- helpers --------------------------------------------------------------------------------------------------


def intervals_of(spec: dict) -> int:
    horizon = spec["horizon"]
    return round(horizon["length_hours"] * 60 / horizon["interval_minutes"])


def threshold_of(spec: dict, call_type: str) -> float:
    """A call type's service-level threshold in a scenario dict: its own if it has one, else the centre's."""
    own = next(c for c in spec["call_types"] if c["name"] == call_type).get("service_level", {})
    return own.get("threshold_seconds", spec["service_level"]["threshold_seconds"])


def proficiencies(spec: dict) -> dict[tuple[str, str], float]:
    """(group, call type) → handle-time multiplier."""
    return {
        (group["name"], skill["call_type"]): skill["proficiency"]
        for group in spec["agent_groups"]
        for skill in group["skills"]
    }


def counted_by_interval(calls: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per (day, interval) of arrival: calls offered, answered, answered within `threshold` and abandoned within it."""
    answered, abandoned = calls["outcome"] == "answered", calls["outcome"] == "abandoned"
    frame = pd.DataFrame(
        {
            "day": calls["day"],
            "interval": calls["interval"],
            "offered": 1,
            "answered": answered,
            "within": answered & (calls["wait"] <= threshold),
            "short": abandoned & (calls["wait"] <= threshold),
        }
    )
    return frame.groupby(["day", "interval"]).sum()


def service_level_of(counts: pd.DataFrame | pd.Series, definition: str):
    """Answered within the threshold over the definition's denominator (NaN where it is 0)."""
    denominators = {
        "offered": counts["offered"],
        "answered": counts["answered"],
        "offered_less_short_abandons": counts["offered"] - counts["short"],
    }
    denominator = np.asarray(denominators[definition], dtype=float)
    return counts["within"] / np.where(denominator > 0, denominator, np.nan)


# --- 1. conservation ------------------------------------------------------------------------------------------


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_every_attempt_has_one_outcome_and_every_table_counts_it_once(spec, seed):
    """Each attempt has one outcome; calls, intervals and summary agree on the counts, warm-up left out alike, and
    each interval's counts and service level are those of the calls that arrived in it."""
    run = simulate(spec, seed)
    scenario, calls = run.scenario, run.calls
    horizon = scenario.horizon
    assert calls["outcome"].notna().all()
    assert set(calls["outcome"].astype(str)) <= set(OUTCOMES)

    since_open = calls["arrival"] - calls["day"] * SECONDS_PER_DAY
    assert ((since_open >= 0) & (since_open < horizon.open_seconds)).all()
    assert (calls["interval"] == (since_open // horizon.interval_seconds).astype(int)).all()
    assert (calls["warmup"] == (since_open < horizon.warmup_minutes * 60)).all()

    kept = calls[~calls["warmup"]]
    intervals = run.intervals
    assert len(intervals) == horizon.days * horizon.intervals * len(scenario.call_types)
    for call_type in scenario.call_types:
        summary = run.summary["by_call_type"][call_type.name]
        mine = kept[kept["call_type"] == call_type.name]
        assert summary["offered"] == len(mine) == sum(summary[outcome] for outcome in OUTCOMES)
        for outcome in OUTCOMES:
            assert summary[outcome] == (mine["outcome"] == outcome).sum()
        assert summary["answered_within_threshold"] <= summary["answered"]
        assert summary["abandoned_within_threshold"] <= summary["abandoned"]
        # counted again from the calls table, with the threshold and definition as the scenario dict gives them
        definition = spec["service_level"]["definition"]
        counts = counted_by_interval(mine, threshold_of(spec, call_type.name))
        totals = counts.sum()
        assert (summary["answered_within_threshold"], summary["abandoned_within_threshold"]) == tuple(
            totals[["within", "short"]]
        )
        assert summary["service_level"] == pytest.approx(service_level_of(totals, definition), nan_ok=True)
        per_interval = intervals[intervals["call_type"] == call_type.name].set_index(["day", "interval"])
        for key in COUNTS:
            assert per_interval[key].sum() == summary[key]
        counts = counts.reindex(per_interval.index, fill_value=0)
        assert (per_interval["offered"] == counts["offered"]).all()
        assert (per_interval["answered_within_threshold"] == counts["within"]).all()
        assert (per_interval["abandoned_within_threshold"] == counts["short"]).all()
        expected = service_level_of(counts, definition)
        assert np.allclose(per_interval["service_level"], expected, rtol=1e-12, atol=0, equal_nan=True)
    for key in COUNTS:
        assert run.summary[key] == sum(run.summary["by_call_type"][ct.name][key] for ct in scenario.call_types)


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_attempts_of_a_caller_are_consecutive_and_retrials_follow_the_previous_attempt(spec, seed):
    """(call_id, attempt) is unique; a caller's attempts are 1..k, and each retrial follows an unanswered attempt."""
    run = simulate(spec, seed)
    calls = run.calls.sort_values(["call_id", "attempt"]).reset_index(drop=True)
    assert not calls.duplicated(["call_id", "attempt"]).any()
    by_caller = calls.groupby("call_id")
    assert (calls["attempt"] == by_caller.cumcount() + 1).all()
    assert (by_caller["call_type"].nunique() == 1).all()

    previous = by_caller[["end", "outcome"]].shift(1)
    retrial = calls["attempt"] > 1
    assert (calls.loc[retrial, "arrival"] >= previous.loc[retrial, "end"]).all()
    assert previous.loc[retrial, "outcome"].isin(["abandoned", "blocked"]).all()
    limit = {ct.name: ct.retrial.max_attempts if ct.retrial else 1 for ct in run.scenario.call_types}
    assert (calls["attempt"] <= calls["call_type"].map(limit).astype(int)).all()


# --- 2 and 3. agents ------------------------------------------------------------------------------------------


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_no_agent_is_on_two_calls_at_once(spec, seed):
    """The busy spans [answer, end + wrap] of one agent's calls never overlap."""
    answered = answered_calls(simulate(spec, seed).calls).assign(
        free=lambda frame: frame["end"] + frame["wrap_seconds"]
    )
    assert answered["agent"].notna().all()
    for _, spans in answered.sort_values(["answer", "free"]).groupby("agent", observed=True):
        starts, frees = spans["answer"].to_numpy(), spans["free"].to_numpy()
        assert np.all(starts[1:] >= frees[:-1] - TOL), spans[["call_id", "answer", "free"]]


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_calls_are_answered_only_by_agents_with_the_skill(spec, seed):
    """Every answered call's group holds a skill for its call type, and the agent belongs to that group."""
    run = simulate(spec, seed)
    calls = run.calls
    answered = answered_calls(calls)
    skills = set(proficiencies(spec))
    pairs = set(zip(answered["group"].astype(str), answered["call_type"].astype(str), strict=True))
    assert pairs <= skills
    group_of_agent = dict(zip(run.agents["agent"].astype(str), run.agents["group"].astype(str), strict=True))
    assert all(
        group_of_agent[a] == g
        for a, g in zip(answered["agent"].astype(str), answered["group"].astype(str), strict=True)
    )
    unanswered = calls[calls["outcome"] != "answered"]
    assert unanswered["agent"].isna().all()
    assert unanswered["group"].isna().all()


# --- 4. time sanity, patience and trunk lines -----------------------------------------------------------------


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_times_are_ordered_and_outcomes_need_their_cause(spec, seed):
    """answer ≥ arrival, end ≥ answer, wait ≥ 0; abandons need patience, blocks trunk lines; unserved means closed."""
    run = simulate(spec, seed)
    scenario, calls = run.scenario, run.calls
    answered = answered_calls(calls)
    assert (answered["answer"] >= answered["arrival"]).all()
    assert (answered["end"] >= answered["answer"]).all()
    assert np.allclose(answered["end"] - answered["answer"], answered["handle_seconds"], rtol=0, atol=1e-6)
    assert np.allclose(answered["wait"], answered["answer"] - answered["arrival"], rtol=0, atol=1e-6)
    assert (calls["wait"] >= 0).all()
    assert (calls["wrap_seconds"] >= 0).all()

    unanswered = calls[calls["outcome"] != "answered"]
    assert unanswered["answer"].isna().all()
    assert (unanswered["end"] >= unanswered["arrival"]).all()
    assert (unanswered[["handle_seconds", "wrap_seconds"]] == 0).all().all()

    blocked = calls[calls["outcome"] == "blocked"]
    if scenario.trunk_lines is None:
        assert blocked.empty
    assert (blocked["wait"] == 0).all()
    patient = {ct.name for ct in scenario.call_types if ct.patience is None}
    assert not calls.loc[calls["outcome"] == "abandoned", "call_type"].astype(str).isin(patient).any()

    close = calls["day"] * SECONDS_PER_DAY + scenario.horizon.open_seconds
    unserved = calls["outcome"] == "unserved"
    assert (calls.loc[unserved, "end"] >= close[unserved] - TOL).all()
    if scenario.horizon.closing == "clear":
        assert (answered["answer"] <= close[answered.index] + TOL).all()
        assert np.allclose(calls.loc[unserved, "end"], close[unserved], rtol=0, atol=1e-6)


@checked(80)
@given(spec=scenario_specs(), patience=st.just(0.0) | st.floats(0.5, 60.0) | st.floats(0.5, 300.0), seed=SEEDS)
def test_fixed_patience_is_exactly_how_long_abandoning_callers_waited(spec, patience, seed):
    """With a fixed patience P, every abandoned caller waited exactly P and nobody else waited longer than P."""
    spec = copy.deepcopy(spec)
    for call_type in spec["call_types"]:
        call_type["patience"] = {"distribution": "fixed", "value_seconds": patience}
    calls = simulate(spec, seed).calls
    abandoned = calls[calls["outcome"] == "abandoned"]
    assert np.allclose(abandoned["wait"], patience, rtol=0, atol=1e-6), abandoned[["call_id", "arrival", "wait"]]
    assert (calls["wait"] <= patience + 1e-6).all()


@checked(80)
@given(spec=scenario_specs(), trunk_lines=st.integers(0, 6), seed=SEEDS)
def test_trunk_lines_bound_the_calls_in_the_system(spec, trunk_lines, seed):
    """Never more than trunk_lines calls waiting or talking; a caller is blocked only when all lines are held."""
    spec = copy.deepcopy(spec)
    spec["trunk_lines"] = trunk_lines
    calls = simulate(spec, seed).calls
    held = calls[calls["outcome"] != "blocked"]
    arrival, end = held["arrival"].to_numpy(), held["end"].to_numpy()
    assert max_concurrent(arrival, end) <= trunk_lines
    for moment in calls.loc[calls["outcome"] == "blocked", "arrival"]:
        assert np.count_nonzero((arrival <= moment) & (end >= moment)) >= trunk_lines


# --- 5. occupancy and logged-in time --------------------------------------------------------------------------


@checked(100)
@given(spec=scenario_specs(), seed=SEEDS)
def test_occupancy_is_a_fraction_of_logged_in_time(spec, seed):
    """Busy ≤ logged-in seconds, occupancy in [0, 1] per agent and overall, and calls handled match the calls; the
    summary's occupancy, overall and per call type, is the calls' talk and wrap-up over the available time of the
    agents concerned (those of the groups holding the skill)."""
    run = simulate(spec, seed)
    agents = run.agents
    assert (agents["busy_seconds"] >= 0).all()
    assert (agents["busy_seconds"] <= agents["logged_in_seconds"] + 1e-6).all(), agents
    logged = agents[agents["logged_in_seconds"] > 0]
    assert ((logged["occupancy"] >= 0) & (logged["occupancy"] <= 1 + TOL)).all()
    overall = run.summary["occupancy"]
    assert np.isnan(overall) or 0 <= overall <= 1 + TOL
    for per_type in run.summary["by_call_type"].values():
        assert np.isnan(per_type["occupancy"]) or 0 <= per_type["occupancy"] <= 1 + TOL

    answered = answered_calls(run.calls)
    if run.scenario.horizon.warmup_minutes == 0:
        work = (answered["handle_seconds"] + answered["wrap_seconds"]).groupby(answered["agent"], observed=False).sum()
        handled = answered.groupby("agent", observed=False).size()
        names = agents["agent"].astype(str)
        assert np.allclose(agents["busy_seconds"], work.reindex(names).fillna(0).to_numpy(), rtol=1e-9, atol=1e-6)
        assert (agents["calls_handled"].to_numpy() == handled.reindex(names).fillna(0).to_numpy()).all()

        available = agents["logged_in_seconds"] - agents["off_phone_seconds"]
        busy = answered["handle_seconds"] + answered["wrap_seconds"]
        for call_type, kpis in [(None, run.summary), *run.summary["by_call_type"].items()]:
            holders = {group for group, held in proficiencies(spec) if call_type in (None, held)}
            mine, theirs = answered["group"].astype(str).isin(holders), agents["group"].astype(str).isin(holders)
            expected = busy[mine].sum() / available[theirs].sum() if available[theirs].sum() > 0 else np.nan
            assert kpis["occupancy"] == pytest.approx(expected, nan_ok=True), call_type


@st.composite
def staffing_gaps(draw) -> tuple[dict, int, int]:
    """A scenario without patience whose every group has no agents in the middle intervals [first, stop)."""
    spec = draw(scenario_specs(min_intervals=3))
    intervals = intervals_of(spec)
    first = draw(st.integers(1, intervals - 2))
    stop = draw(st.integers(first + 1, intervals - 1))
    for call_type in spec["call_types"]:
        call_type.pop("patience", None)
    for group in spec["agent_groups"]:
        plan = group["agents"]
        counts = list(plan["per_interval"]) if isinstance(plan, dict) else [plan] * intervals
        counts[first:stop] = [0] * (stop - first)
        group["agents"] = {"per_interval": counts}
    return spec, first, stop


@checked(80)
@given(gap=staffing_gaps(), seed=SEEDS)
def test_agents_answer_calls_only_while_logged_in(gap, seed):
    """While every group's staffing is 0, no call is answered (calls already in progress may finish)."""
    spec, first, stop = gap
    run = simulate(spec, seed)
    length = run.scenario.horizon.interval_seconds
    answers = answered_calls(run.calls)["answer"].to_numpy()
    for day in range(run.scenario.horizon.days):
        opened = day * SECONDS_PER_DAY
        inside = (answers > opened + first * length + TOL) & (answers < opened + stop * length - TOL)
        assert not inside.any(), np.sort(answers[inside])


@st.composite
def falling_plans(draw) -> dict:
    """A scenario whose groups' plans rise and fall from interval to interval, busy enough that falls find agents
    on calls (long calls, sometimes no patience)."""
    spec = draw(scenario_specs(min_intervals=2))
    intervals = intervals_of(spec)
    for call_type in spec["call_types"]:
        call_type["handle_time"] = {"distribution": "exponential", "mean_seconds": draw(st.floats(300.0, 1800.0))}
        call_type["arrivals"] = {"per_hour": draw(st.floats(10.0, 60.0))}
        if draw(st.booleans()):
            call_type.pop("patience", None)
    for group in spec["agent_groups"]:
        group["agents"] = {"per_interval": draw(st.lists(st.integers(0, 6), min_size=intervals, max_size=intervals))}
    return spec


def plan_in_effect(centre, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's planned count at each time (group × time), and whether the time is within opening hours."""
    horizon = centre.scenario.horizon
    # day d opens at d × 86,400 s; a one-day horizon may be open longer than a day, and its closing backlog may be
    # served past the next midnight, which opens nothing
    day = np.floor(times / SECONDS_PER_DAY) if horizon.days > 1 else np.zeros_like(times)
    since_open = times - day * SECONDS_PER_DAY
    interval = np.floor(since_open / horizon.interval_seconds).astype(int)
    is_open = (since_open < horizon.open_seconds) & (day < horizon.days)
    plans = np.array(centre.plans, dtype=float)
    return plans[:, np.clip(interval, 0, horizon.intervals - 1)], is_open


@checked(80)
@given(spec=falling_plans(), seed=SEEDS)
def test_after_a_fall_in_the_plan_no_call_starts_until_the_group_is_back_at_plan(spec, seed):
    """While open, no call starts for a group whose agents on calls are at or above its planned count; the agents
    logged in are never fewer than the plan, and more only while every one of them is on a call (whoever frees
    first logs out)."""
    from bposim.engine.model import Centre
    from bposim.engine.records import ANSWERED, CALL_FIELDS

    centre = Centre(bposim.Scenario.model_validate(spec), seed).run()
    records = centre.records.array()
    column = {name: i for i, name in enumerate(CALL_FIELDS)}
    answered = records[records[:, column["outcome"]] == ANSWERED]  # in the order the calls started
    answer = answered[:, column["answer"]]
    free = answer + (answered[:, column["handle_seconds"]] + answered[:, column["wrap_seconds"]])
    group_of = np.array([agent.group.index for agent in centre.agents])
    call_group = group_of[answered[:, column["agent"]].astype(int)]
    sessions = np.array(centre.workforce.sessions, dtype=float).reshape(-1, 4)
    session_group = group_of[sessions[:, 0].astype(int)]
    length = centre.scenario.horizon.interval_seconds

    before, _ = plan_in_effect(centre, answer - length / 2)  # a call at a boundary may start under either plan
    after, is_open = plan_in_effect(centre, answer)
    for g in range(len(centre.router.groups)):
        mine = np.flatnonzero((call_group == g) & is_open)
        for k in mine:
            others = mine[mine < k]
            busy = int(((answer[others] <= answer[k]) & (free[others] > answer[k])).sum())
            on_boundary = abs(answer[k] / length - round(answer[k] / length)) < 1e-9
            plan = max(after[g, k], before[g, k]) if on_boundary else after[g, k]
            assert busy < plan, (g, answer[k], busy, plan)

    moments = np.unique(np.concatenate([answer, free, sessions[:, 1], sessions[:, 2]]))
    moments = (moments[1:] + moments[:-1]) / 2
    planned, is_open = plan_in_effect(centre, moments)
    for g in range(len(centre.router.groups)):
        mine = session_group == g
        logged = np.searchsorted(np.sort(sessions[mine, 1]), moments, side="right") - np.searchsorted(
            np.sort(sessions[mine, 2]), moments, side="right"
        )
        calls = call_group == g
        busy = np.searchsorted(np.sort(answer[calls]), moments, side="right") - np.searchsorted(
            np.sort(free[calls]), moments, side="right"
        )
        assert (logged[is_open] >= planned[g, is_open]).all()
        above = is_open & (logged > planned[g])
        assert (busy[above] == logged[above]).all(), moments[above & (busy != logged)][:5]


@st.composite
def unstaffed_closings(draw) -> dict:
    """A two-day scenario without patience that closes (serve) with no agent logged in in the last interval."""
    spec = draw(scenario_specs())
    intervals = intervals_of(spec)
    spec["horizon"].update(days=2, closing="serve")
    for call_type in spec["call_types"]:
        call_type.pop("patience", None)
    for group in spec["agent_groups"]:
        plan = group["agents"]
        counts = list(plan["per_interval"]) if isinstance(plan, dict) else [plan] * intervals
        group["agents"] = {"per_interval": [*counts[:-1], 0]}
    return spec


OVERNIGHT = {
    "name": "nobody at closing",
    "horizon": {"length_hours": 1, "interval_minutes": 30, "days": 2, "closing": "serve"},
    "call_types": [
        {"name": "sales", "arrivals": {"per_hour": 20}, "handle_time": {"distribution": "fixed", "value_seconds": 60}}
    ],
    "agent_groups": [{"name": "generalists", "skills": ["sales"], "agents": {"per_interval": [1, 0]}}],
}


@checked(30)
@example(spec=OVERNIGHT, seed=3)
@given(spec=unstaffed_closings(), seed=SEEDS)
def test_each_day_opens_afresh(spec, seed):
    """Every attempt is over before the next day opens: no caller of day d is answered or still waiting on day d + 1."""
    calls = simulate(spec, seed).calls
    next_opening = (calls["day"] + 1) * SECONDS_PER_DAY
    carried = calls[(calls["answer"] >= next_opening) | (calls["end"] >= next_opening)]
    assert carried.empty, carried[["call_id", "day", "arrival", "answer", "end", "outcome"]]


def without_callers(spec: dict) -> dict:
    """The same centre with nobody calling."""
    quiet = copy.deepcopy(spec)
    for call_type in quiet["call_types"]:
        call_type["arrivals"] = {"per_hour": 0.0}
    return quiet


@checked(30)
@example(spec=OVERNIGHT, seed=0)
@given(spec=scenario_specs(), seed=SEEDS)
def test_agents_table_has_the_same_columns_and_dtypes_whatever_happened(spec, seed):
    """The agents table's columns and dtypes do not depend on whether anyone called; seconds are floats."""
    busy, quiet = simulate(spec, seed).agents, simulate(without_callers(spec), seed).agents
    assert busy.dtypes.to_dict() == quiet.dtypes.to_dict()
    for column in ("busy_seconds", "idle_seconds", "logged_in_seconds", "occupancy"):
        assert quiet[column].dtype == np.float64, column


# --- 6. reproducibility ---------------------------------------------------------------------------------------


@checked(60)
@given(spec=scenario_specs(), seed=SEEDS)
def test_the_same_seed_gives_the_same_run(spec, seed):
    """Simulating twice with one seed gives identical calls, intervals and agents tables."""
    first, again = simulate(spec, seed), simulate(spec, seed)
    pd.testing.assert_frame_equal(first.calls, again.calls)
    pd.testing.assert_frame_equal(first.intervals, again.intervals)
    pd.testing.assert_frame_equal(first.agents, again.agents)


@checked(30)
@given(spec=scenario_specs(), seeds=st.lists(SEEDS, min_size=2, max_size=2, unique=True))
def test_different_seeds_give_different_calls(spec, seeds):
    """Two seeds give different calls when callers are sure to arrive."""
    spec = copy.deepcopy(spec)
    spec.pop("busyness", None)
    spec["call_types"][0]["arrivals"] = {"per_hour": 30.0}
    first, second = (simulate(spec, seed) for seed in seeds)
    assert not first.calls.equals(second.calls)


# --- 7. common random numbers ---------------------------------------------------------------------------------


@st.composite
def restaffed(draw) -> tuple[dict, dict]:
    """A scenario and a copy of it with only the agent groups' staffing plans redrawn."""
    spec = draw(scenario_specs())
    other = copy.deepcopy(spec)
    for group in other["agent_groups"]:
        group["agents"] = draw(staffing_plans(intervals_of(spec)))
    return spec, other


@checked(80)
@given(pair=restaffed(), seed=SEEDS)
def test_changing_staffing_keeps_callers_and_their_work(pair, seed):
    """With one seed, other staffing leaves first attempts' arrivals, types and base handle and wrap times alone."""
    spec, other = pair
    first, second = (simulate(s, seed).calls for s in (spec, other))
    columns = ["call_id", "call_type", "arrival"]
    callers = [
        calls.loc[calls["attempt"] == 1, columns].sort_values("call_id").reset_index(drop=True)
        for calls in (first, second)
    ]
    pd.testing.assert_frame_equal(callers[0], callers[1])

    multiplier = proficiencies(spec)
    work = []
    for calls in (first, second):
        answered = answered_calls(calls[calls["attempt"] == 1])
        keys = zip(answered["group"].astype(str), answered["call_type"].astype(str), strict=True)
        base = answered["handle_seconds"].to_numpy() / np.array([multiplier[key] for key in keys], dtype=float)
        work.append(pd.DataFrame({"call_id": answered["call_id"], "base": base, "wrap": answered["wrap_seconds"]}))
    both = work[0].merge(work[1], on="call_id", suffixes=("_first", "_second"))
    assert np.allclose(both["base_first"], both["base_second"], rtol=1e-12, atol=1e-9)
    assert (both["wrap_first"] == both["wrap_second"]).all()


# --- 8. replications ------------------------------------------------------------------------------------------


@checked(30)
@given(spec=scenario_specs(), seed=SEEDS)
def test_replication_r_does_not_depend_on_how_many_are_run(spec, seed):
    """Replication 0 of three equals a single run, and replication 1 is the same in runs of two and of three."""
    three, two, one = (simulate(spec, seed, replications=n) for n in (3, 2, 1))
    for table in ("calls", "intervals", "agents"):
        assert set(getattr(three, table)["replication"]) <= {0, 1, 2}
    assert set(three.intervals["replication"]) == {0, 1, 2}

    def part(run: bposim.Run, table: str, replication: int) -> pd.DataFrame:
        frame = getattr(run, table)
        return frame[frame["replication"] == replication].drop(columns="replication").reset_index(drop=True)

    for table in ("calls", "intervals", "agents"):
        pd.testing.assert_frame_equal(part(three, table, 0), getattr(one, table))
        pd.testing.assert_frame_equal(part(three, table, 1), part(two, table, 1))


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["exponential", "lognormal", "gamma", "weibull"]),
    mean=st.floats(10.0, 600.0),
    spread=st.floats(0.3, 2.5),
    quantile=st.floats(0.3, 0.999),
)
def test_a_truncated_distribution_stays_below_its_max_and_has_the_mean_it_says(kind, mean, spread, quantile):
    """Every draw is at most max_seconds, and the sample mean is within 5 standard errors of `mean`."""
    from pydantic import TypeAdapter

    from bposim.distributions import Distribution

    adapter = TypeAdapter(Distribution)
    law = adapter.validate_python(
        {
            "distribution": kind,
            "mean_seconds": mean,
            **({"shape": 1 / spread} if kind == "weibull" else {"cv": spread} if kind != "exponential" else {}),
        }
    )
    cap = float(law._law().ppf(quantile))
    truncated = adapter.validate_python({**law.model_dump(), "max_seconds": cap})
    draws = truncated.sample(np.random.default_rng(7), 20_000)
    assert draws.max() <= cap and draws.min() >= 0
    assert truncated.mean < law.mean
    assert abs(draws.mean() - truncated.mean) <= 5 * draws.std() / np.sqrt(len(draws)) + 1e-9 * cap
