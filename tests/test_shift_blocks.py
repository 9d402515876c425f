"""Deferred-only blocks in shifts ("block" rather than "blended" scheduling): nobody in a block takes a live
contact, items are worked in blocks, a block waits for a call in progress like a break, idle time in a block is
available time (not off the phones), and blocks are refused where they cannot work. The roster CSV carries them in
a `blocks` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused
from cli_runner import bposim as run_cli

import bposim
from bposim.scenario.workforce import read_roster_csv

EPS = 1e-6


def exponential(mean: float) -> dict:
    return {"distribution": "exponential", "mean_seconds": mean}


def spec(blocks: list[dict], agents: int = 6, mail_per_hour: float = 6.0) -> dict:
    """Phones and email on one rostered team; `blocks` are the shift's deferred blocks."""
    return {
        "name": "blocks",
        "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30},
        "call_types": [
            {
                "name": "phone",
                "arrivals": {"per_hour": 40},
                "handle_time": exponential(300),
                "patience": exponential(240),
            },
            {
                "name": "mail",
                "channel": "email",
                "arrivals": {"per_hour": mail_per_hour},
                "handle_time": exponential(600),
            },
        ],
        "agent_groups": [{"name": "team", "skills": ["phone", "mail"]}],
        "roster": [
            {
                "group": "team",
                "start": "08:00",
                "end": "16:00",
                "agents": agents,
                "breaks": [{"name": "lunch", "minutes": 30, "window": ["11:30", "13:30"]}],
                "deferred_blocks": blocks,
            }
        ],
    }


BLOCK = {"name": "inbox", "minutes": 60, "window": ["09:00", "12:00"]}


def simulate(blocks: list[dict], seed: int, **changes) -> bposim.Run:
    return bposim.simulate(bposim.Scenario.model_validate(spec(blocks, **changes)), seed=seed)


def blocks_of(run: bposim.Run) -> pd.DataFrame:
    activities = run.activities
    return activities[(activities["kind"] == "deferred_block") & ~activities["missed"]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nobody_in_a_block_takes_a_live_contact_and_items_are_worked_in_blocks(seed):
    run = simulate([BLOCK], seed)
    blocks = blocks_of(run)
    assert len(blocks) == 6, "each agent takes their block"
    calls = run.calls
    phones = calls[(calls["call_type"] == "phone") & (calls["outcome"] == "answered")]
    mail = calls[(calls["call_type"] == "mail") & (calls["outcome"] == "answered")]
    in_blocks = 0
    for agent, start, end in zip(blocks["agent"], blocks["start"], blocks["end"], strict=True):
        own = phones[phones["agent"] == agent]
        assert not ((own["answer"] > start - EPS) & (own["answer"] < end - EPS)).any()
        busy_into_block = (own["answer"] < start) & (own["end"] + own["wrap_seconds"] > start + EPS)
        assert not busy_into_block.any(), "a block starts after the call in progress, like a break"
        own_mail = mail[mail["agent"] == agent]
        in_blocks += int(((own_mail["answer"] >= start - EPS) & (own_mail["answer"] < end)).sum())
    assert in_blocks >= 6


def test_blocks_are_staggered_across_the_window_like_breaks():
    blocks = blocks_of(simulate([BLOCK], 4)).sort_values("planned")
    planned = blocks["planned"].to_numpy()  # seconds from the opening
    low, high, length = 3600.0, 4 * 3600.0, 3600.0
    expected = low + (high - low - length) * (np.arange(6) + 0.5) / 6
    np.testing.assert_allclose(planned, expected)
    assert (blocks["start"] >= blocks["planned"] - EPS).all()


def test_blocks_hold_live_callers_back_and_move_items_forward():
    """Against the same callers and items (common random numbers), a long block for everyone makes phones wait
    longer and email start sooner."""
    long_block = {"name": "inbox", "minutes": 120, "window": ["09:00", "15:00"]}
    for seed in (5, 6):
        blended, blocked = simulate([], seed, mail_per_hour=12.0), simulate([long_block], seed, mail_per_hour=12.0)

        def mean_wait(run: bposim.Run, call_type: str) -> float:
            calls = run.calls
            return calls.loc[calls["call_type"] == call_type, "wait"].mean()

        assert mean_wait(blocked, "phone") > mean_wait(blended, "phone")
        assert mean_wait(blocked, "mail") < mean_wait(blended, "mail")


def test_idle_time_in_a_block_is_available_time_not_off_the_phones():
    """With almost no email, agents in blocks mostly wait for items: that time is on the phones (available) and
    idle, so off-phone time is the breaks alone and occupancy falls."""
    run = simulate([BLOCK], 7, mail_per_hour=0.5)
    breaks = run.activities[(run.activities["kind"] == "break") & ~run.activities["missed"]]
    off = (breaks["end"] - breaks["start"]).groupby(breaks["agent"]).sum()
    agents = run.agents.set_index("agent")
    np.testing.assert_allclose(agents.loc[off.index, "off_phone_seconds"], off.to_numpy())
    assert (agents["idle_seconds"] >= 3600.0 * 0.5).all(), "an hour's block with little to do is mostly idle"
    staffing = run.staffing
    np.testing.assert_allclose(staffing["on_phone"], staffing["present"] - staffing["off_phone"])
    without = simulate([], 7, mail_per_hour=0.5)
    assert run.summary["occupancy"] < without.summary["occupancy"]


def test_blocks_need_a_deferred_skill_and_interruptible_needs_a_deferred_channel(tmp_path: Path):
    voice_only = spec([BLOCK])
    voice_only["call_types"] = voice_only["call_types"][:1]
    voice_only["agent_groups"][0]["skills"] = ["phone"]
    path = tmp_path / "blocks.yaml"
    path.write_text(yaml.safe_dump(voice_only))
    assert_refused(run_cli("validate", path), "roster[0].deferred_blocks", "no email or case skill")
    live = spec([])
    live["call_types"][0]["interruptible"] = True
    path.write_text(yaml.safe_dump(live))
    assert_refused(run_cli("validate", path), "call_types[0]", "interruptible (email and case only")


def test_a_block_must_fit_its_window_inside_the_shift():
    with pytest.raises(ValueError, match="60-minute block does not fit"):
        bposim.Scenario.model_validate(spec([{"name": "inbox", "minutes": 60, "window": ["09:00", "09:30"]}]))
    with pytest.raises(ValueError, match="deferred block 'inbox' window 15:00-17:00 is outside the shift"):
        bposim.Scenario.model_validate(spec([{"name": "inbox", "minutes": 60, "window": ["15:00", "17:00"]}]))


def test_the_roster_csv_carries_blocks(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "group,start,end,agents,breaks,blocks\nteam,08:00,16:00,6,lunch 30 11:30-13:30,inbox 60 09:00-12:00\n"
    )
    ((line, shift),) = read_roster_csv(roster)
    assert shift["deferred_blocks"] == [{"name": "inbox", "minutes": 60.0, "window": ("09:00", "12:00")}]
    scenario = spec([])
    scenario.pop("roster")
    scenario["roster_file"] = "roster.csv"
    path = tmp_path / "blocks.yaml"
    path.write_text(yaml.safe_dump(scenario))
    model = bposim.load_scenario(path)
    assert model.roster[0].deferred_blocks[0].minutes == 60
    assert len(blocks_of(bposim.simulate(model, seed=1))) == 6
    roster.write_text("group,start,end,agents,blocks\nteam,08:00,16:00,6,inbox 60 09:00-12:00 unpaid\n")
    assert_refused(run_cli("validate", path), "roster.csv: line 2:", "block 'inbox 60 09:00-12:00 unpaid' is not")
