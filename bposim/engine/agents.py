"""The workforce at run time: agents logging in and out by staffing plan or by shift, breaks, absence, shrinkage.

Two kinds of agents share a group. Plan agents follow the group's per-interval count: when it falls, idle
agents leave at once (the most recently idle first); if too few are idle, all the group's busy plan agents are
on their way out and whoever frees first leaves, until the logged-in count equals the plan, so no call starts
for the group meanwhile (the rule of ContactCenters); when it rises, agents on their way out stay before anyone
new logs in. Rostered agents work their shift: each day they are absent with the group's absence probability,
or log in at the shift start and out at its end (finishing a call in progress: overtime); a shift that ends at
or after closing leaves it to the closing, as plan agents do. A break falls due at a time staggered across its
window among the shift's agents and starts when the agent is next free; shrinkage episodes fall due at random
while logged in and are taken the same way. A deferred block falls due and starts like a break, but keeps the
agent logged in, on deferred work only (`engine.channels`), until it ends. Logged-in stretches are session
records; breaks, shrinkage, absences and deferred blocks are activity records.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import simpy

from bposim.distributions import Distribution
from bposim.engine.records import ABSENCE, BLOCK, BREAK, SHRINKAGE, ActivityRow, SessionRow
from bposim.engine.routing import Agent, Group
from bposim.scenario import SECONDS_PER_DAY, Scenario, Shift
from bposim.scenario.sites import holiday_days
from bposim.scenario.workforce import LearningCurve


class Activity(NamedTuple):
    """A break, shrinkage episode or deferred block due for an agent: taken at `planned` or when next free,
    `length` seconds long, late if started after `latest`."""

    kind: int
    name: str
    planned: float
    length: float
    latest: float
    paid: bool


class AgentSession(NamedTuple):
    """An agent in one session (their `session` count then): a timer of that session does nothing after it."""

    agent: Agent
    session: int


class DueActivity(NamedTuple):
    """An activity falling due for an agent in one session."""

    agent: Agent
    session: int
    activity: Activity


class BlockEnd(NamedTuple):
    """An agent's deferred block, begun in one session, ending at `end`."""

    agent: Agent
    session: int
    end: float


class ShiftStart(NamedTuple):
    """A rostered agent's shift beginning at `start` and ending at `end`; one ending at or after closing is left
    to the closing (`until_closing`). `anchor` is when the shift starts by the roster, which its breaks are placed
    from: `start` itself, unless the day's hours cut the shift (it then starts at opening)."""

    agent: Agent
    start: float
    end: float
    until_closing: bool
    anchor: float


class GroupProfile(NamedTuple):
    """How a group's agents come and go beside their shifts: the daily absence probability and shrinkage episodes
    per second on each weekday (mon..sun; the same seven times without `by_weekday` or a start_date), their
    length, the learning curve, and the random streams of absence and shrinkage."""

    absence_probability: tuple[float, ...]
    shrinkage_rate: tuple[float, ...]
    shrinkage_length: Distribution | None
    learning_curve: LearningCurve | None
    absence_rng: np.random.Generator | None
    shrinkage_rng: np.random.Generator | None


