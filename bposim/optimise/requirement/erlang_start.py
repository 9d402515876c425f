"""The Erlang start: each group in each interval as an Erlang queue, and the headcount that queue needs.

Each call type's load in an interval (hourly rate × mean talk after proficiency + mean wrap-up; the rate of the
busiest open day there when days differ, `day_kinds.busiest_rates`, as one day's plan repeated must cover it; the
weekly loop searches each kind of day on its own) is split over the
groups that hold the skill at routing priority 1, in proportion to the agents those groups have planned in that
interval in the given scenario (equal shares where none are). Each group is then an Erlang queue with the summed
load, and needs the smallest headcount meeting the service level of every call type it serves first (and the
occupancy cap). Patience enters as Erlang A with the load-weighted abandonment rate 1/mean; a non-exponential
patience is replaced by an exponential one of the same mean (an approximation); without patience, or with
``method="erlang_c"``, it is Erlang C. A call type's load counts the legs transfers pass on to it and the repeat
contacts of unresolved journeys as well as its own arrivals (`bposim.offered_load`: every leg answered, repeats at
their steady state). Busyness, retrials, trunk lines, shrinkage, overflow delays and technology are left to the
simulation. An occupancy cap is a floor from Erlang that the search's removals respect.

Chat. An agent holds up to k sessions of a chat type (the skill's max_concurrency, else the group's), each talk
stretched by 1 + s (n − 1) with n sessions held (s the type's sequential_share). A group is then counted in slots:
k per agent, k the largest cap of the chat types it serves first (1 without chat). A chat session is a slot for its
talk stretched at full load, h (1 + s (k_T − 1)), plus its wrap-up (an approximation: at lower load the sessions are
shorter), and k / k_T slots when its own cap k_T is lower than the group's; a voice call holds the whole agent, k
slots. The Erlang queue has k × agents servers, and the agents needed are ceil(slots / k). For a group serving chat
alone this is Erlang A with k × agents servers and handle time h (1 + s (k − 1)); for a group serving voice and chat
first it keeps the load but pools the voice calls as if they could share an agent (the simulation corrects it).
The occupancy cap then applies to the slots (session time over slot time), not to the agents' time with a session.
Each channel's part of a group's requirement (`channel_table`) is its share of the group's load in slots.

Deferred work (email, case) is no Erlang queue: its items are due hours after they arrive, so it has a start of its
own (`deferred_start`), a fluid plan that completes every item by its due time from the idle time the live start
leaves in the groups holding its skills (the Erlang agents less the agents busy with live work) and whole agents
added where they cost least. The start of a group is its Erlang number plus the agents added for deferred work;
in its channel split deferred work counts by the agents at work on items on a steady-state day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from bposim import analytic, metrics
from bposim.formatting import clock
from bposim.offered_load import has_journeys, offered_load
from bposim.optimise.requirement.day_kinds import busiest_rates
from bposim.optimise.requirement.deferred_start import DeferredSolution, DeferredStart
from bposim.optimise.requirement.result import RequirementError
from bposim.scenario import Scenario
from bposim.scenario.call_types import CHANNELS
from bposim.scenario.common import clock_seconds
from bposim.scenario.residency import resident_centre
from bposim.tables import exempt_mask

BOUND_FACTOR = 10  # the search never staffs a group above 10 × its Erlang number (at least Erlang + 10)


@dataclass(frozen=True)
class ErlangQueue:
    """One group in one interval as an Erlang queue: the load it serves first."""

    arrival_rate: float  # per second
    handle_seconds: float  # slot-seconds per contact
    patience_seconds: float | None  # None: Erlang C
    slots: int = 1  # servers per agent: the chat sessions an agent holds at once (1 without chat)

    def service_level(self, agents: int, threshold: float) -> float:
        """Erlang's share of calls answered within `threshold` seconds with `agents` agents (A, or C without
        patience)."""
        if self.arrival_rate == 0:
            return 1.0
        if agents == 0:
            return 0.0
        servers = agents * self.slots
        if self.patience_seconds is None:
            return analytic.erlang_c_metrics(servers, self.arrival_rate, self.handle_seconds, threshold).service_level
        return analytic.erlang_a_metrics(
            servers, self.arrival_rate, self.handle_seconds, self.patience_seconds, threshold
        ).service_level

    def carried(self, agents: int, fewer: int) -> float:
        """Agents' worth of work `fewer` agents fewer leave to others (Erlang B: the load times the rise in
        blocking), at most `fewer`."""
        load = self.arrival_rate * self.handle_seconds
        if load <= 0:
            return 0.0
        rise = analytic.erlang_b((agents - fewer) * self.slots, load) - analytic.erlang_b(agents * self.slots, load)
        return min(max(load * rise / self.slots, 0.0), float(fewer))


class Centre:
    """The scenario as arrays: skills, objectives, Erlang queues, the Erlang start and the search bounds."""

    def __init__(self, scenario: Scenario, method: str, occupancy_cap: float | None) -> None:
        self.scenario = scenario
        self.served_by = resident_centre(scenario)  # the skills as run: a client's restrict_to takes some away
        horizon = scenario.horizon
        self.intervals = horizon.intervals
        self.groups = [g.name for g in scenario.agent_groups]
        self.types = [ct.name for ct in scenario.call_types]
        objectives = [scenario.service_level_for(ct) for ct in scenario.call_types]
        self.thresholds = np.array([threshold for threshold, _ in objectives])
        self.targets = np.array([goal for _, goal in objectives])
        starts = horizon.start_seconds + np.arange(self.intervals) * horizon.interval_seconds
        self.labels = [clock(s) for s in starts]
        shape = (len(self.groups), len(self.types))
        self.holds = np.zeros(shape, bool)
        self.proficiency = np.ones(shape)
        self.priority = np.zeros(shape, int)
        self.delay = np.zeros(shape)
        for g, group in enumerate(self.served_by.agent_groups):
            for skill in group.skills:
                k = self.types.index(skill.call_type)
                self.holds[g, k] = True
                self.proficiency[g, k] = skill.proficiency
                self.priority[g, k] = skill.priority
                self.delay[g, k] = skill.delay_seconds
        rates = {gc.group: gc.per_paid_hour for gc in scenario.costs.groups} if scenario.costs else {}
        self.cost = np.array([rates.get(name, 1.0) or 1.0 for name in self.groups])
        self.first = self.holds & (self.priority == 1)
        sharing = (self.holds.astype(int) @ self.holds.T.astype(int)) > 0  # group × group: a skill in common
        self.alone = sharing.sum(axis=1) == 1
        self.neighbours = (sharing.astype(int) @ self.holds.astype(int)) > 0  # call types of groups sharing a skill
        self.own = np.where(self.alone[:, None], self.holds, self.first)  # the call types a group's curve is about
        self.channels = [scenario.channel_of(name) for name in self.types]
        self.live = np.array([ct.live for ct in scenario.call_types], bool)
        self.deferred_groups = (self.holds & ~self.live[None, :]).any(axis=1)  # groups holding email or case work
        exempt = exempt_mask(scenario)  # intervals an exempt maintenance window overlaps: not judged
        self.exempt = np.zeros(self.intervals, bool) if exempt is None else exempt.any(axis=0)
        self.slots = self._slots()
        self.queues = self._queues(method)
        self.service_level = cache(lambda g, t, agents, threshold: self.queues[g][t].service_level(agents, threshold))
        self.live_erlang, self.floor = self._erlang_start(occupancy_cap)
        self.deferred = DeferredStart(self.served_by, self.live_erlang, self.busy, self.cost)
        try:
            self.deferred_plan: DeferredSolution = self.deferred.solve()
        except ValueError as exc:
            raise RequirementError(str(exc)) from None
        self.erlang = self.live_erlang + self.deferred_plan.extra  # the start: Erlang's agents plus deferred work's
        self.bound = np.maximum(BOUND_FACTOR * self.erlang, self.erlang + 10)

    def _planned(self) -> np.ndarray:
        """Agents each group has in each interval in the given scenario: plan plus shifts covering its start."""
        horizon = self.scenario.horizon
        planned = np.array([g.agents.per_interval_counts(self.intervals) for g in self.scenario.agent_groups], float)
        starts = horizon.start_seconds + np.arange(self.intervals) * horizon.interval_seconds
        for shift in self.scenario.roster:
            covered = (clock_seconds(shift.start) <= starts) & (starts < clock_seconds(shift.end))
            planned[self.groups.index(shift.group)] += shift.agents * covered
        return planned

    def _slots(self) -> np.ndarray:
        """Chat sessions per agent of each group × call type (1 for voice), and per group (the largest over the
        chat types it serves first; 1 without), as the last column."""
        caps = np.ones((len(self.groups), len(self.types) + 1), int)
        for g, group in enumerate(self.served_by.agent_groups):
            for skill in group.skills:
                k = self.types.index(skill.call_type)
                if self.channels[k] == "chat":
                    caps[g, k] = skill.max_concurrency or group.max_concurrency
        caps[:, -1] = np.where(self.first, caps[:, :-1], 1).max(axis=1, initial=1)
        return caps

    def _queues(self, method: str) -> list[list[ErlangQueue]]:
        """Each group's Erlang queue per interval, from its share of the priority-1 live load, in slots; and the
        agents busy with live work (`busy`: a chat session counted as a whole agent)."""
        planned = self._planned()
        horizon = self.scenario.horizon
        rates = np.array([busiest_rates(ct.arrivals, horizon) for ct in self.scenario.call_types]) / 3600.0
        rates[~self.live] = 0.0  # deferred work has a start of its own
        conference = None  # seconds of warm-transfer conference per contact, per call type × interval
        if has_journeys(self.scenario):  # legs transferred in and repeat contacts: `bposim.offered_load`
            load = offered_load(self.scenario, rates * 3600.0)
            rates, conference = load.total / 3600.0, load.conference_seconds
        talk = np.array([ct.handle_time.mean for ct in self.scenario.call_types])
        stretch = np.array([ct.stretch for ct in self.scenario.call_types])
        wrap = np.array([ct.after_call_work.mean if ct.after_call_work else 0.0 for ct in self.scenario.call_types])
        abandon = np.array(
            [
                0.0 if ct.patience is None or method == "erlang_c" else 1.0 / ct.patience.mean
                for ct in self.scenario.call_types
            ]
        )
        caps, slots = self.slots[:, :-1], self.slots[:, -1:]
        session = talk[None, :] * self.proficiency * (1.0 + stretch[None, :] * (caps - 1)) + wrap[None, :]
        handle = session * slots / caps  # group × call type, in slot-seconds: a voice call holds all the slots
        session = np.broadcast_to(session[:, :, None], (*session.shape, self.intervals))  # × interval
        handle = np.broadcast_to(handle[:, :, None], session.shape)
        if conference is not None:  # a warm transfer's conference holds the agents on both sides
            session = session + conference[None, :, :]
            handle = handle + conference[None, :, :] * (slots / caps)[:, :, None]
        weight = self.first[:, :, None] * planned[:, None, :]  # group × call type × interval
        weight = np.where(weight.sum(axis=0) > 0, weight, self.first[:, :, None] * 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.nan_to_num(weight / weight.sum(axis=0))
        arrivals = share * rates[None, :, :]
        self.busy = (arrivals * session).sum(axis=1)  # group × interval, agents
        self.channel_load = arrivals * handle  # group × call type × interval, slots busy
        total = arrivals.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_handle = (arrivals * handle).sum(axis=1) / total
            theta = (arrivals * abandon[None, :, None]).sum(axis=1) / total
        return [
            [
                ErlangQueue(
                    float(total[g, t]),
                    float(mean_handle[g, t]),
                    1.0 / theta[g, t] if theta[g, t] > 0 else None,
                    int(self.slots[g, -1]),
                )
                if total[g, t] > 0 and mean_handle[g, t] > 0
                else ErlangQueue(0.0, 1.0, None, int(self.slots[g, -1]))  # no work: no calls, or none lasting
                for t in range(self.intervals)
            ]
            for g in range(len(self.groups))
        ]

    def _erlang_start(self, occupancy_cap: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Erlang headcount per group and interval, and the floor the occupancy cap alone sets."""
        erlang = np.zeros((len(self.groups), self.intervals), int)
        floor = np.zeros_like(erlang)
        for g, row in enumerate(self.queues):
            for t, queue in enumerate(row):
                if queue.arrival_rate == 0:
                    continue
                load = queue.arrival_rate * queue.handle_seconds
                ceiling = max(BOUND_FACTOR * math.ceil(load), math.ceil(load) + 50)
                arguments = (queue.arrival_rate, queue.handle_seconds)
                slots = queue.slots
                if occupancy_cap is not None:
                    floor[g, t] = -(
                        -analytic.required_agents(
                            *arguments, math.inf, 1e-9, queue.patience_seconds, occupancy_cap, ceiling
                        )
                        // slots
                    )
                for k in np.flatnonzero(self.first[g] & self.live):
                    goal = max(float(self.targets[k]), 1e-9)
                    try:
                        needed = analytic.required_agents(
                            *arguments, float(self.thresholds[k]), goal, queue.patience_seconds, occupancy_cap, ceiling
                        )
                    except ValueError:
                        servers = f"{ceiling} agents" if slots == 1 else f"{ceiling} chat slots ({slots} an agent)"
                        raise RequirementError(
                            f"call type '{self.types[k]}' in interval {t} ({self.labels[t]}): Erlang finds no "
                            f"staffing up to {servers} of group '{self.groups[g]}' meeting "
                            f"{self.targets[k]:.0%} within {self.thresholds[k]:g} s"
                        ) from None
                    erlang[g, t] = max(erlang[g, t], -(-needed // slots))
        return erlang, floor

    def staffed(self, plan: np.ndarray) -> Scenario:
        """The scenario with each group's agents per interval from `plan`, and no roster."""
        changes: dict = {"roster": [], "roster_file": None}
        for g, name in enumerate(self.groups):
            changes[f"agent_groups.{name}.agents"] = {"per_interval": [int(n) for n in plan[g]]}
        return self.scenario.updated(changes)

    def levels(self, days: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pooled service level, its 95% half-width and calls offered (over all days) per call type × interval,
        from a run's intervals table (`metrics.pooled_service_level`; NaN where nothing was offered)."""
        grid = pd.MultiIndex.from_product([self.types, range(self.intervals)], names=["call_type", "interval"])
        pooled = metrics.pooled_service_level(days, ["call_type", "interval"], self.scenario.service_level.definition)
        pooled = pooled.reindex(grid)
        shape = (len(self.types), self.intervals)
        return (
            pooled["service_level"].to_numpy(float).reshape(shape),
            pooled["service_level_ci"].to_numpy(float).reshape(shape),
            pooled["offered"].fillna(0).to_numpy(float).reshape(shape),
        )

    def channel_table(self, plan: np.ndarray, deferred_work: np.ndarray | None = None) -> pd.DataFrame:
        """The agents each channel's call types need per interval: each group's start and requirement split by the
        channel's share of the group's load, summed over groups; channels of the scenario only. Live load is in
        slots (`channel_load`), deferred work the agents at work on items (`deferred_work`, group × deferred call
        type × interval; the start's unless given) in slots too; a group with agents but no load in an interval
        is split as its load over the day, else evenly over the channels it serves. The channels sum to the plan."""
        present = [channel for channel in CHANNELS if channel in self.channels]
        load = self.channel_load.copy()
        work = self.deferred_plan.work if deferred_work is None else deferred_work
        load[:, ~self.live, :] = work * self.slots[:, -1:, None]
        total = load.sum(axis=1, keepdims=True)
        day = load.sum(axis=2, keepdims=True)
        even = np.broadcast_to(
            self.holds[:, :, None] / np.maximum(self.holds.sum(axis=1), 1)[:, None, None], load.shape
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            fallback = np.where(day.sum(axis=1, keepdims=True) > 0, day / day.sum(axis=1, keepdims=True), even)
            parts = np.where(total > 0, load / total, fallback)  # group × call type × interval
        rows = []
        for channel in present:
            mine = np.array([c == channel for c in self.channels])
            share = parts[:, mine, :].sum(axis=1)  # group × interval
            rows.append(
                pd.DataFrame(
                    {
                        "channel": channel,
                        "interval": np.arange(self.intervals),
                        "interval_start": self.labels,
                        "erlang": (share * self.erlang).sum(axis=0),
                        "required": (share * np.asarray(plan, float)).sum(axis=0),
                    }
                )
            )
        table = pd.concat(rows, ignore_index=True)
        table["channel"] = pd.Categorical(table["channel"], categories=present)
        return table

    def table(self, plan: np.ndarray) -> pd.DataFrame:
        """The plan as the requirement's table: group, interval, interval_start, erlang, required."""
        return pd.DataFrame(
            {
                "group": np.repeat(self.groups, self.intervals),
                "interval": np.tile(np.arange(self.intervals), len(self.groups)),
                "interval_start": self.labels * len(self.groups),
                "erlang": self.erlang.ravel(),
                "required": np.asarray(plan, int).ravel(),
            }
        )
