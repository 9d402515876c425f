"""Interruptible deferred work, checked on the records of runs: an item stopped for a live contact keeps its work,
is never worked by two agents at once, and is resumed later; nobody is on two things at once; a group's reserve is
never interrupted; and against the same items and callers (common random numbers), interruptible items make live
waits shorter and deferred work finish later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from strategies import SEEDS, blended_specs, checked

import bposim
from bposim.columns import replication_records
from bposim.engine.model import Centre
from bposim.engine.records import ACTIVITY_KINDS, OUTCOMES, PIECE_FIELDS

EPS = 1e-6


def exponential(mean: float) -> dict:
    return {"distribution": "exponential", "mean_seconds": mean}


def centre(interruptible: bool = True, reserve: int | None = None, delay: float = 0.0, **extra) -> bposim.Scenario:
    """Phones and interruptible email on one team of 8 (and, with `delay`, a back office of 3 that takes phones
    only after that delay): phones busy enough that callers often find nobody free."""
    team = {"name": "team", "skills": ["phone", "mail"], "agents": 8}
    if reserve is not None:
        team["deferred_reserve"] = reserve
    groups = [team]
    if delay:
        groups.append(
            {
                "name": "backoffice",
                "skills": ["mail", {"call_type": "phone", "delay_seconds": delay}],
                "agents": 3,
            }
        )
    return bposim.Scenario.model_validate(
        {
            "name": "interrupt",
            "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 60},
            "call_types": [
                {
                    "name": "phone",
                    "arrivals": {"per_hour": 50},
                    "handle_time": exponential(300),
                    "patience": exponential(180),
                },
                {
                    "name": "mail",
                    "channel": "email",
                    "arrivals": {"per_hour": 20},
                    "handle_time": exponential(900),
                    "after_call_work": exponential(30),
                    "interruptible": interruptible,
                },
            ],
            "agent_groups": groups,
            **extra,
        }
    )


class Result:
    """One replication's records as frames: calls (with type, channel, outcome, agent and group by name), pieces
    and activities."""

    def __init__(self, model: bposim.Scenario, seed: int):
        records = replication_records(model, Centre(model, seed).run())
        names = np.array([*records.agent_names, ""])
        groups = np.append(np.array([g.name for g in model.agent_groups])[records.agent_groups], "")
        calls = pd.DataFrame(records.calls)
        calls["type"] = np.array([ct.name for ct in model.call_types])[calls["call_type"]]
        calls["channel"] = np.array([ct.channel for ct in model.call_types])[calls["call_type"]]
        calls["result"] = np.array(OUTCOMES)[calls["outcome"]]
        calls["name"] = names[calls["agent"]]
        calls["group"] = groups[calls["agent"]]
        calls["free"] = calls["end"] + calls["wrap_seconds"]
        self.calls = calls
        pieces = pd.DataFrame(records.pieces, columns=list(PIECE_FIELDS))
        pieces["name"] = names[pieces["agent"].astype(int)]
        pieces["group"] = groups[pieces["agent"].astype(int)]
        pieces["call_id"] = pieces["call_id"].astype(np.int64)
        pieces["stopped"] = pieces["stopped"].astype(bool)
        self.pieces = pieces
        activities = pd.DataFrame(records.activities)
        activities["kind"] = np.array(ACTIVITY_KINDS)[activities["kind"].astype(int)]
        activities["name"] = names[activities["agent"].astype(int)]
        self.activities = activities
        self.agents = records.agent_names

    def spans(self) -> pd.DataFrame:
        """What kept each agent busy: live contacts and items worked whole from answer to the end of wrap-up, and
        each piece of an interrupted item; with the channel and whether it is a chat session."""
        calls = self.calls
        worked = calls[calls["result"].isin(["answered", "dropped"])]
        whole = worked[worked["interruptions"] == 0] if "interruptions" in worked else worked
        rows = [
            pd.DataFrame(
                {
                    "name": whole["name"],
                    "start": whole["answer"],
                    "end": whole["free"],
                    "chat": whole["channel"] == "chat",
                }
            ),
            pd.DataFrame(
                {"name": self.pieces["name"], "start": self.pieces["start"], "end": self.pieces["end"]}
            ).assign(chat=False),
        ]
        return pd.concat(rows, ignore_index=True)


def overlapping(starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether any two spans [start, end) overlap (beyond rounding); empty spans overlap nothing."""
    kept = ends - starts > EPS
    starts, ends = starts[kept], ends[kept]
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    return bool((starts[1:] < np.maximum.accumulate(ends)[:-1] - EPS).any())


