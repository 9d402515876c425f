"""The simulation refinement of the Erlang start (the iterative staffing algorithm for time-varying load).

Every search run simulates the same days, and the plan changes only on their evidence (`judgement`): the Erlang
plan stands until the days show otherwise. An interval is raised only where it is clearly short (the whole 95%
confidence interval below target): agents go to the group whose extra agent gives the most gain per cost (a
priority-1 holder of the skill counts fully, a secondary holder by the share of the interval it was idle, both
divided by proficiency; cost is the group's per_paid_hour, else 1), as many as the group's Erlang curve, scaled to
the simulated shortfall 1 − SL, says reach the target, twice as many each time the interval stays short. When no
interval is clearly short, agents are taken only where the scaled curve says the targets still hold with the 95%
margin (lower bound at or above target; a group sharing a skill with another also moves work to the groups that
share it, so its removal is judged by the predicted losses of every call type those groups serve first, with
SHARED_MARGIN to spare); a removal is undone, and never tried again, when the new run does not support it.
Intervals are adjusted together and re-simulated, since a change in one carries over into the next. The search
stops when no removal is left to try or after `max_iterations` runs; the result is the last plan with no interval
clearly short in the search runs (on those days, not a guarantee for others). An occupancy cap is a floor from
Erlang that removals respect; an interval where nothing was offered (a warm-up) keeps its Erlang number, and so
does an interval an exempt maintenance window overlaps (`tools[].maintenance[].exempt`: outside the objective, it
is neither raised nor cut). A group
holding email or case work is never taken below its start (Erlang's agents plus the deferred start's): the live
service levels the search reads cannot tell whether its items get done, which the verification and the roster loop
judge over the horizon.
"""

from __future__ import annotations

import math

import numpy as np

from bposim.optimise.evidence import clearly_short
from bposim.optimise.requirement.erlang_start import BOUND_FACTOR, Centre
from bposim.optimise.requirement.judgement import Judge
from bposim.optimise.requirement.result import RequirementError

SHARED_MARGIN = 0.02  # a shared group's removal leaves every call type it affects 2 points beyond its loss
ADD_MARGIN = 0.01  # an addition aims a point above the target, so that the next run is not a near miss again


