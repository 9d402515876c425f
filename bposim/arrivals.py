"""Arrival processes: piecewise-constant Poisson rates per interval, with a day-level busyness factor.

Arrivals are drawn one interval at a time, so memory does not grow with the horizon: given the count of an
interval (Poisson with mean rate × length × busyness), the arrival epochs are independent and uniform over
the interval, which is exactly a non-homogeneous Poisson process with a constant rate inside each interval.

Each day has its own hourly rate per interval of the grid (`day_rates`): the call type's plain rates every day, or
its day type's (`by_day_type`, by the day's weekday), or its weekly volume shared out (`weekly`: volume × the
weekday's share × the intraday weight of the interval over the day's open intervals' weights), with `by_date`
overriding single dates (a factor on the day's rates, or rates of their own). Closed intervals draw nothing.

The busyness factor of a day is gamma with mean 1 and the given cv; with a week correlation ρ, it is a lognormal
week factor shared by the days of a week times a lognormal day factor, the log-variance σ² = ln(1 + cv²) split ρσ²
to the week and (1 − ρ)σ² to the day (`bposim.scenario.Busyness`).
"""

from __future__ import annotations

import math

import numpy as np

from bposim.scenario import Horizon
from bposim.scenario.call_types import Arrivals, Busyness


def busyness_factors(
    busyness: Busyness | None, days: int, rng: np.random.Generator, weeks: np.ndarray | None = None
) -> np.ndarray:
    """One factor per day with mean 1 and the busyness's coefficient of variation (all ones without one): gamma,
    or, with a week correlation, a lognormal week factor (one per number in `weeks`, each day's week; by default
    days 0-6, 7-13, ...) times a lognormal day factor."""
    if busyness is None:
        return np.ones(days)
    cv = busyness.cv
    if busyness.week_correlation is None:
        shape = 1.0 / cv**2
        return rng.gamma(shape, 1.0 / shape, days)
    week_of_day = np.arange(days) // 7 if weeks is None else np.asarray(weeks)
    variance = math.log1p(cv**2)
    shared = busyness.week_correlation * variance
    week_factors = _lognormal(shared, int(week_of_day.max()) + 1, rng)
    return week_factors[week_of_day] * _lognormal(variance - shared, days, rng)


def _lognormal(variance: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n lognormal draws with mean 1 and log-variance `variance` (all ones when it is 0)."""
    return np.exp(rng.normal(-variance / 2.0, math.sqrt(variance), n))


def calendar_weeks(horizon: Horizon) -> np.ndarray | None:
    """The week number (0, 1, ...) of each day: mon-sun calendar weeks on a horizon with a start_date (a horizon
    starting mid-week begins with a short week), else None (weeks of 7 days from day 0)."""
    if not horizon.calendar:
        return None
    offset = horizon.start_date.weekday()
    return (np.arange(horizon.days) + offset) // 7


def day_rates(arrivals: Arrivals, horizon: Horizon) -> list[list[float]]:
    """The hourly arrival rate of each interval of each day's grid, day 0 first (days with the same rates share
    one list). Without the calendar forms, the plain rates every day."""
    intervals = horizon.intervals
    if not arrivals.calendar_fields:
        return [arrivals.hourly_rates(intervals)] * horizon.days
    week = weekday_rates(arrivals, horizon)
    rates = [week[horizon.date(day).weekday()] for day in range(horizon.days)]
    first = horizon.start_date
    for date, override in (arrivals.by_date or {}).items():
        day = (date - first).days
        if override.factor is not None:
            rates[day] = [rate * override.factor for rate in rates[day]]
        else:
            own = override.per_interval
            rates[day] = list(own) if own is not None else [override.per_hour] * intervals
    return rates


def weekday_rates(arrivals: Arrivals, horizon: Horizon) -> list[list[float]]:
    """The rates of each weekday, mon..sun: by day type (none: all zero), or the weekly volume shared out."""
    intervals = horizon.intervals
    weekly = arrivals.weekly
    if weekly is None:
        return [[0.0] * intervals if rates is None else rates.hourly_rates(intervals) for rates in arrivals.day_types()]
    shape = weekly.intraday or [1.0] * intervals
    interval_hours = horizon.interval_seconds / 3600.0
    week = []
    for weekday, share in enumerate(weekly.shares()):
        span = weekday_span(horizon, weekday)
        weights = [shape[i] if i in span else 0.0 for i in range(intervals)]
        total = math.fsum(weights)
        day_volume = weekly.volume * share
        week.append([day_volume * weight / total / interval_hours if total else 0.0 for weight in weights])
    return week


def weekday_span(horizon: Horizon, weekday: int) -> range:
    """The intervals of the grid a weekday is open (by its hours; a closed date aside)."""
    hours = horizon.week[weekday]
    if hours is None:
        return range(0)
    if not horizon.opening_hours:
        return range(horizon.intervals)
    grid, length = horizon.start_seconds, horizon.interval_seconds
    return range(round((hours.open - grid) / length), round((hours.close - grid) / length))


def interval_arrivals(
    per_hour: float, start: float, length: float, factor: float, rng: np.random.Generator
) -> np.ndarray:
    """Sorted arrival epochs (seconds) of a Poisson stream during [start, start + length)."""
    mean = per_hour * factor * length / 3600.0
    count = rng.poisson(mean) if mean > 0 else 0
    if count == 0:
        return np.empty(0)
    epochs = rng.uniform(start, start + length, count)
    epochs.sort()
    return epochs
