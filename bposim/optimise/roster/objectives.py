"""The two staff objectives side by side: the cheapest roster meeting the target in every interval, and the cheapest
meeting each call type's target over its period with no interval below the floor (`period`), solved on the same
days (same seed: the same search, hold-out and verification days), with what each costs and the risk each carries.

`compare_objectives` runs `optimise_roster` once per objective; `objective_table` gives, per objective and live
call type, the roster's cost a day (the verification's mean total cost, and the shifts' cost if every rostered
agent comes in; a weekly roster's shifts a week), its agents, the service level over the call type's period
pooled over the fresh days, P(a period meets) and P(every period of the horizon meets) over the fresh runs
(`bposim.periods`), and the worst interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from bposim.optimise.roster.period import objective_of
from bposim.scenario import Scenario

if TYPE_CHECKING:
    from bposim.optimise.roster.plan import RosterPlan
    from bposim.optimise.roster.weekly import WeeklyPlan

OBJECTIVES = ("interval", "period")
TABLE_COLUMNS = [
    "objective",
    "cost",
    "cost_ci",
    "cost_unit",
    "per",
    "shifts_cost",
    "shifts_cost_unit",
    "agents",
    "paid_hours",
    "verified",
    "call_type",
    "period",
    "service_level",
    "service_level_ci",
    "target",
    "p_period_met",
    "p_all_met",
    "floor",
    "worst_interval",
    "worst_service_level",
    "worst_service_level_ci",
]


def with_staff_objective(scenario: Scenario, objective: str, floor: float | None = None) -> Scenario:
    """The scenario with `scheduling.objective` set (and `interval_floor`: `floor`, else the scenario's own under
    period; none under interval). ScenarioError when the scenario cannot have it (`scheduling.scheduling_errors`)."""
    if scenario.scheduling is None:
        return scenario
    own = scenario.scheduling.interval_floor if floor is None else floor
    period = objective == "period"
    return scenario.updated(
        {
            "scheduling.objective": objective,
            "scheduling.interval_floor": own if period else None,
            "scheduling.confidence": scenario.scheduling.confidence if period else None,
        }
    )


@dataclass(frozen=True)
class ObjectiveComparison:
    """The plans of both objectives (`plans["interval"]`, `plans["period"]`) on the same days."""

    plans: dict[str, RosterPlan | WeeklyPlan]

    def table(self) -> pd.DataFrame:
        """One row per objective and live call type (`objective_table`)."""
        return objective_table(self.plans)

    @property
    def saving(self) -> float:
        """What the period objective's roster saves on the shifts against the interval objective's: a day (daily
        rosters) or a week (weekly ones)."""
        costs = {objective: _costs(plan)["shifts_cost"] for objective, plan in self.plans.items()}
        return costs["interval"] - costs["period"]


def objective_table(plans: dict[str, RosterPlan | WeeklyPlan]) -> pd.DataFrame:
    """Per objective (in `OBJECTIVES` order) and live call type: cost a `per` day (`cost`, `cost_ci`, `cost_unit`:
    the verification's mean total; `shifts_cost`: the shifts if every rostered agent comes in) or, for a weekly
    roster, a `per` week (both the shifts' cost a week), agents, paid hours (a day or a week),
    verified, and the plan's `periods` row (service level over the period, P(a period meets), P(every period
    meets), floor, worst interval)."""
    rows: list[dict[str, Any]] = []
    for objective in OBJECTIVES:
        if objective not in plans:
            continue
        head = {"objective": objective, **_costs(plans[objective]), "verified": plans[objective].verified}
        plan = plans[objective]
        for row in plan.periods.to_dict("records"):
            rows.append(head | {key: row.get(key) for key in TABLE_COLUMNS if key not in head})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _costs(plan: RosterPlan | WeeklyPlan) -> dict[str, Any]:
    """A plan's cost columns: a daily roster's a day, a weekly roster's shifts a week (`per`)."""
    if hasattr(plan, "tours"):  # a weekly roster: its shifts over the horizon, a week
        return {
            "cost": plan.cost_per_week,
            "cost_ci": 0.0,
            "cost_unit": plan.cost_unit,
            "per": "week",
            "shifts_cost": plan.cost_per_week,
            "shifts_cost_unit": plan.cost_unit,
            "agents": len(plan.tours.agents),
            "paid_hours": plan.tours.paid_hours / plan.weeks,
        }
    return {
        "cost": plan.cost,
        "cost_ci": plan.cost_ci,
        "cost_unit": plan.cost_unit,
        "per": "day",
        "shifts_cost": plan.schedule.cost,
        "shifts_cost_unit": plan.schedule.cost_unit,
        "agents": int(sum(plan.schedule.agents)),
        "paid_hours": plan.schedule.paid_hours,
    }


def compare_objectives(scenario: Scenario, floor: float | None = None, **options: Any) -> ObjectiveComparison:
    """`optimise_roster` under each objective on the same days (`options` as it takes them; the same seed), the
    scenario's own objective first; `floor` replaces the period objective's `interval_floor`. Daily and weekly
    rosters (contracts) alike."""
    from bposim.optimise.roster.loop import optimise_roster

    first = objective_of(scenario)
    order = [first, *(objective for objective in OBJECTIVES if objective != first)]
    plans = {
        objective: optimise_roster(with_staff_objective(scenario, objective, floor), **options) for objective in order
    }
    return ObjectiveComparison(plans)  # type: ignore[arg-type]
