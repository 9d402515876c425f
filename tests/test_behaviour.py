"""Callers' behaviour (balking, the maximum wait and its message, retrial options, interval factors on handle time and
patience) does what the scenario reference says, seen in the run's tables: relations, not recorded numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import bposim
from bposim.scenario.behaviour import piecewise_linear

EXPONENTIAL = {"distribution": "exponential", "mean_seconds": 180}
RETRIED = ("abandoned", "blocked", "balked")  # what an attempt followed by another ended with


def centre(call_type: dict[str, Any] | None = None, agents: int = 6, **top: Any) -> bposim.Scenario:
    """A two-hour single-skill voice centre (four half-hour intervals), its call type's fields and the top-level
    fields replaced."""
    support = {"name": "support", "arrivals": {"per_hour": 120}, "handle_time": EXPONENTIAL, **(call_type or {})}
    data = {
        "name": "behaviour",
        "horizon": {"start": "09:00", "end": "11:00", "interval_minutes": 30},
        "call_types": [support],
        "agent_groups": [{"name": "team", "skills": ["support"], "agents": agents}],
        **top,
    }
    return bposim.Scenario.model_validate(data)


def run(scenario: bposim.Scenario, seed: int = 1, replications: int = 1) -> bposim.Run:
    return bposim.simulate(scenario, seed=seed, replications=replications)


def outcomes(calls: pd.DataFrame) -> pd.Series:
    return calls["outcome"].astype(str)


# --- balking -------------------------------------------------------------------------------------------


def test_balking_is_irrelevant_when_nobody_queues() -> None:
    """With agents always free, nobody would queue: a balking probability changes no call at all."""
    plain = run(centre(agents=40))
    balking = run(centre({"balking": {"probability": 0.5}}, agents=40))
    assert (balking.calls["wait"] == 0).all()
    assert int(balking.summary["balked"]) == 0
    assert_frame_equal(plain.calls, balking.calls)


def test_a_balking_probability_of_zero_changes_nothing_but_adds_the_columns() -> None:
    plain = run(centre({"patience": {"distribution": "exponential", "mean_seconds": 60}}, agents=4))
    zero = run(
        centre(
            {"patience": {"distribution": "exponential", "mean_seconds": 60}, "balking": {"probability": 0}}, agents=4
        )
    )
    assert_frame_equal(plain.calls, zero.calls)
    assert {"balked", "messages", "balk_rate"} <= set(zero.intervals.columns)
    assert not {"balked", "messages", "balk_rate"} & set(plain.intervals.columns)
    assert_frame_equal(plain.intervals, zero.intervals.drop(columns=["balked", "messages", "balk_rate"]))


@pytest.mark.parametrize("chance", [0.2, 0.6])
def test_with_always_busy_agents_a_share_b_of_those_who_would_queue_balk(chance: float) -> None:
    """One agent for ten times the work: almost every caller would queue, and balks with probability b (a binomial
    count: within four standard deviations)."""
    scenario = centre(
        {"arrivals": {"per_hour": 600}, "balking": {"probability": chance}},
        agents=1,
        horizon={"start": "09:00", "end": "11:00", "interval_minutes": 30, "closing": "clear"},
    )
    calls = run(scenario, seed=4).calls
    outcome = outcomes(calls)
    balked = int((outcome == "balked").sum())
    queued = int(((outcome != "balked") & ~((outcome == "answered") & (calls["wait"] == 0))).sum())
    would_queue = balked + queued
    assert would_queue > 1000
    tolerance = 4 * math.sqrt(chance * (1 - chance) / would_queue)
    assert abs(balked / would_queue - chance) < tolerance
    assert (calls.loc[outcome == "balked", "wait"] == 0).all()


def test_balking_by_queue_length_rises_with_the_queue() -> None:
    """A curve 0 at an empty queue: the first caller to queue never balks, and balks come from long queues."""
    curve = {"by_queue_length": [[0, 0.0], [10, 0.5], [30, 1.0]]}
    scenario = centre({"arrivals": {"per_hour": 600}, "balking": curve}, agents=1)
    run_ = run(scenario, seed=2)
    assert run_.summary["balked"] > 0
    # more balks where the queue is long: the last interval (queue built up) balks more than the first
    per_interval = run_.intervals.set_index("interval")["balk_rate"]
    assert per_interval[3] > per_interval[0]


def test_balking_by_expected_wait_beyond_the_curve_is_certain() -> None:
    """Expected waits far beyond the curve's last point (probability 1) turn away everyone who would queue."""
    scenario = centre(
        {"arrivals": {"per_hour": 600}, "balking": {"by_expected_wait_seconds": [[0, 1.0], [10, 1.0]]}}, agents=2
    )
    calls = run(scenario).calls
    outcome = outcomes(calls)
    assert set(outcome) == {"answered", "balked"}
    assert (calls.loc[outcome == "answered", "wait"] == 0).all()