class Search:
    """The simulation refinement: add where short, remove where slack, on the same days every run."""

    def __init__(self, centre: Centre, judge: Judge) -> None:
        self.centre = centre
        self.judge = judge
        self.iterations = 0

    @property
    def simulations(self) -> int:
        """Days simulated by the search."""
        return self.judge.simulations

    def run(self, max_iterations: int) -> np.ndarray:
        """The last plan with no interval clearly short on the search days, after at most `max_iterations` runs."""
        c = self.centre
        plan = np.maximum(c.erlang, c.floor)
        # fewer agents than this failed (or the occupancy cap forbids them); a group holding deferred work keeps
        # its start, as the live service levels the search reads cannot tell whether its items get done
        lowest = np.where(c.deferred_groups[:, None], plan, c.floor)
        streak = np.zeros((len(c.types), c.intervals), int)
        removed: dict[tuple[int, int], int] = {}
        best, kept = None, np.zeros((len(c.types), c.intervals))
        previous = np.zeros((len(c.types), c.intervals))
        while self.iterations < max_iterations:
            self.iterations += 1
            level, half, offered, busy = self.judge.evidence(plan, removed)
            short = (offered > 0) & clearly_short(level, half, c.targets[:, None]) & ~c.exempt[None, :]
            failed = self.judge.failed(removed, level, half, kept, offered)
            if not short.any() and not failed:
                best, kept = plan.copy(), level
                removed = self._removals(plan, lowest, level, half, offered)
                if not removed:
                    break
                for (g, t), count in removed.items():
                    plan[g, t] -= count
                continue
            undone = self._undo(plan, lowest, failed, short)
            removed = {}
            if not (short & ~undone).any():
                continue  # only removals failed: simulate the plan with them put back
            streak = np.where(short & ~undone, streak + 1, 0)
            if ((streak >= 3) & (level <= previous + 1e-9)).any() or streak.max() >= 5:
                self.judge.check_saturation()  # more agents did not help on the same days: can any number?
            previous = level
            self._add(plan, short & ~undone, streak, level, busy)
        if best is None:
            self.judge.check_saturation()
            k, t = np.argwhere(short)[0] if short.any() else (0, 0)
            raise RequirementError(
                f"call type '{c.types[k]}' in interval {t} ({c.labels[t]}) still misses its target "
                f"({level[k, t]:.1%} < {c.targets[k]:.0%}) after {max_iterations} search runs; "
                "raise max_iterations"
            )
        return best

    def _undo(self, plan, lowest, removed, short) -> np.ndarray:
        """Put back the failed removals, and those in or just before a clearly short interval, raising the lowest
        headcount there. Returns the shortfalls these removals explain (they need no added agents)."""
        explained = np.zeros_like(short)
        for (g, t), count in removed.items():
            lowest[g, t] = plan[g, t] + 1
            plan[g, t] += count
            explained[:, t] |= short[:, t]
            if t + 1 < short.shape[1]:
                explained[:, t + 1] |= short[:, t + 1]
        return explained

    def predicted(self, g: int, t: int, k: int, level: float, agents: int, new: int) -> float:
        """Service level of call type k with `new` instead of `agents` agents in group g, from the simulated
        `level`: the shortfall 1 − SL scales as Erlang's does (additive where Erlang has no shortfall)."""
        c = self.centre
        threshold = float(c.thresholds[k])
        before, after = c.service_level(g, t, agents, threshold), c.service_level(g, t, new, threshold)
        if before < 1.0 - 1e-9 and after < 1.0 - 1e-9:
            return float(np.clip(1.0 - (1.0 - level) * (1.0 - after) / (1.0 - before), 0.0, 1.0))
        return float(np.clip(level + after - before, 0.0, 1.0))

    def _weight(self, t: int, busy: np.ndarray) -> np.ndarray:
        """Gain of one more agent of each group for each call type in interval t, before cost."""
        c = self.centre
        available = np.where(c.priority == 1, 1.0, (1.0 - busy[:, t])[:, None])
        fast_enough = c.delay < c.thresholds[None, :]
        return np.where(c.holds & fast_enough, available / c.proficiency, 0.0)

    def _add(self, plan, short, streak, level, busy) -> None:
        """Add agents in every short interval: best gain per cost first, sized by the Erlang curve."""
        c = self.centre
        for t in np.flatnonzero(short.any(axis=0)):
            weight = self._weight(t, busy)
            gap = np.where(short[:, t], c.targets - np.nan_to_num(level[:, t]), 0.0)
            while gap.any():
                score = (weight * gap[None, :]).sum(axis=1) / c.cost
                score[plan[:, t] >= c.bound[:, t]] = 0.0
                if not score.any():
                    self.judge.check_saturation()
                    k = int(np.argmax(gap))
                    raise RequirementError(
                        f"call type '{c.types[k]}' in interval {t} ({c.labels[t]}) misses its target even with "
                        f"{BOUND_FACTOR} × the Erlang staffing of every group that can take it"
                    )
                g = int(np.argmax(score))
                k = int(np.argmax(weight[g] * gap))
                step = max(self._step(plan, g, t, k, float(level[k, t])), 2 ** (streak[k, t] - 1))
                plan[g, t] = min(plan[g, t] + step, c.bound[g, t])
                gap[(weight[g] > 0) & (c.priority[g] == 1)] = 0.0
                gap[k] = 0.0

    def _step(self, plan, g: int, t: int, k: int, level: float) -> int:
        """Agents the Erlang-scaled curve says lift call type k a point above its target (so that the next run is
        not a near miss again): at most a quarter more, at least 1."""
        n, target = int(plan[g, t]), float(self.centre.targets[k]) + ADD_MARGIN
        cap = max(1, math.ceil(0.25 * n))
        for extra in range(1, cap + 1):
            if self.predicted(g, t, k, level, n, n + extra) >= target:
                return extra
        return cap

    def _removals(self, plan, lowest, level, half, offered) -> dict[tuple[int, int], int]:
        """Agents to take from each group and interval so that, by the Erlang-scaled curves, the call types the
        group's calls reach still meet their targets with the 95% margin (level − half-width); the most expensive
        groups first.

        A group alone with its skills is sized by its own curve, up to a quarter of its agents. A group sharing a
        skill also sends work to the other groups (`_shared_losses`), so its removal is sized by the predicted
        losses of every call type those groups serve, on top of the removals already chosen in the interval, and
        each affected call type must keep SHARED_MARGIN beyond them: the curves are an approximation there.
        """
        c = self.centre
        chosen = {}
        for t in range(c.intervals):
            drop, lost = np.zeros(len(c.types)), np.zeros(len(c.groups))
            slack = np.nan_to_num(level[:, t] - half[:, t], nan=1.0) - c.targets
            for g in np.argsort(-c.cost, kind="stable"):
                n = int(plan[g, t])
                mine = np.flatnonzero(c.holds[g] & (offered[:, t] > 0))
                if not len(mine) or c.exempt[t]:  # nothing measured (a warm-up), or not judged: keep the start
                    continue
                count, losses, after = 0, np.zeros(len(c.types)), lost
                for fewer in range(1, max(1, n // 4) + 1):
                    if n - fewer < lowest[g, t]:
                        break
                    if c.alone[g]:
                        loss = np.zeros(len(c.types))
                        for k in mine:
                            loss[k] = level[k, t] - self.predicted(int(g), t, k, level[k, t], n, n - fewer)
                        if np.any((slack - drop - loss < 0) & c.neighbours[g]):
                            break
                        count, losses = fewer, loss
                        continue
                    trial = lost + self._moved(int(g), t, n, fewer)
                    loss = self._shared_losses(plan, t, trial, level[:, t], offered[:, t])
                    if np.any((slack - drop - loss - SHARED_MARGIN < 0) & c.own[g] & (offered[:, t] > 0)):
                        break
                    if np.any(clearly_short(level[:, t] - drop - loss, half[:, t], c.targets) & (loss > 0)):
                        break
                    count, after = fewer, trial
                if count:
                    chosen[(int(g), t)] = count
                    drop += losses
                    lost = after
        return chosen

    def _moved(self, g: int, t: int, n: int, fewer: int) -> np.ndarray:
        """Agents' worth of work each group loses in interval t when group g has `fewer` agents fewer. g loses
        them. The work they carried of g's first call types (Erlang B: g's load × the rise in blocking, at most
        `fewer`) goes to the other holders of those call types, and the rest of their time, which was free to
        help with g's other call types, is missing to the groups serving those first; each such group is charged
        as if it took all of it, at its proficiency over g's."""
        c = self.centre
        moved = np.zeros(len(c.groups))
        moved[g] = fewer
        carried = c.queues[g][t].carried(n, fewer)
        for share, served in ((carried, c.first[g]), (fewer - carried, c.holds[g] & ~c.first[g])):
            if share <= 0 or not served.any():
                continue
            takers = c.holds[:, served].any(axis=1) if served is c.first[g] else c.first[:, served].any(axis=1)
            takers[g] = False
            speed = np.where(c.holds[:, served], c.proficiency[:, served], np.inf).min(axis=1, initial=np.inf)
            ratio = np.where(takers, c.proficiency[g, served].max() / np.where(np.isfinite(speed), speed, 1.0), 0.0)
            moved += share * ratio
        return moved

    def _shared_losses(self, plan, t: int, lost: np.ndarray, level: np.ndarray, offered: np.ndarray) -> np.ndarray:
        """Predicted loss of each call type's service level in interval t when each group has `lost` agents'
        worth fewer, by the group's Erlang-scaled curve for the call types it serves first (fractional agents by
        linear interpolation), summed over groups."""
        c = self.centre
        loss = np.zeros(len(c.types))
        for h in np.flatnonzero(lost > 1e-9):
            n = int(plan[h, t])
            remaining = max(n - float(lost[h]), 0.0)
            low = math.floor(remaining)
            for k in np.flatnonzero(c.first[h] & (offered > 0)):
                at_low = self.predicted(int(h), t, k, float(level[k]), n, low)
                at_high = self.predicted(int(h), t, k, float(level[k]), n, min(low + 1, n))
                loss[k] += level[k] - (at_low + (remaining - low) * (at_high - at_low))
        return np.maximum(loss, 0.0)
