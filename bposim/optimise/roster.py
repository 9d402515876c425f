"""The closed loop: staffing requirement → cheapest shifts → simulate the roster → raise where it misses → again.

Each round solves the shift scheduling problem for the requirement plus the agents added so far and simulates
the roster on the search days (the same days every round: common random numbers, so only the roster changes).
These are not the days the requirement was tuned on (seed + LOOP_SEED_OFFSET): on those, the search kept the
removals the days happened to favour, and a roster judged there would inherit that luck.
Service levels are pooled over the days with a 95% confidence interval (`metrics.pooled_service_level`), and the
loop reacts to evidence, not noise: it adds one agent for each interval and call type clearly below target (the
whole interval below it), to the primary group serving that call type (its best routing priority, then the
cheapest); a miss in the same place two rounds running also adds one in the interval before, where the queue
builds up. The agent is added above what the roster had on the phones there, so that it is not absorbed by the
slack the shifts left (which would give the same roster again). While an interval is undecided (its 95%
confidence interval holds the target, on either side) the search days grow by another batch (`evidence.SearchDays`);
once they can grow no more, an interval below target by more than one standard error is raised too (the evidence
there is to have). The loop ends when no interval is short so, or after `max_rounds`. A last run with fresh seeds
gives the achieved service levels with 95% confidence intervals; the intervals clearly below target there are
the plan's `fresh_shortfall`, and a plan is `verified` only when the loop converged and there are none.

Trim. The shapes of the shifts leave slack (more agents on the phones than required, and a queue emptied early
that makes the next intervals easier), which the loop never takes back. Once it has converged, up to
`trim_trials` trials each lower the requirement by one agent in the intervals where the scheduled groups show
slack beyond the noise on the search days (the lower 95% bound above target, the least over the call types the
group serves), as few of them, taken in order of slack, as let the programme find a cheaper roster (one interval
alone seldom does, as a shift spans many). The search days chose the cut, so they cannot judge it: a trial is
judged on hold-out days (another seed than the search's and the verification's) and kept only if the new roster
is strictly cheaper, every call type keeps its target with the 95% margin (lower bound at or above target) in each
interval where it has fewer agents on the phones and in the interval after, and no interval is clearly below
target; the hold-out days grow while such a margin is ambiguous. A trial not kept is not tried again: the next
one lowers one more interval in order of slack, for another roster with the same saving (a deeper cut waits until
a smaller one has held).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import metrics, workload
from bposim.files import write_text_atomically
from bposim.formatting import hours_minutes
from bposim.optimise.evidence import (
    HOLDOUT_SEED_OFFSET,
    LOOP_SEED_OFFSET,
    SearchDays,
    clearly_short,
    holds_with_margin,
    undecided,
)
from bposim.optimise.requirement import RequirementError, with_objective
from bposim.optimise.schedule import TOLERANCE, Schedule, ScheduleError, solve_schedule
from bposim.optimise.trunks import trunk_limit_text, trunk_limits
from bposim.scenario import Scenario, ScenarioError

if TYPE_CHECKING:
    from bposim.optimise.requirement import Requirement
    from bposim.run import Run

VERIFICATION_SEED_OFFSET = 1_000
ACHIEVED_COLUMNS = [
    "call_type",
    "interval",
    "interval_start",
    "offered",
    "service_level",
    "service_level_ci",
    "target",
    "met",
]


@dataclass(frozen=True)
class RosterPlan:
    """An optimised roster: the requirement, the chosen shifts, the roster scenario, and what it achieved.

    `achieved` is per call type and interval, `by_call_type` per call type over the day, both from a verification
    run with fresh seeds (`verification_seed`): the service level pooled over the days with its 95% confidence
    half-width, the target, and `met` (the target is inside or below the confidence interval). `cost` is the
    verification run's mean total cost when the scenario has costs, else the roster's paid hours. `converged` says
    whether the last round of the loop left no interval clearly below target; `shortfall` says why not;
    `fresh_shortfall` says which intervals the verification found clearly below target, and by how much ("" when
    none), and `verified` whether every target held on both. `added`
    holds the agents the loop added to the requirement (group, interval, required); `simulations` counts
    simulated days, the requirement's, the hold-out's and the verification's included. `trim_trials` counts the
    trim trials spent after the loop converged, `trim_accepted` those kept, `trim_saving` what they saved on the
    shifts' cost (`cost_unit` of the schedule), and `trimmed` the agents they took off the requirement (group,
    interval, required).
    """

    requirement: Requirement
    schedule: Schedule
    scenario: Scenario
    achieved: pd.DataFrame
    by_call_type: pd.DataFrame
    cost: float
    cost_ci: float
    cost_unit: str
    rounds: int
    simulations: int
    converged: bool
    shortfall: str
    added: pd.DataFrame
    verification_seed: int
    trim_trials: int = 0
    trim_accepted: int = 0
    trim_saving: float = 0.0
    trimmed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["group", "interval", "required"]))
    fresh_shortfall: str = ""

    @property
    def fresh_misses(self) -> pd.DataFrame:
        """The call types and intervals clearly below target on the fresh days (the whole 95% confidence interval
        below it), the furthest below first, with `gap` = target − service level."""
        missed = self.achieved[~self.achieved["met"].astype(bool)]
        return missed.assign(gap=missed["target"] - missed["service_level"]).sort_values("gap", ascending=False)

    @property
    def verified(self) -> bool:
        """Every target held: the loop converged, and on the fresh days no interval and no call type over the day
        is clearly below its target."""
        return self.converged and self.fresh_misses.empty and bool(self.by_call_type["met"].all())

    def to_yaml(self, path: str | Path) -> Path:
        """Write the roster scenario as a scenario file that `bposim run` accepts (whole or not at all)."""
        import yaml

        data = self.scenario.model_dump(mode="json", exclude_none=True)
        data.pop("roster_file", None)
        headcount = ", ".join(f"{group}: {n}" for group, n in self.schedule.headcount.items())
        header = (
            f"# Roster optimised by bposim staff: {sum(self.schedule.agents)} agents on "
            f"{len(self.schedule.agents)} shifts ({headcount}); cost {self.cost:,.2f} "
            f"{self.cost_unit}.\n"
        )
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=112)
        path = Path(path)
        write_text_atomically(path, header + text)
        return path


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
    progress: Callable[[str], None] | None = None,
    requirement: Requirement | None = None,
) -> RosterPlan:
    """The cheapest roster from the scenario's shift patterns whose simulated service level meets the target.

    `target` and `threshold_seconds`, when given, replace every call type's objective. `trim_trials` bounds the
    trim phase after convergence (0: none). A `requirement` already computed for this scenario and objective is
    used as it is (`method` is then ignored); otherwise it is computed. Raises ScheduleError when the scenario has
    no scheduling section or no roster can cover the requirement, RequirementError when the trunk lines keep a
    target out of reach whatever the staffing (`trunks.trunk_limits`), and ScenarioError when the scenario (with
    `replications`) or its shift patterns are beyond the limits of `bposim.workload`.
    """
    from bposim.optimise.requirement import staffing_requirement
    from bposim.run import simulate

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
    say = progress or (lambda message: None)
    goal = with_objective(scenario, target, threshold_seconds)
    limits = trunk_limits(goal)
    if limits:
        raise RequirementError(trunk_limit_text(limits))
    if requirement is None:
        requirement = staffing_requirement(
            goal, occupancy_cap=scenario.scheduling.occupancy_cap, seed=seed, replications=replications, method=method
        )
    simulations = int(getattr(requirement, "simulations", 0))
    say(f"requirement: {simulations} simulated days, peak {_peak(requirement.table)} agents")
    groups = scenario.scheduling.scheduled_groups([group.name for group in goal.agent_groups])
    intervals = goal.horizon.intervals
    base = _requirement_array(requirement.table, groups, intervals)
    added = np.zeros_like(base)
    schedule, rostered, misses = None, None, pd.DataFrame()
    previous: set[tuple[str, int]] = set()
    converged, shortfall, rounds = False, "", 0
    search = SearchDays(seed + LOOP_SEED_OFFSET, replications)
    for rounds in range(1, max_rounds + 1):
        try:
            candidate = solve_schedule(goal, _requirement_table(base + added, groups))
        except ScheduleError as exc:
            if schedule is None:
                raise
            shortfall = f"{_misses_text(misses)}; raising the requirement further is infeasible: {exc}"
            rounds -= 1
            break
        schedule, rostered = candidate, roster_scenario(goal, candidate)
        achieved = _evidence(search, rostered)
        misses = _misses(achieved)
        say(
            f"round {rounds}: {sum(schedule.agents)} agents, cost {schedule.cost:,.2f} {schedule.cost_unit}; "
            f"{len(misses)} interval(s) below target on {search.count} days"
        )
        if misses.empty:
            converged = True
            break
        if rounds == max_rounds:
            busy_signals = _busy_signals_text(rostered, search.tables(rostered)[0], misses)
            done = f"{max_rounds} round{'' if max_rounds == 1 else 's'}"
            shortfall = f"after {done}, {_misses_text(misses)}{busy_signals}"
            break
        scheduled = schedule.coverage.drop(columns="required").rename(columns={"scheduled": "required"})
        on_phones = np.floor(_requirement_array(scheduled, groups, intervals) + TOLERANCE)
        unfixable = []
        for row in misses.itertuples(index=False):
            group = _group_to_raise(goal, row.call_type, groups)
            if group is None:
                unfixable.append(str(row.call_type))
                continue
            g, i = groups.index(group), row.interval
            # One agent above what the roster had on the phones there: a raise within the slack the shifts left
            # would give the same roster again.
            added[g, i] = max(base[g, i] + added[g, i], on_phones[g, i]) - base[g, i] + 1
            if (row.call_type, row.interval) in previous and row.interval > 0:
                added[groups.index(group), row.interval - 1] += 1
        if unfixable:
            shortfall = f"no scheduled group serves {', '.join(sorted(set(unfixable)))}; {_misses_text(misses)}"
            break
        previous = {(row.call_type, row.interval) for row in misses.itertuples(index=False)}
    trim = _Trim(goal, groups, base + added, search, SearchDays(seed + HOLDOUT_SEED_OFFSET, replications), say)
    if converged:
        schedule, rostered = trim.run(schedule, rostered, achieved, trim_trials)
    simulations += search.simulated + trim.holdout.simulated
    verification_seed = seed + VERIFICATION_SEED_OFFSET
    check = simulate(rostered, seed=verification_seed, replications=replications)
    simulations += replications * goal.horizon.days
    achieved = interval_service_levels(check)
    by_type = call_type_service_levels(check)
    say(
        f"verification: {replications} fresh days; "
        + ", ".join(f"{row.call_type} {row.service_level:.1%}" for row in by_type.itertuples(index=False))
    )
    cost, cost_ci, unit = _cost(check, schedule)
    fresh = _fresh_shortfall_text(achieved, by_type, replications, verification_seed)
    if fresh:
        fresh += _busy_signals_text(rostered, check.intervals, achieved[~achieved["met"]])
    return RosterPlan(
        requirement,
        schedule,
        rostered,
        achieved,
        by_type,
        cost,
        cost_ci,
        unit,
        rounds,
        simulations,
        converged,
        shortfall,
        _requirement_table(added, groups),
        verification_seed,
        trim.trials,
        trim.accepted,
        trim.saving,
        _requirement_table(trim.removed, groups),
        fresh,
    )


class _Trim:
    """The trim phase: take agents off the requirement where the roster has slack, while the roster gets cheaper
    and every target still holds on the search days."""

    def __init__(
        self,
        scenario: Scenario,
        groups: list[str],
        required: np.ndarray,
        search: SearchDays,
        holdout: SearchDays,
        say: Callable[[str], None],
    ) -> None:
        self.scenario, self.groups, self.required, self.search, self.say = scenario, groups, required, search, say
        self.holdout = holdout
        self.removed = np.zeros_like(required)
        self.trials = self.accepted = 0
        self.saving = 0.0
        self.serves = [
            [skill.call_type for group in scenario.agent_groups if group.name == name for skill in group.skills]
            for name in groups
        ]
        rates = {entry.group: entry.per_paid_hour for entry in scenario.costs.groups} if scenario.costs else {}
        self.rates = [rates.get(name, 1.0) for name in groups]

    def run(
        self, schedule: Schedule, rostered: Scenario, achieved: pd.DataFrame, budget: int
    ) -> tuple[Schedule, Scenario]:
        """The cheapest roster the trials found that the hold-out days support (the given one if none was)."""
        candidates = self._cheaper(schedule, self._by_slack(achieved))
        while self.trials < budget:
            found = next(candidates, None)
            if found is None:
                break
            candidate, places = found
            self.trials += 1
            candidate_roster = roster_scenario(self.scenario, candidate)
            kept, verdict = self._judge(schedule, candidate, candidate_roster)
            self.say(
                f"trim {self.trials}: one agent fewer required at {self._places_text(places)}: "
                f"{sum(candidate.agents)} agents, cost {candidate.cost:,.2f} {candidate.cost_unit}; "
                f"{verdict}; {'kept' if kept else 'undone'}"
            )
            if not kept:
                continue
            self.accepted += 1
            self.saving += schedule.cost - candidate.cost
            for place in places:
                self.removed[place] += 1
            schedule, rostered = candidate, candidate_roster
            achieved = _evidence(self.search, rostered)
            candidates = self._cheaper(schedule, self._by_slack(achieved))
        return schedule, rostered

    def _judge(self, schedule: Schedule, candidate: Schedule, rostered: Scenario) -> tuple[bool, str]:
        """Whether the hold-out days support the cut: every call type keeps its target with the 95% margin (the
        whole confidence interval at or above it) in each interval where the candidate has fewer agents on the
        phones than the roster it would replace, and in the interval after (the queue carries over), and no
        interval is clearly below target. More hold-out days are simulated while a margin is ambiguous and no cut
        interval is below target already."""
        before = schedule.coverage.set_index(["group", "interval"])["scheduled"]
        after = candidate.coverage.set_index(["group", "interval"])["scheduled"]
        cut = sorted({int(i) for (_, i), fewer in (after < before.reindex(after.index) - 1e-9).items() if fewer})
        intervals = self.scenario.horizon.intervals
        watched = sorted({j for i in cut for j in (i, i + 1) if j < intervals})
        while True:
            levels = _interval_levels(self.holdout.tables(rostered)[0], rostered)
            level, half, target = levels["service_level"], levels["service_level_ci"], levels["target"]
            offered = levels["offered"] > 0
            mine = levels["interval"].isin(watched) & offered
            margin = holds_with_margin(level, half, target)
            unclear = mine & ~margin & (level >= target)
            hopeless = (mine & (level < target)).any()  # below target already: more days will not show a margin
            if hopeless or not unclear.any() or not self.holdout.extend():
                break
        weak = mine & ~margin
        short = clearly_short(level, half, target) & offered
        days = self.holdout.count
        if weak.any() or short.any():
            worst = levels[weak | short].assign(low=level - half).sort_values("low").iloc[0]
            return False, (
                f"on {days} hold-out days {worst.call_type} {worst.interval_start} "
                f"{worst.service_level:.1%} ± {worst.service_level_ci:.1%} does not keep "
                f"{worst.target:.0%}"
            )
        return True, f"on {days} hold-out days every cut interval keeps its target beyond the 95% CI"

    def _by_slack(self, achieved: pd.DataFrame) -> list[tuple[int, int]]:
        """Groups and intervals whose requirement may go down, most slack first: the lower 95% bound of the
        service level above target on the search days, the least over the call types the group serves (only
        where it is positive: slack the days show beyond their noise); a dearer group first on a tie."""
        keyed = achieved.set_index(["call_type", "interval"])
        slack = keyed["service_level"] - keyed["service_level_ci"].fillna(np.inf) - keyed["target"]
        slack = slack.unstack("interval")
        ranked = []
        for g, call_types in enumerate(self.serves):
            least = slack.reindex(index=call_types).min(axis=0, skipna=False)
            for i, value in least.items():
                place = (g, int(i))
                if value > 0 and self.required[place] - self.removed[place] >= 1:
                    ranked.append(((value, self.rates[g], -place[1]), place))
        return [place for _, place in sorted(ranked, reverse=True)]

    def _cheaper(self, schedule: Schedule, ranked: list[tuple[int, int]]) -> Iterator[tuple[Schedule, list]]:
        """Cheaper rosters when the requirement goes down by one at the first k `ranked` places: from the fewest k
        that let the programme find one (bisection: the cost only falls as k grows) upwards, each roster once, as
        long as the saving stays the first one's (a deeper cut waits until a smaller one has held). Each comes with
        the places it covers below their requirement, where its coverage table shows the requirement lowered."""
        current = self.required - self.removed

        def solve(k: int) -> Schedule | None:
            trial = current.copy()
            for place in ranked[:k]:
                trial[place] -= 1
            try:
                found = solve_schedule(self.scenario, _requirement_table(trial, self.groups))
            except ScheduleError:
                return None
            return found if found.cost < schedule.cost - 1e-9 else None

        low, high = 0, len(ranked)
        if not ranked or solve(high) is None:
            return
        while high - low > 1:
            middle = (low + high) // 2
            if solve(middle) is None:
                low = middle
            else:
                high = middle
        seen, step = set(), None
        for k in range(high, len(ranked) + 1):
            found = solve(k)
            if found is None:
                continue
            step = found.cost if step is None else step
            if found.cost < step - 1e-9:
                return
            scheduled = found.coverage.set_index(["group", "interval"])["scheduled"]
            used = [(g, i) for g, i in ranked[:k] if scheduled[(self.groups[g], i)] < current[g, i] - 1e-6]
            if tuple(used) in seen:
                continue
            seen.add(tuple(used))
            places = used or ranked[:k]
            required = current.copy()
            for place in places:
                required[place] -= 1
            # The roster is the cheapest for the requirement lowered at these places alone: it covers it, and it
            # is the cheapest for the requirement lowered at all k.
            yield replace(found, coverage=found.coverage.assign(required=required.ravel())), places

    def _places_text(self, places: list[tuple[int, int]]) -> str:
        """E.g. ``team 08:00, 08:30, 14:00; bilingual 09:00``."""
        parts = []
        for g, name in enumerate(self.groups):
            times = [_clock_of(self.scenario, i) for h, i in sorted(places) if h == g]
            if times:
                parts.append(f"{name} {', '.join(times)}")
        return "; ".join(parts)


def roster_scenario(scenario: Scenario, schedule: Schedule) -> Scenario:
    """The scenario staffed by the schedule: its shifts replace the scheduled groups' shifts and plan agents."""
    scheduled = set(schedule.coverage["group"])
    data = scenario.model_dump(mode="python", exclude_none=True)
    data.pop("roster_file", None)
    kept = [shift.model_dump(mode="python") for shift in scenario.roster if shift.group not in scheduled]
    data["roster"] = kept + [shift.model_dump(mode="python") for shift in schedule.roster()]
    for group in data["agent_groups"]:
        if group["name"] in scheduled:
            group["agents"] = 0
    return Scenario.model_validate(data)


