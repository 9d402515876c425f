"""`bposim fit`: a history simulated from known parameters is fitted back within stated tolerances (arrival rates per
weekday × interval, handle-time and wrap-up laws, patience, balking, busyness); the forecast's trend and error
measures, the busyness estimator and the YAML writer hold on their own; every bad file is refused with exit status
2 naming the file, row or column and what is allowed; and the command writes a scenario that validates and runs."""

from __future__ import annotations

import datetime
import io
import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st

import bposim as bp
from bposim.fitting import FitError, fit, synthetic
from bposim.fitting.forecast import Grid, busyness_cv, forecast, holdout_errors
from bposim.fitting.yaml_text import dump
from bposim.scenario.calendar import weekdays_of
from bposim.scenario.loading import load_yaml_mapping

HISTORY_DIR = ROOT / "models" / "history"
KNOWN = HISTORY_DIR / "known.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROUND_TRIP_WEEKS = 6


def true_rates(call_type: str) -> dict[str, np.ndarray]:
    """The known scenario's calls per hour per interval, per weekday."""
    entry = next(entry for entry in load_yaml_mapping(KNOWN)["call_types"] if entry["name"] == call_type)
    rates = {}
    for key, curve in entry["arrivals"]["by_day_type"].items():
        for weekday in weekdays_of(key):
            rates[WEEKDAYS[weekday]] = np.asarray(curve["per_interval"], dtype=float)
    return rates


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """The known centre simulated for six weeks, written as an ACD's files, fitted back with nothing held out."""
    folder = tmp_path_factory.mktemp("round_trip")
    known = bp.load_scenario(KNOWN).updated({"horizon.days": 7 * ROUND_TRIP_WEEKS})
    run = bp.simulate(known, seed=5)
    synthetic.interval_history(run).to_csv(folder / "history.csv", index=False)
    synthetic.call_log(run).to_csv(folder / "calls.csv", index=False)
    result = fit(KNOWN, folder / "fitted.yaml", folder / "history.csv", folder / "calls.csv", weeks=2, holdout_weeks=0)
    return result, yaml.safe_load((folder / "fitted.yaml").read_text(encoding="utf-8"))


def _call_type(data: dict, name: str) -> dict:
    return next(entry for entry in data["call_types"] if entry["name"] == name)


@pytest.mark.parametrize("call_type", ["orders", "support"])
def test_round_trip_arrivals_per_weekday_and_interval(round_trip, call_type):
    """Each weekday's day volume within 3.5 standard errors of the known one, each interval's rate within 5, and
    the rates on average within 12%. The standard error of a mean over n weeks of Poisson counts λ whose day
    carries a busyness factor of cv 0.08: √(λ/n + (0.08 λ)²/n), n the recency weights' effective number of weeks."""
    _, data = round_trip
    fitted = _call_type(data, call_type)["arrivals"]["by_day_type"]
    truth = true_rates(call_type)
    assert set(fitted) == set(truth)
    weights = 0.5 ** (np.arange(ROUND_TRIP_WEEKS) / 4)
    n = weights.sum() ** 2 / (weights**2).sum()
    errors = []
    for weekday, rates in truth.items():
        estimate = np.asarray(fitted[weekday]["per_interval"]) / 2  # calls per 30-minute interval
        counts = rates / 2
        day = counts.sum()
        assert abs(estimate.sum() - day) < 3.5 * math.sqrt(day / n + (0.08 * day) ** 2 / n), weekday
        open_ = counts > 0
        se = np.sqrt(counts[open_] / n + (0.08 * counts[open_]) ** 2 / n)
        z = (estimate[open_] - counts[open_]) / se
        assert np.abs(z).max() < 5, (weekday, z)
        assert (estimate[~open_] == 0).all()
        errors += list(np.abs(estimate[open_] - counts[open_]) / counts[open_])
    assert np.mean(errors) < 0.12