def test_balked_callers_may_call_again() -> None:
    retrial = {"after_balk": 1.0, "delay": {"distribution": "fixed", "value_seconds": 60}, "max_attempts": 2}
    scenario = centre({"arrivals": {"per_hour": 600}, "balking": {"probability": 0.5}, "retrial": retrial}, agents=1)
    calls = run(scenario).calls
    first = calls[(calls["attempt"] == 1) & (outcomes(calls) == "balked")]
    second = calls[calls["attempt"] == 2].set_index("call_id")
    early = first[first["end"] + 60 < 7200]  # retrials due before closing are made
    assert len(early) > 100
    assert set(early["call_id"]) <= set(second.index)
    assert np.allclose(second.loc[early["call_id"], "arrival"].to_numpy(), early["end"].to_numpy() + 60)


@pytest.mark.parametrize("x", [-1.0, 0.0, 2.5, 5.0, 7.0, 100.0])
def test_piecewise_linear_is_flat_beyond_its_ends_and_linear_between(x: float) -> None:
    points = [(0.0, 0.0), (5.0, 0.5), (10.0, 0.5)]
    expected = 0.0 if x <= 0 else (0.1 * x if x <= 5 else 0.5)
    assert piecewise_linear(points, x) == pytest.approx(expected)


# --- the maximum wait ----------------------------------------------------------------------------------


def test_no_answered_or_abandoned_caller_waits_longer_than_the_maximum() -> None:
    scenario = centre(
        {
            "arrivals": {"per_hour": 300},
            "patience": {"distribution": "exponential", "mean_seconds": 200},
            "max_wait_seconds": 90,
        },
        agents=8,
    )
    calls = run(scenario).calls
    outcome = outcomes(calls)
    assert (outcome == "message").sum() > 20
    assert (calls.loc[outcome.isin(["answered", "abandoned"]), "wait"] <= 90 + 1e-9).all()
    assert np.allclose(calls.loc[outcome == "message", "wait"], 90)
    assert (calls.loc[outcome == "abandoned", "wait"] < 90).all()


def test_every_caller_not_answered_by_the_maximum_wait_leaves_a_message_when_patience_is_longer() -> None:
    """Patience of 300 s against a maximum wait of 60 s: nobody abandons; each caller is answered within 60 s or
    leaves a message, and the summary counts them."""
    scenario = centre(
        {
            "arrivals": {"per_hour": 300},
            "patience": {"distribution": "fixed", "value_seconds": 300},
            "max_wait_seconds": 60,
        },
        agents=8,
    )
    result = run(scenario)
    calls, summary = result.calls, result.summary
    outcome = outcomes(calls)
    late = (outcome != "answered") | (calls["wait"] > 60)
    assert set(outcome) == {"answered", "message"}
    assert (outcome[late] == "message").all()
    assert summary["messages"] == int(late.sum()) > 0
    assert summary["offered"] == summary["answered"] + summary["messages"]


def test_a_maximum_wait_longer_than_every_patience_changes_nothing() -> None:
    """Callers whose patience runs out first abandon as before: fixed patience of 50 s and a maximum of 60 s give
    the very calls of the run without a maximum wait."""
    fields = {
        "arrivals": {"per_hour": 300},
        "patience": {"distribution": "exponential", "mean_seconds": 50, "max_seconds": 59},
    }
    plain = run(centre(fields, agents=8))
    capped = run(centre({**fields, "max_wait_seconds": 60}, agents=8))
    assert (outcomes(capped.calls) == "abandoned").sum() > 20
    assert_frame_equal(plain.calls, capped.calls)


