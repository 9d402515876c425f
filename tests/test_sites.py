"""Sites: agent groups on sites with time zones, holidays, wages and site-wide outages.

A site outage takes that site's agents (and only theirs) off the phones; a site's holidays keep its agents away
(and only theirs); wages price the site's paid hours; KPIs per site are the agents and calls tables' own; overflow
across sites follows skill priorities; a scenario whose sites change nothing gives the same tables; bad input is
refused naming the file and field.
"""

from __future__ import annotations

import copy
import datetime
import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_texts import changed

from bposim import simulate
from bposim.experiment.tables import kpi_row
from bposim.scenario import Scenario, ScenarioError
from bposim.sites import site_table

TWO_SITES = ROOT / "models" / "two_sites.yaml"


def centre(**sites_and_more) -> dict:
    """One call type served by an onshore group (Lisbon) and an offshore one (Manila), 10 agents each, on one day
    08:00-16:00 of 2026-03-02 plus `days` more."""
    data = {
        "name": "two sites",
        "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": 30, "start_date": "2026-03-02", "days": 1},
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 150},
                "handle_time": {"distribution": "exponential", "mean_seconds": 240},
                "patience": {"distribution": "exponential", "mean_seconds": 300},
            }
        ],
        "agent_groups": [
            {"name": "onshore", "site": "lisbon", "skills": ["support"], "agents": 10},
            {"name": "offshore", "site": "manila", "skills": ["support"], "agents": 10},
        ],
        "sites": [
            {"name": "lisbon", "time_zone": "Europe/Lisbon"},
            {"name": "manila", "time_zone": "Asia/Manila"},
        ],
    }
    for key, value in sites_and_more.items():
        if key == "days":
            data["horizon"]["days"] = value
        elif key in ("lisbon", "manila"):
            site = next(site for site in data["sites"] if site["name"] == key)
            site.update(value)
        else:
            data[key] = value
    return data


def answered_by(run, group: str) -> pd.DataFrame:
    calls = run.calls
    return calls[(calls["group"].astype(str) == group) & calls["outcome"].isin(["answered", "dropped"])]


# --- site outages -----------------------------------------------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start_minutes=st.integers(0, 6 * 60), minutes=st.integers(10, 90), drop=st.booleans())
def test_a_site_outage_takes_that_sites_agents_off_the_phones_and_only_theirs(start_minutes, minutes, drop):
    start = f"{8 + start_minutes // 60:02d}:{start_minutes % 60:02d}"
    outage = {"name": "power", "start": start, "minutes": minutes, "in_progress": "drop" if drop else "finish"}
    run = simulate(Scenario.model_validate(centre(manila={"outages": [outage]})), seed=3)
    begin = start_minutes * 60.0
    end = begin + minutes * 60.0
    offshore, onshore = answered_by(run, "offshore"), answered_by(run, "onshore")
    during = offshore[(offshore["answer"] >= begin) & (offshore["answer"] < end)]
    assert during.empty  # no offshore agent starts a call while the site is down
    if drop:  # an offshore call in progress at the start is cut off there, and no other call is
        cut = run.calls[run.calls["outcome"] == "dropped"]
        assert (cut["group"].astype(str) == "offshore").all()
        assert np.allclose(cut["end"], begin)
        assert (
            (offshore["answer"] < begin) & (offshore["end"] > begin) & (offshore["outcome"] == "answered")
        ).sum() == 0
    else:
        assert (run.calls["outcome"] != "dropped").all()
    onshore_during = onshore[(onshore["answer"] >= begin) & (onshore["answer"] < end)]
    assert len(onshore_during) > 0  # the onshore site goes on answering
    (row,) = run.outages.itertuples()
    assert (row.tool, row.start, row.end) == ("manila/power", begin, end)


def test_without_the_outage_the_offshore_agents_answer_in_that_window():
    """The negative control: the same window with no outage has offshore answers."""
    run = simulate(Scenario.model_validate(centre()), seed=3)
    offshore = answered_by(run, "offshore")
    assert ((offshore["answer"] >= 3600) & (offshore["answer"] < 7200)).sum() > 0


