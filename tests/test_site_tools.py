"""What a site owns beyond its agents: its own tools (a CRM that fails at one site only), technology priced by site,
the run's sites table (saved, in Excel, in a sweep's report), one site label for cost lines, and outages on the site's
own clock across a daylight-saving change. Bad input is refused through the command line naming file and field.
"""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_texts import changed
from test_sites import answered_by, centre

from bposim import simulate
from bposim.run import Run, simulate_replication
from bposim.scenario import Scenario, ScenarioError
from bposim.scenario.site_clock import horizon_seconds, local_clock
from bposim.sites import SITE_COLUMNS, site_table

HOUR = 3600.0


def crm(**fields) -> dict:
    """A site's CRM, down from 10:00 to 11:00 every day unless told otherwise."""
    return {"name": "crm", "maintenance": [{"start": "10:00", "minutes": 60}], "effects": [{"type": "down"}], **fields}


def run_of(data: dict, seed: int = 3, replications: int = 1) -> Run:
    return simulate(Scenario.model_validate(data), seed=seed, replications=replications)


def started(calls: pd.DataFrame, begin: float, end: float) -> pd.DataFrame:
    return calls[(calls["answer"] >= begin) & (calls["answer"] < end)]


# --- a site's own tools -----------------------------------------------------------------------------------------


def test_a_site_tool_outage_stops_that_sites_agents_and_only_theirs():
    run = run_of(centre(manila={"tools": [crm()]}))
    window = (2 * HOUR, 3 * HOUR)  # 10:00-11:00 on a grid opening at 08:00
    assert started(answered_by(run, "offshore"), *window).empty
    assert len(started(answered_by(run, "onshore"), *window)) > 0
    (row,) = run.outages.itertuples()
    assert (row.tool, row.start, row.end, row.effects) == ("manila/crm", *window, "down (offshore)")
    control = run_of(centre())  # the same day without the site's CRM: the offshore agents answer then
    assert len(started(answered_by(control, "offshore"), *window)) > 0


def test_a_site_tool_slowdown_slows_only_that_sites_calls():
    slow = crm(maintenance=[{"start": "08:00", "minutes": 480}], effects=[{"type": "slow", "multiplier": 3}])
    run = run_of(centre(lisbon={"tools": [slow]}))
    handle = run.calls[run.calls["outcome"] == "answered"].groupby("group", observed=True)["handle_seconds"].mean()
    assert handle["onshore"] > 2.0 * handle["offshore"]  # the same law of handle times, three times as slow
    control = run_of(centre())
    plain = control.calls[control.calls["outcome"] == "answered"].groupby("group", observed=True)["handle_seconds"]
    assert plain.mean()["onshore"] < 1.5 * plain.mean()["offshore"]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 1000))
def test_each_sites_crm_fails_on_its_own_and_stops_only_its_agents(seed):
    failures = {
        "time_between": {"distribution": "exponential", "mean_seconds": 5400},
        "repair": {"distribution": "fixed", "value_seconds": 900},
    }
    tool = crm(maintenance=[], failures=failures)
    run = run_of(centre(days=2, lisbon={"tools": [tool]}, manila={"tools": [tool]}), seed=seed)
    outages = run.outages.assign(tool=run.outages["tool"].astype(str))
    assert set(outages["tool"]) <= {"lisbon/crm", "manila/crm"}
    for site, group in (("lisbon", "onshore"), ("manila", "offshore")):
        answered = answered_by(run, group)
        for start, end in outages.loc[outages["tool"] == f"{site}/crm", ["start", "end"]].itertuples(index=False):
            assert started(answered, start, end).empty
    lisbon, manila = (list(outages.loc[outages["tool"] == f"{s}/crm", "start"]) for s in ("lisbon", "manila"))
    assert lisbon != manila  # two streams of failures, not one outage seen twice


def test_a_site_tool_named_like_another_sites_keeps_its_own_random_numbers():
    """Adding Lisbon's CRM leaves Manila's CRM outages where they were (one stream per tool name)."""
    failures = {
        "time_between": {"distribution": "exponential", "mean_seconds": 7200},
        "repair": {"distribution": "fixed", "value_seconds": 600},
    }
    tool = crm(maintenance=[], failures=failures)
    alone = run_of(centre(days=2, manila={"tools": [tool]}))
    both = run_of(centre(days=2, lisbon={"tools": [tool]}, manila={"tools": [tool]}))
    manila = both.outages[both.outages["tool"].astype(str) == "manila/crm"]
    assert list(manila["start"]) == list(alone.outages["start"])


