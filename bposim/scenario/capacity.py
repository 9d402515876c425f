"""A capacity plan as configuration: months of weeks of headcount, hiring classes and attrition, over a scenario.

A plan is a file of its own that names its scenario (`scenario: helpdesk.yaml`, relative to the plan file): the
scenario is a representative open day of the centre (its call types, groups, handle times, shrinkage, costs), the
plan the weeks around it (who is employed, who joins, who leaves, how busy each week is). One scenario can then
carry several plans, and a plan never changes what the scenario simulates. `load_plan` reads both and checks the
plan against the scenario (its groups and its costs).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.calendar import read_date
from bposim.scenario.centre import Scenario
from bposim.scenario.clients import Billing
from bposim.scenario.common import Model
from bposim.scenario.errors import ScenarioError, format_validation_error, listed

Share = Annotated[FiniteFloat, Field(ge=0, le=1)]
Productivity = Annotated[FiniteFloat, Field(gt=0, le=2)]
PlanDate = Annotated[datetime.date, Field(description="YYYY-MM-DD")]


def _check_span(tenure_weeks: tuple[int, int | None]) -> None:
    """A tenure band [from, to) must hold a week."""
    low, high = tenure_weeks
    if high is not None and high <= low:
        raise ValueError(f"tenure_weeks [{low}, {high}] is empty; write [from, to) with to > from, or to: null")


class TenureBand(Model):
    """Agents of a group employed at the plan's start with the same tenure (weeks since their hire)."""

    tenure_weeks: WholeNumber = Field(description="weeks since hire at the plan's start date")
    agents: WholeNumber = Field(description="agents with this tenure")


class StartingHeadcount(Model):
    """A group's agents at the plan's start, by tenure band."""

    group: str = Field(min_length=1)
    bands: list[TenureBand] = Field(min_length=1)


