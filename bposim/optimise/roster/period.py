"""The period objective (`scheduling.objective: period`): the cheapest daily roster whose service level over each
call type's period meets its target, with no interval below the floor (`scheduling.interval_floor`).

A contract measures service level per day, week or month (`service_level.period`), pooled over the period's calls
(`bposim.periods`). The roster repeats every day, so each period's expected service level is the one pooled over
the days it is simulated on. The loop judges a roster on the search days, as the interval objective does:

- each live call type measured per day, week or month: its service level pooled over all the intervals of all the
  search days (the day's counts summed, days independent: `metrics.pooled_service_level` over days), with its 95%
  confidence interval; short when clearly below target, or by more than one standard error once the search days
  can grow no more;
- each interval of such a call type against the floor (not its target), and each interval of a call type measured
  per interval against its target (the two objectives agree there), judged as the interval objective judges them
  (`evaluation.search_misses`).

The requirement starts from the floor: every interval searched for the floor as its target (`floored`). An interval
below its floor gets an agent above what the roster had on the phones there, as in the interval objective. A call
type below its period target gets agents where one more raises the period's calls answered within the threshold
most per cost: the gain of one more agent on the phones in an interval is estimated by Erlang A (Erlang C without
patience) for the interval's calls (`erlang_gain`), and agents are added, best gain per paid hour first, until the
estimated gains make up the calls the period is short of. The simulation judges the result in the next round. The
trim phase, which judges every interval against its target, does not run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import analytic, metrics
from bposim.formatting import money, share
from bposim.optimise.evidence import SearchDays, clearly_short, undecided
from bposim.optimise.progress import Progress
from bposim.optimise.roster.confidence import verified_with_confidence, with_confidence
from bposim.optimise.roster.deferred_margins import DeferredMargins
from bposim.optimise.roster.evaluation import deferred_misses, interval_levels, search_deferred, search_misses
from bposim.optimise.roster.proposal import group_to_raise, on_phones, propose, roster_scenario
from bposim.optimise.roster.shortfall import misses_text
from bposim.optimise.schedule import Schedule, ScheduleError
from bposim.scenario import Scenario

if TYPE_CHECKING:
    from bposim.run import Run

PERIOD_COLUMNS = ["call_type", "period", "offered", "service_level", "service_level_ci", "target", "met"]


def objective_of(scenario: Scenario) -> str:
    """The scenario's staff objective: interval (every interval meets its target) or period."""
    return scenario.scheduling.objective if scenario.scheduling is not None else "interval"


def pooled_types(scenario: Scenario) -> list[str]:
    """The live call types whose target the period objective pools: those measured per day, week or month."""
    return [ct.name for ct in scenario.call_types if ct.live and scenario.period_for(ct) != "interval"]


def interval_bounds(scenario: Scenario) -> dict[str, float]:
    """What each live call type's intervals must reach under the period objective: the floor for a call type
    pooled over its period, its target for one measured per interval."""
    pooled = set(pooled_types(scenario))
    bounds = {}
    for call_type in scenario.call_types:
        if call_type.live:
            target = scenario.service_level_for(call_type)[1]
            bounds[call_type.name] = scenario.scheduling.floor_for(target) if call_type.name in pooled else target
    return bounds


def floored(scenario: Scenario) -> Scenario:
    """The scenario with each live call type's target replaced by what its intervals must reach
    (`interval_bounds`), measured per interval: the requirement the period objective starts from."""
    bounds = interval_bounds(scenario)
    data = scenario.model_dump(mode="python", exclude_none=True)
    data["service_level"].pop("period", None)
    for call_type in data["call_types"]:
        own = {key: value for key, value in call_type.get("service_level", {}).items() if key != "period"}
        if call_type["name"] in bounds:
            own["target"] = bounds[call_type["name"]]
        call_type.pop("service_level", None)
        if own:
            call_type["service_level"] = own
    return Scenario.model_validate(data)


