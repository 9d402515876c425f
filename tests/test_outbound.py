"""Outbound campaigns and blending: relations that must hold, whatever the dialer and its settings.

The nuisance rate never exceeds the cap at any moment; no agent is on an outbound and an inbound call at once; no
inbound caller of a dialling agent's skills waits when the dial takes the agent; a progressive or preview dialer
never makes a nuisance call; the right-party share is the probability given (binomial tolerance); a campaign that
never dials leaves every table as it was without it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import bposim as library
from bposim.run import Run, simulate

BLEND = ROOT / "models" / "inbound_outbound_blend.yaml"
TALK = {"distribution": "exponential", "mean_seconds": 240}


def centre(campaign: dict | None = None, per_hour: float = 100, agents: tuple[int, int] = (3, 6)) -> library.Scenario:
    """Two hours of one inbound queue served by an inbound-only team and a blended team, with `campaign` dialled
    by the blended team."""
    data = {
        "name": "blend",
        "horizon": {"start": "09:00", "end": "11:00", "interval_minutes": 30},
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": per_hour},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                "patience": {"distribution": "exponential", "mean_seconds": 120},
            }
        ],
        "agent_groups": [
            {"name": "inbound", "skills": ["support"], "agents": agents[0]},
            {"name": "blend", "skills": [{"call_type": "support", "priority": 2}], "agents": agents[1]},
        ],
    }
    if campaign is not None:
        data["outbound"] = [
            {"name": "sales", "groups": ["blend"], "records": "unlimited", "right_party": 0.3, "talk_time": TALK}
            | campaign
        ]
    return library.Scenario.model_validate(data)


def running_nuisance_rates(dials: pd.DataFrame) -> np.ndarray:
    """The nuisance rate (nuisance / live answers) after each live answer, in the order the dials ended."""
    ordered = dials.sort_values("ended", kind="stable")
    live = ordered["result"].isin(["right_party", "wrong_party", "nuisance"]).to_numpy()
    nuisance = (ordered["result"] == "nuisance").to_numpy()
    answers, nuisances = np.cumsum(live), np.cumsum(nuisance)
    return (nuisances / np.maximum(answers, 1))[live]


def stretches(run: Run) -> pd.DataFrame:
    """Each agent's busy stretches: inbound calls (answer to end of wrap-up) and outbound work (held to free)."""
    calls = run.calls[run.calls["outcome"] == "answered"]
    inbound = pd.DataFrame(
        {
            "agent": calls["agent"].astype(str),
            "start": calls["answer"],
            "end": calls["end"] + calls["wrap_seconds"],
        }
    )
    worked = run.outbound[run.outbound["agent"].notna()]
    outbound = pd.DataFrame(
        {"agent": worked["agent"].astype(str), "start": worked["held_from"], "end": worked["free_at"]}
    )
    return pd.concat([inbound, outbound], ignore_index=True)