# --- technology priced by site ----------------------------------------------------------------------------------


def test_a_site_tool_is_priced_for_that_sites_seats_and_counts_in_its_cost():
    costs = {
        "currency": "EUR",
        "groups": [{"group": "onshore", "per_paid_hour": 20}, {"group": "offshore", "per_paid_hour": 8}],
        "technology": [
            {"name": "manila_crm", "per_seat_per_day": 3, "fixed_per_day": 50, "site": "manila"},
            {"name": "telephony", "per_seat_per_day": 1},
        ],
    }
    run = run_of(centre(days=2, costs=costs))
    table = run.costs.set_index(["item", "unit"])
    seats = run.agents[(run.agents["group"].astype(str) == "offshore") & (run.agents["logged_in_seconds"] > 0)]
    assert table.loc[("manila_crm", "seat-days"), "quantity"] == float((2 - seats["absent_days"]).sum())
    assert table.loc[("telephony", "seat-days"), "quantity"] > table.loc[("manila_crm", "seat-days"), "quantity"]
    assert set(table.loc["manila_crm", "site"]) == {"manila"}
    assert table.loc[("telephony", "seat-days"), "site"] == ""
    sites = run.sites.set_index("site")
    manila_rows = run.costs[(run.costs["site"] == "manila")]
    assert sites.loc["manila", "cost"] == pytest.approx(manila_rows["amount"].sum())
    assert sites.loc["lisbon", "cost"] == pytest.approx(run.costs[run.costs["item"] == "onshore"]["amount"].sum())


# --- the sites table --------------------------------------------------------------------------------------------


def test_the_sites_table_has_a_row_per_replication_and_site_as_each_replication_gives_it():
    data = centre(
        costs={"groups": [{"group": "onshore", "per_paid_hour": 20}, {"group": "offshore", "per_paid_hour": 8}]}
    )
    run = run_of(data, seed=4, replications=3)
    assert list(run.sites.columns) == [*SITE_COLUMNS, "replication"]
    assert list(zip(run.sites["replication"], run.sites["site"], strict=True)) == [
        (r, site) for r in range(3) for site in ("lisbon", "manila")
    ]
    for r in range(3):
        one = run.replication(r)
        alone = site_table(one.scenario, one.agents, one.calls, one.costs)
        mine = run.sites[run.sites["replication"] == r].drop(columns="replication").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone)
    pooled = run.sites.groupby("site")[["paid_hours", "cost", "calls_handled"]].mean()
    for site in ("lisbon", "manila"):
        for key in ("paid_hours", "cost", "calls_handled"):
            assert pooled.loc[site, key] == pytest.approx(run.summary["sites"][site][key])
    scenario = Scenario.model_validate(data)
    joined = Run.concat([simulate_replication(scenario, 4, r) for r in range(3)])
    pd.testing.assert_frame_equal(joined.sites, run.sites)
    assert json.dumps(joined.summary["sites"], sort_keys=True) == json.dumps(run.summary["sites"], sort_keys=True)


def test_without_sites_the_sites_table_is_empty_with_its_columns_and_not_saved(tmp_path):
    data = centre()
    del data["sites"]
    for group in data["agent_groups"]:
        del group["site"]
    one, three = run_of(data), run_of(data, replications=3)
    assert one.sites.empty and list(one.sites.columns) == list(SITE_COLUMNS)
    assert three.sites.empty and list(three.sites.columns) == [*SITE_COLUMNS, "replication"]
    one.save(tmp_path)
    assert not (tmp_path / "sites.csv").exists()


