"""Site shares: a call type's first attempts allotted to sites by share, each site serving its share from its own
line. Over a run each site answers its share (within a binomial tolerance); no caller reaches another site's group
before the overflow delay (nor ever without one), and callers do cross after it; the allotment draws from its own
stream (every other table unchanged); bad shares are refused at the command line; `bposim validate` prints them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bposim.engine.sources import stream
from bposim.run import simulate
from bposim.scenario import Scenario, load_scenario

MODEL = ROOT / "models" / "site_shares.yaml"
CLOSE = 7200.0  # the two hours' closing, in seconds from the opening
SITE_OF = {"lisbon_team": "lisbon", "manila_team": "manila", "lisbon_support": "lisbon"}


def centre(
    lisbon: float,
    agents: tuple[int, int],
    overflow: float | None = None,
    patience: float | None = None,
    retrial: bool = False,
    priority: int = 1,
    per_hour: float = 60,
) -> dict:
    """Two hours of billing (split by share between lisbon and manila) and support (lisbon only, its team also
    taking billing at `priority`)."""
    billing: dict = {
        "name": "billing",
        "arrivals": {"per_hour": per_hour},
        "handle_time": {"distribution": "exponential", "mean_seconds": 240},
        "site_shares": {"lisbon": lisbon, "manila": round(1 - lisbon, 10)},
    }
    if overflow is not None:
        billing["site_overflow_after_seconds"] = overflow
    if patience is not None:
        billing["patience"] = {"distribution": "exponential", "mean_seconds": patience}
    if retrial:
        billing["retrial"] = {"after_abandon": 0.5, "delay": {"distribution": "exponential", "mean_seconds": 120}}
    return {
        "name": "site shares",
        "horizon": {"start": "09:00", "end": "11:00", "interval_minutes": 30},
        "call_types": [
            billing,
            {
                "name": "support",
                "arrivals": {"per_hour": 20},
                "handle_time": {"distribution": "exponential", "mean_seconds": 300},
            },
        ],
        "agent_groups": [
            {"name": "lisbon_team", "site": "lisbon", "agents": agents[0], "skills": ["billing"]},
            {"name": "manila_team", "site": "manila", "agents": agents[1], "skills": ["billing"]},
            {
                "name": "lisbon_support",
                "site": "lisbon",
                "agents": 2,
                "skills": ["support", {"call_type": "billing", "priority": priority}],
            },
        ],
        "sites": [{"name": "lisbon"}, {"name": "manila"}],
    }


def billing_answered(calls: pd.DataFrame) -> pd.DataFrame:
    rows = calls[(calls["call_type"].astype(str) == "billing") & (calls["outcome"] == "answered")]
    return rows.assign(site=rows["group"].astype(str).map(SITE_OF))


def allotted_sites(calls: pd.DataFrame, seed: int, shares: dict[str, float]) -> dict[int, str]:
    """Each billing caller's site, drawn again as the spec says: one uniform of the `billing/sites` stream per first
    attempt, in order of arrival, against the cumulative shares."""
    first = calls[(calls["call_type"].astype(str) == "billing") & (calls["attempt"] == 1)].sort_values("arrival")
    draws = stream(seed, 0, "billing/sites").random(len(first))
    bounds = np.cumsum(list(shares.values()))
    sites = np.array(list(shares))[np.minimum(np.searchsorted(bounds, draws, side="right"), len(shares) - 1)]
    return dict(zip(first["call_id"], sites, strict=True))


@pytest.mark.parametrize("lisbon", [0.6, 0.25])
def test_each_site_answers_its_share_of_the_call_type(lisbon):
    """Callers who never hang up are all answered, by their site: its count is binomial(n, share)."""
    scenario = Scenario.model_validate(centre(lisbon, (12, 12), per_hour=400))
    answered = billing_answered(simulate(scenario, seed=11).calls)
    n = len(answered)
    assert n > 500
    for site, share in (("lisbon", lisbon), ("manila", 1 - lisbon)):
        count = int((answered["site"] == site).sum())
        assert abs(count - n * share) <= 4 * math.sqrt(n * share * (1 - share)), (site, count, n, share)


def test_without_shares_the_sites_answer_by_priority_not_by_share():
    """The negative control: the same centre without shares has Lisbon's idle agents take most of the calls."""
    data = centre(0.25, (12, 12), per_hour=400)
    del data["call_types"][0]["site_shares"]
    answered = billing_answered(simulate(Scenario.model_validate(data), seed=11).calls)
    assert (answered["site"] == "lisbon").mean() > 0.4


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lisbon=st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0]),
    agents=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    overflow=st.sampled_from([None, 20.0, 90.0, 300.0]),
    patience=st.sampled_from([None, 120.0]),
    priority=st.integers(1, 2),
    seed=st.integers(0, 2**16),
)
def test_no_caller_reaches_another_sites_group_before_the_overflow_delay(
    lisbon, agents, overflow, patience, priority, seed
):
    data = centre(lisbon, agents, overflow, patience, retrial=patience is not None, priority=priority)
    scenario = Scenario.model_validate(data)
    calls = simulate(scenario, seed=seed).calls
    sites = allotted_sites(calls, seed, scenario.call_types[0].site_shares)
    answered = billing_answered(calls)
    assert set(answered["call_id"]) <= set(sites)  # every answered caller (retrials included) was allotted
    crossed = answered[answered["site"] != answered["call_id"].map(sites)]
    if overflow is None:
        assert crossed.empty
    else:  # at closing the queue is served by whoever may take it, as with a skill's delay
        early = crossed[crossed["answer"] < CLOSE]
        assert (early["wait"] >= overflow - 1e-6).all(), early[["call_id", "wait", "site"]]


