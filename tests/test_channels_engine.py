"""The engine's chat sessions and deferred work (email, case), checked as relations on the records of a run.

Chat: concurrency k with no sequential share is Erlang A with k times the agents; no agent ever holds more than its
cap, nor anything but chats while holding one; a session's talk time is stretched by the sessions held with it.
Deferred work: items are conserved across nights, start only when no live contact of the agent's skills waits
(or for the group's reserve), and their arrival streams leave the voice callers unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import SEEDS, checked, scenario_specs

import bposim
from bposim import analytic
from bposim.columns import replication_records
from bposim.engine.model import Centre
from bposim.engine.records import OUTCOMES
from bposim.scenario.call_types import CHANNELS

DAY = 86_400.0


def exponential(mean: float) -> dict:
    return {"distribution": "exponential", "mean_seconds": mean}


def fixed(seconds: float) -> dict:
    return {"distribution": "fixed", "value_seconds": seconds}


def scenario(call_types: list[dict], groups: list[dict], **horizon) -> bposim.Scenario:
    return bposim.Scenario.model_validate(
        {
            "name": "channels",
            "horizon": {"start": "08:00", "end": "18:00", "interval_minutes": 60, **horizon},
            "service_level": {"threshold_seconds": 20, "target": 0.8},
            "call_types": call_types,
            "agent_groups": groups,
        }
    )


def calls_of(model: bposim.Scenario, seed: int, replication: int = 0) -> pd.DataFrame:
    """One replication's call records, with the call type, channel, outcome, agent and group by name."""
    centre = Centre(model, seed, replication).run()
    records = replication_records(model, centre)
    calls = pd.DataFrame(records.calls)
    types = model.call_types
    calls["type"] = np.array([ct.name for ct in types])[calls["call_type"]]
    calls["channel"] = np.array([ct.channel for ct in types])[calls["call_type"]]
    calls["result"] = np.array(OUTCOMES)[calls["outcome"]]
    served = calls["agent"] >= 0
    names = np.array(records.agent_names + [""])
    calls["name"] = names[calls["agent"]]
    groups = np.append(np.array([g.name for g in model.agent_groups])[records.agent_groups], "")
    calls["group"] = groups[calls["agent"]]
    calls["free"] = np.where(served, calls["end"] + calls["wrap_seconds"], np.nan)
    return calls


def worked(calls: pd.DataFrame) -> pd.DataFrame:
    """The attempts an agent worked (answered or cut off), each with the span it kept the agent."""
    return calls[calls["result"].isin(["answered", "dropped"])]


def alongside(rows: pd.DataFrame, position) -> pd.Series:
    """Which other contacts of one agent's `rows` were worked while the contact at `position` was."""
    this = rows.loc[position]
    return (rows.index != position) & (rows["answer"] < this["free"] - 1e-7) & (rows["free"] > this["answer"] + 1e-7)


def held_at_start(chats: pd.DataFrame) -> np.ndarray:
    """For each chat session, the sessions its agent held at its start, itself included (a session whose slot frees
    at that very moment is not held)."""
    held = np.zeros(len(chats), dtype=int)
    for _, rows in chats.groupby("name"):
        starts = rows["answer"].to_numpy()
        frees = rows["free"].to_numpy()
        for i, position in enumerate(rows.index):
            overlapping = (starts <= starts[i]) & (frees > starts[i] + 1e-7)
            held[chats.index.get_loc(position)] = int(overlapping.sum())
    return held


# --- chat ---------------------------------------------------------------------------------------------------


