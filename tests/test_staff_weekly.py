"""`bposim staff` on a calendar horizon with contracts: agents' weeks from the tour programme, simulated over the
dates. The named schedule is checked against every contract rule from the CSV alone, against the roster scenario
written beside it, and the roster on fresh days; roster lines with `days` work on those dates only; bad contracts
are refused at the door."""

from __future__ import annotations

import csv
import datetime
from collections import Counter

import numpy as np
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bposim.run import simulate
from bposim.scenario import Scenario, load_scenario

START = datetime.date(2027, 3, 1)  # a Monday
FULL = {
    "name": "full_time",
    "days": [4, 5],
    "days_off_together": 2,
    "weekend": "one_off",
    "min_rest_hours": 15,
    "start_window_hours": 2,
    "shifts": ["full"],
}
PART = {
    "name": "part_time",
    "days": [2, 3],
    "weekend": "one_off",  # the Saturdays (09:00-14:00) are part-timers': the full shifts do not fit them
    "min_rest_hours": 11,
    "max_weekly_hours": 12,
    "max_agents": 16,
    "shifts": ["part"],
}
SITE = {
    "name": "Small weekly site",
    "horizon": {
        "start_date": START.isoformat(),
        "weeks": 2,
        "interval_minutes": 30,
        "opening_hours": {"mon-fri": "08:00-18:00", "sat": "09:00-14:00", "sun": "closed"},
    },
    "service_level": {"threshold_seconds": 20, "target": 0.8},
    "call_types": [
        {
            "name": "support",
            "arrivals": {
                "per_interval": [30, 50, 60, 60, 55, 50, 45, 45, 50, 50, 45, 40, 35, 30, 25, 20, 20, 15, 10, 10]
            },
            "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            "patience": {"distribution": "exponential", "mean_seconds": 120},
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["support"]}],
    "costs": {"currency": "EUR", "groups": [{"group": "team", "per_paid_hour": 20}]},
    "scheduling": {
        "shifts": [
            {
                "name": "full",
                "length_hours": 8,
                "starts": {"earliest": "08:00", "latest": "10:00", "every_minutes": 60},
                "breaks": [{"name": "lunch", "minutes": 30, "after_hours": [3, 5], "paid": False}],
            },
            {
                "name": "part",
                "length_hours": 4,
                "starts": {"earliest": "08:00", "latest": "14:00", "every_minutes": 60},
            },
        ],
        "contracts": [FULL, PART],
    },
}
FLAGS = ("--replications", "4", "--max-rounds", "5", "--workers", "1", "--quiet")