def test_callers_do_cross_to_the_other_site_after_the_delay():
    """Manila is short of agents: with an overflow delay its waiting callers go to Lisbon's idle agents."""
    data = centre(0.5, (8, 1), overflow=60, per_hour=80)
    calls = simulate(Scenario.model_validate(data), seed=4).calls
    sites = allotted_sites(calls, 4, {"lisbon": 0.5, "manila": 0.5})
    answered = billing_answered(calls)
    crossed = answered[answered["site"] != answered["call_id"].map(sites)]
    assert len(crossed) > 20
    assert (crossed["wait"] >= 60 - 1e-6).all()
    assert (crossed["site"] == "lisbon").all()


def test_shares_leave_every_other_stream_as_it_was():
    """The allotment draws from its own stream: the support callers arrive as they did without shares, with the
    same handle times; and a seed gives the same tables again."""
    data = centre(0.5, (3, 3), priority=2)
    shared = Scenario.model_validate(data)
    del data["call_types"][0]["site_shares"]
    plain = Scenario.model_validate(data)
    support = []
    for scenario in (shared, plain):
        calls = simulate(scenario, seed=2).calls
        rows = calls[(calls["call_type"].astype(str) == "support") & (calls["outcome"] == "answered")]
        support.append(rows.sort_values("call_id")[["call_id", "arrival", "handle_seconds"]].reset_index(drop=True))
    assert len(support[0]) > 20
    pd.testing.assert_frame_equal(support[0], support[1])
    assert simulate(shared, seed=2).calls.equals(simulate(shared, seed=2).calls)


def test_validate_prints_the_shares():
    result = bposim("validate", MODEL)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Site shares" in text
    assert "billing: lisbon 60% (lisbon_billing), manila 40% (manila_billing); other sites' groups after 120 s" in text


def bad_model(tmp_path, change) -> object:
    data = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def shares(value: dict):
    def change(data: dict) -> None:
        data["call_types"][0]["site_shares"] = value

    return change


def no_manila_billing(data: dict) -> None:
    data["agent_groups"][2]["skills"] = ["support"]


def overflow_without_shares(data: dict) -> None:
    data["call_types"][1]["site_overflow_after_seconds"] = 60


