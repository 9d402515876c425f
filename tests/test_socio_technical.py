"""The socio-technical features: rosters with breaks, absence and shrinkage, tool outages and their effects,
self-service bots, callbacks, AI assist and the learning curve, checked in the run's tables.

Scenarios are built as plain dicts (the YAML shape), so a failing example reads like a scenario file.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from scenario_texts import changed
from strategies import SEEDS, answered_calls, checked, max_concurrent, scenario_specs, simulate

import bposim
from bposim.scenario import SECONDS_PER_DAY

GROUPS = ("front", "back", "experts")
CALL_TYPES = ("sales", "billing")
TOL = 1e-6
PLANNED = re.compile(r"^[a-z]+-\d{3}$")


def clock(quarters: int, opening: int = 8) -> str:
    """HH:MM of `quarters` quarter-hours after `opening` o'clock."""
    return f"{opening + quarters // 4:02d}:{quarters % 4 * 15:02d}"


def fixed(seconds: float) -> dict:
    return {"distribution": "fixed", "value_seconds": seconds}


def exponential(seconds: float) -> dict:
    return {"distribution": "exponential", "mean_seconds": seconds}


def inside(times: np.ndarray, starts: np.ndarray, ends: np.ndarray, closed: bool = False) -> np.ndarray:
    """For each time, whether it lies in some window [start, end) (or [start, end] when `closed`)."""
    times = np.asarray(times, dtype=float)[:, None]
    starts, ends = np.asarray(starts, dtype=float)[None, :], np.asarray(ends, dtype=float)[None, :]
    within = (times >= starts) & ((times <= ends) if closed else (times < ends))
    return within.any(axis=1)


