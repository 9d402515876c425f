"""The period objective (`roster.period`) on a weekly roster, judged per kind of day (`kind_levels`).

Under `scheduling.objective: period` the weekly loop holds each interval to its floor per kind of day (pooled over
the kind's dates, as the interval objective holds it to its target; `kind_floor_levels`), and each call type
measured per day, week or month to its target pooled over every date of the horizon (`period.period_levels`).
Intervals an exempt maintenance window overlaps are outside the objective: met whatever their level against the
floor, never raised.

A call type short over its period gets agents on the kinds of day and intervals where one more raises its calls
answered within the threshold most per cost (`raise_kinds_for_periods`). The period pools every date, so every
kind whose dates carry the call type's calls is a candidate: one more agent on a kind's interval stands there on
each of the kind's dates, its gain (`period.erlang_gain` for the kind's calls in the interval) counted once per
date, as its cost is. Agents are added, best gain per paid hour first, until the gains make up the calls the
horizon is short of (the shortfall times the calls offered over the kinds' dates). The next round judges it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim.optimise.evidence import SearchDays, clearly_short, undecided
from bposim.optimise.requirement.day_kinds import DayKind
from bposim.optimise.roster.confidence import with_confidence
from bposim.optimise.roster.kind_levels import kind_levels
from bposim.optimise.roster.period import erlang_gain, interval_bounds, period_levels
from bposim.optimise.roster.proposal import group_to_raise
from bposim.scenario import Scenario


def kind_floor_levels(intervals: pd.DataFrame, scenario: Scenario, kinds: list[DayKind]) -> pd.DataFrame:
    """`kind_levels` with each interval judged against its bound under the period objective (`period.
    interval_bounds`: the floor, or the target of a call type measured per interval) as `target`; exempt
    intervals met whatever their level."""
    levels = kind_levels(intervals, scenario, kinds)
    target = levels["call_type"].astype(str).map(interval_bounds(scenario)).astype(float)
    met = ~clearly_short(levels["service_level"], levels["service_level_ci"], target)
    if "exempt" in levels:
        met = met | levels["exempt"].to_numpy(bool)
    return levels.assign(target=target.to_numpy(), met=np.asarray(met, bool))


def search_kind_period_levels(
    days: SearchDays, rostered: Scenario, goal: Scenario, kinds: list[DayKind]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weekly roster on the search days: its intervals per kind of day against their bounds, and its call
    types over their periods (bounds and targets those of `goal`), each with `days_spent`; with another batch of
    days while one of them is undecided (its 95% confidence interval holds the floor or target; exempt intervals
    never are)."""
    while True:
        table = days.tables(rostered)[0]
        intervals = kind_floor_levels(table, goal, kinds)
        periods = with_confidence(period_levels(table, goal), table, goal)
        unclear = undecided(intervals["service_level"], intervals["service_level_ci"], intervals["target"])
        if "exempt" in intervals:
            unclear = unclear & ~intervals["exempt"].to_numpy(bool)
        wanted = periods.get("required", periods["target"])
        unclear_periods = undecided(periods["service_level"], periods["service_level_ci"], wanted)
        if not (unclear.any() or unclear_periods.any()) or not days.extend():
            spent = days.batches >= days.max_batches
            return intervals.assign(days_spent=spent), periods.assign(days_spent=spent)


def raise_kinds_for_periods(
    goal: Scenario,
    groups: list[str],
    want: np.ndarray,
    short: pd.DataFrame,
    achieved: pd.DataFrame,
    kinds: list[DayKind],
    rates: list[float],
) -> list[tuple[int, str, int]]:
    """Raise `want` (agents on the phones wanted per kind of day × group × interval) in place for each call type
    short of its period target (`short`, from `period.period_misses`), best estimated gain per paid hour first,
    until the gains over the kinds' dates make up the calls the horizon is short of; `achieved` holds the calls
    offered per date of each kind and interval (`kind_floor_levels`). Returns the (kind, group, interval) places
    raised; a call type no scheduled group serves is left as it is."""
    dates = [len(kind.days) for kind in kinds]
    raised = []
    for row in short.itertuples(index=False):
        group = group_to_raise(goal, row.call_type, groups)
        if group is None:
            continue
        g = groups.index(group)
        mine = achieved[achieved["call_type"].astype(str) == row.call_type]
        if "exempt" in mine:
            mine = mine[~mine["exempt"].to_numpy(bool)]
        offered = {
            (int(k), int(t)): float(calls)
            for k, t, calls in zip(mine["kind"], mine["interval"], mine["offered"], strict=True)
            if calls > 0
        }
        horizon_calls = sum(calls * dates[k] for (k, _), calls in offered.items())
        wanted = getattr(row, "required", row.target)  # with a confidence, the level meeting it that often
        missing = (wanted - row.service_level) * horizon_calls  # calls a run of the horizon to bring within
        while missing > 0 and offered:
            gains = {
                place: erlang_gain(goal, row.call_type, calls, int(want[place[0], g, place[1]])) / rates[g]
                for place, calls in offered.items()
            }
            k, t = max(gains, key=lambda place: (gains[place], -place[0], -place[1]))
            want[k, g, t] += 1
            raised.append((k, group, t))
            missing -= max(gains[(k, t)] * rates[g] * dates[k], 1e-3 * horizon_calls)
    return raised


def worst_per_kind(periods: pd.DataFrame, achieved: pd.DataFrame) -> pd.DataFrame:
    """`periods` (`period.period_results`) with each call type's worst interval taken per kind of day from
    `achieved` (`kind_floor_levels`; "sat 09:00" with several kinds) rather than pooled over every date; exempt
    intervals left out."""
    if periods.empty or achieved.empty:
        return periods
    judged = achieved[~achieved["exempt"].to_numpy(bool)] if "exempt" in achieved else achieved
    ranked = judged.dropna(subset=["service_level"]).sort_values("service_level", kind="stable")
    first = ranked.groupby("call_type", observed=True).first().reindex(periods["call_type"])
    return periods.assign(
        worst_interval=first["interval_start"].to_numpy(),
        worst_service_level=first["service_level"].to_numpy(),
        worst_service_level_ci=first["service_level_ci"].to_numpy(),
    )
