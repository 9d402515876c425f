"""The clients a BPO provider serves from shared agents, and each one's contract: how it is billed and the
service-level clauses that credit (or reward) it, period by period (`bposim.contracts` prices them).

Each client owns some call types (a call type belongs to at most one client; one owned by none is the provider's
own, unbilled). Agents stay shared: routing is the scenario's, within what a contract's `restrict_to` allows
(`bposim.scenario.residency`). Checks against the centre (an unknown call type or
group, a call type owned twice) are in `client_errors`, which the Scenario validator calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from bposim.fields import FiniteFloat
from bposim.scenario.call_types import PERIODS
from bposim.scenario.common import Model
from bposim.scenario.errors import listed
from bposim.scenario.residency import Residency, residency_errors

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario

Money = Annotated[FiniteFloat, Field(ge=0)]
Share = Annotated[FiniteFloat, Field(ge=0, le=1)]
BILLING_MODELS = ("per_handled_contact", "per_handle_minute", "per_productive_hour", "per_fte_hour", "fixed_monthly")
DAYS_PER_MONTH = 30.4  # a month's fixed fee, minimum volume and cap are pro-rated to the horizon's days over this
CLAUSE_PERIODS = tuple(period for period in PERIODS if period != "interval")


class Billing(Model):
    """How a client pays: `model` with its `rate` (per handled contact, handle minute, productive hour or logged-in
    hour of `groups`) or its monthly `amount`; a monthly `minimum_volume` billed even when fewer units were worked,
    and a monthly `volume_cap` above which units are not billed (both in the model's units)."""

    model: Literal[BILLING_MODELS] = Field(description=f"one of {', '.join(BILLING_MODELS)}")  # type: ignore[valid-type]
    rate: Money | None = Field(None, description="price per unit (contact, handle minute, productive or FTE hour)")
    amount: Money | None = Field(None, description="fixed_monthly: the monthly fee, pro-rated to the horizon")
    groups: list[str] | None = Field(None, min_length=1, description="per_fte_hour: the agent groups billed")
    minimum_volume: Money | None = Field(None, description="units a month billed at least (pro-rated)")
    volume_cap: Money | None = Field(None, description="units a month billed at most (pro-rated)")

    @model_validator(mode="after")
    def _priced(self) -> Billing:
        fixed = self.model == "fixed_monthly"
        if fixed and self.amount is None:
            raise ValueError("fixed_monthly needs amount (the monthly fee)")
        if not fixed and self.rate is None:
            raise ValueError(f"{self.model} needs rate (the price per unit)")
        if fixed and (self.rate is not None or self.minimum_volume is not None or self.volume_cap is not None):
            raise ValueError("fixed_monthly takes amount only (no rate, minimum_volume or volume_cap)")
        if not fixed and self.amount is not None:
            raise ValueError(f"{self.model} takes rate, not amount")
        if (self.model == "per_fte_hour") != (self.groups is not None):
            raise ValueError("groups (the agent groups billed) goes with per_fte_hour, and per_fte_hour needs it")
        if self.minimum_volume is not None and self.volume_cap is not None and self.volume_cap < self.minimum_volume:
            raise ValueError(f"volume_cap {self.volume_cap:g} is below minimum_volume {self.minimum_volume:g}")
        return self

    def within_volume(self, units: float, months: float) -> float:
        """`units` billed over `months` months: at least the minimum volume and at most the cap, pro-rated."""
        if self.minimum_volume is not None:
            units = max(units, self.minimum_volume * months)
        if self.volume_cap is not None:
            units = min(units, self.volume_cap * months)
        return units


class Tier(Model):
    """A credit owed for a period whose service level is below `below`: a share of the period's revenue or an
    amount."""

    below: Share
    credit_share: Share | None = Field(None, description="share of the client's revenue over the period")
    credit_amount: Money | None = Field(None, description="a fixed credit per period")

    @model_validator(mode="after")
    def _one_credit(self) -> Tier:
        if (self.credit_share is None) == (self.credit_amount is None):
            raise ValueError("give credit_share or credit_amount, one of them")
        return self


class Bonus(Model):
    """A reward for a period whose service level reaches `at_least`: a share of the period's revenue."""

    at_least: Share
    share: Share


class ServiceLevelClause(Model):
    """`target` of the clause's contacts answered within `threshold_seconds`, pooled over each `period` (day,
    week or month) by the scenario's service-level definition; deferred work (email, case) counts its items met by
    their due time. The worst tier a period falls below applies to it; a bonus when it reaches `at_least`."""

    call_types: list[str] | None = Field(None, min_length=1, description="the client's call types if left out")
    threshold_seconds: FiniteFloat = Field(ge=0)
    target: Share
    period: Literal[CLAUSE_PERIODS] = Field("month", description="day, week or month")  # type: ignore[valid-type]
    tiers: list[Tier] = Field([], description="credits, each for periods below its `below`")
    bonus: Bonus | None = None

    @model_validator(mode="after")
    def _tiers(self) -> ServiceLevelClause:
        belows = [tier.below for tier in self.tiers]
        if len(set(belows)) < len(belows):
            raise ValueError("two tiers have the same `below`; give each tier its own")
        return self


class ClientContract(Model):
    """What a client pays, and what its service-level clauses credit or reward."""

    billing: Billing
    service_levels: list[ServiceLevelClause] = []
    restrict_to: Residency | None = Field(
        None, description="data residency and security: the sites and clearances of the groups that may serve it"
    )


class Client(Model):
    """A client of the provider: its name, the call types it owns and its contract (none: its work is counted and
    costed, but neither billed nor credited)."""

    name: str = Field(min_length=1)
    call_types: list[str] = Field(min_length=1)
    contract: ClientContract | None = None

    @property
    def restriction(self) -> Residency | None:
        """Its contract's data-residency restriction (`restrict_to`); None without a contract or a restriction."""
        return self.contract.restrict_to if self.contract is not None else None


def client_errors(clients: list[Client], scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Problems between the clients and the centre, located under ("clients", ...), for Scenario's validator."""
    types = [ct.name for ct in scenario.call_types]
    groups = [group.name for group in scenario.agent_groups]
    owner: dict[str, str] = {}
    names: set[str] = set()
    for c, client in enumerate(clients):
        if client.name in names:
            yield ("clients", c, "name"), f"client '{client.name}' is defined twice", client.name
        names.add(client.name)
        for t, name in enumerate(client.call_types):
            loc = ("clients", c, "call_types", t)
            if name not in types:
                yield loc, f"unknown call type '{name}'; known: {listed(types)}", name
            elif name in owner:
                yield loc, f"call type '{name}' already belongs to client '{owner[name]}'; give it to one client", name
            else:
                owner[name] = client.name
        if client.contract is None:
            continue
        billing = client.contract.billing
        for g, group in enumerate(billing.groups or []):
            if group not in groups:
                loc = ("clients", c, "contract", "billing", "groups", g)
                yield loc, f"unknown agent group '{group}'; known: {listed(groups)}", group
        for s, clause in enumerate(client.contract.service_levels):
            for t, name in enumerate(clause.call_types or []):
                if name not in client.call_types:
                    loc = ("clients", c, "contract", "service_levels", s, "call_types", t)
                    message = f"call type '{name}' is not the client's; its call types: {listed(client.call_types)}"
                    yield loc, message, name
            if clause.period in ("week", "month") and scenario.horizon.start_date is None:
                loc = ("clients", c, "contract", "service_levels", s, "period")
                message = f"period '{clause.period}' needs horizon.start_date (weeks and months are of dates); or day"
                yield loc, message, clause.period
    yield from residency_errors(scenario)
