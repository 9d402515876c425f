"""The closed loop for weekly rosters: a day's requirement → the cheapest agents' weeks (tour scheduling) →
simulate the roster over the calendar horizon → raise where it misses → again; then a verification on fresh days.

Requirement. The open dates fall into kinds of day (`requirement.day_kinds`: the same hours and the same arrival
curves, e.g. mon-fri, sat and a campaign date), and the requirement is searched once per kind, on one day of it
(`day_kinds.kind_day`: the scenario's grid, the kind's first date, its arrivals; the same search as `bposim staff`
on a daily horizon). Each date takes its kind's on the intervals it is open (none on a closed date).

Rounds. The tour programme (`bposim.optimise.tours`, with a node and a time limit) finds the cheapest agents'
weeks covering the requirement on every date and interval, each agent's weeks meeting its contract; the roster
(lines with the dates they work, `tours.scenario`) is simulated over the whole horizon on the search days, the
service level pooled per kind of day and interval over the kind's dates and the days (`kind_levels`); the loop
raises the kind's requirement where an interval is short, as the daily loop does, and solves again, until nothing
is short or `max_rounds`. Intervals an exempt maintenance window overlaps are not judged. There is no trim. The
verification simulates the last roster on fresh days, judged per kind of day as well.

Under the period objective (`scheduling.objective: period`, `period`) the requirement is searched per kind of day
on the floored scenario (`period.floored`), and each round judges each call type over its period pooled over every
date and run, each interval against its floor per kind of day (exempt intervals not judged), and raises a kind's
interval below its floor as above and a call type short over its period on the kinds and intervals where an agent
gains most (`kind_periods`).

Deferred work (email, case) is planned over the whole horizon (`deferred_weeks`): a fluid model of the items
arriving on each date and due within their due time, carried over nights, Sundays and holidays, gives the agents
each kind of day needs for it beyond its live work's idle time, in place of each kind's own daily start. Each
round judges every deferred call type as the daily loop does: the share of the items due over the horizon done by
their due time, pooled over the search runs (more runs while undecided); one short raises its arrivals' margin in
the horizon's model, solved again, and the verification checks it on the fresh runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bposim.files import write_text_atomically
from bposim.formatting import money
from bposim.optimise.coverage import clock
from bposim.optimise.days import Simulator
from bposim.optimise.deferred import shortfall_text
from bposim.optimise.evidence import LOOP_SEED_OFFSET, SearchDays, undecided
from bposim.optimise.progress import Progress
from bposim.optimise.requirement import Requirement, staffing_requirement
from bposim.optimise.requirement.day_kinds import DayKind, day_kinds, kind_day, kind_of_day, kinds_text
from bposim.optimise.roster.deferred_weeks import WeeklyDeferred
from bposim.optimise.roster.evaluation import (
    call_type_service_levels,
    deferred_misses,
    search_deferred,
    search_misses,
    worst_first,
)
from bposim.optimise.roster.kind_levels import kind_levels, search_kind_levels
from bposim.optimise.roster.kind_periods import (
    kind_floor_levels,
    raise_kinds_for_periods,
    search_kind_period_levels,
    worst_per_kind,
)
from bposim.optimise.roster.period import (
    floored,
    objective_of,
    period_misses,
    period_results,
    period_shortfall_text,
    shortfall_words,
)
from bposim.optimise.roster.proposal import group_to_raise, required_array
from bposim.optimise.roster.shortfall import fresh_shortfall_text, misses_text
from bposim.optimise.tours import TourError, TourPlan, solve_tours
from bposim.optimise.tours.scenario import requirement_by_day, tour_problem, weekly_roster_scenario
from bposim.scenario import Scenario, scenario_text

# Each solve of the tour programme stops after TOUR_NODES branch-and-bound nodes (the roster is then the same
# whatever the machine's load) or TOUR_SECONDS; the gap to the solver's bound is reported when it stops short.
TOUR_NODES = 500
TOUR_SECONDS = 120.0


@dataclass(frozen=True)
class WeeklyPlan:
    """An optimised weekly roster: the requirement (of the busiest kind of day), the tour plan (named agents'
    days), the roster scenario, and what it achieved on fresh days (`achieved` per kind of day, call type and
    interval of the day, `by_call_type` over the horizon, as in `RosterPlan`); `converged` and `shortfall` say how
    the loop ended, `fresh_shortfall` where the fresh days fell short. `kinds` are the kinds of day and
    `requirements` the requirement searched for each (in the same order)."""

    requirement: Requirement
    tours: TourPlan
    scenario: Scenario
    achieved: pd.DataFrame
    by_call_type: pd.DataFrame
    cost_unit: str
    rounds: int
    simulations: int
    converged: bool
    shortfall: str
    verification_seed: int
    fresh_shortfall: str = ""
    kinds: tuple[DayKind, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    objective: str = "interval"
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def fresh_misses(self) -> pd.DataFrame:
        return worst_first(self.achieved[~self.achieved["met"].astype(bool)])

    @property
    def verified(self) -> bool:
        """Every target held: the loop converged and the fresh days show no interval or call type clearly short
        (under the period objective: no interval below its floor, no call type below its target over its period)."""
        pooled = self.periods[self.periods["period"] != "interval"] if len(self.periods) else self.periods
        periods_met = self.objective != "period" or bool(pooled["met"].astype(bool).all())
        return self.converged and self.fresh_misses.empty and bool(self.by_call_type["met"].all()) and periods_met

    @property
    def weeks(self) -> int:
        return len(self.tours.problem.weeks)

    @property
    def cost_per_week(self) -> float:
        """The shifts' cost (paid hours × the group's rate) over the horizon, per week."""
        return self.tours.cost / self.weeks

    def starts_per_day(self) -> pd.DataFrame:
        """Per date and group: the distinct shift start times used and the agents working."""
        table = self.tours.assignments
        worked = table[table["shift"] != "off"]
        rows = []
        for (_, day_name, group), part in worked.groupby(["day", "day_name", "group"], sort=True):
            starts = sorted({clock(start) for start in part["start"]})
            rows.append((day_name, group, len(starts), ", ".join(starts), len(part)))
        return pd.DataFrame(rows, columns=["date", "group", "starts", "start_times", "agents"])

    def schedule_table(self) -> pd.DataFrame:
        """The named schedule: agent, group, contract, one column per date holding "08:00-16:30" or "off"."""
        table = self.tours.schedule
        dates = list(self.tours.problem.day_names)
        return table[["agent", "group", "contract", *dates]]

    def write_schedule(self, path: str | Path) -> Path:
        """Write the named schedule as CSV (UTF-8), whole or not at all."""
        path = Path(path)
        write_text_atomically(path, self.schedule_table().to_csv(index=False, lineterminator="\n"))
        return path

    def to_yaml(self, path: str | Path) -> Path:
        """Write the roster scenario as a scenario file that `bposim run` accepts (whole or not at all)."""
        headcount = ", ".join(f"{name}: {n}" for name, n in self.tours.headcount.items())
        header = (
            f"# Weekly roster optimised by bposim staff: {len(self.tours.agents)} agents ({headcount}); shifts "
            f"{money(self.cost_per_week, self.cost_unit)} a week.\n"
        )
        path = Path(path)
        write_text_atomically(path, header + scenario_text(self.scenario, drop=("roster_file",)))
        return path


def optimise_weekly_roster(
    goal: Scenario,
    *,
    seed: int,
    replications: int,
    max_rounds: int,
    method: str,
    watch: Progress,
    simulator: Simulator,
    verification_seed: int,
) -> WeeklyPlan:
    """The cheapest weekly roster under the scenario's contracts whose simulated service level meets the target
    in every interval, or under the period objective each call type's over its period with no interval below the
    floor (`goal`: the scenario with the objective in force), and each deferred call type's target over the
    horizon. Raises ScheduleError (a TourError) when the contracts and limits leave no roster."""
    problem = tour_problem(goal)
    groups = problem.groups
    kinds = day_kinds(goal)
    kind_of = np.maximum(kind_of_day(kinds, goal.horizon.days), 0)  # a closed date needs nothing whatever its kind
    period = objective_of(goal) == "period"
    sought = floored(goal) if period else goal  # the period objective's requirement starts from the floor
    watch.phase("requirement search")
    requirements = tuple(
        staffing_requirement(
            kind_day(sought, kind),
            occupancy_cap=goal.scheduling.occupancy_cap,
            seed=seed,
            replications=replications,
            method=method,
            simulator=simulator,
        )
        for kind in kinds
    )
    simulations = sum(int(requirement.simulations) for requirement in requirements)
    base = np.stack([required_array(found.table, groups, goal.horizon.intervals) for found in requirements])
    peaks = ", ".join(f"{kind.label} {int(base[k].sum(axis=0).max())}" for k, kind in enumerate(kinds))
    watch.say(f"requirement: {len(kinds)} kind(s) of day, {kinds_text(kinds)}; peak agents {peaks}")
    search = SearchDays(seed + LOOP_SEED_OFFSET, replications, simulator=simulator)
    deferred = WeeklyDeferred(goal, kinds, requirements, groups)
    added = np.zeros_like(base)
    plan, rostered, misses, rounds = None, None, pd.DataFrame(), 0
    converged, shortfall, why = False, "", ""
    while True:
        rounds += 1
        watch.phase("scheduling", rounds)
        watch.say(
            f"round {rounds}: solving the tour programme ({len(problem.shifts)} shift types, {len(problem.days)} days)"
        )
        try:
            candidate = solve_tours(
                problem,
                requirement_by_day(goal, (base + added + deferred.delta)[kind_of], groups),
                time_limit=TOUR_SECONDS,
                node_limit=TOUR_NODES,
            )
        except TourError as exc:
            if plan is None:
                raise
            shortfall = f"{why}; raising the requirement further is infeasible: {exc}"
            rounds -= 1
            break
        plan, rostered = candidate, weekly_roster_scenario(goal, candidate)
        watch.best(plan.cost / len(problem.weeks), _unit(goal) + " a week")
        watch.phase("evaluation", rounds)
        achieved, periods, late = _judged(search, rostered, goal, kinds, period)
        misses, short = search_misses(achieved), period_misses(periods)
        why = shortfall_words(misses, short, late) if period else _missed_text(misses, late, goal.horizon.days)
        watch.say(
            f"round {rounds}: {len(plan.agents)} agents, {money(plan.cost / len(problem.weeks), _unit(goal))} a week"
            f"{'' if plan.optimal else f' (within {plan.gap:.2%} of the cheapest)'} in {plan.seconds:.0f} s; "
            f"{len(misses)} interval(s) below {'the floor' if period else 'target'} on {search.count} runs of "
            f"{goal.horizon.days} days"
            + (f"; {', '.join(late['call_type'])} below target over the horizon" if len(late) else "")
        )
        if misses.empty and short.empty and late.empty:
            converged = True
            break
        if rounds == max_rounds:
            shortfall = f"after {max_rounds} round{'' if max_rounds == 1 else 's'}, {why}"
            break
        phones = _on_phones(plan, groups, goal, kind_of, len(kinds))
        planned = base + deferred.delta  # raised above what the solve asks for, deferred work's part included
        _raise_periods(goal, groups, planned, added, phones, short, achieved, kinds)
        _raise(goal, groups, planned, added, phones, misses)
        unfixable = deferred.raise_for(late)
        if unfixable:
            shortfall = f"no scheduled group can take more {', '.join(sorted(set(unfixable)))}; {why}"
            break
        if len(late):
            watch.say(f"deferred work: arrivals planned with a margin, {deferred.margins_text()}")
    simulations += search.simulated
    watch.phase("verification")
    check = simulator.run(rostered, verification_seed, replications, tables=("intervals",))
    simulations += replications * goal.horizon.days
    if period:
        achieved = kind_floor_levels(check.intervals, goal, kinds).drop(columns="service_level_se")
    else:
        achieved = kind_levels(check.intervals, rostered, kinds).drop(columns="service_level_se")
    by_type = call_type_service_levels(check)
    periods = period_results(check, goal)
    fresh = fresh_shortfall_text(achieved, by_type, replications, verification_seed)
    if period:
        periods = worst_per_kind(periods, achieved)
        fresh = "; ".join(
            filter(
                None, [fresh.replace("are below target", "are below their floor"), period_shortfall_text(periods, goal)]
            )
        )
    busiest = max(range(len(kinds)), key=lambda k: base[k].sum())
    return WeeklyPlan(
        requirement=requirements[busiest],
        tours=plan,
        scenario=rostered,
        achieved=achieved,
        by_call_type=by_type,
        cost_unit=_unit(goal),
        rounds=rounds,
        simulations=simulations,
        converged=converged,
        shortfall=shortfall,
        verification_seed=verification_seed,
        fresh_shortfall=fresh,
        kinds=tuple(kinds),
        requirements=requirements,
        objective=objective_of(goal),
        periods=periods,
    )


def _judged(
    search: SearchDays, rostered: Scenario, goal: Scenario, kinds: list[DayKind], period: bool
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The roster on the search days, per kind of day: its intervals (against their floors under the period
    objective), its call types over their periods (none under the interval objective), and its deferred call types
    short over the horizon (`evaluation.deferred_misses`); more search days while a deferred share is undecided."""
    while True:
        if period:
            achieved, periods = search_kind_period_levels(search, rostered, goal, kinds)
        else:
            achieved = search_kind_levels(search, rostered, kinds)
            periods = achieved.iloc[:0].assign(days_spent=True)
        levels = search_deferred(search, rostered)
        unclear = undecided(levels["service_level"], levels["service_level_ci"], levels["target"])
        if not unclear.any() or not search.extend():
            return achieved, periods, deferred_misses(levels.assign(days_spent=search.batches >= search.max_batches))


