"""`bposim staff`'s objective: --objective and --floor on the scenario's `scheduling` section, the service level per
period a roster reached, and the two objectives side by side (--compare-objectives)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from bposim.cli.common import fail, out
from bposim.formatting import amount, estimate, share
from bposim.scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    import pandas as pd

    from bposim.optimise import RosterPlan, WeeklyPlan


def staff_objective(
    scenario: Scenario, file: Path, objective: str | None, floor: float | None, compare: bool = False
) -> Scenario:
    """The scenario with --objective and --floor applied, or exit 2 naming the flag, the file and the field. With
    --compare-objectives a floor may come with the interval objective: it is the compared period objective's (the
    scenario is returned without it, once it is checked)."""
    if objective is None and floor is None:
        return scenario
    from bposim.optimise.roster.objectives import with_staff_objective

    if scenario.scheduling is None:
        return scenario  # the command says the section is missing
    chosen = str(objective or scenario.scheduling.objective)
    if floor is not None and chosen != "period" and not compare:
        fail([f"--floor: {file}: the interval floor applies to the period objective; add --objective period"])
    try:
        floored = with_staff_objective(scenario, "period" if floor is not None else chosen, floor)
        return floored if chosen == "period" else with_staff_objective(scenario, chosen)
    except ScenarioError as exc:
        flag = "--floor" if floor is not None and "interval_floor" in str(exc) else "--objective"
        fail([f"{flag}: {file}: {problem}" for problem in exc.problems])


def staff_confidence(scenario: Scenario, file: Path, confidence: float | None) -> Scenario:
    """The scenario with --confidence as `scheduling.confidence`, or exit 2 naming the flag, the file and what is
    allowed."""
    if confidence is None or scenario.scheduling is None:
        return scenario
    if not 0 < confidence < 1:
        fail([f"--confidence: must be a probability in (0, 1), e.g. 0.9, got {confidence:g}"])
    if scenario.scheduling.objective != "period":
        fail([f"--confidence: {file}: the confidence applies to the period objective; add --objective period"])
    try:
        return scenario.updated({"scheduling.confidence": confidence})
    except ScenarioError as exc:
        fail([f"--confidence: {file}: {problem}" for problem in exc.problems])


def periods_view(plan: RosterPlan | WeeklyPlan, runs: str) -> Table:
    """Per live call type: its service level over its period on the fresh days, P(a period meets), P(every
    period of the horizon meets), the worst interval and (period objective) its floor."""
    view = Table(title=f"Service level per period on {runs} (± 95% CI)")
    confident = "confidence" in plan.periods and plan.periods["confidence"].notna().any()
    meets = "P(period meets target)" if confident else "P(period meets)"
    for label in ("Call type", "Period", "Service level", "Target", meets, "P(all met)", "Worst interval"):
        view.add_column(label, justify="left" if label in ("Call type", "Period") else "right")
    for row in plan.periods.itertuples(index=False):
        view.add_row(
            row.call_type,
            row.period,
            share(row.service_level, row.service_level_ci),
            share(row.target, digits=0),
            _p_met(row) if confident else share(row.p_period_met, digits=0),
            share(row.p_all_met, digits=0),
            _worst(row),
            style=None if row.met else "red",
        )
    if confident:
        level = plan.periods["confidence"].dropna().iloc[0]
        view.caption = (
            f"P(period meets target) must reach {share(level, digits=0)} (scheduling.confidence), 95% interval in "
            "brackets: the share of the simulated periods meeting the target (for a daily roster measured per week "
            "or month, a normal estimate from its days)"
        )
    return view


def _p_met(row) -> str:
    """E.g. ``93% (80–98%)``: P(period meets target) and its 95% interval; the plain share where not judged."""
    if row.confidence != row.confidence:  # NaN: a call type measured per interval
        return share(row.p_period_met, digits=0)
    return f"{share(row.p_period_met, digits=0)} ({row.p_low:.0%}–{row.p_high:.0%})"


def _worst(row) -> str:
    """E.g. ``18:30 60.7% (floor 60%)``."""
    floor = "" if row.floor != row.floor else f" (floor {share(row.floor, digits=0)})"  # NaN: no floor
    return f"{row.worst_interval} {share(row.worst_service_level)}{floor}"


def print_comparison(table: pd.DataFrame) -> None:
    """The two objectives side by side: cost a day, agents, and per call type the period's service level, the risk
    and the worst interval."""
    view = Table(title="Objectives compared on the same days")
    columns = ("Objective", "Cost", "Shifts", "Agents", "Call type", "Service level", "P(period meets)")
    for label in (*columns, "P(all met)", "Worst interval"):
        view.add_column(label, justify="left" if label in ("Objective", "Call type") else "right")
    for row in table.itertuples(index=False):
        view.add_row(
            row.objective,
            f"{estimate(row.cost, row.cost_ci or None, ',.2f')} {row.cost_unit}/{row.per}",
            f"{amount(row.shifts_cost, spec=',.2f')} {row.shifts_cost_unit}/{row.per}",
            str(row.agents),
            row.call_type,
            f"{share(row.service_level, row.service_level_ci)} per {row.period}",
            share(row.p_period_met, digits=0),
            share(row.p_all_met, digits=0),
            _worst(row),
        )
    out.print(view)
    costs = table.drop_duplicates("objective").set_index("objective")
    if {"interval", "period"} <= set(costs.index):
        saving = costs.loc["interval", "shifts_cost"] - costs.loc["period", "shifts_cost"]
        unit = costs.loc["period", "shifts_cost_unit"]
        out.print(
            f"The period objective's roster costs {amount(abs(saving), spec=',.2f')} {unit}"
            f" a {costs.loc['period', 'per']} {'less' if saving >= 0 else 'more'} on the shifts than the interval "
            "objective's.",
            highlight=False,
        )
