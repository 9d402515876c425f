"""First-contact resolution as configuration: how often an answered contact settles the customer's need, and how an
unresolved customer comes back (a repeat contact of the same call type, some hours or days later).

Each answered contact is resolved with a probability: the call type's `probability`, or its group's in `by_group`;
with `follows_proficiency` the chance of leaving it unresolved is multiplied by the agent's handle-time multiplier
from skill proficiency and learning curve; then AI assist's `resolution_uplift` is added for an agent using it (the
result kept within 0 and 1). An unresolved contact comes back with `repeat_probability`, after `repeat_delay`, at
most `max_repeats` times in a chain. The delay's parameters may be written in hours or days (`mean_hours: 20`,
`mean_days: 1.5`, `max_days: 5`): each `<name>_hours` or `<name>_days` is read as `<name>_seconds`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, field_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat, WholeNumber
from bposim.scenario.common import Model

Probability = Annotated[FiniteFloat, Field(ge=0, le=1)]
UNITS = {"_hours": 3600.0, "_days": 86_400.0}  # delay parameters a planner may write in hours or days


class Resolution(Model):
    """Whether an answered contact resolves the customer's need, and when an unresolved one comes back."""

    probability: Probability = Field(description="chance an answered contact is resolved")
    by_group: dict[str, Probability] = Field({}, description="the chance per agent group, instead of probability")
    follows_proficiency: bool = Field(
        False,
        description="the chance of leaving a contact unresolved is multiplied by the agent's handle-time "
        "multiplier (skill proficiency × learning curve): a novice at 1.4 leaves 40% more unresolved",
    )
    repeat_probability: Probability = Field(1.0, description="chance an unresolved customer contacts again")
    repeat_delay: Distribution = Field(
        description="time from the end of the unresolved contact to the repeat; parameters in seconds, or written "
        "<name>_hours / <name>_days (mean_days: 1.5)"
    )
    max_repeats: WholeNumber = Field(3, description="repeat contacts at most in one customer's chain")

    @property
    def contacts_at_most(self) -> float:
        """Expected contacts per first contact if none is ever resolved: 1 + q + q² + ... + q^max_repeats (q the
        repeat probability), what the workload limits count."""
        return math.fsum(self.repeat_probability**k for k in range(self.max_repeats + 1))

    @field_validator("repeat_delay", mode="before")
    @classmethod
    def _in_seconds(cls, value: Any) -> Any:
        """`mean_days: 1.5` is `mean_seconds: 129600`; the same for every parameter and for hours."""
        if not isinstance(value, dict):
            return value
        converted: dict[str, Any] = {}
        for key, given in value.items():
            unit = next((suffix for suffix in UNITS if isinstance(key, str) and key.endswith(suffix)), None)
            if unit is None:
                converted[key] = given
                continue
            name = key.removesuffix(unit) + "_seconds"
            if name in value or name in converted:
                raise ValueError(f"{key} and {name} give the same parameter; give one")
            converted[name] = _scaled(given, UNITS[unit])
        return converted


def _scaled(value: Any, factor: float) -> Any:
    """A number (or list of numbers) in hours or days as seconds; anything else is left for validation to refuse."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, list):
        return [_scaled(item, factor) for item in value]
    return value


def resolution_errors(call_types: list, groups: list, uplift: float) -> Iterator[tuple[tuple, str, Any]]:
    """What the centre refuses in resolution: a `by_group` entry for a group that does not exist or lacks the call
    type's skill, and an AI-assist `resolution_uplift` with no call type to move."""
    for c, call_type in enumerate(call_types):
        if call_type.resolution is None:
            continue
        holders = [g.name for g in groups if any(skill.call_type == call_type.name for skill in g.skills)]
        for name in call_type.resolution.by_group:
            if name not in holders:
                known = ", ".join(holders) or "none"
                message = f"agent group '{name}' does not answer '{call_type.name}'; groups with the skill: {known}"
                yield ("call_types", c, "resolution", "by_group", name), message, name
    if uplift and all(call_type.resolution is None for call_type in call_types):
        message = "moves first-contact resolution, but no call type has a resolution section; add one or leave it out"
        yield ("technology", "ai_assist", "resolution_uplift"), message, uplift
