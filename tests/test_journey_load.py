"""Planning counts journeys and repeats: a call type reached by transfers, or whose unresolved contacts come back,
carries more load than its own arrivals (`bposim.offered_load`), and the Erlang start, `bposim validate` and
`bposim staff` see it.

Relations: the legs transferred in are p × the arrivals of the call type passing them on (cascading through
several transfers); the repeats are the geometric series (1 − f) q + ((1 − f) q)² + ... cut at max_repeats; every
contact counted ends its journey once; on a long steady run the simulated offered load per call type matches the
planning load; the Erlang start of the second tier grows with p and with the share left unresolved; a roster
`bposim staff` finds for a second tier with no arrivals of its own meets its target on fresh days.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from cli_runner import ROOT
from cli_runner import bposim as cli
from hypothesis import given
from hypothesis import strategies as st
from strategies import checked

import bposim
from bposim.offered_load import offered_load, transfer_chances
from bposim.optimise.requirement import staffing_requirement
from bposim.optimise.requirement.day_kinds import busiest_rates
from bposim.optimise.roster import call_type_service_levels

FRONT_RATES = [60, 80, 100, 120, 120, 110, 100, 90, 80, 70, 60, 50]


def tiers(p: float, back: dict | None = None, **top) -> dict:
    """`front` (tier1) passes callers on to `back` (tier2, no arrivals of its own) with probability p."""
    return {
        "name": "two tiers",
        "horizon": {"start": "08:00", "end": "14:00", "interval_minutes": 30},
        "service_level": {"threshold_seconds": 30, "target": 0.8},
        "call_types": [
            {
                "name": "front",
                "arrivals": {"per_interval": FRONT_RATES},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
                "patience": {"distribution": "exponential", "mean_seconds": 120},
                "transfers": [{"to": "back", "probability": p}],
            },
            {
                "name": "back",
                "arrivals": {"per_hour": 0},
                "handle_time": {"distribution": "exponential", "mean_seconds": 300},
                "patience": {"distribution": "exponential", "mean_seconds": 180},
                **(back or {}),
            },
        ],
        "agent_groups": [
            {"name": "tier1", "skills": ["front"], "agents": 0},
            {"name": "tier2", "skills": ["back"], "agents": 0},
        ],
        **top,
    }


def own_rates(scenario: bposim.Scenario) -> np.ndarray:
    return np.array([busiest_rates(ct.arrivals, scenario.horizon) for ct in scenario.call_types])


def resolution(probability: float, repeat_probability: float, max_repeats: int, delay_days: float = 1) -> dict:
    return {
        "probability": probability,
        "repeat_probability": repeat_probability,
        "max_repeats": max_repeats,
        "repeat_delay": {"distribution": "fixed", "value_days": delay_days},
    }


# --- the load --------------------------------------------------------------------------------------------------------


def test_legs_transferred_in_are_p_times_the_arrivals_passing_them_on_through_every_stage():
    """front → back with p, back → expert with r: back receives p × front, expert r × p × front."""
    spec = tiers(0.3)
    spec["call_types"][1]["transfers"] = [{"to": "expert", "probability": 0.25}]
    spec["call_types"].append(dict(spec["call_types"][1], name="expert", transfers=[]))
    spec["agent_groups"].append({"name": "experts", "skills": ["expert"], "agents": 0})
    scenario = bposim.Scenario.model_validate(spec)
    load = offered_load(scenario, own_rates(scenario))
    front = np.array(FRONT_RATES, float)
    assert np.allclose(load.transferred[0], 0) and np.allclose(load.own[0], front)
    assert np.allclose(load.transferred[1], 0.3 * front)
    assert np.allclose(load.transferred[2], 0.25 * 0.3 * front)
    assert np.allclose(load.passed[0, 1], 0.3 * front) and np.allclose(load.passed[1, 2], 0.075 * front)
    assert np.allclose(load.repeats, 0)


def test_a_groups_own_transfer_probability_is_averaged_over_the_groups_serving_first():
    spec = tiers(0.2)
    spec["call_types"][0]["transfers"][0]["by_group"] = {"tier1b": 0.6}
    spec["agent_groups"].append({"name": "tier1b", "skills": ["front"], "agents": 0})
    assert transfer_chances(bposim.Scenario.model_validate(spec))[0, 1] == pytest.approx(0.4)


@checked(40)
@given(
    p=st.floats(0.0, 1.0),
    resolved=st.floats(0.0, 1.0),
    again=st.floats(0.0, 1.0),
    depth=st.integers(0, 6),
    front_resolves=st.booleans(),
)
def test_repeats_are_the_geometric_series_and_every_contact_ends_its_journey_once(
    p, resolved, again, depth, front_resolves
):
    """Repeats of the call type ending journeys: its ending contacts × Σ_{m=1..max_repeats} ((1 − f) q)^m; and the
    contacts ending at each call type (legs not passed on) sum to the arrivals plus the repeats."""
    rule = resolution(resolved, again, depth)
    spec = tiers(p, back={"resolution": rule})
    if front_resolves:
        spec["call_types"][0]["resolution"] = rule
    scenario = bposim.Scenario.model_validate(spec)
    load = offered_load(scenario, own_rates(scenario))
    ending = 1 - transfer_chances(scenario).sum(axis=1)
    ended = (load.total * ending[:, None]).sum(axis=0)
    assert np.allclose(ended, load.own.sum(axis=0) + load.repeats.sum(axis=0))
    ratio = (1 - resolved) * again
    series = math.fsum(ratio**m for m in range(1, depth + 1))
    front = np.array(FRONT_RATES, float)
    if not front_resolves:  # first contacts end at back with p; each is repeated at back
        assert np.allclose(load.repeats[0], 0)
        assert np.allclose(load.repeats[1], p * front * series)
        assert np.allclose(load.transferred[1], p * front)
    else:  # a repeat of front is passed on again with p: every contact of front, first or repeat, is repeated
        assert np.allclose(load.repeats.sum(axis=0), front * series)


def test_the_planning_load_matches_a_long_steady_run():
    """Forty hours of steady arrivals with plenty of agents (nearly every leg answered) and repeats an hour or so
    later: the calls offered per hour at each call type, legs and repeats included, are the planning load's."""
    spec = tiers(0.35, back={"resolution": resolution(0.6, 0.8, 3, delay_days=0.04)})
    spec["horizon"] = {"start": "00:00", "length_hours": 40, "interval_minutes": 60, "warmup_minutes": 600}
    spec["call_types"][0]["arrivals"] = {"per_hour": 100}
    spec["call_types"][0]["resolution"] = resolution(0.7, 0.5, 2, delay_days=0.04)
    spec["agent_groups"][0]["agents"] = 14
    spec["agent_groups"][1]["agents"] = 12
    scenario = bposim.Scenario.model_validate(spec)
    load = offered_load(scenario, own_rates(scenario))
    calls = bposim.simulate(scenario, seed=5, tables=("calls",)).calls
    offered = calls[(calls["attempt"] == 1) & ~calls["warmup"] & (calls["path"] != "callback")]
    hours = 30.0
    for k, name in enumerate(["front", "back"]):
        simulated = (offered["call_type"] == name).sum() / hours
        expected = load.total[k].mean()
        assert abs(simulated - expected) <= 4 * math.sqrt(expected / hours) + 0.03 * expected, (name, simulated)
    repeats = offered[(offered["repeat_of"] >= 0) & (offered["leg"] == 1)]
    assert abs(len(repeats) / hours - load.repeats.sum(axis=0).mean()) <= 0.1 * load.repeats.sum(axis=0).mean()


