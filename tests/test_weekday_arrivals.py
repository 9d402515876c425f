"""Arrivals per weekday (curves by day type, weekly volumes, date overrides), busyness correlated within a week,
absence by weekday and maintenance exempt from the service-level objective: each reproduces what it says, and bad
input is refused at the door."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim import simulate
from bposim.arrivals import busyness_factors, calendar_weeks, day_rates
from bposim.scenario import Scenario
from bposim.scenario.calendar import WEEKDAYS
from bposim.scenario.call_types import Busyness

START = datetime.date(2027, 3, 1)  # a Monday
HOURS = {"mon-fri": "08:00-12:00", "sat": "09:00-11:00", "sun": "closed"}  # a grid of 8 half-hours from 08:00
WEEKDAY_CURVE = [20, 40, 60, 80, 80, 60, 40, 20]
SATURDAY_RATE = 30.0


def scenario(arrivals: dict, weeks: int = 2, **more) -> Scenario:
    """A centre on dates, open weekdays 08:00-12:00 and Saturdays 09:00-11:00, served by plenty of agents."""
    data = {
        "name": "weekdays",
        "horizon": {"start_date": str(START), "weeks": weeks, "interval_minutes": 30, "opening_hours": HOURS},
        "call_types": [
            {"name": "voice", "arrivals": arrivals, "handle_time": {"distribution": "fixed", "value_seconds": 60}}
        ],
        "agent_groups": [{"name": "team", "skills": ["voice"], "agents": 20}],
        **more,
    }
    return Scenario.model_validate(data)


def first_attempts_by_date(run) -> dict[datetime.date, int]:
    calls = run.calls[run.calls["attempt"] == 1]
    counts = calls.groupby(calls["date"].dt.date).size()
    return {date: int(count) for date, count in counts.items()}


def expected_volumes(model: Scenario) -> dict[datetime.date, float]:
    """Each date's expected first attempts: its hourly rates over its open intervals."""
    horizon = model.horizon
    hours = horizon.interval_seconds / 3600.0
    rates = day_rates(model.call_types[0].arrivals, horizon)
    return {
        horizon.date(day): math.fsum(rates[day][i] for i in horizon.open_intervals(day)) * hours
        for day in range(horizon.days)
    }


def within_poisson(observed: float, expected: float, sigmas: float = 4.0) -> bool:
    return abs(observed - expected) <= sigmas * math.sqrt(max(expected, 1.0))


def test_day_type_curves_reproduce_their_volumes_and_closed_days_get_nothing():
    model = scenario({"by_day_type": {"mon-fri": {"per_interval": WEEKDAY_CURVE}, "sat": {"per_hour": SATURDAY_RATE}}})
    run = simulate(model, seed=3, replications=4, tables=("calls",))
    counts = first_attempts_by_date(run)
    per_weekday = {name: 0 for name in WEEKDAYS}
    for date, count in counts.items():
        per_weekday[WEEKDAYS[date.weekday()]] += count
    weekday_volume = sum(WEEKDAY_CURVE) * 0.5  # calls a weekday
    for name in WEEKDAYS[:5]:
        assert within_poisson(per_weekday[name], 4 * 2 * weekday_volume), (name, per_weekday[name])
    assert within_poisson(per_weekday["sat"], 4 * 2 * SATURDAY_RATE * 2.0)  # 2 hours open
    assert per_weekday["sun"] == 0
    saturday = run.calls[run.calls["weekday"] == "sat"]
    clock = saturday["arrival"] % 86_400 + 8 * 3600  # seconds after midnight (the grid starts at 08:00)
    assert (clock >= 9 * 3600).all() and (clock < 11 * 3600).all()


def test_a_plain_rate_keeps_meaning_every_open_day():
    model = scenario({"per_hour": 40})
    rates = day_rates(model.call_types[0].arrivals, model.horizon)
    assert all(day == [40.0] * model.horizon.intervals for day in rates)


