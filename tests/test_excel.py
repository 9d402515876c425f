"""Answers in Excel and clock times: `--xlsx` workbooks read back with pandas, and the clock-time columns of the
CSV files, on a horizon on dates and on a single day."""

from __future__ import annotations

import datetime
import math

import openpyxl
import pandas as pd
import pytest
from cli_runner import ROOT, assert_refused, bposim

from bposim.excel import header, write_workbook

# the helpdesk on three dates, Friday to Sunday, four hours a day, with costs in euros
DATED = """\
name: Weekend helpdesk
horizon: {start: "08:00", end: "12:00", interval_minutes: 30, days: 3, start_date: 2027-03-05}
service_level: {threshold_seconds: 20, target: 0.80}
call_types:
  - name: support
    arrivals: {per_hour: 252}
    handle_time: {distribution: exponential, mean_seconds: 120}
    patience: {distribution: exponential, mean_seconds: 60}
agent_groups:
  - name: team
    skills: [support]
    agents: 12
costs:
  currency: EUR
  groups:
    - {group: team, per_paid_hour: 22}
"""
FRIDAY = datetime.date(2027, 3, 5)


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory):
    """`bposim run` of the dated helpdesk with --out and --xlsx."""
    folder = tmp_path_factory.mktemp("dated")
    scenario = folder / "weekend.yaml"
    scenario.write_text(DATED)
    result = bposim("run", scenario, "--seed", 3, "--out", folder / "out", "--xlsx", folder / "run.xlsx")
    assert result.returncode == 0, result.stderr
    assert f"Workbook: {folder / 'run.xlsx'}" in result.stdout
    return folder


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory):
    """`bposim run` of models/helpdesk.yaml (one day, no dates) with --out and --xlsx."""
    folder = tmp_path_factory.mktemp("one_day")
    result = bposim("run", ROOT / "models" / "helpdesk.yaml", "--out", folder / "out", "--xlsx", folder / "run.xlsx")
    assert result.returncode == 0, result.stderr
    return folder


def test_the_workbook_has_a_sheet_per_table_with_worded_headers(dated):
    sheets = pd.read_excel(dated / "run.xlsx", sheet_name=None)
    assert list(sheets) == ["KPIs", "Intervals", "Staffing", "Agents", "Periods", "Costs"]
    intervals = sheets["Intervals"]
    assert intervals.columns[0] == "Interval"
    assert {"Call type", "Offered", "Service level", "ASA (s)", "AHT (s)", "Abandon rate", "Threshold (s)"} <= set(
        intervals.columns
    )
    assert {"Busy (s)", "Logged in (s)", "Occupancy"} <= set(sheets["Agents"].columns)
    assert {"Amount (EUR)", "Unit cost (EUR)"} <= set(sheets["Costs"].columns)
    assert sheets["KPIs"]["Call type"].tolist()[0] == "all"


def test_intervals_are_dates_and_clock_times_and_the_figures_those_of_the_csv(dated):
    sheet = pd.read_excel(dated / "run.xlsx", sheet_name="Intervals")
    csv = pd.read_csv(dated / "out" / "intervals.csv")
    assert len(sheet) == len(csv) == 3 * 8
    expected = pd.to_datetime(csv["date"]) + pd.to_timedelta(csv["interval_start"] + ":00")
    assert sheet["Interval"].tolist() == expected.tolist()
    assert sheet["Interval"].iloc[0] == pd.Timestamp("2027-03-05 08:00")
    assert sheet["Interval"].iloc[-1] == pd.Timestamp("2027-03-07 11:30")
    # a KPI recomputed from the CSV's counts: service level = answered within threshold / offered
    row = 5
    recomputed = csv.loc[row, "answered_within_threshold"] / csv.loc[row, "offered"]
    assert sheet.loc[row, "Service level"] == pytest.approx(recomputed)
    assert sheet["ASA (s)"].tolist() == pytest.approx(csv["asa_seconds"].tolist(), nan_ok=True)
    assert sheet["Offered"].sum() == csv["offered"].sum()