class Workforce:
    """All agents of a centre and their comings and goings; the centre gives agents work when `on_ready` says.

    `assist_for(name, group)` gives a new agent its AI-assist multipliers (or None).
    """

    def __init__(
        self,
        scenario: Scenario,
        groups: list[Group],
        env: simpy.Environment,
        rng: Callable[[str], np.random.Generator],
        on_ready: Callable[[Agent], None],
        assist_for: Callable[[str, Group], list[float] | None],
    ):
        self.env = env
        self.on_ready = on_ready
        self.assist_for = assist_for
        self.groups = groups
        self.opening = scenario.horizon.start_seconds
        self.grid_seconds = scenario.horizon.open_seconds  # a day's grid, from the week's first opening to its last
        horizon = scenario.horizon
        self.weekdays = [horizon.date(d).weekday() if horizon.calendar else 0 for d in range(horizon.days)]
        self.weekday = self.weekdays[0]  # the weekday of the day open now (mon = 0; 0 without a start_date)
        self.agents: list[Agent] = []
        self.sessions: list[SessionRow] = []
        self.activities: list[ActivityRow] = []
        by_name = {group.name: group for group in groups}
        self.profiles: dict[str, GroupProfile] = {}
        for group, spec in zip(groups, scenario.agent_groups, strict=True):
            absence, shrinkage = scenario.group_absence(spec), scenario.group_shrinkage(spec)
            self.profiles[group.name] = GroupProfile(
                absence.by_day() if absence else (0.0,) * 7,
                tuple(rate / 3600.0 for rate in shrinkage.by_day()) if shrinkage else (0.0,) * 7,
                shrinkage.duration if shrinkage else None,
                spec.learning_curve,
                rng(f"{group.name}/absence") if absence else None,  # a stream only when drawn from (it costs ~20 µs)
                rng(f"{group.name}/shrinkage") if shrinkage else None,
            )
        self.rostered: list[Agent] = []
        holidays = holiday_days(scenario)
        self.workdays: dict[int, frozenset[int]] = {}  # agent index → the days its line works, for lines with days
        for number, shift in enumerate(scenario.roster, start=1):
            group = by_name[shift.group]
            days = _day_indexes(scenario, shift)
            for slot in range(shift.agents):
                agent = self._new_agent(f"{group.name}-s{number}-{slot + 1:03d}", group, shift, slot)
                self.rostered.append(agent)
                if days is not None:
                    self.workdays[agent.index] = days
        every_day = frozenset(range(horizon.days))
        for agent in self.rostered:  # a site's holidays: its agents do not work them (`scenario.sites`)
            off = holidays.get(agent.group.name)
            if off:
                self.workdays[agent.index] = self.workdays.get(agent.index, every_day) - off

    def _new_agent(self, name: str, group: Group, shift=None, slot: int = 0) -> Agent:
        """A new agent of the centre, numbered in order of hiring."""
        agent = Agent(len(self.agents), name, group, shift, slot, self.assist_for(name, group))
        self.agents.append(agent)
        return agent

    def _record_activity(
        self,
        agent: Agent,
        kind: int,
        name: str,
        planned: float,
        start: float,
        end: float,
        late: bool,
        missed: bool,
        paid: bool,
    ) -> None:
        """Record a break, shrinkage episode or absence."""
        self.activities.append(ActivityRow(agent.index, kind, name, planned, start, end, late, missed, paid))

    # --- plan agents -------------------------------------------------------------------------------------

    def set_staff(self, group: Group, target: int, now: float) -> None:
        """Move the group's plan agents to `target`; new ones are logged in and made ready."""
        change = target - group.staffed
        if change > 0:
            stay = min(change, group.to_leave)
            if stay:
                group.to_leave -= stay
                group.staffed += stay
                change -= stay
                for _ in range(stay):
                    group.drop_times.pop()
                if not group.to_leave:
                    for agent in group.agents:
                        agent.leaving = False
            if change:  # agents logged out earlier come back first, in hiring order
                for agent in group.agents:
                    if not agent.logged_in:
                        self._log_in(agent, now)
                        change -= 1
                        if not change:
                            break
            while change:
                agent = self._new_agent(f"{group.name}-{len(group.agents) + 1:03d}", group)
                group.agents.append(agent)
                self._log_in(agent, now)
                change -= 1
        elif change < 0:
            leaving = -change
            for agent in reversed([*group.idle, *group.blocked]):
                if leaving and agent.shift is None:
                    group.idle.pop(agent, None)
                    group.blocked.pop(agent, None)
                    agent.planned_end = now
                    self.log_out(agent, now)
                    leaving -= 1
            if leaving:
                group.staffed -= leaving
                group.to_leave += leaving
                group.drop_times.extend([now] * leaving)
                for agent in group.agents:
                    if agent.logged_in:
                        agent.leaving = True

    def plan_agent_leaves(self, agent: Agent) -> None:
        """A plan agent of a group above its plan is free: it is the one to log out (the caller logs it out). Its
        planned log-out is the earliest fall in the plan not yet served; once the group is back at plan, the
        others stay."""
        group = agent.group
        group.to_leave -= 1
        agent.planned_end = min(agent.planned_end, group.drop_times.popleft())
        if not group.to_leave:
            for other in group.agents:
                if other is not agent:
                    other.leaving = False

    def closing(self, now: float) -> None:
        """At closing, plan agents are due to leave: staying on to serve the queue counts as overtime."""
        for agent in self.agents:
            if agent.logged_in and agent.shift is None:
                agent.planned_end = min(agent.planned_end, now)

    # --- rostered agents -----------------------------------------------------------------------------------

    def open_day(self, now: float, close: float, origin: float, day: int = 0) -> None:
        """The day opens at `now` and closes at `close`, its grid starting at `origin`: each rostered agent is
        absent, or will log in at their shift start. One still serving callers who waited at the last closing leaves
        after the call in hand.

        On a day with shorter hours a shift is cut to them: it starts at opening at the earliest and, when the day
        closes before the grid ends, is due to end at closing at the latest; a shift wholly outside the day's hours
        is not worked that day (nor counted absent). Absence is drawn for every rostered agent each open day all
        the same, so the draws of the days stay aligned. An agent whose roster line lists its days (`Shift.days`)
        works day `day` only when it is one of them, and is neither drawn absent nor counted on the others."""
        early = close < origin + self.grid_seconds
        weekday = self.weekday = self.weekdays[int(origin // SECONDS_PER_DAY)]
        for agent in self.rostered:
            if agent.logged_in:
                agent.leaving = True
            if self.workdays and day not in self.workdays.get(agent.index, (day,)):
                continue
            shift = agent.shift
            start = origin + shift.start_seconds - self.opening
            end = origin + shift.end_seconds - self.opening
            anchor = start
            cut = start < now or early  # the day's hours cut the shift
            if cut:
                start, end = max(start, now), min(end, close) if early else end
            profile = self.profiles[agent.group.name]
            absence = profile.absence_probability[weekday]
            absent = absence and profile.absence_rng.random() < absence
            if cut and (start >= end or start >= close):
                continue
            if absent:
                self._record_activity(agent, ABSENCE, "", start, start, end, False, False, False)
            else:
                self.env.at(start - now, self._shift_start, ShiftStart(agent, start, end, end >= close, anchor))

    def _shift_start(self, shift_start: ShiftStart) -> None:
        """A shift begins. One that ends at or after closing has no log-out of its own: the closing governs it
        (the agent stays while callers of its skills wait, with `serve`), as it does plan agents."""
        agent, start, end, until_closing, anchor = shift_start
        self._log_in(agent, start)
        agent.planned_end = end
        session = agent.session
        shift = agent.shift
        for spec in shift.breaks:
            low, high = (anchor + t - shift.start_seconds for t in spec.window_seconds)
            length = spec.minutes * 60.0
            planned = low + (high - low - length) * (agent.slot + 0.5) / shift.agents
            if planned < start:
                continue  # due before a shift cut by the day's hours starts: not taken that day
            item = Activity(BREAK, spec.name, planned, length, high - length, spec.paid)
            self.env.at(planned - start, self._due, DueActivity(agent, session, item))
        for spec in shift.deferred_blocks:
            low, high = (start + t - shift.start_seconds for t in spec.window_seconds)
            length = spec.minutes * 60.0
            planned = low + (high - low - length) * (agent.slot + 0.5) / shift.agents
            item = Activity(BLOCK, spec.name, planned, length, high - length, True)
            self.env.at(planned - start, self._due, DueActivity(agent, session, item))
        if not until_closing:
            self.env.at(end - start, self._shift_end, AgentSession(agent, session))

    def _shift_end(self, agent_session: AgentSession) -> None:
        agent, session = agent_session
        if agent.session != session or not agent.logged_in:
            return
        group = agent.group
        if agent in group.idle or agent in group.blocked or agent in group.reserved:
            group.idle.pop(agent, None)
            group.blocked.pop(agent, None)
            group.reserved.pop(agent, None)
            self.log_out(agent, self.env.now)
        else:
            agent.leaving = True

    # --- breaks and shrinkage --------------------------------------------------------------------------------

    def _due(self, due: DueActivity) -> None:
        self.fall_due(*due)

    def fall_due(self, agent: Agent, session: int, item: Activity) -> None:
        """An activity falls due: taken now if the agent is idle, else as soon as they are free."""
        if agent.session != session or not agent.logged_in:
            return
        group = agent.group
        if not agent.leaving and (agent in group.idle or agent in group.blocked or agent in group.reserved):
            group.idle.pop(agent, None)
            group.blocked.pop(agent, None)
            group.reserved.pop(agent, None)
            self.start_activity(agent, item, self.env.now)
        else:
            agent.pending.append(item)

    def _shrinkage_clock(self, agent_session: AgentSession) -> None:
        agent, session = agent_session
        if agent.session != session or not agent.logged_in:
            return
        profile = self.profiles[agent.group.name]
        rng = profile.shrinkage_rng
        now = self.env.now
        length = float(profile.shrinkage_length.sample(rng, 1)[0])
        self.fall_due(agent, session, Activity(SHRINKAGE, "", now, length, math.inf, True))
        rate = profile.shrinkage_rate[self.weekday]
        if rate:
            self.env.at(float(rng.exponential(1.0 / rate)), self._shrinkage_clock, AgentSession(agent, session))

    def start_activity(self, agent: Agent, item: Activity, now: float) -> None:
        """The agent goes off the phones for the activity; `ready` is called when it ends. A deferred block instead
        starts at once: the agent is ready now, for deferred work only until the block ends.

        An activity never runs past the end of the agent's shift: it is cut short there, and one that would
        start at or after it is missed.
        """
        kind, name, planned, length, latest, paid = item
        if agent.shift is not None and now + length > agent.planned_end:
            length = agent.planned_end - now
            if length <= 0:
                if kind in (BREAK, BLOCK):
                    self._record_activity(agent, kind, name, planned, math.nan, math.nan, False, True, paid)
                self.env.at(0.0, self.on_ready, agent)
                return
        self._record_activity(agent, kind, name, planned, now, now + length, now > latest + 1e-9, False, paid)
        if kind == BLOCK:
            agent.block_end = now + length
            self.env.at(length, self._block_end, BlockEnd(agent, agent.session, now + length))
            self.env.at(0.0, self.on_ready, agent)
            return
        self.env.at(length, self.on_ready, agent)

    def _block_end(self, block_end: BlockEnd) -> None:
        """A deferred block ends: an agent waiting in it for an item is ready for any work; one on an item finishes
        it first, as usual."""
        agent, session, end = block_end
        if agent.session != session or agent.block_end != end:
            return
        agent.block_end = -math.inf
        reserved = agent.group.reserved
        if agent in reserved:
            del reserved[agent]
            self.env.at(0.0, self.on_ready, agent)

    # --- logging in and out ----------------------------------------------------------------------------------

    def _log_in(self, agent: Agent, now: float) -> None:
        """Start a session. A rostered agent still on a call from the day before (served after closing) has that
        session end here and the new one begin; the call's end makes them ready."""
        group = agent.group
        returning = agent.logged_in
        if returning:
            self._end_session(agent, now)
        agent.logged_in = True
        agent.leaving = False
        agent.login_time = now
        agent.session += 1
        agent.pending = []
        if agent.shift is None:
            group.staffed += 1
            agent.planned_end = math.inf
        if not returning:
            for queue in group.queues:
                queue.staffed += 1
        profile = self.profiles[group.name]
        agent.learning = profile.learning_curve
        rate = profile.shrinkage_rate[self.weekday]
        if rate:
            self.env.at(
                float(profile.shrinkage_rng.exponential(1.0 / rate)),
                self._shrinkage_clock,
                AgentSession(agent, agent.session),
            )
        if not returning:
            self.env.at(0.0, self.on_ready, agent)

    def log_out(self, agent: Agent, now: float) -> None:
        """End an agent's session (the agent must be neither idle-listed nor busy); untaken breaks are missed."""
        group = agent.group
        if agent.shift is None and not agent.leaving:
            group.staffed -= 1
        agent.logged_in = False
        agent.leaving = False
        for queue in group.queues:
            queue.staffed -= 1
        self._end_session(agent, now)

    def _end_session(self, agent: Agent, now: float) -> None:
        """Record the session ending `now`; breaks still pending are missed."""
        agent.block_end = -math.inf
        for kind, name, planned, _, _, paid in agent.pending:
            if kind in (BREAK, BLOCK):
                self._record_activity(agent, BREAK, name, planned, math.nan, math.nan, False, True, paid)
        agent.pending = []
        self.sessions.append(SessionRow(agent.index, agent.login_time, now, agent.planned_end))


def _day_indexes(scenario: Scenario, shift: Shift) -> frozenset[int] | None:
    """The horizon's day numbers a roster line works on (its `days`), or None when it works every open day."""
    if shift.days is None:
        return None
    first = scenario.horizon.start_date
    return frozenset((date - first).days for date in shift.days)
