"""Outbound campaigns as typed, validated configuration: who dials, from which calling list, when, with which dialer,
and what a dial meets (right party, wrong party, no answer) and costs the agent.

Blended agents dial only in their idle time: an inbound caller of their skills who waits is always served first
(`bposim.engine.outbound`). Three dialers (`dialer`):

- `preview`: a free agent takes a record, reviews it (`preview_time`), then dials it and waits through the ringing;
- `progressive`: one record per free agent, dialled at once, the agent held for it while it rings (never a
  nuisance call: an agent waits for every dial);
- `predictive`: one record per free agent, each with its agent held, and up to `dials_per_free_agent` − 1 more
  records per free agent besides; a person who answers when no held agent is left is a nuisance call (dropped:
  an abandoned outbound call). The dialer places an extra dial only while, even if every dial in flight were
  answered, the nuisance calls would stay within `nuisance_cap` of the live answers of the campaign.

A campaign dials only while more than `threshold` agents of its `threshold_groups` (by default its own groups)
are free (it leaves that many free for inbound), and only for its free agents beyond it; only inside its `hours`
on each open day, and while its calling list holds a record due: the `records` given at the start (`unlimited`:
never runs out), those arriving at `rate_per_hour` during its hours (web leads to call back), and with `retry`
those not reached coming back after a delay, up to `max_attempts` dials a record.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution, Fixed
from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.calendar import Hours, hours_of
from bposim.scenario.common import Model

DIALERS = ("preview", "progressive", "predictive")
RETRIABLE = ("no_answer", "wrong_party", "nuisance")


class Retry(Model):
    """Records a dial did not complete come back to the list `after_minutes` later (dialled again only within the
    campaign's hours), until a record has had `max_attempts` dials; `on` names the results that bring one back."""

    after_minutes: FiniteFloat = Field(gt=0, description="delay before a record not reached is due again")
    max_attempts: PositiveWholeNumber = Field(3, le=100, description="dials of one record at most, the first included")
    on: list[Literal["no_answer", "wrong_party", "nuisance"]] = Field(
        ["no_answer", "nuisance"],
        min_length=1,
        description="results that bring a record back: no_answer, wrong_party, nuisance",
    )


class Campaign(Model):
    """An outbound campaign: the agent groups that dial it, its calling list and hours, the dialer, and what a dial
    meets. Probabilities are per dial; a dial nobody answers (no answer, busy, answering machine) is `no_answer`."""

    name: str = Field(min_length=1)
    groups: list[str] = Field(min_length=1, description="agent groups whose agents dial in their idle time")
    records: PositiveWholeNumber | Literal["unlimited"] | None = Field(
        None, description="records in the calling list at the start of the horizon, or unlimited (never runs out)"
    )
    rate_per_hour: FiniteFloat | None = Field(
        None, gt=0, description="records arriving to the list an hour during the campaign's hours (Poisson)"
    )
    retry: Retry | None = Field(None, description="records not reached dialled again after a delay")
    hours: str | None = Field(
        None, description='when the dialer runs each open day, "HH:MM-HH:MM" (none: all the open hours)'
    )
    dialer: Literal["preview", "progressive", "predictive"] = Field(
        "progressive", description="preview, progressive or predictive"
    )
    threshold: WholeNumber = Field(
        0, description="agents of threshold_groups left free for inbound: dial only while more are free"
    )
    threshold_groups: list[str] | None = Field(
        None,
        min_length=1,
        description="agent groups whose free agents count against threshold (none: the campaign's groups)",
    )
    dials_per_free_agent: FiniteFloat = Field(
        1.5, ge=1, le=10, description="predictive: records dialled per free agent at most (lowered by the cap)"
    )
    nuisance_cap: FiniteFloat = Field(
        0.03, ge=0, lt=1, description="predictive: nuisance calls at most this share of the live answers"
    )
    right_party: FiniteFloat = Field(ge=0, le=1, description="probability a dial reaches the person sought")
    wrong_party: FiniteFloat = Field(0, ge=0, le=1, description="probability a dial reaches someone else")
    preview_time: Distribution = Field(
        Fixed(distribution="fixed", value_seconds=30), description="preview: the agent's review of a record"
    )
    ring_time: Distribution = Field(
        Fixed(distribution="fixed", value_seconds=12), description="from the dial to a person answering"
    )
    no_answer_time: Distribution = Field(
        Fixed(distribution="fixed", value_seconds=25), description="from the dial to giving up on a dial not answered"
    )
    wrong_party_time: Distribution = Field(
        Fixed(distribution="fixed", value_seconds=20), description="the agent's talk with a wrong party"
    )
    talk_time: Distribution = Field(description="the agent's talk with the right party")
    after_call_work: Distribution = Field(
        Fixed(distribution="fixed", value_seconds=0), description="after a right-party talk"
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and hours_of(value) is None:
            raise ValueError('write "HH:MM-HH:MM", e.g. "09:00-18:00"')
        return value

    @model_validator(mode="after")
    def _a_list(self) -> Campaign:
        if self.records is None and self.rate_per_hour is None:
            raise ValueError(
                "give the calling list: records (a number, or unlimited), rate_per_hour (records arriving an hour), "
                "or both"
            )
        return self

    @model_validator(mode="after")
    def _outcomes(self) -> Campaign:
        if self.right_party + self.wrong_party > 1 + 1e-12:
            raise ValueError(
                f"right_party + wrong_party is {self.right_party + self.wrong_party:g}; the two are shares of the "
                "dials and sum to at most 1 (the rest are not answered)"
            )
        return self

    @model_validator(mode="after")
    def _dials_take_time(self) -> Campaign:
        if self.mean_dial_seconds < 1.0:
            raise ValueError(
                f"a dial holds its agent {self.mean_dial_seconds:g} s on average (preview, ringing, talk); give "
                "no_answer_time, ring_time and talk_time means that make it at least 1 s"
            )
        return self

    @property
    def mean_dial_seconds(self) -> float:
        """The mean time a dial holds its agent: the preview (preview dialer), then the ringing and the talk of
        whatever it reaches."""
        right, wrong = self.right_party, self.wrong_party
        seconds = (1.0 - right - wrong) * self.no_answer_time.mean
        seconds += right * (self.ring_time.mean + self.talk_time.mean + self.after_call_work.mean)
        seconds += wrong * (self.ring_time.mean + self.wrong_party_time.mean)
        return seconds + (self.preview_time.mean if self.dialer == "preview" else 0.0)

    @property
    def list_size(self) -> float:
        """The records in the list at the start: a number, infinity (unlimited) or 0 (records only arrive)."""
        if self.records == "unlimited":
            return math.inf
        return 0.0 if self.records is None else float(self.records)

    @property
    def max_attempts(self) -> int:
        """Dials of one record at most: 1 without retry."""
        return 1 if self.retry is None else self.retry.max_attempts

    @property
    def window(self) -> Hours | None:
        """The campaign's hours as seconds after midnight (None: all the open hours)."""
        return None if self.hours is None else hours_of(self.hours)


def campaign_errors(campaigns: list[Campaign], groups: list[str]) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Cross-field problems of the campaigns: names given twice, groups (dialling or counted against the threshold)
    unknown or listed twice."""
    known = ", ".join(groups)
    seen: set[str] = set()
    for c, campaign in enumerate(campaigns):
        if campaign.name in seen:
            yield ("outbound", c, "name"), f"campaign '{campaign.name}' is defined twice", campaign.name
        seen.add(campaign.name)
        listed: set[str] = set()
        for g, group in enumerate(campaign.groups):
            if group not in groups:
                yield ("outbound", c, "groups", g), f"unknown agent group '{group}'; known: {known}", group
            elif group in listed:
                yield ("outbound", c, "groups", g), f"agent group '{group}' is listed twice", group
            listed.add(group)
        counted: set[str] = set()
        for g, group in enumerate(campaign.threshold_groups or ()):
            if group not in groups:
                yield ("outbound", c, "threshold_groups", g), f"unknown agent group '{group}'; known: {known}", group
            elif group in counted:
                yield ("outbound", c, "threshold_groups", g), f"agent group '{group}' is listed twice", group
            counted.add(group)
