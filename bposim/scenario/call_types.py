"""A kind of call as typed, validated configuration: its arrivals, work content, callers' patience and retrials, and
the service-level objective it is measured against (the scenario's, or its own); and the day-level busyness that
scales every call type's arrivals."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat, PositiveWholeNumber
from bposim.scenario.common import Model


class ServiceLevel(Model):
    """The service-level objective: `target` of calls answered within `threshold_seconds`."""

    threshold_seconds: FiniteFloat = Field(20, ge=0)
    target: FiniteFloat = Field(0.8, ge=0, le=1)
    definition: Literal["offered", "answered", "offered_less_short_abandons"] = Field(
        "offered",
        description="denominator: all offered calls; answered calls; or offered minus abandons within threshold",
    )


class ServiceLevelOverride(Model):
    """A call type's own threshold and target; what is left out comes from the scenario's service_level."""

    threshold_seconds: FiniteFloat | None = Field(None, ge=0)
    target: FiniteFloat | None = Field(None, ge=0, le=1)


class Arrivals(Model):
    """Poisson arrivals at a constant hourly rate, or one hourly rate per interval of the day."""

    per_hour: FiniteFloat | None = Field(None, ge=0)
    per_interval: list[Annotated[FiniteFloat, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _one(self) -> Arrivals:
        if (self.per_hour is None) == (self.per_interval is None):
            raise ValueError("give either per_hour or per_interval (hourly rates, one per interval)")
        return self

    def hourly_rates(self, intervals: int) -> list[float]:
        """The hourly arrival rate of each interval of a day."""
        return list(self.per_interval) if self.per_interval is not None else [self.per_hour] * intervals


class Busyness(Model):
    """A day-level gamma factor (mean 1) multiplying every call type's rates: real days vary more than Poisson."""

    cv: FiniteFloat = Field(gt=0, le=2, description="coefficient of variation of the daily factor")


class Retrial(Model):
    """Callers who abandon or get a busy signal may call again after a delay."""

    after_abandon: FiniteFloat = Field(0, ge=0, le=1, description="probability an abandoning caller calls again")
    after_blocked: FiniteFloat = Field(0, ge=0, le=1, description="probability a blocked caller calls again")
    delay: Distribution = Field(description="time until the caller tries again")
    max_attempts: PositiveWholeNumber = Field(3, description="attempts per caller, the first included")


class CallType(Model):
    """A kind of call with its own arrivals, work content, callers' patience and objective."""

    name: str = Field(min_length=1)
    priority: PositiveWholeNumber = Field(1, description="1 is served first; larger numbers wait behind")
    arrivals: Arrivals
    handle_time: Distribution
    after_call_work: Distribution | None = Field(None, description="wrap-up after the call; none if left out")
    patience: Distribution | None = Field(None, description="time callers wait before hanging up; never if left out")
    service_level: ServiceLevelOverride | None = None
    retrial: Retrial | None = None
