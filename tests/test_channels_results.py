"""A run's tables and KPIs per channel: the channel of every contact, intervals of live contacts only, the backlog
of deferred work per day, chat sessions in staffing with an agent holding several counted once, KPIs per channel
with no overall rate across channels, and sweep rows per channel.

Real runs check what every engine gives; records built by hand, through the columns the engine fills
(`bposim.columns`), check what only deferred work and chat concurrency produce: an initial backlog arrived at a
negative time, items open at the end of the horizon (unserved at the last closing), items crossing nights, and
overlapping chat sessions of one agent.
"""

from __future__ import annotations

import io
import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import bposim
from bposim import metrics
from bposim.backlog import KPIS
from bposim.columns import CALL_DTYPES, FLAGS, Records, with_derived_columns
from bposim.engine.records import ABANDONED, ACTIVITY_FIELDS, ANSWERED, CALL_FIELDS, UNSERVED
from bposim.experiment import Experiment, cell_summary
from bposim.experiment.report import print_sweep
from bposim.experiment.tables import kpi_row, shortfalls
from bposim.run import Run, jsonable, simulate_replication
from bposim.tables import RATES, run_tables

DAY = 86_400.0
OPEN = 10 * 3600.0  # 08:00 to 18:00


def omni(days: int = 2, changes: dict | None = None) -> bposim.Scenario:
    """Voice, chat and email (with an initial backlog) on two groups."""
    data = {
        "name": "omni",
        "horizon": {"start": "08:00", "end": "18:00", "interval_minutes": 30, "days": days},
        "call_types": [
            {
                "name": "voice_en",
                "arrivals": {"per_hour": 60},
                "handle_time": {"distribution": "exponential", "mean_seconds": 300},
                "patience": {"distribution": "exponential", "mean_seconds": 180},
            },
            {
                "name": "chat_en",
                "channel": "chat",
                "sequential_share": 0.3,
                "arrivals": {"per_hour": 40},
                "handle_time": {"distribution": "exponential", "mean_seconds": 600},
                "patience": {"distribution": "exponential", "mean_seconds": 300},
                "service_level": {"threshold_seconds": 60},
            },
            {
                "name": "email_en",
                "channel": "email",
                "arrivals": {"per_hour": 20},
                "handle_time": {"distribution": "exponential", "mean_seconds": 480},
                "initial_backlog": [{"items": 30, "age_hours": 20}],
                "service_level": {"threshold_hours": 24, "target": 0.9},
            },
        ],
        "agent_groups": [
            {"name": "voice", "skills": ["voice_en"], "agents": 6},
            {
                "name": "digital",
                "skills": ["chat_en", "email_en"],
                "max_concurrency": 3,
                "deferred_reserve": 1,
                "agents": 12,
            },
        ],
    }
    return bposim.Scenario.model_validate(data).updated(changes) if changes else bposim.Scenario.model_validate(data)


def one_channel(channel: str, days: int = 1, per_hour: float = 20, agents: int = 3) -> bposim.Scenario:
    """One call type of `channel` on one group."""
    call_type = {
        "name": f"{channel}_en",
        "channel": channel,
        "arrivals": {"per_hour": per_hour},
        "handle_time": {"distribution": "exponential", "mean_seconds": 480},
    }
    group = {"name": "team", "skills": [f"{channel}_en"], "agents": agents}
    if channel == "chat":
        group["max_concurrency"] = 3
    return bposim.Scenario.model_validate(
        {
            "name": channel,
            "horizon": {"start": "08:00", "end": "18:00", "interval_minutes": 30, "days": days},
            "call_types": [call_type],
            "agent_groups": [group],
        }
    )


def hand_records(scenario: bposim.Scenario, calls: list[tuple], logins: list[tuple]) -> Records:
    """One replication's records as the engine leaves them: call attempts (tuples of CALL_FIELDS) and agents'
    logged-in stretches (agent, login, logout, planned logout); the scenario's groups have one agent each."""
    rows = sorted(calls)
    columns = {
        name: np.array([row[i] for row in rows], dtype=CALL_DTYPES[name]).reshape(-1)
        for i, name in enumerate(CALL_FIELDS)
    }
    activities = {name: np.zeros(0, dtype=object if name == "name" else float) for name in ACTIVITY_FIELDS}
    for flag in FLAGS:
        activities[flag] = activities[flag].astype(bool)
    sessions = np.array(logins, dtype=float).reshape(-1, 4)
    groups = scenario.agent_groups
    return Records(
        calls=with_derived_columns(scenario, columns),
        sessions=sessions,
        activities=activities,
        outages=np.zeros((0, 4)),
        agent_names=[f"{group.name}-001" for group in groups],
        agent_groups=np.arange(len(groups), dtype=np.int64),
        counts={
            "calls": np.array([len(rows)]),
            "sessions": np.array([len(sessions)]),
            "activities": np.array([0]),
            "outages": np.array([0]),
        },
    )


