"""Service level over the period a contract measures it: each call type's target holds over every `interval`, `day`,
`week` or `month` (`service_level.period`, the scenario's or the call type's own), pooled over the period.

Periods (`horizon_periods`) partition the horizon's open days (a day with an open interval):

- interval: each open interval of each open day; day: each open day;
- week: the ISO weeks (Monday to Sunday) of the horizon's dates, month: its calendar months (both need a
  `start_date`); a week or month the horizon covers only in part (at its ends) is a period too, flagged `partial`.
  A week or month holds its closed days as well (they have no live contacts; deferred work may fall due on them),
  and one without an open day is no period.

A period's service level pools its counts, never averages its intervals' service levels:

- live channels (voice, chat): answered within the threshold over the denominator of the scenario's
  `service_level.definition` (offered; answered; or offered less the abandons within the threshold), from the
  counts of the (replication, day, interval, call type) cells (`bposim.cells`), summed over the period's cells;
- deferred channels (email, case): met_due over due, from the backlog's per-day counts (`bposim.backlog`), summed
  over the period's days. Their items are due by the day, so `interval` counts as `day` for them (the periods
  table says day); with `day`, what falls due on a closed day is in no period.

A period meets its target when its service level reaches the call type's target; one with nothing counted (a
service level of NaN) misses nothing. Across replications, each period's mean service level with its 95%
Student-t half-width, and P(met): the share of replications in which it met, with its 95% Wilson interval
(`wilson`). Per call type also the share of its periods met (mean over replications, with its half-width) and
P(every period met) with its Wilson interval.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from bposim import cells
from bposim.formatting import clock, date_label, day_label
from bposim.memo import per_scenario
from bposim.scenario import Horizon, Scenario
from bposim.scenario.call_types import CHANNELS, PERIODS

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: a two-sided 95% interval
_LIVE_COUNTS = ("offered", "answered", "answered_within_threshold", "abandoned_within_threshold")
_TYPE_KEYS = ("period", "channel", "threshold_seconds", "target", "periods", "partial_periods")  # a call type's
_FIXED = ("label", "first_day", "last_day", "start_date", "end_date", "partial")  # what a period is, not its KPIs
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Period(NamedTuple):
    """One period of a horizon: its kind, label, first and last day (of the horizon), its interval of the day (an
    interval period; −1 otherwise), and whether the horizon covers only part of it (a week or a month)."""

    kind: str
    label: str
    first_day: int
    last_day: int
    interval: int
    partial: bool


class PeriodCounts(NamedTuple):
    """A call type's periods and, per replication × period, the service level's denominator (counted), the
    numerator (within: answered within threshold, or met due), the service level and whether it met the target."""

    code: int
    periods: list[Period]
    counted: np.ndarray
    within: np.ndarray
    service_level: np.ndarray
    target: float
    met: np.ndarray


def open_days(horizon: Horizon) -> list[int]:
    """The days with at least one open interval."""
    return [day for day in range(horizon.days) if len(horizon.open_intervals(day))]


@per_scenario  # the same for every replication of a scenario
def horizon_periods(horizon: Horizon, kind: str) -> tuple[list[Period], np.ndarray]:
    """The periods of `kind` over the horizon, and per (day, interval) of its grid the index of the period that
    holds it (−1: none; an interval period holds only its own open interval, a day its open day's whole grid, a
    week or month every day it spans)."""
    if kind not in PERIODS:
        raise ValueError(f"unknown period '{kind}'; known: {', '.join(PERIODS)}")
    if kind in ("week", "month") and not horizon.calendar:
        raise ValueError(f"a {kind} period needs a horizon with a start_date")
    grid = np.full((horizon.days, horizon.intervals), -1, dtype=np.int64)
    dates = horizon.dates() if horizon.calendar else None
    periods: list[Period] = []
    if kind == "interval":
        for day in open_days(horizon):
            for interval in horizon.open_intervals(day):
                start = clock(horizon.start_seconds + interval * horizon.interval_seconds)
                grid[day, interval] = len(periods)
                periods.append(Period(kind, day_label(day, start, dates), day, day, interval, False))
        return periods, grid
    if kind == "day":
        for day in open_days(horizon):
            grid[day, :] = len(periods)
            label = date_label(dates[day]) if dates else f"day {day}"
            periods.append(Period(kind, label, day, day, -1, False))
        return periods, grid
    assert dates is not None
    keys = [_calendar_key(date, kind) for date in dates]
    opened = set(open_days(horizon))
    for key in dict.fromkeys(keys):
        days = [day for day, own in enumerate(keys) if own == key]
        if not opened.intersection(days):
            continue
        first, last = days[0], days[-1]
        grid[first : last + 1, :] = len(periods)
        periods.append(
            Period(kind, _calendar_label(dates[first], kind), first, last, -1, len(days) < _length(key, kind))
        )
    return periods, grid


def _calendar_key(date: datetime.date, kind: str) -> tuple[int, int]:
    """The ISO (year, week) of a date, or its (year, month)."""
    return tuple(date.isocalendar())[:2] if kind == "week" else (date.year, date.month)  # type: ignore[return-value]


def _length(key: tuple[int, int], kind: str) -> int:
    """The days of a whole week (7) or of the month `key`."""
    if kind == "week":
        return 7
    year, month = key
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return (following - datetime.date(year, month, 1)).days


def _calendar_label(date: datetime.date, kind: str) -> str:
    """ "week of Mon 1 Mar" (the week's Monday, even before the horizon), or "Mar 2027"."""
    if kind == "week":
        return f"week of {date_label(date - datetime.timedelta(days=date.weekday()))}"
    return f"{_MONTHS[date.month - 1]} {date.year}"


def period_counts(
    scenario: Scenario,
    cell_table: Mapping[str, np.ndarray],
    backlog_columns: Mapping[str, np.ndarray],
    replications: int,
) -> list[PeriodCounts]:
    """Per call type (in code order), the counts and service level of each replication × period, pooled from the
    KPI cells (`bposim.cells.kpi_cells`'s table: live channels) and the backlog's per-day columns (deferred ones)."""
    horizon = scenario.horizon
    deferred = [code for code, ct in enumerate(scenario.call_types) if not ct.live]
    found: dict[str, tuple[list[Period], np.ndarray]] = {}  # each kind's periods, made once

    def periods_of(kind: str) -> tuple[list[Period], np.ndarray]:
        if kind not in found:
            found[kind] = horizon_periods(horizon, kind)
        return found[kind]

    out = []
    for code, call_type in enumerate(scenario.call_types):
        kind = scenario.period_for(call_type)
        target = scenario.service_level_for(call_type)[1]
        if call_type.live:
            periods, grid = periods_of(kind)
            shape = (replications, horizon.days * horizon.intervals, len(scenario.call_types))
            sums = {
                name: _pooled(np.asarray(cell_table[name]).reshape(shape)[:, :, code], grid.ravel(), len(periods))
                for name in _LIVE_COUNTS
            }
            counted, within, level = _live_service_level(sums, scenario.service_level.definition)
        else:
            periods, grid = periods_of("day" if kind == "interval" else kind)
            shape = (replications, horizon.days, len(deferred))
            keys = grid[:, 0]
            counted, within = (
                _pooled(
                    np.asarray(backlog_columns[name]).reshape(shape)[:, :, deferred.index(code)], keys, len(periods)
                )
                for name in ("due", "met_due")
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                level = within / counted.astype(float)
        met = ~(level < target)  # nothing counted (NaN) misses nothing
        out.append(PeriodCounts(code, periods, counted, within, level, float(target), met))
    return out


def _live_service_level(sums: Mapping[str, np.ndarray], definition: str) -> tuple[np.ndarray, ...]:
    """The denominator of the service level by `definition`, the calls answered within threshold, and the service
    level, from pooled counts."""
    short, within = sums["abandoned_within_threshold"], sums["answered_within_threshold"]
    counted = {"offered": sums["offered"], "answered": sums["answered"]}.get(definition, sums["offered"] - short)
    return counted, within, cells.service_level(within, sums["offered"], sums["answered"], short, definition)


def _pooled(values: np.ndarray, keys: np.ndarray, count: int) -> np.ndarray:
    """(replications, cells) counts summed into (replications, count) periods by each cell's period (−1: none)."""
    replications = values.shape[0]
    kept = keys >= 0
    index = (np.arange(replications)[:, None] * count + keys[kept][None, :]).ravel()
    total = np.bincount(index, weights=values[:, kept].ravel().astype(float), minlength=replications * count)
    return total.round().astype(np.int64).reshape(replications, count)


def period_table(scenario: Scenario, counts: Sequence[PeriodCounts], replications: int) -> pd.DataFrame:
    """The periods table: one row per (replication,) call type and period, replication after replication: call_type,
    channel, period (its kind), label, first_day, last_day (start_date and end_date with a horizon on dates),
    interval (an interval period's interval of the day; −1 otherwise), partial, counted, within, service_level,
    target, met (and replication when there are several)."""
    names = [ct.name for ct in scenario.call_types]
    periods = [(own.code, period) for own in counts for period in own.periods]  # one replication's rows

    def fixed(values: list, dtype: type) -> np.ndarray:
        return np.tile(np.array(values, dtype=dtype), replications)

    def measured(name: str) -> np.ndarray:
        return np.concatenate([getattr(own, name) for own in counts], axis=1).ravel()

    table = pd.DataFrame(
        {
            "call_type": fixed([code for code, _ in periods], np.int64),
            "period": fixed([period.kind for _, period in periods], object),
            "label": fixed([period.label for _, period in periods], object),
            "first_day": fixed([period.first_day for _, period in periods], np.int64),
            "last_day": fixed([period.last_day for _, period in periods], np.int64),
            "interval": fixed([period.interval for _, period in periods], np.int64),
            "partial": fixed([period.partial for _, period in periods], bool),
            "counted": measured("counted"),
            "within": measured("within"),
            "service_level": measured("service_level"),
            "target": fixed([own.target for own in counts for _ in own.periods], float),
            "met": measured("met"),
        }
    )
    if replications > 1:
        table["replication"] = np.repeat(np.arange(replications, dtype=np.int64), len(periods))
    code = table["call_type"].to_numpy()
    channels = np.array([CHANNELS.index(ct.channel) for ct in scenario.call_types], dtype=np.int64)
    table["call_type"] = pd.Categorical.from_codes(code, categories=names)
    table.insert(1, "channel", pd.Categorical.from_codes(channels[code], categories=list(CHANNELS)))
    table["period"] = pd.Categorical(table["period"], categories=list(PERIODS))
    if scenario.horizon.calendar:
        dates = np.array(scenario.horizon.dates(), dtype="datetime64[D]").astype("datetime64[ns]")
        table.insert(table.columns.get_loc("last_day") + 1, "start_date", dates[table["first_day"].to_numpy()])
        table.insert(table.columns.get_loc("start_date") + 1, "end_date", dates[table["last_day"].to_numpy()])
    table["label"] = table["label"].astype(str)
    return table


def replication_summaries(scenario: Scenario, counts: Sequence[PeriodCounts], replications: int) -> list[dict]:
    """Each replication's `summary["periods"]`: per call type name, as `pooled` gives it for one replication."""
    return [
        pooled([{scenario.call_types[own.code].name: _one(scenario, own, r) for own in counts}])
        for r in range(replications)
    ]


def _one(scenario: Scenario, own: PeriodCounts, replication: int) -> dict:
    """A call type's periods in one replication, in the shape `pooled` reads."""
    met = own.met[replication]
    horizon = scenario.horizon
    call_type = scenario.call_types[own.code]
    return {
        "period": scenario.period_for(call_type),
        "channel": call_type.channel,
        "threshold_seconds": scenario.service_level_for(call_type)[0],
        "target": own.target,
        "periods": len(own.periods),
        "partial_periods": sum(period.partial for period in own.periods),
        "periods_met_share": float(met.mean()) if len(met) else math.nan,
        "p_all_met": float(met.all()),
        "by_period": None
        if scenario.period_for(call_type) == "interval"
        else [
            {
                "label": period.label,
                "first_day": period.first_day,
                "last_day": period.last_day,
                **(
                    {
                        "start_date": horizon.date(period.first_day).isoformat(),
                        "end_date": horizon.date(period.last_day).isoformat(),
                    }
                    if horizon.calendar
                    else {}
                ),
                "partial": period.partial,
                "service_level": float(level),
                "p_met": float(ok),
            }
            for period, level, ok in zip(own.periods, own.service_level[replication], met, strict=True)
        ],
    }


def pooled(summaries: Sequence[Mapping[str, dict]]) -> dict[str, dict]:
    """The `summary["periods"]` of several replications (each one's, as `replication_summaries` gives it) as one:
    per call type its period, channel, threshold_seconds (deferred work: its due time), target, number of periods
    (and partial ones), periods_met_share (the mean share of its periods met, with `_ci`: the Student-t half-width),
    p_all_met (the share of replications in which every period met, with its Wilson interval
    p_all_met_low..p_all_met_high), and `by_period` (none for an interval period: the periods table has them): per
    period its label, days (and dates), partial, the mean service level (with `_ci`) and p_met with its Wilson
    interval p_met_low..p_met_high."""
    out = {}
    for name, first in summaries[0].items():
        rows = [summary[name] for summary in summaries]
        share, share_ci = _mean_and_ci(np.array([[row["periods_met_share"]] for row in rows], dtype=float))
        p_all = float(np.mean([row["p_all_met"] for row in rows]))
        low, high = wilson(p_all, len(rows))
        own = {key: first[key] for key in _TYPE_KEYS} | {
            "periods_met_share": float(share[0]),
            "periods_met_share_ci": float(share_ci[0]),
            "p_all_met": p_all,
            "p_all_met_low": low,
            "p_all_met_high": high,
        }
        own["by_period"] = None if first["by_period"] is None else _by_period([row["by_period"] for row in rows])
        out[name] = own
    return out


def _by_period(replications: list[list[dict]]) -> list[dict]:
    """Each period's mean service level (with `_ci`) and P(met) with its Wilson interval, over the replications."""
    levels = np.array([[item["service_level"] for item in rows] for rows in replications], dtype=float)
    met = np.array([[item["p_met"] for item in rows] for rows in replications], dtype=float)
    mean, half = _mean_and_ci(levels)
    p_met = met.mean(axis=0)
    out = []
    for i, item in enumerate(replications[0]):
        low, high = wilson(float(p_met[i]), len(replications))
        fixed = {key: item[key] for key in _FIXED if key in item}
        out.append(
            fixed
            | {
                "service_level": float(mean[i]),
                "service_level_ci": float(half[i]),
                "p_met": float(p_met[i]),
                "p_met_low": low,
                "p_met_high": high,
            }
        )
    return out


def _mean_and_ci(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of (replications, columns) values, the mean of the non-NaN ones and its 95% Student-t
    half-width (NaN with fewer than two), as `bposim.metrics.mean_and_ci` gives it for one column."""
    count = (~np.isnan(values)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(values, axis=0) / np.maximum(count, 1), math.nan)
        if values.shape[0] < 2 or not (count > 1).any():
            return mean, np.full(values.shape[1], math.nan)
        from scipy import stats  # SciPy loads slowly: only several replications need it

        spread = np.sqrt(np.nansum((values - mean) ** 2, axis=0) / np.maximum(count - 1, 1))
        factor = stats.t.ppf(0.975, np.maximum(count - 1, 1))
        half = np.where(count > 1, factor * spread / np.sqrt(count), math.nan)
    return mean, half


def wilson(share: float, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (95% unless `z` says otherwise) of a proportion `share` seen in `trials` trials:
    it stays inside [0, 1] and is not empty at 0 or 1 (one replication that met gives 0.21..1)."""
    if trials <= 0 or math.isnan(share):
        return math.nan, math.nan
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
