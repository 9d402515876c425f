"""Arrival processes: piecewise-constant Poisson rates per interval, with a day-level busyness factor.

Arrivals are drawn one interval at a time, so memory does not grow with the horizon: given the count of an
interval (Poisson with mean rate × length × busyness), the arrival epochs are independent and uniform over
the interval, which is exactly a non-homogeneous Poisson process with a constant rate inside each interval.
"""

from __future__ import annotations

import numpy as np


def busyness_factors(cv: float | None, days: int, rng: np.random.Generator) -> np.ndarray:
    """One gamma factor per day with mean 1 and the given coefficient of variation (all ones without one)."""
    if not cv:
        return np.ones(days)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, days)


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