def item(call_id, arrival, outcome, end, answer=math.nan, handle=0.0, wrap=0.0, call_type=0):
    """A call attempt of CALL_FIELDS: one email item (agent 0 when worked)."""
    agent = 0 if outcome == ANSWERED else -1
    return (call_id, call_type, 1, arrival, answer, end, handle, wrap, outcome, agent, 0, 0.0)


# ---------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def mixed() -> tuple[bposim.Scenario, Run]:
    scenario = omni()
    return scenario, bposim.simulate(scenario, seed=3, replications=2)


def test_every_contact_and_live_interval_names_its_channel(mixed):
    scenario, run = mixed
    calls = run.calls
    assert list(calls["channel"].cat.categories) == ["voice", "chat", "email", "case"]
    expected = calls["call_type"].astype(str).map({ct.name: ct.channel for ct in scenario.call_types})
    assert (calls["channel"].astype(str) == expected).all() and set(expected) == {"voice", "chat", "email"}
    intervals = run.intervals
    assert set(intervals["call_type"].astype(str)) == {"voice_en", "chat_en"}  # email has a backlog, no intervals
    assert len(intervals) == 2 * 2 * scenario.horizon.intervals * 2  # replications × days × intervals × live types
    assert (intervals["channel"].astype(str) == intervals["call_type"].astype(str).str[:-3]).all()


def test_several_channels_have_no_overall_rate_and_kpis_per_channel(mixed):
    _, run = mixed
    summary = run.summary
    assert summary["channels"] == ["voice", "chat", "email"] == list(summary["by_channel"])
    for key in RATES:
        assert math.isnan(summary[key]) and math.isnan(summary[f"{key}_ci"]), key
    by_channel, by_type = summary["by_channel"], summary["by_call_type"]
    for channel, name in (("voice", "voice_en"), ("chat", "chat_en")):  # one call type each: the same KPIs
        assert json.dumps(jsonable(by_channel[channel])) == json.dumps(jsonable(by_type[name]))
        assert not math.isnan(by_channel[channel]["service_level"])
    assert summary["offered"] == by_channel["voice"]["offered"] + by_channel["chat"]["offered"]  # live contacts
    email = by_channel["email"]
    assert set(KPIS) <= set(email) and "offered" not in email and "occupancy" in email
    assert email["service_level"] == pytest.approx(email["met_due"] / email["due"]) or email["due"] == 0
    assert json.dumps(jsonable(email)) == json.dumps(jsonable(by_type["email_en"]))


@pytest.mark.parametrize("channel", ["chat", "email"])
def test_one_channel_gives_its_kpis_overall(channel):
    run = bposim.simulate(one_channel(channel, days=2), seed=1)
    summary = run.summary
    assert summary["channels"] == [channel]
    own = summary["by_channel"][channel]
    assert not math.isnan(summary["service_level"]) and summary["service_level"] == own["service_level"]
    if channel == "email":
        assert all(summary[key] == own[key] for key in KPIS)
        assert run.intervals.empty and len(run.backlog) == 2
    else:
        assert run.backlog.empty and summary["asa_seconds"] == own["asa_seconds"]


def test_a_pooled_run_pools_every_channel_as_simulate_does():
    scenario = omni(days=1)
    runs = [simulate_replication(scenario, 3, r) for r in range(2)]
    joined = Run.concat(runs)
    together = bposim.simulate(scenario, seed=3, replications=2)
    assert json.dumps(jsonable(joined.summary)) == json.dumps(jsonable(together.summary))
    assert "service_level_ci" in together.summary["by_channel"]["email"]
    pd.testing.assert_frame_equal(joined.backlog, together.backlog, check_exact=True)


