"""Seconds of a run as the clock times and dates a planner reads, for the files bposim writes (CSV, Excel).

Inside bposim every time is seconds from the start of day 0's grid (the horizon's earliest opening; a day d starts
d × 86,400 s later), and the tables `simulate` returns keep them so. The CSV files `Run.save` writes gain, beside
each such column, a `<column>_time` column (`csv_table`):

- on a horizon with a `start_date`: the date and time, "2027-03-01 08:30:12" (Excel and pandas read it as one);
- without: the time of day, "08:30:12", with the day before it from day 1 on, "d1 08:30:12" (as the CLI writes
  times on later days); a time before day 0 (an initial backlog's arrivals) is on day −1, "d-1 17:00:00".

Tables by the interval (`intervals`, `staffing`, `backlog_intervals`) gain `interval_time`, the interval's start
written the same way. An empty value is a time there is none of (a call never answered).
"""

from __future__ import annotations

import datetime
from functools import cache

import numpy as np
import pandas as pd

from bposim.scenario import Horizon

DAY_SECONDS = 86_400
# the columns of seconds each table has, in its order (`bposim.run` defines them)
TIME_COLUMNS = {
    "calls": ("arrival", "answer", "end"),
    "activities": ("planned", "start", "end"),
    "outages": ("start", "end"),
    "outbound": ("held_from", "dialed", "ended", "talk_start", "talk_end", "free_at"),
}
INTERVAL_TABLES = ("intervals", "staffing", "backlog_intervals")


def csv_table(name: str, table: pd.DataFrame, horizon: Horizon) -> pd.DataFrame:
    """The table `name` of a run as its CSV file holds it: each column of seconds followed by its `_time` column,
    an interval table's `interval_start` by `interval_time`; other tables (and a table not built) as they are.
    The table given is not changed."""
    if not len(table.columns):
        return table
    if name in INTERVAL_TABLES and {"day", "interval"} <= set(table.columns):
        starts = table["day"].to_numpy() * DAY_SECONDS + table["interval"].to_numpy() * horizon.interval_seconds
        return _inserted(table, "interval_start", "interval_time", clock_texts(starts, horizon))
    found = [column for column in TIME_COLUMNS.get(name, ()) if column in table.columns]
    if not found:
        return table
    table = table.copy()
    for column in reversed(found):
        at = table.columns.get_loc(column) + 1
        table.insert(at, f"{column}_time", clock_texts(table[column].to_numpy(dtype=float), horizon))
    return table


def clock_texts(seconds: np.ndarray, horizon: Horizon) -> np.ndarray:
    """Seconds from the start of day 0's grid as text (whole seconds, rounded down): "2027-03-01 08:30:12" on
    dates, else "08:30:12" on day 0 and "d1 08:30:12" on a later day; "" for NaN."""
    seconds = np.asarray(seconds, dtype=float)
    known = ~np.isnan(seconds)
    whole = np.floor(np.where(known, seconds, 0.0) + horizon.start_seconds).astype(np.int64)
    days, rest = np.divmod(whole, DAY_SECONDS)
    text = _clock_labels()[rest]
    names = {day: _day_prefix(int(day), horizon) for day in np.unique(days[known])}
    prefix = np.array([names.get(day, "") for day in days], dtype=object) if names else np.full(len(days), "")
    return np.where(known, prefix + text, "")


def moments(seconds: np.ndarray, horizon: Horizon) -> pd.Series:
    """Seconds from the start of day 0's grid as pandas datetimes on a horizon with a `start_date`; without one, as
    time spans from midnight of day 0 (Excel shows them as hours, e.g. 32:30 on day 1 at 08:30). NaN stays
    missing."""
    spans = pd.to_timedelta(np.asarray(seconds, dtype=float) + horizon.start_seconds, unit="s").round("s")
    if horizon.calendar:
        return pd.Series(pd.Timestamp(horizon.start_date) + spans)
    return pd.Series(spans)


def interval_moments(days: np.ndarray, intervals: np.ndarray, horizon: Horizon) -> pd.Series:
    """The start of each (day, interval) as `moments` gives it."""
    seconds = np.asarray(days) * DAY_SECONDS + np.asarray(intervals) * horizon.interval_seconds
    return moments(seconds, horizon)


def time_of_day(seconds: float) -> datetime.time:
    """Seconds after midnight (wrapped at 24 h) as a `datetime.time`, e.g. for an interval's start on a sheet."""
    whole = int(seconds) % DAY_SECONDS
    return datetime.time(whole // 3600, whole % 3600 // 60, whole % 60)


@cache
def _clock_labels() -> np.ndarray:
    """ "HH:MM:SS" of every second of a day, made once."""
    return np.array([f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(DAY_SECONDS)], dtype=object)


def _day_prefix(day: int, horizon: Horizon) -> str:
    """What a time on `day` starts with: its date ("2027-03-01 "), or the day ("d1 "; nothing on day 0)."""
    if horizon.calendar:
        return f"{horizon.start_date + datetime.timedelta(days=day):%Y-%m-%d} "
    return "" if day == 0 else f"d{day} "


def _inserted(table: pd.DataFrame, after: str, name: str, values: np.ndarray) -> pd.DataFrame:
    """A copy of `table` with column `name` right after `after` (at the end when `after` is missing)."""
    table = table.copy()
    at = table.columns.get_loc(after) + 1 if after in table.columns else len(table.columns)
    table.insert(at, name, values)
    return table
