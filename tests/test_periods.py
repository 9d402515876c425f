"""Service level over the period a contract measures it (interval, day, week, month): each period's figures are
the pooled counts of its calls (or of the deferred items due in it), an interval period gives the intervals
table's numbers, the periods partition the open days, P(met) and its Wilson interval hold where the outcome is
known, week and month need dates, and a sweep's met_target asks every period of every call type."""

from __future__ import annotations

import datetime
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bposim import simulate
from bposim.experiment.tables import kpi_row
from bposim.periods import Z95, horizon_periods, wilson
from bposim.run import Run, simulate_replication
from bposim.scenario import Scenario, ScenarioError
from bposim.scenario.calendar import WEEKDAYS

THURSDAY = datetime.date(2027, 2, 25)  # two weeks from a Thursday: partial ISO weeks and months at both ends
LIVE = ("answered", "abandoned", "blocked", "unserved", "dropped")  # the outcomes an offered live call ends in


def centre(
    agents: int = 3,
    period: str = "week",
    email: bool = False,
    definition: str = "offered",
    start_date: datetime.date | None = THURSDAY,
    email_period: str | None = None,
) -> dict:
    """A small centre's plain data: voice (and email) from 08:00 to 12:00 over 14 days, closed on Sundays and on
    one holiday when on dates."""
    call_types = [
        {
            "name": "voice",
            "arrivals": {"per_hour": 50},
            "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            "patience": {"distribution": "exponential", "mean_seconds": 90},
        }
    ]
    skills = [{"call_type": "voice"}]
    if email:
        call_types.append(
            {
                "name": "email",
                "channel": "email",
                "arrivals": {"per_hour": 12},
                "handle_time": {"distribution": "exponential", "mean_seconds": 300},
                "service_level": {"threshold_hours": 8, "target": 0.7}
                | ({"period": email_period} if email_period else {}),
            }
        )
        skills.append({"call_type": "email"})
    horizon: dict = {"start": "08:00", "end": "12:00", "interval_minutes": 30, "days": 14}
    if start_date is not None:
        horizon |= {"start_date": start_date.isoformat(), "opening_hours": {"sun": "closed"}}
        horizon["closed_dates"] = [(start_date + datetime.timedelta(days=5)).isoformat()]
    return {
        "name": "periods",
        "horizon": horizon,
        "service_level": {"threshold_seconds": 20, "target": 0.8, "definition": definition, "period": period},
        "call_types": call_types,
        "agent_groups": [{"name": "team", "agents": agents, "skills": skills}],
    }


def scenario(**options) -> Scenario:
    return Scenario.model_validate(centre(**options))


def _calendar_key(date: datetime.date, kind: str) -> str:
    """The ISO week, month or day of a date, as text: 2027-W08, 2027-03, 2027-03-01."""
    if kind == "week":
        year, week, _ = date.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{date.year}-{date.month:02d}" if kind == "month" else date.isoformat()


def brute_force_live(run: Run, kind: str, definition: str) -> pd.DataFrame:
    """Per replication and period key: the live voice calls' denominator and answered within 20 s, call by call."""
    calls = run.calls[(run.calls["call_type"] == "voice") & ~run.calls["warmup"] & (run.calls["path"] != "callback")]
    calls = calls.assign(
        key=[_calendar_key(date.date(), kind) for date in calls["date"]],
        offered=calls["outcome"].isin(LIVE),
        answered=calls["outcome"] == "answered",
        within=(calls["outcome"] == "answered") & (calls["wait"] <= 20),
        short=(calls["outcome"] == "abandoned") & (calls["wait"] <= 20),
    )
    calls = calls.assign(replication=calls.get("replication", 0))
    sums = calls.groupby(["replication", "key"])[["offered", "answered", "within", "short"]].sum()
    counted = {"offered": sums["offered"], "answered": sums["answered"]}.get(
        definition, sums["offered"] - sums["short"]
    )
    return pd.DataFrame({"counted": counted, "within": sums["within"]})