def check_items(result: Result) -> None:
    """An interrupted item's pieces follow one another (never two agents at once), the first begins at its answer,
    the last ends its work with its wrap-up, their work adds up to its handle time, and it was stopped as often as
    its interruptions say; each stop hands its agent a live contact at that very moment."""
    calls, pieces = result.calls, result.pieces
    items = calls.set_index("call_id")
    for call_id, own in pieces.groupby("call_id"):
        own = own.sort_values("start")
        row = items.loc[call_id]
        assert (own["start"].to_numpy()[1:] >= own["end"].to_numpy()[:-1] - EPS).all(), "worked twice at once"
        assert row["interruptions"] == own["stopped"].sum()
        assert own["stopped"].iloc[:-1].all()
        if row["result"] == "answered":
            assert not own["stopped"].iloc[-1]
            assert row["answer"] == pytest.approx(own["start"].iloc[0])
            assert row["free"] == pytest.approx(own["end"].iloc[-1])
            assert row["name"] == own["name"].iloc[-1]
            assert row["handle_seconds"] == pytest.approx(own["handle"].sum(), rel=1e-9, abs=1e-6)
        else:
            assert row["result"] == "unserved" and own["stopped"].all()
    live = calls[calls["channel"].isin(["voice", "chat"]) & calls["result"].isin(["answered", "dropped"])]
    taken = set(zip(live["name"], live["answer"].round(6), strict=True))
    stops = pieces[pieces["stopped"]]
    for name, end in zip(stops["name"], stops["end"].round(6), strict=True):
        assert (name, end) in taken, "an item was stopped but its agent took no live contact then"


def check_nobody_on_two_things(result: Result) -> None:
    """No agent works two things at once, save chat sessions with one another."""
    spans = result.spans()
    for _, own in spans.groupby("name"):
        alone = own[~own["chat"]]
        assert not overlapping(alone["start"].to_numpy(), alone["end"].to_numpy())
        for start, end in zip(own.loc[own["chat"], "start"], own.loc[own["chat"], "end"], strict=True):
            assert not ((alone["start"] < end - EPS) & (alone["end"] > start + EPS)).any()


# --- the rules, on one busy centre ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_interrupted_items_keep_their_work_and_are_never_worked_twice_at_once(seed):
    result = Result(centre(), seed)
    assert (result.calls["interruptions"] > 0).sum() >= 10, "the centre is meant to interrupt items often"
    check_items(result)
    check_nobody_on_two_things(result)


def test_an_interrupted_item_does_the_very_work_it_would_have_done_whole():
    """With every agent at proficiency 1 the work of an item is its drawn handle time, however it is cut: the same
    items under common random numbers have the same handle seconds whether interruptible or not."""
    stopped, whole = Result(centre(True), 3).calls, Result(centre(False), 3).calls
    mail = stopped[(stopped["type"] == "mail") & (stopped["result"] == "answered")].set_index("call_id")
    same = whole[(whole["type"] == "mail") & (whole["result"] == "answered")].set_index("call_id")
    both = mail.index.intersection(same.index)
    cut = mail.loc[both, "interruptions"] > 0
    assert cut.sum() >= 10
    np.testing.assert_allclose(mail.loc[both, "handle_seconds"], same.loc[both, "handle_seconds"], rtol=1e-9)


def test_live_waits_are_shorter_and_deferred_work_finishes_later_when_items_may_be_stopped():
    for seed in (4, 5):
        stopped, whole = Result(centre(True), seed).calls, Result(centre(False), seed).calls

        def live_wait(calls: pd.DataFrame) -> float:
            return calls.loc[calls["type"] == "phone", "wait"].mean()

        def completion(calls: pd.DataFrame) -> float:
            done = calls[(calls["type"] == "mail") & (calls["result"] == "answered")]
            return (done["free"] - done["arrival"]).mean()

        assert live_wait(stopped) < 0.5 * live_wait(whole)
        assert completion(stopped) > completion(whole)
        assert (stopped.loc[stopped["type"] == "mail", "interruptions"] > 0).any()
        assert "interruptions" not in whole, "the column comes with interruptible call types"


