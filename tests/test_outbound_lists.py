"""Outbound calling lists, retries, technology, warm-up and sweeps: relations that must hold.

A campaign fed only by `rate_per_hour` dials about rate × hours records; a record is never dialled more than
`max_attempts` times, each retry no sooner than `after_minutes` after the dial before it, only after a result
`on` names, and only within the dialling hours; with retries the nuisance cap still holds at every moment; no dial
is placed while the telephony is down, slow tools lengthen outbound talk and dropping ones cut it off; each day's
warm-up is left out of the KPIs; a sweep's outbound columns are the per-replication KPIs recomputed from the
outbound table; threshold_groups counts the agents Blend's test set counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_outbound import centre, running_nuisance_rates

import bposim as library
from bposim.experiment import Experiment
from bposim.run import simulate, simulate_replication

BLEND = ROOT / "models" / "inbound_outbound_blend.yaml"
FIXED_TALK = {"distribution": "fixed", "value_seconds": 100}
DAY = 86_400.0


def dialing_window(dials: pd.DataFrame, start: float, end: float, preview: bool = False) -> pd.Series:
    """Whether each dial was placed (`preview`: its record taken, at the start of the preview) between `start` and
    `end` seconds after 09:00 of its day."""
    placed = dials["held_from"].fillna(dials["dialed"]) if preview else dials["dialed"]
    since = placed - dials["day"] * DAY
    return (since >= start) & (since < end)


# --- a rate of records ---------------------------------------------------------------------------------


def test_a_rate_campaign_dials_about_rate_times_hours_records() -> None:
    """With agents to spare, every arriving record is dialled at once: the records dialled are Poisson with mean
    rate × dialling hours (within 4 standard deviations over 3 days × 4 replications), each dialled once, and the
    list is left empty; records arrive only within the campaign's hours."""
    rate, hours = 40.0, 1.5
    scenario = centre({"records": None, "rate_per_hour": rate, "hours": "09:15-10:45"}, per_hour=5, agents=(3, 8))
    scenario = scenario.updated({"horizon.days": 3})
    run = simulate(scenario, seed=5, replications=4)
    dials = run.outbound
    expected = rate * hours * 3 * 4
    assert abs(len(dials) - expected) <= 4 * math.sqrt(expected)
    kpis = run.summary["outbound"]["sales"]
    assert kpis["records_arrived"] == pytest.approx(len(dials) / 4)
    assert kpis["dialing_hours"] == pytest.approx(hours * 3)
    assert kpis["attempts_per_record"] == 1.0 and kpis["records_left"] == 0.0
    assert dialing_window(dials, 15 * 60, 105 * 60).all()
    assert not dials.duplicated(["replication", "record_id"]).any()


def test_a_list_and_a_rate_add_up() -> None:
    """Records at the start and records arriving: the campaign dials at most both, and records_left is what it
    did not dial."""
    scenario = centre({"records": 50, "rate_per_hour": 30.0}, per_hour=5)
    run = simulate(scenario, seed=2)
    kpis = run.summary["outbound"]["sales"]
    assert kpis["records_dialed"] + kpis["records_left"] == 50 + kpis["records_arrived"]
    assert kpis["records_arrived"] > 0 and kpis["records_dialed"] > 50


# --- retries ---------------------------------------------------------------------------------------------