@pytest.mark.parametrize("kind", ["day", "week", "month"])
@pytest.mark.parametrize("definition", ["offered", "answered", "offered_less_short_abandons"])
def test_a_live_periods_figures_are_its_calls_pooled(kind: str, definition: str) -> None:
    run = simulate(scenario(period=kind, definition=definition), seed=3, replications=2)
    expected = brute_force_live(run, kind, definition)
    voice = run.periods[run.periods["call_type"] == "voice"]
    dates = run.scenario.horizon.dates()
    assert len(voice) == 2 * len(horizon_periods(run.scenario.horizon, kind)[0])
    for row in voice.itertuples():
        key = (row.replication, _calendar_key(dates[row.first_day], kind))
        counted, within = expected.loc[key] if key in expected.index else (0, 0)
        assert (row.counted, row.within) == (counted, within)
        assert row.service_level == pytest.approx(within / counted) if counted else math.isnan(row.service_level)
        assert row.met == (not row.service_level < 0.8)
        assert _calendar_key(dates[row.last_day], kind) == _calendar_key(dates[row.first_day], kind)
    # every call of an open day is in some period: the periods' counts add up to the horizon's
    assert voice["within"].sum() == expected["within"].sum() and voice["counted"].sum() == expected["counted"].sum()


def test_an_interval_period_gives_the_intervals_tables_numbers() -> None:
    run = simulate(scenario(period="interval"), seed=4, replications=2)
    intervals = run.intervals[run.intervals["open"]] if "open" in run.intervals else run.intervals
    periods = run.periods
    assert len(periods) == len(intervals)
    keys = ["replication", "day", "interval"]
    joined = periods.assign(day=periods["first_day"]).merge(intervals, on=keys, suffixes=("", "_interval"))
    assert len(joined) == len(periods)
    assert (joined["counted"] == joined["offered"]).all()
    assert (joined["within"] == joined["answered_within_threshold"]).all()
    np.testing.assert_array_equal(joined["service_level"], joined["service_level_interval"])
    assert (joined["met"] == ~(joined["service_level_interval"] < joined["target_interval"])).all()
    assert all(own["by_period"] is None for own in run.summary["periods"].values())


def test_the_default_period_is_the_interval_and_leaves_the_other_figures_as_they_were() -> None:
    data = centre(period="week")
    del data["service_level"]["period"]
    plain = simulate(Scenario.model_validate(data), seed=2)
    weekly = simulate(scenario(period="week"), seed=2)
    assert plain.summary["periods"]["voice"]["period"] == "interval"
    assert plain.scenario.service_level.period == "interval"
    for table in ("calls", "intervals", "backlog"):
        pd.testing.assert_frame_equal(getattr(plain, table), getattr(weekly, table))
    unchanged = {key: value for key, value in plain.summary.items() if key != "periods"}
    assert json.dumps(unchanged, default=str) == json.dumps(
        {key: value for key, value in weekly.summary.items() if key != "periods"}, default=str
    )


@pytest.mark.parametrize(("agents", "met"), [(12, 1.0), (1, 0.0)])
def test_p_met_is_one_for_an_overstaffed_centre_and_zero_for_an_understaffed_one(agents: int, met: float) -> None:
    replications = 3
    run = simulate(scenario(agents=agents, period="week"), seed=1, replications=replications)
    own = run.summary["periods"]["voice"]
    assert own["p_all_met"] == met and own["periods_met_share"] == met
    low, high = wilson(met, replications)
    assert (own["p_all_met_low"], own["p_all_met_high"]) == (low, high)
    # the Wilson interval at 1 of n is [n / (n + z²), 1]; at 0, [0, z² / (n + z²)]
    assert (low, high) == pytest.approx(
        (replications / (replications + Z95**2), 1.0) if met else (0.0, Z95**2 / (replications + Z95**2))
    )
    for item in own["by_period"]:
        assert item["p_met"] == met and (item["p_met_low"], item["p_met_high"]) == (low, high)
    assert run.periods["met"].eq(bool(met)).all()


def test_p_met_of_a_mixed_outcome_is_the_share_of_replications_with_its_wilson_interval() -> None:
    replications = 6
    run = simulate(scenario(agents=4, period="day"), seed=8, replications=replications)
    table = run.periods[run.periods["call_type"] == "voice"]
    met_by_period = table.groupby("label", sort=False)["met"].mean()
    items = {item["label"]: item for item in run.summary["periods"]["voice"]["by_period"]}
    assert 0 < met_by_period.mean() < 1, "the staffing should leave some days short"
    for label, share in met_by_period.items():
        assert items[label]["p_met"] == pytest.approx(share)
        low, high = wilson(share, replications)
        assert items[label]["p_met_low"] == pytest.approx(low) and items[label]["p_met_high"] == pytest.approx(high)
        level = table.loc[table["label"] == label, "service_level"]
        assert items[label]["service_level"] == pytest.approx(level.mean())
    every = table.groupby("replication")["met"].all()
    assert run.summary["periods"]["voice"]["p_all_met"] == pytest.approx(every.mean())


