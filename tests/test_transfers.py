"""Transfers and journeys: what must hold when callers are passed on from one call type to another.

Relations: a transfer probability of 0 leaves every table as the scenario without transfers gives it; a cold
transfer to a second group is a tandem queue whose second stage receives p × the first stage's answered calls; a
warm transfer holds both agents on the line for exactly the conference; the first agent of a warm transfer whose
caller hangs up is released then. Invariants over random centres: no agent on two calls at once, each journey ends
in exactly one final outcome, trunk lines all given back. Bad transfers are refused at the door, naming the file and
the field.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from strategies import SEEDS, checked, durations, scenario_specs

import bposim as library
from bposim.engine.model import Centre
from bposim.run import jsonable
from bposim.scenario import SECONDS_PER_DAY

FIXED_45 = {"distribution": "fixed", "value_seconds": 45}
JOURNEY_COLUMNS = ["transfer_mode", "conference_seconds"]


def centre(transfers: list[dict] | None, agents_b: int = 4, patience_b: dict | None = None, **extra) -> dict:
    """Two call types, each with its own group: `front` (may pass callers on to `back`) and `back`."""
    front = {
        "name": "front",
        "arrivals": {"per_hour": 90},
        "handle_time": {"distribution": "exponential", "mean_seconds": 150},
        "after_call_work": {"distribution": "fixed", "value_seconds": 15},
        "patience": {"distribution": "exponential", "mean_seconds": 240},
    }
    if transfers is not None:
        front["transfers"] = transfers
    back = {
        "name": "back",
        "arrivals": {"per_hour": 6},
        "handle_time": {"distribution": "lognormal", "mean_seconds": 240, "cv": 0.7},
        "after_call_work": {"distribution": "fixed", "value_seconds": 10},
    }
    if patience_b is not None:
        back["patience"] = patience_b
    return {
        "name": "two stages",
        "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30},
        "call_types": [front, back],
        "agent_groups": [
            {"name": "tier1", "skills": ["front"], "agents": 5},
            {"name": "tier2", "skills": ["back"], "agents": agents_b},
        ],
        **extra,
    }


def run(spec: dict, seed: int = 3, replications: int = 1) -> library.Run:
    return library.simulate(library.Scenario.model_validate(spec), seed=seed, replications=replications)


def next_legs(calls: pd.DataFrame) -> pd.DataFrame:
    """Each leg from the second on beside the leg before it (suffix _prev)."""
    keys = ["call_id", "attempt"] + (["replication"] if "replication" in calls else [])
    before = calls.assign(leg=calls["leg"] + 1)
    answered = before[before["outcome"] == "answered"]
    return calls[calls["leg"] > 1].merge(answered, on=[*keys, "leg"], suffixes=("", "_prev"), validate="one_to_one")


# --- relations -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["cold", "warm"])
def test_a_transfer_probability_of_zero_changes_no_table(mode):
    """Under common random numbers, transfers that never happen leave every table and KPI as they are without the
    `transfers` field (the journey columns and KPIs aside); trunk lines and retrials included."""
    transfer = {"to": "back", "probability": 0.0, "by_group": {"tier1": 0.0}, "mode": mode}
    if mode == "warm":
        transfer["conference"] = FIXED_45
    extra = {"trunk_lines": 9}
    plain, never = run(centre(None, **extra), replications=2), run(centre([transfer], **extra), replications=2)
    assert (never.calls["leg"] == 1).all() and never.calls["transfer_mode"].isna().all()
    assert_frame_equal(plain.calls, never.calls.drop(columns=JOURNEY_COLUMNS))
    for name in ("intervals", "agents", "staffing", "activities"):
        assert_frame_equal(getattr(plain, name), getattr(never, name))
    journeys = never.summary.pop("journeys")
    assert journeys["transferred"] == 0 and journeys["legs_per_journey"] == 1
    assert json.dumps(jsonable(never.summary)) == json.dumps(jsonable(plain.summary))


def test_a_cold_transfer_is_a_tandem_queue_fed_p_of_the_first_stage():
    """Cold, probability p to a second group: the second stage receives one leg per first-stage call passed on,
    p × the first stage's answered calls within a binomial tolerance; each leg arrives at the end of the talk it
    follows (the first agent then wraps up), and has the second call type's own work."""
    p = 0.35
    result = run(centre([{"to": "back", "probability": p}]), seed=11, replications=4)
    calls = result.calls
    first = calls[(calls["call_type"] == "front") & (calls["outcome"] == "answered")]
    legs = calls[calls["leg"] == 2]
    n = len(first)
    assert abs(len(legs) - p * n) <= 4 * math.sqrt(n * p * (1 - p)), (len(legs), n)
    assert (legs["call_type"] == "back").all() and (legs["transfer_mode"] == "cold").all()
    pairs = next_legs(calls)
    assert len(pairs) == len(legs)
    assert np.allclose(pairs["arrival"], pairs["answer_prev"] + pairs["handle_seconds_prev"])
    assert np.allclose(pairs["end_prev"], pairs["arrival"])  # the first agent leaves when the caller is passed on
    assert (pairs["group"].dropna() == "tier2").all()
    journeys = result.summary["journeys"]
    assert journeys["by_call_type"]["front"]["transferred"] == pytest.approx(len(legs) / 4)
    assert journeys["by_group"]["tier1"]["transfer_rate"] == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))


