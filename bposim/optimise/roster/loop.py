"""The closed loop: staffing requirement → cheapest shifts → simulate the roster → raise where it misses → again.

Each round solves the shift scheduling problem for the requirement plus the agents added so far (`proposal`) and
simulates the roster on the search days (`evaluation`; the same days every round: common random numbers, so only
the roster changes). These are not the days the requirement was tuned on (seed + LOOP_SEED_OFFSET): on those, the
search kept the removals the days happened to favour, and a roster judged there would inherit that luck.
Service levels are pooled over the days with a 95% confidence interval (`metrics.pooled_service_level`), and the
loop reacts to evidence, not noise: it adds one agent for each interval and call type clearly below target (the
whole interval below it), to the primary group serving that call type (its best routing priority, then the
cheapest); a miss in the same place two rounds running also adds one in the interval before, where the queue
builds up. The agent is added above what the roster had on the phones there, so that it is not absorbed by the
slack the shifts left (which would give the same roster again). While an interval is undecided (its 95%
confidence interval holds the target, on either side) the search days grow by another batch (`evidence.SearchDays`);
once they can grow no more, an interval below target by more than one standard error is raised too (the evidence
there is to have). The loop ends when no interval is short so, or after `max_rounds`; once it has converged, the
trim phase (`trim`) takes back slack the shifts left. A last run with fresh seeds gives the achieved service
levels with 95% confidence intervals; the intervals clearly below target there are the plan's `fresh_shortfall`
(`shortfall`), and a plan is `verified` only when the loop converged and there are none.

Deferred work (email, case) is judged by what its contract measures: per call type, the share of the items due
over the judged days done by their due time, pooled over the days and the search days' replications
(`bposim.optimise.deferred`; a day's result depends on the days before it, so the days are judged together). The
search days grow while such a share is undecided too; a call type below target, as a live interval is, raises
its margin in the deferred start, solved again for the scheduled groups (`deferred_margins`), and the round's
roster must cover the new plan. The verification checks it on the fresh days with the live call types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import workload
from bposim.formatting import money
from bposim.optimise.days import Simulator
from bposim.optimise.deferred import judged_days, shortfall_text
from bposim.optimise.evidence import HOLDOUT_SEED_OFFSET, LOOP_SEED_OFFSET, SearchDays
from bposim.optimise.progress import Progress, watcher
from bposim.optimise.requirement import RequirementError, with_objective
from bposim.optimise.requirement.day_kinds import day_kinds, kinds_text
from bposim.optimise.roster.deferred_margins import DeferredMargins
from bposim.optimise.roster.evaluation import (
    call_type_service_levels,
    deferred_misses,
    interval_service_levels,
    search_deferred,
    search_levels,
    search_misses,
)
from bposim.optimise.roster.period import (
    floor_levels,
    floored,
    objective_of,
    period_results,
    period_rounds,
    period_shortfall_text,
)
from bposim.optimise.roster.plan import RosterPlan
from bposim.optimise.roster.proposal import (
    group_to_raise,
    on_phones,
    propose,
    required_array,
    required_table,
    roster_scenario,
)
from bposim.optimise.roster.shortfall import busy_signals_text, fresh_shortfall_text, misses_text
from bposim.optimise.roster.trim import Trim
from bposim.optimise.roster.weekly import WeeklyPlan, optimise_weekly_roster
from bposim.optimise.schedule import Schedule, ScheduleError
from bposim.optimise.trunks import trunk_limit_text, trunk_limits
from bposim.scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement
    from bposim.run import Run

VERIFICATION_SEED_OFFSET = 1_000


def optimise_roster(
    scenario: Scenario,
    *,
    target: float | None = None,
    threshold_seconds: float | None = None,
    seed: int = 0,
    replications: int = 10,
    max_rounds: int = 8,
    method: str = "simulation",
    trim_trials: int = 12,
    progress: Progress | Callable[[str], None] | None = None,
    requirement: Requirement | None = None,
    workers: int = 1,
) -> RosterPlan | WeeklyPlan:
    """The cheapest roster from the scenario's shift patterns whose simulated service level meets the target; with
    contracts (`scheduling.contracts`), the cheapest agents' weeks over the calendar horizon (`weekly`).

    `target` and `threshold_seconds`, when given, replace every call type's objective. `trim_trials` bounds the
    trim phase after convergence (0: none). A `requirement` already computed for this scenario and objective is
    used as it is (`method` is then ignored); otherwise it is computed. Raises ScheduleError when the scenario has
    no scheduling section or no roster can cover the requirement, RequirementError when the trunk lines keep a
    target out of reach whatever the staffing (`trunks.trunk_limits`), and ScenarioError when the scenario (with
    `replications`) or its shift patterns are beyond the limits of `bposim.workload`.

    `progress` hears the news lines (a function taking them) or, as a `progress.Progress`, the phase, round, days
    simulated and the cheapest roster so far as well. `workers` processes share the simulated days; the plan is
    the same whatever their number.
    """

    if scenario.scheduling is None:
        raise ScheduleError(
            "the scenario has no scheduling section: add scheduling: {shifts: [...]} with the shift "
            "patterns the optimiser may use"
        )
    if max_rounds < 1 or replications < 1 or trim_trials < 0:
        raise ValueError("max_rounds and replications must be at least 1, trim_trials at least 0")
    problems = workload.staff_problems(scenario, replications, "replications")
    if problems:
        raise ScenarioError("scenario", problems)
    watch = watcher(progress)
    goal = with_objective(scenario, target, threshold_seconds)
    limits = trunk_limits(goal)
    if limits:
        raise RequirementError(trunk_limit_text(limits))
    if not scenario.scheduling.weekly:
        _one_kind_of_day(goal)
    with Simulator(workers, watch) as simulator:
        if scenario.scheduling.weekly:
            return optimise_weekly_roster(
                goal,
                seed=seed,
                replications=replications,
                max_rounds=max_rounds,
                method=method,
                watch=watch,
                simulator=simulator,
                verification_seed=seed + VERIFICATION_SEED_OFFSET,
            )
        return _optimise(
            scenario, goal, seed, replications, max_rounds, method, trim_trials, watch, requirement, simulator
        )


def _one_kind_of_day(scenario: Scenario) -> None:
    """ScheduleError when the horizon's days differ in their hours or arrivals (`day_kinds`): one roster repeated
    every day cannot staff each kind as it needs, so the planner is pointed at weekly rosters."""
    kinds = day_kinds(scenario)
    if len(kinds) > 1:
        raise ScheduleError(
            f"the days of this horizon differ in their hours or arrivals: {len(kinds)} kinds of day, "
            f"{kinds_text(kinds)}. Without contracts bposim staff repeats one roster every day, which would staff "
            "the light days like the busiest; give scheduling.contracts to plan agents' weeks, each date with its "
            "kind's requirement, or staff one kind at a time (arrivals the same every day)"
        )


def _optimise(
    scenario: Scenario,
    goal: Scenario,
    seed: int,
    replications: int,
    max_rounds: int,
    method: str,
    trim_trials: int,
    watch: Progress,
    requirement: Requirement | None,
    simulator: Simulator,
) -> RosterPlan:
    """`optimise_roster` once its arguments are checked: requirement, rounds, trim, verification."""
    from bposim.optimise.requirement import staffing_requirement

    say = watch.say
    period = objective_of(goal) == "period"  # the period objective: `period`
    if requirement is None:
        watch.phase("requirement search")
        requirement = staffing_requirement(
            floored(goal) if period else goal,
            occupancy_cap=scenario.scheduling.occupancy_cap,
            seed=seed,
            replications=replications,
            method=method,
            simulator=simulator,
        )
    simulations = int(getattr(requirement, "simulations", 0))
    say(f"requirement: {simulations} simulated days, peak {_peak(requirement.table)} agents{_channels(requirement)}")
    groups = scenario.scheduling.scheduled_groups([group.name for group in goal.agent_groups])
    base = required_array(requirement.table, groups, goal.horizon.intervals)
    search = SearchDays(seed + LOOP_SEED_OFFSET, replications, simulator=simulator)
    deferred = DeferredMargins(requirement, groups, goal.horizon.intervals)
    loop = (period_rounds if period else _rounds)(goal, groups, base, search, max_rounds, watch, deferred)
    holdout = SearchDays(seed + HOLDOUT_SEED_OFFSET, replications, simulator=simulator)
    trim = Trim(goal, groups, base + loop.added, search, holdout, watch, floor=deferred.floor())
    schedule, rostered = loop.schedule, loop.rostered
    if loop.converged and not period:
        schedule, rostered = trim.run(schedule, rostered, loop.achieved, trim_trials)
    simulations += search.simulated + trim.holdout.simulated
    verification_seed = seed + VERIFICATION_SEED_OFFSET
    watch.phase("verification")
    check = simulator.run(rostered, verification_seed, replications, tables=("intervals",))
    simulations += replications * judged_days(goal)
    achieved = floor_levels(check.intervals, goal) if period else interval_service_levels(check)
    by_type = call_type_service_levels(check)
    periods = period_results(check, goal)
    say(
        f"verification: {replications} fresh days; "
        + ", ".join(f"{row.call_type} {row.service_level:.1%}" for row in by_type.itertuples(index=False))
    )
    cost, cost_ci, unit = _cost(check, schedule)
    fresh = fresh_shortfall_text(achieved, by_type, replications, verification_seed)
    if period:
        fresh = fresh.replace("are below target", "are below their floor")
    if period and period_shortfall_text(periods, goal):
        fresh = "; ".join(filter(None, [fresh, period_shortfall_text(periods, goal)]))
    if fresh:
        fresh += busy_signals_text(rostered, check.intervals, achieved[~achieved["met"]])
    return RosterPlan(
        requirement=requirement,
        schedule=schedule,
        scenario=rostered,
        achieved=achieved,
        by_call_type=by_type,
        cost=cost,
        cost_ci=cost_ci,
        cost_unit=unit,
        rounds=loop.rounds,
        simulations=simulations,
        converged=loop.converged,
        shortfall=loop.shortfall,
        added=required_table(loop.added, groups),
        verification_seed=verification_seed,
        trim_trials=trim.trials,
        trim_accepted=trim.accepted,
        trim_saving=trim.saving,
        trimmed=required_table(trim.removed, groups),
        fresh_shortfall=fresh,
        objective=objective_of(goal),
        periods=periods,
    )


@dataclass(frozen=True)
class _Rounds:
    """Where the loop left off: the last roster, its service levels on the search days, the agents added to the
    requirement, the rounds it counts, and whether it converged (else why not)."""

    schedule: Schedule
    rostered: Scenario
    achieved: pd.DataFrame
    added: np.ndarray
    rounds: int
    converged: bool
    shortfall: str


def _rounds(
    goal: Scenario,
    groups: list[str],
    base: np.ndarray,
    search: SearchDays,
    max_rounds: int,
    watch: Progress,
    deferred: DeferredMargins,
) -> _Rounds:
    """Propose a roster for the requirement `base` plus the agents added so far, judge it on the search days, and
    raise the requirement where it misses (live intervals; deferred call types over the judged days through their
    margins); until nothing misses, no roster covers the raised requirement (the previous round's roster stands),
    no scheduled group serves a call type that misses, or `max_rounds`."""
    added = np.zeros_like(base)
    schedule, rostered, achieved, misses, late = None, None, pd.DataFrame(), pd.DataFrame(), pd.DataFrame()
    previous: set[tuple[str, int]] = set()
    days = judged_days(goal)
    rounds = 0
    while True:
        rounds += 1
        watch.phase("scheduling", rounds)
        try:
            candidate = propose(goal, base + added + deferred.delta, groups)
        except ScheduleError as exc:
            if schedule is None:
                raise
            shortfall = f"{_missed_text(misses, late, days)}; raising the requirement further is infeasible: {exc}"
            return _Rounds(schedule, rostered, achieved, added + deferred.delta, rounds - 1, False, shortfall)
        schedule, rostered = candidate, roster_scenario(goal, candidate)
        watch.best(schedule.cost, schedule.cost_unit)
        watch.phase("evaluation", rounds)
        achieved = search_levels(search, rostered)
        misses = search_misses(achieved)
        late = deferred_misses(search_deferred(search, rostered))
        watch.say(
            f"round {rounds}: {sum(schedule.agents)} agents, cost {money(schedule.cost, schedule.cost_unit)}"
            f"{'' if schedule.optimal else f' (within {schedule.gap:.2%} of the cheapest)'}; "
            f"{len(misses)} interval(s) below target on {search.count} days"
            + (f"; {', '.join(late['call_type'])} below target over {days} days" if len(late) else "")
        )
        if misses.empty and late.empty:
            return _Rounds(schedule, rostered, achieved, added + deferred.delta, rounds, True, "")
        if rounds == max_rounds:
            busy_signals = busy_signals_text(rostered, search.tables(rostered)[0], misses)
            done = f"{max_rounds} round{'' if max_rounds == 1 else 's'}"
            shortfall = f"after {done}, {_missed_text(misses, late, days)}{busy_signals}"
            return _Rounds(schedule, rostered, achieved, added + deferred.delta, rounds, False, shortfall)
        unfixable = _raise(
            goal, groups, base, added, on_phones(schedule, groups, goal.horizon.intervals), misses, previous
        )
        unfixable += deferred.raise_for(late)
        if unfixable:
            shortfall = (
                f"no scheduled group serves {', '.join(sorted(set(unfixable)))}; {_missed_text(misses, late, days)}"
            )
            return _Rounds(schedule, rostered, achieved, added + deferred.delta, rounds, False, shortfall)
        if len(late):
            watch.say(f"deferred work: arrivals planned with a margin, {deferred.margins_text()}")
        previous = {(row.call_type, row.interval) for row in misses.itertuples(index=False)}


def _raise(
    goal: Scenario,
    groups: list[str],
    base: np.ndarray,
    added: np.ndarray,
    phones: np.ndarray,
    misses: pd.DataFrame,
    previous: set[tuple[str, int]],
) -> list[str]:
    """Raise `added` in place: an agent for each missed interval and call type, to the group that serves the call
    type first, and one more in the interval before where the same interval missed the round before (`previous`).
    Returns the call types no scheduled group serves."""
    unfixable = []
    for row in misses.itertuples(index=False):
        group = group_to_raise(goal, row.call_type, groups)
        if group is None:
            unfixable.append(str(row.call_type))
            continue
        g, i = groups.index(group), row.interval
        # One agent above what the roster had on the phones there (`phones`): a raise within the slack the shifts
        # left would give the same roster again.
        added[g, i] = max(base[g, i] + added[g, i], phones[g, i]) - base[g, i] + 1
        if (row.call_type, row.interval) in previous and row.interval > 0:
            added[g, row.interval - 1] += 1
    return unfixable


def _missed_text(misses: pd.DataFrame, late: pd.DataFrame, days: int) -> str:
    """The live intervals and the deferred call types that miss, in words."""
    parts = [misses_text(misses)] if len(misses) else []
    if len(late):
        parts.append(shortfall_text(late, days))
    return "; ".join(parts)


def _peak(table: pd.DataFrame) -> int:
    """The most agents the requirement asks for at once, over all groups."""
    return int(table.groupby("interval")["required"].sum().max()) if len(table) else 0


def _channels(requirement: Requirement) -> str:
    """The agents each channel's call types need at the requirement's peak, e.g. `` (voice 7.2, chat 4.8 at
    10:00)``; "" with one channel."""
    by_channel = getattr(requirement, "by_channel", None)
    if by_channel is None or by_channel.empty or by_channel["channel"].nunique() < 2:
        return ""
    totals = requirement.table.groupby("interval")["required"].sum()
    peak = int(totals.idxmax())
    at_peak = by_channel[by_channel["interval"] == peak]
    parts = ", ".join(f"{row.channel} {row.required:.1f}" for row in at_peak.itertuples(index=False))
    return f" ({parts} at {at_peak['interval_start'].iloc[0]})"


def _cost(run: Run, schedule: Schedule) -> tuple[float, float, str]:
    """The verification run's mean total cost a day (with CI) when the scenario has costs, else paid hours."""
    costs = run.scenario.costs
    if costs is None or "total_cost" not in run.summary:
        return schedule.paid_hours, 0.0, "paid hours"
    days = run.scenario.horizon.days  # the run's total over its days, as a day's
    total, half = float(run.summary["total_cost"]), float(run.summary.get("total_cost_ci", np.nan))
    return total / days, half / days, costs.currency or "cost"
