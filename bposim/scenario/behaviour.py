"""Callers' behaviour beyond patience, as typed configuration: balking on arrival, a maximum wait ending in a
message (voicemail), and the interval-by-interval factors on drawn handle times and patience.

Balking: a caller who would have to queue (nobody free, no callback taken) hangs up at once with a probability,
constant or piecewise linear in what the caller hears: the number of callers of the type waiting ahead, or the
expected wait. A maximum wait: a caller still waiting after `max_wait_seconds` is sent to leave a message,
which may hold the line for a recording time and may bring a callback or an email / case item.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat
from bposim.scenario.common import Model

Point = tuple[FiniteFloat, FiniteFloat]
"""A point of a piecewise linear curve: [x, probability]."""
THEN_HELP = "none | callback (voice) | deferred:<email or case call type>"
Factor = Annotated[FiniteFloat, Field(gt=0)]


class Balking(Model):
    """The probability that a caller who would queue hangs up at once: a constant, or piecewise linear (held flat
    beyond the first and last points) in the queue ahead or in the expected wait."""

    probability: FiniteFloat | None = Field(None, ge=0, le=1, description="the same for every caller who would queue")
    by_queue_length: list[Point] | None = Field(
        None, description="[[callers waiting ahead, probability], ...], x increasing: piecewise linear"
    )
    by_expected_wait_seconds: list[Point] | None = Field(
        None, description="[[expected wait in seconds, probability], ...], x increasing: piecewise linear"
    )

    @field_validator("by_queue_length", "by_expected_wait_seconds")
    @classmethod
    def _curve(cls, points: list[Point] | None) -> list[Point] | None:
        if points is None:
            return None
        if not points:
            raise ValueError("give at least one [x, probability] point")
        for x, p in points:
            if x < 0:
                raise ValueError(f"x must be ≥ 0, got {x:g}")
            if not 0 <= p <= 1:
                raise ValueError(f"a probability must be in [0, 1], got {p:g}")
        xs = [x for x, _ in points]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError(f"the x values must increase strictly, got {xs}")
        return points

    @model_validator(mode="after")
    def _one(self) -> Balking:
        given = [self.probability, self.by_queue_length, self.by_expected_wait_seconds]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give one of probability, by_queue_length or by_expected_wait_seconds")
        return self

    @property
    def on_expected_wait(self) -> bool:
        """Whether the probability depends on the expected wait (else on the queue ahead, or on nothing)."""
        return self.by_expected_wait_seconds is not None

    def chance(self, x: float) -> float:
        """The probability of balking at `x` (callers ahead, or expected wait in seconds)."""
        if self.probability is not None:
            return self.probability
        points = self.by_queue_length if self.by_queue_length is not None else self.by_expected_wait_seconds
        return piecewise_linear(points, x)


def piecewise_linear(points: list[Point], x: float) -> float:
    """The curve through `points` (x increasing) at `x`, flat beyond its ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


class Message(Model):
    """What a caller sent on at the maximum wait does: leaves a message (holding the line `recording_time`, none if
    left out), then nothing more, a callback, or an item of an email or case call type."""

    recording_time: Distribution | None = Field(None, description="time the caller holds the line recording")
    then: str = Field("none", description=THEN_HELP)

    @field_validator("then")
    @classmethod
    def _then(cls, value: str) -> str:
        if value in ("none", "callback") or (value.startswith("deferred:") and value.removeprefix("deferred:")):
            return value
        raise ValueError(f"'{value}' is not allowed; allowed: {THEN_HELP}")

    @property
    def deferred_type(self) -> str | None:
        """The email or case call type a message becomes an item of, or None."""
        return self.then.removeprefix("deferred:") if self.then.startswith("deferred:") else None


def factor_errors(call_type, c: int, horizon) -> list[tuple[tuple, str, object]]:
    """The interval factors of call type number `c` must have one value per interval of the day's grid."""
    problems = []
    for name in ("handle_time_factor", "patience_factor"):
        values = getattr(call_type, name)
        if values is not None and len(values) != horizon.intervals:
            message = (
                f"{len(values)} values given; expected {horizon.intervals}, one per interval of the day's grid "
                f"({horizon.interval_minutes}-minute intervals)"
            )
            problems.append((("call_types", c, name), message, values))
    return problems


def behaviour_errors(scenario) -> list[tuple[tuple, str, object]]:
    """What the whole scenario refuses in callers' behaviour: factors of the wrong length, a message becoming an item
    of a call type that is not email or case, a retrial after balking without balking."""
    problems = []
    channels = {ct.name: ct.channel for ct in scenario.call_types}
    deferred = [name for name, channel in channels.items() if channel in ("email", "case")]
    for c, call_type in enumerate(scenario.call_types):
        problems += factor_errors(call_type, c, scenario.horizon)
        message = call_type.message
        target = message.deferred_type if message is not None else None
        if target is not None and channels.get(target) not in ("email", "case"):
            known = ", ".join(deferred) or "none"
            problems.append(
                (
                    ("call_types", c, "message", "then"),
                    f"'{target}' is not an email or case call type; known: {known}",
                    message.then,
                )
            )
        retrial = call_type.retrial
        if retrial is not None and retrial.after_balk > 0 and call_type.balking is None:
            problems.append(
                (
                    ("call_types", c, "retrial", "after_balk"),
                    "callers only balk when the call type has balking; set it or make this 0",
                    retrial.after_balk,
                )
            )
    return problems