def test_by_group_probabilities_take_the_place_of_the_default():
    """A group given its own probability passes on that share of its callers; the other groups the default."""
    spec = centre([{"to": "back", "probability": 0.0, "by_group": {"tier1b": 0.6}}])
    spec["agent_groups"].append({"name": "tier1b", "skills": ["front"], "agents": 2})
    by_group = run(spec, seed=5, replications=3).summary["journeys"]["by_group"]
    assert by_group["tier1"]["transferred"] == 0 and by_group["tier1"]["answered_legs"] > 0
    n = by_group["tier1b"]["answered_legs"] * 3
    assert by_group["tier1b"]["transfer_rate"] == pytest.approx(0.6, abs=4 * math.sqrt(0.24 / n))


def test_a_conference_holds_both_agents_for_exactly_the_conference():
    """Warm: the first agent stays on the line until the second answers, both talk for the conference, then the
    first leaves: the two agents' talk overlaps by exactly the recorded conference, the first agent's call takes in
    the hold, and the agents table counts that time busy."""
    conference = {"distribution": "uniform", "low_seconds": 10, "high_seconds": 90}
    result = run(centre([{"to": "back", "probability": 0.5, "mode": "warm", "conference": conference}], agents_b=2))
    calls = result.calls
    pairs = next_legs(calls)
    talked = pairs[pairs["outcome"] == "answered"]
    assert len(talked) > 20 and (talked["transfer_mode"] == "warm").all()
    overlap = np.minimum(talked["end"], talked["end_prev"]) - np.maximum(talked["answer"], talked["answer_prev"])
    assert np.allclose(overlap, talked["conference_seconds"])
    assert talked["conference_seconds"].between(10, 90).all()
    assert (talked["agent"].astype(str) != talked["agent_prev"].astype(str)).all()
    assert np.allclose(talked["end_prev"], talked["answer"] + talked["conference_seconds"])
    assert (talked["wait"] > 0).any()  # some callers were on hold: the first agent's call took in the hold
    assert np.allclose(talked["handle_seconds_prev"], talked["end_prev"] - talked["answer_prev"])
    answered = calls[calls["outcome"] == "answered"]
    busy = (answered["end"] + answered["wrap_seconds"] - answered["answer"]).groupby(answered["agent"], observed=True)
    agents = result.agents.set_index("agent")["busy_seconds"]
    assert np.allclose(busy.sum().reindex(agents.index).fillna(0), agents)
    assert result.summary["journeys"]["conferences"] == len(talked)


def test_a_caller_hanging_up_on_hold_releases_the_first_agent():
    """Warm, second tier short of agents, impatient callers: a caller who hangs up while the first agent holds on
    frees that agent then; its call ends when the caller left, and the first agent wraps up after."""
    quick = {"distribution": "exponential", "mean_seconds": 30}
    result = run(centre([{"to": "back", "probability": 0.6, "mode": "warm", "conference": FIXED_45}], 1, quick))
    pairs = next_legs(result.calls)
    gone = pairs[pairs["outcome"] == "abandoned"]
    assert len(gone) > 5
    assert np.allclose(gone["end_prev"], gone["end"])
    assert gone["conference_seconds"].isna().all()


def test_nobody_free_disconnects_or_queues():
    """`when_nobody_free: disconnect` cuts off a caller passed on when no agent of the target is free (recorded at
    once, no wait, counted as offered); with `queue` the same caller waits instead."""
    cut = run(centre([{"to": "back", "probability": 0.7, "when_nobody_free": "disconnect"}], agents_b=1), seed=4)
    calls = cut.calls
    gone = calls[calls["outcome"] == "disconnected"]
    assert len(gone) > 5 and (gone["leg"] == 2).all() and (gone["wait"] == 0).all()
    legs = calls[calls["leg"] == 2]
    assert (legs.loc[legs["outcome"] != "disconnected", "wait"] == 0).all()  # the others found an agent free
    back = cut.summary["by_call_type"]["back"]
    assert back["offered"] == back["answered"] + back["abandoned"] + back["unserved"] + len(gone)
    assert cut.summary["journeys"]["disconnected"] == len(gone)
    queued = run(centre([{"to": "back", "probability": 0.7}], agents_b=1), seed=4).calls
    assert not (queued["outcome"] == "disconnected").any() and (queued.loc[queued["leg"] == 2, "wait"] > 0).any()