retries = st.fixed_dictionaries(
    {
        "dialer": st.sampled_from(["preview", "progressive", "predictive"]),
        "dials_per_free_agent": st.floats(1, 3),
        "nuisance_cap": st.sampled_from([0.0, 0.03, 0.1]),
        "right_party": st.floats(0.05, 0.5),
        "wrong_party": st.floats(0, 0.2),
        "records": st.integers(20, 400),
        "hours": st.sampled_from(["09:00-11:00", "09:20-10:40"]),
        "retry": st.fixed_dictionaries(
            {
                "after_minutes": st.sampled_from([1.0, 10.0, 45.0]),
                "max_attempts": st.integers(1, 5),
                "on": st.lists(st.sampled_from(["no_answer", "wrong_party", "nuisance"]), min_size=1, unique=True),
            }
        ),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaign=retries, seed=st.integers(0, 2**16), days=st.sampled_from([1, 2]))
def test_retries_keep_to_their_attempts_their_delay_their_results_and_the_hours(
    campaign: dict, seed: int, days: int
) -> None:
    """Over random campaigns with retries: a record's attempts are 1, 2, ... up to max_attempts; each retry is
    dialled at least after_minutes after the dial before it ended, which had a result `on` names and was not a
    right party; every dial is within the hours; the nuisance rate stays within the cap at every moment; the
    records left are those never dialled plus those still due a retry."""
    scenario = centre(campaign, per_hour=60).updated({"horizon.days": days})
    run = simulate(scenario, seed=seed)
    dials = run.outbound.sort_values(["record_id", "attempt"])
    retry = campaign["retry"]
    start, end = (60 * 0, 120 * 60) if campaign["hours"] == "09:00-11:00" else (20 * 60, 100 * 60)
    assert dialing_window(dials, start, end, preview=campaign["dialer"] == "preview").all()
    assert dials["attempt"].between(1, retry["max_attempts"]).all()
    for _, own in dials.groupby("record_id"):
        attempts = own["attempt"].to_numpy()
        assert np.array_equal(attempts, np.arange(1, len(own) + 1))
        before, after = own.iloc[:-1], own.iloc[1:]
        assert before["result"].isin(retry["on"]).all()
        previewing = campaign["dialer"] == "preview"
        taken = after["held_from"].to_numpy() if previewing else after["dialed"].to_numpy()
        taken = np.where(np.isnan(taken), after["dialed"].to_numpy(), taken)
        assert (taken >= before["ended"].to_numpy() + retry["after_minutes"] * 60 - 1e-6).all()
    assert (running_nuisance_rates(run.outbound) <= campaign["nuisance_cap"] + 1e-12).all()
    kpis = run.summary["outbound"]["sales"]
    last = dials.groupby("record_id").tail(1)
    done = (last["result"] == "right_party") | ~last["result"].isin(retry["on"])
    done |= last["attempt"] >= retry["max_attempts"]
    assert kpis["retries_left"] == (~done).sum()
    assert kpis["records_left"] == campaign["records"] - dials["record_id"].nunique() + (~done).sum()
    assert kpis["attempts_per_record"] == pytest.approx(len(dials) / dials["record_id"].nunique())
    assert kpis["records_completed"] == (dials["result"] == "right_party").sum()


def test_retries_raise_the_records_completed() -> None:
    """The same list dialled with retries completes more records (reaches more right parties) than without, in
    more attempts per record; without retry each record has one dial."""
    once = centre({"records": 300, "right_party": 0.2}, per_hour=40)
    again = centre({"records": 300, "right_party": 0.2, "retry": {"after_minutes": 5, "max_attempts": 4}}, per_hour=40)
    plain = simulate(once, seed=3, replications=2).summary["outbound"]["sales"]
    retried = simulate(again, seed=3, replications=2).summary["outbound"]["sales"]
    assert plain["attempts_per_record"] == 1.0
    assert retried["attempts_per_record"] > 1.2
    assert retried["records_completed"] > plain["records_completed"]


def test_a_retry_due_after_the_hours_waits_for_the_next_days_hours() -> None:
    """A retry delay longer than what is left of the day's hours: the record's next dial is the next day, within
    the hours."""
    scenario = centre(
        {"records": 40, "hours": "10:00-10:30", "retry": {"after_minutes": 60, "max_attempts": 3}}, per_hour=10
    ).updated({"horizon.days": 3})
    dials = simulate(scenario, seed=1).outbound
    assert dialing_window(dials, 3600, 5400).all()
    retried = dials[dials["attempt"] > 1]
    assert len(retried) > 0
    first_day = dials.groupby("record_id")["day"].transform("min")
    assert (retried["day"] > first_day[retried.index]).all()


# --- technology -------------------------------------------------------------------------------------------


def with_tool(scenario: library.Scenario, effect: dict, start: str = "09:40", minutes: float = 30) -> library.Scenario:
    """The scenario with a tool taken down every day at `start` for `minutes`, with `effect`."""
    tool = {"name": "telephony", "maintenance": [{"start": start, "minutes": minutes}], "effects": [effect]}
    return scenario.updated({"tools": [tool]})


@pytest.mark.parametrize("dialer", ["predictive", "preview"])
def test_no_dial_is_placed_while_the_telephony_is_down(dialer: str) -> None:
    """The front door shut for every call type (the telephony): no dial is placed from 09:40 to 10:10 (a preview
    ending meanwhile waits for the lines), dials go on after; the negative control (the door shut for one call type
    only) dials through the outage."""
    base = centre({"dialer": dialer, "talk_time": FIXED_TALK}, per_hour=30)
    down = simulate(with_tool(base, {"type": "arrivals_blocked"}), seed=4).outbound
    assert len(down) > 0 and not dialing_window(down, 40 * 60, 70 * 60).any()
    assert dialing_window(down, 70 * 60, 72 * 60).any()  # the dialer starts again as the lines come back
    scoped = simulate(with_tool(base, {"type": "arrivals_blocked", "call_types": ["support"]}), seed=4).outbound
    assert dialing_window(scoped, 40 * 60, 70 * 60).any()


def test_a_slow_tool_lengthens_outbound_talk_started_during_its_outage() -> None:
    """A slow effect on every call type multiplies the outbound talk of the groups it covers, as it does inbound
    talk: 100 s talks started during the outage last 250 s, the others 100 s; one scoped to a call type does not
    touch outbound talk."""
    base = centre({"talk_time": FIXED_TALK}, per_hour=30)
    slow = simulate(with_tool(base, {"type": "slow", "multiplier": 2.5}), seed=2).outbound
    talks = slow[slow["result"] == "right_party"]
    length = talks["talk_end"] - talks["talk_start"]
    during = (talks["talk_start"] >= 40 * 60) & (talks["talk_start"] < 70 * 60)
    assert during.any() and (~during).any()
    assert np.allclose(length[during], 250.0) and np.allclose(length[~during], 100.0)
    scoped = simulate(with_tool(base, {"type": "slow", "multiplier": 2.5, "call_types": ["support"]}), seed=2)
    rights = scoped.outbound[scoped.outbound["result"] == "right_party"]
    assert np.allclose(rights["talk_end"] - rights["talk_start"], 100.0)


def test_a_down_tool_that_drops_calls_cuts_outbound_talk_off() -> None:
    """A down effect with in_progress: drop on the blended team: outbound talk in progress at 09:40 is cut off
    then (cut_off set, talk_end and free_at the cut), and no blended agent is on outbound work during the outage."""
    base = centre({"talk_time": {"distribution": "fixed", "value_seconds": 600}}, per_hour=20)
    effect = {"type": "down", "groups": ["blend"], "in_progress": "drop"}
    dials = simulate(with_tool(base, effect), seed=3).outbound
    cut = dials[dials["cut_off"]]
    assert len(cut) > 0
    assert np.allclose(cut["talk_end"], 40 * 60) and np.allclose(cut["free_at"], 40 * 60)
    worked = dials[dials["agent"].notna()]
    overlaps = (worked["held_from"] < 70 * 60) & (worked["free_at"] > 40 * 60 + 1e-9)
    assert not overlaps.any()
    kept = simulate(with_tool(base, {"type": "down", "groups": ["blend"]}), seed=3).outbound
    assert not kept["cut_off"].any()


# --- warm-up ------------------------------------------------------------------------------------------------


def test_the_campaign_kpis_leave_out_each_days_warm_up() -> None:
    """With a 30-minute warm-up over two days, the KPIs count only the dials placed after each day's warm-up and
    the dialling hours after it; the dials of the warm-up are in the table all the same."""
    scenario = centre({"dialer": "predictive"}, per_hour=60).updated({"horizon.days": 2, "horizon.warmup_minutes": 30})
    run = simulate(scenario, seed=6)
    dials = run.outbound
    counted = dials[~dialing_window(dials, 0, 30 * 60)]
    assert len(counted) < len(dials)
    kpis = run.summary["outbound"]["sales"]
    right = (counted["result"] == "right_party").sum()
    assert kpis["dials"] == len(counted) and kpis["right_party"] == right
    assert kpis["dialing_hours"] == pytest.approx(2 * 1.5)
    assert kpis["right_party_per_hour"] == pytest.approx(right / 3.0)
    worked = counted[counted["agent"].notna()]
    assert kpis["agent_hours"] == pytest.approx((worked["free_at"] - worked["held_from"]).sum() / 3600)


# --- the threshold --------------------------------------------------------------------------------------------


def test_threshold_groups_count_the_free_agents_of_every_group_named() -> None:
    """Blend's test set: a threshold of 6 keeps the whole blended team of 6 free (no dial), but counting the
    inbound team too (3 + 6 agents) the dialer takes the blended agents beyond 6 free."""
    assert simulate(centre({"threshold": 6}, per_hour=20), seed=1).outbound.empty
    both = simulate(centre({"threshold": 6, "threshold_groups": ["inbound", "blend"]}, per_hour=20), seed=1)
    assert len(both.outbound) > 0


def test_the_blend_model_counts_both_groups_against_its_threshold() -> None:
    model = library.load_scenario(BLEND)
    assert model.outbound[0].threshold_groups == ["inbound_only", "blend"] and model.outbound[0].threshold == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"records": None}, "outbound[0]: give the calling list: records (a number, or unlimited), rate_per_hour"),
        ({"threshold_groups": ["blend", "nobody"]}, "outbound[0].threshold_groups[1]: unknown agent group 'nobody'"),
        ({"retry": {"after_minutes": 0}}, "outbound[0].retry.after_minutes"),
        ({"retry": {"after_minutes": 5, "on": ["right_party"]}}, "outbound[0].retry.on[0]"),
        ({"rate_per_hour": -3}, "outbound[0].rate_per_hour"),
    ],
)
def test_a_bad_list_retry_or_threshold_group_is_refused_naming_the_field(change: dict, message: str) -> None:
    with pytest.raises(library.ScenarioError) as refused:
        centre(change)
    assert message in str(refused.value)