def test_one_site_and_no_site_tools_gives_the_tables_of_no_sites_but_the_site_columns():
    data = centre(
        costs={"groups": [{"group": "onshore", "per_paid_hour": 20}, {"group": "offshore", "per_paid_hour": 8}]}
    )
    data["sites"] = [{"name": "lisbon", "time_zone": "Europe/Lisbon"}]
    for group in data["agent_groups"]:
        group["site"] = "lisbon"
    without = copy.deepcopy(data)
    del without["sites"]
    for group in without["agent_groups"]:
        del group["site"]
    a, b = run_of(data, seed=11, replications=2), run_of(without, seed=11, replications=2)
    for name in Run.TABLES:
        if name == "sites":
            continue
        mine, theirs = getattr(a, name), getattr(b, name)
        if name == "costs":  # the cost lines name their group's site
            assert set(mine["site"]) == {"lisbon"} and set(theirs["site"]) == {""}
            mine, theirs = mine.drop(columns="site"), theirs.drop(columns="site")
        pd.testing.assert_frame_equal(mine, theirs)
    assert len(a.sites) == 2 and b.sites.empty
    rest = {key: value for key, value in a.summary.items() if key != "sites"}
    assert json.dumps(rest, sort_keys=True, default=str) == json.dumps(b.summary, sort_keys=True, default=str)


def test_run_saves_the_sites_table_and_writes_a_sites_sheet(tmp_path):
    import openpyxl

    file = tmp_path / "two.yaml"
    file.write_text(yaml.safe_dump(centre(manila={"tools": [crm()]})))
    book = tmp_path / "run.xlsx"
    result = bposim("run", file, "--out", tmp_path / "out", "--xlsx", book, "--replications", "2")
    assert result.returncode == 0, result.stderr
    saved = pd.read_csv(tmp_path / "out" / "sites.csv")
    assert list(saved.columns) == [*SITE_COLUMNS, "replication"]
    assert list(saved["site"]) == ["lisbon", "manila"] * 2
    parquet = pd.read_parquet(tmp_path / "out" / "sites.parquet")
    assert list(parquet["calls_handled"]) == list(saved["calls_handled"])
    sheet = openpyxl.load_workbook(book)["Sites"]
    values = list(sheet.values)
    assert values[0][:3] == ("Site", "Time zone", "Groups")
    assert [row[0] for row in values[1:]] == ["lisbon", "manila"] * 2
    assert Run.load(tmp_path / "out").sites.shape == saved.shape


def test_a_sweep_of_a_model_with_sites_reports_each_site_per_cell(tmp_path):
    model = tmp_path / "two.yaml"
    model.write_text(yaml.safe_dump(centre()))
    experiment = tmp_path / "sweep.yaml"
    experiment.write_text(
        yaml.safe_dump(
            {
                "name": "offshore_agents",
                "model": "two.yaml",
                "replications": 2,
                "seed": 1,
                "keep": "summary",
                "factors": {"agent_groups.offshore.agents": [6, 10]},
            }
        )
    )
    result = bposim("sweep", experiment, "--workers", "1", "--out", tmp_path / "sweep", "--report")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "sweep" / "report.html").read_text()
    section = page[page.index("<h2>Sites</h2>") :]
    assert "Per cell and site" in section
    results = pd.read_parquet(tmp_path / "sweep" / "results.parquet")
    fewer = results[results["agent_groups.offshore.agents"] == 6]["site.manila.paid_hours"].mean()
    more = results[results["agent_groups.offshore.agents"] == 10]["site.manila.paid_hours"].mean()
    assert more > fewer
    assert f"{more:,.1f}" in section and f"{fewer:,.1f}" in section


# --- one site label ---------------------------------------------------------------------------------------------


def test_a_cost_line_takes_its_groups_site_and_may_repeat_it():
    groups = [{"group": "onshore", "per_paid_hour": 20, "site": "lisbon"}, {"group": "offshore", "per_paid_hour": 8}]
    run = run_of(centre(costs={"groups": groups}))
    paid = run.costs[run.costs["component"].isin(["agents", "overtime"])]
    assert dict(zip(paid["item"], paid["site"], strict=False)) == {"onshore": "lisbon", "offshore": "manila"}


def test_without_sites_a_cost_lines_site_is_the_free_label_it_was():
    data = centre(costs={"groups": [{"group": "onshore", "per_paid_hour": 20, "site": "onshore"}]})
    del data["sites"]
    data["agent_groups"] = data["agent_groups"][:1]
    del data["agent_groups"][0]["site"]
    run = run_of(data)
    assert set(run.costs.loc[run.costs["item"] == "onshore", "site"]) == {"onshore"}


# --- daylight saving --------------------------------------------------------------------------------------------