def strictly_inside(times: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each time, whether it lies in the interior (start, end) of some window."""
    times = np.asarray(times, dtype=float)[:, None]
    starts, ends = np.asarray(starts, dtype=float)[None, :], np.asarray(ends, dtype=float)[None, :]
    return ((times > starts + TOL) & (times < ends - TOL)).any(axis=1)


def windows_of(run: bposim.Run, tool: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times of the outages of one tool."""
    mine = run.outages[run.outages["tool"] == tool]
    return mine["start"].to_numpy(), mine["end"].to_numpy()


# --- strategies -----------------------------------------------------------------------------------------------


@st.composite
def break_specs(draw, name: str, start_q: int, end_q: int) -> dict:
    """A break whose window lies inside the shift [start_q, end_q] (quarter-hours after opening) and fits it."""
    minutes = draw(st.sampled_from([10, 15, 30]))
    need = -(-minutes // 15)
    low = draw(st.integers(start_q, end_q - need))
    high = draw(st.integers(low + need, end_q))
    return {"name": name, "minutes": minutes, "window": [clock(low), clock(high)], "paid": draw(st.booleans())}


@st.composite
def rostered_specs(draw) -> dict:
    """A small rostered centre: 1–3 groups, shifts with breaks, absence, shrinkage and tools that take groups down."""
    open_q = draw(st.integers(3, 6)) * 4
    groups = list(GROUPS[: draw(st.integers(1, 3))])
    types = list(CALL_TYPES[: draw(st.integers(1, 2))])
    skills = {group: draw(st.sets(st.sampled_from(types), min_size=1)) for group in groups}
    for name in types:
        if not any(name in held for held in skills.values()):
            skills[draw(st.sampled_from(groups))].add(name)
    roster = []
    for _ in range(draw(st.integers(1, 4))):
        start_q = draw(st.integers(0, open_q - 4))
        end_q = draw(st.integers(start_q + 4, open_q + 4))
        roster.append(
            {
                "group": draw(st.sampled_from(groups)),
                "start": clock(start_q),
                "end": clock(end_q),
                "agents": draw(st.integers(0, 4)),
                "breaks": [draw(break_specs(f"break{b}", start_q, end_q)) for b in range(draw(st.integers(0, 2)))],
            }
        )
    agent_groups = []
    for group in groups:
        spec = {"name": group, "skills": sorted(skills[group]), "agents": draw(st.sampled_from([0, 0, 0, 1, 2]))}
        if draw(st.integers(0, 3)) == 0:
            spec["absence"] = {"probability": draw(st.floats(0.0, 0.6))}
        agent_groups.append(spec)
    tools = []
    for t in range(draw(st.integers(0, 2))):
        effect = {"type": "down", "in_progress": draw(st.sampled_from(["finish", "drop"]))}
        tool: dict = {"name": f"tool{t}", "effects": [effect]}
        if draw(st.booleans()):
            tool["effects"][0]["groups"] = sorted(draw(st.sets(st.sampled_from(groups), min_size=1)))
        if draw(st.booleans()):
            tool["effects"].append({"type": "slow", "multiplier": draw(st.floats(0.5, 2.0))})
        if draw(st.booleans()):
            tool["failures"] = {
                "time_between": exponential(draw(st.floats(900.0, 7200.0))),
                "repair": exponential(draw(st.floats(60.0, 1800.0))),
            }
        tool["maintenance"] = [
            {"start": clock(draw(st.integers(0, open_q - 1))), "minutes": draw(st.floats(5, 90))}
            for _ in range(draw(st.integers(0 if "failures" in tool else 1, 2)))
        ]
        tools.append(tool)
    spec = {
        "name": "rostered",
        "horizon": {
            "start": "08:00",
            "end": clock(open_q),
            "interval_minutes": draw(st.sampled_from([15, 30, 60])),
            "days": draw(st.integers(1, 2)),
            "closing": draw(st.sampled_from(["serve", "clear"])),
        },
        "call_types": [
            {
                "name": name,
                "arrivals": {"per_hour": draw(st.floats(5.0, 60.0))},
                "handle_time": exponential(draw(st.floats(60.0, 400.0))),
                "after_call_work": exponential(draw(st.floats(5.0, 60.0))),
                "patience": exponential(draw(st.floats(30.0, 600.0))),
            }
            for name in types
        ],
        "agent_groups": agent_groups,
        "roster": roster,
        "tools": tools,
    }
    if draw(st.booleans()):
        spec["absence"] = {"probability": draw(st.floats(0.0, 0.6))}
    if draw(st.booleans()):
        spec["shrinkage"] = {"per_hour": draw(st.floats(0.0, 3.0)), "duration": exponential(draw(st.floats(60, 900)))}
    return spec


# --- agents take calls only while logged in and on the phones -------------------------------------------------


def shift_windows(scenario: bposim.Scenario) -> dict[str, tuple[float, float]]:
    """Rostered agent name → (log-in, log-out) in seconds after the day's opening. With `closing: serve`, a shift
    that ends at or after closing has no log-out of its own: its agents stay while callers wait."""
    opening = scenario.horizon.start_seconds
    windows = {}
    for number, shift in enumerate(scenario.roster, start=1):
        end = shift.end_seconds - opening
        if scenario.horizon.closing == "serve" and end >= scenario.horizon.open_seconds:
            end = np.inf
        for slot in range(1, shift.agents + 1):
            name = f"{shift.group}-s{number}-{slot:03d}"
            windows[name] = (shift.start_seconds - opening, end)
    return windows


def answers_in_spans(answered: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """The answered calls whose answer falls in a span [start, end) of the same agent."""
    both = answered[["call_id", "attempt", "agent", "answer"]].merge(
        spans[["agent", "start", "end"]], on="agent", how="inner"
    )
    return both[(both["answer"] >= both["start"]) & (both["answer"] < both["end"])]


@checked(100)
@given(spec=rostered_specs(), seed=SEEDS)
def test_agents_answer_only_in_their_shift_and_never_on_a_break_absent_or_down(spec, seed):
    """Answers fall inside the agent's shift, outside its breaks and shrinkage, not on absent days, not while down."""
    run = simulate(spec, seed)
    scenario, calls, activities = run.scenario, run.calls, run.activities
    answered = calls[calls["answer"].notna()].copy()
    assert answered["outcome"].isin(["answered", "dropped"]).all()
    answered["agent"] = answered["agent"].astype(str)
    windows = shift_windows(scenario)
    names = answered["agent"]
    assert names.map(lambda name: name in windows or bool(PLANNED.match(name))).all(), set(names)

    rostered = answered[names.isin(windows)]
    since_open = rostered["answer"] - np.floor(rostered["answer"] / SECONDS_PER_DAY) * SECONDS_PER_DAY
    login, logout = np.array([windows[name] for name in rostered["agent"]], dtype=float).reshape(-1, 2).T
    outside = (since_open.to_numpy() < login - TOL) | (since_open.to_numpy() > logout + TOL)
    assert not outside.any(), rostered[outside]

    spans = activities[(activities["kind"] != "absence") & ~activities["missed"]].assign(
        agent=lambda frame: frame["agent"].astype(str)
    )
    on_break = answers_in_spans(answered, spans)
    assert on_break.empty, on_break

    absences = activities[activities["kind"] == "absence"]
    assert absences["agent"].astype(str).isin(windows).all()
    absent_days = set(
        zip(absences["agent"].astype(str), (absences["start"] // SECONDS_PER_DAY).astype(int), strict=True)
    )
    answer_days = zip(answered["agent"], (answered["answer"] // SECONDS_PER_DAY).astype(int), strict=True)
    assert not [key for key in answer_days if key in absent_days]

    group_of = answered["group"].astype(str)
    for tool in scenario.tools:
        starts, ends = windows_of(run, tool.name)
        for effect in tool.effects:
            if effect.type != "down":
                continue
            covered = group_of.isin(effect.groups or [g.name for g in scenario.agent_groups])
            during = covered & inside(answered["answer"].to_numpy(), starts, ends)
            assert not during.any(), (tool.name, answered[during])


# --- conservation with bots and callbacks ---------------------------------------------------------------------


@st.composite
def lever_specs(draw) -> dict:
    """A small centre with self-service in front of some call types, mostly callbacks, sometimes tools and trunks.

    Outages that cut calls off (in_progress: drop) are drawn only without callbacks: dropped callbacks are checked
    on their own, in test_dropped_callbacks_are_counted_like_other_dropped_calls.
    """
    types = list(CALL_TYPES[: draw(st.integers(1, 2))])
    trunks = draw(st.none() | st.integers(2, 15))
    bots = draw(st.sets(st.sampled_from(types)))
    call_types = []
    for name in types:
        spec = {
            "name": name,
            "arrivals": {"per_hour": draw(st.floats(20.0, 120.0))},
            "handle_time": exponential(draw(st.floats(60.0, 400.0))),
        }
        if draw(st.booleans()):
            spec["patience"] = exponential(draw(st.floats(10.0, 300.0)))
        if draw(st.booleans()):
            spec["retrial"] = {
                "after_abandon": draw(st.floats(0.0, 1.0)),
                "after_blocked": draw(st.floats(0.0, 1.0)) if trunks is not None else 0.0,
                "delay": exponential(draw(st.floats(10.0, 600.0))),
                "max_attempts": 3,
            }
        call_types.append(spec)
    spec = {
        "name": "levers",
        "horizon": {
            "start": "08:00",
            "end": clock(draw(st.integers(1, 3)) * 4),
            "interval_minutes": 30,
            "days": draw(st.integers(1, 2)),
            "warmup_minutes": draw(st.sampled_from([0, 0, 20])),
            "closing": draw(st.sampled_from(["serve", "clear"])),
        },
        "call_types": call_types,
        "agent_groups": [{"name": "front", "skills": types, "agents": draw(st.integers(1, 6))}],
        "technology": {
            "self_service": [
                {
                    "call_type": name,
                    "containment": draw(st.floats(0.0, 1.0)),
                    "bounce_back": draw(st.floats(0.0, 1.0)),
                    "bot_time": exponential(draw(st.floats(10.0, 300.0))),
                    "bounce_handle_multiplier": draw(st.floats(0.5, 2.0)),
                }
                for name in sorted(bots)
            ],
        },
    }
    callbacks = draw(st.integers(0, 3)) > 0
    if callbacks:
        spec["technology"]["callbacks"] = {
            "offer_when_wait_over_seconds": draw(st.floats(0.0, 300.0)),
            "acceptance": draw(st.floats(0.0, 1.0)),
            "deadline_minutes": draw(st.floats(1.0, 120.0)),
            "call_types": draw(st.none() | st.just(types[:1])),
        }
    if trunks is not None:
        spec["trunk_lines"] = trunks
    if draw(st.booleans()):
        effects = [{"type": "ivr_off"}, {"type": "arrivals_blocked"}, {"type": "down"}]
        effect = draw(st.sampled_from(effects if callbacks else [*effects, {"type": "down", "in_progress": "drop"}]))
        spec["tools"] = [
            {
                "name": "phones",
                "effects": [effect],
                "failures": {"time_between": exponential(1800.0), "repair": exponential(600.0)},
            }
        ]
    return spec


def entry_times(calls: pd.DataFrame) -> np.ndarray:
    """When each attempt reached the centre: callers who left the bot for the queue arrived bot_seconds earlier."""
    path = calls["path"].astype(str).to_numpy()
    return np.where(path == "bot_contained", calls["arrival"], calls["arrival"] - calls["bot_seconds"])


def check_conservation(run: bposim.Run) -> None:
    """Every live attempt has one outcome, counted once in the summary; each callback request has one callback, and
    the callbacks made within the deadline are counted from the calls table."""
    calls = run.calls
    live = calls[calls["path"] != "callback"]
    backs = calls[calls["path"] == "callback"]
    assert not live.duplicated(["call_id", "attempt"]).any()
    assert not backs.duplicated(["call_id", "attempt"]).any()

    kept = live[~live["warmup"]]
    bots = {bot.call_type for bot in run.scenario.technology.self_service}
    parts = ("answered", "abandoned", "blocked", "unserved", "dropped")
    for call_type in run.scenario.call_types:
        summary = run.summary["by_call_type"][call_type.name]
        mine = kept[kept["call_type"] == call_type.name]
        counts = mine["outcome"].value_counts()
        assert summary["offered"] == sum(summary[part] for part in parts), summary
        assert summary["offered"] + summary["contained"] + summary["callback_requests"] == len(mine)
        for outcome in (*parts, "contained"):
            assert summary[outcome] == counts.get(outcome, 0), outcome
        assert summary["callback_requests"] == counts.get("callback_requested", 0)
        if call_type.name not in bots:
            assert summary["contained"] == 0

    requests = live[live["outcome"] == "callback_requested"]
    assert (requests["wait"] == 0).all()
    paired = requests.merge(
        backs, on=["call_id", "attempt"], how="outer", suffixes=("_request", "_back"), indicator=True
    )
    assert (paired["_merge"] == "both").all(), paired[paired["_merge"] != "both"]
    assert (paired["call_type_request"] == paired["call_type_back"]).all()
    assert np.array_equal(paired["arrival_back"].to_numpy(), paired["end_request"].to_numpy())
    assert backs["outcome"].isin(["answered", "unserved", "dropped"]).all(), backs["outcome"].value_counts()
    made = backs[~backs["warmup"] & (backs["outcome"] == "answered")]
    assert run.summary["callbacks_made"] == len(made)
    callbacks = run.scenario.technology.callbacks
    deadline = callbacks.deadline_minutes * 60 if callbacks is not None else np.inf
    in_time, asked = int((made["wait"] <= deadline).sum()), int((kept["outcome"] == "callback_requested").sum())
    assert run.summary["callbacks_within_deadline"] == in_time
    assert run.summary["callback_service_level"] == pytest.approx(in_time / asked if asked else np.nan, nan_ok=True)


@checked(80)
@given(spec=lever_specs(), seed=SEEDS)
def test_every_live_attempt_is_counted_once_and_every_callback_request_gets_one_callback(spec, seed):
    """offered = answered + abandoned + blocked + unserved + dropped, contained and callback requests apart, and
    each callback request has exactly one callback, made from the moment of the request, that never abandons;
    without callbacks, live callers (in the bot or the queue) hold at most the trunk lines, and unless the front
    door shuts or calls are dropped, they are blocked only when every line is held."""
    run = simulate(spec, seed)
    check_conservation(run)
    effects = [effect for tool in run.scenario.tools for effect in tool.effects]
    other_blocks = any(effect.in_progress == "drop" or effect.type == "arrivals_blocked" for effect in effects)
    if run.scenario.trunk_lines is not None and run.scenario.technology.callbacks is None:
        check_trunk_lines(run.calls, run.scenario.trunk_lines, blocking=not other_blocks)


def check_trunk_lines(calls: pd.DataFrame, lines: int, blocking: bool = True) -> None:
    """Live callers, from entering (the bot or the queue) to leaving, never hold more than `lines`; with
    `blocking`, a caller gets a busy signal only when all lines are held."""
    held = calls[(calls["path"] != "callback") & (calls["outcome"] != "blocked")]
    entry, leave = entry_times(held), held["end"].to_numpy()
    assert max_concurrent(entry, leave) <= lines
    if blocking:
        moments = calls.loc[calls["outcome"] == "blocked", "arrival"].to_numpy()
        busy = ((entry[None, :] <= moments[:, None]) & (leave[None, :] >= moments[:, None])).sum(axis=1)
        assert (busy >= lines).all(), moments[busy < lines]


def callback_centre(**changes) -> dict:
    """A busy single-skill centre whose callers mostly take a callback."""
    spec = {
        "name": "callbacks",
        "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 30},
        "call_types": [
            {
                "name": "sales",
                "arrivals": {"per_hour": 100},
                "handle_time": exponential(300.0),
                "patience": exponential(300.0),
            }
        ],
        "agent_groups": [{"name": "front", "skills": ["sales"], "agents": 6}],
        "technology": {"callbacks": {"offer_when_wait_over_seconds": 0, "acceptance": 0.7}},
    }
    spec.update(changes)
    return spec


def test_dropped_callbacks_are_counted_like_other_dropped_calls():
    """With callbacks and an outage that drops calls in progress, the summary still adds up."""
    tools = [
        {
            "name": "pbx",
            "effects": [{"type": "down", "in_progress": "drop"}],
            "failures": {"time_between": exponential(1200.0), "repair": exponential(300.0)},
        }
    ]
    run = simulate(callback_centre(tools=tools), 0)
    assert (run.calls.loc[run.calls["path"] == "callback", "outcome"] == "dropped").any()
    check_conservation(run)


def test_trunk_lines_bound_the_live_callers_when_callbacks_are_made():
    """With trunk lines and callbacks, live callers in the system never exceed the trunk lines."""
    busy = [
        {
            "name": "sales",
            "arrivals": {"per_hour": 300},
            "handle_time": exponential(180.0),
            "patience": exponential(120.0),
        }
    ]
    four = [{"name": "front", "skills": ["sales"], "agents": 4}]
    run = simulate(callback_centre(trunk_lines=6, call_types=busy, agent_groups=four), 0)
    calls = run.calls
    assert (calls["path"] == "callback").sum() > 100
    check_trunk_lines(calls, 6)


def test_idle_overflow_agents_make_callbacks_at_once():
    """An overflow group whose delay outlasts every caller's patience never takes a live call, so its agents are
    idle: they make the callbacks as soon as they are requested, and callbacks are conserved."""
    groups = [
        {"name": "front", "skills": ["sales"], "agents": 6},
        {"name": "back", "skills": [{"call_type": "sales", "delay_seconds": 900}], "agents": 2},
    ]
    call_types = [
        {"name": "sales", "arrivals": {"per_hour": 100}, "handle_time": exponential(300.0), "patience": fixed(120.0)}
    ]
    run = simulate(callback_centre(agent_groups=groups, call_types=call_types), 0)
    calls = run.calls
    back = calls[calls["group"] == "back"]
    assert len(back) > 0 and (back["path"] == "callback").all(), "the overflow group takes callbacks only"
    requested = calls[calls["outcome"] == "callback_requested"].set_index(["call_id", "attempt"])["end"]
    made = back.set_index(["call_id", "attempt"])["answer"]
    at_once = made - requested.reindex(made.index)
    assert (at_once == 0).sum() > 0, "an idle overflow agent calls back when the callback is requested"
    check_conservation(run)


def test_a_dropped_call_frees_its_trunk_line():
    """With trunk lines and calls dropped by outages, callers are blocked only when every line is held."""
    tools = [
        {
            "name": "pbx",
            "effects": [{"type": "down", "in_progress": "drop"}],
            "failures": {"time_between": exponential(1200.0), "repair": exponential(60.0)},
        }
    ]
    busy = [
        {
            "name": "sales",
            "arrivals": {"per_hour": 120},
            "handle_time": exponential(400.0),
            "patience": exponential(100.0),
        }
    ]
    eight = [{"name": "front", "skills": ["sales"], "agents": 8}]
    run = simulate(callback_centre(trunk_lines=8, call_types=busy, agent_groups=eight, tools=tools, technology={}), 0)
    assert (run.calls["outcome"] == "dropped").sum() > 20
    check_trunk_lines(run.calls, 8)


# --- outage windows match what the calls went through ---------------------------------------------------------


def outage_centre(effect: dict, **changes) -> dict:
    """Two call types and two groups over two days, and a tool with random failures and daily maintenance."""
    spec = {
        "name": "outages",
        "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30, "days": 2},
        "call_types": [
            {
                "name": "sales",
                "arrivals": {"per_hour": 60},
                "handle_time": fixed(120.0),
                "patience": exponential(180.0),
                "retrial": {"after_abandon": 0.5, "delay": exponential(120.0)},
            },
            {
                "name": "billing",
                "arrivals": {"per_hour": 40},
                "handle_time": fixed(120.0),
                "patience": exponential(180.0),
            },
        ],
        "agent_groups": [
            {"name": "front", "skills": ["sales", "billing"], "agents": 2},
            {"name": "back", "skills": ["sales", "billing"], "agents": 2},
        ],
        "tools": [
            {
                "name": "kit",
                "effects": [effect],
                "failures": {"time_between": exponential(3600.0), "repair": exponential(900.0)},
                "maintenance": [{"start": "10:00", "minutes": 45}],
            }
        ],
    }
    spec.update(changes)
    return spec


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_callers_are_blocked_exactly_while_the_front_door_is_shut(seed):
    """With arrivals_blocked on sales: blocked sales calls arrived during an outage, all others outside one."""
    run = simulate(outage_centre({"type": "arrivals_blocked", "call_types": ["sales"]}), seed)
    calls = run.calls
    starts, ends = windows_of(run, "kit")
    assert len(starts) >= 2
    assert not (calls.loc[calls["call_type"] == "billing", "outcome"] == "blocked").any()
    sales = calls[calls["call_type"] == "sales"]
    blocked = sales["outcome"] == "blocked"
    assert blocked.sum() > 0
    assert inside(sales.loc[blocked, "arrival"].to_numpy(), starts, ends, closed=True).all()
    let_in = sales.loc[~blocked, "arrival"].to_numpy()
    assert not strictly_inside(let_in, starts, ends).any()
    arrivals = np.sort(calls.loc[calls["outcome"] == "blocked", "arrival"].to_numpy())
    counted = np.searchsorted(arrivals, ends, side="left") - np.searchsorted(arrivals, starts, side="left")
    assert (run.outages["blocked_during"].to_numpy() == counted).all()


def merged_starts(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The moments a tool goes from working to out: starts of the union of its outage windows."""
    order = np.argsort(starts, kind="stable")
    out, reach = [], -np.inf
    for start, end in zip(starts[order], ends[order], strict=True):
        if start > reach:
            out.append(start)
        reach = max(reach, end)
    return np.array(out)


@pytest.mark.parametrize("seed", [1, 2])
def test_down_with_drop_cuts_off_the_calls_in_talk_when_the_tool_goes_out(seed):
    """Down/drop on front: front's calls in talk when the tool goes out are dropped right then without wrap-up,
    no front call talks across that moment, back's calls are never dropped, and each outage counts its drops."""
    spec = outage_centre({"type": "down", "in_progress": "drop", "groups": ["front"]})
    spec["call_types"][0].update(handle_time=exponential(240.0), after_call_work=fixed(30.0))
    run = simulate(spec, seed)
    calls = run.calls
    starts, ends = windows_of(run, "kit")
    cuts = merged_starts(starts, ends)
    dropped = calls[calls["outcome"] == "dropped"]
    assert len(dropped) > 0
    assert (dropped["group"] == "front").all()
    assert np.isin(dropped["end"].to_numpy(), cuts).all()
    assert (dropped["wrap_seconds"] == 0).all()
    assert np.allclose(dropped["handle_seconds"], dropped["end"] - dropped["answer"], rtol=0, atol=TOL)
    kept = calls[(calls["outcome"] == "answered") & (calls["group"] == "front")]
    across = (kept["answer"].to_numpy()[:, None] < cuts[None, :]) & (kept["end"].to_numpy()[:, None] > cuts[None, :])
    assert not across.any()
    ended = np.sort(dropped["end"].to_numpy())
    counted = np.searchsorted(ended, ends, side="right") - np.searchsorted(ended, starts, side="left")
    assert (run.outages["dropped"].to_numpy() == counted).all()
    assert run.summary["dropped"] == len(dropped)


@pytest.mark.parametrize("seed", [1, 2])
def test_slow_outage_multiplies_the_talk_time_of_calls_answered_during_it(seed):
    """Slow ×1.5 on front/sales: those calls answered in an outage take h·1.5, every other call takes h."""
    multiplier, handle = 1.5, 120.0
    run = simulate(
        outage_centre({"type": "slow", "multiplier": multiplier, "groups": ["front"], "call_types": ["sales"]}), seed
    )
    answered = answered_calls(run.calls)
    starts, ends = windows_of(run, "kit")
    during = inside(answered["answer"].to_numpy(), starts, ends)
    covered = (answered["group"] == "front").to_numpy() & (answered["call_type"] == "sales").to_numpy()
    slowed = covered & during
    assert slowed.sum() > 0 and (~slowed).sum() > 0
    expected = np.where(slowed, handle * multiplier, handle)
    assert np.allclose(answered["handle_seconds"], expected, rtol=1e-12, atol=TOL), answered[
        ~np.isclose(answered["handle_seconds"], expected)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_callers_who_come_while_the_ivr_is_off_skip_the_bot(seed):
    """With ivr_off on the bot's call type, callers entering during an outage go straight to the queue; the others
    go through the bot, and those it bounces take the bounce multiplier on their handle time."""
    bot_time = 90.0
    spec = outage_centre(
        {"type": "ivr_off", "call_types": ["sales"]},
        technology={
            "self_service": [
                {
                    "call_type": "sales",
                    "containment": 0.4,
                    "bounce_back": 0.25,
                    "bot_time": fixed(bot_time),
                    "bounce_handle_multiplier": 1.5,
                }
            ]
        },
    )
    run = simulate(spec, seed)
    sales = run.calls[run.calls["call_type"] == "sales"]
    starts, ends = windows_of(run, "kit")
    path = sales["path"].astype(str).to_numpy()
    entry = entry_times(sales)
    off = strictly_inside(entry, starts, ends)
    on = ~inside(entry, starts, ends, closed=True)
    assert off.sum() > 0 and on.sum() > 0
    assert (sales["bot_seconds"].to_numpy()[off] == 0).all()
    assert (path[off] == "direct").all()
    assert np.allclose(sales["bot_seconds"].to_numpy()[on], bot_time)
    assert (path[on] != "direct").all()
    billing = run.calls[run.calls["call_type"] == "billing"]
    assert (billing["path"] == "direct").all() and (billing["bot_seconds"] == 0).all()
    answered = answered_calls(run.calls)
    bounced = (answered["path"] == "bot_bounce").to_numpy()
    assert bounced.sum() > 0
    assert np.allclose(answered["handle_seconds"], np.where(bounced, 180.0, 120.0))


def test_blocked_callers_may_retry_without_trunk_lines():
    """arrivals_blocked gives busy signals without trunk lines, so retrial.after_blocked must be allowed there too."""
    spec = outage_centre({"type": "arrivals_blocked", "call_types": ["sales"]})
    spec["call_types"][0]["retrial"] = {"after_blocked": 1.0, "delay": exponential(60.0), "max_attempts": 3}
    calls = simulate(spec, 1).calls
    blocked_first = calls[(calls["outcome"] == "blocked") & (calls["attempt"] == 1)]
    assert len(blocked_first) > 0
    retried = calls[calls["attempt"] == 2]["call_id"]
    assert blocked_first["call_id"].isin(retried).mean() > 0.9


# --- directions under common random numbers -------------------------------------------------------------------


DIRECTIONS = {
    "name": "directions",
    "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30},
    "service_level": {"threshold_seconds": 20},
    "call_types": [
        {
            "name": "support",
            "arrivals": {"per_hour": 100},
            "handle_time": exponential(240.0),
            "patience": exponential(180.0),
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["support"]}],
    "roster": [
        {
            "group": "team",
            "start": "08:00",
            "end": "16:00",
            "agents": 10,
            "breaks": [{"name": "lunch", "minutes": 30, "window": ["11:00", "14:00"]}],
        }
    ],
}
BOT = {"self_service": [{"call_type": "support", "containment": 0.5, "bot_time": fixed(60.0)}]}
DOWN = [{"name": "phones", "maintenance": [{"start": "10:00", "minutes": 30}], "effects": [{"type": "down"}]}]
SLOW = [
    {
        "name": "crm",
        "maintenance": [{"start": "10:00", "minutes": 60}],
        "effects": [{"type": "slow", "multiplier": 2.0}],
    }
]
CHANGES = {
    "a down outage": ({}, {"tools": DOWN}, "worse"),
    "a slow outage": ({}, {"tools": SLOW}, "worse"),
    "more absence": ({"absence": {"probability": 0.05}}, {"absence": {"probability": 0.25}}, "worse"),
    "lower containment": (
        {"technology": BOT, "call_types.support.arrivals.per_hour": 180},
        {"technology": BOT, "call_types.support.arrivals.per_hour": 180, "technology.self_service.0.containment": 0.3},
        "worse",
    ),
    "AI assist": ({}, {"technology.ai_assist": {"handle_time_multiplier": 0.8}}, "better"),
    "a learning curve": (
        {},
        {"agent_groups.team.learning_curve": {"start_multiplier": 2, "calls_to_halve": 20}},
        "worse",
    ),
}


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("change", list(CHANGES))
def test_changes_move_the_service_level_the_right_way(change, seed):
    """With the same seed and five replications: outages, absence, lower containment and learning never help; AI
    assist never hurts."""
    before, after, direction = copy.deepcopy(CHANGES[change])
    base = bposim.Scenario.model_validate(DIRECTIONS)
    first = base.updated(before) if before else base
    second = base.updated(after)
    levels = [bposim.simulate(s, seed=seed, replications=5).summary["service_level"] for s in (first, second)]
    if direction == "worse":
        assert levels[1] < levels[0], levels
    else:
        assert levels[1] > levels[0], levels


# --- the new features, left out or switched off, change nothing -----------------------------------------------


NO_OPS = {
    "empty tools": {"tools": []},
    "default technology": {"technology": {}},
    "empty roster": {"roster": []},
    "all three": {"tools": [], "technology": {}, "roster": []},
    "explicit nothing": {
        "technology": {"self_service": [], "ai_assist": None, "callbacks": None},
        "absence": None,
        "shrinkage": None,
    },
    "switched off": {
        "technology": {
            "ai_assist": {"enabled": False},
            "callbacks": {"enabled": False, "offer_when_wait_over_seconds": 0, "acceptance": 1},
        }
    },
    "a tool that never fails": {"tools": [{"name": "idle", "effects": [{"type": "arrivals_blocked"}]}]},
}


@checked(50)
@given(spec=scenario_specs(), no_op=st.sampled_from(list(NO_OPS)), seed=SEEDS)
def test_new_keys_left_empty_or_off_give_the_same_calls(spec, no_op, seed):
    """A scenario with empty tools, default technology and no roster (or switched-off levers) runs as without them."""
    plain = simulate(spec, seed)
    other = simulate({**copy.deepcopy(spec), **NO_OPS[no_op]}, seed)
    pd.testing.assert_frame_equal(plain.calls, other.calls)
    pd.testing.assert_frame_equal(plain.intervals, other.intervals)
    pd.testing.assert_frame_equal(plain.agents, other.agents)
    assert plain.activities.empty and plain.outages.empty


# --- validation -----------------------------------------------------------------------------------------------


VALID = {
    "name": "validation",
    "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30},
    "call_types": [{"name": "sales", "arrivals": {"per_hour": 30}, "handle_time": fixed(180.0)}],
    "agent_groups": [{"name": "team", "skills": ["sales"]}],
    "roster": [
        {
            "group": "team",
            "start": "08:00",
            "end": "12:00",
            "agents": 3,
            "breaks": [{"name": "coffee", "minutes": 15, "window": ["09:00", "10:00"]}],
        }
    ],
}
BAD = {
    "break that does not fit": ({"roster.0.breaks.0.window": ["09:00", "09:10"]}, "roster[0].breaks[0]", "fit"),
    "break window outside the shift": ({"roster.0.breaks.0.window": ["11:30", "12:30"]}, "roster[0]", "outside"),
    "unknown group": ({"roster.0.group": "nobody"}, "roster[0].group", "nobody"),
    "shift before opening": ({"roster.0.start": "07:00"}, "roster[0].start", "before"),
    "slow without multiplier": (
        {"tools": [{"name": "crm", "effects": [{"type": "slow"}], "maintenance": [{"start": "09:00", "minutes": 10}]}]},
        "tools[0].effects[0]",
        "multiplier",
    ),
    "down by call type": (
        {
            "tools": [
                {
                    "name": "crm",
                    "effects": [{"type": "down", "call_types": ["sales"]}],
                    "maintenance": [{"start": "09:00", "minutes": 10}],
                }
            ]
        },
        "tools[0].effects[0]",
        "call_types",
    ),
    "unknown bot call type": (
        {"technology": {"self_service": [{"call_type": "refunds", "containment": 0.5, "bot_time": fixed(60.0)}]}},
        "technology.self_service[0]",
        "refunds",
    ),
    "roster with length_hours": ({"horizon": {"start": "08:00", "length_hours": 6}}, "roster[0]", "end"),
}


def problems(tmp_path, data: dict) -> list[str]:
    """The problems load_scenario reports for `data` written as YAML (none if it loads)."""
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        bposim.load_scenario(path)
    except bposim.ScenarioError as error:
        assert error.source == str(path)
        return error.problems
    return []


def test_the_valid_scenario_loads(tmp_path):
    """The base of the bad cases is itself valid."""
    assert problems(tmp_path, VALID) == []


@pytest.mark.parametrize("case", list(BAD))
def test_bad_socio_technical_fields_are_named(case, tmp_path):
    """Each mistake is reported as a ScenarioError naming its field path and what is wrong."""
    change, path, word = BAD[case]
    found = problems(tmp_path, changed(VALID, change))
    assert any(problem.startswith(f"{path}:") and word in problem for problem in found), found


def test_malformed_break_in_roster_file_names_the_file_and_line(tmp_path):
    """A roster CSV row with a bad break string is reported with the file and its line number."""
    (tmp_path / "shifts.csv").write_text(
        "group,start,end,agents,breaks\nteam,08:00,12:00,2,coffee 15 09:00-10:00\nteam,09:00,13:00,1,lunch 30 11:00\n",
        encoding="utf-8",
    )
    found = problems(tmp_path, {**VALID, "roster_file": "shifts.csv"})
    assert any(
        problem.startswith("roster_file:") and "shifts.csv" in problem and "line 3" in problem for problem in found
    ), found


def test_roster_file_shifts_join_the_roster(tmp_path):
    """A good roster CSV adds its shifts, breaks parsed (unpaid flagged), after the file's own roster."""
    (tmp_path / "shifts.csv").write_text(
        "group,start,end,agents,breaks\n"
        "team,08:00,12:00,2,coffee 15 09:00-10:00\n"
        "team,10:00,14:00,4,lunch 30 11:30-13:00 unpaid; tea 10 13:00-13:45\n",
        encoding="utf-8",
    )
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({**VALID, "roster_file": "shifts.csv"}), encoding="utf-8")
    roster = bposim.load_scenario(path).roster
    assert [(s.group, s.start, s.end, s.agents) for s in roster] == [
        ("team", "08:00", "12:00", 3),
        ("team", "08:00", "12:00", 2),
        ("team", "10:00", "14:00", 4),
    ]
    assert [(b.name, b.minutes, b.window, b.paid) for b in roster[2].breaks] == [
        ("lunch", 30, ("11:30", "13:00"), False),
        ("tea", 10, ("13:00", "13:45"), True),
    ]
    assert [(b.name, b.window) for b in roster[1].breaks] == [("coffee", ("09:00", "10:00"))]


# --- learning curve -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_learning_curve_slows_each_agents_early_calls(seed):
    """An agent's k-th call (0-based, in answer order, across days) takes h·(1 + ½^(k/5)); other groups take h."""
    handle = 100.0
    spec = {
        "name": "learning",
        "horizon": {"start": "08:00", "end": "11:00", "interval_minutes": 30, "days": 2},
        "call_types": [
            {
                "name": "sales",
                "arrivals": {"per_hour": 90},
                "handle_time": fixed(handle),
                "after_call_work": exponential(20.0),
                "patience": exponential(120.0),
            }
        ],
        "agent_groups": [
            {
                "name": "front",
                "skills": ["sales"],
                "agents": {"per_interval": [1, 2, 2, 1, 1, 2]},
                "learning_curve": {"start_multiplier": 2, "calls_to_halve": 5},
            },
            {"name": "back", "skills": ["sales"], "agents": 1},
        ],
        "roster": [{"group": "front", "start": "09:00", "end": "10:30", "agents": 2}],
    }
    answered = answered_calls(simulate(spec, seed).calls).sort_values("answer")
    front = answered[answered["group"] == "front"]
    k = front.groupby("agent", observed=True).cumcount().to_numpy()
    assert k.max() >= 10
    assert np.allclose(front["handle_seconds"], handle * (1 + 0.5 ** (k / 5)), rtol=1e-12, atol=TOL)
    assert np.allclose(answered.loc[answered["group"] == "back", "handle_seconds"], handle)


# --- staffing table -------------------------------------------------------------------------------------------


def scheduled_by_interval(scenario: bposim.Scenario, group: str) -> np.ndarray:
    """Agent-equivalents per interval of one day that the group's shifts schedule."""
    horizon = scenario.horizon
    edges = np.arange(horizon.intervals + 1) * horizon.interval_seconds
    counts = np.zeros(horizon.intervals)
    for shift in scenario.roster:
        if shift.group == group:
            start, end = (t - horizon.start_seconds for t in (shift.start_seconds, shift.end_seconds))
            overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None)
            counts += shift.agents * overlap / horizon.interval_seconds
    return counts


def contains_shift_end(scenario: bposim.Scenario, group: str) -> np.ndarray:
    """Per interval of a day, whether one of the group's shifts ends in it (where overtime can spill over)."""
    horizon = scenario.horizon
    starts = np.arange(horizon.intervals) * horizon.interval_seconds
    ends = [shift.end_seconds - horizon.start_seconds for shift in scenario.roster if shift.group == group]
    return np.array([any(a <= e < a + horizon.interval_seconds for e in ends) for a in starts])


STAFFED = {
    "name": "staffing",
    "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30, "days": 2},
    "call_types": [
        {
            "name": "sales",
            "arrivals": {"per_hour": 80},
            "handle_time": {"distribution": "uniform", "low_seconds": 60, "high_seconds": 400},
            "after_call_work": fixed(20.0),
            "patience": exponential(200.0),
        }
    ],
    "agent_groups": [{"name": "front", "skills": ["sales"]}, {"name": "back", "skills": ["sales"]}],
    "roster": [
        {"group": "front", "start": "08:00", "end": "12:15", "agents": 3},
        {"group": "front", "start": "09:45", "end": "15:00", "agents": 4},
        {"group": "back", "start": "08:00", "end": "15:00", "agents": 2},
        {"group": "back", "start": "10:00", "end": "14:30", "agents": 1},
    ],
}


@pytest.mark.parametrize("seed", [1, 2])
def test_staffing_follows_the_roster_and_overtime_only_adds_after_shift_ends(seed):
    """Without absence, shrinkage or breaks: scheduled = the shift counts; present = scheduled except for overtime."""
    run = simulate(STAFFED, seed)
    scenario, staffing = run.scenario, run.staffing
    interval = scenario.horizon.interval_seconds
    assert staffing["off_phone"].abs().max() < TOL and staffing["absent"].abs().max() < TOL
    for group in ("front", "back"):
        rows = staffing[staffing["group"] == group].sort_values(["day", "interval"])
        days = scenario.horizon.days
        assert np.allclose(rows["scheduled"], np.tile(scheduled_by_interval(scenario, group), days), atol=TOL)
        assert (rows["present"] >= rows["scheduled"] - TOL).all()
        spill = np.tile(contains_shift_end(scenario, group), days)
        calm = rows[~spill]
        assert np.allclose(calm["present"], calm["scheduled"], atol=TOL), calm
        agents = run.agents[run.agents["group"] == group]
        extra = ((rows["present"] - rows["scheduled"]) * interval).sum()
        assert extra == pytest.approx(agents["overtime_seconds"].sum(), abs=1e-3)
        assert np.allclose(rows["on_phone"], rows["present"], atol=TOL)


@pytest.mark.parametrize("seed", [1, 2])
def test_breaks_take_agents_off_the_phones_for_their_length(seed):
    """With breaks: present − on_phone is the break time per interval, and over a day it sums to the roster's breaks."""
    spec = copy.deepcopy(STAFFED)
    spec["roster"][0]["breaks"] = [{"name": "coffee", "minutes": 15, "window": ["09:00", "09:20"]}]
    spec["roster"][1]["breaks"] = [
        {"name": "lunch", "minutes": 30, "window": ["11:30", "13:30"], "paid": False},
        {"name": "tea", "minutes": 10, "window": ["13:30", "14:15"]},
    ]
    spec["roster"][2]["breaks"] = [{"name": "lunch", "minutes": 45, "window": ["11:00", "13:00"]}]
    run = simulate(spec, seed)
    scenario, staffing, activities = run.scenario, run.staffing, run.activities
    horizon = scenario.horizon
    assert not activities["missed"].any()
    assert (activities["kind"] == "break").all()
    opening = horizon.start_seconds
    windows = {
        (shift.group, b.name): (b.window_seconds[0] - opening, b.window_seconds[1] - opening - b.minutes * 60)
        for shift in scenario.roster
        for b in shift.breaks
    }
    low, latest = np.array(
        [windows[key] for key in zip(activities["group"].astype(str), activities["name"], strict=True)]
    ).T
    since_open = activities["planned"].to_numpy() % SECONDS_PER_DAY
    assert ((since_open >= low - TOL) & (since_open <= latest + TOL)).all()
    assert (activities["start"] >= activities["planned"] - TOL).all()
    late = activities["start"].to_numpy() % SECONDS_PER_DAY > latest + TOL
    assert (activities["late"].to_numpy() == late).all()
    assert np.allclose(staffing["present"] - staffing["on_phone"], staffing["off_phone"], atol=TOL)
    for group in ("front", "back"):
        rows = staffing[staffing["group"] == group].sort_values(["day", "interval"])
        break_minutes = sum(
            shift.agents * sum(b.minutes for b in shift.breaks) for shift in scenario.roster if shift.group == group
        )
        for day in range(horizon.days):
            today = rows[rows["day"] == day]
            assert today["off_phone"].sum() == pytest.approx(break_minutes / horizon.interval_minutes, abs=1e-9)
        mine = activities[activities["group"] == group]
        edges = np.arange(horizon.days)[:, None] * SECONDS_PER_DAY + (
            np.arange(horizon.intervals + 1)[None, :] * horizon.interval_seconds
        )
        covered = (
            np.array(
                [
                    [
                        np.clip(np.minimum(mine["end"], b) - np.maximum(mine["start"], a), 0, None).sum()
                        for a, b in zip(day_edges[:-1], day_edges[1:], strict=True)
                    ]
                    for day_edges in edges
                ]
            ).ravel()
            / horizon.interval_seconds
        )
        assert np.allclose(rows["present"] - rows["on_phone"], covered, atol=TOL)


def test_absent_agents_are_scheduled_but_not_present():
    """With absence: scheduled − absent = present wherever no shift ends (no overtime), and some agents are absent."""
    spec = {**copy.deepcopy(STAFFED), "absence": {"probability": 0.3}}
    spec["horizon"]["days"] = 4
    run = simulate(spec, 5)
    staffing = run.staffing
    assert staffing["absent"].sum() > 0
    assert run.agents["absent_days"].sum() == (run.activities["kind"] == "absence").sum()
    for group in ("front", "back"):
        rows = staffing[staffing["group"] == group].sort_values(["day", "interval"])
        calm = rows[~np.tile(contains_shift_end(run.scenario, group), run.scenario.horizon.days)]
        assert np.allclose(calm["present"], calm["scheduled"] - calm["absent"], atol=TOL), calm
