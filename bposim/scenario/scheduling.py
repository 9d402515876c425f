"""Shift scheduling as configuration: the shift patterns the roster optimiser may use, and its limits.

A pattern is a set of shifts: one or more lengths, start times on a grid, and breaks that may start anywhere
in a span of hours into the shift. Checks that need only the patterns live on the models; checks against the
centre (groups that do not exist, shifts outside the opening hours) are in `scheduling_errors`, which the
Scenario validator calls.

Weekly rules. With `contracts`, the optimiser plans agents' weeks on a calendar horizon (tour scheduling,
`bposim.optimise.tours`): each contract (full time, part time, ...) says how many days a week its agents work,
the days off held together, the weekend rule, the rest between shifts, how far a week's start times may lie
apart, the paid hours a week holds at most and its headcount; `limits` keep the roster workable (few distinct
start times a day, no shift line with a lone agent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.common import Clock, Model, clock_seconds
from bposim.scenario.errors import listed

if TYPE_CHECKING:
    from bposim.scenario.centre import Horizon, Scenario

Hours = Annotated[FiniteFloat, Field(gt=0, le=24)]
WEEK_DAYS = 7
DEFAULT_FLOOR_SHARE = 0.75  # objective period without interval_floor: no interval below 3/4 of the target (60% of 80%)


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


class Contract(Model):
    """The weekly rules of agents under one contract (full time, part time, ...): days worked, days off together,
    weekends, rest between shifts, start times across the week, weekly hours, headcount and the patterns
    worked."""

    name: str = Field(min_length=1)
    groups: list[str] | None = Field(None, min_length=1, description="agent groups under it; all if left out")
    days: tuple[WholeNumber, WholeNumber] = Field((5, 5), description="days worked a week, [min, max], from 0 to 7")
    days_off_together: PositiveWholeNumber = Field(
        1, le=WEEK_DAYS, description="a week's days off hold a run of at least this many consecutive days"
    )
    weekend: Literal["any", "one_off", "both_off", "alternate"] = Field(
        "any",
        description="any; one_off: Saturday or Sunday off; both_off; alternate: both off every other week",
    )
    min_rest_hours: FiniteFloat = Field(11.0, ge=0, le=48, description="hours between a shift's end and the next")
    start_window_hours: FiniteFloat | None = Field(
        None, ge=0, le=24, description="a week's shift starts lie within this many hours; any if left out"
    )
    max_weekly_hours: FiniteFloat | None = Field(None, gt=0, le=168, description="paid hours a week at most")
    max_agents: WholeNumber | None = Field(None, description="agents under the contract at most; no limit if left out")
    shifts: list[str] | None = Field(
        None, min_length=1, description="names of the shift patterns it works; all of its groups' if left out"
    )

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 0 <= low <= high <= WEEK_DAYS or high == 0:
            raise ValueError(f"give [min, max] days a week with 0 ≤ min ≤ max ≤ 7 and max ≥ 1; got [{low}, {high}]")
        return value

    @model_validator(mode="after")
    def _off_together(self) -> Contract:
        if self.days_off_together > WEEK_DAYS - self.days[0] and self.days_off_together > 1:
            raise ValueError(
                f"days_off_together {self.days_off_together} does not fit in a week of at least {self.days[0]} "
                f"days worked (at most {WEEK_DAYS - self.days[0]} days off)"
            )
        return self


class WorkableLimits(Model):
    """What keeps a weekly roster workable: few distinct start times a day, and no shift line of one agent."""

    max_starts_per_day: PositiveWholeNumber | None = Field(
        None, description="distinct shift start times per group and day at most"
    )
    min_agents_per_line: PositiveWholeNumber | None = Field(
        None, description="agents on a shift line (a shift on a day) at least, when it is used"
    )


class Scheduling(Model):
    """What the roster optimiser may do: the shift patterns, headcount limits, and an occupancy cap; with
    contracts, the weekly rules of agents' weeks on a calendar horizon and the limits that keep them workable."""

    shifts: list[ShiftPattern] = Field(min_length=1, description="the shift patterns the optimiser may use")
    max_agents: dict[str, WholeNumber] = Field(
        {}, description="agents available per group (headcount on shifts in a day); no limit if left out"
    )
    occupancy_cap: FiniteFloat | None = Field(
        None, gt=0, le=1, description="size intervals so agents are busy at most this share of their on-phone time"
    )
    contracts: list[Contract] = Field(
        [], description="weekly rules of agents' weeks (needs a calendar horizon); a daily roster if left out"
    )
    limits: WorkableLimits | None = Field(None, description="workable limits of a weekly roster (needs contracts)")
    objective: Literal["interval", "period"] = Field(
        "interval",
        description="what the roster must meet: every interval's target (interval), or each call type's target over "
        "its service_level.period with no interval below interval_floor (period)",
    )
    interval_floor: FiniteFloat | None = Field(
        None,
        gt=0,
        le=1,
        description="with objective period, the service level no interval may fall below (within each call type's "
        "threshold); DEFAULT_FLOOR_SHARE × each call type's target if left out",
    )

    confidence: FiniteFloat | None = Field(
        None,
        gt=0,
        lt=1,
        description="with objective period, the probability each call type's period must meet its target with "
        "(the share of simulated periods meeting it); the pooled mean judged if left out",
    )

    @model_validator(mode="after")
    def _floor_needs_period(self) -> Scheduling:
        if self.interval_floor is not None and self.objective != "period":
            raise ValueError("interval_floor applies to objective: period; leave it out or give objective: period")
        if self.confidence is not None and self.objective != "period":
            raise ValueError("confidence applies to objective: period; leave it out or give objective: period")
        return self

    @field_validator("shifts")
    @classmethod
    def _names_once(cls, value: list[ShiftPattern]) -> list[ShiftPattern]:
        names = Counter(pattern.name for pattern in value)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ValueError(f"shift pattern names must differ; repeated: {', '.join(twice)}")
        return value

    @field_validator("contracts")
    @classmethod
    def _contract_names_once(cls, value: list[Contract]) -> list[Contract]:
        names = Counter(contract.name for contract in value)
        twice = sorted(name for name, count in names.items() if count > 1)
        if twice:
            raise ValueError(f"contract names must differ; repeated: {', '.join(twice)}")
        return value

    def floor_for(self, target: float) -> float:
        """The interval floor of a call type with this target under objective period."""
        if self.interval_floor is not None:
            return min(self.interval_floor, target)
        return DEFAULT_FLOOR_SHARE * target

    @property
    def weekly(self) -> bool:
        """Whether the optimiser plans agents' weeks (contracts given) rather than one repeated day."""
        return bool(self.contracts)

    def contract_groups(self, contract: Contract, all_groups: list[str]) -> list[str]:
        """The agent groups a contract applies to."""
        return list(contract.groups) if contract.groups is not None else list(all_groups)

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
    if horizon.length_hours is not None:
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
    yield from _weekly_errors(scheduling, groups, horizon)
    yield from _objective_errors(scheduling, scenario)