DST = {"start_date": "2027-03-26", "days": 4, "time_zone": "Europe/London"}  # London moves to summer time 03-28


def dst_centre(**sites) -> dict:
    data = centre(**sites)
    data["horizon"].update(DST)
    data["sites"][0]["time_zone"] = "Europe/London"
    return data


def test_local_hours_are_right_on_both_sides_of_a_daylight_saving_change():
    scenario = Scenario.model_validate(dst_centre())
    manila = scenario.sites[1]
    before, after = (
        local_clock(scenario, manila, 8 * HOUR, pd.Timestamp(day).date()) for day in ("2027-03-27", "2027-03-28")
    )
    assert (before, after) == ("16:00", "15:00")  # Manila has no summer time: London moves an hour nearer


def test_validate_prints_the_local_hours_on_each_side_of_the_change(tmp_path):
    file = tmp_path / "dst.yaml"
    outage = {"name": "power", "start": "17:00", "minutes": 30, "local": True}
    file.write_text(yaml.safe_dump(dst_centre(manila={"outages": [outage]})))
    result = bposim("validate", file)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "open 16:00-24:00 local to 2027-03-27, 15:00-23:00 local from 2027-03-28" in text
    assert "power outage every day 17:00 local (09:00 horizon to 2027-03-27, 10:00 horizon from 2027-03-28)" in text
    (london,) = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("lisbon")]
    assert london == "lisbon (Europe/London): onshore; open 08:00-16:00 local"  # the horizon's own zone: one span


def test_an_outage_on_the_sites_clock_keeps_its_local_time_across_the_change():
    outage = {"name": "power", "start": "17:00", "minutes": 30, "local": True}
    run = run_of(dst_centre(manila={"outages": [outage]}))
    starts = list(run.outages["start"])
    # 17:00 in Manila is 09:00 in London in winter, 10:00 from 2027-03-28: an hour and two after the 08:00 opening
    assert starts == [0 * 86_400 + 1 * HOUR, 1 * 86_400 + 1 * HOUR, 2 * 86_400 + 2 * HOUR, 3 * 86_400 + 2 * HOUR]
    offshore = answered_by(run, "offshore")
    for start in starts:
        assert started(offshore, start, start + 1800).empty
    dated = {"name": "power", "start": "17:00", "minutes": 30, "local": True, "date": "2027-03-29"}
    scenario = Scenario.model_validate(dst_centre(manila={"outages": [dated]}))
    assert (
        list(run_of(dst_centre(manila={"outages": [dated]})).outages["start"])
        == [horizon_seconds(scenario, scenario.sites[1], pd.Timestamp("2027-03-29").date(), "17:00")]
        == [3 * 86_400 + 2 * HOUR]
    )


