"""The backlog of deferred work per interval (`backlog_intervals`): built only when asked for, it agrees with the
per-day backlog table, conserves items from interval to interval and across the nights, and is what a count made
cell by cell from the calls table gives; `bposim run --backlog-per interval` writes it and the report draws it.

The brute-force count reads the calls table with the definitions of `bposim.backlog` written again, one cell at a
time: each interval is counted up to its end, a day's last interval up to the next opening (the horizon's last: for
ever), and an item is open at a moment when it arrived before it and had not left by then.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import assert_refused, bposim
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from strategies import SEEDS, checked
from test_channels_results import DAY, OPEN, email_scenario, hand_records, item

import bposim as library
from bposim import channel_charts
from bposim.backlog import INTERVAL_COLUMNS
from bposim.engine.records import ABANDONED, ANSWERED, UNSERVED
from bposim.experiment.runner import run_task
from bposim.report import run_report
from bposim.run import Run, jsonable, simulate, simulate_replication
from bposim.tables import run_tables

ASKED = (*Run.DEFAULT_TABLES, "backlog_intervals")
HOUR = 3600.0


def deferred_centre(
    days: int = 2,
    interval_minutes: int = 60,
    email_per_hour: float = 12,
    case_per_hour: float = 4,
    agents: int = 2,
    due_hours: float = 3,
    patience_minutes: float | None = 240,
    backlog_items: int = 8,
) -> library.Scenario:
    """Email (with an initial backlog, some already overdue) and cases (whose customers may give up) on one team;
    short due times, so that items go overdue within a day."""
    case = {
        "name": "case_refund",
        "channel": "case",
        "arrivals": {"per_hour": case_per_hour},
        "handle_time": {"distribution": "exponential", "mean_seconds": 900},
        "after_call_work": {"distribution": "fixed", "value_seconds": 60},
        "service_level": {"threshold_hours": 2 * due_hours, "target": 0.8},
    }
    if patience_minutes is not None:
        case["patience"] = {"distribution": "exponential", "mean_seconds": patience_minutes * 60}
    return library.Scenario.model_validate(
        {
            "name": "deferred centre",
            "horizon": {"start": "08:00", "end": "16:00", "interval_minutes": interval_minutes, "days": days},
            "call_types": [
                {
                    "name": "email_en",
                    "channel": "email",
                    "arrivals": {"per_hour": email_per_hour},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 420},
                    "service_level": {"threshold_hours": due_hours, "target": 0.8},
                    "initial_backlog": [
                        {"items": backlog_items, "age_hours": 1},
                        {"items": backlog_items, "age_hours": due_hours + 10},
                    ],
                },
                case,
            ],
            "agent_groups": [{"name": "team", "skills": ["email_en", "case_refund"], "agents": agents}],
        }
    )


def brute_force(scenario: library.Scenario, calls: pd.DataFrame, replications: int) -> pd.DataFrame:
    """The per-interval backlog counted cell by cell from the calls table (see the module's docstring)."""
    horizon = scenario.horizon
    step, days, intervals = horizon.interval_seconds, horizon.days, horizon.intervals
    deferred = [ct for ct in scenario.call_types if not ct.live]
    rows = []
    for r in range(replications):
        mine = calls[calls["replication"] == r] if "replication" in calls else calls
        for day in range(days):
            for interval in range(intervals):
                end = day * DAY + (interval + 1) * step  # the interval's end on the clock
                moment = end if interval < intervals - 1 else (day + 1) * DAY
                if (day, interval) == (days - 1, intervals - 1):
                    moment = math.inf
                previous = day * DAY + interval * step if interval else day * DAY
                for call_type in deferred:
                    part = mine[mine["call_type"] == call_type.name]
                    arrival = part["arrival"].to_numpy()
                    outcome = part["outcome"].astype(str).to_numpy()
                    done = outcome == "answered"
                    left = np.where(done, part["end"] + part["wrap_seconds"], part["end"])
                    left = np.where(outcome == "unserved", math.inf, left)
                    due = arrival + call_type.due_seconds
                    leaves = (left >= previous) & (left < moment)
                    is_open = (arrival < moment) & (left >= moment)
                    oldest = arrival[is_open].min() if is_open.any() else None
                    rows.append(
                        {
                            "day": day,
                            "interval": interval,
                            "call_type": call_type.name,
                            "arrived": int(((arrival >= max(previous, 0)) & (arrival < moment)).sum()),
                            "completed": int((leaves & done).sum()),
                            "abandoned": int((leaves & (outcome == "abandoned")).sum()),
                            "open_at_start": int(((arrival < previous) & (left >= previous)).sum()),
                            "open_at_end": int(is_open.sum()),
                            "oldest_age_hours": 0.0 if oldest is None else (end - oldest) / HOUR,
                            "completed_within_due": int((leaves & done & (left <= due)).sum()),
                            "overdue_at_end": int((is_open & (due < end)).sum()),
                            "replication": r,
                        }
                    )
    return pd.DataFrame(rows)


def assert_counted_as_by_brute_force(scenario: library.Scenario, run: Run) -> None:
    table = run.backlog_intervals
    expected = brute_force(scenario, run.calls, run.replications)
    got = table.assign(call_type=table["call_type"].astype(str))
    if "replication" not in got:
        got = got.assign(replication=0)
    for name in [c for c in INTERVAL_COLUMNS if c != "oldest_age_hours"]:
        assert got[name].tolist() == expected[name].tolist(), name
    assert got["oldest_age_hours"].to_numpy() == pytest.approx(expected["oldest_age_hours"].to_numpy(), abs=1e-9)
    keys = ["replication", "day", "interval", "call_type"]
    assert got[keys].values.tolist() == expected[keys].values.tolist()


def assert_agrees_with_the_days(run: Run) -> None:
    """Over each day's intervals: arrivals, completions and abandonments sum to the day's, the first interval opens
    with the day's open_at_start and the last ends with its open_at_end and oldest age (on a day open over the whole
    grid: a day closing earlier has its age taken at its closing, its intervals' at their ends on the clock)."""
    keys = [k for k in ("replication", "day", "call_type") if k in run.backlog]
    table = run.backlog_intervals
    if "open" in table:
        whole = table.groupby("day")["open"].transform("all")
        table = table.assign(oldest_age_hours=table["oldest_age_hours"].where(whole, np.nan))
        days = run.backlog.assign(
            oldest_age_hours=run.backlog["oldest_age_hours"].where(
                run.backlog["day"].map(whole.groupby(table["day"]).first()), np.nan
            )
        )
    else:
        days = run.backlog
    groups = table.groupby(keys, observed=True, sort=True)
    per_day = groups.agg(
        arrived=("arrived", "sum"),
        completed=("completed", "sum"),
        abandoned=("abandoned", "sum"),
        open_at_start=("open_at_start", "first"),
        open_at_end=("open_at_end", "last"),
        oldest_age_hours=("oldest_age_hours", "last"),
    )
    days = days.set_index(keys).loc[per_day.index, list(per_day.columns)]
    assert_frame_equal(per_day, days, check_exact=False, rtol=0, atol=1e-9)


def assert_conserved(table: pd.DataFrame) -> None:
    """Each interval ends with what it opened with, plus arrivals, less completions and abandonments, and opens
    with what the previous interval ended with: the day's last one, across the night, for a day's first."""
    flow = table["open_at_start"] + table["arrived"] - table["completed"] - table["abandoned"]
    assert (flow == table["open_at_end"]).all()
    keys = [k for k in ("replication", "call_type") if k in table]
    for _, part in table.sort_values([*keys, "day", "interval"]).groupby(keys, observed=True):
        assert (part["open_at_end"].to_numpy()[:-1] == part["open_at_start"].to_numpy()[1:]).all()
        assert (part["overdue_at_end"] <= part["open_at_end"]).all()


# ---------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def centre() -> tuple[library.Scenario, Run]:
    scenario = deferred_centre(days=3)
    return scenario, simulate(scenario, seed=4, replications=2, tables=ASKED)


def test_the_table_has_a_row_per_replication_day_interval_and_deferred_type(centre):
    scenario, run = centre
    table = run.backlog_intervals
    assert list(table.columns) == [
        "day",
        "interval",
        "interval_start",
        "call_type",
        "channel",
        *INTERVAL_COLUMNS,
        "threshold_hours",
        "replication",
    ]
    assert len(table) == 2 * 3 * scenario.horizon.intervals * 2
    assert table["interval_start"].iloc[:4].tolist() == ["08:00", "08:00", "09:00", "09:00"]
    assert table["channel"].astype(str).tolist()[:2] == ["email", "case"]
    assert table.groupby("call_type", observed=True)["threshold_hours"].first().to_dict() == {
        "email_en": 3.0,
        "case_refund": 6.0,
    }
    # the run is busy enough to test something: items carried over nights, overdue, abandoned, in each direction
    assert (table["overdue_at_end"] > 0).any() and (table["abandoned"] > 0).any()
    last = table[table["interval"] == scenario.horizon.intervals - 1]
    assert (last["open_at_end"] > 0).any()


def test_the_intervals_agree_with_the_days(centre):
    _, run = centre
    assert_agrees_with_the_days(run)


def test_items_are_conserved_from_interval_to_interval_and_over_the_nights(centre):
    _, run = centre
    assert_conserved(run.backlog_intervals)


def test_the_table_is_what_a_count_cell_by_cell_gives(centre):
    scenario, run = centre
    assert_counted_as_by_brute_force(scenario, run)


def test_omnichannel_model_agrees_with_its_days():
    scenario = library.load_scenario("models/omnichannel_bpo.yaml").updated({"horizon.days": 2})
    run = simulate(scenario, seed=1, tables=ASKED)
    assert set(run.backlog_intervals["call_type"].astype(str)) == {"email_en", "backoffice_case"}
    assert_agrees_with_the_days(run)
    assert_conserved(run.backlog_intervals)


@checked(max_examples=20)
@given(
    seed=SEEDS,
    days=st.integers(1, 3),
    interval_minutes=st.sampled_from([30, 60, 120]),
    email_per_hour=st.floats(0, 30),
    agents=st.integers(1, 4),
    due_hours=st.floats(0.25, 30),
    patience_minutes=st.one_of(st.none(), st.floats(5, 600)),
    backlog_items=st.integers(0, 20),
)
def test_random_centres_count_as_by_brute_force(
    seed, days, interval_minutes, email_per_hour, agents, due_hours, patience_minutes, backlog_items
):
    scenario = deferred_centre(
        days, interval_minutes, email_per_hour, 4, agents, due_hours, patience_minutes, backlog_items
    )
    run = simulate(scenario, seed=seed, replications=2, tables=ASKED)
    assert_counted_as_by_brute_force(scenario, run)
    assert_agrees_with_the_days(run)
    assert_conserved(run.backlog_intervals)


# ---------------------------------------------------------------- edge cases by hand


def test_edge_cases_by_hand():
    """One email type, 08:00 to 18:00 in 60-minute intervals, three days, due 24 h after arrival."""
    scenario = email_scenario(days=3)
    items = [
        item(0, -72_000.0, ANSWERED, 4_000.0, answer=3_600.0, handle=400.0),  # initial backlog: done at 09:06
        item(1, -100_000.0, ANSWERED, 5_000.0, answer=4_000.0, handle=1_000.0),  # overdue at the first opening
        item(2, 30_000.0, ANSWERED, 35_900.0, answer=35_000.0, handle=900.0, wrap=100.0),  # done at 18:00 sharp
        item(3, 35_000.0, ANSWERED, OPEN + 600.0, answer=35_500.0, handle=1_000.0),  # done in the night
        item(4, 10_000.0, ANSWERED, 10_500.0, answer=10_100.0, handle=400.0),  # arrives and is done at 10:xx
        item(5, 11_000.0, ANSWERED, 2 * HOUR + 1_600.0 + DAY, answer=DAY + 7_000.0, handle=800.0),  # the next day
        item(6, 20_000.0, ABANDONED, DAY + HOUR),  # gives up at 09:00 on day 1, on an interval's end
        item(7, DAY + 1_000.0, UNSERVED, 2 * DAY + OPEN),  # still open at the horizon's end
    ]
    built = run_tables(scenario, hand_records(scenario, items, []), ASKED)
    table = built.tables["backlog_intervals"]
    day0, day1, day2 = (table[table["day"] == d].set_index("interval") for d in range(3))
    # day 0: two items waiting at the opening, five arrivals
    assert day0["open_at_start"].iloc[0] == 2 and day0["arrived"].tolist() == [0, 0, 1, 1, 0, 1, 0, 0, 1, 1]
    assert day0["completed"].tolist() == [0, 2, 1, 0, 0, 0, 0, 0, 0, 2]  # items 3 (at night) and 2 in the last
    assert day0.loc[0, "overdue_at_end"] == 1 and day0.loc[0, "oldest_age_hours"] == pytest.approx(100_000 / HOUR + 1)
    assert day0.loc[2, "open_at_end"] == 0  # item 4 arrived and was done in 10:00-11:00: open at neither end
    assert day0.loc[2, "arrived"] == 1 and day0.loc[2, "completed"] == 1
    assert day0["open_at_end"].tolist() == [2, 0, 0, 1, 1, 2, 2, 2, 3, 2]  # items 5 and 6 carried over
    # day 1: item 6 gives up at 09:00 sharp, the end of the first interval's span: it counts in the second
    assert day1["open_at_start"].iloc[0] == 2 and day1["abandoned"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert day1["completed"].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert day1.loc[0, "open_at_end"] == 3  # items 5, 7 and 6, which leaves at this very moment
    assert day1.loc[0, "oldest_age_hours"] == pytest.approx((DAY + HOUR - 11_000) / HOUR)  # item 5
    assert day1["completed_within_due"].sum() == 1  # item 5: 24 h after 11:00 is day 1 11:00
    # day 2: item 7 open through to the last interval, overdue from 08:16:40 (24 h after it arrived) on
    assert day2["open_at_end"].tolist() == [1] * 10 and day2["overdue_at_end"].tolist() == [1] * 10
    assert day1["overdue_at_end"].sum() == 0
    assert day2.loc[9, "oldest_age_hours"] == pytest.approx((2 * DAY + OPEN - DAY - 1_000) / HOUR)
    assert table["completed_within_due"].sum() == 5  # every item done but item 1, overdue before it started
    conserved = table["open_at_start"] + table["arrived"] - table["completed"] - table["abandoned"]
    assert (conserved == table["open_at_end"]).all()


# ---------------------------------------------------------------- asked for, or not


def test_not_built_unless_asked_and_the_rest_unchanged(centre):
    scenario, run = centre
    plain = simulate(scenario, seed=4, replications=2)
    assert plain.backlog_intervals.empty and not len(plain.backlog_intervals.columns)
    assert json.dumps(jsonable(plain.summary)) == json.dumps(jsonable(run.summary))
    for name in Run.DEFAULT_TABLES:
        assert_frame_equal(getattr(plain, name), getattr(run, name), check_exact=True, obj=name)
    alone = simulate(scenario, seed=4, replications=2, tables=["backlog_intervals"])
    assert_frame_equal(alone.backlog_intervals, run.backlog_intervals, check_exact=True)
    assert alone.calls.empty and alone.backlog.empty


def test_a_sweep_builds_it_only_when_it_keeps_every_table():
    scenario = deferred_centre(days=1)
    lean, whole = (run_task(scenario, 4, 0, 1, keep) for keep in (False, True))
    assert lean.tables is None
    assert len(whole.tables["backlog_intervals"]) == scenario.horizon.intervals * 2


def test_joined_and_split_by_replication_like_every_table(centre):
    scenario, run = centre
    joined = Run.concat([simulate_replication(scenario, 4, r, tables=ASKED) for r in range(2)])
    assert_frame_equal(joined.backlog_intervals, run.backlog_intervals, check_exact=True)
    one = run.replication(1).backlog_intervals
    alone = simulate_replication(scenario, 4, 1, tables=ASKED).backlog_intervals
    assert_frame_equal(one.drop(columns="replication"), alone, check_exact=True)
    not_built = Run.concat([simulate_replication(scenario, 4, r) for r in range(2)])
    assert not len(not_built.backlog_intervals.columns)


def test_saved_only_when_built_and_read_back(centre, tmp_path):
    scenario, run = centre
    for name in ("asked", "plain"):
        (tmp_path / name).mkdir()
    run.save(tmp_path / "asked")
    back = Run.load(tmp_path / "asked")
    assert_frame_equal(back.backlog_intervals, run.backlog_intervals, check_categorical=False)
    assert len(pd.read_csv(tmp_path / "asked" / "backlog_intervals.csv")) == len(run.backlog_intervals)
    simulate(scenario, seed=4).save(tmp_path / "plain")
    assert not list((tmp_path / "plain").glob("backlog_intervals.*"))
    assert (tmp_path / "plain" / "backlog.csv").is_file()


def test_a_voice_only_run_asked_for_it_has_it_empty():
    run = simulate(library.load_scenario("models/helpdesk.yaml"), seed=1, tables=ASKED)
    table = run.backlog_intervals
    assert table.empty and list(table.columns)[:5] == ["day", "interval", "interval_start", "call_type", "channel"]


# ---------------------------------------------------------------- command line and report


def test_run_backlog_per_interval_writes_the_table(tmp_path):
    out = tmp_path / "out"
    result = bposim("run", "models/omnichannel_bpo.yaml", "--out", out, "--backlog-per", "interval", "--seed", "2")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "backlog_intervals.csv")
    days = pd.read_csv(out / "backlog.csv")
    assert len(table) == 5 * 24 * 2 and set(table["call_type"]) == set(days["call_type"])
    last = table[table["interval"] == 23].set_index(["day", "call_type"])["open_at_end"]
    assert last.to_dict() == days.set_index(["day", "call_type"])["open_at_end"].to_dict()
    parquet = pd.read_parquet(out / "backlog_intervals.parquet")
    assert parquet["open_at_end"].tolist() == table["open_at_end"].tolist()
    plain = tmp_path / "plain"
    assert bposim("run", "models/omnichannel_bpo.yaml", "--out", plain).returncode == 0
    assert not (plain / "backlog_intervals.csv").exists() and (plain / "backlog.csv").is_file()


def test_run_backlog_per_interval_is_refused_without_deferred_work(tmp_path):
    result = bposim("run", "models/helpdesk.yaml", "--out", tmp_path / "out", "--backlog-per", "interval")
    assert_refused(result, "--backlog-per interval", "models/helpdesk.yaml has no deferred work", "channels: voice")
    assert not (tmp_path / "out").exists()


def test_run_backlog_per_refuses_bad_values_and_a_missing_out(tmp_path):
    bad = bposim("run", "models/omnichannel_bpo.yaml", "--out", tmp_path, "--backlog-per", "hour")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "'hour' is not one of 'day', 'interval'" in " ".join(bad.stderr.replace("│", " ").split())
    nowhere = bposim("run", "models/omnichannel_bpo.yaml", "--backlog-per", "interval")
    assert_refused(nowhere, "--backlog-per interval: give --out DIRECTORY too", "backlog_intervals.csv")


def test_the_run_report_draws_open_items_per_interval(tmp_path):
    out = tmp_path / "out"
    result = bposim("run", "models/omnichannel_bpo.yaml", "--out", out, "--report", "--replications", "2")
    assert result.returncode == 0, result.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Open deferred items, interval by interval" in page
    assert "email_en: open" in page and "backoffice_case: overdue" in page
    assert (out / "backlog_intervals.csv").is_file()  # the chart's numbers beside it


def test_a_report_without_the_table_says_how_to_get_it(centre, tmp_path):
    scenario, run = centre
    with_chart = run_report(run, tmp_path / "with.html").read_text(encoding="utf-8")
    plain = run_report(simulate(scenario, seed=4), tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "Open deferred items, interval by interval" in with_chart and "email_en: overdue" in with_chart
    assert "Open deferred items, interval by interval" not in plain and "--backlog-per interval" in plain


def test_the_chart_has_a_line_per_type_broken_over_each_night(centre):
    scenario, run = centre
    fig = channel_charts.backlog_over_intervals(run)
    assert [trace.name for trace in fig.data] == [
        "email_en: open",
        "email_en: overdue",
        "case_refund: open",
        "case_refund: overdue",
    ]
    days, intervals = scenario.horizon.days, scenario.horizon.intervals
    email = run.backlog_intervals[run.backlog_intervals["call_type"] == "email_en"]
    means = email.groupby(["day", "interval"])["open_at_end"].mean().to_numpy()
    y = np.array(fig.data[0].y, dtype=float)
    assert np.isnan(y).sum() == days - 1 and len(y) == days * (intervals + 1) + days - 1
    segments = np.split(y, np.flatnonzero(np.isnan(y)))
    for day, segment in enumerate(segments):
        segment = segment[~np.isnan(segment)]
        assert segment[1:].tolist() == means[day * intervals : (day + 1) * intervals].tolist()  # after the opening
    x = np.array(fig.data[0].x, dtype=float)
    assert x[0] == 8.0 and x[intervals] == 16.0 and x[intervals + 2] == 32.0  # 08:00, 16:00, the next day's 08:00
    assert len(fig.layout.shapes) == days - 1  # the nights, shaded


def test_on_a_calendar_the_intervals_carry_dates_and_closed_intervals_receive_nothing():
    """On the weekly model (short Saturdays, closed Sundays, a holiday): the per-interval backlog has the date,
    weekday and open columns of the other tables, nothing arrives in a closed interval, items are conserved over
    closed days, and the intervals agree with the days and with a count from the calls table."""
    scenario = library.load_scenario(Path(__file__).resolve().parent.parent / "models" / "weekly_bpo.yaml")
    run = simulate(scenario, seed=3, replications=2, tables=(*Run.DEFAULT_TABLES, "backlog_intervals"))
    table = run.backlog_intervals
    assert {"date", "weekday", "open"} <= set(table.columns)
    dates = pd.to_datetime([scenario.horizon.date(d) for d in table["day"]])
    assert (table["date"].to_numpy() == dates.to_numpy()).all()
    assert (table["weekday"].astype(str) == [scenario.horizon.weekday(d) for d in table["day"]]).all()
    closed = ~table["open"]
    assert closed.any() and table.loc[closed, "arrived"].eq(0).all()
    assert_conserved(table)
    assert_agrees_with_the_days(run)