def test_a_dated_site_outage_happens_on_that_date_only():
    outage = {"name": "network", "date": "2026-03-03", "start": "09:00", "minutes": 60}
    run = simulate(Scenario.model_validate(centre(days=3, manila={"outages": [outage]})), seed=5)
    assert list(run.outages["start"]) == [86_400 + 3600.0]
    offshore = answered_by(run, "offshore")
    for day in (0, 2):
        window = (offshore["answer"] >= day * 86_400 + 3600) & (offshore["answer"] < day * 86_400 + 7200)
        assert window.sum() > 0
    assert ((offshore["answer"] >= 86_400 + 3600) & (offshore["answer"] < 86_400 + 7200)).sum() == 0


def test_random_site_outages_follow_their_failure_process():
    failures = {
        "time_between": {"distribution": "exponential", "mean_seconds": 5400},
        "repair": {"distribution": "fixed", "value_seconds": 900},
    }
    run = simulate(Scenario.model_validate(centre(days=2, manila={"outages": [{"failures": failures}]})), seed=2)
    assert len(run.outages) > 0
    assert set(run.outages["tool"].astype(str)) == {"manila/outage"}
    offshore = answered_by(run, "offshore")
    for start, end in zip(run.outages["start"], run.outages["end"], strict=True):
        assert ((offshore["answer"] >= start) & (offshore["answer"] < end)).sum() == 0


# --- holidays ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rostered", [False, True])
def test_a_sites_holiday_keeps_its_agents_away_and_only_theirs(rostered):
    data = centre(days=3, lisbon={"holidays": ["2026-03-03"]})
    if rostered:
        for group in data["agent_groups"]:
            group["agents"] = 0
        data["roster"] = [
            {"group": "onshore", "start": "08:00", "end": "16:00", "agents": 10},
            {"group": "offshore", "start": "08:00", "end": "16:00", "agents": 10},
        ]
    run = simulate(Scenario.model_validate(data), seed=4)
    staffing = run.staffing
    on_phone = staffing.groupby([staffing["group"].astype(str), "day"])["on_phone"].sum()
    assert on_phone[("onshore", 1)] < 1e-9
    scheduled = staffing.groupby([staffing["group"].astype(str), "day"])["scheduled"].sum()
    assert scheduled[("onshore", 1)] == 0 and scheduled[("onshore", 0)] == scheduled[("offshore", 1)] > 0
    assert on_phone[("onshore", 0)] > 0 and on_phone[("onshore", 2)] > 0
    assert all(on_phone[("offshore", day)] > 0 for day in range(3))
    onshore_days = answered_by(run, "onshore")["day"]
    assert 1 not in set(onshore_days) and {0, 2} <= set(onshore_days)
    if rostered:  # the holiday is neither a session nor an absence
        agents = run.agents[run.agents["group"].astype(str) == "onshore"]
        assert (agents["absent_days"] == 0).all()
        assert np.allclose(agents["logged_in_seconds"], 2 * 8 * 3600, atol=3600)


# --- wages and KPIs per site ------------------------------------------------------------------------------------


def test_wages_price_each_sites_paid_hours_and_the_site_kpis_are_the_tables_own():
    data = centre(lisbon={"wage_per_hour": 20.0}, manila={"wage_per_hour": 6.0})
    run = simulate(Scenario.model_validate(data), seed=6)
    agents = run.agents
    for site, group, wage in (("lisbon", "onshore", 20.0), ("manila", "offshore", 6.0)):
        mine = agents[agents["group"].astype(str) == group]
        paid_hours = float((mine["logged_in_seconds"] - mine["unpaid_seconds"]).sum()) / 3600
        rows = run.costs[run.costs["item"] == group]
        regular = rows[rows["component"] == "agents"].iloc[0]
        assert regular["unit_cost"] == wage and regular["site"] == site
        kpis = run.summary["sites"][site]
        assert math.isclose(kpis["paid_hours"], paid_hours)
        assert math.isclose(kpis["cost"], float(rows["amount"].sum()))
        assert math.isclose(kpis["cost"], paid_hours * wage, rel_tol=1e-9, abs_tol=1e-6)  # no overtime premium
        available = (mine["logged_in_seconds"] - mine["off_phone_seconds"]).sum()
        assert math.isclose(kpis["occupancy"], mine["busy_seconds"].sum() / available)
        handled = answered_by(run, group)
        handled = handled[handled["outcome"] == "answered"]
        assert kpis["calls_handled"] == len(handled) == mine["calls_handled"].sum()
        assert math.isclose(kpis["aht_seconds"], float((handled["handle_seconds"] + handled["wrap_seconds"]).mean()))
    assert math.isclose(run.summary["total_cost"], sum(s["cost"] for s in run.summary["sites"].values()))