def test_concat_of_single_replications_pools_the_periods_as_simulate_does() -> None:
    data = scenario(agents=4, period="week", email=True)
    together = simulate(data, seed=5, replications=3)
    apart = Run.concat([simulate_replication(data, 5, r) for r in range(3)])
    assert json.dumps(apart.summary["periods"]) == json.dumps(together.summary["periods"])


def test_deferred_periods_are_the_backlogs_due_and_met_pooled() -> None:
    run = simulate(scenario(period="interval", email=True, email_period="week"), seed=6, replications=2)
    backlog = run.backlog.assign(key=[_calendar_key(d.date(), "week") for d in run.backlog["date"]])
    sums = backlog.groupby(["replication", "key"])[["due", "met_due"]].sum()
    email = run.periods[run.periods["call_type"] == "email"]
    dates = run.scenario.horizon.dates()
    assert len(email) and (email["period"] == "week").all()
    for row in email.itertuples():
        due, met = sums.loc[(row.replication, _calendar_key(dates[row.first_day], "week"))]
        assert (row.counted, row.within) == (due, met)
        assert row.service_level == pytest.approx(met / due)
        assert row.target == 0.7
    assert email["counted"].sum() == run.backlog["due"].sum()


def test_deferred_work_by_the_interval_is_measured_by_the_day() -> None:
    run = simulate(scenario(period="interval", email=True), seed=6)
    email = run.periods[run.periods["call_type"] == "email"]
    open_days = run.backlog[run.backlog["open"]] if "open" in run.backlog else run.backlog
    assert (email["period"] == "day").all() and email["interval"].eq(-1).all()
    assert run.summary["periods"]["email"]["period"] == "interval"
    assert email["first_day"].tolist() == open_days["day"].tolist()
    assert email["counted"].tolist() == open_days["due"].tolist()


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(datetime.date(2024, 1, 1), datetime.date(2030, 12, 31)),
    days=st.integers(1, 75),
    closed_weekdays=st.sets(st.sampled_from(WEEKDAYS), max_size=6),
    holidays=st.sets(st.integers(0, 74), max_size=5),
    kind=st.sampled_from(["interval", "day", "week", "month"]),
)
def test_periods_partition_the_open_days(start, days, closed_weekdays, holidays, kind) -> None:
    data = centre(start_date=start)
    data["horizon"] |= {
        "days": days,
        "opening_hours": {weekday: "closed" for weekday in closed_weekdays} or {"mon-sun": "08:00-12:00"},
        "closed_dates": sorted({(start + datetime.timedelta(days=d)).isoformat() for d in holidays if d < days}),
    }
    try:
        horizon = Scenario.model_validate(data).horizon
    except ScenarioError:  # a horizon with no open day
        assume(False)
    periods, grid = horizon_periods(horizon, kind)
    dates = horizon.dates()
    open_days = [d for d in range(days) if len(horizon.open_intervals(d))]
    covered = sorted(day for period in periods for day in range(period.first_day, period.last_day + 1))
    if kind == "interval":
        assert [(p.first_day, p.interval) for p in periods] == [
            (d, i) for d in open_days for i in horizon.open_intervals(d)
        ]
    else:
        assert len(covered) == len(set(covered)), "a day in two periods"
        assert [d for d in covered if d in open_days] == open_days, "an open day in no period"
        for index, period in enumerate(periods):
            span = range(period.first_day, period.last_day + 1)
            assert any(d in open_days for d in span), "a period without an open day"
            keys = {_calendar_key(dates[d], kind) for d in span}
            assert len(keys) == 1
            assert all((grid[d] == index).all() for d in span)
            if kind == "week":
                whole = 7
            elif kind == "month":
                first = dates[period.first_day].replace(day=1)
                whole = ((first + datetime.timedelta(days=32)).replace(day=1) - first).days
            else:
                whole = 1
            inside = sum(1 for date in dates if _calendar_key(date, kind) == next(iter(keys)))
            assert period.partial == (inside < whole)
    closed = [d for d in range(days) if d not in open_days]
    if kind in ("interval", "day"):
        assert all((grid[d] == -1).all() for d in closed)
    assert len({p.label for p in periods}) == len(periods)