def test_a_message_becomes_a_callback() -> None:
    scenario = centre(
        {"arrivals": {"per_hour": 300}, "max_wait_seconds": 60, "message": {"then": "callback"}}, agents=8
    )
    result = run(scenario)
    calls = result.calls
    messages = calls[outcomes(calls) == "message"]
    callbacks = calls[calls["path"] == "callback"].set_index("call_id")
    assert len(messages) > 10
    assert sorted(callbacks.index) == sorted(messages["call_id"])
    assert np.allclose(callbacks.loc[messages["call_id"], "arrival"], messages["end"])
    assert result.summary["callback_requests"] == len(messages)
    assert result.summary["callbacks_made"] == int((outcomes(callbacks.reset_index()) == "answered").sum())


def test_a_message_becomes_an_email_item_after_its_recording() -> None:
    email = {
        "name": "mail",
        "channel": "email",
        "arrivals": {"per_hour": 0},
        "handle_time": {"distribution": "fixed", "value_seconds": 240},
    }
    support = {
        "name": "support",
        "arrivals": {"per_hour": 300},
        "handle_time": EXPONENTIAL,
        "max_wait_seconds": 60,
        "message": {"then": "deferred:mail", "recording_time": {"distribution": "fixed", "value_seconds": 45}},
    }
    scenario = centre(
        call_types=[support, email],
        agent_groups=[
            {"name": "team", "skills": ["support"], "agents": 8},
            {"name": "office", "skills": ["mail"], "agents": 1},
        ],
    )
    result = run(scenario)
    calls = result.calls
    messages = calls[outcomes(calls) == "message"]
    items = calls[calls["call_type"] == "mail"]
    assert len(messages) > 10
    assert len(items) == len(messages)
    assert np.allclose(np.sort(items["arrival"]), np.sort(messages["end"] + 45))
    assert (messages["handle_seconds"] == 45).all()
    assert not set(items["call_id"]) & set(calls.loc[calls["call_type"] == "support", "call_id"])
    assert result.summary["by_call_type"]["mail"]["arrived"] == len(items)


def test_the_recording_holds_a_trunk_line() -> None:
    """Callers recording a message keep their line: a long recording turns more callers away (same draws)."""
    fields = {"arrivals": {"per_hour": 400}, "max_wait_seconds": 30}

    def blocked(seconds: float) -> int:
        message = {"recording_time": {"distribution": "fixed", "value_seconds": seconds}}
        return int(run(centre({**fields, "message": message}, agents=6, trunk_lines=14)).summary["blocked"])

    assert blocked(600) > blocked(0) + 20


# --- retrials ------------------------------------------------------------------------------------------


def abandoning_centre(**retrial: Any) -> bposim.Scenario:
    """Nobody to answer: every caller waits out their patience, so an abandoned attempt's wait is its patience."""
    rule = {"after_abandon": 1.0, "delay": {"distribution": "fixed", "value_seconds": 5}, "max_attempts": 3, **retrial}
    return centre(
        {
            "arrivals": {"per_hour": 60},
            "patience": {"distribution": "exponential", "mean_seconds": 60},
            "retrial": rule,
        },
        agents=0,
    )


def patience_by_attempt(calls: pd.DataFrame) -> pd.DataFrame:
    abandoned = calls[outcomes(calls) == "abandoned"]
    table = abandoned.pivot(index="call_id", columns="attempt", values="wait")
    return table.dropna()


def test_kept_patience_is_the_first_attempts() -> None:
    waits = patience_by_attempt(run(abandoning_centre(keep_patience=True)).calls)
    assert len(waits) > 50
    assert np.allclose(waits[2], waits[1]) and np.allclose(waits[3], waits[1])
    fresh = patience_by_attempt(run(abandoning_centre()).calls)  # the negative control: fresh draws differ
    assert not np.allclose(fresh[2], fresh[1])