def _objective_errors(scheduling: Scheduling, scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """The period objective's floor lies at or below every live call type's target."""
    if scheduling.objective != "period":
        return
    floor = scheduling.interval_floor
    if floor is None:
        return
    for call_type in scenario.call_types:
        target = scenario.service_level_for(call_type)[1]
        if call_type.live and floor > target:
            yield (
                ("scheduling", "interval_floor"),
                f"the floor {floor:g} is above call type '{call_type.name}''s target {target:g}; give a floor at or "
                "below every target",
                floor,
            )


def _weekly_errors(
    scheduling: Scheduling, groups: list[str], horizon: Horizon
) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Contracts need a calendar horizon of whole weeks, known groups and patterns, and each scheduled group a
    contract; limits need contracts."""
    if not scheduling.contracts:
        if scheduling.limits is not None:
            yield ("scheduling", "limits"), "limits apply to a weekly roster: give contracts too", None
        return
    if horizon.start_date is None:
        yield (
            ("scheduling", "contracts"),
            "contracts plan agents' weeks on dates: the horizon needs a start_date (YYYY-MM-DD) and weeks",
            None,
        )
    elif horizon.days > WEEK_DAYS and horizon.days % WEEK_DAYS:
        yield (
            ("scheduling", "contracts"),
            f"contracts plan whole weeks: the horizon has {horizon.days} days; give at most 7 days or whole weeks "
            "(weeks: 1, 2, ...)",
            horizon.days,
        )
    known_groups, patterns = listed(groups), [pattern.name for pattern in scheduling.shifts]
    covered: set[str] = set()
    for c, contract in enumerate(scheduling.contracts):
        for g, name in enumerate(contract.groups or []):
            if name not in groups:
                yield (
                    ("scheduling", "contracts", c, "groups", g),
                    f"unknown agent group '{name}'; known: {known_groups}",
                    name,
                )
        mine = scheduling.contract_groups(contract, groups)
        covered.update(mine)
        for s, name in enumerate(contract.shifts or []):
            if name not in patterns:
                yield (
                    ("scheduling", "contracts", c, "shifts", s),
                    f"unknown shift pattern '{name}'; known: {listed(patterns)}",
                    name,
                )
        usable = [
            pattern
            for pattern in scheduling.shifts
            if (contract.shifts is None or pattern.name in contract.shifts)
            and set(mine) & set(scheduling.groups_of(pattern, groups))
        ]
        if not usable and all(name in patterns for name in contract.shifts or []):
            yield (
                ("scheduling", "contracts", c),
                f"contract '{contract.name}' has no shift pattern for its groups ({', '.join(mine)})",
                contract.name,
            )
    for name in scheduling.scheduled_groups(groups):
        if name not in covered:
            yield (
                ("scheduling", "contracts"),
                f"group '{name}' has shift patterns but no contract: give it one (contracts[].groups)",
                name,
            )