def _missed_text(misses: pd.DataFrame, late: pd.DataFrame, days: int) -> str:
    """The intervals and the deferred call types that miss, in words."""
    return "; ".join(filter(None, [misses_text(misses) if len(misses) else "", shortfall_text(late, days)]))


def _raise_periods(
    goal: Scenario,
    groups: list[str],
    base: np.ndarray,
    added: np.ndarray,
    phones: np.ndarray,
    short: pd.DataFrame,
    achieved: pd.DataFrame,
    kinds: list[DayKind],
) -> None:
    """Raise `added` (kind of day × group × interval) in place for the call types short of their period target
    (`kind_periods.raise_kinds_for_periods`), above what the roster had on the phones."""
    if short.empty:
        return
    rates_by_group = {entry.group: entry.per_paid_hour for entry in goal.costs.groups} if goal.costs else {}
    wanted = np.maximum(base + added, phones)
    before = wanted.copy()
    rates = [rates_by_group.get(name, 1.0) for name in groups]
    raise_kinds_for_periods(goal, groups, wanted, short, achieved, kinds, rates)
    added[:] = np.where(wanted > before, wanted - base, added)


def _unit(scenario: Scenario) -> str:
    """What the shifts' cost is counted in: the currency when the groups have a cost, else paid hours."""
    if scenario.costs is not None and scenario.costs.groups:
        return scenario.costs.currency or "cost"
    return "paid hours"


