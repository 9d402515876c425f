"""A kind of contact as typed, validated configuration: its channel, arrivals, work content, customers' patience and
retrials, and the service-level objective it is measured against (the scenario's, or its own); and the day-level
busyness that scales every call type's arrivals.

Channels (`channel`): `voice` and `chat` are live (a customer waits, may hang up, and the service level is the
share answered within seconds); `email` and `case` are deferred work (items wait in a backlog that carries over
nights and closed days, never abandon unless given a patience, and the service level is the share completed within
a due time in hours). A chat agent holds several sessions at once (`agent_groups[].max_concurrency`); each session
then takes longer, by the `sequential_share` of its handle time that needs the agent's whole attention. An
`interruptible` email or case item may be stopped for a live contact that would otherwise wait, and is resumed
later with the work it has left.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.common import Model

LIVE_CHANNELS = ("voice", "chat")
DEFERRED_CHANNELS = ("email", "case")
CHANNELS = LIVE_CHANNELS + DEFERRED_CHANNELS
DUE_HOURS = {"email": 24.0, "case": 48.0}  # a deferred call type's due time when it gives none
PERIODS = ("interval", "day", "week", "month")  # what a service-level target is measured over
Period = Literal["interval", "day", "week", "month"]
PERIOD_HELP = (
    "what the target is measured over, pooled: interval, day, week (ISO, Monday to Sunday) or month (calendar); "
    "week and month need horizon.start_date"
)


class ServiceLevel(Model):
    """The service-level objective: `target` of calls answered within `threshold_seconds`, over each `period`
    (`bposim.periods`)."""

    threshold_seconds: FiniteFloat = Field(20, ge=0)
    target: FiniteFloat = Field(0.8, ge=0, le=1)
    definition: Literal["offered", "answered", "offered_less_short_abandons"] = Field(
        "offered",
        description="denominator: all offered calls; answered calls; or offered minus abandons within threshold",
    )
    period: Period = Field("interval", description=PERIOD_HELP)


class ServiceLevelOverride(Model):
    """A call type's own threshold, target and period; what is left out comes from the scenario's service_level.

    Deferred work (email, case) is due `threshold_hours` after it arrives (default: email 24 h, case 48 h)."""

    threshold_seconds: FiniteFloat | None = Field(None, ge=0)
    threshold_hours: FiniteFloat | None = Field(None, gt=0, description="due time of deferred work (email, case)")
    target: FiniteFloat | None = Field(None, ge=0, le=1)
    period: Period | None = Field(None, description=PERIOD_HELP)

    @model_validator(mode="after")
    def _one_threshold(self) -> ServiceLevelOverride:
        if self.threshold_seconds is not None and self.threshold_hours is not None:
            raise ValueError("give threshold_seconds (live channels) or threshold_hours (email, case), not both")
        return self


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


class BacklogBand(Model):
    """Items already waiting when the horizon opens, all of one age."""

    items: WholeNumber
    age_hours: FiniteFloat = Field(ge=0, description="how long they have waited at the first opening")


class CallType(Model):
    """A kind of contact with its own channel, arrivals, work content, customers' patience and objective."""

    name: str = Field(min_length=1)
    channel: Literal["voice", "chat", "email", "case"] = Field(
        "voice", description="voice and chat are live; email and case are deferred work with a due time in hours"
    )
    priority: PositiveWholeNumber = Field(1, description="1 is served first; larger numbers wait behind")
    arrivals: Arrivals
    handle_time: Distribution
    after_call_work: Distribution | None = Field(None, description="wrap-up after the call; none if left out")
    patience: Distribution | None = Field(None, description="time callers wait before hanging up; never if left out")
    service_level: ServiceLevelOverride | None = None
    retrial: Retrial | None = None
    sequential_share: FiniteFloat | None = Field(
        None,
        ge=0,
        le=1,
        description="chat: the share of a session's handle time that needs the agent's whole attention; a session "
        "held with n-1 others takes 1 + share * (n-1) times as long (0, the default: no slow-down)",
    )
    initial_backlog: list[BacklogBand] = Field([], description="email, case: items waiting at the first opening")
    interruptible: bool = Field(
        False,
        description="email, case: an agent working an item stops it for a live contact that would otherwise wait; "
        "the item goes back to the head of its queue with the work it has left",
    )

    @model_validator(mode="after")
    def _channel_fields(self) -> CallType:
        """Fields that belong to one kind of channel are refused on the others, naming the channel."""
        live = self.channel in LIVE_CHANNELS
        misplaced = []
        if self.sequential_share is not None and self.channel != "chat":
            misplaced.append("sequential_share (chat only)")
        if live and self.initial_backlog:
            misplaced.append("initial_backlog (email and case only)")
        if live and self.interruptible:
            misplaced.append("interruptible (email and case only: a live contact is never stopped)")
        if not live and self.retrial is not None:
            misplaced.append("retrial (voice and chat only)")
        override = self.service_level
        if live and override is not None and override.threshold_hours is not None:
            misplaced.append("service_level.threshold_hours (email and case; live channels take threshold_seconds)")
        if not live and override is not None and override.threshold_seconds is not None:
            misplaced.append("service_level.threshold_seconds (voice and chat; email and case take threshold_hours)")
        if misplaced:
            raise ValueError(f"{_article(self.channel)} {self.channel} call type cannot have {'; '.join(misplaced)}")
        return self

    @property
    def live(self) -> bool:
        """Whether a customer waits on the line (voice, chat), rather than an item in a backlog (email, case)."""
        return self.channel in LIVE_CHANNELS

    @property
    def due_seconds(self) -> float | None:
        """Deferred work: seconds from arrival to due time; None for live channels."""
        if self.live:
            return None
        hours = self.service_level.threshold_hours if self.service_level is not None else None
        return (DUE_HOURS[self.channel] if hours is None else hours) * 3600.0

    @property
    def stretch(self) -> float:
        """Chat: the extra handle time per other session held (the sequential share; 0 when none is given)."""
        return self.sequential_share or 0.0


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
