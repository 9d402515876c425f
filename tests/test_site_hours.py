"""A site's own opening hours (`sites[].hours`): the site's plan agents work inside them only, on its local clock.

Outside a site's hours its plan agents are logged out (the staffing table's `scheduled` is 0, nobody of the site
answers) and only theirs; two sites covering different parts of the day answer each in its own hours; a daylight
saving change moves a site's hours on the horizon's clock by an hour from the change date; hours over the whole day
change nothing; a roster line outside the hours and bad hours are refused naming the file and field.
"""

from __future__ import annotations

import copy
import datetime
import zoneinfo

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bposim import simulate
from bposim.scenario import Scenario

HOUR = 3600.0


def centre(days: int = 2, start_date: str | None = None, time_zone: str | None = None, **sites) -> dict:
    """A 24-hour centre of one call type served by two groups of 4 plan agents, on sites `day` and `night`
    (`sites` gives each site's extra fields)."""
    horizon = {"start": "00:00", "end": "24:00", "interval_minutes": 60, "days": days}
    if start_date:
        horizon["start_date"] = start_date
    if time_zone:
        horizon["time_zone"] = time_zone
    return {
        "name": "site hours",
        "horizon": horizon,
        "call_types": [
            {
                "name": "support",
                "arrivals": {"per_hour": 24},
                "handle_time": {"distribution": "exponential", "mean_seconds": 240},
                "patience": {"distribution": "exponential", "mean_seconds": 900},
            }
        ],
        "agent_groups": [
            {"name": "day_team", "site": "day", "skills": ["support"], "agents": 4},
            {"name": "night_team", "site": "night", "skills": ["support"], "agents": 4},
        ],
        "sites": [{"name": name, **sites.get(name, {})} for name in ("day", "night")],
    }


def answers(run, group: str) -> np.ndarray:
    """The answer times (engine seconds) of the calls a group answered."""
    calls = run.calls
    mine = calls[(calls["group"].astype(str) == group) & (calls["outcome"] == "answered")]
    return mine["answer"].to_numpy(float)


def scheduled(run, group: str) -> pd.DataFrame:
    """The group's scheduled agents as a (day, interval) table."""
    staffing = run.staffing[run.staffing["group"].astype(str) == group]
    return staffing.pivot_table(index="day", columns="interval", values="scheduled")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_hour=st.integers(0, 22), length=st.integers(1, 12))
def test_plan_agents_of_a_site_work_inside_its_hours_and_only_theirs(open_hour, length):
    close_hour = min(open_hour + length, 24)
    hours = {"open": f"{open_hour:02d}:00", "close": f"{close_hour:02d}:00"}
    run = simulate(Scenario.model_validate(centre(day={"hours": hours})), seed=3)
    inside = (np.arange(24) >= open_hour) & (np.arange(24) < close_hour)
    day_team = scheduled(run, "day_team")
    assert (day_team.to_numpy() == np.where(inside, 4.0, 0.0)).all()
    assert (scheduled(run, "night_team").to_numpy() == 4.0).all()  # the other site's agents are not touched
    hour_of_day = answers(run, "day_team") % 86_400 / HOUR
    assert ((hour_of_day >= open_hour) & (hour_of_day < close_hour)).all()
    night_hours = answers(run, "night_team") % 86_400 // HOUR
    assert len(set(night_hours) - set(np.flatnonzero(inside))) > 0  # the other site answers outside them
    agents = run.agents.set_index(run.agents["agent"].astype(str))
    day_agents = agents[agents["group"].astype(str) == "day_team"]
    assert (day_agents["logged_in_seconds"] <= 2 * length * HOUR + 3 * HOUR).all()  # a call finished past closing
    night_agents = agents[agents["group"].astype(str) == "night_team"]
    assert (night_agents["logged_in_seconds"] >= 2 * 24 * HOUR).all()


def test_without_the_hours_the_sites_agents_work_all_day():
    run = simulate(Scenario.model_validate(centre()), seed=3)
    assert (scheduled(run, "day_team").to_numpy() == 4.0).all()
    assert (answers(run, "day_team") % 86_400 < 6 * HOUR).any()


