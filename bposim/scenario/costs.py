"""The cost model as configuration: agent pay by group and site, technology, abandoned calls, missed targets.

Checks that need only the costs live on the models; checks against the centre (a group or call type that
does not exist, an agent group without a rate) are in `cost_errors`, which the Scenario validator calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from bposim.fields import FiniteFloat
from bposim.scenario.common import Model
from bposim.scenario.errors import listed

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario

Money = Annotated[FiniteFloat, Field(ge=0)]


class GroupCost(Model):
    """What an agent group costs per paid hour, its overtime premium, and the site it works at."""

    group: str = Field(min_length=1, description="an agent group of the scenario")
    per_paid_hour: Money = Field(description="cost of one paid agent hour (logged in, less unpaid breaks)")
    overtime_premium: Money = Field(
        0.0, description="extra share of the hourly cost for overtime: 0.5 pays overtime hours at 1.5 × the rate"
    )
    site: str = Field("", description="where the group works (onshore, offshore, ...), to total costs by site")


class TechnologyCost(Model):
    """A tool or lever (CRM, AI assist, bot, telephony) costing per seat-day, per contact and/or per day."""

    name: str = Field(min_length=1)
    per_seat_per_day: Money | None = Field(None, description="per agent logged in on a day")
    per_contact: Money | None = Field(None, description="per contact counted as `contacts` says")
    fixed_per_day: Money | None = Field(None, description="per simulated day, however busy")
    contacts: Literal["attempts", "bot_sessions"] = Field(
        "attempts",
        description="what per_contact counts: every call attempt whatever its outcome (callbacks made included), "
        "or the callers who went into a self-service bot",
    )
    groups: list[str] | None = Field(
        None, min_length=1, description="seats are the agents of these groups only; all groups if left out"
    )
    call_types: list[str] | None = Field(
        None, min_length=1, description="contacts are the calls of these types only; all call types if left out"
    )
    site: str | None = Field(
        None, description="a site's tool (sites[].name): seats are its groups' agents; its cost lines carry the site"
    )

    @model_validator(mode="after")
    def _priced(self) -> TechnologyCost:
        if self.per_seat_per_day is None and self.per_contact is None and self.fixed_per_day is None:
            raise ValueError(
                f"technology '{self.name}' has no cost; give per_seat_per_day, per_contact and/or fixed_per_day"
            )
        if self.groups is not None and self.per_seat_per_day is None:
            raise ValueError(f"technology '{self.name}': groups narrows per_seat_per_day, which is not given")
        if self.call_types is not None and self.per_contact is None:
            raise ValueError(f"technology '{self.name}': call_types narrows per_contact, which is not given")
        if self.contacts != "attempts" and self.per_contact is None:
            raise ValueError(f"technology '{self.name}': contacts says what per_contact counts, which is not given")
        for field, names in (("groups", self.groups), ("call_types", self.call_types)):
            twice = _repeated(names or [])
            if twice:
                raise ValueError(f"technology '{self.name}': {field} lists {_quoted(twice)} more than once")
        return self


class Costs(Model):
    """The scenario's cost model: every amount is in `currency`, per paid hour, seat-day, contact or day."""

    currency: str = Field("", description="a label for reports; amounts are not converted")
    groups: list[GroupCost] = Field([], description="agent cost by group; when given, every agent group needs an entry")
    technology: list[TechnologyCost] = []
    abandoned_call: Money | None = Field(None, description="cost of each abandoned call attempt (lost business)")
    service_level_penalty: Money | None = Field(
        None, description="penalty per interval and call type with calls offered whose service level missed its target"
    )

    @field_validator("groups")
    @classmethod
    def _groups_once(cls, value: list[GroupCost]) -> list[GroupCost]:
        twice = _repeated([entry.group for entry in value])
        if twice:
            raise ValueError(f"more than one cost entry for {_named('agent group', twice)}")
        return value

    @field_validator("technology")
    @classmethod
    def _technology_once(cls, value: list[TechnologyCost]) -> list[TechnologyCost]:
        twice = _repeated([tool.name for tool in value])
        if twice:
            raise ValueError(f"technology {_quoted(twice)} listed more than once; give each tool once")
        return value

    def lists_something(self) -> bool:
        """Whether the section prices anything itself (else only sites' wages can give it something to cost)."""
        return bool(
            self.groups or self.technology or self.abandoned_call is not None or self.service_level_penalty is not None
        )


def cost_errors(costs: Costs, scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Problems between the costs and the centre, located under ("costs", ...), for Scenario's validator."""
    groups = [group.name for group in scenario.agent_groups]
    call_types = [call_type.name for call_type in scenario.call_types]
    group_names, type_names = set(groups), set(call_types)
    if not costs.lists_something() and not any(site.wage_per_hour is not None for site in scenario.sites):
        yield (
            ("costs",),
            "costs lists nothing to cost; give groups, technology, abandoned_call or service_level_penalty (or a "
            "site's wage_per_hour)",
            None,
        )
    for i, entry in enumerate(costs.groups):
        if entry.group not in group_names:
            yield (
                ("costs", "groups", i, "group"),
                f"unknown agent group '{entry.group}'; known: {listed(groups)}",
                entry.group,
            )
    if costs.groups:
        priced = {entry.group for entry in costs.groups}
        paying = {site.name for site in scenario.sites if site.wage_per_hour is not None}
        waged = {group.name for group in scenario.agent_groups if group.site in paying}  # their site's wage
        missing = [name for name in groups if name not in priced and name not in waged]
        if missing:
            yield (
                ("costs", "groups"),
                f"no cost given for {_named('agent group', missing)}; every agent group "
                "needs a per_paid_hour when costs.groups is given (or a site with wage_per_hour)",
                missing,
            )
    for t, tool in enumerate(costs.technology):
        for field, names, known, names_known in (
            ("groups", tool.groups, groups, group_names),
            ("call_types", tool.call_types, call_types, type_names),
        ):
            for n, name in enumerate(names or []):
                if name not in names_known:
                    kind = "agent group" if field == "groups" else "call type"
                    yield (
                        ("costs", "technology", t, field, n),
                        f"unknown {kind} '{name}'; known: {listed(known)}",
                        name,
                    )


def _repeated(names: list[str]) -> list[str]:
    """The names that occur more than once, in order of their first repeat."""
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def _named(kind: str, names: list[str]) -> str:
    """A kind and its names for an error message: agent group 'a', or agent groups 'a', 'b'."""
    return f"{kind}{'s' if len(names) > 1 else ''} {_quoted(names)}"


def _quoted(names: list[str]) -> str:
    """Names for an error message: 'a', 'b'."""
    return listed(f"'{name}'" for name in names)