def test_kept_handle_time_is_the_first_attempts() -> None:
    """Handle time 100 s, doubled in the first interval: callers abandoning there and answered in a later interval
    keep 200 s with keep_handle_time, and get 100 s without."""

    def retrials(keep: bool) -> pd.Series:
        rule = {
            "after_abandon": 1.0,
            "delay": {"distribution": "fixed", "value_seconds": 1800},
            "max_attempts": 2,
            "keep_handle_time": keep,
        }
        scenario = centre(
            {
                "arrivals": {"per_hour": 240},
                "handle_time": {"distribution": "fixed", "value_seconds": 100},
                "patience": {"distribution": "fixed", "value_seconds": 5},
                "handle_time_factor": [2, 1, 1, 1],
                "retrial": rule,
            },
            agents=4,
        )
        calls = run(scenario).calls
        first = calls[(calls["attempt"] == 1) & (calls["interval"] == 0)]["call_id"]
        later = calls[(calls["attempt"] == 2) & calls["call_id"].isin(first) & (outcomes(calls) == "answered")]
        return later["handle_seconds"]

    kept, fresh = retrials(True), retrials(False)
    assert len(kept) > 5
    assert (kept == 200).all()
    assert (fresh == 100).all()


def test_retrials_due_after_closing_are_dropped_or_come_at_the_next_opening() -> None:
    horizon = {"start": "09:00", "end": "11:00", "interval_minutes": 30, "days": 2}
    day = 86_400.0

    def calls(after_closing: bool) -> pd.DataFrame:
        rule = {
            "after_abandon": 1.0,
            "delay": {"distribution": "fixed", "value_seconds": 3600},
            "max_attempts": 2,
            "after_closing": after_closing,
        }
        scenario = centre(
            {
                "patience": {"distribution": "exponential", "mean_seconds": 30},
                "retrial": rule,
                "arrivals": {"per_hour": 300},
            },
            agents=3,
            horizon=horizon,
        )
        return run(scenario).calls

    dropped, held = calls(False), calls(True)
    opening = held[(held["attempt"] == 2) & (held["arrival"] == day)]  # held overnight to day 1's opening at 0 s
    due_late = held[
        (held["attempt"] == 1) & (held["day"] == 0) & (outcomes(held) == "abandoned") & (held["end"] + 3600 >= 7200)
    ]
    assert len(due_late) > 10
    assert sorted(opening["call_id"]) == sorted(due_late["call_id"])
    closing = dropped["day"] * day + 7200
    late = dropped[(dropped["attempt"] == 1) & (outcomes(dropped) == "abandoned") & (dropped["end"] + 3600 >= closing)]
    assert len(late) > 10
    assert not set(late["call_id"]) & set(dropped.loc[dropped["attempt"] == 2, "call_id"])  # not made
    # on the last day no opening is left: retrials due after its closing are not made
    last_day = held[
        (held["attempt"] == 1)
        & (held["day"] == 1)
        & (outcomes(held) == "abandoned")
        & (held["end"] + 3600 >= day + 7200)
    ]
    assert len(last_day) > 10
    assert not set(last_day["call_id"]) & set(held.loc[held["attempt"] == 2, "call_id"])


# --- interval factors ----------------------------------------------------------------------------------


def test_a_handle_time_factor_multiplies_the_drawn_handle_times_of_its_interval() -> None:
    """Agents always free: the calls are the same callers with the same draws, and those arriving in the interval
    with factor 2 have exactly twice the handle time."""
    plain = run(centre(agents=60)).calls
    doubled = run(centre({"handle_time_factor": [1, 2, 1, 1]}, agents=60)).calls
    there = plain["interval"] == 1
    assert np.array_equal(doubled["handle_seconds"][there], 2 * plain["handle_seconds"][there])
    assert np.array_equal(doubled["handle_seconds"][~there], plain["handle_seconds"][~there])


def test_a_handle_time_factor_of_two_doubles_the_mean_handle_time_answered_there() -> None:
    scenario = centre({"arrivals": {"per_hour": 600}, "handle_time_factor": [1, 2, 1, 1]}, agents=120)
    calls = run(scenario, seed=9).calls
    answered = calls[outcomes(calls) == "answered"]
    there, elsewhere = answered[answered["interval"] == 1], answered[answered["interval"] != 1]
    ratio = there["handle_seconds"].mean() / elsewhere["handle_seconds"].mean()
    relative_error = math.sqrt(1 / len(there) + 1 / len(elsewhere))  # exponential: sd = mean
    assert abs(ratio - 2) < 4 * 2 * relative_error


