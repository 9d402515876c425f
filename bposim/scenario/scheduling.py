"""Shift scheduling as configuration: the shift patterns the roster optimiser may use, and its limits.

A pattern is a set of shifts: one or more lengths, start times on a grid, and breaks that may start anywhere
in a span of hours into the shift. Checks that need only the patterns live on the models; checks against the
centre (groups that do not exist, shifts outside the opening hours) are in `scheduling_errors`, which the
Scenario validator calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator, model_validator

from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.common import Clock, Model, clock_seconds
from bposim.scenario.errors import listed

if TYPE_CHECKING:
    from bposim.scenario.centre import Horizon, Scenario

Hours = Annotated[FiniteFloat, Field(gt=0, le=24)]


class StartTimes(Model):
    """When shifts of a pattern may start: every `every_minutes` from `earliest` to `latest`."""

    earliest: Clock = Field(description="first start, HH:MM")
    latest: Clock | None = Field(None, description="last start, HH:MM; only `earliest` if left out")
    every_minutes: PositiveWholeNumber = Field(30, le=1440, description="step between start times")

    @model_validator(mode="after")
    def _order(self) -> StartTimes:
        if self.latest is not None and clock_seconds(self.latest) < clock_seconds(self.earliest):
            raise ValueError(f"latest start {self.latest} is before the earliest {self.earliest}")
        return self

    def seconds(self) -> list[int]:
        """Every start time, as seconds after midnight."""
        first = clock_seconds(self.earliest)
        last = clock_seconds(self.latest) if self.latest is not None else first
        return list(range(first, last + 1, self.every_minutes * 60))


class BreakRule(Model):
    """A break each shift of the pattern takes, starting between after_hours[0] and after_hours[1] into it."""

    name: str = Field(min_length=1)
    minutes: PositiveWholeNumber = Field(description="length of the break, whole minutes")
    after_hours: tuple[FiniteFloat, FiniteFloat] = Field(
        description="earliest and latest start of the break, in hours after the shift starts"
    )
    every_minutes: PositiveWholeNumber | None = Field(
        None, description="step between the break's possible starts; the planning interval if left out"
    )
    paid: bool = True

    @field_validator("after_hours")
    @classmethod
    def _span(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] < 0 or value[1] < value[0]:
            raise ValueError(
                f"give [earliest, latest] hours after the shift start, 0 ≤ earliest ≤ latest; got "
                f"[{value[0]:g}, {value[1]:g}]"
            )
        return value

    def offsets(self, step_minutes: int) -> list[int]:
        """The possible starts of the break, as seconds after the shift start."""
        step = (self.every_minutes or step_minutes) * 60
        first, last = round(self.after_hours[0] * 3600), round(self.after_hours[1] * 3600)
        return list(range(first, last + 1, step))


class ShiftPattern(Model):
    """Shifts the optimiser may roster: for some groups, of given lengths, starting on a grid, with breaks."""

    name: str = Field(min_length=1)
    groups: list[str] | None = Field(None, min_length=1, description="agent groups that work it; all if left out")
    length_hours: Hours | list[Hours] = Field(description="shift length (log-in to log-out), or several")
    starts: StartTimes
    breaks: list[BreakRule] = []

    @field_validator("length_hours")
    @classmethod
    def _lengths(cls, value: float | list[float]) -> float | list[float]:
        lengths = value if isinstance(value, list) else [value]
        if not lengths:
            raise ValueError("give at least one length")
        for length in lengths:
            if abs(length * 60 - round(length * 60)) > 1e-9:
                raise ValueError(f"{length:g} hours is not a whole number of minutes")
        return value

    @model_validator(mode="after")
    def _breaks_fit(self) -> ShiftPattern:
        shortest = min(self.lengths_seconds)
        for item in self.breaks:
            end = item.after_hours[0] * 3600 + item.minutes * 60
            if end > shortest:
                raise ValueError(
                    f"break '{item.name}' cannot end inside a {shortest / 3600:g}-hour shift when it "
                    f"starts {item.after_hours[0]:g} hours in"
                )
        names = Counter(item.name for item in self.breaks)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ValueError(f"break names must differ within a pattern; repeated: {', '.join(twice)}")
        return self

    @property
    def lengths_seconds(self) -> list[int]:
        lengths = self.length_hours if isinstance(self.length_hours, list) else [self.length_hours]
        return [round(length * 3600) for length in lengths]

    def shift_times(self, horizon: Horizon) -> list[tuple[int, int]]:
        """(start, end) in seconds after midnight of every shift the pattern allows inside the opening hours."""
        opening = horizon.start_seconds
        closing = opening + horizon.open_seconds
        return [
            (start, start + length)
            for start in self.starts.seconds()
            for length in self.lengths_seconds
            if start >= opening and start + length <= closing
        ]


class Scheduling(Model):
    """What the roster optimiser may do: the shift patterns, headcount limits, and an occupancy cap."""

    shifts: list[ShiftPattern] = Field(min_length=1, description="the shift patterns the optimiser may use")
    max_agents: dict[str, WholeNumber] = Field(
        {}, description="agents available per group (headcount on shifts in a day); no limit if left out"
    )
    occupancy_cap: FiniteFloat | None = Field(
        None, gt=0, le=1, description="size intervals so agents are busy at most this share of their on-phone time"
    )

    @field_validator("shifts")
    @classmethod
    def _names_once(cls, value: list[ShiftPattern]) -> list[ShiftPattern]:
        names = Counter(pattern.name for pattern in value)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ValueError(f"shift pattern names must differ; repeated: {', '.join(twice)}")
        return value

    def groups_of(self, pattern: ShiftPattern, all_groups: list[str]) -> list[str]:
        """The agent groups a pattern applies to."""
        return list(pattern.groups) if pattern.groups is not None else list(all_groups)

    def scheduled_groups(self, all_groups: list[str]) -> list[str]:
        """The agent groups some pattern applies to, in the scenario's order."""
        named = {group for pattern in self.shifts for group in self.groups_of(pattern, all_groups)}
        return [group for group in all_groups if group in named]


def scheduling_errors(scheduling: Scheduling, scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Problems between the scheduling section and the centre, located under ("scheduling", ...)."""
    groups = [group.name for group in scenario.agent_groups]
    group_names = set(groups)
    known = listed(groups)
    horizon = scenario.horizon
    if horizon.end is None:
        yield ("scheduling",), "shift scheduling needs a horizon with an end time (HH:MM), not length_hours", None
        return
    for p, pattern in enumerate(scheduling.shifts):
        for g, name in enumerate(pattern.groups or []):
            if name not in group_names:
                yield ("scheduling", "shifts", p, "groups", g), f"unknown agent group '{name}'; known: {known}", name
        if not pattern.shift_times(horizon):
            lengths = "/".join(f"{seconds / 3600:g}" for seconds in pattern.lengths_seconds)
            latest = pattern.starts.latest or pattern.starts.earliest
            yield (
                ("scheduling", "shifts", p, "starts"),
                f"no {lengths}-hour shift starting between {pattern.starts.earliest} and {latest} fits in the "
                f"opening hours {horizon.start}-{horizon.end}",
                pattern.starts.earliest,
            )
    for name in scheduling.max_agents:
        if name not in group_names:
            yield ("scheduling", "max_agents", name), f"unknown agent group '{name}'; known: {known}", name
