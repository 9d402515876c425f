"""`bposim staff` and `staffing_requirement` plan chat: an agent holding k sessions at once is k Erlang servers
with the talk stretched at full load, and the simulated requirement and the optimised roster meet the chat target
(email and case work: tests/test_staff_deferred.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cli_runner import bposim as cli

import bposim
from bposim import analytic
from bposim.optimise.requirement import staffing_requirement
from bposim.optimise.roster import call_type_service_levels
from bposim.scenario import Scenario

CHAT_RATES = [60, 120, 180, 240, 240, 180, 120, 60]  # chats per hour, 30-minute intervals from 08:00


def chat_desk(concurrency: int, sequential_share: float = 0.0) -> Scenario:
    """A morning of chat alone: one group holding up to `concurrency` sessions an agent, 80% answered in 60 s."""
    return Scenario.model_validate(
        {
            "name": "chat desk",
            "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 30},
            "service_level": {"threshold_seconds": 60, "target": 0.8},
            "call_types": [
                {
                    "name": "web",
                    "channel": "chat",
                    "sequential_share": sequential_share,
                    "arrivals": {"per_interval": CHAT_RATES},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 300},
                    "after_call_work": {"distribution": "fixed", "value_seconds": 30},
                    "patience": {"distribution": "exponential", "mean_seconds": 240},
                }
            ],
            "agent_groups": [{"name": "chat", "skills": ["web"], "agents": 0, "max_concurrency": concurrency}],
        }
    )


def test_three_sessions_an_agent_need_about_a_third_of_the_agents_and_the_simulated_requirement_meets_the_target():
    """With s = 0 a session is no longer for being held with others, so k = 3 sessions an agent need about a third
    of the agents of one session (the Erlang start within one agent per interval; a little fewer, as more servers
    pool better), and the simulation's requirement meets 80/60 in every interval on fresh days."""
    one = staffing_requirement(chat_desk(1), replications=5, method="erlang_a").table["erlang"].to_numpy()
    three = staffing_requirement(chat_desk(3), replications=5)
    start = three.table["erlang"].to_numpy()
    assert np.all(np.abs(start - one / 3) <= 1), (start, one)
    assert start.sum() < 0.45 * one.sum()
    assert three.achieved["met"].all(), three.achieved
    assert (three.achieved["offered"] > 0).all()
    by_channel = three.by_channel
    assert list(by_channel["channel"].unique()) == ["chat"]
    assert np.allclose(by_channel["required"], three.table["required"])


@pytest.mark.parametrize(("concurrency", "share"), [(1, 0.0), (3, 0.25), (4, 0.5)])
def test_the_erlang_start_of_a_chat_group_is_erlang_a_with_k_servers_an_agent_and_the_talk_stretched(
    concurrency, share
):
    """The Erlang start of a chat-only group: the slots Erlang A needs with the talk stretched by
    1 + s (k − 1) (wrap-up not stretched), divided by k and rounded up."""
    requirement = staffing_requirement(chat_desk(concurrency, share), replications=1, method="erlang_a")
    handle = 300 * (1 + share * (concurrency - 1)) + 30
    for interval, per_hour in enumerate(CHAT_RATES):
        slots = analytic.required_agents(per_hour / 3600, handle, 60, 0.8, 240)
        assert requirement.table["erlang"].iloc[interval] == math.ceil(slots / concurrency)


VOICE_AND_CHAT = """\
name: Voice and chat with shifts
horizon: {start: "08:00", end: "14:00", interval_minutes: 30}
service_level: {threshold_seconds: 20, target: 0.80}
call_types:
  - name: phone
    arrivals:
      per_interval: [40, 60, 80, 90, 90, 80, 70, 60, 60, 50, 40, 30]
    handle_time: {distribution: exponential, mean_seconds: 180}
    patience: {distribution: exponential, mean_seconds: 90}
  - name: web
    channel: chat
    sequential_share: 0.2
    arrivals:
      per_interval: [30, 50, 70, 80, 80, 70, 60, 50, 50, 40, 30, 20]
    handle_time: {distribution: exponential, mean_seconds: 360}
    patience: {distribution: exponential, mean_seconds: 180}
    service_level: {threshold_seconds: 60, target: 0.80}
agent_groups:
  - name: voice
    skills: [phone]
    agents: 0
  - name: digital
    skills: [web]
    max_concurrency: 3
    agents: 0
costs:
  currency: EUR
  groups:
    - {group: voice, per_paid_hour: 22}
    - {group: digital, per_paid_hour: 24}
scheduling:
  shifts:
    - name: full
      length_hours: 6
      starts: {earliest: "08:00", latest: "08:00", every_minutes: 30}
      breaks:
        - {name: coffee, minutes: 15, after_hours: [2, 3], every_minutes: 30}
    - name: part
      length_hours: 3
      starts: {earliest: "08:00", latest: "11:00", every_minutes: 60}
"""


def test_staff_rosters_voice_and_chat_and_the_roster_meets_both_targets_on_fresh_days(tmp_path):
    """`bposim staff` on voice with a chat desk of 3 sessions an agent: exit 0, the chat group rostered with far
    fewer agents than sessions in progress at the peak, and the written roster, simulated again on days neither the
    search nor the verification saw, meets both call types' targets over the day."""
    model, roster = tmp_path / "voice_chat.yaml", tmp_path / "roster.yaml"
    model.write_text(VOICE_AND_CHAT)
    result = cli("staff", model, "--out", roster, "--replications", 5, "--workers", 1, timeout=120)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    assert "Every interval met its target" in result.stdout
    assert "(voice" in result.stderr and "chat" in result.stderr  # the requirement's peak, by channel
    rostered = bposim.load_scenario(roster)
    digital = sum(shift.agents for shift in rostered.roster if shift.group == "digital")
    voice = sum(shift.agents for shift in rostered.roster if shift.group == "voice")
    assert digital > 0 and voice > 0
    fresh = bposim.simulate(rostered, seed=424_242, replications=10, tables=("intervals", "staffing"))
    levels = call_type_service_levels(fresh).set_index("call_type")
    assert list(levels.index) == ["phone", "web"]
    assert (levels["service_level"] >= levels["target"]).all(), levels
    peak = fresh.staffing[(fresh.staffing["group"] == "digital") & (fresh.staffing["interval"] == 4)]
    assert peak["sessions"].sum() > 1.5 * peak["busy"].sum()  # the chat agents hold several sessions at the peak