def test_chat_with_k_sessions_and_no_sequential_share_is_erlang_a_with_k_times_the_agents():
    agents, cap, load, handle, patience, threshold = 8, 3, 22.5, 300.0, 200.0, 20.0
    model = bposim.Scenario.model_validate(
        {
            "name": "chat M/M/n+M",
            "horizon": {"start": "00:00", "length_hours": 30, "interval_minutes": 60, "warmup_minutes": 120},
            "call_types": [
                {
                    "name": "chat",
                    "channel": "chat",
                    "sequential_share": 0,
                    "arrivals": {"per_hour": load / handle * 3600},
                    "handle_time": exponential(handle),
                    "patience": exponential(patience),
                }
            ],
            "agent_groups": [{"name": "team", "skills": ["chat"], "agents": agents, "max_concurrency": cap}],
        }
    )
    replications = 8
    levels, abandons, offered = [], [], 0
    for r in range(replications):
        calls = calls_of(model, seed=5, replication=r)
        calls = calls[~calls["warmup"]]
        offered += len(calls)
        answered_in_time = (calls["result"] == "answered") & (calls["wait"] <= threshold)
        levels.append(answered_in_time.mean())
        abandons.append((calls["result"] == "abandoned").mean())
    assert offered > 50_000, "too few chats to be decisive"
    quantile = stats.t.ppf(0.9995, replications - 1) / math.sqrt(replications)
    theory = analytic.erlang_a_metrics(agents * cap, load / handle, handle, patience, threshold)
    one_each = analytic.erlang_a_metrics(agents, load / handle, handle, patience, threshold)
    for name, values, expected, single in (
        ("service level", levels, theory.service_level, one_each.service_level),
        ("abandon rate", abandons, theory.p_abandon, one_each.p_abandon),
    ):
        mean, tolerance = np.mean(values), quantile * np.std(values, ddof=1)
        assert abs(mean - expected) <= tolerance, f"{name}: simulated {mean:.4f}, Erlang A {expected:.4f}"
        assert abs(mean - single) > 10 * tolerance, f"{name}: the test cannot tell k sessions from one"