def test_a_patience_factor_multiplies_the_drawn_patience_of_its_interval() -> None:
    """Nobody to answer: an abandoned caller's wait is their patience, three times as long in the first
    interval."""
    fields = {"arrivals": {"per_hour": 60}, "patience": {"distribution": "exponential", "mean_seconds": 60}}
    plain = run(centre(fields, agents=0)).calls
    tripled = run(centre({**fields, "patience_factor": [3, 1, 1, 1]}, agents=0)).calls
    both = (outcomes(plain) == "abandoned") & (outcomes(tripled) == "abandoned")
    first = both & (plain["interval"] == 0)
    assert first.sum() > 10
    assert np.allclose(tripled["wait"][first], 3 * plain["wait"][first])
    later = both & (plain["interval"] > 0)
    assert np.allclose(tripled["wait"][later], plain["wait"][later])


# --- conservation, over random behaviour ---------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    balk=st.floats(0, 1),
    max_wait=st.one_of(st.none(), st.floats(5, 300)),
    after_abandon=st.floats(0, 1),
    after_balk=st.floats(0, 1),
    keep=st.booleans(),
    after_closing=st.booleans(),
    agents=st.integers(1, 6),
    seed=st.integers(0, 1000),
)
def test_every_arrival_has_exactly_one_final_outcome(
    balk: float,
    max_wait: float | None,
    after_abandon: float,
    after_balk: float,
    keep: bool,
    after_closing: bool,
    agents: int,
    seed: int,
) -> None:
    fields: dict[str, Any] = {
        "arrivals": {"per_hour": 200},
        "patience": {"distribution": "exponential", "mean_seconds": 120},
        "balking": {"probability": balk},
        "retrial": {
            "after_abandon": after_abandon,
            "after_balk": after_balk,
            "keep_patience": keep,
            "keep_handle_time": keep,
            "after_closing": after_closing,
            "delay": {"distribution": "exponential", "mean_seconds": 600},
        },
    }
    if max_wait is not None:
        fields.update(max_wait_seconds=max_wait, message={"then": "callback"})
    horizon = {"start": "09:00", "end": "11:00", "interval_minutes": 30, "days": 2}
    result = run(centre(fields, agents=agents, trunk_lines=12, horizon=horizon), seed=seed)
    calls = result.calls
    live = calls[calls["path"] != "callback"]
    assert not live.duplicated(["call_id", "attempt"]).any()
    last = live.groupby("call_id")["attempt"].transform("max")
    count = live.groupby("call_id")["attempt"].transform("count")
    assert (last == count).all()  # attempts 1..k, none missing
    assert outcomes(live[live["attempt"] < last]).isin(RETRIED).all()
    assert (live.loc[outcomes(live) == "balked", "wait"] == 0).all()
    if max_wait is not None:
        waited = outcomes(live).isin(["answered", "abandoned"])
        assert (live.loc[waited, "wait"] <= max_wait + 1e-6).all()
        messages = live[outcomes(live) == "message"]
        assert sorted(calls.loc[calls["path"] == "callback", "call_id"]) == sorted(messages["call_id"])
    summary = result.summary
    parts = ("answered", "abandoned", "blocked", "unserved", "dropped", "balked", "messages")
    assert summary["offered"] == sum(summary[key] for key in parts)
    assert summary["balk_rate"] == pytest.approx(summary["balked"] / summary["offered"])


# --- chat, and replications ----------------------------------------------------------------------------


