"""A horizon on dates: closed days (weekdays, holidays) have no arrivals and no agents, a short day runs only over
its hours, deferred work carries its backlog across closed days, tables carry each day's date and weekday, a
horizon without the calendar fields runs as it always did, and bad calendars are refused at the door."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bposim import load_scenario, simulate
from bposim.run import jsonable
from bposim.scenario import Scenario, scenario_text
from bposim.scenario.calendar import WEEKDAYS

MODEL = ROOT / "models" / "weekly_bpo.yaml"
MONDAY = datetime.date(2027, 3, 1)


def centre(horizon: dict, email: bool = True, closing: str = "serve") -> Scenario:
    """A small centre on `horizon`: voice (and email) served by a plan team and a rostered blended team."""
    call_types = [
        {
            "name": "voice",
            "arrivals": {"per_hour": 60},
            "handle_time": {"distribution": "exponential", "mean_seconds": 240},
            "patience": {"distribution": "exponential", "mean_seconds": 120},
        }
    ]
    skills = ["voice"]
    if email:
        call_types.append(
            {
                "name": "email",
                "channel": "email",
                "arrivals": {"per_hour": 30},
                "handle_time": {"distribution": "exponential", "mean_seconds": 300},
            }
        )
        skills.append("email")
    return Scenario.model_validate(
        {
            "name": "calendar",
            "horizon": {"interval_minutes": 30, "closing": closing, **horizon},
            "call_types": call_types,
            "agent_groups": [
                {"name": "plan", "skills": ["voice"], "agents": 2},
                {"name": "blended", "skills": skills},
            ],
            "roster": [
                {
                    "group": "blended",
                    "start": "08:00",
                    "end": "16:00",
                    "agents": 3,
                    "breaks": [{"name": "lunch", "minutes": 30, "window": ["11:00", "13:00"]}],
                },
                {"group": "blended", "start": "12:00", "end": "20:00", "agents": 2},
            ],
        }
    )


WEEK = {
    "start": "08:00",
    "end": "20:00",
    "start_date": MONDAY.isoformat(),
    "weeks": 2,
    "opening_hours": {"sat": "10:00-14:00", "sun": "closed"},
    "closed_dates": ["2027-03-03"],
}


@pytest.fixture(scope="module")
def weekly():
    return simulate(centre(WEEK), seed=3)


def test_the_horizon_says_what_each_day_is():
    horizon = centre(WEEK).horizon
    assert horizon.days == 14 and horizon.weeks is None  # weeks: 2 is days: 14
    assert horizon.dates()[0] == MONDAY and horizon.dates()[-1] == MONDAY + datetime.timedelta(days=13)
    assert [horizon.weekday(day) for day in range(7)] == list(WEEKDAYS)
    assert horizon.open_days() == [0, 1, 3, 4, 5, 7, 8, 9, 10, 11, 12]  # Wednesday 3 March and Sundays closed
    assert horizon.open_intervals(5) == range(4, 12)  # Saturday 10:00-14:00 on the 08:00 grid of 30 minutes
    assert horizon.opens_at(5) == 5 * 86_400 + 2 * 3600 and horizon.closes_at(5) == 5 * 86_400 + 6 * 3600
    assert horizon.opens_at(6) is None and horizon.hours(2) is None
    again = Scenario.model_validate(yaml.safe_load(scenario_text(centre(WEEK))))  # saved and read back
    assert again.horizon == horizon


def closed_days(run) -> list[int]:
    horizon = run.scenario.horizon
    return [day for day in range(horizon.days) if not horizon.open_intervals(day)]


def test_closed_days_have_no_arrivals_and_no_agents(weekly):
    closed = closed_days(weekly)
    assert closed == [2, 6, 13]
    calls = weekly.calls
    assert len(calls) and not calls["day"].isin(closed).any()
    staffing = weekly.staffing
    on_closed = staffing["day"].isin(closed)
    assert np.abs(staffing.loc[on_closed, ["scheduled", "present", "busy"]].to_numpy()).max() < 1e-6
    assert staffing.loc[~on_closed, "present"].sum() > 0
    assert not staffing.loc[on_closed, "open"].any()
    # no session of any agent overlaps a closed day's grid
    for day in closed:
        start, end = day * 86_400.0, day * 86_400.0 + weekly.scenario.horizon.open_seconds
        assert not ((calls["answer"] >= start) & (calls["answer"] < end)).any()


def test_a_short_day_has_arrivals_only_within_its_hours_and_closes_at_its_closing():
    run = simulate(centre(WEEK, email=False, closing="clear"), seed=4)
    horizon = run.scenario.horizon
    saturday = 5
    opens, closes = horizon.opens_at(saturday), horizon.closes_at(saturday)
    calls = run.calls[run.calls["day"] == saturday]
    assert len(calls) > 50
    assert calls["arrival"].min() >= opens and calls["arrival"].max() < closes
    assert calls["answer"].max() <= closes  # the queue is cleared at closing
    assert (calls.loc[calls["outcome"] == "unserved", "end"] == closes).all()
    intervals = run.intervals[run.intervals["day"] == saturday]
    shut = ~intervals["open"]
    assert list(intervals.loc[~shut, "interval"]) == list(horizon.open_intervals(saturday))
    assert intervals.loc[shut, "offered"].sum() == 0 and intervals.loc[shut, "service_level"].isna().all()
    staffing = run.staffing[run.staffing["day"] == saturday]
    before = staffing["interval"] < horizon.open_intervals(saturday).start
    assert np.abs(staffing.loc[~staffing["open"], "scheduled"]).max() < 1e-6
    assert np.abs(staffing.loc[before, "present"]).max() < 1e-6  # after closing: only calls in hand are finished
    # the rostered shifts are cut to the day's hours: scheduled = plan + shifts within 10:00-14:00
    blended = staffing[(staffing["group"] == "blended") & staffing["open"]]
    assert np.allclose(blended["scheduled"], [3.0] * 4 + [5.0] * 4)


def test_the_backlog_carries_across_closed_days_and_ages(weekly):
    backlog = weekly.backlog
    assert (backlog["open_at_start"] + backlog["arrived"] - backlog["completed"] - backlog["abandoned"]).equals(
        backlog["open_at_end"]
    )
    assert (backlog["open_at_end"].iloc[:-1].to_numpy() == backlog["open_at_start"].iloc[1:].to_numpy()).all()
    closed = backlog["day"].isin(closed_days(weekly))
    assert backlog.loc[closed, ["arrived", "completed"]].to_numpy().sum() == 0
    assert not backlog.loc[closed, "open"].any()
    # items open over the holiday (Wednesday) are older on it than at Tuesday's closing
    tuesday, wednesday = backlog.iloc[1], backlog.iloc[2]
    assert wednesday["open_at_end"] == tuesday["open_at_end"] > 0
    assert wednesday["oldest_age_hours"] > tuesday["oldest_age_hours"] + 23
    # items left on Tuesday evening are worked on Thursday: they waited over a day
    email = weekly.calls[(weekly.calls["call_type"] == "email") & (weekly.calls["day"] == 1)]
    assert (email["answer"] >= 3 * 86_400).any() and email["wait"].max() > 86_400


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(datetime.date(1990, 1, 1), datetime.date(2090, 12, 31)),
    closed=st.sets(st.sampled_from(WEEKDAYS), max_size=5),
    opening=st.integers(0, 8),
    length=st.integers(4, 24),
    days=st.integers(1, 9),
)
def test_dates_and_weekdays_match_the_start_date(start, closed, opening, length, days):
    """Any start date and hours (on the hour grid, some weekdays closed): every row's date is start + day, its
    weekday that date's, and every first attempt arrives within its day's open intervals."""
    weekdays = {WEEKDAYS[(start + datetime.timedelta(days=day)).weekday()] for day in range(days)}
    assume(not weekdays <= closed - {"mon"})  # some day opens
    hours = {"mon": f"{6 + opening:02d}:00-{min(6 + opening + length, 24):02d}:00"}
    hours.update({name: "closed" for name in closed if name != "mon"})
    horizon = {"start": "08:00", "end": "18:00", "interval_minutes": 60, "days": days}
    horizon |= {"start_date": start.isoformat(), "opening_hours": hours}
    scenario = centre(horizon, email=False)
    run = simulate(scenario, seed=1, tables=("calls", "intervals", "staffing"))
    for name in ("calls", "intervals", "staffing"):
        table = getattr(run, name)
        expected = np.array([start + datetime.timedelta(days=int(day)) for day in table["day"]], "datetime64[ns]")
        assert (table["date"].to_numpy() == expected).all()
        assert list(table["weekday"].astype(str)) == [WEEKDAYS[d.weekday()] for d in table["date"].dt.date]
    first = run.calls[run.calls["attempt"] == 1]
    for day, interval in zip(first["day"], first["interval"], strict=True):
        assert interval in scenario.horizon.open_intervals(day)


def test_a_horizon_without_the_calendar_fields_runs_as_before_and_a_start_date_only_adds_columns():
    """CRN: days on dates that all open the whole grid give the very tables of the same horizon without dates,
    beside the date and weekday columns (and no open column)."""
    plain = {"start": "08:00", "end": "20:00", "days": 3}
    undated = simulate(centre(plain), seed=2)
    dated = simulate(centre(plain | {"start_date": "2027-03-05"}), seed=2)
    for name in ("calls", "intervals", "staffing", "backlog", "agents", "activities"):
        before, after = getattr(undated, name), getattr(dated, name)
        assert "date" not in before and "open" not in after
        extra = [column for column in ("date", "weekday") if column in after]
        assert after.drop(columns=extra).equals(before), name
    assert list(dated.calls["weekday"].cat.categories) == list(WEEKDAYS)
    assert dated.staffing.groupby("day")["weekday"].first().astype(str).tolist() == ["fri", "sat", "sun"]
    assert json.dumps(jsonable(undated.summary)) == json.dumps(jsonable(dated.summary))


def test_the_weekly_model_runs_and_shows_its_dates(tmp_path):
    result = bposim("validate", MODEL)
    assert result.returncode == 0, result.stderr
    assert "Mon 1 Mar to Sun 28 Mar 2027 (4 weeks): 23 open days; closed Wed 17 Mar" in result.stdout
    assert "mon-fri 08:00-20:00, sat 09:00-14:00, sun closed" in result.stdout
    result = bposim("run", MODEL, "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    assert "Mon 1 Mar to Sun 28 Mar 2027" in result.stdout
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Day by day" in page and "Wed 17 Mar (closed)" in page
    scenario = load_scenario(tmp_path / "out" / "scenario.yaml")  # as saved: weeks written as days
    assert scenario.horizon.days == 28 and scenario.horizon == load_scenario(MODEL).horizon
    assert scenario.scheduling is not None and scenario.scheduling.weekly  # bposim staff plans its weeks
    daily = yaml.safe_load((tmp_path / "out" / "scenario.yaml").read_text(encoding="utf-8"))
    daily["scheduling"].pop("contracts")  # one repeated day cannot staff closed days and shorter hours
    (tmp_path / "daily.yaml").write_text(yaml.safe_dump(daily, sort_keys=False), encoding="utf-8")
    assert_refused(bposim("staff", tmp_path / "daily.yaml"), "closed days or shorter hours", "scheduling.contracts")


BAD = {
    "opening-hours-without-start-date": (
        {"opening_hours": {"sat": "09:00-14:00"}},
        ["horizon.opening_hours:", "need a start_date"],
    ),
    "weeks-with-days": ({"start_date": "2027-03-01", "weeks": 2, "days": 14}, ["horizon.weeks:", "not both"]),
    "holiday-outside": (
        {"start_date": "2027-03-01", "days": 7, "closed_dates": ["2027-03-01", "2027-03-09"]},
        ["horizon.closed_dates[1]:", "2027-03-09 is outside the horizon, 2027-03-01 to 2027-03-07"],
    ),
    "overlapping-weekdays": (
        {"start_date": "2027-03-01", "opening_hours": {"mon-fri": "08:00-20:00", "thu-sat": "09:00-14:00"}},
        ["horizon.opening_hours.thu-sat:", "thu is also in 'mon-fri'"],
    ),
    "hours-off-the-grid": (
        {"start_date": "2027-03-01", "opening_hours": {"sat": "09:15-14:00"}},
        ["horizon.opening_hours.sat:", "09:15 is not on the grid of 30-minute intervals from 08:00"],
    ),
    "not-a-weekday": (
        {"start_date": "2027-03-01", "opening_hours": {"weekend": "closed"}},
        ["horizon.opening_hours.weekend:", "not a weekday"],
    ),
    "not-a-date": ({"start_date": "1 March 2027"}, ["horizon.start_date:", "write YYYY-MM-DD"]),
    "every-day-closed": (
        {"start_date": "2027-03-06", "days": 2, "opening_hours": {"sat-sun": "closed"}},
        ["horizon.opening_hours:", "no day of the horizon is open"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_calendars_are_refused_by_validate(case: str, tmp_path: Path):
    changes, pieces = BAD[case]
    data = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    data["horizon"] = {"start": "08:00", "end": "20:00", "interval_minutes": 30, **changes}
    path = tmp_path / f"{case}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert_refused(bposim("validate", path), *pieces, source=path)