# --- the Erlang start, validate and staff ----------------------------------------------------------------------------


def erlang_start(spec: dict) -> np.ndarray:
    """The Erlang start per group × interval of a scenario."""
    table = staffing_requirement(bposim.Scenario.model_validate(spec), replications=1, method="erlang_a").table
    return table.pivot(index="group", columns="interval", values="erlang").to_numpy()


def test_the_erlang_start_of_the_second_tier_grows_with_p_and_with_the_contacts_left_unresolved():
    starts = [erlang_start(tiers(p))[1].sum() for p in (0.1, 0.3, 0.6)]
    assert 0 < starts[0] < starts[1] < starts[2]
    assert erlang_start(tiers(0.0))[1].sum() == 0  # nothing passed on: no load at tier 2
    fewer = [erlang_start(tiers(0.3, back={"resolution": resolution(f, 1.0, 3)}))[1].sum() for f in (1.0, 0.5)]
    assert fewer[0] == starts[1] and fewer[1] > fewer[0]
    # the first tier is as without transfers: the legs it passes on are its own answered calls
    plain = tiers(0.0)
    plain["call_types"][0].pop("transfers")
    assert np.array_equal(erlang_start(tiers(0.6))[0], erlang_start(plain)[0])


def test_validate_shows_the_load_of_legs_and_repeats():
    """`bposim validate` says, per call type reached by transfers or with repeats, its own calls an hour and those
    transferred from other call types and coming back as repeats."""
    model = ROOT / "models" / "two_tier_support.yaml"
    done = cli("validate", model)
    assert done.returncode == 0, done.stderr
    scenario = bposim.load_scenario(model)
    reception = np.mean(own_rates(scenario)[0])
    tech = (0.76 + 0.2 * 0.95) * reception  # directly, and through accounting
    assert f"tech_support: 0 calls/h of its own + {tech:.3g} transferred from reception, accounting" in done.stdout
    assert f"accounting: 0 calls/h of its own + {0.2 * reception:.3g} transferred from reception" in done.stdout
    plain = cli("validate", ROOT / "models" / "helpdesk.yaml")
    assert "transferred" not in plain.stdout and "Load planning counts" not in plain.stdout