def test_journey_kpis_follow_from_the_legs():
    """The journey service level and wait recomputed from the calls table: total wait = the sum of the legs' waits,
    the final outcome the last leg's."""
    result = run(centre([{"to": "back", "probability": 0.4, "mode": "warm", "conference": FIXED_45}], agents_b=2))
    calls = result.calls
    first = calls[(calls["leg"] == 1) & (calls["outcome"] != "callback_requested")]
    journeys = calls.groupby(["call_id", "attempt"]).agg(wait=("wait", "sum"), legs=("leg", "max"))
    last = calls.sort_values("leg").groupby(["call_id", "attempt"]).tail(1).set_index(["call_id", "attempt"])
    journeys["answered"] = last["outcome"] == "answered"
    journeys = journeys.loc[first.set_index(["call_id", "attempt"]).index]
    kpis = result.summary["journeys"]
    assert kpis["journeys"] == len(journeys)
    assert kpis["legs_per_journey"] == pytest.approx(journeys["legs"].mean())
    assert kpis["journey_wait_seconds"] == pytest.approx(journeys.loc[journeys["answered"], "wait"].mean())
    within = journeys["answered"] & (journeys["wait"] <= 20.0)
    assert kpis["journey_service_level"] == pytest.approx(within.mean())
    assert kpis["journey_service_level"] < result.summary["by_call_type"]["front"]["service_level"]


def test_replications_pool_the_journey_kpis():
    result = run(centre([{"to": "back", "probability": 0.3}]), replications=3)
    kpis = result.summary["journeys"]
    assert {"transfer_rate", "transfer_rate_ci", "journey_service_level_ci"} <= set(kpis)
    assert "transfer_rate_ci" in kpis["by_group"]["tier1"]


# --- invariants over random centres ----------------------------------------------------------------------------------


@st.composite
def transfer_specs(draw) -> dict:
    """A random centre (`scenario_specs`) whose call types pass callers on to others (or themselves), cold or warm,
    queued or disconnected, their probabilities summing to at most 0.9 so every journey may end; sometimes an outage
    that drops calls in progress."""
    spec = draw(scenario_specs())
    names = [ct["name"] for ct in spec["call_types"]]
    for number, call_type in enumerate(spec["call_types"]):
        left = 0.9
        transfers = []
        for target in draw(st.lists(st.sampled_from(names), min_size=int(number == 0), max_size=2)):
            probability = draw(st.floats(0.0, left))
            left -= probability
            transfer = {"to": target, "probability": probability}
            if draw(st.booleans()):
                transfer["mode"] = "warm"
                transfer["conference"] = draw(durations(1.0, 120.0))
            if draw(st.booleans()):
                transfer["when_nobody_free"] = "disconnect"
            transfers.append(transfer)
        call_type["transfers"] = transfers
    if draw(st.booleans()):
        horizon = spec["horizon"]
        horizon["end"] = f"{8 + horizon.pop('length_hours'):02d}:00"
        spec["tools"] = [
            {
                "name": "desktop",
                "maintenance": [{"start": "08:30", "minutes": 10}],
                "effects": [{"type": "down", "in_progress": "drop"}],
            }
        ]
    return spec


@checked(40)
@given(transfer_specs(), SEEDS)
def test_journeys_hold_together(spec, seed):
    """No agent on two calls at once; legs numbered 1, 2, ... with every leg but the last answered, so each journey
    ends in exactly one final outcome; a leg arrives when the talk before it ends; every trunk line is given back."""
    scenario = library.Scenario.model_validate(spec)
    engine = Centre(scenario, seed).run()
    assert engine.in_system == 0
    result = library.simulate(scenario, seed=seed)
    calls = result.calls
    worked = calls[calls["answer"].notna()]
    for _, own in worked.groupby("agent", observed=True):
        own = own.sort_values(["answer", "end"])  # a talk of 0 s and the next call can share an instant
        free = (own["end"] + own["wrap_seconds"]).to_numpy()
        assert (own["answer"].to_numpy()[1:] >= free[:-1] - 1e-6).all()
    legs = calls[calls["outcome"] != "callback_requested"]
    for _, journey in legs.groupby(["call_id", "attempt"]):
        numbers = np.sort(journey["leg"].to_numpy())
        assert list(numbers) == list(range(1, len(numbers) + 1))
        ordered = journey.sort_values("leg")
        assert (ordered["outcome"].iloc[:-1] == "answered").all()
    pairs = next_legs(calls)
    assert (pairs["arrival"] >= pairs["answer_prev"] - 1e-6).all()
    kpis = result.summary["journeys"]
    assert sum(kpis["final_outcomes"].values()) == kpis["journeys"]
    assert kpis["transferred"] == int((~pairs["warmup_prev"]).sum())


