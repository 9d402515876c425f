"""Calls cut off by an outage are recorded as dropped when they are cut, whatever the caller's attempt number."""

from __future__ import annotations

import numpy as np
import pytest

import bposim


def exponential(mean: float) -> dict:
    return {"distribution": "exponential", "mean_seconds": mean}


def persistent_callers() -> bposim.Scenario:
    """Callers who redial within seconds of a busy signal, up to 3000 times, while a gateway shuts the door to
    them for an hour; then a CRM that cuts off the calls in progress whenever it fails."""
    return bposim.Scenario.model_validate(
        {
            "name": "persistent callers",
            "horizon": {"start": "08:00", "end": "11:00", "interval_minutes": 30},
            "call_types": [
                {
                    "name": "redial",
                    "arrivals": {"per_hour": 20},
                    "handle_time": exponential(300.0),
                    "retrial": {
                        "after_blocked": 1.0,
                        "after_abandon": 0.0,
                        "delay": exponential(2.0),
                        "max_attempts": 3000,
                    },
                },
                {"name": "plain", "arrivals": {"per_hour": 120}, "handle_time": exponential(300.0)},
            ],
            "agent_groups": [{"name": "desk", "skills": ["redial", "plain"], "agents": 20}],
            "tools": [
                {
                    "name": "gateway",
                    "effects": [{"type": "arrivals_blocked", "call_types": ["redial"]}],
                    "maintenance": [{"start": "08:00", "minutes": 60}],
                },
                {
                    "name": "crm",
                    "effects": [{"type": "down", "in_progress": "drop"}],
                    "failures": {"time_between": exponential(900.0), "repair": exponential(60.0)},
                },
            ],
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dropped_rows_are_the_calls_cut_off_even_past_a_thousand_attempts(seed):
    """Each attempt has one row; a dropped row is an answered attempt ended at a CRM failure, with talk up to
    the cut and no wrap-up; no answered call talks across a cut; the CRM's outages count every dropped row."""
    run = bposim.simulate(persistent_callers(), seed=seed)
    calls = run.calls
    assert calls["attempt"].max() > 1000
    assert not calls.duplicated(["call_id", "attempt"]).any()
    crm = run.outages[run.outages["tool"] == "crm"]
    dropped = calls[calls["outcome"] == "dropped"]
    assert len(dropped) > 0
    assert np.isin(dropped["end"].to_numpy(), crm["start"].to_numpy()).all()
    assert (dropped["answer"] <= dropped["end"]).all()
    assert (dropped["handle_seconds"] == dropped["end"] - dropped["answer"]).all()
    assert (dropped["wrap_seconds"] == 0).all()
    assert dropped["agent"].notna().all()
    answered = calls[calls["outcome"] == "answered"]
    cuts = crm["start"].to_numpy()
    across = (answered["answer"].to_numpy()[:, None] < cuts) & (answered["end"].to_numpy()[:, None] > cuts)
    assert not across.any()
    assert (answered["end"] - answered["answer"] - answered["handle_seconds"]).abs().max() < 1e-6
    assert crm["dropped"].sum() == len(dropped)
    last = calls.groupby("call_id")["attempt"].transform("max")
    assert (calls.loc[calls["attempt"] < last, "outcome"] == "blocked").all()


def test_the_engine_records_a_call_as_dropped_at_the_cut():
    """The engine's own records hold one dropped row per call it cut off, with that call's caller, attempt and
    agent, ended at the cut: nothing is left to patch into the calls table afterwards."""
    from bposim.engine.model import Centre
    from bposim.engine.records import ANSWERED, CALL_FIELDS, DROPPED

    centre = Centre(persistent_callers(), seed=4).run()
    rows = centre.records.array()
    column = {name: i for i, name in enumerate(CALL_FIELDS)}
    dropped = rows[rows[:, column["outcome"]] == DROPPED]
    assert len(dropped) == len(centre.outages.cut_off) > 0
    cut = {(call.call_id, call.attempt) for call in centre.outages.cut_off}
    assert {(int(r[column["call_id"]]), int(r[column["attempt"]])) for r in dropped} == cut
    assert rows[:, column["attempt"]].max() > 1000
    answered = rows[rows[:, column["outcome"]] == ANSWERED]
    keys = {(int(r[column["call_id"]]), int(r[column["attempt"]])) for r in answered}
    assert not keys & cut