@pytest.mark.parametrize(
    ("call_type", "handle", "wrap", "patience"),
    [
        ("orders", ("lognormal", 240, 0.9), ("gamma", 30, 0.5), 150),
        ("support", ("gamma", 420, 0.7), ("lognormal", 45, 0.6), 240),
    ],
)
def test_round_trip_durations(round_trip, call_type, handle, wrap, patience):
    """The family each duration was drawn from wins on AIC; means within 4%, cv within 10%; patience's mean, from
    censored waits, within 12% (a few thousand abandons)."""
    _, data = round_trip
    entry = _call_type(data, call_type)
    for law, (family, mean, cv) in ((entry["handle_time"], handle), (entry["after_call_work"], wrap)):
        assert law["distribution"] == family
        assert law["mean_seconds"] == pytest.approx(mean, rel=0.04)
        assert law["cv"] == pytest.approx(cv, rel=0.10)
    fitted = entry["patience"]
    assert fitted["mean_seconds"] == pytest.approx(patience, rel=0.12)


def test_round_trip_patience_ignores_the_censoring_at_its_peril(round_trip):
    """Negative control: the mean wait of the abandoned callers alone is far below the patience; the censored fit
    is what brings it back."""
    result, _ = round_trip
    orders = result.calls["orders"]
    assert orders.abandoned_waits.mean() < 0.6 * 150
    assert orders.patience.censored == len(orders.answered_waits)


def test_round_trip_balking_and_busyness(round_trip):
    """Balking near the known 5% where the log shows balked callers, none where it shows none; busyness cv roughly
    the known 0.08 (36 days: the estimate's standard error is about 0.02)."""
    result, data = round_trip
    assert _call_type(data, "orders")["balking"]["probability"] == pytest.approx(0.05, abs=0.012)
    assert "balking" not in _call_type(data, "support")
    assert 0.03 < data["busyness"]["cv"] < 0.14
    assert result.history.busyness_days == 6 * ROUND_TRIP_WEEKS


def test_round_trip_horizon_follows_the_history(round_trip):
    """The forecast starts on the Monday after the history, for the weeks asked; the rest is the base scenario's."""
    result, data = round_trip
    last = result.history.last
    assert data["horizon"]["start_date"] == last + datetime.timedelta(days=7 - last.weekday())
    assert data["horizon"]["weeks"] == 2
    assert data["agent_groups"] == load_yaml_mapping(KNOWN)["agent_groups"]


# the forecast's parts, on histories made here