def test_the_backlog_table_asked_for_alone_is_the_same():
    scenario = omni()
    whole = bposim.simulate(scenario, seed=3, replications=2)
    alone = bposim.simulate(scenario, seed=3, replications=2, tables=("backlog",))
    pd.testing.assert_frame_equal(alone.backlog, whole.backlog, check_exact=True)
    assert alone.calls.empty and json.dumps(jsonable(alone.summary)) == json.dumps(jsonable(whole.summary))


def conserved(backlog: pd.DataFrame) -> None:
    """Per day: what it opened with, plus arrivals, less what left, is what it closed with; and it closed with what
    the next day opened with."""
    inflow = backlog["open_at_start"] + backlog["arrived"] - backlog["completed"] - backlog["abandoned"]
    assert (inflow == backlog["open_at_end"]).all()
    keys = [k for k in ("replication", "call_type") if k in backlog]
    for _, part in backlog.sort_values([*keys, "day"]).groupby(keys, observed=True):
        assert (part["open_at_end"].to_numpy()[:-1] == part["open_at_start"].to_numpy()[1:]).all()


def test_the_backlog_of_a_run_is_conserved_day_after_day():
    scenario = omni(days=4).updated({"agent_groups.digital.agents": 4})
    run = bposim.simulate(scenario, seed=2, replications=2)
    backlog = run.backlog
    assert len(backlog) == 2 * 4 and (backlog["arrived"] > 0).all()
    conserved(backlog)
    assert backlog["threshold_hours"].eq(24).all() and backlog["target"].eq(0.9).all()
    # every item worked counts once, on the day it was completed
    email = run.calls[run.calls["channel"] == "email"]
    assert backlog["completed"].sum() == (email["outcome"] == "answered").sum()


def test_littles_law_holds_on_the_backlog():
    """Mean items open over the horizon = arrival rate × mean time in the system, on 30 days of email."""
    scenario = one_channel("email", days=30, per_hour=20, agents=2)
    run = bposim.simulate(scenario, seed=4)
    backlog, calls = run.backlog, run.calls
    span = 30 * DAY
    mean_open = backlog["mean_open"].mean()  # every day's span is one day
    worked = calls[calls["outcome"] == "answered"]
    in_system = (worked["end"] + worked["wrap_seconds"] - worked["arrival"]).mean()
    rate = backlog["arrived"].sum() / span
    assert mean_open == pytest.approx(rate * in_system, rel=0.02)
    assert mean_open > 1  # a queue worth the name
    assert mean_open != pytest.approx(rate * in_system * 1.1, rel=0.02)  # the check can fail


# ---------------------------------------------------------------- deferred work by hand


def email_scenario(days: int = 3) -> bposim.Scenario:
    return bposim.Scenario.model_validate(
        {
            "name": "email by hand",
            "horizon": {"start": "08:00", "end": "18:00", "interval_minutes": 60, "days": days},
            "call_types": [
                {
                    "name": "email_en",
                    "channel": "email",
                    "arrivals": {"per_hour": 1},
                    "handle_time": {"distribution": "fixed", "value_seconds": 600},
                    "service_level": {"threshold_hours": 24, "target": 0.8},
                }
            ],
            "agent_groups": [{"name": "team", "skills": ["email_en"], "agents": 1}],
        }
    )


HAND_ITEMS = [
    item(0, -72_000.0, ANSWERED, 4_000.0, answer=3_600.0, handle=400.0),  # backlog 20 h old: due 14,400, met
    item(1, -100_000.0, ANSWERED, 5_000.0, answer=4_000.0, handle=1_000.0),  # already overdue at the first opening
    item(2, 30_000.0, ANSWERED, 37_000.0, answer=35_000.0, handle=2_000.0, wrap=100.0),  # work runs past closing
    item(3, 35_000.0, ANSWERED, DAY + 600.0, answer=DAY + 100.0, handle=500.0),  # crosses the night
    item(4, DAY + 1_000.0, UNSERVED, 2 * DAY + OPEN),  # still open at the horizon's last closing
    item(5, 2 * DAY + 500.0, ANSWERED, 2 * DAY + 1_500.0, answer=2 * DAY + 1_000.0, handle=500.0),  # due after
]


@pytest.fixture(scope="module")
def by_hand():
    scenario = email_scenario()
    logins = [(0, d * DAY, d * DAY + OPEN, d * DAY + OPEN) for d in range(3)]
    return scenario, run_tables(scenario, hand_records(scenario, HAND_ITEMS, logins))