def test_chats_balk_only_when_no_slot_is_free_and_wait_no_longer_than_the_maximum() -> None:
    chat = {
        "name": "chat",
        "channel": "chat",
        "arrivals": {"per_hour": 240},
        "handle_time": {"distribution": "exponential", "mean_seconds": 300},
        "patience": {"distribution": "exponential", "mean_seconds": 400},
        "balking": {"probability": 0.5},
        "max_wait_seconds": 120,
    }
    scenario = centre(
        call_types=[chat], agent_groups=[{"name": "digital", "skills": ["chat"], "agents": 3, "max_concurrency": 2}]
    )
    calls = run(scenario).calls
    outcome = outcomes(calls)
    assert (outcome == "balked").sum() > 20 and (outcome == "message").sum() > 0
    assert (calls.loc[outcome.isin(["answered", "abandoned"]), "wait"] <= 120 + 1e-9).all()
    # a chat that found a free slot never balked: with a slot free on arrival it is answered at once
    queued = (outcome != "balked") & ~((outcome == "answered") & (calls["wait"] == 0))
    share = (outcome == "balked").sum() / ((outcome == "balked").sum() + queued.sum())
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / ((outcome == "balked").sum() + queued.sum()))


def test_balks_and_messages_are_pooled_over_replications() -> None:
    scenario = centre(
        {"arrivals": {"per_hour": 300}, "balking": {"probability": 0.3}, "max_wait_seconds": 60}, agents=8
    )
    pooled = run(scenario, replications=3)
    alone = [run(scenario, replications=3).replication(r).summary for r in range(3)]
    for key in ("balked", "messages", "balk_rate"):
        assert f"{key}_ci" in pooled.summary
        assert pooled.summary[key] == pytest.approx(np.mean([summary[key] for summary in alone]))
    assert pooled.summary["by_call_type"]["support"]["balked"] == pytest.approx(pooled.summary["balked"])


def test_chat_balking_by_expected_wait_counts_session_slots_not_agents() -> None:
    """Two agents holding three chats each are six servers: with every slot busy and nobody waiting, the expected
    wait is 600 / 6 = 100 s, below the curve's step at 150 s, so the first chat to queue stays (and is answered
    after a wait) while the next ones (200 s and more) balk; counted by agents (300 s) every chat would balk."""
    chat = {
        "name": "chat",
        "channel": "chat",
        "arrivals": {"per_hour": 120},
        "handle_time": {"distribution": "fixed", "value_seconds": 600},
        "patience": {"distribution": "fixed", "value_seconds": 3000},
        "balking": {"by_expected_wait_seconds": [[150, 0.0], [151, 1.0]]},
    }
    scenario = centre(
        call_types=[chat], agent_groups=[{"name": "digital", "skills": ["chat"], "agents": 2, "max_concurrency": 3}]
    )
    calls = run(scenario).calls
    outcome = outcomes(calls)
    waited = calls[(outcome == "answered") & (calls["wait"] > 0)]
    assert (outcome == "balked").sum() > 20 and len(waited) > 5
    # never two chats waiting at once: a chat arriving while one waits expects 200 s and balks
    for _, row in waited.iterrows():
        others = waited[(waited["arrival"] < row["arrival"]) & (waited["answer"] > row["arrival"])]
        assert others.empty


def test_an_item_made_of_a_message_after_the_last_closing_never_ends_before_it_arrives() -> None:
    """Callers still waiting after the last closing (closing: serve) reach their maximum wait and leave messages
    that become email items; no item starts after closing, so they are let go unserved at their arrival (wait 0),
    never at the closing before it (a negative wait)."""
    email = {
        "name": "mail",
        "channel": "email",
        "arrivals": {"per_hour": 0},
        "handle_time": {"distribution": "fixed", "value_seconds": 240},
    }
    support = {
        "name": "support",
        "arrivals": {"per_hour": 300},
        "handle_time": EXPONENTIAL,
        "patience": {"distribution": "fixed", "value_seconds": 3000},
        "max_wait_seconds": 300,
        "message": {"then": "deferred:mail"},
    }
    scenario = centre(
        call_types=[support, email],
        agent_groups=[
            {"name": "team", "skills": ["support"], "agents": 4},
            {"name": "office", "skills": ["mail"], "agents": 1},
        ],
    )
    calls = run(scenario).calls
    items = calls[calls["call_type"] == "mail"]
    closing = 2 * 3600.0  # times run from the opening
    late = items[items["arrival"] > closing]
    assert len(late) > 10
    assert (items["wait"] >= 0).all() and (items["end"] >= items["arrival"]).all()
    assert (outcomes(late) == "unserved").all() and (late["end"] == late["arrival"]).all()
