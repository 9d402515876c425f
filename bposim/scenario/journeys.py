"""Transfers between call types as typed configuration: after an agent's talk, a caller may be passed on to another
call type's queue, becoming the next leg of one journey.

A call type's `transfers` list the call types its callers may be passed on to, each with a probability (one for
every serving group, or one per group in `by_group`), a mode (`cold`: the first agent hangs up and wraps up;
`warm`: the first agent stays on the line until a second agent answers, both talk for the `conference` time, then
the first leaves) and what happens when nobody of the target is free (`queue`: the caller waits in its queue;
`disconnect`: the caller is cut off). The checks here look at the list as a whole: probabilities of a group summing
to at most 1, known targets and groups, voice only, and journeys that can always end (`bposim.engine.journeys`
runs them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat
from bposim.scenario.common import Model
from bposim.scenario.errors import listed

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario

SUM_TOLERANCE = 1e-9  # how far above 1 the probabilities of one group may sum (rounding)


class Transfer(Model):
    """Callers of a call type passed on to call type `to` after their talk, with `probability` (or a probability per
    serving group in `by_group`), `cold` or `warm` (with a `conference`), queued or disconnected when nobody of the
    target is free."""

    to: str = Field(min_length=1, description="the call type the caller is passed on to")
    probability: FiniteFloat = Field(0, ge=0, le=1, description="chance a served caller is passed on (every group)")
    by_group: dict[str, Annotated[FiniteFloat, Field(ge=0, le=1)]] = Field(
        {}, description="the chance per serving group ({tier1: 0.3}); groups left out take `probability`"
    )
    mode: Literal["cold", "warm"] = Field(
        "cold",
        description="cold: the first agent hangs up and wraps up; warm: the first agent stays on the line until a "
        "second answers, then both talk for the conference time",
    )
    conference: Distribution | None = Field(None, description="warm: how long both agents talk together")
    when_nobody_free: Literal["queue", "disconnect"] = Field(
        "queue", description="queue: the caller waits in the target's queue; disconnect: the caller is cut off"
    )

    @model_validator(mode="after")
    def _mode_fields(self) -> Transfer:
        if self.mode == "warm" and self.conference is None:
            raise ValueError("a warm transfer needs a conference (how long both agents talk together)")
        if self.mode == "cold" and self.conference is not None:
            raise ValueError("conference applies to warm transfers only; give mode: warm or leave conference out")
        return self

    def probability_for(self, group: str) -> float:
        """The chance a caller served by `group` is passed on by this transfer."""
        return self.by_group.get(group, self.probability)


def transfer_errors(scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """What a scenario's transfers refuse: unknown targets and groups, a group not serving the call type, channels
    other than voice, a group's probabilities summing above 1, and journeys that can never end."""
    types = {ct.name: ct for ct in scenario.call_types}
    groups = {g.name: g for g in scenario.agent_groups}
    for c, call_type in enumerate(scenario.call_types):
        if not call_type.transfers:
            continue
        where = ("call_types", c, "transfers")
        if call_type.channel != "voice":
            yield where, f"'{call_type.name}' is a {call_type.channel} call type; transfers are of voice calls", None
        servers = [g.name for g in scenario.agent_groups if any(s.call_type == call_type.name for s in g.skills)]
        for t, transfer in enumerate(call_type.transfers):
            target = types.get(transfer.to)
            if target is None:
                yield (*where, t, "to"), f"unknown call type '{transfer.to}'; known: {listed(types)}", transfer.to
            elif target.channel != "voice":
                message = f"'{transfer.to}' is a {target.channel} call type; a call is passed on to voice call types"
                yield (*where, t, "to"), message, transfer.to
            for name in transfer.by_group:
                if name not in groups:
                    message = f"unknown agent group '{name}'; known: {listed(groups)}"
                    yield (*where, t, "by_group", name), message, name
                elif name not in servers:
                    message = f"group '{name}' does not serve '{call_type.name}'; groups that do: {listed(servers)}"
                    yield (*where, t, "by_group", name), message, name
        for group in servers:
            total = sum(transfer.probability_for(group) for transfer in call_type.transfers)
            if total > 1 + SUM_TOLERANCE:
                message = (
                    f"the transfer probabilities of a caller served by group '{group}' sum to {total:g}; at most 1 "
                    "(the rest of the callers end their journey there)"
                )
                yield where, message, total
    yield from _endless_journeys(scenario)


def transfer_matrix(scenario: Scenario) -> list[list[float]]:
    """P[i][j]: the chance that a caller of call type i is passed on to call type j, for the group serving i that
    passes most callers on (the worst case for how long journeys go on; unknown targets left out)."""
    index: dict[str, int] = {}
    for i, call_type in enumerate(scenario.call_types):
        index.setdefault(call_type.name, i)  # a name given twice is refused elsewhere
    size = len(scenario.call_types)
    matrix = [[0.0] * size for _ in range(size)]
    for i, call_type in enumerate(scenario.call_types):
        if not call_type.transfers:
            continue
        servers = [g.name for g in scenario.agent_groups if any(s.call_type == call_type.name for s in g.skills)]
        rows = []
        for group in servers or [""]:
            row = [0.0] * size
            for transfer in call_type.transfers:
                j = index.get(transfer.to)
                if j is not None:
                    row[j] += transfer.probability_for(group)
            rows.append(row)
        matrix[i] = max(rows, key=sum)
    return matrix


def _endless_journeys(scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Call types from which a journey may go on for ever: every caller of some group is passed on (probabilities
    summing to 1), and every call type it may reach is so too (a → a with probability 1; a → b → a)."""
    if not any(ct.transfers for ct in scenario.call_types):
        return  # no journey goes on: no matrix of every call type against every other to build
    names = [ct.name for ct in scenario.call_types]
    matrix = transfer_matrix(scenario)
    # a call type ends journeys if some of its callers stop there, even with the group passing most on
    ends = {i for i, row in enumerate(matrix) if sum(row) < 1 - SUM_TOLERANCE}
    changed = True
    while changed:  # ... or if it may pass callers on to one that ends them
        changed = False
        for i, row in enumerate(matrix):
            if i not in ends and any(p > 0 and j in ends for j, p in enumerate(row)):
                ends.add(i)
                changed = True
    for i, name in enumerate(names):
        if i not in ends:
            loop = [names[j] for j, p in enumerate(matrix[i]) if p > 0]
            message = (
                f"callers of '{name}' are always passed on and never reach a call type where their journey ends "
                f"(passed on to {listed(loop)}); give some group a total probability below 1"
            )
            yield ("call_types", i, "transfers"), message, name