def interval_service_levels(run: Run) -> pd.DataFrame:
    """Per call type and interval of the day: calls offered per day, the service level pooled over the days with
    its 95% confidence half-width (`metrics.pooled_service_level`), the target and whether it is met (the target
    inside or below the interval)."""
    table = run.intervals if "replication" in run.intervals else run.intervals.assign(replication=0)
    return _interval_levels(table, run.scenario)[ACHIEVED_COLUMNS]


def _interval_levels(intervals: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """`interval_service_levels` from an intervals table (one row per replication, day, interval, call type)."""
    keys = ["call_type", "interval", "interval_start"]
    pooled = metrics.pooled_service_level(intervals, keys, scenario.service_level.definition)
    result = pooled[["service_level", "service_level_se", "service_level_ci"]].copy()
    result.insert(0, "offered", pooled["offered"] / pooled["days"])
    result["target"] = intervals.groupby(keys, observed=True, sort=True)["target"].first()
    result = result.reset_index()
    result["met"] = ~clearly_short(result["service_level"], result["service_level_ci"], result["target"])
    return result[[*ACHIEVED_COLUMNS, "service_level_se"]]


def call_type_service_levels(run: Run) -> pd.DataFrame:
    """Per call type over the day: offered per day, service level with 95% CI half-width, target, met."""
    rows = []
    for call_type in run.scenario.call_types:
        kpis = run.summary["by_call_type"][call_type.name]
        level, half = kpis["service_level"], kpis.get("service_level_ci", np.nan)
        target = run.scenario.service_level_for(call_type)[1]
        rows.append(
            {
                "call_type": call_type.name,
                "offered": kpis["offered"] / run.scenario.horizon.days,
                "service_level": level,
                "service_level_ci": half,
                "target": target,
                "met": not (level + (0 if np.isnan(half) else half) < target),
            }
        )
    return pd.DataFrame(rows, columns=["call_type", "offered", "service_level", "service_level_ci", "target", "met"])


def _group_to_raise(scenario: Scenario, call_type: str, groups: list[str]) -> str | None:
    """The scheduled group that serves a call type first: best routing priority, no overflow delay, cheapest."""
    rates = {entry.group: entry.per_paid_hour for entry in scenario.costs.groups} if scenario.costs else {}
    candidates = [
        (skill.priority, skill.delay_seconds, rates.get(group.name, 1.0), index, group.name)
        for index, group in enumerate(scenario.agent_groups)
        if group.name in groups
        for skill in group.skills
        if skill.call_type == call_type
    ]
    return min(candidates)[-1] if candidates else None


def _requirement_array(table: pd.DataFrame, groups: list[str], intervals: int) -> np.ndarray:
    required = np.zeros((len(groups), intervals))
    for row in table.itertuples(index=False):
        if row.group in groups:
            required[groups.index(row.group), int(row.interval)] = row.required
    return required


def _requirement_table(required: np.ndarray, groups: list[str]) -> pd.DataFrame:
    intervals = required.shape[1]
    return pd.DataFrame(
        {
            "group": np.repeat(groups, intervals),
            "interval": np.tile(np.arange(intervals), len(groups)),
            "required": required.ravel().round().astype(int),
        }
    )


def _evidence(days: SearchDays, rostered: Scenario) -> pd.DataFrame:
    """The roster's service levels on the search days, with another batch of days while an interval is undecided
    (its 95% confidence interval holds the target, on either side)."""
    while True:
        achieved = _interval_levels(days.tables(rostered)[0], rostered)
        unclear = undecided(achieved["service_level"], achieved["service_level_ci"], achieved["target"])
        if not unclear.any() or not days.extend():
            return achieved.assign(days_spent=days.batches >= days.max_batches)


def _misses(achieved: pd.DataFrame) -> pd.DataFrame:
    """Intervals below target on the search days: clearly (the whole 95% confidence interval below it), or, once
    the search days can grow no more, by more than one standard error (the evidence there is to have)."""
    level, target = achieved["service_level"], achieved["target"]
    short = clearly_short(level, achieved["service_level_ci"], target)
    if "days_spent" in achieved and achieved["days_spent"].all():
        short = short | np.asarray(level + achieved["service_level_se"].fillna(np.inf) < target, bool)
    return achieved[short]


def _clock_of(scenario: Scenario, interval: int) -> str:
    """The start of an interval of the day as HH:MM."""
    return hours_minutes(scenario.horizon.start_seconds + interval * scenario.horizon.interval_seconds)


def _peak(table: pd.DataFrame) -> int:
    return int(table.groupby("interval")["required"].sum().max()) if len(table) else 0


def _misses_text(misses: pd.DataFrame) -> str:
    """E.g. ``2 intervals still miss their target: support 08:00 76.3% < 80% (3.7 points short), ...``."""
    worst = misses.assign(gap=misses["target"] - misses["service_level"]).sort_values("gap", ascending=False)
    listed = "; ".join(
        f"{row.call_type} {row.interval_start} {row.service_level:.1%} < {row.target:.0%} "
        f"({100 * row.gap:.1f} points short)"
        for row in worst.head(6).itertuples(index=False)
    )
    more = f"; and {len(worst) - 6} more" if len(worst) > 6 else ""
    return f"{len(worst)} interval(s) still miss their target: {listed}{more}"


def _fresh_shortfall_text(achieved: pd.DataFrame, by_type: pd.DataFrame, days: int, seed: int) -> str:
    """E.g. ``on 10 fresh days (seed 1000), 2 interval(s) are below target beyond the 95% CI: support 08:00
    71.2% ± 3.1% < 80% (8.8 points short), ...``; "" when none is and no call type is over the day."""
    missed = achieved[~achieved["met"].astype(bool)]
    short_types = by_type[~by_type["met"].astype(bool)]
    if missed.empty and short_types.empty:
        return ""
    parts = []
    if len(missed):
        worst = missed.assign(gap=missed["target"] - missed["service_level"]).sort_values("gap", ascending=False)
        listed = "; ".join(
            f"{row.call_type} {row.interval_start} {row.service_level:.1%}"
            + ("" if np.isnan(row.service_level_ci) else f" ± {row.service_level_ci:.1%}")
            + f" < {row.target:.0%} ({100 * row.gap:.1f} points short)"
            for row in worst.head(6).itertuples(index=False)
        )
        more = f"; and {len(worst) - 6} more" if len(worst) > 6 else ""
        beyond = "beyond the 95% CI" if days > 1 else "(one day gives no confidence interval)"
        parts.append(f"{len(worst)} interval(s) are below target {beyond}: {listed}{more}")
    if len(short_types):
        parts.append(
            "over the day "
            + ", ".join(
                f"{row.call_type} {row.service_level:.1%} < {row.target:.0%}"
                for row in short_types.itertuples(index=False)
            )
        )
    return f"on {days} fresh day{'' if days == 1 else 's'} (seed {seed}), " + "; ".join(parts)


def _busy_signals_text(scenario: Scenario, intervals: pd.DataFrame, misses: pd.DataFrame) -> str:
    """The trunk lines' part in the missed intervals: the share of their attempts that got a busy signal, and
    whether that alone keeps a target out of reach; "" without trunk lines or busy signals."""
    lines = scenario.trunk_lines
    if lines is None or misses.empty:
        return ""
    missed = set(zip(misses["call_type"].astype(str), misses["interval"].astype(int), strict=True))
    keys = zip(intervals["call_type"].astype(str), intervals["interval"].astype(int), strict=True)
    mine = intervals[[key in missed for key in keys]]
    counts = mine.groupby(["call_type", "interval"], observed=True)[["offered", "blocked"]].sum()
    if counts.empty or not counts["blocked"].sum():
        return ""
    share = counts["blocked"] / counts["offered"].where(counts["offered"] > 0)
    targets = misses.set_index(["call_type", "interval"])["target"].reindex(share.index)
    hopeless = share[(1 - share) < targets]
    total = counts["blocked"].sum() / counts["offered"].sum()
    text = (
        f"; trunk_lines: {lines} lines allow at most {lines} calls in the system, and {total:.1%} of the "
        "attempts in these intervals got a busy signal"
    )
    if len(hopeless):
        call_type, interval = hopeless.idxmax()
        label = misses.set_index(["call_type", "interval"]).loc[(call_type, interval), "interval_start"]
        text += (
            f" ({hopeless.max():.1%} at {call_type} {label}: more lines are needed there, not more agents, "
            "as no staffing answers the callers turned away)"
        )
    return text


def _cost(run: Run, schedule: Schedule) -> tuple[float, float, str]:
    """The verification run's mean total cost (with CI) when the scenario has costs, else paid hours."""
    costs = run.scenario.costs
    if costs is None or "total_cost" not in run.summary:
        return schedule.paid_hours, 0.0, "paid hours"
    return float(run.summary["total_cost"]), float(run.summary.get("total_cost_ci", np.nan)), costs.currency or "cost"