def floor_levels(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """`evaluation.interval_levels` with each interval judged against its bound (`interval_bounds`) as `target`;
    intervals an exempt maintenance window overlaps met whatever their level, as against their target."""
    levels = interval_levels(intervals, scenario)
    bounds = interval_bounds(scenario)
    target = levels["call_type"].astype(str).map(bounds).astype(float)
    met = ~clearly_short(levels["service_level"], levels["service_level_ci"], target)
    if "exempt" in levels:
        met = met | levels["exempt"].to_numpy(bool)
    return levels.assign(target=target.to_numpy(), met=met)


def period_levels(intervals: pd.DataFrame, scenario: Scenario, names: list[str] | None = None) -> pd.DataFrame:
    """Per live call type measured per day, week or month (or each of `names`): its period, calls offered a day,
    the service level pooled over every interval of every day of the table with its standard error and 95%
    half-width over days, the target, and met (not clearly below target)."""
    names = pooled_types(scenario) if names is None else names
    if not names:
        return pd.DataFrame(columns=[*PERIOD_COLUMNS, "service_level_se"])
    mine = intervals[intervals["call_type"].astype(str).isin(names)]
    if "replication" not in mine:
        mine = mine.assign(replication=0)
    counts = ["offered", "answered", "answered_within_threshold", "abandoned_within_threshold"]
    days = mine.groupby(["call_type", "replication", "day"], observed=True)[counts].sum().reset_index()
    pooled = metrics.pooled_service_level(days, ["call_type"], scenario.service_level.definition)
    by_name = {ct.name: ct for ct in scenario.call_types}
    table = pd.DataFrame(
        {
            "call_type": [str(name) for name in pooled.index],
            "period": [scenario.period_for(by_name[str(name)]) for name in pooled.index],
            "offered": (pooled["offered"] / pooled["days"]).to_numpy(),
            "service_level": pooled["service_level"].to_numpy(),
            "service_level_ci": pooled["service_level_ci"].to_numpy(),
            "target": [scenario.service_level_for(by_name[str(name)])[1] for name in pooled.index],
            "service_level_se": pooled["service_level_se"].to_numpy(),
        }
    )
    table["met"] = ~clearly_short(table["service_level"], table["service_level_ci"], table["target"])
    return table[[*PERIOD_COLUMNS, "service_level_se"]]


def period_results(run: Run, scenario: Scenario) -> pd.DataFrame:
    """Per live call type, what a roster achieved over its period on a run's days (the verification's fresh days):
    period, calls offered a day, the service level pooled over the days with its 95% half-width, target, met (not
    clearly below target), p_period_met (the share of its periods that met, over the replications: P(a period
    meets)) and p_all_met (the share of replications in which every period met; `bposim.periods`), the floor its
    intervals are held to under the period objective (`interval_bounds`; its target for one measured per
    interval), and the worst interval of the day with its service level and half-width (pooled over the days)."""
    names = [ct.name for ct in scenario.call_types if ct.live]
    columns = [
        *PERIOD_COLUMNS,
        "p_period_met",
        "p_all_met",
        "floor",
        "worst_interval",
        "worst_service_level",
        "worst_service_level_ci",
    ]
    if not names:
        return pd.DataFrame(columns=columns)
    table = run.intervals if "replication" in run.intervals else run.intervals.assign(replication=0)
    found = period_levels(table, scenario, names)
    confident = verified_with_confidence(with_confidence(found, table, scenario))
    summary = run.summary.get("periods", {})
    found["p_period_met"] = [summary.get(name, {}).get("periods_met_share", math.nan) for name in found["call_type"]]
    found["p_all_met"] = [summary.get(name, {}).get("p_all_met", math.nan) for name in found["call_type"]]
    if "confidence" in confident:  # P(period meets) as the confidence judges it, and met by it
        pooled = confident["confidence"].notna().to_numpy()
        found["p_period_met"] = np.where(pooled, confident["p_met"], found["p_period_met"])
        found["met"] = confident["met"].to_numpy(bool)
        columns = [*columns, "confidence", "p_low", "p_high"]
        found = found.assign(**{key: confident[key].to_numpy() for key in ("confidence", "p_low", "p_high")})
    bounds = interval_bounds(scenario) if objective_of(scenario) == "period" else {}
    found["floor"] = [bounds.get(name, math.nan) for name in found["call_type"]]
    levels = interval_levels(table, scenario)
    worst = levels.dropna(subset=["service_level"]).sort_values("service_level").groupby("call_type", observed=True)
    first = worst.first().reindex(found["call_type"])
    found["worst_interval"] = first["interval_start"].to_numpy()
    found["worst_service_level"] = first["service_level"].to_numpy()
    found["worst_service_level_ci"] = first["service_level_ci"].to_numpy()
    return found[columns]


def period_shortfall_text(periods: pd.DataFrame, scenario: Scenario) -> str:
    """The call types pooled over a period clearly below their period target on the fresh days, in words ("" when
    none is)."""
    short = periods[periods["call_type"].isin(pooled_types(scenario)) & ~periods["met"].astype(bool)]
    if short.empty:
        return ""
    return "below the period target beyond the 95% CI: " + periods_words(short)


def search_period_levels(days: SearchDays, rostered: Scenario) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The roster on the search days: its intervals against their bounds, its call types over their periods, and
    its deferred call types (`evaluation.search_deferred`), each with `days_spent`; with another batch of days
    while any of them is undecided (its 95% confidence interval holds the target or floor)."""
    while True:
        table = days.tables(rostered)[0]
        intervals = floor_levels(table, rostered)
        periods = with_confidence(period_levels(table, rostered), table, rostered)
        deferred = search_deferred(days, rostered)
        judged = intervals[~intervals["exempt"].to_numpy(bool)] if "exempt" in intervals else intervals
        unclear = [
            undecided(frame["service_level"], frame["service_level_ci"], frame.get("required", frame["target"])).any()
            for frame in (judged, periods, deferred)
        ]
        if not any(unclear) or not days.extend():
            spent = days.batches >= days.max_batches
            return intervals.assign(days_spent=spent), periods.assign(days_spent=spent), deferred


def period_misses(periods: pd.DataFrame) -> pd.DataFrame:
    """Call types below their period target on the search days: clearly, or by more than one standard error once
    the search days can grow no more (as `evaluation.search_misses`)."""
    if periods.empty:
        return periods
    if "confidence" in periods:  # `confidence`: P(period meets) itself below the confidence
        return periods[~periods["met"].astype(bool)]
    level, target = periods["service_level"], periods["target"]
    short = clearly_short(level, periods["service_level_ci"], target)
    if periods["days_spent"].all():
        short = short | np.asarray(level + periods["service_level_se"].fillna(np.inf) < target, bool)
    return periods[short]


def erlang_gain(scenario: Scenario, call_type: str, calls: float, agents: int) -> float:
    """Calls a day answered within the threshold that one more agent on the phones adds to an interval with
    `calls` offered and `agents` serving them (Erlang A, or Erlang C without patience; where `agents` cannot keep
    up, the gain of reaching one more than the load, shared over the agents it takes)."""
    own = next(ct for ct in scenario.call_types if ct.name == call_type)
    if calls <= 0:
        return 0.0
    rate = calls / scenario.horizon.interval_seconds
    handle = own.handle_time.mean
    patience = own.patience.mean if own.patience is not None else math.inf
    threshold = scenario.service_level_for(own)[0]

    def level(n: int) -> float:
        return analytic.erlang_a_metrics(max(n, 1), rate, handle, patience, threshold).service_level

    now, more = level(agents), level(agents + 1)
    if more - now > 1e-9 or math.isfinite(patience):
        return calls * max(more - now, 0.0)
    stable = math.floor(rate * handle) + 1
    return calls * level(stable + 1) / max(stable + 1 - agents, 1)


def raise_for_periods(
    goal: Scenario,
    groups: list[str],
    want: np.ndarray,
    short: pd.DataFrame,
    intervals: pd.DataFrame,
    rates: list[float],
) -> tuple[list[str], list[tuple[str, int]]]:
    """Raise `want` (agents on the phones wanted per group × interval) in place for each call type short of its
    period target: best estimated gain per paid hour first (`erlang_gain`), until the gains make up the calls
    short a day. Returns the call types no scheduled group serves, and the (group, interval) places raised."""
    unfixable, raised = [], []
    for row in short.itertuples(index=False):
        group = group_to_raise(goal, row.call_type, groups)
        if group is None:
            unfixable.append(str(row.call_type))
            continue
        g = groups.index(group)
        mine = intervals[intervals["call_type"].astype(str) == row.call_type]
        offered = dict(zip(mine["interval"].astype(int), mine["offered"], strict=True))  # calls a day
        wanted = getattr(row, "required", row.target)  # with a confidence, the level meeting it that often
        missing = (wanted - row.service_level) * row.offered  # calls a day to bring within the threshold
        while missing > 0:
            gains = {
                t: erlang_gain(goal, row.call_type, calls, int(want[g, t])) / rates[g]
                for t, calls in offered.items()
                if calls > 0
            }
            if not gains:
                break
            t = max(gains, key=lambda i: (gains[i], -i))
            want[g, t] += 1
            raised.append((group, t))
            missing -= max(gains[t] * rates[g], 1e-3 * row.offered)
    return unfixable, raised


@dataclass(frozen=True)
class PeriodRounds:
    """Where the period loop left off, as the interval loop's `_Rounds`."""

    schedule: Schedule
    rostered: Scenario
    achieved: pd.DataFrame
    added: np.ndarray
    rounds: int
    converged: bool
    shortfall: str


def period_rounds(
    goal: Scenario,
    groups: list[str],
    base: np.ndarray,
    search: SearchDays,
    max_rounds: int,
    watch: Progress,
    deferred: DeferredMargins,
) -> PeriodRounds:
    """Propose a roster for the floor's requirement `base` plus the agents added so far, judge it on the search
    days (each call type over its period, each interval against its floor), and raise the requirement where it
    misses; until nothing misses, no roster covers the raised requirement, no scheduled group serves a call type
    that misses, or `max_rounds`."""
    added = np.zeros_like(base)
    rates_by_group = {entry.group: entry.per_paid_hour for entry in goal.costs.groups} if goal.costs else {}
    rates = [rates_by_group.get(name, 1.0) for name in groups]
    schedule, rostered, achieved, why = None, None, pd.DataFrame(), ""
    previous: set[tuple[str, int]] = set()
    rounds = 0
    while True:
        rounds += 1
        watch.phase("scheduling", rounds)
        try:
            candidate = propose(goal, base + added + deferred.delta, groups)
        except ScheduleError as exc:
            if schedule is None:
                raise
            shortfall = f"{why}; raising the requirement further is infeasible: {exc}"
            return PeriodRounds(schedule, rostered, achieved, added + deferred.delta, rounds - 1, False, shortfall)
        schedule, rostered = candidate, roster_scenario(goal, candidate)
        watch.best(schedule.cost, schedule.cost_unit)
        watch.phase("evaluation", rounds)
        achieved, periods, late_levels = search_period_levels(search, rostered)
        floor_short, period_short = search_misses(achieved), period_misses(periods)
        late = deferred_misses(late_levels)
        why = shortfall_words(floor_short, period_short, late)
        watch.say(
            f"round {rounds}: {sum(schedule.agents)} agents, cost {money(schedule.cost, schedule.cost_unit)}; "
            f"on {search.count} days {periods_words(periods)}; {len(floor_short)} interval(s) below the floor"
        )
        if floor_short.empty and period_short.empty and late.empty:
            return PeriodRounds(schedule, rostered, achieved, added + deferred.delta, rounds, True, "")
        if rounds == max_rounds:
            done = f"{max_rounds} round{'' if max_rounds == 1 else 's'}"
            return PeriodRounds(
                schedule, rostered, achieved, added + deferred.delta, rounds, False, f"after {done}, {why}"
            )
        phones = on_phones(schedule, groups, goal.horizon.intervals)
        want = np.maximum(base + added, phones)
        unfixable = _raise_floor(goal, groups, want, floor_short, previous)
        more, _ = raise_for_periods(goal, groups, want, period_short, achieved, rates)
        unfixable += more + deferred.raise_for(late)
        added = np.where(want > np.maximum(base + added, phones), want - base, added)
        if unfixable:
            shortfall = f"no scheduled group serves {', '.join(sorted(set(unfixable)))}; {why}"
            return PeriodRounds(schedule, rostered, achieved, added + deferred.delta, rounds, False, shortfall)
        previous = {(row.call_type, row.interval) for row in floor_short.itertuples(index=False)}


def _raise_floor(
    goal: Scenario, groups: list[str], want: np.ndarray, misses: pd.DataFrame, previous: set[tuple[str, int]]
) -> list[str]:
    """One agent more on the phones wanted for each interval below its floor, and one in the interval before
    where the same interval missed the round before; returns the call types no scheduled group serves."""
    unfixable = []
    for row in misses.itertuples(index=False):
        group = group_to_raise(goal, row.call_type, groups)
        if group is None:
            unfixable.append(str(row.call_type))
            continue
        g = groups.index(group)
        want[g, row.interval] += 1
        if (row.call_type, row.interval) in previous and row.interval > 0:
            want[g, row.interval - 1] += 1
    return unfixable


def periods_words(periods: pd.DataFrame) -> str:
    """E.g. ``support 81.2% ± 0.9% per day (target 80%)``; "no call type pooled over a period" when none is."""
    if periods.empty:
        return "no call type pooled over a period"
    return ", ".join(
        f"{row.call_type} {share(row.service_level, row.service_level_ci)} per {row.period} "
        f"(target {share(row.target, digits=0)}{_risk_words(row)})"
        for row in periods.itertuples(index=False)
    )


def _risk_words(row) -> str:
    """E.g. ``, P(meets) 40% < 90%`` under a confidence (`confidence.with_confidence`); "" without."""
    level = getattr(row, "confidence", math.nan)
    if level != level:
        return ""
    return f", P(meets) {share(row.p_met, digits=0)} {'≥' if row.p_met >= level else '<'} {share(level, digits=0)}"


def shortfall_words(floor_short: pd.DataFrame, period_short: pd.DataFrame, late: pd.DataFrame) -> str:
    """What misses under the period objective, in words."""
    parts = []
    if len(period_short):
        parts.append("below the period target: " + periods_words(period_short))
    if len(floor_short):
        parts.append(misses_text(floor_short).replace("their target", "their floor"))
    if len(late):
        parts.append(f"{', '.join(late['call_type'])} below target over the judged days")
    return "; ".join(parts)