def test_a_backlog_by_hand_day_by_day(by_hand):
    _, built = by_hand
    backlog = built.tables["backlog"]
    assert list(backlog.columns) == [
        "day",
        "call_type",
        "channel",
        "arrived",
        "completed",
        "abandoned",
        "open_at_start",
        "open_at_end",
        "oldest_age_hours",
        "due",
        "met_due",
        "service_level",
        "projected_late",
        "mean_open",
        "threshold_hours",
        "target",
    ]
    assert backlog["arrived"].tolist() == [2, 1, 1]  # the initial backlog is not an arrival
    assert backlog["completed"].tolist() == [3, 1, 1]  # item 2 completes after closing, on its own day
    assert backlog["open_at_start"].tolist() == [2, 1, 1]
    assert backlog["open_at_end"].tolist() == [1, 1, 1]
    conserved(backlog)
    assert backlog["oldest_age_hours"].tolist() == pytest.approx(
        [1_000 / 3600, 35_000 / 3600, (2 * DAY + OPEN - DAY - 1_000) / 3600]
    )
    # due: items 0 and 1 on day 0 (item 1 overdue already), 2 and 3 on day 1, 4 on day 2; item 5 after the horizon
    assert backlog["due"].tolist() == [2, 2, 1] and backlog["met_due"].tolist() == [1, 2, 0]
    assert backlog["service_level"].tolist() == [0.5, 1.0, 0.0]
    # day 0: 3 done in 10 open hours, item 3 done 3 h 20 min into day 1, before its due time; day 1: 1 in 10 h,
    # item 4 done at day 2's closing, after its due time; day 2: the same
    assert backlog["projected_late"].tolist() == [0, 1, 1]
    assert backlog["mean_open"].iloc[0] == pytest.approx((4_000 + 5_000 + 7_100 + (DAY - 35_000)) / DAY)
    assert backlog["channel"].eq("email").all() and backlog["threshold_hours"].eq(24).all()


def test_deferred_kpis_by_hand(by_hand):
    _, built = by_hand
    email = built.summaries[0]["by_channel"]["email"]
    assert {key: email[key] for key in ("arrived", "completed", "abandoned", "open_at_end", "due", "met_due")} == {
        "arrived": 4,
        "completed": 5,
        "abandoned": 0,
        "open_at_end": 1,
        "due": 5,
        "met_due": 3,
    }
    assert email["service_level"] == 0.6 and email["oldest_age_hours"] == pytest.approx((DAY + OPEN - 1_000) / 3600)
    assert built.summaries[0]["service_level"] == 0.6  # email alone: its service level is the overall one
    assert built.tables["intervals"].empty


def test_initial_backlog_items_are_dated_before_the_first_day(by_hand):
    _, built = by_hand
    calls = built.tables["calls"]
    early = calls[calls["arrival"] < 0]
    assert early["day"].eq(-1).all() and early["interval"].eq(-1).all() and len(early) == 2
    assert not calls["warmup"].any()
    assert early["wait"].tolist() == [3_600.0 + 72_000.0, 4_000.0 + 100_000.0]


def test_an_abandoned_item_leaves_the_backlog_without_being_completed():
    scenario = email_scenario(days=2)
    items = [item(0, 1_000.0, ABANDONED, DAY + 2_000.0), item(1, 2_000.0, ANSWERED, 3_000.0, answer=2_500.0)]
    built = run_tables(scenario, hand_records(scenario, items, [(0, 0.0, OPEN, OPEN)]))
    backlog = built.tables["backlog"]
    assert backlog["abandoned"].tolist() == [0, 1] and backlog["completed"].tolist() == [1, 0]
    conserved(backlog)


# ---------------------------------------------------------------- chat sessions by hand