def test_hours_over_the_whole_day_leave_every_table_as_it_was():
    all_day = centre(day={"hours": {"open": "00:00", "close": "24:00"}, "time_zone": "Asia/Manila"})
    without = copy.deepcopy(all_day)
    del without["sites"][0]["hours"]
    a = simulate(Scenario.model_validate(all_day), seed=5)
    b = simulate(Scenario.model_validate(without), seed=5)
    for name in ("calls", "intervals", "agents", "staffing", "activities", "outages"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def horizon_windows(date: datetime.date, days: int, home: str, site: str, opens: int, closes: int) -> list:
    """A site's hours (local hours opens-closes) on each local date as engine seconds of a horizon starting at
    midnight of `date` on `home`'s clock: computed here with zoneinfo alone."""
    windows = []
    for offset in range(-1, days + 1):
        local = date + datetime.timedelta(days=offset)
        ends = []
        for hour in (opens, closes):
            moment = datetime.datetime.combine(local, datetime.time(), zoneinfo.ZoneInfo(site)) + datetime.timedelta(
                hours=hour
            )
            there = moment.astimezone(zoneinfo.ZoneInfo(home))
            wall = (there.date() - date).days * 86_400 + there.hour * 3600 + there.minute * 60
            ends.append(float(wall))
        windows.append(tuple(ends))
    return windows


def inside(times: np.ndarray, windows: list) -> np.ndarray:
    return np.array([any(a <= t < b for a, b in windows) for t in times], bool)


def test_follow_the_sun_each_call_is_answered_by_the_site_that_is_open():
    data = centre(
        days=2,
        start_date="2027-01-11",
        time_zone="Europe/London",
        day={"time_zone": "Europe/London", "hours": {"open": "08:00", "close": "20:00"}},
        night={"time_zone": "Asia/Manila", "hours": {"open": "04:00", "close": "16:00"}},  # 20:00-08:00 London
    )
    run = simulate(Scenario.model_validate(data), seed=11)
    date = datetime.date(2027, 1, 11)
    london = horizon_windows(date, 2, "Europe/London", "Europe/London", 8, 20)
    manila = horizon_windows(date, 2, "Europe/London", "Asia/Manila", 4, 16)
    by_london, by_manila = answers(run, "day_team"), answers(run, "night_team")
    assert len(by_london) > 100 and len(by_manila) > 100
    assert inside(by_london, london).all() and not inside(by_london, manila).any()
    assert inside(by_manila, manila).all() and not inside(by_manila, london).any()
    both = run.staffing.pivot_table(index=["day", "interval"], columns="group", values="scheduled", observed=True)
    assert (both.sum(axis=1) == 4.0).all()  # one site open at a time, around the clock


def test_a_night_site_closes_the_next_local_day():
    """London by day, Manila at night on its own clock: open 22:00, close 07:00 the next Manila day (14:00-23:00
    London in winter). Each site answers only inside its own hours, computed with zoneinfo alone."""
    data = centre(
        days=2,
        start_date="2027-01-11",
        time_zone="Europe/London",
        day={"time_zone": "Europe/London", "hours": {"open": "08:00", "close": "20:00"}},
        night={"time_zone": "Asia/Manila", "hours": {"open": "22:00", "close": "07:00"}},
    )
    run = simulate(Scenario.model_validate(data), seed=11)
    date = datetime.date(2027, 1, 11)
    windows = horizon_windows(date, 2, "Europe/London", "Asia/Manila", 22, 7)
    manila = [(opens, closes + 86_400 if closes < opens else closes) for opens, closes in windows]  # the next day
    by_manila = answers(run, "night_team")
    assert len(by_manila) > 50 and inside(by_manila, manila).all()
    night = scheduled(run, "night_team")
    assert (night.loc[0, 14:22] == 4.0).all() and (night.loc[0, [*range(0, 14), 23]] == 0.0).all()


def test_a_daylight_saving_change_moves_a_sites_hours_on_the_horizons_clock_from_the_change_date(tmp_path):
    data = centre(
        days=5,
        start_date="2027-03-25",  # Europe/London moves to summer time on 2027-03-28; Asia/Manila has none
        time_zone="Europe/London",
        day={"time_zone": "Europe/London", "hours": {"open": "08:00", "close": "20:00"}},
        night={"time_zone": "Asia/Manila", "hours": {"open": "04:00", "close": "16:00"}},
    )
    run = simulate(Scenario.model_validate(data), seed=2)
    manila, london = scheduled(run, "night_team") > 0, scheduled(run, "day_team") > 0
    closes = manila.idxmin(axis=1)  # the first hour of each day Manila is closed (its morning ends)
    reopens = manila.apply(lambda row: max(h for h in row.index if not row[h]) + 1, axis=1)  # its evening begins
    assert list(closes) == [closes[0]] * 3 + [closes[0] + 1] * 2  # 2027-03-28 on: an hour later
    assert list(reopens) == [reopens[0]] * 3 + [reopens[0] + 1] * 2
    assert (london.to_numpy() == london.to_numpy()[0]).all()  # London's hours keep to London's clock
    file = tmp_path / "dst.yaml"
    file.write_text(yaml.safe_dump(data))
    result = bposim("validate", file)
    assert result.returncode == 0, result.stderr
    assert "site hours 04:00-16:00 local (" in result.stdout and "horizon from 2027-03-29" in result.stdout
    assert "site hours 08:00-20:00 local (08:00-20:00 horizon)" in result.stdout


def test_a_roster_line_inside_the_hours_runs_and_one_outside_is_refused(tmp_path):
    data = centre(days=5, start_date="2027-03-25", time_zone="Europe/London")
    data["sites"][1].update({"time_zone": "Asia/Manila", "hours": {"open": "04:00", "close": "16:00"}})
    data["agent_groups"][1]["agents"] = 0
    data["roster"] = [{"group": "night_team", "start": "00:00", "end": "08:00", "agents": 3}]
    run = simulate(Scenario.model_validate(data), seed=1)
    assert len(answers(run, "night_team")) > 0
    data["roster"].append({"group": "night_team", "start": "20:00", "end": "24:00", "agents": 2})
    file = tmp_path / "late.yaml"
    file.write_text(yaml.safe_dump(data))
    assert_refused(
        bposim("validate", file),
        "roster[1]: shift 20:00-24:00 of night_team is outside the hours of site 'night', 04:00-16:00 local",
        "open 00:00-09:00 and 21:00-24:00 on the horizon's clock on 2027-03-28",
        source=file,
    )


BAD = [
    ({"open": "08:00", "close": "08:00"}, ["sites[0].hours: close 08:00 is open 08:00"]),
    ({"open": "8am", "close": "20:00"}, ["sites[0].hours.open: '8am' is not a clock time"]),
    ({"open": "08:00", "close": "25:00"}, ["sites[0].hours.close: '25:00' is not a clock time"]),
    ({"open": "08:00"}, ["sites[0].hours.close"]),
    ("08:00-20:00", ['sites[0].hours: write the hours as {open: "08:00", close: "20:00"}']),
]


@pytest.mark.parametrize(("hours", "pieces"), BAD)
def test_bad_hours_are_refused_naming_the_field(hours, pieces, tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(centre(day={"hours": hours})))
    assert_refused(bposim("validate", file), *pieces, source=file)


def test_a_shift_pattern_allowing_shifts_outside_a_sites_hours_is_refused(tmp_path):
    data = centre(day={"hours": {"open": "08:00", "close": "20:00"}})
    data["scheduling"] = {
        "shifts": [
            {"name": "late", "groups": ["night_team"], "length_hours": 8, "starts": {"earliest": "14:00"}},
            {
                "name": "day",
                "groups": ["day_team"],
                "length_hours": 8,
                "starts": {"earliest": "08:00", "latest": "12:00"},
            },
        ]
    }
    Scenario.model_validate(data)  # inside the hours, and the other site's group has none
    data["scheduling"]["shifts"][1]["starts"]["latest"] = "12:30"
    file = tmp_path / "late.yaml"
    file.write_text(yaml.safe_dump(data))
    assert_refused(
        bposim("validate", file),
        "scheduling.shifts[1].starts: pattern 'day' allows shift 12:30-20:30 of day_team, outside the hours of site "
        "'day', 08:00-20:00 local, open 08:00-20:00 on the horizon's clock",
        source=file,
    )


def test_without_dates_a_sites_hours_are_read_on_a_winter_monday_every_day():
    data = centre(
        days=2,
        time_zone="Europe/London",
        night={"time_zone": "Asia/Manila", "hours": {"open": "04:00", "close": "16:00"}},
    )
    run = simulate(Scenario.model_validate(data), seed=4)
    monday = datetime.date(2026, 1, 5)
    windows = horizon_windows(monday, 2, "Europe/London", "Asia/Manila", 4, 16)
    starts = np.arange(2 * 24) * HOUR
    expected = np.array([any(a <= t and t + HOUR <= b for a, b in windows) for t in starts], float) * 4.0
    assert (scheduled(run, "night_team").to_numpy().ravel() == expected).all()
    assert 0 < expected.sum() < 4.0 * 48
