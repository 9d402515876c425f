"""The technology side: tools that fail (and what their outages do), self-service, AI assist and callbacks."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat
from bposim.scenario.common import Clock, Model, clock_seconds

SCOPES = {
    "down": ("groups",),
    "slow": ("groups", "call_types"),
    "ivr_off": ("call_types",),
    "arrivals_blocked": ("call_types",),
}


class Failures(Model):
    """Random failures: time up between failures, then time to repair."""

    time_between: Distribution
    repair: Distribution


class Maintenance(Model):
    """A planned outage, every day at the same time; an `exempt` one is agreed with the client as outside the
    service-level objective: the intervals it overlaps are flagged `exempt` and the summary gives the service level
    without them (`service_level_excluding_exempt`) beside the whole one."""

    start: Clock = Field(description="HH:MM")
    minutes: FiniteFloat = Field(gt=0)
    exempt: bool = Field(False, description="outside the service-level objective; reported apart")

    @property
    def start_seconds(self) -> int:
        return clock_seconds(self.start)


class Effect(Model):
    """What an outage of the tool does, and to whom (a scope left out means everyone).

    down: covered agents take no new calls, and a call in progress is finished or dropped (in_progress); slow:
    talk time of calls that
    start during the outage is multiplied; ivr_off: self-service stops and callers go straight to the queue;
    arrivals_blocked: the front door is shut, callers get a busy signal (and may retry, by their retrial rule).
    """

    type: Literal["down", "slow", "ivr_off", "arrivals_blocked"]
    multiplier: FiniteFloat | None = Field(None, gt=0, description="slow only: talk-time multiplier, e.g. 1.6")
    in_progress: Literal["finish", "drop"] = Field(
        "finish", description="down only: calls in progress when it starts are finished, or cut off (dropped)"
    )
    groups: list[str] | None = Field(None, description="agent groups covered (down, slow)")
    call_types: list[str] | None = Field(None, description="call types covered (slow, ivr_off, arrivals_blocked)")

    @model_validator(mode="after")
    def _fields_fit_type(self) -> Effect:
        if (self.type == "slow") != (self.multiplier is not None):
            raise ValueError("multiplier is required for type slow and not allowed for other types")
        if self.in_progress == "drop" and self.type != "down":
            raise ValueError("in_progress: drop applies to effects of type down only")
        allowed = SCOPES[self.type]
        for scope in ("groups", "call_types"):
            if getattr(self, scope) is not None and scope not in allowed:
                raise ValueError(f"an effect of type {self.type} is scoped by {' and '.join(allowed)}, not {scope}")
        return self


class Tool(Model):
    """A named tool (telephony, CRM, knowledge base, IVR/bot, ...) with its failures and their effects."""

    name: str = Field(min_length=1)
    failures: Failures | None = None
    maintenance: list[Maintenance] = []
    effects: list[Effect] = Field(min_length=1)

    def dated_outages(self) -> list[tuple[float, float]]:
        """Outages that happen once, as (start, seconds) from the start of the horizon: none for a tool (a site's
        outage on a date has one, `scenario.sites.SiteTool`)."""
        return []


class SelfService(Model):
    """An IVR or bot in front of a call type: some callers end there, some fail and queue anyway.

    Of the callers the bot claims to contain, the bounce_back share did not get what they needed and queue for
    an agent right after, with a longer handle time; true deflection is containment × (1 − bounce_back).
    """

    call_type: str
    containment: FiniteFloat = Field(ge=0, le=1, description="share of callers the bot ends without an agent")
    bounce_back: FiniteFloat = Field(0, ge=0, le=1, description="share of those who queue for an agent anyway")
    bot_time: Distribution = Field(description="time a caller spends in the bot")
    bounce_handle_multiplier: FiniteFloat = Field(1.0, gt=0, description="handle-time multiplier for bounced callers")


class AiAssist(Model):
    """Agent assist: a handle-time multiplier for the agents who use it."""

    enabled: bool = True
    adoption: FiniteFloat = Field(1.0, ge=0, le=1, description="share of agents using it")
    handle_time_multiplier: FiniteFloat = Field(0.9, gt=0, description="on every skill, unless given below")
    by_call_type: dict[str, FiniteFloat] = Field({}, description="multiplier per call type")
    novice_multiplier: FiniteFloat | None = Field(
        None, gt=0, description="instead, on skills where the agent's proficiency is slower than 1.0"
    )
    resolution_uplift: FiniteFloat = Field(
        0.0,
        ge=-1,
        le=1,
        description="added to the resolution probability of contacts its users answer (call types with "
        "resolution); negative when quicker handling settles fewer needs",
    )

    @field_validator("by_call_type")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, multiplier in value.items():
            if multiplier <= 0:
                raise ValueError(f"multiplier for '{name}' must be greater than 0, got {multiplier}")
        return value


class Callbacks(Model):
    """Virtual hold: when the estimated wait is long, callers are offered a call back and some accept.

    Callbacks are served when an agent is free and no live caller it may take is waiting (an idle agent of an
    overflow group, which may not take the live callers yet, calls back at once); a callback counts as within
    target if made within deadline_minutes of the request.
    """

    enabled: bool = True
    offer_when_wait_over_seconds: FiniteFloat = Field(ge=0)
    acceptance: FiniteFloat = Field(ge=0, le=1)
    deadline_minutes: FiniteFloat = Field(60, gt=0)
    call_types: list[str] | None = Field(None, description="call types offered callbacks; all if left out")


class Technology(Model):
    """Levers in front of and beside the agents."""

    self_service: list[SelfService] = []
    ai_assist: AiAssist | None = None
    callbacks: Callbacks | None = None