# --- sweeps ------------------------------------------------------------------------------------------------------


def sweep_file(tmp_path, factors: str) -> object:
    path = tmp_path / "threshold.yaml"
    path.write_text(f"name: threshold\nmodel: {BLEND}\nreplications: 2\nseed: 4\nfactors:\n{factors}", encoding="utf-8")
    return path


def test_sweep_cells_have_the_outbound_columns_of_each_replication(tmp_path) -> None:
    """A sweep of the dialer's threshold and mode: each results row's outbound columns are that replication's
    KPIs recomputed from its outbound table, and the cells have their means and 95% half-widths."""
    path = sweep_file(
        tmp_path,
        "  outbound.blend_outbound.threshold: [0, 8]\n  outbound.blend_outbound.dialer: [predictive, progressive]\n",
    )
    out = tmp_path / "out"
    result = bposim("sweep", path, "--out", out, "--workers", "1", "--report")
    assert result.returncode == 0, result.stderr
    results = pd.read_parquet(out / "results.parquet")
    experiment = Experiment.from_file(path)
    hours = 2 + 55 / 60  # 11:00-13:55
    prefix = "outbound.blend_outbound."
    for _, row in results.iterrows():
        run = simulate_replication(experiment.scenario(int(row["cell"])), 4, int(row["replication"]))
        dials = run.outbound
        right = (dials["result"] == "right_party").sum()
        contacts = dials["result"].isin(["right_party", "wrong_party"]).sum()
        live = dials["result"].isin(["right_party", "wrong_party", "nuisance"]).sum()
        assert row[f"{prefix}dials"] == len(dials)
        assert row[f"{prefix}right_party_per_hour"] == pytest.approx(right / hours)
        assert row[f"{prefix}contacts_per_hour"] == pytest.approx(contacts / hours)
        assert row[f"{prefix}nuisance_rate"] == pytest.approx((dials["result"] == "nuisance").sum() / live)
    cells = pd.read_parquet(out / "cells.parquet")
    for key in ("contacts_per_hour", "right_party_per_hour", "nuisance_rate"):
        means = results.groupby("cell")[f"{prefix}{key}"].mean().to_numpy()
        assert np.allclose(cells[f"{prefix}{key}"].to_numpy(), means)
        assert f"{prefix}{key}_ci" in cells
    assert (cells.loc[cells["outbound.blend_outbound.dialer"] == "progressive", f"{prefix}nuisance"] == 0).all()
    printed = result.stdout  # the console table: each campaign's connects per hour and nuisance rate per cell
    assert "Nuisance" in printed
    for _, cell in cells.iterrows():
        assert f"{cell[f'{prefix}right_party_per_hour']:,.1f} ± " in printed
    low, high = (cells[cells["outbound.blend_outbound.threshold"] == t] for t in (0, 8))
    assert low[f"{prefix}right_party_per_hour"].mean() > high[f"{prefix}right_party_per_hour"].mean()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Outbound campaigns" in report and "Inbound service against blend_outbound" in report


@pytest.mark.parametrize(
    ("factors", "pieces"),
    [
        (
            "  outbound.blend_outbound.treshold: [0, 4]\n",
            ["factors.outbound.blend_outbound.treshold", "outbound.blend_outbound.threshold"],
        ),
        ("  outbound.blend_outbound.dialer: [predictive, robot]\n", ["outbound[0].dialer", "robot"]),
        ("  outbound.blend_outbound.dials_per_free_agent: [2, 40]\n", ["outbound[0].dials_per_free_agent", "40"]),
        ("  outbound.blend_outbound.threshold: [-1]\n", ["outbound[0].threshold"]),
    ],
)
def test_a_sweep_of_a_bad_campaign_field_is_refused_naming_the_file_and_field(tmp_path, factors, pieces) -> None:
    path = sweep_file(tmp_path, factors)
    result = bposim("sweep", path, "--out", tmp_path / "out", "--workers", "1")
    assert_refused(result, str(path), *pieces)