def _on_phones(plan: TourPlan, groups: list[str], scenario: Scenario, kind_of: np.ndarray, kinds: int) -> np.ndarray:
    """Whole agents the roster has on the phones per kind of day, group and interval of the day: the fewest over
    the kind's dates open then (breaks taken out)."""
    horizon = scenario.horizon
    phones = np.full((kinds, len(groups), horizon.intervals), np.inf)
    table = plan.coverage
    for row in table.itertuples(index=False):
        day = int(row.day)
        if row.group in groups and int(row.interval) in horizon.open_intervals(day):
            k, g, i = kind_of[day], groups.index(row.group), int(row.interval)
            phones[k, g, i] = min(phones[k, g, i], row.scheduled)
    return np.floor(np.where(np.isfinite(phones), phones, 0) + 1e-6)


def _raise(
    goal: Scenario,
    groups: list[str],
    base: np.ndarray,
    added: np.ndarray,
    phones: np.ndarray,
    misses: pd.DataFrame,
) -> None:
    """Raise `added` (kind of day × group × interval) in place: one agent above what the roster had on the phones
    on the kind's dates in each missed interval, for the scheduled group that serves the call type first."""
    for row in misses.itertuples(index=False):
        group = group_to_raise(goal, row.call_type, groups)
        if group is None:
            continue
        k, g, i = int(row.kind), groups.index(group), int(row.interval)
        added[k, g, i] = max(base[k, g, i] + added[k, g, i], phones[k, g, i]) - base[k, g, i] + 1
