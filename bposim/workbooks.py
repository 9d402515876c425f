"""What each command's workbook holds (`--xlsx`): its tables with dates and clock times in place of seconds and
interval numbers, ready for `bposim.excel.write_workbook`.

- `bposim run`: KPIs (the summary per call type, as `--format csv` prints it), Intervals, Staffing, Agents, and
  where the run has them Backlog, Backlog by interval, Periods, Outages, Costs, Clients and Sites (a row per
  replication and site). The calls table stays in the CSV and Parquet files (a day of a large centre is more rows
  than a sheet reads comfortably).
- `bposim sweep`: Cells (the per-cell summary: means and 95% CI half-widths), with sites Sites (one row per cell ×
  site: cost, occupancy, paid hours, calls handled) and with clients Clients (one row per cell × client: revenue to
  service level), each KPI's mean and CI side by side, and Replications (one row per cell × replication).
- `bposim staff`: Shifts (a daily roster) or Schedule and Shift starts (weekly rosters: the named schedule),
  Service level (per call type on the fresh days) and Intervals (per call type and interval).
- `bposim compare`: Comparison (`bposim.compare`).

On a horizon with a `start_date` an interval is one date-and-time cell ("Mon 2027-03-01 08:30"); without, a clock
time ("08:30"), after the day when there are several. Times in seconds (an outage's start and end) become dates
and times the same way (`bposim.clocktimes.moments`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from bposim.clocktimes import interval_moments, moments, time_of_day
from bposim.scenario import Horizon
from bposim.scenario.common import clock_seconds

if TYPE_CHECKING:
    from bposim.optimise import RosterPlan, WeeklyPlan
    from bposim.run import Run

_CALENDAR = ("date", "weekday")  # the columns a day on dates has beside `day`
NOT_A_CURRENCY = "paid hours"  # a roster's cost unit where nothing is priced


def run_sheets(run: Run, kpis: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The sheets of `bposim run --xlsx`: `kpis` (the summary's rows) first, then the run's tables by the interval,
    by the agent and by the day; a table the run does not have (empty) is left out."""
    horizon = run.scenario.horizon
    sheets = {"KPIs": kpis}
    for title, table in (
        ("Intervals", run.intervals),
        ("Staffing", run.staffing),
        ("Backlog by interval", run.backlog_intervals),
    ):
        if len(table):
            sheets[title] = by_interval(table, horizon)
    sheets["Agents"] = run.agents
    if len(run.backlog):
        sheets["Backlog"] = by_day(run.backlog, horizon)
    if len(run.periods):
        sheets["Periods"] = run.periods
    if len(run.outages):
        sheets["Outages"] = with_moments(run.outages, ("start", "end"), horizon)
    if len(run.costs):
        sheets["Costs"] = run.costs
    if len(run.clients):
        sheets["Clients"] = run.clients
    if len(run.sites):
        sheets["Sites"] = run.sites
    return sheets