def test_the_reserve_is_never_interrupted():
    """With a reserve of 3, a stop leaves at least 3 of the team's agents on items: at every stop, 4 or more item
    spans (pieces or whole items) of the team cover that moment."""
    result = Result(centre(reserve=3), 6)
    stops = result.pieces[result.pieces["stopped"]]
    assert len(stops) >= 10
    calls = result.calls
    items = calls[(calls["type"] == "mail") & (calls["result"] == "answered") & (calls["interruptions"] == 0)]
    starts = np.concatenate([items["answer"], result.pieces["start"]])
    ends = np.concatenate([items["free"], result.pieces["end"]])
    on_items = [((starts < t) & (ends >= t - EPS)).sum() for t in stops["end"]]
    assert min(on_items) >= 4
    unreserved = Result(centre(reserve=None), 6).pieces
    unreserved_stops = unreserved.loc[unreserved["stopped"], "end"]
    assert len(unreserved_stops) > len(stops), "a reserve leaves fewer agents to interrupt"


def test_a_call_past_its_overflow_delay_interrupts_the_overflow_group():
    """The back office takes phones only after 60 s: its agents are stopped only for a caller who has waited that
    long, and they are stopped for such callers."""
    result = Result(centre(delay=60.0), 7)
    calls, pieces = result.calls, result.pieces
    office = pieces[pieces["stopped"] & (pieces["group"] == "backoffice")]
    assert len(office) >= 3
    phones = calls[(calls["type"] == "phone") & (calls["group"] == "backoffice")]
    taken = phones.set_index(["name", phones["answer"].round(6)])
    for name, end in zip(office["name"], office["end"].round(6), strict=True):
        assert taken.loc[(name, end), "wait"] >= 60.0 - EPS
    check_items(result)


def test_busy_time_counts_each_piece_on_the_agent_who_worked_it():
    """The agents and staffing tables count busy time piece by piece: the agents' busy seconds are the spans'
    sum, and the staffing table's busy agent-equivalents add up to the same."""
    model = centre()
    run = bposim.simulate(model, seed=8)
    result = Result(model, 8)
    spans = result.spans()
    spans["length"] = spans["end"] - spans["start"]
    expected = spans.groupby("name")["length"].sum().reindex(run.agents["agent"], fill_value=0.0)
    np.testing.assert_allclose(run.agents["busy_seconds"], expected.to_numpy(), rtol=1e-9)
    staffed = run.staffing["busy"].sum() * model.horizon.interval_seconds
    within = spans["end"].clip(upper=model.horizon.intervals * model.horizon.interval_seconds) - spans["start"]
    assert staffed == pytest.approx(within.clip(lower=0).sum(), rel=1e-9)
    assert run.calls["interruptions"].dtype == np.int32
    assert (run.calls.loc[run.calls["channel"] == "voice", "interruptions"] == 0).all()


def test_chat_interrupts_items_and_an_agent_never_holds_chats_and_an_item():
    model = bposim.Scenario.model_validate(
        {
            **centre().model_dump(mode="json", exclude_none=True),
            "call_types": [
                {"name": "phone", "channel": "chat", "arrivals": {"per_hour": 120}, "handle_time": exponential(400)},
                {
                    "name": "mail",
                    "channel": "email",
                    "arrivals": {"per_hour": 20},
                    "handle_time": exponential(900),
                    "interruptible": True,
                },
            ],
            "agent_groups": [{"name": "team", "skills": ["phone", "mail"], "agents": 6, "max_concurrency": 2}],
        }
    )
    result = Result(model, 9)
    assert result.pieces["stopped"].sum() >= 5
    check_items(result)
    check_nobody_on_two_things(result)


# --- any small centre -------------------------------------------------------------------------------------------


@checked(60)
@given(spec=blended_specs(), seed=SEEDS)
def test_interruption_rules_hold_in_any_small_centre(spec, seed):
    """Items keep their work and are worked by one agent at a time, nobody is on two things at once, and nobody
    in a deferred block takes a live contact or is stopped for one."""
    model = bposim.Scenario.model_validate(spec)
    result = Result(model, seed)
    check_items(result)
    check_nobody_on_two_things(result)
    blocks = result.activities[(result.activities["kind"] == "deferred_block") & ~result.activities["missed"]]
    calls = result.calls
    live = calls[calls["channel"].isin(["voice", "chat"]) & calls["result"].isin(["answered", "dropped"])]
    stops = result.pieces[result.pieces["stopped"]]
    for name, start, end in zip(blocks["name"], blocks["start"], blocks["end"], strict=True):
        answered = live.loc[live["name"] == name, "answer"]
        assert not ((answered > start + EPS) & (answered < end - EPS)).any(), "a live contact taken in a block"
        stopped = stops.loc[stops["name"] == name, "end"]
        assert not ((stopped > start + EPS) & (stopped < end - EPS)).any(), "an item stopped in a block"