def test_legs_passed_on_after_the_last_day_count_in_its_last_interval():
    """An overloaded two-day centre serving to the end (closing: serve) passes callers on well after its last day:
    their legs count in the last day's last interval, and every table and KPI is built (they once broke them)."""
    generalist = [{"call_type": name, "proficiency": 1.0} for name in ("sales", "billing", "tech")]
    scenario = library.Scenario.model_validate(
        {
            "name": "late legs",
            "horizon": {"start": "08:00", "length_hours": 1, "interval_minutes": 15, "days": 2, "closing": "serve"},
            "service_level": {"threshold_seconds": 0.0},
            "call_types": [
                {
                    "name": "sales",
                    "arrivals": {"per_hour": 2.0},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 20.0},
                },
                {
                    "name": "billing",
                    "arrivals": {"per_hour": 2.0},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 20.0},
                },
                {
                    "name": "tech",
                    "arrivals": {"per_hour": 36.0},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 128.0},
                    "transfers": [{"to": "tech", "probability": 0.875}],
                },
            ],
            "agent_groups": [{"name": "generalists", "skills": generalist, "agents": 1}],
            "busyness": {"cv": 1.0},
        }
    )
    result = library.simulate(scenario, seed=0)
    calls = result.calls
    late = calls[calls["arrival"] >= 2 * SECONDS_PER_DAY]
    assert len(late) > 0  # the case this test is about
    assert (late["day"] == 1).all() and (late["interval"] == scenario.horizon.intervals - 1).all()
    assert (late["leg"] > 1).all()
    assert calls["day"].between(0, 1).all()
    offered = result.summary["offered"]
    assert offered == int(result.intervals["offered"].sum())


# --- the door and the command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transfers", "pieces"),
    [
        (
            [{"to": "back", "probability": 0.7}, {"to": "front", "probability": 0.5}],
            ["call_types[0].transfers", "group 'tier1' sum to 1.2; at most 1"],
        ),
        ([{"to": "billing", "probability": 0.2}], ["call_types[0].transfers[0].to", "unknown call type 'billing'"]),
        ([{"to": "front", "probability": 1.0}], ["call_types[0].transfers", "never reach a call type"]),
        (
            [{"to": "back", "probability": 0.2, "by_group": {"tier2": 0.5}}],
            ["call_types[0].transfers[0].by_group.tier2", "does not serve 'front'"],
        ),
        ([{"to": "back", "probability": 0.2, "mode": "warm"}], ["call_types[0].transfers[0]", "needs a conference"]),
        ([{"to": "back", "probability": 1.5}], ["call_types[0].transfers[0].probability", "less than or equal to 1"]),
    ],
    ids=["sum", "unknown", "cycle", "group", "warm", "probability"],
)
def test_bad_transfers_are_refused_naming_the_file_and_field(tmp_path, transfers, pieces):
    import yaml

    path = tmp_path / "centre.yaml"
    path.write_text(yaml.safe_dump(centre(transfers)), encoding="utf-8")
    assert_refused(bposim("validate", path), str(path), *pieces)


def test_a_cycle_with_an_exit_is_accepted():
    """front → back → front is fine while some callers of back end there."""
    spec = centre([{"to": "back", "probability": 1.0}])
    spec["call_types"][1]["transfers"] = [{"to": "front", "probability": 0.3}]
    legs = run(spec).calls["leg"]
    assert legs.max() >= 3


def test_the_two_tier_model_runs_and_reports_its_journeys(tmp_path):
    """models/two_tier_support.yaml validates and runs; the printout and the report show transfers and journeys,
    and its results are Teamwork's: about 68% of callers abandon at reception, 19% are disconnected."""
    model = ROOT / "models" / "two_tier_support.yaml"
    checked_file = bposim("validate", model)
    assert checked_file.returncode == 0 and "transfers" in checked_file.stdout
    done = bposim("run", model, "--replications", "3", "--out", tmp_path, "--report")
    assert done.returncode == 0, done.stderr
    assert "Transfers by call type" in done.stdout and "Journeys:" in done.stdout
    assert "Journeys and transfers" in (tmp_path / "report.html").read_text(encoding="utf-8")
    calls = pd.read_parquet(tmp_path / "calls.parquet")
    assert {"leg", "transfer_mode", "conference_seconds"} <= set(calls.columns)
    journeys = library.Run.load(tmp_path).summary["journeys"]
    assert journeys["disconnected"] / journeys["journeys"] == pytest.approx(0.19, abs=0.04)
    assert journeys["final_outcomes"]["abandoned"] / journeys["journeys"] == pytest.approx(0.685, abs=0.05)