def test_a_weekly_volume_is_shared_by_weekday_and_intraday_shape():
    shape = [1, 1, 2, 2, 2, 2, 1, 1]
    shares = {"mon": 0.3, "tue-fri": 0.15, "sat": 0.1}
    model = scenario({"weekly": {"volume": 2000, "weekday_share": shares, "intraday": shape}}, weeks=3)
    run = simulate(model, seed=5, replications=2, tables=("calls",))
    calls = run.calls[run.calls["attempt"] == 1]
    for name, share in (("mon", 0.3), ("wed", 0.15), ("sat", 0.1), ("sun", 0.0)):
        observed = int((calls["weekday"] == name).sum())
        assert within_poisson(observed, 2 * 3 * 2000 * share), (name, observed)
    # intraday: on weekdays the shape's weights over the 8 open intervals; Saturday keeps its own 4 open ones
    monday = calls[calls["weekday"] == "mon"]
    per_interval = np.bincount(((monday["arrival"] % 86_400) // 1800).astype(int), minlength=8)
    expected = np.array(shape) / sum(shape) * 2 * 3 * 2000 * 0.3
    assert all(within_poisson(o, e) for o, e in zip(per_interval, expected, strict=True)), per_interval
    saturday = calls[calls["weekday"] == "sat"]
    clock = saturday["arrival"] % 86_400 + 8 * 3600
    assert (clock >= 9 * 3600).all() and (clock < 11 * 3600).all()
    assert within_poisson(len(saturday), 2 * 3 * 2000 * 0.1)  # the share lands inside Saturday's hours


def test_a_date_override_applies_on_that_date_only():
    campaign, own = START + datetime.timedelta(days=7), START + datetime.timedelta(days=8)
    arrivals = {
        "per_interval": WEEKDAY_CURVE,
        "by_date": {str(campaign): {"factor": 2.5}, str(own): {"per_hour": 5}},
    }
    model = scenario(arrivals)
    expected = expected_volumes(model)
    usual = sum(WEEKDAY_CURVE) * 0.5
    assert expected[campaign] == pytest.approx(2.5 * usual)
    assert expected[own] == pytest.approx(5 * 4)
    assert expected[START] == pytest.approx(usual)
    run = simulate(model, seed=8, replications=6, tables=("calls",))
    counts = first_attempts_by_date(run)
    assert within_poisson(counts[campaign], 6 * 2.5 * usual)
    assert within_poisson(counts[own], 6 * 20)
    assert within_poisson(counts[START], 6 * usual)  # the Monday before the campaign
    sundays = [date for date in expected if date.weekday() == 6]
    assert not any(counts.get(date, 0) for date in sundays)


def test_busyness_without_week_correlation_draws_as_before():
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    shape = 1 / 0.2**2
    before = rng_b.gamma(shape, 1 / shape, 30)
    assert np.array_equal(busyness_factors(Busyness(cv=0.2), 30, rng_a), before)


@pytest.mark.parametrize("rho", [0.0, 0.4, 0.9])
def test_week_correlation_splits_the_variance_of_the_log_factor(rho: float):
    cv = 0.3
    weeks = 40_000
    factors = busyness_factors(Busyness(cv=cv, week_correlation=rho), 7 * weeks, np.random.default_rng(11))
    logs = np.log(factors).reshape(weeks, 7)
    assert factors.mean() == pytest.approx(1.0, abs=0.005)
    assert factors.std() / factors.mean() == pytest.approx(cv, rel=0.03)
    within = np.corrcoef(logs[:, 1], logs[:, 4])[0, 1]  # two days of one week
    across = np.corrcoef(logs[:-1, 6], logs[1:, 0])[0, 1]  # a Sunday and the next Monday: different weeks
    assert within == pytest.approx(rho, abs=0.02)
    assert across == pytest.approx(0.0, abs=0.02)
    sigma2 = math.log1p(cv**2)
    documented = (math.exp(rho * sigma2) - 1) / (math.exp(sigma2) - 1)
    assert np.corrcoef(factors.reshape(weeks, 7)[:, 2], factors.reshape(weeks, 7)[:, 5])[0, 1] == pytest.approx(
        documented, abs=0.02
    )


def test_calendar_weeks_run_monday_to_sunday():
    model = scenario({"per_hour": 10}, weeks=2)
    later = model.updated({"horizon.start_date": START + datetime.timedelta(days=5)})
    assert calendar_weeks(model.horizon).tolist() == [0] * 7 + [1] * 7
    assert calendar_weeks(later.horizon).tolist()[:4] == [0, 0, 1, 1]  # Saturday, Sunday, then Monday's week


def test_absence_by_weekday_shows_in_absent_agents_per_weekday():
    roster = [{"group": "team", "start": "08:00", "end": "12:00", "agents": 150}]
    model = scenario(
        {"per_hour": 60},
        weeks=3,
        roster=roster,
        absence={"probability": 0.02, "by_weekday": {"mon": 0.3, "sat": 0.1}},
    )
    run = simulate(model, seed=2, tables=("activities",))
    absent = run.activities[run.activities["kind"] == "absence"]
    weekday = (absent["start"] // 86_400).astype(int).map(lambda day: model.horizon.weekday(day))
    counts = weekday.value_counts()
    for name, probability in (("mon", 0.3), ("tue", 0.02), ("fri", 0.02), ("sat", 0.1)):
        n = 3 * 150
        sd = math.sqrt(n * probability * (1 - probability))
        assert abs(counts.get(name, 0) - n * probability) <= 4 * sd + 1, (name, counts.get(name, 0))
    assert counts.get("sun", 0) == 0


def test_shrinkage_by_weekday_sets_the_rate_of_its_days():
    roster = [{"group": "team", "start": "08:00", "end": "12:00", "agents": 30}]
    shrinkage = {
        "per_hour": 0.0,
        "duration": {"distribution": "fixed", "value_seconds": 60},
        "by_weekday": {"tue": 2.0},
    }
    model = scenario({"per_hour": 30}, weeks=2, roster=roster, shrinkage=shrinkage)
    run = simulate(model, seed=6, tables=("activities",))
    episodes = run.activities[run.activities["kind"] == "shrinkage"]
    weekdays = set((episodes["start"] // 86_400).astype(int).map(model.horizon.weekday))
    assert weekdays == {"tue"}
    every_day = model.updated({"shrinkage": {**shrinkage, "per_hour": 2.0, "by_weekday": None}})
    usual = simulate(every_day, seed=6, tables=("activities",)).activities
    usual = usual[(usual["kind"] == "shrinkage") & ((usual["start"] // 86_400) % 7 == 1)]  # Tuesdays
    assert abs(len(episodes) - len(usual)) <= 5 * math.sqrt(len(episodes) + len(usual)), (len(episodes), len(usual))


@settings(max_examples=40, deadline=None)
@given(
    volume=st.floats(0, 1e5),
    weights=st.lists(st.floats(0.01, 10), min_size=7, max_size=7),
    shape=st.lists(st.floats(0.0, 5), min_size=8, max_size=8).filter(lambda w: sum(w[2:6]) > 0),
)
def test_a_weekly_volume_lands_whole_in_the_open_days_of_a_week(volume, weights, shape):
    """Invariant: whatever the shares and shape, a full week without holidays offers the weekly volume."""
    weights[6] = 0.0  # Sunday is closed
    shares = {name: weight / sum(weights) for name, weight in zip(WEEKDAYS, weights, strict=True)}
    shares["sun"] = 0.0
    shares["mon"] += 1.0 - sum(shares.values())  # exactly 1 in floating point, within the tolerance
    model = scenario({"weekly": {"volume": volume, "weekday_share": shares, "intraday": shape}}, weeks=1)
    assert math.fsum(expected_volumes(model).values()) == pytest.approx(volume, rel=1e-9, abs=1e-6)


def exempt_model(exempt: bool) -> Scenario:
    tools = [
        {
            "name": "crm",
            "maintenance": [{"start": "09:15", "minutes": 30, "exempt": exempt}],
            "effects": [{"type": "slow", "multiplier": 3.0}],
        }
    ]
    data = scenario({"per_hour": 400}, weeks=1).model_dump(mode="python", exclude_none=True)
    data["agent_groups"][0]["agents"] = 8
    return Scenario.model_validate({**data, "tools": tools})


def test_exempt_maintenance_flags_its_intervals_and_the_summary_leaves_them_out():
    run = simulate(exempt_model(True), seed=4, replications=1, tables=("intervals",))
    intervals = run.intervals
    flagged = sorted(set(intervals.loc[intervals["exempt"], "interval_start"]))
    assert flagged == ["09:00", "09:30"]  # 09:15-09:45 overlaps both
    kept = intervals[~intervals["exempt"] & intervals["open"]]
    by_hand = kept["answered_within_threshold"].sum() / kept["offered"].sum()
    assert run.summary["service_level_excluding_exempt"] == pytest.approx(by_hand)
    assert run.summary["by_call_type"]["voice"]["service_level_excluding_exempt"] == pytest.approx(by_hand)
    assert run.summary["service_level_excluding_exempt"] != pytest.approx(run.summary["service_level"])


def test_without_exempt_windows_there_is_no_flag_nor_key():
    run = simulate(exempt_model(False), seed=4, tables=("intervals",))
    assert "exempt" not in run.intervals
    assert "service_level_excluding_exempt" not in run.summary


# --- refused at the door ----------------------------------------------------------------------------------------

WEEKLY_BPO = "models/weekly_bpo.yaml"


def model_data() -> dict:
    from cli_runner import ROOT

    return yaml.safe_load((ROOT / WEEKLY_BPO).read_text(encoding="utf-8"))


def _voice(data: dict) -> dict:
    return data["call_types"][0]["arrivals"]


def _short_curve(data: dict) -> None:
    _voice(data)["by_day_type"]["sat"]["per_interval"] = [10] * 10


def _twice(data: dict) -> None:
    _voice(data)["by_day_type"]["fri-sat"] = {"per_hour": 3}


def _outside(data: dict) -> None:
    _voice(data)["by_date"] = {"2027-05-03": {"factor": 1.2}}


def _shares(data: dict) -> None:
    data["call_types"][1]["arrivals"]["weekly"]["weekday_share"] = {"mon-fri": 0.2, "sat": 0.2}


def _no_start_date(data: dict) -> None:
    horizon = data["horizon"]
    for key in ("start_date", "opening_hours", "closed_dates"):
        del horizon[key]
    horizon.update({"start": "08:00", "end": "20:00"})


@pytest.mark.parametrize(
    ("edit", "pieces"),
    [
        (_short_curve, ["call_types[0].arrivals.by_day_type.sat.per_interval", "10 values given", "24 intervals"]),
        (_twice, ["call_types[0].arrivals.by_day_type.fri-sat", "fri is also in 'mon-fri'; give each weekday once"]),
        (_outside, ["call_types[0].arrivals.by_date.2027-05-03", "outside the horizon, 2027-03-01 to 2027-03-28"]),
        (_shares, ["call_types[1].arrivals.weekly", "weekday_share sums to 1.2", "must sum to 1"]),
        (
            _no_start_date,
            [
                "call_types[0].arrivals.by_day_type: by_day_type needs horizon.start_date",
                "call_types[0].arrivals.by_date: by_date needs horizon.start_date",
                "call_types[1].arrivals.weekly: weekly needs horizon.start_date",
                "absence.by_weekday: by_weekday needs horizon.start_date",
            ],
        ),
    ],
    ids=["curve-length", "weekday-twice", "date-outside", "shares-not-summing", "no-start-date"],
)
def test_bad_calendar_arrivals_are_refused_by_validate(tmp_path, edit, pieces):
    data = model_data()
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert_refused(bposim("validate", path), *pieces, source=path)


def test_validate_describes_the_weekday_volumes():
    result = bposim("validate", WEEKLY_BPO)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    model = Scenario.model_validate(model_data())
    voice = expected_volumes(model)
    monday, saturday = round(voice[START]), round(voice[START + datetime.timedelta(days=5)])
    assert f"voice: mon-fri {monday:,}, sat {saturday:,} a day; 2027-03-15 ×1.4" in text
    assert f"email: mon {round(640 * 0.24)}, tue-fri {round(640 * 0.16)}, sat {round(640 * 0.12)} a day" in text


def test_run_names_the_exempt_windows_and_the_service_level_without_them(tmp_path):
    result = bposim("run", WEEKLY_BPO, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Exempt maintenance, every day (outside the service-level objective): telephony 19:30-20:00" in text
    summary = yaml.safe_load((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    voice = summary["by_call_type"]["voice"]
    assert f"voice {voice['service_level_excluding_exempt']:.1%}" in text