def by_interval(table: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """A table by day and interval with one `interval` column in place of day, date, weekday, interval and
    interval_start: the interval's start as a date and time on dates, else its clock time (after `day` when the
    horizon has several days)."""
    if horizon.calendar:
        when = interval_moments(table["day"].to_numpy(), table["interval"].to_numpy(), horizon).to_numpy()
    else:
        offset = horizon.start_seconds
        when = [time_of_day(offset + i * horizon.interval_seconds) for i in table["interval"].tolist()]
    keep_day = not horizon.calendar and horizon.days > 1
    dropped = ["interval", "interval_start", *_CALENDAR, *(() if keep_day else ("day",))]
    rest = table.drop(columns=[column for column in dropped if column in table])
    lead = [column for column in ("replication", "day") if column in rest]
    rest = rest[[*lead, *(column for column in rest.columns if column not in lead)]]
    rest.insert(len(lead), "interval", when)
    return rest


def by_day(table: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """A table by day with its date (a date cell) in place of day, date and weekday on dates; as it is without."""
    if not horizon.calendar or "date" not in table:
        return table
    rest = table.drop(columns=[c for c in ("day", *_CALENDAR) if c in table])
    rest.insert(0, "date", pd.to_datetime(table["date"]).to_numpy())
    return rest


def with_moments(table: pd.DataFrame, columns: tuple[str, ...], horizon: Horizon) -> pd.DataFrame:
    """The table with its columns of seconds as dates and times (`bposim.clocktimes.moments`)."""
    table = table.copy()
    for column in columns:
        table[column] = moments(table[column].to_numpy(dtype=float), horizon).to_numpy()
    return table


def sweep_sheets(cells: pd.DataFrame, results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The sheets of `bposim sweep --xlsx`: the per-cell summary and the results, one row per cell × replication;
    with sites and clients, their KPIs one row per cell × site and per cell × client (`per_owner`)."""
    from bposim.contracts import CELL_KPIS as CLIENT_KPIS
    from bposim.experiment.tables import factor_columns
    from bposim.sites import CELL_KPIS as SITE_KPIS

    sheets = {"Cells": cells}
    factors = factor_columns(results)
    for title, owner, kpis in (("Sites", "site", SITE_KPIS), ("Clients", "client", CLIENT_KPIS)):
        table = per_owner(cells, factors, owner, kpis)
        if not table.empty:
            sheets[title] = table
    sheets["Replications"] = results
    return sheets


def per_owner(cells: pd.DataFrame, factors: list[str], owner: str, kpis: tuple[str, ...]) -> pd.DataFrame:
    """The cells' `<owner>.<name>.<kpi>` columns (and their `_ci`) as one row per cell and name: cell, the
    factors, `owner` (the site's or client's name), then each KPI's mean and 95% CI half-width (empty: none)."""
    first = f".{kpis[0]}"
    names = [
        column[len(owner) + 1 : -len(first)]
        for column in cells.columns
        if column.startswith(f"{owner}.") and column.endswith(first)
    ]
    rows = [
        {
            "cell": cell["cell"],
            **{factor: cell[factor] for factor in factors},
            owner: name,
            **{
                column: cell.get(f"{owner}.{name}.{column}", float("nan"))
                for kpi in kpis
                for column in (kpi, f"{kpi}_ci")
            },
        }
        for _, cell in cells.iterrows()
        for name in names
    ]
    return pd.DataFrame(rows)


def requirement_sheets(requirement: pd.DataFrame, achieved: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The sheets of `bposim requirement --xlsx`: agents required per interval and group (clock times), and the
    service level each call type reached at that requirement on fresh days."""
    return {"Requirement": clock_starts(requirement), "Service level": clock_starts(achieved)}


def roster_sheets(plan: RosterPlan | WeeklyPlan) -> dict[str, pd.DataFrame]:
    """The sheets of `bposim staff --xlsx`: the shifts (a daily roster) or the named schedule and the start times
    per date (weekly rosters), the service level per call type and per interval on the fresh days."""
    weekly = hasattr(plan, "schedule_table")
    if weekly:
        sheets = {"Schedule": plan.schedule_table(), "Shift starts": plan.starts_per_day()}
    else:
        sheets = {"Shifts": plan.schedule.shifts}
    sheets["Service level"] = plan.by_call_type
    sheets["Intervals"] = clock_starts(plan.achieved)
    return sheets


def clock_starts(table: pd.DataFrame) -> pd.DataFrame:
    """A table whose intervals are numbered and labelled "08:30" (`interval`, `interval_start`) with one `interval`
    column of clock times in their place; a table labelled otherwise (a weekly roster's "mon-fri 08:30", per kind
    of day) as it is."""
    if "interval_start" not in table or not table["interval_start"].astype(str).str.fullmatch(r"\d\d:\d\d").all():
        return table
    starts = [time_of_day(clock_seconds(str(label))) for label in table["interval_start"]]
    at = table.columns.get_loc("interval") if "interval" in table else table.columns.get_loc("interval_start")
    rest = table.drop(columns=[column for column in ("interval", "interval_start") if column in table])
    rest.insert(at, "interval", starts)
    return rest


def currency_of(unit: str | None) -> str | None:
    """A cost unit as a currency for headers: None where nothing is priced (paid hours)."""
    return None if not unit or unit == NOT_A_CURRENCY else unit