def manila_not_allowed(data: dict) -> None:
    """A client whose contract keeps billing in Lisbon: Manila's group loses the skill, so takes no share."""
    contract = {"billing": {"model": "per_handled_contact", "rate": 1}, "restrict_to": {"sites": ["lisbon"]}}
    data["clients"] = [{"name": "utility", "call_types": ["billing"], "contract": contract}]


def chat(data: dict) -> None:
    data["call_types"][0]["channel"] = "chat"


@pytest.mark.parametrize(
    ("change", "pieces"),
    [
        (shares({"lisbon": 0.6, "manila": 0.5}), ["call_types[0].site_shares", "must sum to 1, they sum to 1.1"]),
        (shares({"lisbon": 1.2, "manila": -0.2}), ["call_types[0].site_shares", "a share is from 0 to 1, got 1.2"]),
        (
            shares({"lisbon": 0.6, "paris": 0.4}),
            ["call_types[0].site_shares.paris", "unknown site 'paris'", "known: lisbon, manila"],
        ),
        (
            no_manila_billing,
            [
                "call_types[0].site_shares.manila",
                "no agent group at site 'manila' holds the skill 'billing'",
                "its groups: manila_billing",
            ],
        ),
        (
            manila_not_allowed,
            ["call_types[0].site_shares.manila", "no agent group at site 'manila' holds the skill 'billing' and may"],
        ),
        (overflow_without_shares, ["call_types[1]", "site_overflow_after_seconds needs site_shares"]),
        (chat, ["call_types[0].site_shares", "site shares route voice calls; 'billing' is chat"]),
    ],
    ids=["sum", "range", "unknown site", "no group with the skill", "restricted", "overflow alone", "chat"],
)
def test_bad_shares_are_refused_by_the_command_line(tmp_path, change, pieces):
    path = bad_model(tmp_path, change)
    assert_refused(bposim("validate", path), *pieces, source=path)


def test_the_model_runs_with_each_site_answering_billing():
    calls = simulate(load_scenario(MODEL), seed=0).calls
    billing = calls[(calls["call_type"].astype(str) == "billing") & (calls["outcome"] == "answered")]
    assert {"lisbon_billing", "manila_billing"} <= set(billing["group"].astype(str))


def test_the_split_sweep_runs_on_the_same_callers_in_every_cell(tmp_path):
    """The sweep over the split: six cells, the same billing callers offered in each (common random numbers), and
    the split moves the service level."""
    out = tmp_path / "out"
    result = bposim("sweep", ROOT / "experiments" / "site_shares_split.yaml", "--workers", "1", "--out", out)
    assert result.returncode == 0, result.stderr
    cells = pd.read_parquet(out / "cells.parquet")
    assert len(cells) == 6 and set(cells["split"]) == {"lisbon_50", "lisbon_60", "lisbon_70"}
    assert cells["billing.offered"].nunique() == 1
    assert cells["billing.service_level"].nunique() > 1


def test_a_closed_door_blocks_the_retrials_that_keep_their_site():
    """While an outage blocks billing's arrivals, its callers' retrials (each in its site's line) are blocked too."""
    data = centre(0.5, (2, 2), overflow=60, patience=100, retrial=True)
    data["trunk_lines"] = 6
    data["call_types"][0]["retrial"]["after_blocked"] = 0.8
    data["tools"] = [
        {
            "name": "pbx",
            "maintenance": [{"start": "09:30", "minutes": 30}],
            "effects": [{"type": "arrivals_blocked", "call_types": ["billing"]}],
        }
    ]
    calls = simulate(Scenario.model_validate(data), seed=3).calls
    billing = calls[calls["call_type"].astype(str) == "billing"]
    closed = billing[(billing["arrival"] >= 1800) & (billing["arrival"] < 3600)]
    retrials = closed[closed["attempt"] > 1]
    assert len(retrials) > 10
    assert (closed["outcome"] == "blocked").all()
