"""Weekly rosters with deferred work: `bposim staff` on a calendar horizon with voice and email plans the email over
the whole horizon (carried over the nights and the closed Sundays) and judges it as the daily loop does. Checked on
a real CLI run (the roster written, simulated again on fresh days), against the same site without email, and on
the horizon's fluid model alone."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from cli_runner import bposim
from test_staff_weekly import SITE

from bposim.optimise import optimise_roster
from bposim.optimise.deferred import deferred_levels
from bposim.optimise.requirement import staffing_requirement
from bposim.optimise.requirement.day_kinds import day_kinds, kind_day
from bposim.optimise.roster.deferred_weeks import HorizonDeferred
from bposim.run import simulate
from bposim.scenario import Scenario, load_scenario

EMAIL = {
    "name": "email",
    "channel": "email",
    "arrivals": {"weekly": {"volume": 1200, "weekday_share": {"mon": 0.28, "tue-fri": 0.15, "sat": 0.12}}},
    "handle_time": {"distribution": "exponential", "mean_seconds": 360},
    "service_level": {"threshold_hours": 24, "target": 0.9},
}
FLAGS = ("--replications", "4", "--max-rounds", "10", "--workers", "1", "--quiet")


def blended_site(email: dict | None = EMAIL) -> dict:
    """The two-week site of `test_staff_weekly` with its team answering email between calls (no part-time
    headcount limit: the email needs more agents)."""
    data = copy.deepcopy(SITE)
    data["scheduling"]["contracts"][1].pop("max_agents")
    if email is not None:
        data["call_types"].append(copy.deepcopy(email))
        data["agent_groups"][0]["skills"] = ["support", "email"]
    return data


@pytest.fixture(scope="module")
def staffed(tmp_path_factory):
    """A real `bposim staff` run on the voice + email site: its result and the roster scenario written."""
    folder = tmp_path_factory.mktemp("weekly_email")
    site, roster = folder / "site.yaml", folder / "roster.yaml"
    site.write_text(yaml.safe_dump(blended_site(), sort_keys=False), encoding="utf-8")
    result = bposim("staff", site, *FLAGS, "--out", roster, timeout=900)
    return result, load_scenario(roster)


def test_a_weekly_site_with_email_is_staffed_not_refused(staffed):
    result, _ = staffed
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deferred work" not in result.stderr and "live work only" not in result.stdout + result.stderr
    assert "email" in result.stdout and "Every interval met its target" in " ".join(result.stdout.split())


def test_the_roster_meets_voice_and_email_on_fresh_runs(staffed):
    _, roster = staffed
    run = simulate(roster, seed=77, replications=4)
    email = deferred_levels(run.backlog, roster).set_index("call_type").loc["email"]
    assert email["due"] > 0 and email["service_level"] + email["service_level_ci"] >= 0.9
    voice = run.summary["by_call_type"]["support"]
    assert voice["service_level"] + voice.get("service_level_ci", 0) >= 0.8


def test_email_costs_agents_the_site_without_it_does_not_pay(staffed):
    _, roster = staffed
    with_email = sum(line.agents * len(line.days or ()) for line in roster.roster)
    plain = optimise_roster(Scenario.model_validate(blended_site(None)), seed=0, replications=4, max_rounds=6)
    without = sum(line.agents * len(line.days or ()) for line in plain.scenario.roster)
    assert plain.verified
    assert without < with_email  # shifts worked over the horizon
    # negative control: the voice roster given the email too (worked between calls) lets the calls wait
    data = plain.scenario.model_dump(mode="python", exclude_none=True)
    data["call_types"].append(copy.deepcopy(EMAIL))
    data["agent_groups"][0]["skills"] = ["support", "email"]
    loaded = Scenario.model_validate(data)
    alone = simulate(plain.scenario, seed=77, replications=2).summary["by_call_type"]["support"]["service_level"]
    shared = simulate(loaded, seed=77, replications=2).summary["by_call_type"]["support"]
    assert shared["service_level"] + shared.get("service_level_ci", 0) < 0.8 < alone


def _model(email: dict, holiday: str | None = None) -> HorizonDeferred:
    data = blended_site(email)
    if holiday:
        data["horizon"]["closed_dates"] = [holiday]
    scenario = Scenario.model_validate(data)
    kinds = day_kinds(scenario)
    requirements = [staffing_requirement(kind_day(scenario, kind), method="erlang_a", replications=1) for kind in kinds]
    return HorizonDeferred(scenario, kinds, requirements)


def _agent_hours(model: HorizonDeferred, extra: np.ndarray) -> float:
    """Agent-hours the plan adds over the horizon: each kind's agents on each of its dates."""
    return float((extra.sum(axis=(1, 2)) * model.dates).sum() * model.step / 3600)


def test_the_horizon_plan_covers_the_work_and_grows_with_it():
    """The fluid plan's idle time and added agents hold at least the email's work over the horizon, more email
    never takes fewer agents, and a holiday (no arrivals, no work that day) is planned around."""
    found = {}
    for volume in (600, 1200, 2400):
        model = _model({**EMAIL, "arrivals": {"weekly": {**EMAIL["arrivals"]["weekly"], "volume": volume}}})
        extra = model.solve()
        g = model.groups.index("team")
        capacity = sum((model.idle[kind, g, t] + extra[kind, g, t]) * model.step for _, t, kind in model.slots)
        work = model.items[0].sum() * model.types[0].work[g]
        assert capacity >= work * (1 - 1e-6)
        found[volume] = _agent_hours(model, extra)
    assert found[600] <= found[1200] <= found[2400] and found[2400] > found[600]
    holiday = _model(EMAIL, holiday="2027-03-10")
    assert 9 not in set(holiday.slots[:, 0]) and holiday.solve().shape == (len(holiday.dates), 1, 20)


def test_the_bundled_four_week_model_carries_its_weekly_rules():
    """models/weekly_bpo.yaml: a monthly 80/20 contract with an interval floor, full- and part-time weekly rules; the
    holiday closed in the tour problem, the Saturdays worked on the part-time shift that fits their hours."""
    from bposim.optimise.tours.scenario import tour_problem

    scenario = load_scenario("models/weekly_bpo.yaml")
    scheduling = scenario.scheduling
    assert scheduling.objective == "period" and scheduling.interval_floor == 0.6
    assert scenario.period_for(scenario.call_types[0]) == "month"
    assert [contract.name for contract in scheduling.contracts] == ["full_time", "part_time"]
    problem = tour_problem(scenario)
    holiday = problem.days[16]
    assert holiday.label == "2027-03-17" and not holiday.open
    saturday = problem.days[5]
    assert {shift.name for shift in problem.shifts if saturday.open and saturday.fits(shift)} == {"part 09:00-14:00"}