def test_an_agent_holding_several_chats_is_busy_once_and_holds_sessions():
    scenario = one_channel("chat", agents=1).updated({"horizon.end": "10:00"})
    chats = [
        (0, 0, 1, 50.0, 100.0, 700.0, 600.0, 0.0, ANSWERED, 0, 0, 0.0),
        (1, 0, 1, 380.0, 400.0, 1_000.0, 600.0, 0.0, ANSWERED, 0, 0, 0.0),
        (2, 0, 1, 1_990.0, 2_000.0, 2_300.0, 300.0, 0.0, ANSWERED, 0, 0, 0.0),
    ]
    built = run_tables(scenario, hand_records(scenario, chats, [(0, 0.0, 7_200.0, 7_200.0)]))
    staffing = built.tables["staffing"]
    assert staffing["busy"].tolist()[:2] == pytest.approx([900 / 1800, 300 / 1800])  # 100 to 1000 s held once
    assert staffing["sessions"].tolist()[:2] == pytest.approx([1_200 / 1800, 300 / 1800])
    agents = built.tables["agents"]
    assert agents["busy_seconds"].tolist() == [1_200.0] and agents["calls_handled"].tolist() == [3]
    assert built.summaries[0]["occupancy"] == pytest.approx(1_200 / 7_200)
    view = SimpleNamespace(scenario=scenario, calls=built.tables["calls"], staffing=staffing)
    busy = metrics.queue_and_busy(view, bin_minutes=30)["busy"].tolist()
    assert busy[:2] == pytest.approx([900 / 1800, 300 / 1800])


def test_costs_count_chat_sessions_and_worked_items_and_price_missed_days():
    due_soon = {"agent_groups.digital.agents": 4, "call_types.email_en.service_level.threshold_hours": 0.1}
    scenario = omni(days=3, changes=due_soon).model_dump(exclude_none=True)
    scenario["costs"] = {
        "groups": [{"group": "voice", "per_paid_hour": 20}, {"group": "digital", "per_paid_hour": 20}],
        "service_level_penalty": 100,
    }
    run = bposim.simulate(bposim.Scenario.model_validate(scenario), seed=2)
    handled = int((run.calls["outcome"] == "answered").sum())  # voice calls, chat sessions and email items worked
    assert run.summary["cost_per_handled_contact"] == pytest.approx(run.summary["total_cost"] / handled)
    penalty = run.costs[run.costs["component"] == "service_level_penalty"].set_index("item")
    backlog = run.backlog
    missed = int(((backlog["due"] > 0) & (backlog["service_level"] < backlog["target"])).sum())
    assert penalty.loc["email_en", "unit"] == "missed days" and penalty.loc["email_en", "quantity"] == missed
    assert missed > 0  # the check can fail
    intervals = run.intervals
    chat = intervals[(intervals["call_type"] == "chat_en") & (intervals["offered"] > 0)]
    assert penalty.loc["chat_en", "quantity"] == (chat["service_level"] < chat["target"]).sum()


# ---------------------------------------------------------------- sweeps


def test_sweep_rows_per_channel_and_a_cell_meets_when_every_call_type_does():
    base = omni(days=1, changes={"agent_groups.voice.agents": 9})
    experiment = Experiment(base, factors={"agent_groups.digital.agents": [3, 14]}, replications=2, seed=1)
    results = experiment.run(workers=1, progress=False)
    for channel in ("voice", "chat", "email"):
        assert f"{channel}.service_level" in results
    assert "email.met_due" in results and "email_en.open_at_end" in results and "email_en.offered" not in results
    assert results["service_level"].isna().all()  # no overall service level across channels
    targets = {ct.name: base.service_level_for(ct)[1] for ct in base.call_types}
    every = np.logical_and.reduce([~(results[f"{name}.service_level"] < t) for name, t in targets.items()])
    assert results["met_target"].tolist() == every.tolist()
    cells = cell_summary(results).set_index("cell")
    assert not cells.loc[0, "meets_target"] and "chat_en" in cells.loc[0, "short_call_types"]
    assert cells.loc[1, "meets_target"] and cells.loc[1, "short_call_types"] == ""
    assert shortfalls(cells.loc[0], {"chat_en": "chat"}).startswith("chat_en (chat) ")
    output = io.StringIO()
    print_sweep(Console(file=output, width=200), experiment, results)
    printed = output.getvalue()
    assert "1 of 2 cells meet the service-level target of every call type (voice, chat, email)" in printed
    assert "Chat service level" in printed and "Email service level" in printed


def test_a_voice_only_sweep_row_has_no_channel_columns():
    run = simulate_replication(one_channel("voice"), 1, 0, tables=("staffing",))
    row = kpi_row(run)
    assert "voice.service_level" not in row and row["met_target"] == (run.summary["service_level"] >= 0.8)
