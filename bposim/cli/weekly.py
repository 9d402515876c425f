"""`bposim staff` on weekly rosters: the plan printed (cost per week, agents per contract, distinct starts per day,
the service level on fresh days) and the verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from bposim.cli.common import fresh_levels, out
from bposim.cli.objectives import periods_view
from bposim.formatting import money
from bposim.optimise.roster.evaluation import exempt_text

if TYPE_CHECKING:
    from bposim.optimise import WeeklyPlan


def print_weekly_plan(plan: WeeklyPlan, replications: int) -> None:
    """The contracts' headcount, the distinct start times of each date, the service level and the cost."""
    tours = plan.tours
    contracts = Table(title=f"{plan.scenario.name} — weekly roster")
    for label in ("Contract", "Agents", "Paid hours / week", "Cost / week"):
        contracts.add_column(label, justify="left" if label == "Contract" else "right")
    assignments = tours.assignments
    weeks = plan.weeks
    for name, agents in tours.headcount.items():
        mine = assignments[assignments["contract"] == name]
        contracts.add_row(
            name, str(agents), f"{mine['paid_hours'].sum() / weeks:,.1f}", f"{mine['cost'].sum() / weeks:,.2f}"
        )
    contracts.add_row(
        "Total",
        str(len(tours.agents)),
        f"{tours.paid_hours / weeks:,.1f}",
        f"{plan.cost_per_week:,.2f}",
        style="bold",
    )
    out.print(contracts)
    starts = Table(title="Shift starts per date")
    for label in ("Date", "Group", "Agents", "Starts", "Start times"):
        starts.add_column(label, justify="right" if label in ("Agents", "Starts") else "left")
    for row in plan.starts_per_day().itertuples(index=False):
        starts.add_row(row.date, row.group, str(row.agents), str(row.starts), row.start_times)
    out.print(starts)
    out.print(fresh_levels(plan.by_call_type, f"{replications} fresh runs", plan.verification_seed))
    out.print(kinds_line(plan), highlight=False, soft_wrap=True)
    exempt = exempt_text(plan.achieved)
    if exempt:
        out.print(f"{exempt}: outside the service-level objective, not raised nor a miss.", highlight=False)
    if plan.objective == "period":
        out.print(periods_view(plan, f"{replications} fresh runs"))
    solver = (
        "proven cheapest"
        if tours.optimal
        else f"the cheapest the solver found within its limits, within {tours.gap:.2%} of the cheapest"
    )
    out.print(
        f"Cost: {money(plan.cost_per_week, plan.cost_unit)} a week on the shifts ({solver}; tour programme "
        f"{tours.seconds:.1f} s). Search: {plan.rounds} round{'' if plan.rounds == 1 else 's'}, "
        f"{plan.simulations:,} simulated days.",
        highlight=False,
    )


def kinds_line(plan: WeeklyPlan) -> str:
    """The kinds of day the requirement was searched for, with their dates and peak agents, e.g. "Requirement per
    kind of day: mon-fri (10 dates) peak 31 agents; sat (2 dates) peak 9 agents"."""
    parts = []
    for kind, requirement in zip(plan.kinds, plan.requirements, strict=True):
        peak = int(requirement.table.groupby("interval")["required"].sum().max())
        dates = f"{len(kind.days)} date{'' if len(kind.days) == 1 else 's'}"
        parts.append(f"{kind.label} ({dates}) peak {peak} agent{'' if peak == 1 else 's'}")
    return "Requirement per kind of day (same hours and arrivals), each date taking its kind's: " + "; ".join(parts)


def weekly_verdict(plan: WeeklyPlan, replications: int) -> list[str]:
    """Whether every interval held its target, on the search days and on the fresh days."""
    held = "Every call type over its period (and every interval above its floor)"
    if plan.verified:
        return [
            f"{held if plan.objective == 'period' else 'Every interval'} met its target: on the search days in round "
            f"{plan.rounds}, and on {replications} fresh run{'' if replications == 1 else 's'} of the horizon (seed "
            f"{plan.verification_seed})."
        ]
    lines = []
    if not plan.converged:
        what = "Not every target holds" if plan.objective == "period" else "Not every interval meets its target"
        lines.append(f"{what}: {plan.shortfall}")
    if plan.fresh_shortfall:
        what = "Not every target holds" if plan.objective == "period" else "Not every interval meets its target"
        lines.append(f"{what} on the fresh days: {plan.fresh_shortfall}")
    return lines
