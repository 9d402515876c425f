"""The random streams of a run and what each call type's callers are drawn from.

Random numbers come from one stream per source (per call type: arrivals, patience, handle time, wrap-up,
retrials; plus day busyness, routing, tools, groups' absence and shrinkage, the bot, callbacks and AI assist),
each keyed by the seed, the replication and the source's name, so changing staffing or adding a call type
leaves the other sources' draws unchanged (common random numbers).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bposim.distributions import Distribution
from bposim.scenario import CallType, Retrial


@dataclass(slots=True, frozen=True)
class CallSource:
    """What one call type's callers are drawn from: arrival rates per interval, the distributions of patience,
    handle time and wrap-up (None: no abandonment, no wrap-up), the retrial rule (None: no retrials), and one
    random stream per purpose."""

    rates: list[float]
    patience: Distribution | None
    handle: Distribution
    wrap: Distribution | None
    retrial: Retrial | None
    arrivals_rng: np.random.Generator
    patience_rng: np.random.Generator
    handle_rng: np.random.Generator
    wrap_rng: np.random.Generator
    retrial_rng: np.random.Generator


def call_source(call_type: CallType, intervals: int, rng: Callable[[str], np.random.Generator]) -> CallSource:
    """The source of a call type's callers, with the streams named after it ("support/arrivals", ...)."""

    def named(purpose: str) -> np.random.Generator:
        return rng(f"{call_type.name}/{purpose}")

    return CallSource(
        call_type.arrivals.hourly_rates(intervals),
        call_type.patience,
        call_type.handle_time,
        call_type.after_call_work,
        call_type.retrial,
        named("arrivals"),
        named("patience"),
        named("handle"),
        named("wrap"),
        named("retrial"),
    )


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The random stream of one named source, independent of every other source's name."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, zlib.crc32(name.encode()))))
