"""The trim phase after the loop: agents taken off the requirement where the roster has slack, while it gets cheaper.

The shapes of the shifts leave slack (more agents on the phones than required, and a queue emptied early
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
a smaller one has held). Deferred work (email, case) counts by its share met over the judged days: its slack (the
lower 95% bound above target) is the same in every interval of the groups holding it, and a cut in such a group
must keep that share with the 95% margin on the hold-out days; and no cut goes below the agents the deferred
start added for it (`floor`): the judged days end, and a plan short of the deferred work's daily volume can meet
the due times of a few days while its backlog grows, which only the start's keeping-up bound sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pandas as pd

from bposim.formatting import hours_minutes, money, share
from bposim.optimise.deferred import deferred_levels
from bposim.optimise.evidence import SearchDays, clearly_short, holds_with_margin
from bposim.optimise.progress import Progress
from bposim.optimise.roster.evaluation import interval_levels, search_deferred, search_levels
from bposim.optimise.roster.proposal import propose, roster_scenario
from bposim.optimise.schedule import Schedule, ScheduleError
from bposim.scenario import Scenario
from bposim.scenario.residency import resident_centre


class Trim:
    """The trim phase: take agents off the requirement where the roster has slack, while the roster gets cheaper
    and every target still holds on the hold-out days."""

    def __init__(
        self,
        scenario: Scenario,
        groups: list[str],
        required: np.ndarray,
        search: SearchDays,
        holdout: SearchDays,
        progress: Progress,
        floor: np.ndarray | None = None,
    ) -> None:
        self.scenario, self.groups, self.required, self.search = scenario, groups, required, search
        self.floor = np.zeros_like(required) if floor is None else floor
        self.progress = progress
        self.holdout = holdout
        self.removed = np.zeros_like(required)
        self.trials = self.accepted = 0
        self.saving = 0.0
        self._proposed: dict[bytes, Schedule | None] = {}
        served_by = resident_centre(scenario).agent_groups  # the skills as run
        self.serves = [
            [skill.call_type for group in served_by if group.name == name for skill in group.skills] for name in groups
        ]
        rates = {entry.group: entry.per_paid_hour for entry in scenario.costs.groups} if scenario.costs else {}
        self.rates = [rates.get(name, 1.0) for name in groups]

    def run(
        self, schedule: Schedule, rostered: Scenario, achieved: pd.DataFrame, budget: int
    ) -> tuple[Schedule, Scenario]:
        """The cheapest roster the trials found that the hold-out days support (the given one if none was)."""
        candidates = self._cheaper(schedule, self._by_slack(achieved, rostered))
        while self.trials < budget:
            self.progress.phase("trim", self.trials + 1)
            found = next(candidates, None)
            if found is None:
                break
            candidate, places = found
            self.trials += 1
            candidate_roster = roster_scenario(self.scenario, candidate)
            kept, verdict = self._judge(schedule, candidate, candidate_roster)
            self.progress.say(
                f"trim {self.trials}: one agent fewer required at {self._places_text(places)}: "
                f"{sum(candidate.agents)} agents, cost {money(candidate.cost, candidate.cost_unit)}; "
                f"{verdict}; {'kept' if kept else 'undone'}"
            )
            if not kept:
                continue
            self.accepted += 1
            self.saving += schedule.cost - candidate.cost
            for place in places:
                self.removed[place] += 1
            schedule, rostered = candidate, candidate_roster
            self.progress.best(schedule.cost, schedule.cost_unit)
            achieved = search_levels(self.search, rostered)
            candidates = self._cheaper(schedule, self._by_slack(achieved, rostered))
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
            levels = interval_levels(self.holdout.tables(rostered)[0], rostered)
            level, half, target = levels["service_level"], levels["service_level_ci"], levels["target"]
            offered = (levels["offered"] > 0) & ~levels.get("exempt", pd.Series(False, levels.index)).astype(bool)
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
                f"{share(worst.service_level, worst.service_level_ci)} does not keep {share(worst.target, digits=0)}"
            )
        late = self._deferred_weak(before, after, rostered)
        if len(late):
            worst = late.iloc[0]
            return False, (
                f"on {days} hold-out days {worst.call_type} {share(worst.service_level, worst.service_level_ci)} "
                f"of the items due done in time does not keep {share(worst.target, digits=0)}"
            )
        return True, f"on {days} hold-out days every cut interval keeps its target beyond the 95% CI"

    def _deferred_weak(self, before: pd.Series, after: pd.Series, rostered: Scenario) -> pd.DataFrame:
        """The deferred call types the cut leaves without the 95% margin on the hold-out days (those held by a
        group with fewer agents on the phones somewhere), or clearly short; empty without deferred work."""
        levels = deferred_levels(self.holdout.backlog(rostered), rostered)
        if levels.empty:
            return levels
        fewer = after < before.reindex(after.index) - 1e-9
        cut_groups = {group for (group, _), less in fewer.items() if less}
        touched = levels["call_type"].isin(
            [call_type for g, name in enumerate(self.groups) if name in cut_groups for call_type in self.serves[g]]
        )
        weak = touched & ~holds_with_margin(levels["service_level"], levels["service_level_ci"], levels["target"])
        return levels[weak | levels["short"].astype(bool)]

    def _by_slack(self, achieved: pd.DataFrame, rostered: Scenario) -> list[tuple[int, int]]:
        """Groups and intervals whose requirement may go down, most slack first: the lower 95% bound of the
        service level above target on the search days, the least over the call types the group serves (only
        where it is positive: slack the days show beyond their noise); a dearer group first on a tie. A deferred
        call type's slack is its share met over the judged days, the same in every interval."""
        keyed = achieved.set_index(["call_type", "interval"])
        slack = keyed["service_level"] - keyed["service_level_ci"].fillna(np.inf) - keyed["target"]
        slack = slack.unstack("interval").reindex(columns=range(self.scenario.horizon.intervals))
        deferred = search_deferred(self.search, rostered)
        if len(deferred):
            over = deferred["service_level"] - deferred["service_level_ci"].fillna(np.inf) - deferred["target"]
            rows = pd.DataFrame(
                np.repeat(over.to_numpy()[:, None], len(slack.columns), axis=1),
                index=deferred["call_type"],
                columns=slack.columns,
            )
            slack = pd.concat([slack, rows])
        ranked = []
        for g, call_types in enumerate(self.serves):
            least = slack.reindex(index=call_types).min(axis=0, skipna=False)
            for i, value in least.items():
                place = (g, int(i))
                if value > 0 and self.required[place] - self.removed[place] >= self.floor[place] + 1:
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
            found = self._propose(trial, schedule.cost)
            return found if found is not None and found.cost < schedule.cost - 1e-9 else None

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

    def _propose(self, required: np.ndarray, cheaper_than: float) -> Schedule | None:
        """The programme's roster for a requirement, None when none covers it for less than `cheaper_than` (the
        bound of the linear relaxation tells most of these without the integer programme); each requirement is
        solved once (the bisection and the walk after it ask for some twice; `cheaper_than`, the roster's cost,
        only falls, so a None stays true)."""
        key = required.tobytes()
        if key not in self._proposed:
            try:
                self._proposed[key] = propose(self.scenario, required, self.groups, cheaper_than)
            except ScheduleError:
                self._proposed[key] = None
        return self._proposed[key]

    def _places_text(self, places: list[tuple[int, int]]) -> str:
        """E.g. ``team 08:00, 08:30, 14:00; bilingual 09:00``."""
        parts = []
        for g, name in enumerate(self.groups):
            times = [_interval_start(self.scenario, i) for h, i in sorted(places) if h == g]
            if times:
                parts.append(f"{name} {', '.join(times)}")
        return "; ".join(parts)


def _interval_start(scenario: Scenario, interval: int) -> str:
    """The start of an interval of the day as HH:MM."""
    return hours_minutes(scenario.horizon.start_seconds + interval * scenario.horizon.interval_seconds)
