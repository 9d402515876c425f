"""The random streams of a run, what each call type's callers are drawn from, and the drawing of them.

Random numbers come from one stream per source (per call type: arrivals, patience, handle time, wrap-up,
retrials; plus day busyness, routing, tools, groups' absence and shrinkage, the bot, callbacks and AI assist),
each keyed by the seed, the replication and the source's name, so changing staffing or adding a call type
leaves the other sources' draws unchanged (common random numbers). Callers are drawn an interval at a time,
every call type at once, so memory does not grow with the horizon.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from bposim.arrivals import day_rates, interval_arrivals
from bposim.distributions import Distribution
from bposim.scenario import CallType, Horizon, Retrial


class Callers(NamedTuple):
    """The first attempts of one interval, in arrival order: arrival times, call-type indices, and each caller's
    patience, handle and wrap-up seconds."""

    times: list[float]
    types: list[int]
    patience: list[float]
    handle: list[float]
    wrap: list[float]


class Retry(NamedTuple):
    """A caller's next attempt: after `delay` seconds, with a fresh patience, handle time and wrap-up (before the
    interval factors and the retrial rule's keeping of the first attempt's: `engine.behaviour`)."""

    delay: float
    patience: float
    handle: float
    wrap: float


@dataclass(slots=True, frozen=True)
class CallSource:
    """What one call type's callers are drawn from: its index among the call types, arrival rates per day and
    interval (`rates[day][interval]`),
    the distributions of patience, handle time and wrap-up (None: no abandonment, no wrap-up), the retrial rule
    (None: no retrials), one random stream per purpose drawn from (None for a purpose the call type has not), and
    the multipliers per interval of the grid on drawn handle times and patience (None: none)."""

    index: int
    rates: list[list[float]]
    patience: Distribution | None
    handle: Distribution
    wrap: Distribution | None
    retrial: Retrial | None
    arrivals_rng: np.random.Generator
    patience_rng: np.random.Generator | None
    handle_rng: np.random.Generator
    wrap_rng: np.random.Generator | None
    retrial_rng: np.random.Generator | None

    handle_factor: list[float] | None = None
    patience_factor: list[float] | None = None

    def retry(self, attempt: int, blocked: bool, balked: bool = False) -> Retry | None:
        """Whether a caller blocked, abandoning or balking at their `attempt` calls again, and how (from the retrial
        stream); None if they do not."""
        retrial = self.retrial
        if retrial is None or attempt >= retrial.max_attempts:
            return None
        rng = self.retrial_rng
        chance = retrial.after_balk if balked else (retrial.after_blocked if blocked else retrial.after_abandon)
        if rng.random() >= chance:
            return None
        return Retry(
            float(retrial.delay.sample(rng, 1)[0]),
            float(self.patience.sample(rng, 1)[0]) if self.patience is not None else math.inf,
            float(self.handle.sample(rng, 1)[0]),
            float(self.wrap.sample(rng, 1)[0]) if self.wrap is not None else 0.0,
        )


def draw_callers(
    sources: list[CallSource], day: int, interval: int, start: float, length: float, factor: float
) -> Callers:
    """The first attempts of `sources`' call types during one interval of a day from `start` (busyness `factor`),
    merged in arrival order (ties keep the call types' order)."""
    parts = []
    for source in sources:
        times = interval_arrivals(source.rates[day][interval], start, length, factor, source.arrivals_rng)
        n = len(times)
        if n:
            patience, wrap = source.patience, source.wrap
            parts.append(
                (
                    times,
                    np.full(n, source.index),
                    patience.sample(source.patience_rng, n) if patience is not None else np.full(n, math.inf),
                    source.handle.sample(source.handle_rng, n),
                    wrap.sample(source.wrap_rng, n) if wrap is not None else np.zeros(n),
                )
            )
            if source.handle_factor is not None or source.patience_factor is not None:
                parts[-1] = _with_factors(parts[-1], source, interval)
    if not parts:
        return Callers([], [], [], [], [])
    columns = [np.concatenate(column) for column in zip(*parts, strict=True)]
    if len(parts) > 1:
        order = np.argsort(columns[0], kind="stable")
        columns = [column[order] for column in columns]
    return Callers(*(column.tolist() for column in columns))


def draw_day(
    sources: list[CallSource], day: int, intervals: range, start: float, length: float, factor: float
) -> list[Callers]:
    """The first attempts of `sources`' call types in each of a day's `intervals` (the first from `start`), drawn
    together: the same callers, to the bit, as `draw_callers` at each interval's start. Each stream is drawn in the
    same order (arrivals interval by interval; durations of all the intervals at once, as every distribution draws
    its values one by one from its stream), and an interval's callers are merged in the same order."""
    starts = []
    for _ in intervals:  # the interval starts as the calendar reaches them: a sum, step by step
        starts.append(start)
        start = start + length
    times, types, counts, durations = [], [], [], []
    for source in sources:
        rates = source.rates[day]
        drawn = [
            interval_arrivals(rates[i], at, length, factor, source.arrivals_rng)
            for i, at in zip(intervals, starts, strict=True)
        ]
        sizes = [len(part) for part in drawn]
        n = sum(sizes)
        if not n:
            continue
        times.extend(drawn)
        types.append(np.full(n, source.index))
        counts.append(sizes)
        patience, wrap = source.patience, source.wrap
        drawn_patience = _day_sample(patience, source.patience_rng, n, math.inf)
        handle = _day_sample(source.handle, source.handle_rng, n, 0.0)
        if source.patience_factor is not None:  # each caller's by its interval, as `_with_factors` does
            drawn_patience = drawn_patience * np.repeat(np.array(source.patience_factor)[list(intervals)], sizes)
        if source.handle_factor is not None:
            handle = handle * np.repeat(np.array(source.handle_factor)[list(intervals)], sizes)
        durations.append((drawn_patience, handle, _day_sample(wrap, source.wrap_rng, n, 0.0)))
    if not durations:
        return [Callers([], [], [], [], [])] * len(intervals)
    columns = [np.concatenate(times), np.concatenate(types), *map(np.concatenate, zip(*durations, strict=True))]
    per_interval = np.sum(counts, axis=0)
    if len(durations) > 1:  # by interval, then time; ties keep the call types' order (a stable sort)
        order = np.lexsort((columns[0], _interval_of(counts)))
        columns = [column[order] for column in columns]
    lists = [column.tolist() for column in columns]
    bounds = np.concatenate(([0], np.cumsum(per_interval))).tolist()
    return [Callers(*(values[a:b] for values in lists)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _interval_of(counts: list[list[int]]) -> np.ndarray:
    """The interval of each drawn caller, call type by call type (`counts[type][interval]`)."""
    return np.concatenate([np.repeat(np.arange(len(sizes)), sizes) for sizes in counts])


def _day_sample(distribution: Distribution | None, rng: np.random.Generator, n: int, absent: float) -> np.ndarray:
    """A day's `n` values of one duration (`absent` for each when there is none)."""
    return np.full(n, absent) if distribution is None else distribution.sample(rng, n)


def _with_factors(part: tuple, source: CallSource, interval: int) -> tuple:
    """An interval's drawn callers of one source with its interval factors on their patience and handle time."""
    times, types, patience, handle, wrap = part
    if source.patience_factor is not None:
        patience = patience * source.patience_factor[interval]
    if source.handle_factor is not None:
        handle = handle * source.handle_factor[interval]
    return times, types, patience, handle, wrap


def initial_backlog(call_type: CallType, index: int, rng: Callable[[str], np.random.Generator]) -> Callers:
    """The email or case items of a call type already waiting at the first opening, oldest first: arrival times are
    seconds before it (`-age_hours * 3600`); patience, handle and wrap-up come from a stream of their own
    ("billing_mail/backlog"), so the items arriving later are drawn as if there were none."""
    bands = call_type.initial_backlog
    ages = sorted((band.age_hours * 3600.0 for band in bands for _ in range(band.items)), reverse=True)
    n = len(ages)
    if not n:
        return Callers([], [], [], [], [])
    stream_ = rng(f"{call_type.name}/backlog")
    patience, wrap = call_type.patience, call_type.after_call_work
    return Callers(
        [-age for age in ages],
        [index] * n,
        patience.sample(stream_, n).tolist() if patience is not None else [math.inf] * n,
        call_type.handle_time.sample(stream_, n).tolist(),
        wrap.sample(stream_, n).tolist() if wrap is not None else [0.0] * n,
    )


def call_source(
    call_type: CallType, index: int, horizon: Horizon, rng: Callable[[str], np.random.Generator]
) -> CallSource:
    """The source of call type number `index`'s callers, with the streams named after it ("support/arrivals", ...)."""

    def named(purpose: str) -> np.random.Generator:
        return rng(f"{call_type.name}/{purpose}")

    return CallSource(
        index,
        day_rates(call_type.arrivals, horizon),
        call_type.patience,
        call_type.handle_time,
        call_type.after_call_work,
        call_type.retrial,
        named("arrivals"),
        named("patience") if call_type.patience is not None else None,
        named("handle"),
        named("wrap") if call_type.after_call_work is not None else None,
        named("retrial") if call_type.retrial is not None else None,  # a stream only when drawn from (~20 µs)
        call_type.handle_time_factor,
        call_type.patience_factor,
    )


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The random stream of one named source, independent of every other source's name."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, zlib.crc32(name.encode()))))


@lru_cache(maxsize=1 << 16)
def first_uniform(seed: int, replication: int, name: str) -> float:
    """The first uniform number of a named stream, for a source drawn from once (an agent's AI-assist adoption):
    kept, as the cells of a sweep meet the same replications' agents again and a stream costs ~20 µs to make."""
    return float(stream(seed, replication, name).random())