campaigns = st.fixed_dictionaries(
    {
        "dialer": st.sampled_from(["preview", "progressive", "predictive"]),
        "dials_per_free_agent": st.floats(1, 4),
        "nuisance_cap": st.sampled_from([0.0, 0.01, 0.03, 0.1]),
        "right_party": st.floats(0.05, 0.9),
        "wrong_party": st.floats(0, 0.1),
        "threshold": st.integers(0, 2),
        "ring_time": st.sampled_from(
            [
                {"distribution": "fixed", "value_seconds": 0},
                {"distribution": "uniform", "low_seconds": 2, "high_seconds": 30},
            ]
        ),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaign=campaigns, seed=st.integers(0, 2**16), per_hour=st.sampled_from([20.0, 100.0, 160.0]))
def test_blending_relations_hold_for_any_campaign(campaign: dict, seed: int, per_hour: float) -> None:
    """Over random campaigns and loads: the running nuisance rate never exceeds the cap; progressive and preview
    make no nuisance call; no agent holds two stretches of work at once; no inbound caller of the blended team's
    skill waits when a dial takes an agent."""
    scenario = centre(campaign, per_hour)
    run = simulate(scenario, seed=seed)
    dials = run.outbound
    assert len(dials) > 0
    assert (running_nuisance_rates(dials) <= campaign["nuisance_cap"] + 1e-12).all()
    if campaign["dialer"] != "predictive":
        assert not (dials["result"] == "nuisance").any()
    _no_agent_twice_busy(run)
    _no_caller_waits_at_a_dial(run)


def _no_agent_twice_busy(run: Run) -> None:
    for agent, own in stretches(run).groupby("agent"):
        own = own.sort_values("start")
        assert (own["start"].to_numpy()[1:] >= own["end"].to_numpy()[:-1] - 1e-9).all(), agent


def _no_caller_waits_at_a_dial(run: Run) -> None:
    """Every agent taken by the dialer was taken while no caller of its group's skill waited (one skill here)."""
    calls = run.calls
    arrival = calls["arrival"].to_numpy()
    left_queue = arrival + calls["wait"].to_numpy()
    for taken in run.outbound["held_from"].dropna().to_numpy():
        assert not ((arrival < taken) & (left_queue > taken)).any(), taken


@pytest.mark.parametrize("seed", range(6))
def test_the_nuisance_rate_of_the_blend_model_stays_under_its_cap(seed: int) -> None:
    """ContactCenters' Blend model dials twice the free blended agents: it makes nuisance calls, never above 3%."""
    scenario = library.load_scenario(BLEND)
    dials = simulate(scenario, seed=seed).outbound
    cap = scenario.outbound[0].nuisance_cap
    assert (running_nuisance_rates(dials) <= cap + 1e-12).all()
    assert dials["result"].eq("nuisance").sum() <= cap * dials["result"].isin(["right_party", "nuisance"]).sum()


def test_without_the_cap_the_predictive_dialer_makes_more_nuisance_calls() -> None:
    """The negative control: the same campaign with a cap of 0.5 goes over 3% (so the cap is what holds it)."""
    loose = library.load_scenario(BLEND).updated({"outbound.blend_outbound.nuisance_cap": 0.5})
    rates = [running_nuisance_rates(simulate(loose, seed=seed).outbound)[-1] for seed in range(3)]
    assert max(rates) > 0.03


@pytest.mark.parametrize("dialer", ["progressive", "preview"])
def test_the_right_party_share_is_the_probability_given(dialer: str) -> None:
    """With no nuisance call, right-party dials are binomial(dials, right_party): within 4 standard errors."""
    scenario = centre({"dialer": dialer, "right_party": 0.3, "wrong_party": 0.1}, per_hour=20)
    dials = simulate(scenario, seed=4, replications=3).outbound
    n, share = len(dials), (dials["result"] == "right_party").mean()
    assert n > 500
    assert abs(share - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / n)
    assert abs((dials["result"] == "wrong_party").mean() - 0.1) <= 4 * math.sqrt(0.1 * 0.9 / n)


def test_a_preview_agent_reviews_its_record_then_dials_it() -> None:
    """Preview: each dial's own agent is taken at the start of the preview and dials after preview_time."""
    scenario = centre({"dialer": "preview", "preview_time": {"distribution": "fixed", "value_seconds": 45}})
    dials = simulate(scenario, seed=2).outbound
    assert dials["agent"].notna().all()
    assert np.allclose(dials["dialed"] - dials["held_from"], 45.0)


def test_a_campaign_keeps_to_its_hours_its_list_and_its_threshold() -> None:
    """No dial outside the campaign's hours, never more dials than records, and none at all when the threshold
    leaves every blended agent free."""
    scenario = centre({"hours": "09:30-10:15", "records": 60})
    dials = simulate(scenario, seed=1).outbound
    assert 0 < len(dials) <= 60
    assert dials["dialed"].min() >= 1800 and dials["dialed"].max() < 4500
    assert simulate(centre({"threshold": 6}), seed=1).outbound.empty


def test_a_campaign_that_never_dials_leaves_every_table_as_without_it() -> None:
    """Hours outside the opening: the hooks are in place but no dial is made; every table is bit-identical to the
    run without `outbound`, and the outbound table is empty."""
    plain = simulate(centre(), seed=3, replications=2)
    idle = simulate(centre({"hours": "18:00-19:00"}), seed=3, replications=2)
    assert idle.agents["outbound_seconds"].eq(0).all()
    for name in Run.TABLES:
        if name != "outbound":
            table = getattr(idle, name).drop(columns=["outbound_seconds"], errors="ignore")
            assert_frame_equal(table, getattr(plain, name), check_exact=True, obj=name)
    assert idle.outbound.empty and list(plain.outbound.columns) == list(idle.outbound.columns)
    assert "outbound" not in plain.summary and idle.summary["outbound"]["sales"]["dials"] == 0


def test_a_campaign_leaves_the_inbound_draws_unchanged() -> None:
    """Common random numbers: the campaign has its own stream, so the callers (arrivals) are the same with it."""
    plain = simulate(centre(), seed=7).calls
    blended = simulate(centre({"dialer": "predictive"}), seed=7).calls
    first = plain["attempt"] == 1
    assert np.array_equal(
        plain.loc[first, "arrival"].to_numpy(), blended.loc[blended["attempt"] == 1, "arrival"].to_numpy()
    )


def test_the_summary_is_computed_from_the_outbound_table() -> None:
    """Per replication, the KPIs are counts and sums of the table's rows; the summary pools them as means."""
    scenario = library.load_scenario(BLEND)
    run = simulate(scenario, seed=1, replications=3)
    kpis = run.summary["outbound"]["blend_outbound"]
    per = []
    for r in range(3):
        dials = run.outbound[run.outbound["replication"] == r]
        worked = dials[dials["agent"].notna()]
        hours = (worked["free_at"] - worked["held_from"]).sum() / 3600
        right = (dials["result"] == "right_party").sum()
        per.append((len(dials), right, hours, right / hours))
    means = np.mean(per, axis=0)
    assert kpis["dials"] == pytest.approx(means[0]) and kpis["right_party"] == pytest.approx(means[1])
    assert kpis["agent_hours"] == pytest.approx(means[2]) and kpis["dials_ci"] > 0
    assert kpis["right_party_per_agent_hour"] == pytest.approx(means[3])
    agents = run.agents
    assert agents["outbound_seconds"].sum() == pytest.approx(means[2] * 3 * 3600)
    available = agents["logged_in_seconds"] - agents["off_phone_seconds"]
    parts = agents["busy_seconds"] + agents["outbound_seconds"] + agents["idle_seconds"]
    assert np.allclose(parts, available) and (agents["idle_seconds"] >= -1e-6).all()


def test_bposim_run_prints_writes_and_reports_the_campaigns(tmp_path) -> None:
    out = tmp_path / "blend"
    result = bposim("run", BLEND, "--out", out, "--report", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert "Outbound campaigns" in result.stdout and "blend_outbound" in result.stdout
    table = pd.read_csv(out / "outbound.csv")
    assert len(table) > 0 and set(table["result"]) <= {"right_party", "wrong_party", "no_answer", "nuisance"}
    assert "Outbound campaigns" in (out / "report.html").read_text(encoding="utf-8")
    plain = tmp_path / "plain"
    assert bposim("run", ROOT / "models" / "helpdesk.yaml", "--out", plain).returncode == 0
    assert not (plain / "outbound.csv").exists()
    checked = bposim("validate", BLEND)
    assert checked.returncode == 0 and "outbound blend_outbound (predictive)" in checked.stdout


def test_a_campaign_of_an_unknown_group_is_refused_naming_the_field(tmp_path) -> None:
    text = BLEND.read_text(encoding="utf-8").replace("groups: [blend]", "groups: [blended]")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = bposim("validate", path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "outbound[0].groups[0]: unknown agent group 'blended'; known: inbound_only, blend" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"right_party": 0, "no_answer_time": {"distribution": "fixed", "value_seconds": 0}},
            "outbound[0]: a dial holds its agent 0 s on average",
        ),
        ({"right_party": 0.8, "wrong_party": 0.3}, "right_party + wrong_party is 1.1"),
        ({"hours": "18:00"}, "outbound[0].hours: "),
        ({"dialer": "robot"}, "preview"),
    ],
)
def test_a_campaign_that_cannot_be_dialled_is_refused(change: dict, message: str) -> None:
    """A dial that takes no time (the dialer would dial without end at one instant), shares above 1, hours that
    are not a range, an unknown dialer: refused with the field and what is allowed."""
    with pytest.raises(library.ScenarioError) as refused:
        centre(change)
    assert message in str(refused.value)


def test_a_calling_list_beyond_the_engine_limits_is_refused_naming_it() -> None:
    """A campaign never running out of records dials tens of millions of times over years of days (refused naming
    the days) or in one day with a huge team (refused naming outbound[0].records), before simulating."""
    years = centre({}, agents=(3, 200)).updated({"horizon.days": 3000})
    with pytest.raises(library.ScenarioError, match=r"horizon\.days: about .* outbound dials over 3,000 day"):
        simulate(years)
    huge = centre({}, agents=(3, 90_000)).updated({"horizon.end": "24:00", "horizon.start": "00:00"})
    with pytest.raises(library.ScenarioError, match=r"outbound\[0\]\.records: about .* outbound dials"):
        simulate(huge)
    listed = centre({"records": 1000}).updated({"horizon.days": 3000})
    assert workload_dials(listed) <= 1000 / 3000 + 1e-9


def workload_dials(scenario: library.Scenario) -> float:
    from bposim.workload import estimate

    return estimate(scenario).per_day("outbound dials")
