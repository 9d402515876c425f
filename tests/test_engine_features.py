"""Each scenario feature does what the scenario reference says, seen in the run's tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bposim

ROOT = Path(__file__).resolve().parents[1]


def scenario(**changes) -> bposim.Scenario:
    """A one-hour single-skill centre, with top-level fields replaced by `changes`."""
    data = {
        "name": "test centre",
        "horizon": {"start": "09:00", "end": "11:00", "interval_minutes": 30},
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 120},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            }
        ],
        "agent_groups": [{"name": "team", "skills": ["support"], "agents": 6}],
    }
    data.update(changes)
    return bposim.Scenario.model_validate(data)


def two_types(selection: str = "priority") -> bposim.Scenario:
    return scenario(
        routing={"call_selection": selection},
        call_types=[
            {
                "name": "vip",
                "priority": 1,
                "arrivals": {"per_hour": 60},
                "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            },
            {
                "name": "standard",
                "priority": 2,
                "arrivals": {"per_hour": 60},
                "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            },
        ],
        agent_groups=[{"name": "team", "skills": ["vip", "standard"], "agents": 8}],
    )


def test_priority_call_type_waits_less_than_the_other() -> None:
    by_type = bposim.simulate(two_types(), seed=3, replications=3).summary["by_call_type"]
    assert by_type["vip"]["asa_seconds"] < by_type["standard"]["asa_seconds"] / 2


def test_longest_wait_selection_ignores_call_type_priority() -> None:
    by_type = bposim.simulate(two_types("longest_wait"), seed=3, replications=3).summary["by_call_type"]
    ratio = by_type["vip"]["asa_seconds"] / by_type["standard"]["asa_seconds"]
    assert 0.6 < ratio < 1.6


def test_proficiency_multiplies_talk_time() -> None:
    run = bposim.simulate(
        scenario(
            call_types=[
                {
                    "name": "support",
                    "arrivals": {"per_hour": 60},
                    "handle_time": {"distribution": "fixed", "value_seconds": 100},
                }
            ],
            agent_groups=[
                {"name": "experts", "skills": [{"call_type": "support", "proficiency": 0.5}], "agents": 1},
                {"name": "novices", "skills": [{"call_type": "support", "proficiency": 1.5}], "agents": 3},
            ],
        ),
        seed=1,
    )
    answered = run.calls[run.calls["outcome"] == "answered"]
    talk = answered.groupby("group", observed=True)["handle_seconds"].agg(["min", "max"])
    assert talk.loc["experts"].tolist() == pytest.approx([50, 50])
    assert talk.loc["novices"].tolist() == pytest.approx([150, 150])


def test_most_proficient_policy_prefers_the_fastest_idle_group() -> None:
    groups = [
        {"name": "slow", "skills": [{"call_type": "support", "proficiency": 1.5}], "agents": 5},
        {"name": "fast", "skills": [{"call_type": "support", "proficiency": 0.8}], "agents": 5},
    ]
    shares = {}
    for policy in ("longest_idle", "most_proficient"):
        run = bposim.simulate(scenario(agent_groups=groups, routing={"agent_selection": policy}), seed=2)
        answered = run.calls[run.calls["outcome"] == "answered"]
        shares[policy] = (answered["group"] == "fast").mean()
    assert shares["most_proficient"] > shares["longest_idle"] + 0.1


def test_routing_priority_sends_calls_to_primary_group_first() -> None:
    run = bposim.simulate(
        scenario(
            agent_groups=[
                {"name": "primary", "skills": ["support"], "agents": 9},
                {"name": "backup", "skills": [{"call_type": "support", "priority": 2}], "agents": 9},
            ]
        ),
        seed=4,
    )
    answered = run.calls[run.calls["outcome"] == "answered"]
    share_backup = (answered["group"] == "backup").mean()
    assert 0 < share_backup < 0.2


def test_overflow_group_takes_only_calls_that_waited_the_delay() -> None:
    run = bposim.simulate(
        scenario(
            call_types=[
                {
                    "name": "support",
                    "arrivals": {"per_hour": 200},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                }
            ],
            agent_groups=[
                {"name": "primary", "skills": ["support"], "agents": 8},
                {"name": "overflow", "skills": [{"call_type": "support", "delay_seconds": 30}], "agents": 4},
            ],
        ),
        seed=5,
    )
    calls = run.calls
    by_overflow = calls[(calls["group"] == "overflow") & (calls["answer"] < 2 * 3600)]
    assert len(by_overflow) > 20
    assert (by_overflow["wait"] >= 30 - 1e-9).all()


def test_trunk_lines_block_calls_and_blocked_callers_retry() -> None:
    run = bposim.simulate(
        scenario(
            trunk_lines=7,
            call_types=[
                {
                    "name": "support",
                    "arrivals": {"per_hour": 160},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                    "retrial": {
                        "after_blocked": 1.0,
                        "delay": {"distribution": "fixed", "value_seconds": 60},
                        "max_attempts": 2,
                    },
                }
            ],
        ),
        seed=6,
    )
    calls = run.calls
    blocked = calls[calls["outcome"] == "blocked"]
    assert len(blocked) > 10 and (blocked["wait"] == 0).all()
    retries = calls[calls["attempt"] == 2].set_index("call_id")
    blocked_first = calls[(calls["attempt"] == 1) & (calls["outcome"] == "blocked")].set_index("call_id")
    before_close = blocked_first[blocked_first["end"] + 60 < 2 * 3600]
    assert set(retries.index) == set(before_close.index)
    assert np.allclose(retries["arrival"], before_close.loc[retries.index, "end"] + 60)
    assert calls["attempt"].max() == 2


def test_retrial_after_abandonment_follows_probability() -> None:
    run = bposim.simulate(
        scenario(
            call_types=[
                {
                    "name": "support",
                    "arrivals": {"per_hour": 240},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                    "patience": {"distribution": "exponential", "mean_seconds": 30},
                    "retrial": {
                        "after_abandon": 0.5,
                        "delay": {"distribution": "exponential", "mean_seconds": 120},
                        "max_attempts": 5,
                    },
                }
            ],
            horizon={"start": "08:00", "end": "16:00", "interval_minutes": 60},
        ),
        seed=7,
    )
    calls = run.calls
    abandoned = calls[(calls["outcome"] == "abandoned") & (calls["end"] < 7 * 3600)]
    retried = abandoned.merge(
        calls[["call_id", "attempt"]].assign(attempt=lambda f: f["attempt"] - 1), on=["call_id", "attempt"]
    )
    share = len(retried) / len(abandoned)
    assert len(abandoned) > 300
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / len(abandoned))
    assert calls["attempt"].max() <= 5


def test_per_interval_arrivals_and_staffing_follow_the_plan() -> None:
    run = bposim.simulate(
        scenario(
            horizon={"start": "08:00", "end": "10:00", "interval_minutes": 30},
            call_types=[
                {
                    "name": "support",
                    "arrivals": {"per_interval": [0, 400, 40, 0]},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 60},
                }
            ],
            agent_groups=[{"name": "team", "skills": ["support"], "agents": {"per_interval": [2, 10, 3, 1]}}],
        ),
        seed=8,
    )
    offered = run.intervals.set_index("interval")["offered"]
    assert offered[0] == 0 and offered[3] == 0
    assert 150 < offered[1] < 250 and 5 < offered[2] < 40
    assert run.intervals["interval_start"].tolist() == ["08:00", "08:30", "09:00", "09:30"]
    assert len(run.agents) == 10
    logged = run.agents["logged_in_seconds"].sum()
    assert logged == pytest.approx((2 + 10 + 3 + 1) * 1800, rel=0.05)


def test_closing_clear_leaves_waiting_callers_unserved_and_serve_answers_them() -> None:
    overloaded = {
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 300},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            }
        ],
        "agent_groups": [{"name": "team", "skills": ["support"], "agents": 5}],
    }
    cleared = bposim.simulate(scenario(horizon={"start": "09:00", "end": "10:00", "closing": "clear"}, **overloaded))
    served = bposim.simulate(scenario(horizon={"start": "09:00", "end": "10:00", "closing": "serve"}, **overloaded))
    unserved = cleared.calls[cleared.calls["outcome"] == "unserved"]
    assert len(unserved) > 10 and (unserved["end"] == 3600).all()
    assert (served.calls["outcome"] == "answered").all() and served.summary["unserved"] == 0
    assert served.summary["answered"] == served.summary["offered"] == len(served.calls)
    assert served.calls["end"].max() > 3600


def rostered_backlog(closing: str, days: int = 1) -> bposim.Scenario:
    """Email-style work: no patience, far more arriving than the roster can answer by closing; every agent
    rostered (no plan agents), one shift until closing and one that ends an hour before it."""
    return scenario(
        horizon={"start": "09:00", "end": "11:00", "interval_minutes": 30, "closing": closing, "days": days},
        call_types=[
            {
                "name": "email",
                "arrivals": {"per_hour": 300},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            }
        ],
        agent_groups=[{"name": "team", "skills": ["email"], "agents": 0}],
        roster=[
            {
                "group": "team",
                "start": "09:00",
                "end": "11:00",
                "agents": 5,
                "breaks": [{"name": "coffee", "minutes": 15, "window": ["09:30", "10:30"]}],
            },
            {"group": "team", "start": "09:00", "end": "10:00", "agents": 2},
        ],
    )


@pytest.mark.parametrize("days", [1, 2])
def test_closing_serve_keeps_rostered_agents_until_every_caller_is_answered(days: int) -> None:
    """Agents whose shift ends at closing stay while callers wait, as plan agents do, each day afresh; those whose
    shift ends earlier log out as usual, after the call in hand. `clear` lets the queue go at closing instead."""
    served = bposim.simulate(rostered_backlog("serve", days), seed=4)
    calls, agents = served.calls, served.agents.set_index("agent")
    assert (calls["outcome"] == "answered").all() and served.summary["unserved"] == 0
    since_open = calls["answer"] - calls["day"] * 86_400
    for day in range(days):
        assert calls.loc[calls["day"] == day, "answer"].max() > day * 86_400 + 7200 + 3600
    until_closing = [f"team-s1-{slot:03d}" for slot in range(1, 6)]
    early = [f"team-s2-{slot:03d}" for slot in range(1, 3)]
    assert (agents.loc[until_closing, "overtime_seconds"] > 3600 * days).all()
    assert (agents.loc[early, "overtime_seconds"] < 1800 * days).all()
    assert (since_open[calls["agent"].isin(early).to_numpy()] < 3600).all()
    assert calls.groupby("day")["agent"].nunique().tolist() == [7] * days

    cleared = bposim.simulate(rostered_backlog("clear", days), seed=4)
    unserved = cleared.calls[cleared.calls["outcome"] == "unserved"]
    assert len(unserved) > 100 * days
    assert sorted((unserved["end"] - unserved["day"] * 86_400).unique()) == [7200.0]
    assert (cleared.agents["overtime_seconds"] < 1800 * days).all()


@pytest.mark.parametrize("closing", ["clear", "serve"])
def test_agents_an_outage_keeps_off_the_phones_at_closing_stay_only_for_waiting_callers(closing: str) -> None:
    """The team is down from 10:50 to 11:50 and closes at 11:00. With the queue cleared, each agent logs out at
    closing or as its call ends, not when the outage does; with callers waiting (`serve`), the agents stay and
    answer them once it is over."""
    down = [{"name": "crm", "effects": [{"type": "down"}], "maintenance": [{"start": "10:50", "minutes": 60}]}]
    run = bposim.simulate(rostered_backlog(closing).updated({"tools": down}), seed=6)
    calls = run.calls
    answered = calls[calls["answer"].notna()]
    assert not ((answered["answer"] > 6600) & (answered["answer"] < 10_200)).any()
    if closing == "clear":
        free = (answered["end"] + answered["wrap_seconds"]).groupby(answered["agent"], observed=True).max()
        agents = run.agents.set_index("agent")
        logout = agents["logged_in_seconds"]  # one session each, from the opening
        assert (logout <= free.reindex(agents.index).fillna(0).clip(lower=7200) + 1e-6).all()
    else:
        assert (calls["outcome"] == "answered").all() and answered["answer"].max() > 10_200


def test_a_backlog_served_through_the_night_ends_at_the_next_shift_start() -> None:
    """Agents still serving the last closing's backlog when their next shift starts carry on in a new session:
    one call at a time per agent, every caller answered, and the agents log in once per day."""
    from bposim.engine.model import Centre

    backlog = rostered_backlog("serve", days=2).updated({"call_types.email.arrivals.per_hour": 1500})
    run = bposim.simulate(backlog, seed=5)
    assert (run.calls["outcome"] == "answered").all()
    answered = run.calls.sort_values("answer")
    for _, calls in answered.groupby("agent", observed=True):
        free = (calls["end"] + calls["wrap_seconds"]).to_numpy()
        assert (calls["answer"].to_numpy()[1:] >= free[:-1]).all()
    sessions = pd.DataFrame(
        Centre(backlog, seed=5).run().workforce.sessions, columns=["agent", "login", "logout", "planned_logout"]
    )
    assert sessions.groupby("agent").size().tolist() == [2] * 7
    assert (sessions.sort_values(["agent", "login"]).groupby("agent")["login"].diff().dropna() == 86_400).all()
    night = sessions[(sessions["login"] == 0) & (sessions["planned_logout"] == 7200)]
    assert (night["logout"] == 86_400).all() and len(night) == 5


def test_warmup_calls_are_flagged_and_left_out_of_kpis() -> None:
    run = bposim.simulate(scenario(horizon={"start": "09:00", "end": "11:00", "warmup_minutes": 30}), seed=9)
    calls = run.calls
    assert (calls["warmup"] == (calls["arrival"] < 1800)).all()
    assert run.summary["offered"] == int((~calls["warmup"]).sum())
    assert run.intervals["offered"].sum() == run.summary["offered"]


def test_several_days_open_afresh_with_their_own_busyness() -> None:
    run = bposim.simulate(
        scenario(
            horizon={"start": "09:00", "end": "11:00", "days": 3},
            busyness={"cv": 0.3},
        ),
        seed=10,
    )
    calls = run.calls
    assert sorted(calls["day"].unique()) == [0, 1, 2]
    since_open = calls["arrival"] - calls["day"] * 86_400
    assert ((since_open >= 0) & (since_open < 7200)).all()
    per_day = run.intervals.groupby("day")["offered"].sum()
    assert len(per_day) == 3 and per_day.sum() == run.summary["offered"]


def test_busyness_adds_day_to_day_variation() -> None:
    def daily_counts(cv: float | None) -> pd.Series:
        extra = {"busyness": {"cv": cv}} if cv else {}
        run = bposim.simulate(scenario(horizon={"start": "09:00", "end": "10:00", "days": 60}, **extra), seed=11)
        return run.calls.groupby("day").size()

    plain, busy = daily_counts(None), daily_counts(0.4)
    assert plain.var() / plain.mean() < 2.0
    assert busy.var() / busy.mean() > 4.0


def test_service_level_definitions() -> None:
    """Each definition's service level equals the one counted from the calls table: answered within the threshold
    over offered, over answered, or over offered less the callers who hung up within the threshold."""
    base = scenario(
        call_types=[
            {
                "name": "support",
                "arrivals": {"per_hour": 300},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                "patience": {"distribution": "exponential", "mean_seconds": 40},
            }
        ]
    )
    runs = {}
    for definition in ("offered", "answered", "offered_less_short_abandons"):
        changed = base.updated({"service_level.definition": definition})
        runs[definition] = bposim.simulate(changed, seed=12)
    calls = runs["offered"].calls
    for run in runs.values():  # the definition changes the KPI, not the calls
        pd.testing.assert_frame_equal(run.calls, calls)
    assert not calls["warmup"].any()
    threshold = base.service_level.threshold_seconds
    answered, abandoned = calls[calls["outcome"] == "answered"], calls[calls["outcome"] == "abandoned"]
    within, short = int((answered["wait"] <= threshold).sum()), int((abandoned["wait"] <= threshold).sum())
    from_calls = {
        "offered": within / len(calls),
        "answered": within / len(answered),
        "offered_less_short_abandons": within / (len(calls) - short),
    }
    for definition, run in runs.items():
        assert run.summary["service_level"] == pytest.approx(from_calls[definition]), definition
    s = runs["offered"].summary
    assert (s["answered_within_threshold"], s["abandoned_within_threshold"]) == (within, short)
    assert (s["offered"], s["answered"], s["abandoned"]) == (len(calls), len(answered), len(abandoned))
    assert short > 0 and s["abandoned"] > short


def test_updated_scenario_is_new_and_validated() -> None:
    base = scenario()
    bigger = base.updated({"agent_groups.team.agents": 9, "call_types.0.arrivals.per_hour": 90})
    assert base.agent_groups[0].agents.count == 6 and bigger.agent_groups[0].agents.count == 9
    assert bigger.call_types[0].arrivals.per_hour == 90
    with pytest.raises(ValueError, match="no item 'sales' in call_types; known: support"):
        base.updated({"call_types.sales.priority": 2})
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        base.updated({"agent_groups.team.skills.0.priority": -1})


def test_simulate_leaves_the_scenario_unchanged() -> None:
    base = scenario(busyness={"cv": 0.2})
    before = base.model_dump()
    bposim.simulate(base, seed=1, replications=2)
    assert base.model_dump() == before


@pytest.mark.parametrize("model", sorted((ROOT / "models").glob("*.yaml")), ids=lambda path: path.stem)
def test_a_scenario_dump_validates_back_to_itself(model: Path) -> None:
    """`model_dump()`, None fields included, is a valid scenario equal to the one dumped."""
    loaded = bposim.load_scenario(model)
    assert bposim.Scenario.model_validate(loaded.model_dump()) == loaded


def test_truncated_handle_times_cap_every_call() -> None:
    """A lognormal handle time with cv 2 truncated at 10 minutes: no call talks longer, and the mean talk time
    matches the truncated mean (within 5 standard errors), well below the untruncated 180 s."""
    handle = {"distribution": "lognormal", "mean_seconds": 180, "cv": 2.0, "max_seconds": 600}
    centre = scenario(
        call_types=[{"name": "support", "arrivals": {"per_hour": 120}, "handle_time": handle}],
        agent_groups=[{"name": "team", "skills": ["support"], "agents": 8}],
    )
    talk = bposim.simulate(centre, seed=3, replications=20).calls["handle_seconds"].dropna()
    assert talk.max() <= 600
    expected = centre.call_types[0].handle_time.mean
    assert expected < 150
    assert abs(talk.mean() - expected) <= 5 * talk.std() / np.sqrt(len(talk))