def _write(tmp_path, data: dict, name: str = "site.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def staffed(tmp_path_factory):
    """One real `bposim staff` run: its result, the named schedule (rows) and the roster scenario written."""
    folder = tmp_path_factory.mktemp("weekly")
    site = _write(folder, SITE)
    schedule, roster, report = folder / "schedule.csv", folder / "roster.yaml", folder / "report.html"
    workbook = folder / "roster.xlsx"  # read by test_the_workbook_holds_the_named_schedule_as_written
    result = bposim(
        "staff",
        site,
        *FLAGS,
        "--schedule",
        schedule,
        "--out",
        roster,
        "--report",
        report,
        "--xlsx",
        workbook,
        timeout=900,
    )
    with open(schedule, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return result, rows, load_scenario(roster), report


def _clock(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _days(row: dict) -> list[tuple[datetime.date, tuple[int, int] | None]]:
    """The agent's dates in order, each with (start, end) in seconds after midnight or None when off."""
    found = []
    for d in range(SITE["horizon"]["weeks"] * 7):
        date = START + datetime.timedelta(days=d)
        text = row[date.isoformat()]
        found.append((date, None if text == "off" else tuple(_clock(part) for part in text.split("-"))))
    return found


def _weeks(row: dict) -> list[list[tuple[datetime.date, tuple[int, int] | None]]]:
    days = _days(row)
    return [days[start : start + 7] for start in range(0, len(days), 7)]


def _longest_off_run(week) -> int:
    longest = run = 0
    for _, shift in week:
        run = run + 1 if shift is None else 0
        longest = max(longest, run)
    return longest


def test_the_run_succeeds_and_says_what_it_wrote(staffed):
    result, rows, _, report = staffed
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    assert "weekly roster" in result.stdout and "Shift starts per date" in result.stdout
    assert "a week on the shifts" in result.stdout
    assert {row["contract"] for row in rows} <= {"full_time", "part_time"}
    page = report.read_text(encoding="utf-8")
    assert 'class="weekgrid"' in page and page.count("<tr>") >= len(rows)


def test_every_agent_keeps_the_contract_rules(staffed):
    _, rows, _, _ = staffed
    rules = {FULL["name"]: FULL, PART["name"]: PART}
    assert rows
    for row in rows:
        rule = rules[row["contract"]]
        low, high = rule["days"]
        for week in _weeks(row):
            shifts = [shift for _, shift in week if shift is not None]
            assert low <= len(shifts) <= high, (row["agent"], week)
            assert _longest_off_run(week) >= rule.get("days_off_together", 1), (row["agent"], week)
            weekend = [shift for date, shift in week if date.weekday() >= 5]
            if rule.get("weekend") == "one_off":
                assert None in weekend, (row["agent"], week)
            if rule.get("weekend") == "both_off":
                assert weekend == [None, None], (row["agent"], week)
            if rule.get("start_window_hours") is not None and shifts:
                starts = [start for start, _ in shifts]
                assert max(starts) - min(starts) <= rule["start_window_hours"] * 3600, (row["agent"], week)
            if rule.get("max_weekly_hours") is not None:
                assert sum(end - start for start, end in shifts) <= rule["max_weekly_hours"] * 3600
        worked = [(date, shift) for date, shift in _days(row) if shift is not None]
        for (day, (_, end)), (after, (start, _)) in zip(worked, worked[1:], strict=False):
            rest = (after - day).days * 86_400 + start - end
            assert rest >= rule["min_rest_hours"] * 3600, (row["agent"], day, after)


def test_the_schedule_is_exactly_the_roster_written(staffed):
    _, rows, roster, _ = staffed
    from_csv = Counter((date, shift) for row in rows for date, shift in _days(row) if shift is not None)
    from_roster = Counter()
    for line in roster.roster:
        assert line.group == "team" and line.days is not None
        for date in line.days:
            from_roster[date, (line.start_seconds, line.end_seconds)] += line.agents
    assert from_csv == from_roster
    by_plan = [group.agents.per_interval_counts(roster.horizon.intervals) for group in roster.agent_groups]
    assert not any(any(counts) for counts in by_plan)  # nobody by plan: the roster alone


def test_the_workbook_holds_the_named_schedule_as_written(staffed):
    """--xlsx: the Schedule sheet is the schedule CSV (agents, contracts, each date's shift or "off"), beside the
    shift starts per date and the service level."""
    import pandas as pd

    _, rows, _, report = staffed
    sheets = pd.read_excel(report.parent / "roster.xlsx", sheet_name=None, dtype=str)
    assert list(sheets) == ["Schedule", "Shift starts", "Service level", "Intervals"]
    schedule = sheets["Schedule"]
    assert list(schedule.columns[:3]) == ["Agent", "Group", "Contract"]
    assert schedule.rename(columns=str.lower).to_dict("records") == [dict(row) for row in rows]


def test_the_roster_meets_the_target_on_fresh_days(staffed):
    _, _, roster, _ = staffed
    levels = [simulate(roster, seed=seed).summary["service_level"] for seed in (101, 202, 303)]
    assert np.mean(levels) >= 0.8, levels


def test_lines_with_days_work_on_those_dates_only(staffed):
    _, _, roster, _ = staffed
    run = simulate(roster, seed=7)
    days_of = {number: {(date - START).days for date in line.days} for number, line in enumerate(roster.roster, 1)}
    answered = run.calls.dropna(subset=["agent"])
    assert len(answered)
    for agent, answer in zip(answered["agent"], answered["answer"], strict=True):
        line = int(str(agent).split("-s")[1].split("-")[0])
        assert int(answer // 86_400) in days_of[line], (agent, answer)


def _line_site(days: list[int]) -> dict:
    """A daily site on dates with one roster line of two agents working the given day numbers."""
    return {
        "name": "Dated line",
        "horizon": {"start_date": START.isoformat(), "days": 7, "start": "08:00", "end": "12:00"},
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 30},
                "handle_time": {"distribution": "exponential", "mean_seconds": 120},
            }
        ],
        "agent_groups": [{"name": "team", "skills": ["support"]}],
        "roster": [
            {
                "group": "team",
                "start": "08:00",
                "end": "12:00",
                "agents": 2,
                "days": [(START + datetime.timedelta(days=d)).isoformat() for d in days],
            }
        ],
    }


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.integers(0, 6), min_size=1, max_size=7))
def test_an_agent_logs_in_on_its_days_and_no_other(days):
    run = simulate(Scenario.model_validate(_line_site(sorted(days))), seed=1)
    logged = run.agents["logged_in_seconds"] - run.agents["overtime_seconds"]
    assert np.allclose(logged, len(days) * 4 * 3600)
    served = run.calls.dropna(subset=["agent"])
    assert set((served["answer"] // 86_400).astype(int)) <= set(days)


def _with(changes: dict) -> dict:
    data = yaml.safe_load(yaml.safe_dump(SITE))
    for path, value in changes.items():
        target = data
        *parents, last = path
        for key in parents:
            target = target[key]
        if value is None:
            target.pop(last)
        else:
            target[last] = value
    return data


@pytest.mark.parametrize(
    ("changes", "pieces"),
    [
        ({("scheduling", "contracts", 0, "days"): [6, 5]}, ["scheduling.contracts[0].days", "0 ≤ min ≤ max ≤ 7"]),
        ({("scheduling", "contracts", 0, "weekend"): "sundays"}, ["scheduling.contracts[0].weekend", "one_off"]),
        ({("scheduling", "contracts", 0, "groups"): ["sales"]}, ["contracts[0].groups[0]", "unknown agent group"]),
        ({("scheduling", "contracts", 1, "shifts"): ["night"]}, ["contracts[1].shifts[0]", "unknown shift pattern"]),
        ({("scheduling", "contracts", 0, "days_off_together"): 4}, ["days_off_together 4", "at most 3 days off"]),
        ({("horizon", "start_date"): None, ("horizon", "opening_hours"): None}, ["needs a start_date"]),
        ({("horizon", "weeks"): None, ("horizon", "days"): 10}, ["10 days", "whole weeks"]),
        ({("scheduling", "contracts"): [{**FULL, "groups": ["team"]}, {**PART, "name": "full_time"}]}, ["repeated"]),
    ],
)
def test_bad_contracts_are_refused(tmp_path, changes, pieces):
    data = _with(changes)
    if ("horizon", "start_date") in changes:
        data["horizon"].update(start="08:00", end="18:00")
    result = bposim("validate", _write(tmp_path, data))
    assert_refused(result, *pieces)


def test_limits_need_contracts_and_dates_need_a_calendar(tmp_path):
    data = _with({("scheduling", "contracts"): None})
    data["scheduling"]["limits"] = {"max_starts_per_day": 2}
    assert_refused(bposim("validate", _write(tmp_path, data)), "scheduling.limits", "give contracts too")
    site = _line_site([0, 9])
    assert_refused(bposim("validate", _write(tmp_path, site, "line.yaml")), "roster[0].days[1]", "outside the horizon")


def test_the_daily_path_refuses_a_schedule_file(tmp_path):
    daily = {
        **_with({("scheduling", "contracts"): None}),
        "horizon": {"start": "08:00", "end": "18:00", "interval_minutes": 30},
    }
    result = bposim("staff", _write(tmp_path, daily), "--schedule", tmp_path / "s.csv", "--quiet")
    assert_refused(result, "--schedule", "weekly rosters")