class HiringClass(Model):
    """New hires starting together: paid but off the phones while training, then nesting on the phones at a
    productivity rising from `nesting_proficiency[0]` to `[1]`; a share `graduation_rate` passes training."""

    group: str = Field(min_length=1)
    size: PositiveWholeNumber
    start_date: PlanDate
    training_weeks: WholeNumber = 4
    nesting_weeks: WholeNumber = 4
    nesting_proficiency: tuple[Productivity, Productivity] = (0.5, 0.9)
    graduation_rate: Share = 1.0

    @field_validator("start_date", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        return read_date(value)


class AttritionBand(Model):
    """The chance an agent leaves in a week, for tenures in [from, to) weeks (`to` null: no end)."""

    tenure_weeks: tuple[WholeNumber, WholeNumber | None]
    weekly_probability: Share

    @model_validator(mode="after")
    def _span(self) -> AttritionBand:
        _check_span(self.tenure_weeks)
        return self


class ProficiencyBand(Model):
    """Tenured agents' productivity for tenures in [from, to) weeks: 0.9 handles 90% of a seasoned agent's calls."""

    tenure_weeks: tuple[WholeNumber, WholeNumber | None]
    proficiency: Productivity

    @model_validator(mode="after")
    def _span(self) -> ProficiencyBand:
        _check_span(self.tenure_weeks)
        return self


class Volume(Model):
    """Each week's factor on the scenario's arrivals: (1 + weekly_trend)^week × its own factor, drawn around that
    with a coefficient of variation `cv` (forecast uncertainty: gamma, mean 1) in each replication."""

    weekly_trend: FiniteFloat = Field(0.0, gt=-1, le=1)
    factors: dict[PlanDate, Annotated[FiniteFloat, Field(gt=0)]] = Field(
        default_factory=dict, description="week starts (YYYY-MM-DD, a date in the week) to a factor"
    )
    cv: FiniteFloat = Field(0.0, ge=0, le=1)

    @field_validator("factors", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return {read_date(key): factor for key, factor in value.items()} if isinstance(value, dict) else value


class WhatIf(Model):
    """Another set of hiring classes to weigh against the plan's, under the same random numbers."""

    name: str = Field(min_length=1)
    hiring_classes: list[HiringClass] = Field(default_factory=list, description="replaces the plan's classes")


class CapacityPlan(Model):
    """Weeks of workforce around a representative day: see the module docstring and the README's "Capacity plan"."""

    name: str = Field("capacity plan", min_length=1)
    scenario: str = Field(min_length=1, description="the scenario file, relative to the plan file")
    start_date: PlanDate
    weeks: PositiveWholeNumber = Field(le=260)
    open_days_per_week: Annotated[FiniteFloat, Field(gt=0, le=7)] = 5.0
    paid_hours_per_week: Annotated[FiniteFloat, Field(gt=0, le=80)] = 37.5
    shrinkage: Share | None = Field(None, lt=1, description="one share for every group; else the scenario's")
    service_level: str = Field("erlang", pattern="^(erlang|simulation)$")
    simulated_days: PositiveWholeNumber = Field(1, le=7)
    headcount: list[StartingHeadcount] = Field(min_length=1)
    hiring_classes: list[HiringClass] = Field(default_factory=list)
    attrition: list[AttritionBand] = Field(default_factory=list)
    proficiency_by_tenure: list[ProficiencyBand] = Field(default_factory=list)
    volume: Volume = Volume()
    what_ifs: list[WhatIf] = Field(default_factory=list, description="other hiring classes, compared with the plan's")
    revenue: Billing | None = Field(
        None, description="what the live calls earn when the scenario has no clients with contracts (bposim.contracts)"
    )

    @field_validator("what_ifs")
    @classmethod
    def _names_once(cls, value: list[WhatIf]) -> list[WhatIf]:
        names = [option.name for option in value]
        twice = sorted({name for name in names if names.count(name) > 1 or name in ("plan", "what-if")})
        if twice:
            raise ValueError(f"what-if names must differ from each other and from plan / what-if: {', '.join(twice)}")
        return value

    def options(self) -> dict[str, CapacityPlan]:
        """The plan ("plan") and each what-if by name, as plans with their own hiring classes."""
        found = {"plan": self.model_copy(update={"what_ifs": []})}
        for option in self.what_ifs:
            found[option.name] = self.model_copy(update={"what_ifs": [], "hiring_classes": option.hiring_classes})
        return found

    @field_validator("start_date", mode="before")
    @classmethod
    def _start(cls, value: Any) -> Any:
        return read_date(value)

    @property
    def end_date(self) -> datetime.date:
        """The day after the plan's last week."""
        return self.start_date + datetime.timedelta(weeks=self.weeks)

    def week_of(self, date: datetime.date) -> int:
        """The 0-based week of the plan a date falls in."""
        return (date - self.start_date).days // 7

    def week_start(self, week: int) -> datetime.date:
        """The first date of week `week`."""
        return self.start_date + datetime.timedelta(weeks=week)


def plan_errors(plan: CapacityPlan, scenario: Scenario) -> list[str]:
    """Problems between the plan and its scenario, each "field path: problem": groups, dates and bands."""
    groups = [group.name for group in scenario.agent_groups]
    problems = []
    seen = set()
    for n, start in enumerate(plan.headcount):
        if start.group not in groups:
            problems.append(f"headcount[{n}].group: unknown agent group '{start.group}'; known: {listed(groups)}")
        if start.group in seen:
            problems.append(f"headcount[{n}].group: '{start.group}' is given twice")
        seen.add(start.group)
    classes = [("hiring_classes", plan.hiring_classes)]
    classes += [(f"what_ifs[{m}].hiring_classes", option.hiring_classes) for m, option in enumerate(plan.what_ifs)]
    for field, hirings in classes:
        for n, hiring in enumerate(hirings):
            if hiring.group not in groups:
                known = listed(groups)
                problems.append(f"{field}[{n}].group: unknown agent group '{hiring.group}'; known: {known}")
            if not plan.start_date <= hiring.start_date < plan.end_date:
                problems.append(
                    f"{field}[{n}].start_date: {hiring.start_date} is outside the plan "
                    f"({plan.start_date} to {plan.end_date - datetime.timedelta(days=1)})"
                )
    for date in plan.volume.factors:
        if not plan.start_date <= date < plan.end_date:
            problems.append(f"volume.factors.{date}: outside the plan ({plan.start_date} to {plan.end_date})")
    problems += _band_overlaps("attrition", plan.attrition)
    problems += _band_overlaps("proficiency_by_tenure", plan.proficiency_by_tenure)
    if not any(ct.live for ct in scenario.call_types):
        problems.append("scenario: has no live call type (voice, chat) to plan the phones for")
    for ct in scenario.call_types:
        arrivals = ct.arrivals
        if arrivals.by_day_type or arrivals.weekly or arrivals.by_date:
            problems.append(
                f"scenario: call type '{ct.name}' has arrivals on dates; a plan's scenario is one representative "
                "day with per_hour or per_interval arrivals"
            )
    problems += _revenue_errors(plan, scenario, groups)
    if scenario.roster:
        problems.append("scenario: has a roster; a plan's scenario staffs its groups by plan (agents:)")
    if scenario.horizon.days != 1:
        problems.append(f"scenario: horizon.days is {scenario.horizon.days}; a plan's scenario is one day")
    return problems


def _revenue_errors(plan: CapacityPlan, scenario: Scenario, groups: list[str]) -> list[str]:
    """The plan's `revenue` goes with a scenario whose clients have no contract, and bills known groups."""
    if plan.revenue is None:
        return []
    problems = []
    if any(client.contract is not None for client in scenario.clients or []):
        problems.append(
            "revenue: the scenario's clients have contracts, which price the plan; drop revenue (or the contracts)"
        )
    for n, group in enumerate(plan.revenue.groups or []):
        if group not in groups:
            problems.append(f"revenue.groups[{n}]: unknown agent group '{group}'; known: {listed(groups)}")
    return problems


def _band_overlaps(field: str, bands: list) -> list[str]:
    """Tenure bands of one list must not overlap."""
    problems = []
    spans = sorted((band.tenure_weeks[0], band.tenure_weeks[1], n) for n, band in enumerate(bands))
    for (_, high, _), (low, _, n) in zip(spans, spans[1:], strict=False):
        if high is None or low < high:
            problems.append(f"{field}[{n}].tenure_weeks: overlaps another band")
    return problems


def load_plan(path: str | Path) -> tuple[CapacityPlan, Scenario]:
    """The plan in `path` and its scenario; problems raise ScenarioError naming the file and the field path."""
    from bposim.scenario.loading import load_scenario, load_yaml_mapping

    path = Path(path)
    data = load_yaml_mapping(path)
    try:
        plan = CapacityPlan.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(str(path), format_validation_error(exc, CapacityPlan)) from None
    scenario_path = path.parent / plan.scenario
    if not scenario_path.is_file():
        raise ScenarioError(str(path), [f"scenario: file not found: {scenario_path}"])
    scenario = load_scenario(scenario_path)
    problems = plan_errors(plan, scenario)
    if problems:
        raise ScenarioError(str(path), problems)
    return plan, scenario