def test_cells_are_numbers_and_dates_formatted_with_a_bold_frozen_header(dated):
    book = openpyxl.load_workbook(dated / "run.xlsx")
    sheet = book["Intervals"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    labels = [cell.value for cell in sheet[1]]
    first = {label: sheet.cell(row=2, column=labels.index(label) + 1) for label in labels}
    assert first["Interval"].is_date and first["Interval"].number_format == "ddd yyyy-mm-dd hh:mm"
    assert first["Interval"].value == datetime.datetime(2027, 3, 5, 8, 0)
    assert first["Service level"].data_type == "n" and first["Service level"].number_format == "0.0%"
    assert first["Offered"].data_type == "n" and isinstance(first["Offered"].value, int)
    assert first["ASA (s)"].number_format == "#,##0.0"
    assert sheet.column_dimensions["A"].width >= len("Mon 2027-03-01 08:30")


def test_csv_times_of_a_dated_horizon_are_dates_and_clock_times(dated):
    """calls.csv: each arrival, answer and end followed by its date and time; the date and weekday of the row."""
    calls = pd.read_csv(dated / "out" / "calls.csv", keep_default_na=False)
    columns = list(calls.columns)
    assert columns[columns.index("arrival") + 1] == "arrival_time"
    assert columns[columns.index("answer") + 1] == "answer_time"
    for row in calls.sample(50, random_state=1).itertuples(index=False):
        moment = datetime.datetime.combine(FRIDAY, datetime.time(8)) + datetime.timedelta(
            seconds=math.floor(row.arrival)
        )
        assert row.arrival_time == f"{moment:%Y-%m-%d %H:%M:%S}"
        assert row.date == f"{FRIDAY + datetime.timedelta(days=row.day):%Y-%m-%d}"
        assert row.weekday == ("fri", "sat", "sun")[row.day]
        assert row.arrival_time.startswith(row.date)
        if row.answer == "":
            assert row.answer_time == ""
    intervals = pd.read_csv(dated / "out" / "intervals.csv")
    assert (intervals["interval_time"] == intervals["date"] + " " + intervals["interval_start"] + ":00").all()
    assert set(intervals["weekday"]) == {"fri", "sat", "sun"}
    parquet = pd.read_parquet(dated / "out" / "calls.parquet")
    assert "arrival_time" not in parquet  # the tables keep seconds alone


def test_csv_times_of_a_single_day_are_clock_times(one_day):
    calls = pd.read_csv(one_day / "out" / "calls.csv", keep_default_na=False)
    for row in calls.head(200).itertuples(index=False):
        seconds = 8 * 3600 + math.floor(row.arrival)
        assert row.arrival_time == f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        if row.outcome == "answered":
            end = 8 * 3600 + math.floor(float(row.end))
            assert row.end_time == f"{end // 3600:02d}:{end % 3600 // 60:02d}:{end % 60:02d}"
    intervals = pd.read_csv(one_day / "out" / "intervals.csv")
    assert intervals["interval_time"].tolist()[:3] == ["08:00:00", "08:30:00", "09:00:00"]
    sheet = pd.read_excel(one_day / "run.xlsx", sheet_name="Intervals")
    assert [str(value) for value in sheet["Interval"][:2]] == ["08:00:00", "08:30:00"]
    assert "Day" not in sheet  # one day: the clock time alone


@pytest.mark.parametrize(
    ("name", "pieces"),
    [("missing/run.xlsx", ("does not exist",)), ("run.csv", ("ends in .xlsx", "run.xlsx"))],
)
@pytest.mark.parametrize("command", ["run", "sweep", "staff"])
def test_a_bad_workbook_path_is_refused_before_any_work(tmp_path, command, name, pieces):
    files = {
        "run": ROOT / "models" / "helpdesk.yaml",
        "sweep": ROOT / "experiments" / "outage_staffing.yaml",
        "staff": ROOT / "models" / "helpdesk_shifts.yaml",
    }
    result = bposim(command, files[command], "--xlsx", tmp_path / name)
    assert_refused(result, "--xlsx", *pieces)


def test_sweep_writes_its_cells_and_replications(tmp_path):
    experiment = tmp_path / "cuts.yaml"
    experiment.write_text(
        f"name: cuts\nmodel: {ROOT / 'models' / 'helpdesk.yaml'}\nreplications: 2\nseed: 1\n"
        "factors:\n  agent_groups.team.agents: [11, 13]\n"
    )
    result = bposim("sweep", experiment, "--workers", "1", "--out", tmp_path / "results", "--xlsx", tmp_path / "s.xlsx")
    assert result.returncode == 0, result.stderr
    sheets = pd.read_excel(tmp_path / "s.xlsx", sheet_name=None)
    assert list(sheets) == ["Cells", "Replications"]
    cells, runs = sheets["Cells"], sheets["Replications"]
    assert len(cells) == 2 and len(runs) == 4
    assert "Service level ± 95% CI" in cells and "agent_groups.team: Agents" in cells
    means = runs.groupby("Cell")["Service level"].mean()
    assert cells.set_index("Cell")["Service level"].tolist() == pytest.approx(means.tolist())


def test_headers_carry_their_units():
    assert header("asa_seconds") == "ASA (s)"
    assert header("oldest_age_hours") == "Oldest age (h)"
    assert header("total_cost", "EUR") == "Total cost (EUR)"
    assert header("total_cost") == "Total cost"
    assert header("service_level_ci") == "Service level ± 95% CI"
    assert header("sales.service_level") == "sales: Service level"


def test_write_workbook_checks_its_path_and_names_sheets_as_excel_allows(tmp_path):
    table = pd.DataFrame({"call_type": ["a"], "service_level": [0.8], "when": [pd.Timestamp("2027-03-01 08:30")]})
    with pytest.raises(ValueError, match="ends in .xlsx"):
        write_workbook(tmp_path / "x.xls", {"T": table})
    with pytest.raises(ValueError, match="does not exist"):
        write_workbook(tmp_path / "none" / "x.xlsx", {"T": table})
    path = write_workbook(tmp_path / "x.xlsx", {"a/b: c?": table, "A/B: C?": table, "x" * 40: table})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["a b  c", "A B  C 2", "x" * 31]
    assert book["x" * 31]["C2"].value == datetime.datetime(2027, 3, 1, 8, 30)
    assert not list(tmp_path.glob(".*.tmp"))
    too_long = pd.DataFrame({"offered": range(1_048_576)})
    with pytest.raises(ValueError, match="'Calls' has 1,048,576 rows; a sheet holds 1,048,575"):
        write_workbook(tmp_path / "long.xlsx", {"Calls": too_long})
    assert not (tmp_path / "long.xlsx").exists()


def test_staff_writes_the_shifts_and_the_service_level(tmp_path):
    """bposim staff --xlsx on a daily roster: the shifts (their cost the paid hours at the scenario's 22 EUR an
    hour), the service level per call type and per interval, on the roster written by --out."""
    from bposim import load_scenario

    result = bposim(
        "staff",
        ROOT / "models" / "helpdesk_shifts.yaml",
        *("--replications", 3, "--max-rounds", 2, "--trim-trials", 0, "--workers", 1, "--quiet"),
        *("--out", tmp_path / "roster.yaml", "--xlsx", tmp_path / "roster.xlsx"),
    )
    assert result.returncode in (0, 1), result.stderr  # 1: a target missed on the fresh days, still written
    sheets = pd.read_excel(tmp_path / "roster.xlsx", sheet_name=None)
    assert list(sheets) == ["Shifts", "Service level", "Intervals"]
    shifts = sheets["Shifts"]
    assert shifts["Cost (EUR)"].tolist() == pytest.approx((shifts["Agents"] * shifts["Paid (h)"] * 22).tolist())
    roster = load_scenario(tmp_path / "roster.yaml").roster
    assert shifts["Agents"].sum() == sum(line.agents for line in roster)
    assert sheets["Service level"]["Call type"].tolist() == ["support"]
    starts = [str(value) for value in sheets["Intervals"]["Interval"]]
    assert starts[:2] == ["08:00:00", "08:30:00"]