def test_the_report_shows_each_local_time_with_the_date_it_holds_from(tmp_path):
    file = tmp_path / "dst.yaml"
    file.write_text(yaml.safe_dump(dst_centre()))
    result = bposim("run", file, "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "report.html").read_text()
    assert "16:00, 15:00 from 2027-03-28" in page  # Manila's time of the 08:00 interval
    assert "08:00, 08:00" not in page


# --- bad input --------------------------------------------------------------------------------------------------

BAD = [
    (
        {"sites.1.tools": [crm(effects=[{"type": "ivr_off"}])]},
        ["sites[1].tools[0].effects[0].type:", "ivr_off acts on call types of the whole centre", "tools:"],
    ),
    (
        {"sites.1.tools": [crm(effects=[{"type": "down", "groups": ["onshore"]}])]},
        ["sites[1].tools[0].effects[0].groups[0]: agent group 'onshore' does not work at site 'manila'"],
    ),
    (
        {"sites.1.tools": [crm(), crm()]},
        ["sites[1].tools[1].name: site 'manila' has two tools named 'crm'"],
    ),
    (
        {"sites.1.outages": [{"name": "crm", "start": "09:00", "minutes": 5}], "sites.1.tools": [crm()]},
        ["sites[1].tools[0].name: 'manila/crm' is the name of a tool or of the site's outage already"],
    ),
    (
        {"agent_groups.1.site": None, "sites.1.tools": [crm()]},
        ["sites[1].tools: site 'manila' has tools but no agent group works there"],
    ),
    (
        {"sites.1.tools": [crm(maintenance=[{"start": "07:00", "minutes": 5}])]},
        ["sites[1].tools[0].maintenance[0].start: 07:00 is before the centre opens at 08:00"],
    ),
    (
        {
            "sites.1.outages": [
                {
                    "name": "grid",
                    "local": True,
                    "failures": {
                        "time_between": {"distribution": "exponential", "mean_seconds": 900},
                        "repair": {"distribution": "fixed", "value_seconds": 60},
                    },
                }
            ]
        },
        ["sites[1].outages[0]", "local says which clock start is on"],
    ),
    (
        {"horizon.start_date": None, "sites.1.outages": [{"start": "17:00", "minutes": 5, "local": True}]},
        ["sites[1].outages[0].local: a start on the site's clock needs dates: give horizon.start_date"],
    ),
    (
        {"sites.1.time_zone": None, "sites.1.outages": [{"start": "17:00", "minutes": 5, "local": True}]},
        ["sites[1].outages[0].local: a start on the site's clock needs sites[1].time_zone"],
    ),
    (
        {"sites.1.outages": [{"start": "03:00", "minutes": 5, "local": True, "date": "2026-03-02"}]},
        ["sites[1].outages[0].start: 03:00 local on 2026-03-02 is outside the horizon's hours"],
    ),
    (
        {
            "costs": {
                "groups": [
                    {"group": "onshore", "per_paid_hour": 20},
                    {"group": "offshore", "per_paid_hour": 8, "site": "offshore"},
                ]
            }
        },
        [
            "costs.groups[1].site: site 'offshore' contradicts where agent group 'offshore' works",
            "leave site out, or write 'manila' (agent_groups[].site)",
        ],
    ),
    (
        {
            "agent_groups.1.site": None,
            "costs": {
                "groups": [
                    {"group": "onshore", "per_paid_hour": 20},
                    {"group": "offshore", "per_paid_hour": 8, "site": "manila"},
                ]
            },
        },
        ["costs.groups[1].site:", "write nothing: the group works at no site"],
    ),
    (
        {"costs": {"technology": [{"name": "crm", "fixed_per_day": 5, "site": "cebu"}]}},
        ["costs.technology[0].site: unknown site 'cebu'; known: lisbon, manila"],
    ),
    (
        {"costs": {"technology": [{"name": "crm", "per_contact": 0.1, "site": "manila"}]}},
        ["costs.technology[0].site: technology 'crm': contacts reach the centre, not a site"],
    ),
    (
        {"costs": {"technology": [{"name": "crm", "per_seat_per_day": 1, "groups": ["onshore"], "site": "manila"}]}},
        ["costs.technology[0].groups[0]: agent group 'onshore' does not work at site 'manila'"],
    ),
]


@pytest.mark.parametrize(("changes", "pieces"), BAD)
def test_bad_site_tools_clocks_and_labels_are_refused_naming_the_field(changes, pieces, tmp_path):
    data = changed(centre(), changes)
    with pytest.raises(ScenarioError):
        Scenario.model_validate(data)
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(data))
    assert_refused(bposim("validate", file), *pieces, source=file)


def test_a_runaway_site_tool_failure_process_is_refused_before_the_run():
    failures = {
        "time_between": {"distribution": "fixed", "value_seconds": 0.001},
        "repair": {"distribution": "fixed", "value_seconds": 0.001},
    }
    scenario = Scenario.model_validate(centre(manila={"tools": [crm(maintenance=[], failures=failures)]}))
    with pytest.raises(ScenarioError, match=r"sites\[1\]\.tools\[0\]\.failures\.time_between: about"):
        simulate(scenario, seed=1)


def test_an_exempt_window_of_a_site_tool_is_outside_the_objective_like_a_tools():
    window = {"start": "10:00", "minutes": 30, "exempt": True}
    run = run_of(centre(manila={"tools": [crm(maintenance=[window])]}))
    flagged = run.intervals[run.intervals["exempt"]]
    assert list(flagged["interval_start"]) == ["10:00"]
    assert "service_level_excluding_exempt" in run.summary
    plain = run_of(centre(manila={"tools": [crm(maintenance=[{**window, "exempt": False}])]}))
    assert "exempt" not in plain.intervals and "service_level_excluding_exempt" not in plain.summary
