"""Journeys meet resolution and callers' behaviour: a contact passed on by transfers is resolved (or not) once, at the
end of its journey; balking and the maximum wait act where a caller reaches the centre, not on a transferred leg;
and every journey ends in exactly one final outcome.

Relations: resolution flags only on the leg that ended a journey answered, with the chance of the group that served
it; FCR is the resolved share of the answered journeys counted from the calls table; a repeat names the call_id
of an unresolved journey, each at most once. Balking with certainty and a maximum wait of a few seconds on the
call type callers are passed on to leave its legs untouched, while its own callers balk and leave messages.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import SEEDS, checked

import bposim
from bposim.engine.model import Centre
from bposim.resolution_charts import daily_contacts

FIXED_45 = {"distribution": "fixed", "value_seconds": 45}
HOUR_LATER = {"distribution": "exponential", "mean_hours": 1}


def rule(probability: float, repeat_probability: float = 0.7, **more) -> dict:
    return {"probability": probability, "repeat_probability": repeat_probability, "repeat_delay": HOUR_LATER, **more}


def centre(transfer: dict, front: dict | None = None, back: dict | None = None, days: int = 2) -> dict:
    """`front` (tier1) passes callers on to `back` (tier2) by `transfer`; each call type's fields updated by
    `front` and `back`."""
    return {
        "name": "journeys",
        "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30, "days": days},
        "call_types": [
            {
                "name": "front",
                "arrivals": {"per_hour": 90},
                "handle_time": {"distribution": "exponential", "mean_seconds": 150},
                "after_call_work": {"distribution": "fixed", "value_seconds": 15},
                "patience": {"distribution": "exponential", "mean_seconds": 240},
                "transfers": [transfer],
                **(front or {}),
            },
            {
                "name": "back",
                "arrivals": {"per_hour": 6},
                "handle_time": {"distribution": "lognormal", "mean_seconds": 240, "cv": 0.7},
                "after_call_work": {"distribution": "fixed", "value_seconds": 10},
                "patience": {"distribution": "exponential", "mean_seconds": 600},
                **(back or {}),
            },
        ],
        "agent_groups": [
            {"name": "tier1", "skills": ["front"], "agents": 5},
            {"name": "tier2", "skills": ["back"], "agents": 4},
        ],
    }


def run(spec: dict, seed: int = 3, replications: int = 1) -> bposim.Run:
    return bposim.simulate(bposim.Scenario.model_validate(spec), seed=seed, replications=replications)


def journey_keys(calls: pd.DataFrame) -> list[str]:
    return ["call_id", "attempt"] + (["replication"] if "replication" in calls else [])


def last_legs(calls: pd.DataFrame) -> pd.Series:
    """Whether each row is its journey's last leg (callbacks and their requests are not journeys' legs here)."""
    highest = calls.groupby(journey_keys(calls))["leg"].transform("max")
    return calls["leg"] == highest


TRANSFERS = {
    "cold": {"to": "back", "probability": 0.4},
    "warm": {"to": "back", "probability": 0.4, "mode": "warm", "conference": FIXED_45},
}


# --- resolution once per journey ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_resolution_is_drawn_on_the_last_leg_only(mode):
    """A leg passed on carries no resolution (missing); the leg that ends a journey answered always does, cold or
    warm (a warm leg opens with the conference), and with the chance of the group that served it."""
    spec = centre(
        TRANSFERS[mode], front={"resolution": rule(0.5)}, back={"resolution": rule(0.2, by_group={"tier2": 0.9})}
    )
    calls = run(spec, replications=2).calls
    last = last_legs(calls)
    answered = calls["outcome"] == "answered"
    assert (calls["leg"] > 1).sum() > 200
    assert calls.loc[~last, "resolved"].isna().all()  # legs passed on: neither resolved nor unresolved
    assert calls.loc[last & answered, "resolved"].notna().all()
    assert calls.loc[~answered, "resolved"].isna().all()
    ended = calls[last & answered]
    for group, chance in (("tier1", 0.5), ("tier2", 0.9)):
        mine = ended[ended["group"] == group]["resolved"].astype(bool)
        assert len(mine) > 200
        assert abs(mine.mean() - chance) <= 4 * math.sqrt(chance * (1 - chance) / len(mine)), (group, mine.mean())


def test_fcr_counts_journeys_from_the_calls_table():
    """FCR = journeys ending answered and resolved / journeys ending answered, first contacts only; per call type
    under the call type of the leg that ended the journey."""
    spec = centre(TRANSFERS["cold"], front={"resolution": rule(0.6)}, back={"resolution": rule(0.8)})
    result = run(spec, seed=5)
    calls = result.calls
    ended = calls[last_legs(calls) & (calls["outcome"] == "answered") & (calls["repeat_of"] < 0)]
    journeys_answered = len(ended)
    assert result.summary["first_contacts_answered"] == journeys_answered
    assert result.summary["fcr"] == pytest.approx(ended["resolved"].astype(bool).sum() / journeys_answered)
    for name in ("front", "back"):
        mine = ended[ended["call_type"] == name]
        kpis = result.summary["by_call_type"][name]
        assert kpis["first_contacts_answered"] == len(mine)
        assert kpis["fcr"] == pytest.approx(mine["resolved"].astype(bool).mean())
    # a leg passed on is not a contact of its own: counting every answered row would count more
    assert int((calls["outcome"] == "answered").sum()) > journeys_answered + 100


def test_repeats_of_transferred_journeys_are_conserved():
    """Each repeat contact (first attempt, first leg) names the call_id of an earlier journey that ended answered
    and unresolved, in the call type of that last leg, arriving after it ended; no journey is repeated twice; the
    summary counts each repeat once, however many legs it has; and made + carried out ≈ repeat_probability ×
    unresolved journeys."""
    q = 0.7
    spec = centre(TRANSFERS["cold"], front={"resolution": rule(0.6, q)}, back={"resolution": rule(0.5, q)}, days=3)
    result = run(spec, seed=7)
    calls = result.calls
    ended = calls[last_legs(calls) & (calls["outcome"] == "answered")].set_index("call_id")
    assert ended.index.is_unique  # one answered end per caller: retrials end unanswered
    starts = calls[(calls["attempt"] == 1) & (calls["leg"] == 1) & (calls["path"] != "callback")]
    repeats = starts[starts["repeat_of"] >= 0]
    assert repeats["repeat_of"].is_unique and len(repeats) > 100
    source = ended.loc[repeats["repeat_of"].to_numpy()]
    assert (source["resolved"] == False).all()  # noqa: E712  (a nullable boolean column)
    assert (source["call_type"].to_numpy() == repeats["call_type"].to_numpy()).all()
    assert (repeats["arrival"].to_numpy() >= source["end"].to_numpy()).all()
    assert (repeats.merge(calls, on="call_id")["leg_y"] > 1).any()  # some repeats are passed on in turn
    assert result.summary["repeats"] == len(repeats)
    unresolved = int((ended["resolved"] == False).sum())  # noqa: E712
    made = len(repeats) + result.summary["repeats_carried_out"]
    assert abs(made - q * unresolved) <= 4 * math.sqrt(unresolved * q * (1 - q))
    # every row of a repeat's journey names the same original
    assert (calls.groupby("call_id")["repeat_of"].nunique() == 1).all()


def test_a_journey_begun_in_the_warm_up_is_left_out_whole():
    """A leg passed on after the warm-up belongs to a journey that arrived in it: it is left out of FCR."""
    spec = centre(TRANSFERS["cold"], back={"resolution": rule(0.8)}, days=1)
    spec["horizon"]["warmup_minutes"] = 60
    result = run(spec, seed=2)
    calls = result.calls
    keys = journey_keys(calls)
    started = calls[calls["leg"] == 1].set_index(keys)["warmup"]
    journey_warmup = started.reindex(pd.MultiIndex.from_frame(calls[keys])).to_numpy()
    ended = calls[last_legs(calls) & (calls["outcome"] == "answered") & (calls["call_type"] == "back")]
    kept = ended[~journey_warmup[ended.index]]
    assert (journey_warmup[ended.index] & ~ended["warmup"]).any()  # such legs exist
    assert result.summary["first_contacts_answered"] == len(kept[kept["repeat_of"] < 0])


# --- behaviour and transfers ---------------------------------------------------------------------------------------


def test_balking_and_the_maximum_wait_apply_where_callers_arrive_not_to_transferred_legs():
    """The call type callers are passed on to balks every caller who would queue and takes a message after 5 s: its
    own callers balk and leave messages, but a transferred leg neither balks nor leaves a message (it was handed
    over by an agent: it waits in the queue until answered or its patience runs out), and waits longer than 5 s."""
    back = {"balking": {"probability": 1.0}, "max_wait_seconds": 5, "arrivals": {"per_hour": 30}}
    spec = centre({"to": "back", "probability": 0.6}, back=back, days=1)
    spec["agent_groups"][1]["agents"] = 2
    calls = run(spec, seed=4).calls
    legs = calls[calls["leg"] > 1]
    own = calls[(calls["call_type"] == "back") & (calls["leg"] == 1)]
    assert (own["outcome"] == "balked").sum() > 5
    assert len(legs) > 100 and not legs["outcome"].isin(["balked", "message"]).any()
    assert (legs["wait"] > 5).sum() > 20
    assert legs["outcome"].isin(["answered", "abandoned", "unserved"]).all()


def test_a_first_leg_that_balks_or_leaves_a_message_is_never_passed_on():
    """Balking and the maximum wait of the first call type act as without transfers: such a caller ends its journey
    there, as its one final outcome."""
    front = {"balking": {"probability": 0.5}, "max_wait_seconds": 30, "arrivals": {"per_hour": 150}}
    result = run(centre({"to": "back", "probability": 0.5}, front=front, days=1), seed=6)
    calls = result.calls
    stopped = calls[calls["outcome"].isin(["balked", "message"])]
    assert len(stopped) > 20 and (stopped["leg"] == 1).all()
    later = calls.merge(stopped[["call_id", "attempt"]], on=["call_id", "attempt"])
    assert (later["leg"] == 1).all()
    finals = result.summary["journeys"]["final_outcomes"]
    assert finals["balked"] == int((stopped["outcome"] == "balked").sum())
    assert finals["message"] == int((stopped["outcome"] == "message").sum())


@st.composite
def behaviour_specs(draw) -> dict:
    """The two-stage centre with random transfers (cold or warm, queued or disconnected), balking, maximum waits
    and messages (none or an item) on either call type, retrials, and resolution."""
    transfer = {"to": "back", "probability": draw(st.floats(0.0, 1.0))}
    if draw(st.booleans()):
        transfer.update(mode="warm", conference={"distribution": "fixed", "value_seconds": draw(st.floats(1, 120))})
    if draw(st.booleans()):
        transfer["when_nobody_free"] = "disconnect"
    spec = centre(transfer, days=1)
    spec["horizon"]["end"] = "10:00"
    for call_type in spec["call_types"]:
        call_type["arrivals"] = {"per_hour": draw(st.floats(0.0, 150.0))}
        if draw(st.booleans()):
            call_type["balking"] = {"probability": draw(st.floats(0.0, 1.0))}
        if draw(st.booleans()):
            call_type["max_wait_seconds"] = draw(st.floats(1.0, 300.0))
        if draw(st.booleans()):
            call_type["retrial"] = {
                "after_abandon": draw(st.floats(0.0, 1.0)),
                "after_balk": draw(st.floats(0.0, 1.0)) if "balking" in call_type else 0.0,
                "delay": {"distribution": "exponential", "mean_seconds": 120},
            }
        if draw(st.booleans()):
            call_type["resolution"] = rule(draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 1.0)))
    if draw(st.booleans()):
        spec["call_types"].append(
            {"name": "mail", "channel": "email", "arrivals": {"per_hour": 0}, "handle_time": FIXED_45}
        )
        spec["agent_groups"][1]["skills"].append("mail")
        spec["call_types"][0]["max_wait_seconds"] = draw(st.floats(1.0, 300.0))
        spec["call_types"][0]["message"] = {"then": "deferred:mail"}
    for group in spec["agent_groups"]:
        group["agents"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        spec["trunk_lines"] = draw(st.integers(3, 20))
    return spec


@checked(25)
@given(behaviour_specs(), SEEDS)
def test_every_journey_ends_in_exactly_one_final_outcome(spec, seed):
    """Over random centres with transfers and behaviour: each journey's legs are numbered 1, 2, ... with every leg
    but the last answered, so it has one final outcome; the journeys' final outcomes sum to the journeys; resolution
    is set only on a journey's answered last leg; every trunk line is given back."""
    scenario = bposim.Scenario.model_validate(spec)
    engine = Centre(scenario, seed).run()
    assert engine.in_system == 0
    result = bposim.simulate(scenario, seed=seed)
    calls = result.calls
    legs = calls[calls["outcome"] != "callback_requested"]  # email items too: journeys of one leg
    for _, journey in legs.groupby(["call_id", "attempt"]):
        ordered = journey.sort_values("leg")
        assert list(ordered["leg"]) == list(range(1, len(ordered) + 1))
        assert (ordered["outcome"].iloc[:-1] == "answered").all()
        if "resolved" in ordered:
            assert ordered["resolved"].iloc[:-1].isna().all()
    kpis = result.summary["journeys"]
    assert sum(kpis["final_outcomes"].values()) == kpis["journeys"]
    first = legs[(legs["leg"] == 1) & ~legs["warmup"]]
    assert kpis["journeys"] == len(first)
    final = legs[last_legs(legs)]
    assert {name: int((final["outcome"] == name).sum()) for name in kpis["final_outcomes"]} == kpis["final_outcomes"]


def test_a_repeat_that_takes_a_callback_is_counted_once():
    """A repeat contact offered a callback leaves two rows (the request and the callback itself, same call_id and
    attempt): the summary counts the contact once, as the daily chart does."""
    spec = centre(TRANSFERS["cold"], front={"resolution": rule(0.3, 1.0)}, days=2)
    spec["agent_groups"][0]["agents"] = 3
    spec["technology"] = {"callbacks": {"enabled": True, "offer_when_wait_over_seconds": 30, "acceptance": 0.8}}
    result = run(spec, seed=9)
    calls = result.calls
    repeat_rows = calls[(calls["repeat_of"] >= 0) & (calls["attempt"] == 1) & (calls["leg"] == 1)]
    assert (repeat_rows["path"] == "callback").sum() > 10  # repeats that took a callback
    assert result.summary["repeats"] == repeat_rows["call_id"].nunique()
    assert daily_contacts(calls)["repeats"].sum() == repeat_rows["call_id"].nunique()