def blended() -> bposim.Scenario:
    """One team on voice, two chat types (one capped at 2 by its skill, one at the group's 3) and email, busy."""
    return scenario(
        [
            {
                "name": "voice",
                "arrivals": {"per_hour": 40},
                "handle_time": exponential(240),
                "patience": exponential(120),
            },
            {
                "name": "sales_chat",
                "channel": "chat",
                "sequential_share": 0.4,
                "arrivals": {"per_hour": 60},
                "handle_time": exponential(600),
                "patience": exponential(240),
            },
            {
                "name": "help_chat",
                "channel": "chat",
                "arrivals": {"per_hour": 40},
                "handle_time": exponential(500),
                "patience": exponential(300),
                "after_call_work": exponential(30),
            },
            {
                "name": "mail",
                "channel": "email",
                "arrivals": {"per_hour": 20},
                "handle_time": exponential(300),
                "initial_backlog": [{"items": 40, "age_hours": 10}],
            },
        ],
        [
            {
                "name": "team",
                "skills": [
                    "voice",
                    {"call_type": "sales_chat", "max_concurrency": 2},
                    "help_chat",
                    {"call_type": "mail", "priority": 2},
                ],
                "agents": 9,
                "max_concurrency": 3,
            },
            {"name": "voice_only", "skills": ["voice"], "agents": 2},
        ],
        days=2,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_no_agent_holds_more_chats_than_its_cap_nor_anything_but_chats_while_holding_one(seed):
    calls = worked(calls_of(blended(), seed))
    caps = {"sales_chat": 2, "help_chat": 3}
    chats = calls[calls["channel"] == "chat"]
    assert chats["name"].value_counts().max() > 50
    held = held_at_start(chats)
    assert held.max() == 3, "the test needs agents at the group's cap"
    assert (held <= chats["type"].map(caps).to_numpy()).all()
    for _, rows in calls.groupby("name"):
        rows = rows.sort_values("answer")
        for position, other in rows[rows["channel"] != "chat"].iterrows():
            assert not alongside(rows, position).any(), f"{other['type']} worked alongside another contact"


def test_a_session_is_stretched_by_the_sequential_share_times_the_other_sessions_held_at_its_start():
    share, handle = 0.25, 400.0
    model = scenario(
        [
            {
                "name": "chat",
                "channel": "chat",
                "sequential_share": share,
                "arrivals": {"per_hour": 90},
                "handle_time": fixed(handle),
                "patience": exponential(600),
            }
        ],
        [{"name": "team", "skills": ["chat"], "agents": 4, "max_concurrency": 4}],
    )
    chats = worked(calls_of(model, seed=3))
    held = held_at_start(chats)
    assert set(held) == {1, 2, 3, 4}
    np.testing.assert_allclose(chats["handle_seconds"], handle * (1 + share * (held - 1)), rtol=1e-9)


# --- deferred work ------------------------------------------------------------------------------------------


def backlog_centre(mail_agents: int, days: int = 5) -> bposim.Scenario:
    return scenario(
        [
            {
                "name": "voice",
                "arrivals": {"per_hour": 30},
                "handle_time": exponential(240),
                "patience": exponential(90),
            },
            {
                "name": "mail",
                "channel": "email",
                "arrivals": {"per_hour": 14},
                "handle_time": exponential(600),
                "after_call_work": exponential(60),
                "initial_backlog": [{"items": 25, "age_hours": 30}, {"items": 15, "age_hours": 4}],
            },
            {"name": "claims", "channel": "case", "arrivals": {"per_hour": 3}, "handle_time": exponential(1800)},
        ],
        [
            {"name": "voice", "skills": ["voice"], "agents": 3},
            {"name": "back_office", "skills": ["mail", "claims"], "agents": mail_agents},
        ],
        days=days,
    )


def test_deferred_items_are_conserved_across_nights_and_those_open_at_the_end_are_unserved_at_the_last_closing():
    model = backlog_centre(mail_agents=2)
    calls = calls_of(model, seed=4)
    last_closing = 4 * DAY + 10 * 3600
    items = calls[calls["channel"] == "email"]
    assert items["call_id"].is_unique, "one row per item"
    assert set(items["result"]) == {"answered", "unserved"}
    assert (items["arrival"] < 0).sum() == 40
    assert sorted(items.loc[items["arrival"] < 0, "arrival"].unique()) == [-30 * 3600.0, -4 * 3600.0]
    answered = items[items["result"] == "answered"]
    assert (answered["answer"] // DAY > answered["arrival"].clip(lower=0) // DAY).any(), "no item crossed a night"
    assert (answered["answer"] % DAY < 10 * 3600).all(), "an item started while the centre was closed"
    open_items = items[items["result"] == "unserved"]
    assert len(open_items) > 0
    np.testing.assert_array_equal(open_items["end"], last_closing)
    # Conservation: the same items arrive whatever the staffing (their own random streams), so the items a centre
    # staffed to clear the backlog completes are the items the short-staffed one completed or left open.
    staffed = calls_of(backlog_centre(mail_agents=8), seed=4)
    for channel in ("email", "case"):
        short, full = calls[calls["channel"] == channel], staffed[staffed["channel"] == channel]
        assert len(short) == len(full) > 0
        np.testing.assert_array_equal(np.sort(short["arrival"]), np.sort(full["arrival"]))
        assert (short["result"] == "answered").sum() + (short["result"] == "unserved").sum() == len(short)
    assert (staffed.loc[staffed["channel"] == "email", "result"] == "answered").all()


def blended_with_backlog(reserve: int | None) -> bposim.Scenario:
    """A team taking voice (at once) and chat (after an overflow delay) before email: the strict rule's test bed."""
    team = {
        "name": "team",
        "skills": ["voice", {"call_type": "chat", "delay_seconds": 40}, "mail"],
        "agents": 6,
    }
    if reserve is not None:
        team["deferred_reserve"] = reserve
    return scenario(
        [
            {
                "name": "voice",
                "arrivals": {"per_hour": 50},
                "handle_time": exponential(240),
                "patience": exponential(150),
            },
            {"name": "chat", "channel": "chat", "arrivals": {"per_hour": 30}, "handle_time": exponential(300)},
            {
                "name": "mail",
                "channel": "email",
                "arrivals": {"per_hour": 12},
                "handle_time": exponential(400),
                "initial_backlog": [{"items": 60, "age_hours": 12}],
            },
        ],
        [team, {"name": "chat_desk", "skills": ["chat"], "agents": 1}],
        days=3,
    )


def live_waiting_at(calls: pd.DataFrame, times: np.ndarray, call_types: list[str]) -> np.ndarray:
    """How many contacts of `call_types` wait (arrived, not yet answered nor gone) at each of `times`."""
    live = calls[calls["type"].isin(call_types)]
    left = np.where(live["answer"].notna(), live["answer"], live["end"])
    arrival = live["arrival"].to_numpy()
    return np.array([int(((arrival < t - 1e-7) & (left > t + 1e-7)).sum()) for t in times])


def on_items_at(calls: pd.DataFrame, times: np.ndarray, group: str) -> np.ndarray:
    """How many of the group's agents are working an item at each of `times` (one starting then excluded)."""
    items = calls[(calls["channel"] == "email") & (calls["group"] == group) & (calls["result"] == "answered")]
    start, free = items["answer"].to_numpy(), items["free"].to_numpy()
    return np.array([int(((start < t - 1e-7) & (free > t + 1e-7)).sum()) for t in times])


def test_an_item_never_starts_while_a_live_contact_of_the_agents_skills_waits():
    calls = calls_of(blended_with_backlog(reserve=None), seed=6)
    starts = calls[(calls["channel"] == "email") & (calls["result"] == "answered")]["answer"].to_numpy()
    assert len(starts) > 100
    assert (live_waiting_at(calls, starts, ["voice", "chat"]) == 0).all()
    live_starts = calls[calls["channel"] != "email"]["answer"].dropna().to_numpy()
    assert (live_waiting_at(calls, live_starts, ["voice", "chat"]) > 0).any(), "no live contact ever waited"


@pytest.mark.parametrize("reserve", [1, 2])
def test_the_reserve_keeps_agents_on_items_even_while_live_contacts_wait(reserve):
    calls = calls_of(blended_with_backlog(reserve=reserve), seed=6)
    items = calls[(calls["channel"] == "email") & (calls["result"] == "answered")]
    starts = items["answer"].to_numpy()
    jumped = live_waiting_at(calls, starts, ["voice", "chat"]) > 0
    assert jumped.any(), "the reserve never took an item ahead of a live contact"
    assert (on_items_at(calls, starts[jumped], "team") < reserve).all(), (
        "an item jumped the live queue past the reserve"
    )
    # Honoured: whenever a team agent starts a live contact while items wait, the reserve is already on items.
    team_live = calls[(calls["group"] == "team") & (calls["channel"] != "email") & calls["answer"].notna()]
    times = team_live["answer"].to_numpy()
    times = times[times % DAY < 10 * 3600]  # no item starts after closing: the live queue is served alone then
    items_wait = live_waiting_at(calls, times, ["mail"]) > 0
    assert items_wait.any()
    assert (on_items_at(calls, times[items_wait], "team") >= reserve).all()


def test_adding_an_email_type_served_by_another_group_leaves_the_voice_calls_unchanged():
    voice = [
        {"name": "voice", "arrivals": {"per_hour": 70}, "handle_time": exponential(240), "patience": exponential(120)},
        {"name": "chat", "channel": "chat", "arrivals": {"per_hour": 20}, "handle_time": exponential(400)},
    ]
    groups = [{"name": "phones", "skills": ["voice", "chat"], "agents": 6, "max_concurrency": 2}]
    email = {
        "name": "mail",
        "channel": "email",
        "arrivals": {"per_hour": 25},
        "handle_time": exponential(300),
        "initial_backlog": [{"items": 10, "age_hours": 5}],
    }
    before = calls_of(scenario(voice, groups, days=2), seed=8)
    after = calls_of(scenario([*voice, email], [*groups, {"name": "mail", "skills": ["mail"], "agents": 2}], days=2), 8)
    assert (after["channel"] == "email").sum() > 300
    columns = ["type", "attempt", "arrival", "answer", "end", "handle_seconds", "wrap_seconds", "result", "name"]
    live = after[after["channel"] != "email"].reset_index(drop=True)
    pd.testing.assert_frame_equal(before[columns].reset_index(drop=True), live[columns])


def test_an_outage_that_drops_calls_cuts_every_session_in_talk_and_puts_an_item_back_in_its_queue():
    model = bposim.Scenario.model_validate(
        {
            **blended().model_dump(mode="json", exclude_none=True),
            "tools": [
                {
                    "name": "desktop",
                    "failures": {"time_between": exponential(3600), "repair": exponential(300)},
                    "effects": [{"type": "down", "in_progress": "drop"}],
                }
            ],
        }
    )
    calls = calls_of(model, seed=9)
    dropped = calls[calls["result"] == "dropped"]
    assert set(dropped["channel"]) >= {"chat"}
    items = calls[calls["channel"] == "email"]
    assert items["call_id"].is_unique and set(items["result"]) <= {"answered", "unserved"}
    # Every session an agent was talking in at a cut is cut: none of its sessions talks on past the cut.
    for (name, end), _ in dropped.groupby(["name", "end"]):
        rows = calls[(calls["name"] == name) & (calls["result"] == "answered") & (calls["channel"] == "chat")]
        assert not ((rows["answer"] < end) & (rows["end"] > end)).any()


# --- invariants over random scenarios -----------------------------------------------------------------------


@st.composite
def channel_specs(draw) -> dict:
    """A small random centre (from `strategies.scenario_specs`) whose call types are given random channels, with
    chat concurrency, email and case backlogs and reserves where they belong."""
    spec = draw(scenario_specs())
    channels = {}
    for call_type in spec["call_types"]:
        channel = draw(st.sampled_from(CHANNELS))
        channels[call_type["name"]] = call_type["channel"] = channel
        if channel == "chat":
            call_type["sequential_share"] = draw(st.floats(0.0, 1.0))
        elif channel in ("email", "case"):
            call_type.pop("retrial", None)
            call_type.pop("service_level", None)
            if draw(st.booleans()):
                call_type.pop("patience", None)
            ages = st.builds(lambda n, age: {"items": n, "age_hours": age}, st.integers(0, 8), st.floats(0.0, 50.0))
            call_type["initial_backlog"] = draw(st.lists(ages, max_size=2))
    for group in spec["agent_groups"]:
        own = {channels[skill["call_type"]] for skill in group["skills"]}
        if "chat" in own:
            group["max_concurrency"] = cap = draw(st.integers(1, 4))
            for skill in group["skills"]:
                if channels[skill["call_type"]] == "chat" and draw(st.booleans()):
                    skill["max_concurrency"] = draw(st.integers(1, cap))
        if own & {"email", "case"} and draw(st.booleans()):
            group["deferred_reserve"] = draw(st.integers(0, 2))
    return spec


@checked(60)
@given(spec=channel_specs(), seed=SEEDS)
def test_channel_rules_hold_in_any_small_centre(spec, seed):
    """Caps, chats alone, one row per item, items only in open hours, the strict live-first rule (groups without a
    reserve), no busy signal for chat or items, and open items unserved at the last closing."""
    model = bposim.Scenario.model_validate(spec)
    calls = calls_of(model, seed)
    horizon = model.horizon
    open_seconds = horizon.intervals * horizon.interval_seconds
    caps = {}
    for group in model.agent_groups:
        for skill in group.skills:
            caps[(group.name, skill.call_type)] = skill.max_concurrency or group.max_concurrency
    work = worked(calls)
    chats = work[work["channel"] == "chat"]
    if len(chats):
        held = held_at_start(chats)
        allowed = [caps[(g, t)] for g, t in zip(chats["group"], chats["type"], strict=True)]
        assert (held <= np.array(allowed)).all()
    for _, rows in work.groupby("name"):
        for position in rows[rows["channel"] != "chat"].index:
            assert not alongside(rows, position).any()
    deferred = calls[calls["channel"].isin(["email", "case"])]
    assert deferred["call_id"].is_unique
    assert set(deferred["result"]) <= {"answered", "abandoned", "unserved"}
    assert not (calls["channel"] != "voice")[calls["result"] == "blocked"].any()
    started = deferred[deferred["result"] == "answered"]
    assert (started["answer"] % DAY < open_seconds + 1e-6).all()
    last_closing = (horizon.days - 1) * DAY + open_seconds
    np.testing.assert_allclose(deferred.loc[deferred["result"] == "unserved", "end"], last_closing)
    reserved = {group.name for group in model.agent_groups if group.deferred_reserve is not None}
    skills = {group.name: [skill.call_type for skill in group.skills] for group in model.agent_groups}
    live_types = [ct.name for ct in model.call_types if ct.live]
    for group, rows in started.groupby("group"):
        if group in reserved:
            continue
        own_live = [name for name in skills[group] if name in live_types]
        assert (live_waiting_at(calls, rows["answer"].to_numpy(), own_live) == 0).all()


def test_when_an_outage_ends_agents_holding_sessions_take_the_chats_that_waited_into_their_free_slots():
    model = scenario(
        [
            {
                "name": "chat",
                "channel": "chat",
                "arrivals": {"per_hour": 40},
                "handle_time": fixed(1800),
                "patience": fixed(3600),
            }
        ],
        [{"name": "team", "skills": ["chat"], "agents": 5, "max_concurrency": 4}],
        days=1,
    )
    model = bposim.Scenario.model_validate(
        {
            **model.model_dump(mode="json", exclude_none=True),
            "tools": [
                {"name": "desktop", "maintenance": [{"start": "10:00", "minutes": 10}], "effects": [{"type": "down"}]}
            ],
        }
    )
    chats = worked(calls_of(model, seed=2))
    held = held_at_start(chats)
    back = np.isclose(chats["answer"], 2 * 3600 + 600)
    assert (chats.loc[back, "wait"] > 0).all() and back.sum() >= 3, "chats waited through the outage"
    assert (held[back] >= 2).any(), "nobody holding a session took a waiting chat when the outage ended"