def test_week_and_month_need_a_start_date(tmp_path) -> None:
    data = centre(start_date=None, period="week")
    data["call_types"][0]["service_level"] = {"period": "month"}
    path = tmp_path / "no_dates.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert_refused(
        bposim("validate", path),
        "service_level.period: period 'week' needs horizon.start_date",
        "call_types[0].service_level.period: period 'month' needs horizon.start_date",
        source=path,
    )
    data = centre(start_date=None, period="day")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = bposim("validate", path)
    assert result.returncode == 0, result.stderr
    data["service_level"]["period"] = "fortnight"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert_refused(bposim("validate", path), "service_level.period", "interval", "month", source=path)


def test_bposim_run_prints_the_service_level_by_period(tmp_path) -> None:
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(centre(agents=12, period="week")), encoding="utf-8")
    result = bposim("run", path, "--replications", "2", "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Service level by period" in text
    assert "week of Mon 22 Feb (partial)" in text and "week of Mon 1 Mar" in text
    assert "voice: P(every week meets 80/20) = 1.00 (0.34–1.00)" in text
    saved = pd.read_parquet(tmp_path / "out" / "periods.parquet")
    assert set(saved["period"]) == {"week"} and saved["partial"].any()
    assert "Service level by period" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_a_sweeps_met_target_asks_every_period_of_every_call_type() -> None:
    by_day = scenario(agents=4, period="day")
    by_interval = scenario(agents=4, period="interval")
    outcomes = []
    for replication in range(6):
        run = simulate_replication(by_day, 9, replication)
        row = kpi_row(run)
        every_day = bool(run.periods["met"].all())
        assert row["met_target"] == every_day
        assert row["voice.all_periods_met"] == float(every_day)
        assert row["voice.periods_met_share"] == pytest.approx(run.periods["met"].mean())
        assert row["voice.service_level_period"] == "day"
        plain = kpi_row(simulate_replication(by_interval, 9, replication))
        assert plain["met_target"] == (plain["service_level"] >= 0.8)
        outcomes.append((row["met_target"], plain["met_target"]))
    assert any(horizon and not daily for daily, horizon in outcomes), "no replication met overall but missed a day"


def test_a_sweep_by_the_day_reports_every_cells_chance_of_meeting_every_day(tmp_path) -> None:
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(centre(period="day", start_date=None)), encoding="utf-8")
    experiment = {
        "name": "daily",
        "model": "model.yaml",
        "replications": 3,
        "seed": 3,
        "factors": {"agent_groups.team.agents": [3, 12]},
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(experiment), encoding="utf-8")
    result = bposim("sweep", tmp_path / "exp.yaml", "--workers", "1", "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    results = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert (results["voice.service_level_period"] == "day").all()
    assert (results["met_target"] == (results["voice.all_periods_met"] == 1)).all()
    assert results.loc[results["agent_groups.team.agents"] == 12, "met_target"].all()
    report = " ".join((tmp_path / "out" / "report.html").read_text(encoding="utf-8").split())
    assert "Service level by period" in report and "P(every period met)" in report
    assert f"1.00 ({wilson(1.0, 3)[0]:.2f}–1.00)" in report


@pytest.mark.parametrize(("agents", "dimmed"), [(3, True), (4, False)])
def test_the_run_reports_chart_has_a_bar_per_period_dimmed_where_it_mostly_missed(tmp_path, agents, dimmed) -> None:
    from bposim.period_views import period_chart
    from bposim.report.run import run_report

    run = simulate(scenario(agents=agents, period="day"), seed=8, replications=6)
    items = run.summary["periods"]["voice"]["by_period"]
    figure = period_chart(run.summary)
    bars = [trace for trace in figure.data if trace.type == "bar"]
    targets = [trace for trace in figure.data if trace.type == "scatter"]
    assert len(bars) == len(targets) == 1
    assert list(bars[0].y) == [item["service_level"] for item in items]
    assert list(targets[0].y) == [run.summary["periods"]["voice"]["target"]] * len(items)
    shown = [opacity < 1 for opacity in bars[0].marker.opacity]
    assert shown == [item["p_met"] < 0.5 for item in items]
    assert shown == [dimmed] * len(items)  # 3 agents miss nearly every day, 4 meet most days
    by_interval = scenario(agents=agents, period="interval")
    assert period_chart(simulate(by_interval, seed=8, replications=2).summary) is None
    html = run_report(run, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Service level by period (bars dimmed" in html