def test_validate_shows_repeats(tmp_path):
    spec = tiers(0.3, back={"resolution": resolution(0.5, 1.0, 1)})
    path = tmp_path / "tiers.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    done = cli("validate", path)
    assert done.returncode == 0, done.stderr
    transferred = 0.3 * np.mean(FRONT_RATES)
    expected = (
        f"back: 0 calls/h of its own + {transferred:.3g} transferred from front + {0.5 * transferred:.3g} repeats"
    )
    assert expected in done.stdout


SHIFTS = {
    "shifts": [
        {"name": "full", "length_hours": 6, "starts": {"earliest": "08:00", "latest": "08:00", "every_minutes": 30}},
        {"name": "part", "length_hours": 3, "starts": {"earliest": "08:00", "latest": "11:00", "every_minutes": 60}},
    ]
}


def test_staff_finds_a_roster_whose_second_tier_meets_its_target_on_fresh_days(tmp_path):
    """A second tier with no arrivals of its own, reached by 30% of the first tier's answered callers (about 50 an
    hour at the peak): `bposim
    staff` rosters it (its requirement starts from the legs passed on to it), and the written roster, simulated on
    days neither the search nor the verification saw, meets the target of both tiers."""
    spec = tiers(
        0.3, costs={"groups": [{"group": "tier1", "per_paid_hour": 20}, {"group": "tier2", "per_paid_hour": 30}]}
    )
    spec["call_types"][0]["arrivals"] = {"per_interval": [2 * rate for rate in FRONT_RATES]}
    spec["scheduling"] = SHIFTS
    model, roster = tmp_path / "tiers.yaml", tmp_path / "roster.yaml"
    model.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = cli("staff", model, "--out", roster, "--replications", 5, "--workers", 1, timeout=180)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    rostered = bposim.load_scenario(roster)
    assert sum(shift.agents for shift in rostered.roster if shift.group == "tier2") > 0
    fresh = bposim.simulate(rostered, seed=515_151, replications=10, tables=("intervals", "staffing"))
    levels = call_type_service_levels(fresh).set_index("call_type")
    assert levels.loc["back", "offered"] > 0
    assert (levels["service_level"] >= levels["target"]).all(), levels


def test_a_warm_conference_adds_to_the_work_of_both_tiers():
    """A warm transfer holds the first agent through the conference and opens the second agent's talk with it: the
    conference seconds per contact are p × its mean at the first tier and its mean at the second, and the Erlang
    start of both tiers is above the cold transfer's."""
    warm = tiers(0.3)
    warm["call_types"][0]["transfers"][0].update(
        mode="warm", conference={"distribution": "uniform", "low_seconds": 60, "high_seconds": 180}
    )
    scenario = bposim.Scenario.model_validate(warm)
    load = offered_load(scenario, own_rates(scenario))
    assert np.allclose(load.conference_seconds[0], 0.3 * 120) and np.allclose(load.conference_seconds[1], 120)
    cold, hot = erlang_start(tiers(0.3)), erlang_start(warm)
    assert (hot >= cold).all() and hot[0].sum() > cold[0].sum() and hot[1].sum() > cold[1].sum()


def test_a_call_type_reached_only_by_conferences_needs_agents():
    """models/two_tier_support.yaml: accounting's own talk is 0 s (the conference is all its work): its Erlang start
    follows from the conferences, and tech support, reached by 95% of reception's callers, needs the most agents."""
    scenario = bposim.load_scenario(ROOT / "models" / "two_tier_support.yaml")
    table = staffing_requirement(scenario, replications=1, method="erlang_a").table
    start = table.pivot(index="group", columns="interval", values="erlang")
    assert (start.loc["accounting"] >= 1).all() and (start.loc["development"] >= 1).all()
    assert (start.loc["tech_support"] > start.drop(index="tech_support").max()).all()
