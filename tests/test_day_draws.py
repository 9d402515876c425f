"""A day's callers are drawn at its opening, and they are the callers drawn interval by interval at each interval's
start, to the bit: the same arrival times, call types, patience, handle and wrap-up seconds, in the same order.
A day's durations are drawn in one call per stream, which holds while every distribution draws its values one by
one; a distribution that did not would fail here."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from bposim.distributions import Distribution
from bposim.engine.sources import CallSource, draw_callers, draw_day, stream

DISTRIBUTIONS = [
    {"distribution": "exponential", "mean_seconds": 180},
    {"distribution": "exponential", "mean_seconds": 180, "max_seconds": 400},
    {"distribution": "lognormal", "mean_seconds": 300, "cv": 0.8},
    {"distribution": "gamma", "mean_seconds": 300, "cv": 1.5},
    {"distribution": "weibull", "mean_seconds": 120, "shape": 0.6},
    {"distribution": "uniform", "low_seconds": 10, "high_seconds": 50},
    {"distribution": "fixed", "value_seconds": 30},
    {"distribution": "empirical", "values_seconds": [30, 60, 61, 400, 1200]},
]
LAW = TypeAdapter(Distribution)
LAWS = st.sampled_from(DISTRIBUTIONS).map(LAW.validate_python)


def _source(index: int, rates: list[float], patience, handle, wrap, factors, seed: int) -> CallSource:
    def named(purpose: str) -> np.random.Generator:
        return stream(seed, 0, f"type{index}/{purpose}")

    return CallSource(
        index,
        [rates],
        patience,
        handle,
        wrap,
        None,
        *(named(p) for p in ("arrivals", "patience", "handle", "wrap", "retrial")),
        *factors,
    )


SOURCE = st.tuples(
    st.lists(st.sampled_from([0.0, 0.5, 3.0, 40.0, 300.0]), min_size=6, max_size=6),
    st.none() | LAWS,
    LAWS,
    st.none() | LAWS,
    st.tuples(*[st.none() | st.lists(st.sampled_from([0.5, 1.0, 1.7]), min_size=6, max_size=6)] * 2),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(SOURCE, min_size=1, max_size=4), st.integers(0, 5), st.integers(0, 2), st.integers(0, 9))
def test_a_days_callers_drawn_at_the_opening_are_those_drawn_interval_by_interval(specs, first, skip, seed):
    intervals = range(first, 6 - skip) if first < 6 - skip else range(0, 6)
    start, length, factor = 86_400.0 + first * 900.0, 900.0, 1.3

    def sources():
        return [_source(i, *spec, seed) for i, spec in enumerate(specs)]

    by_day = draw_day(sources(), 0, intervals, start, length, factor)
    by_interval_sources = sources()
    at = start
    for interval, drawn in zip(intervals, by_day, strict=True):
        assert drawn == draw_callers(by_interval_sources, 0, interval, at, length, factor)
        at = at + length