def test_a_sites_wage_overrides_the_groups_cost_entry_and_keeps_its_premium():
    costs = {"groups": [{"group": "onshore", "per_paid_hour": 30.0, "overtime_premium": 0.5}]}
    data = centre(costs=costs, manila={"wage_per_hour": 5.0})  # offshore needs no entry: its site's wage prices it
    run = simulate(Scenario.model_validate(data), seed=6)
    rows = run.costs.set_index(["component", "item"])
    assert rows.loc[("agents", "offshore"), "unit_cost"] == 5.0
    assert rows.loc[("agents", "onshore"), "unit_cost"] == 30.0
    assert rows.loc[("overtime", "onshore"), "unit_cost"] == 45.0
    assert rows.loc[("agents", "onshore"), "site"] == "lisbon"


def test_a_sweep_row_has_cost_and_occupancy_per_site():
    run = simulate(Scenario.model_validate(centre(manila={"wage_per_hour": 6.0})), seed=1)
    row = kpi_row(run)
    assert row["site.manila.cost"] == run.summary["sites"]["manila"]["cost"]
    assert row["site.lisbon.occupancy"] == run.summary["sites"]["lisbon"]["occupancy"]
    assert math.isnan(row["site.lisbon.cost"])  # no wage and no costs section: not priced


def test_site_table_pools_replications_per_replication():
    scenario = Scenario.model_validate(centre())
    run = simulate(scenario, seed=1, replications=2)
    table = site_table(scenario, run.agents, run.calls, None)
    handled = run.calls[(run.calls["outcome"] == "answered") & (run.calls["group"].astype(str) == "offshore")]
    assert table.set_index("site").loc["manila", "calls_handled"] == len(handled) / 2


# --- routing across sites ---------------------------------------------------------------------------------------


def test_calls_overflow_from_onshore_to_offshore_by_skill_priority():
    """With the offshore skill at priority 2, offshore agents take calls only when onshore ones are busy: onshore
    runs far busier; swapping the priorities swaps who is busier."""

    def busier(first: str) -> dict:
        data = centre()
        for group in data["agent_groups"]:
            group["skills"] = [{"call_type": "support", "priority": 1 if group["name"] == first else 2}]
        return simulate(Scenario.model_validate(data), seed=8).summary["sites"]

    onshore_first = busier("onshore")
    assert onshore_first["lisbon"]["occupancy"] > onshore_first["manila"]["occupancy"] + 0.2
    assert onshore_first["manila"]["calls_handled"] > 0  # the overflow
    offshore_first = busier("offshore")
    assert offshore_first["manila"]["occupancy"] > offshore_first["lisbon"]["occupancy"] + 0.2


# --- nothing changed without sites ------------------------------------------------------------------------------