def _history(rates: np.ndarray, weeks: int, growth: float, cv: float, seed: int) -> pd.DataFrame:
    """Weekdays (mon-fri) of `weeks` weeks, one call type, Poisson counts at rates × (1 + growth)^week × a gamma day
    factor of coefficient of variation cv."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2027-01-04")
    for week in range(weeks):
        for weekday in range(5):
            factor = rng.gamma(1 / cv**2, cv**2) if cv else 1.0
            counts = rng.poisson(rates * (1 + growth) ** week * factor)
            for interval, count in enumerate(counts):
                rows.append((start + pd.Timedelta(days=7 * week + weekday), interval, "voice", count, week))
    frame = pd.DataFrame(rows, columns=["date", "interval", "call_type", "offered", "week"])
    return frame.assign(interval_start=28800 + 1800 * frame["interval"])


GRID = Grid(28800.0, 1800.0, 8)
RATES = np.array([20, 40, 60, 80, 80, 60, 40, 20], dtype=float)


def test_a_clear_trend_is_applied_and_projected_to_the_horizon():
    """Growth of 5% a week over ten weeks: the trend is applied and the forecast for the horizon's middle is near
    the rate there; without growth no trend is applied."""
    history = _history(RATES, 10, 0.05, 0.0, seed=1)
    middle = pd.Timestamp("2027-01-04") + pd.Timedelta(weeks=12)
    fitted = forecast(history, GRID, middle)
    assert fitted.trend.applied and fitted.trend.t_value > 2
    expected = RATES.sum() * 1.05**12
    assert fitted.curves["voice"]["mon"].sum() == pytest.approx(expected, rel=0.08)
    flat = forecast(_history(RATES, 10, 0.0, 0.0, seed=2), GRID, middle)
    assert not flat.trend.applied
    assert flat.curves["voice"]["mon"].sum() == pytest.approx(RATES.sum(), rel=0.06)


def test_busyness_estimator_recovers_the_day_factor_and_sees_none_in_poisson_days():
    """cv 0.2 over 60 days comes back within 0.05; pure Poisson days give none (or a trace)."""
    cv, days = busyness_cv(_history(RATES * 3, 12, 0.0, 0.2, seed=3))
    assert days == 60
    assert cv == pytest.approx(0.2, abs=0.05)
    poisson, _ = busyness_cv(_history(RATES * 3, 12, 0.0, 0.0, seed=4))
    assert poisson is None or poisson < 0.04


def test_holdout_errors_are_zero_for_a_perfect_forecast_and_scale_with_a_bias():
    history = _history(RATES, 2, 0.0, 0.0, seed=5)
    perfect = holdout_errors(history, history["offered"].astype(float))
    assert (perfect[["mape", "wape"]] == 0).all().all()
    biased = holdout_errors(history, history["offered"] * 1.1)
    assert biased["wape"].to_numpy() == pytest.approx([0.1, 0.1])


scalars = st.one_of(
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.text(st.sampled_from("ab :#-,'\"\t[]{}"), min_size=110, max_size=200),  # long ones are folded over lines
    st.booleans(),
    st.none(),
    st.dates(),
)
keys = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)
documents = st.dictionaries(
    keys,
    st.recursive(scalars, lambda inner: st.lists(inner, max_size=14) | st.dictionaries(keys, inner, max_size=4)),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(documents, st.data())
def test_the_yaml_writer_reads_back_as_the_data_with_its_comments(document, data):
    """Whatever plain data, with comments on any top-level key, `yaml.safe_load` reads the text back as the data,
    and every comment is in it."""
    commented = data.draw(st.sets(st.sampled_from(sorted(document))) if document else st.just(set()))
    comments = {(key,): [f"from {key}\u2028n = 3"] for key in commented}
    text = dump(document, comments, ["header"])
    assert yaml.safe_load(text) == document
    assert text.count("# from ") == len(commented)


# bad files, through the command line


BASE_HISTORY = """Date,Interval,Queue,Offered,Handled,Abandoned,AHT
2027-01-04,08:00,orders,10,9,1,250
2027-01-04,08:30,orders,12,11,1,260
2027-01-04,09:00,orders,14,14,0,240
2027-01-05,08:00,orders,11,10,1,255
2027-01-05,08:30,orders,13,12,1,245
2027-01-05,09:00,orders,12,12,0,250
"""


def _refused(path, *pieces: str, **files) -> None:
    """fit() refuses the files with a FitError naming `path`, every piece in its message, and writes nothing."""
    out = path.parent / "out.yaml"
    with pytest.raises(FitError) as refused:
        fit(KNOWN, out, holdout_weeks=0, **files)
    assert refused.value.source == str(path)
    message = " ".join(str(refused.value).split())
    for piece in pieces:
        assert piece in message, (piece, message)
    assert not out.exists()


def _refused_history(tmp_path, text: str, *pieces: str) -> None:
    path = tmp_path / "history.csv"
    path.write_text(text, encoding="utf-8")
    _refused(path, *pieces, history_path=path)


def test_a_good_small_history_fits(tmp_path):
    """The small history the bad cases spoil fits as it is (so each refusal below is the spoilt cell's doing)."""
    path = tmp_path / "history.csv"
    path.write_text(BASE_HISTORY, encoding="utf-8")
    result = bposim("fit", path, "--scenario", KNOWN, "--out", tmp_path / "out.yaml", "--holdout-weeks", 0)
    assert result.returncode == 0, result.stderr
    assert "'Queue' → call_type" in result.stdout
    assert bposim("validate", tmp_path / "out.yaml").returncode == 0


@pytest.mark.parametrize(
    ("spoil", "pieces"),
    [
        (lambda t: t.replace(",Abandoned", ",Lost"), ["missing column 'abandoned'", "abandons", "headers in the file"]),
        (
            lambda t: t.replace("2027-01-05,08:30", "2027-13-05,08:30"),
            ["row 6, column 'Date': '2027-13-05'", "YYYY-MM-DD"],
        ),
        (lambda t: t.replace("orders,12,11,1", "orders,-12,11,1"), ["row 3, column 'Offered'", "whole numbers ≥ 0"]),
        (lambda t: t.replace("orders,12,11,1", "orders,12.5,11,1"), ["row 3, column 'Offered'", "whole numbers"]),
        (lambda t: t.replace("2027-01-04,08:30,orders,12,11,1,260\n", ""), ["orders on 2027-01-04: no row for 08:30"]),
        (lambda t: t.replace("2027-01-04,08:30", "2027-01-04,08:15"), ["interval 08:15 is not on the scenario's grid"]),
        (lambda t: t.replace("2027-01-04,08:30", "2027-01-04,08:00"), ["given twice"]),
        (lambda t: t.replace("2027-01-04,08:30", "2027-01-04,8h30"), ["row 3, column 'Interval'", "HH:MM"]),
        (
            lambda t: t.replace(",orders,", ",billing,"),
            ["call type 'billing' in the history is not in the base", "orders, support"],
        ),
        (lambda t: t.replace("orders,10,9,1", "orders,10,10,1"), ["handled + abandoned (10 + 1) exceed offered (10)"]),
        (lambda t: t.replace(",250\n", ",fast\n"), ["row 2, column 'AHT': 'fast'", "[hh:]mm:ss"]),
        (lambda t: t.split("\n")[0] + "\n", ["no rows under the header"]),
    ],
    ids=[
        "missing-column",
        "bad-date",
        "negative-count",
        "fraction",
        "gap",
        "off-grid",
        "twice",
        "bad-time",
        "unknown-call-type",
        "over-offered",
        "bad-aht",
        "empty",
    ],
)
def test_bad_histories_are_refused(tmp_path, spoil, pieces):
    _refused_history(tmp_path, spoil(BASE_HISTORY), *pieces)


BASE_LOG = "Arrival,Queue,Wait,Outcome,Talk,Wrap\n" + "".join(
    f"2027-01-04 08:{i:02d}:00,orders,{i % 7 * 5},{'abandoned' if i % 9 == 0 else 'answered'},"
    f"{'' if i % 9 == 0 else 100 + 13 * i},{'' if i % 9 == 0 else 10 + i % 5}\n"
    for i in range(1, 60)
)


@pytest.mark.parametrize(
    ("spoil", "pieces"),
    [
        (lambda t: t.replace(",Outcome,", ",Fate,"), ["missing column 'outcome'", "disposition"]),
        (
            lambda t: t.replace(",answered,", ",hung up,", 1),
            ["column 'Outcome': 'hung up'", "answered, abandoned or balked"],
        ),
        (lambda t: t.replace(",5,answered", ",-5,answered", 1), ["column 'Wait': -5", "seconds ≥ 0"]),
        (lambda t: t.replace("08:02:00", "yesterday"), ["row 3, column 'Arrival'", "YYYY-MM-DD HH:MM:SS"]),
        (lambda t: t.replace(",orders,", ",billing,"), ["call type 'billing' in the call log is not in the base"]),
        (lambda t: t.replace(",answered,126,", ",answered,,"), ["row 3, column 'Talk'", "needs its talk seconds"]),
    ],
    ids=["missing-column", "bad-outcome", "negative-wait", "bad-arrival", "unknown-call-type", "no-talk"],
)
def test_bad_call_logs_are_refused(tmp_path, spoil, pieces):
    path = tmp_path / "calls.csv"
    path.write_text(spoil(BASE_LOG), encoding="utf-8")
    _refused(path, *pieces, calls_path=path)


def test_the_command_refuses_a_bad_file_with_status_2_and_no_traceback(tmp_path):
    """The refusals above, through the command: one `error: FILE: ...` line each, exit status 2, nothing written."""
    history = tmp_path / "history.csv"
    history.write_text(BASE_HISTORY.replace("2027-01-04,08:30,orders,12,11,1,260\n", ""), encoding="utf-8")
    calls = tmp_path / "calls.csv"
    calls.write_text(BASE_LOG.replace(",answered,", ",hung up,", 1), encoding="utf-8")
    out = tmp_path / "out.yaml"
    result = bposim("fit", history, "--scenario", KNOWN, "--out", out, "--holdout-weeks", 0)
    assert_refused(result, "orders on 2027-01-04: no row for 08:30", source=history)
    result = bposim("fit", "--calls", calls, "--scenario", KNOWN, "--out", out)
    assert_refused(result, "column 'Outcome': 'hung up'", source=calls)
    assert not out.exists()


def test_a_good_small_call_log_fits_and_keeps_the_horizon(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(BASE_LOG, encoding="utf-8")
    result = bposim("fit", "--calls", path, "--scenario", KNOWN, "--out", tmp_path / "out.yaml")
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load((tmp_path / "out.yaml").read_text(encoding="utf-8"))
    assert data["horizon"] == load_yaml_mapping(KNOWN)["horizon"]
    assert _call_type(data, "orders")["handle_time"] != _call_type(load_yaml_mapping(KNOWN), "orders")["handle_time"]


@pytest.mark.parametrize(
    ("args", "pieces"),
    [
        ((), ["give an interval history (HISTORY) or a call log (--calls)"]),
        (
            ("--calls", HISTORY_DIR / "call_log.csv", "--weeks", 2),
            ["--weeks and --start-date", "need an interval history"],
        ),
        ((HISTORY_DIR / "interval_history.csv", "--start-date", "1 Feb"), ["--start-date: '1 Feb' is not a date"]),
    ],
    ids=["nothing", "weeks-without-history", "bad-start"],
)
def test_bad_flags_are_refused(tmp_path, args, pieces):
    result = bposim("fit", *args, "--scenario", KNOWN, "--out", tmp_path / "out.yaml")
    assert_refused(result, *pieces)


def test_calls_on_a_closed_weekday_are_noted_and_too_few_dates_keep_the_base_busyness(tmp_path):
    """A Sunday in the history while the base closes Sundays: said in the output and the file; one date per
    weekday cannot measure busyness, so the base's stays, with a comment saying so."""
    path = tmp_path / "history.csv"
    path.write_text(BASE_HISTORY + "2027-01-10,08:00,orders,5,5,0,250\n", encoding="utf-8")
    result = fit(KNOWN, tmp_path / "out.yaml", path, holdout_weeks=0)
    assert len(result.notes) == 1 and "5 calls on sun" in result.notes[0]
    text = (tmp_path / "out.yaml").read_text(encoding="utf-8")
    assert "calls on sun, a weekday the base scenario's opening hours close" in " ".join(text.split())
    assert yaml.safe_load(text)["busyness"] == {"cv": 0.08}
    assert "# busyness kept from the base scenario" in text
    assert fit(KNOWN, tmp_path / "plain.yaml", HISTORY_DIR / "interval_history.csv").notes == []


def test_holding_out_every_week_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(FitError) as refused:
        fit(KNOWN, tmp_path / "out.yaml", HISTORY_DIR / "interval_history.csv", holdout_weeks=4)
    assert refused.value.source == "--holdout-weeks"
    assert "4 held-out weeks leave no week to fit on" in str(refused.value)
    _refused(tmp_path / "missing.csv", "no such file", history_path=tmp_path / "missing.csv")


def test_an_excel_history_with_other_headers_fits(tmp_path):
    """Headers are matched whatever their case and punctuation ("CALLS_OFFERED", "Call Type", "avg handle time")."""
    table = pd.read_csv(io.StringIO(BASE_HISTORY))
    table.columns = [
        "REPORT DATE",
        "interval_start",
        "Call Type",
        "CALLS_OFFERED",
        "calls answered",
        "abandons",
        "Avg Handle Time",
    ]
    table.to_excel(tmp_path / "history.xlsx", index=False)
    result = bposim(
        "fit", tmp_path / "history.xlsx", "--scenario", KNOWN, "--out", tmp_path / "out.yaml", "--holdout-weeks", 0
    )
    assert result.returncode == 0, result.stderr
    assert "'CALLS_OFFERED' → offered" in result.stdout
    orders = _call_type(yaml.safe_load((tmp_path / "out.yaml").read_text(encoding="utf-8")), "orders")
    assert orders["arrivals"]["by_day_type"]["mon"]["per_interval"][:3] == [20.0, 24.0, 28.0]


# the command end to end


def test_fit_end_to_end_writes_a_scenario_that_validates_runs_and_says_where_each_number_came_from(tmp_path):
    out = tmp_path / "fitted.yaml"
    report = tmp_path / "calibration.html"
    result = bposim(
        "fit",
        HISTORY_DIR / "interval_history.csv",
        "--calls",
        HISTORY_DIR / "call_log.csv",
        "--scenario",
        KNOWN,
        "--out",
        out,
        "--weeks",
        1,
        "--report",
        report,
    )
    assert result.returncode == 0, result.stderr
    for piece in ("Arrivals forecast", "Forecast error on the 1 held-out week", "WAPE", "Busyness: cv", "lognormal"):
        assert piece in result.stdout
    text = out.read_text(encoding="utf-8")
    for piece in (
        "# handle_time: talk seconds of",
        "by least AIC",
        "right-censored",
        "# busyness.cv from the 24 daily",
        "4 Mondays (2027-01-04 to 2027-01-25)",
        "held-out week",
        "# balking:",
        "Regenerate: bposim fit",
    ):
        assert piece in " ".join(text.split()), piece
    assert bposim("validate", out).returncode == 0
    ran = bposim("run", out, "--format", "json")
    assert ran.returncode == 0, ran.stderr
    page = report.read_text(encoding="utf-8")
    for title in (
        "What was fitted",
        "Forecast against actual, held-out weeks",
        "orders: handle time and wrap-up",
        "support: patience",
        "The history&#x27;s days replayed",
    ):
        assert title in page, title


def test_the_committed_fitted_scenario_is_what_the_command_writes(tmp_path):
    """models/history/fitted.yaml is regenerated by the command its header gives (the date of writing aside)."""
    committed = (HISTORY_DIR / "fitted.yaml").read_text(encoding="utf-8")
    command = re.search(r"# Regenerate: (.*?)\n(?!# )", committed, re.S).group(1).replace("\n# ", " ")
    args = command.split()[2:]
    args[args.index("--out") + 1] = str(tmp_path / "fitted.yaml")
    result = bposim("fit", *args)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "fitted.yaml").read_text(encoding="utf-8")
    body = lambda text: text[text.index("\nname:") :]  # noqa: E731  (after the header, which names the date)
    assert body(written) == body(committed)


def test_the_replay_reproduces_the_history_roughly(round_trip):
    """The fitted model replaying the history's own days: its abandonment per call type over all the days within
    3 points of the history's, its service level within 6 points (the same centre, other random numbers)."""
    from bposim.fitting import calibrate

    result, _ = round_trip
    days = calibrate(result, seed=1, replications=2)
    for call_type, own in days.groupby("call_type"):
        weights = own["offered_history"]
        for kpi, tolerance in (("abandon_rate", 0.03), ("service_level", 0.06)):
            history = np.average(own[f"{kpi}_history"], weights=weights)
            model = np.average(own[f"{kpi}_simulated"], weights=weights)
            assert abs(history - model) < tolerance, (call_type, kpi, history, model)
    assert math.isclose(days["offered_simulated"].sum(), days["offered_history"].sum(), rel_tol=0.03)


def test_fit_errors_name_their_source():
    error = FitError("history.csv", ["row 3: bad"])
    assert str(error) == "history.csv: row 3: bad"