def test_sites_that_change_nothing_leave_every_table_as_it_was():
    with_sites = centre()
    without = copy.deepcopy(with_sites)
    del without["sites"]
    for group in without["agent_groups"]:
        del group["site"]
    a = simulate(Scenario.model_validate(with_sites), seed=9)
    b = simulate(Scenario.model_validate(without), seed=9)
    for name in ("calls", "intervals", "agents", "staffing", "activities", "outages"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert "sites" in a.summary and "sites" not in b.summary
    rest = {key: value for key, value in a.summary.items() if key != "sites"}
    assert json.dumps(rest, sort_keys=True, default=str) == json.dumps(b.summary, sort_keys=True, default=str)


# --- the model and the command line -----------------------------------------------------------------------------


def test_validate_prints_each_sites_local_hours():
    result = bposim("validate", TWO_SITES)
    assert result.returncode == 0, result.stderr
    assert "lisbon (Europe/Lisbon): lisbon_team; open 00:00-24:00 local" in result.stdout
    assert "manila (Asia/Manila): manila_team; open 08:00-08:00 +1d local" in result.stdout
    assert "power outage 2026-03-04 07:30 (15:30 local), 45 min" in result.stdout


def test_run_prints_and_reports_the_sites(tmp_path):
    result = bposim("run", TWO_SITES, "--out", tmp_path, "--report")
    assert result.returncode == 0, result.stderr
    assert "Sites (clock: Europe/Lisbon):" in result.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    for site in ("lisbon", "manila"):
        assert f"  {site} (" in result.stdout
        assert summary["sites"][site]["agents"] > 0
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Sites</h2>" in page or ">Sites<" in page
    assert "manila local" in page
    table = pd.read_csv(tmp_path / "sites.csv").set_index("site")
    assert table.loc["manila", "cost"] == pytest.approx(summary["sites"]["manila"]["cost"])
    outages = pd.read_csv(tmp_path / "outages.csv")
    assert "manila/power" in list(outages["tool"])
    assert set(outages["tool"]) <= {"manila/power", "manila/crm"}  # Manila's own CRM fails at random


def test_the_two_sites_model_keeps_lisbon_home_on_its_holiday():
    from bposim import load_scenario

    run = simulate(load_scenario(TWO_SITES), seed=0)
    friday = run.staffing[run.staffing["date"].astype(str) == str(datetime.date(2026, 3, 6))]
    by_group = friday.groupby(friday["group"].astype(str))["on_phone"].sum()
    assert by_group["lisbon_team"] < 1e-9 and by_group["manila_team"] > 0


BAD = [
    ({"agent_groups.1.site": "cebu"}, ["agent_groups[1].site: unknown site 'cebu'; known: lisbon, manila"]),
    ({"sites.1.time_zone": "Asia/Nowhere"}, ["sites[1].time_zone", "unknown time zone 'Asia/Nowhere'"]),
    ({"horizon.time_zone": "Mars/Base"}, ["horizon.time_zone", "unknown time zone 'Mars/Base'"]),
    ({"sites.0.holidays": ["2027-01-01"]}, ["sites[0].holidays[0]: 2027-01-01 is outside the horizon"]),
    ({"horizon.start_date": None, "sites.0.holidays": ["2026-03-02"]}, ["sites[0].holidays[0]: dates need"]),
    ({"sites.1.outages": [{"name": "power", "minutes": 30}]}, ["sites[1].outages[0]", "needs both start"]),
    ({"sites.1.outages": [{"name": "power"}]}, ["sites[1].outages[0]", "give start and minutes"]),
    ({"sites.1.outages": [{"start": "07:00", "minutes": 5}]}, ["sites[1].outages[0].start: 07:00 is before"]),
    ({"sites.1.wage_per_hour": -1}, ["sites[1].wage_per_hour"]),
    ({"sites.1.name": "lisbon"}, ["sites[1].name: site 'lisbon' is defined twice"]),
    (
        {"agent_groups.1.site": None, "sites.1.outages": [{"start": "09:00", "minutes": 5}]},
        ["sites[1].outages: site 'manila' has outages but no agent group works there"],
    ),
    (
        {"costs": {"groups": [{"group": "onshore", "per_paid_hour": 20}]}},
        ["costs.groups: no cost given for agent group 'offshore'", "(or a site with wage_per_hour)"],
    ),
]


@pytest.mark.parametrize(("changes", "pieces"), BAD)
def test_bad_sites_are_refused_naming_the_field(changes, pieces, tmp_path):
    import yaml

    data = changed(centre(), changes)
    with pytest.raises(ScenarioError):
        Scenario.model_validate(data)
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(data))
    assert_refused(bposim("validate", file), *pieces, source=file)


def test_a_runaway_site_failure_process_is_refused_before_the_run():
    failures = {
        "time_between": {"distribution": "fixed", "value_seconds": 0.001},
        "repair": {"distribution": "fixed", "value_seconds": 0.001},
    }
    scenario = Scenario.model_validate(centre(manila={"outages": [{"name": "grid", "failures": failures}]}))
    with pytest.raises(ScenarioError, match=r"sites\[1\]\.outages\[0\]\.failures\.time_between: about"):
        simulate(scenario, seed=1)
