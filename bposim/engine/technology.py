"""Technology at run time: tool outages and their effects; self-service, AI assist and callbacks.

Outages: each tool fails at random (up time, then repair time, each from its distribution) and is taken down
for planned maintenance every day; while at least one outage of a tool is on, its effects hold: `down`
moves the covered groups' free agents aside until it ends (calls in progress finish, or with `drop` are cut
off: every chat session in talk too, while an email or case item goes back to the head of its queue, its work
so far unrecorded), `slow` multiplies the talk time of calls that start meanwhile, `ivr_off` sends callers past
the bot, `arrivals_blocked` gives callers a busy signal (live contacts only: items never meet one). Each outage
is one record: tool, kind, start, end. Outbound dialers (`engine.outbound`) are told of each tool going down and
up (`tool_switched`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bposim.engine.records import (
    BOT_BOUNCE,
    BOT_CONTAINED,
    BOT_OPT_OUT,
    CALLBACK,
    CALLBACK_REQUESTED,
    CONTAINED,
    DROPPED,
    PLANNED,
    RANDOM,
    OutageRow,
)
from bposim.engine.routing import SERVED, WAITING, Agent, Call, CallQueue, Group, Router
from bposim.scenario import SECONDS_PER_DAY, Scenario


class ResolvedEffect(NamedTuple):
    """One effect of a tool's outage, with the groups and queues it covers looked up."""

    kind: str
    multiplier: float
    groups: list[Group]
    queues: list[CallQueue]
    in_progress: str


class OutageStart(NamedTuple):
    """A tool going down (`kind` RANDOM or PLANNED) for `length` seconds."""

    tool: int
    kind: int
    length: float


class OutageEnd(NamedTuple):
    """A tool coming back up after the outage that began at `start`."""

    tool: int
    kind: int
    start: float


class BotExit(NamedTuple):
    """A caller leaving the bot after `seconds`; `draw` decides whether contained, bounced back or opted out."""

    call: Call
    seconds: float
    draw: float


class Outages:
    """The failure and maintenance processes of every tool, and the switching of their effects."""

    def __init__(
        self,
        scenario: Scenario,
        router: Router,
        env,
        rng: Callable[[str], np.random.Generator],
        ready,
        agents: list,
        record_call: Callable[..., None],
        line_freed: Callable[[Call], None],
        cut_chats: Callable[[Agent, float], None],
        requeue: Callable[[Agent, Call], None],
        resume_chats: Callable[[Group], None],
        tool_switched: Callable[[int, bool], None] | None = None,
    ):
        self.env = env
        self.ready = ready
        self.agents = agents
        self.record_call = record_call
        self.line_freed = line_freed
        self.cut_chats = cut_chats
        self.requeue = requeue
        self.resume_chats = resume_chats
        self.tool_switched = tool_switched  # outbound dialers: a tool went down (True) or came back up (False)
        self.tools = scenario.outage_tools  # the scenario's tools, then its sites' outages
        self.rngs = [rng(f"tool/{tool.name}") for tool in self.tools]
        self.active = [0] * len(self.tools)
        self.records: list[OutageRow] = []
        horizon = scenario.horizon
        self.last_close = (horizon.days - 1) * SECONDS_PER_DAY + horizon.open_seconds
        groups = {group.name: group for group in router.groups}
        queues = {queue.name: queue for queue in router.queues}
        self.effects = []
        for tool in self.tools:
            resolved = []
            for effect in tool.effects:
                covered_groups = [groups[name] for name in (effect.groups or groups)]
                covered_queues = [queues[name] for name in (effect.call_types or queues)]
                resolved.append(
                    ResolvedEffect(effect.type, effect.multiplier, covered_groups, covered_queues, effect.in_progress)
                )
            self.effects.append(resolved)
        self.slowdowns: dict[tuple[int, int], list[float]] = {}
        self.cut_off: set[Call] = set()
        for index, tool in enumerate(self.tools):
            if tool.failures is not None:
                self._next_failure(index, 0.0)
            for day in range(horizon.days):
                for window in tool.maintenance:
                    start = day * SECONDS_PER_DAY + window.start_seconds - horizon.start_seconds
                    env.at(start, self._begin, OutageStart(index, PLANNED, window.minutes * 60.0))
            for start, length in tool.dated_outages():
                env.at(start, self._begin, OutageStart(index, PLANNED, length))

    def _cut_calls(self, group) -> None:
        """Cut off the calls in progress of a group's agents: each is recorded as dropped (answered, ended now, no
        wrap-up), and the agent is free. Every chat session an agent is talking in is cut off likewise; an email or
        case item being worked goes back to the head of its queue."""
        now = self.env.now
        for agent in self.agents:
            if agent.chats and agent.group is group:
                self.cut_chats(agent, now)
            job = agent.job
            if job is None or agent.group is not group or not agent.logged_in:
                continue
            if job.answer <= now < job.talk_end:
                call = job.call
                if call.queue.deferred:
                    self.requeue(agent, call)
                else:
                    self.cut_off.add(call)
                    self.record_call(call, DROPPED, now, job.answer, now - job.answer, 0.0, agent.index)
                    self.line_freed(call)
                agent.stale_ready_times.append(job.free_at)
                agent.job = None
                self.env.at(0.0, self.ready, agent)

    def _next_failure(self, index: int, now: float) -> None:
        failures = self.tools[index].failures
        up = float(failures.time_between.sample(self.rngs[index], 1)[0])
        if now + up < self.last_close:
            repair = float(failures.repair.sample(self.rngs[index], 1)[0])
            self.env.at(up, self._begin, OutageStart(index, RANDOM, repair))

    def _begin(self, start: OutageStart) -> None:
        index, kind, length = start
        now = self.env.now
        self.active[index] += 1
        if self.active[index] == 1:
            for effect in self.effects[index]:
                self._switch(effect, +1)
            if self.tool_switched is not None:
                self.tool_switched(index, True)
        self.env.at(length, self._end, OutageEnd(index, kind, now))

    def _end(self, end: OutageEnd) -> None:
        index, kind, start = end
        now = self.env.now
        self.records.append(OutageRow(index, kind, start, now))
        self.active[index] -= 1
        if self.active[index] == 0:
            for effect in self.effects[index]:
                self._switch(effect, -1)
            if self.tool_switched is not None:
                self.tool_switched(index, False)
        if kind == RANDOM:
            self._next_failure(index, now)

    def _switch(self, effect: ResolvedEffect, sign: int) -> None:
        kind, multiplier, groups, queues, in_progress = effect
        if kind == "down":
            for group in groups:
                group.down_outages += sign
                if sign > 0 and in_progress == "drop":
                    self._cut_calls(group)
                if sign > 0 and group.down_outages == 1:
                    group.blocked.update(group.idle)
                    group.blocked.update(group.reserved)  # in a deferred block: back to it when the outage ends
                    group.idle.clear()
                    group.reserved.clear()
                elif sign < 0 and group.down_outages == 0:
                    for agent in group.blocked:
                        self.env.at(0.0, self.ready, agent)
                    group.blocked.clear()
                    if group.max_sessions > 1:
                        self.resume_chats(group)
        elif kind == "slow":
            for group in groups:
                for queue in queues:
                    active = self.slowdowns.setdefault((group.index, queue.index), [])
                    if sign > 0:
                        active.append(multiplier)
                    else:
                        active.remove(multiplier)
                    group.speed[queue.index] = group.proficiency[queue.index] * math.prod(active)
        elif kind == "ivr_off":
            for queue in queues:
                queue.bot_outages += sign
        else:
            for queue in queues:
                queue.door_closures += sign
                for line in queue.shares.lines if queue.shares is not None else ():  # its sites' lines
                    line.door_closures += sign


class BotAssistCallbacks:
    """Self-service in front of call types, AI assist on agents, and callbacks instead of waiting."""

    def __init__(
        self,
        scenario: Scenario,
        router: Router,
        env,
        rng: Callable[[str], np.random.Generator],
        record_unanswered: Callable[[Call, int], None],
        to_agents: Callable[[Call, float], None],
        serve: Callable[[Agent, Call, float], None],
        first_uniform: Callable[[str], float],
    ):
        self.env = env
        self.router = router
        self.record_unanswered = record_unanswered
        self.to_agents = to_agents
        self.serve = serve
        self.rng = rng
        self.first_uniform = first_uniform  # the first number of a named stream (`sources.first_uniform`)
        assist = scenario.technology.ai_assist
        self.assist = assist if assist is not None and assist.enabled else None
        self.names = [queue.name for queue in router.queues]

    def assist_for(self, agent_name: str, group: Group) -> list[float] | None:
        """A new agent's AI-assist handle-time multipliers per call type, or None without it: adopted with the
        adoption probability (a draw of its own, by the agent's name)."""
        assist = self.assist
        if assist is None or self.first_uniform(f"ai_assist/{agent_name}") >= assist.adoption:
            return None
        return [
            assist.novice_multiplier
            if assist.novice_multiplier is not None and group.proficiency[q] > 1.0
            else assist.by_call_type.get(call_type, assist.handle_time_multiplier)
            for q, call_type in enumerate(self.names)
        ]

    def enter_bot(self, call: Call, now: float) -> None:
        """The caller starts in the bot; what happens after is drawn now, for common random numbers."""
        spec, rng = call.queue.bot
        length = float(spec.bot_time.sample(rng, 1)[0])
        draw = float(rng.random())
        self.env.at(length, self._leave_bot, BotExit(call, length, draw))

    def _leave_bot(self, exit_: BotExit) -> None:
        call, length, draw = exit_
        spec = call.queue.bot.spec
        now = self.env.now
        call.bot = length
        contained = spec.containment
        if draw < contained * (1.0 - spec.bounce_back):
            call.path = BOT_CONTAINED
            self.record_unanswered(call, CONTAINED)
            return
        if draw < contained:
            call.path = BOT_BOUNCE
            call.handle *= spec.bounce_handle_multiplier
        else:
            call.path = BOT_OPT_OUT
        call.arrival = now
        self.to_agents(call, now)

    def takes_callback(self, call: Call, now: float) -> bool:
        """Offer a callback when the estimated wait is over the threshold; True if the caller takes it."""
        callback_queue, spec, mean_handle, rng = call.queue.callbacks
        queue = call.queue
        estimate = (len(queue.waiting) + 1) * mean_handle / max(1, queue.staffed)
        if estimate <= spec.offer_when_wait_over_seconds or rng.random() >= spec.acceptance:
            return False
        self.record_unanswered(call, CALLBACK_REQUESTED)
        back = Call(call.call_id, callback_queue, call.attempt, math.inf, call.handle, call.wrap)
        back.arrival = now
        back.path = CALLBACK
        back.state = WAITING
        callback_queue.waiting.append(back)
        if queue.delayed:  # an idle agent of an overflow group may take no live caller yet: it calls back now
            agent = self.router.find_agent([tier for _, tiers in queue.delayed for tier in tiers])
            if agent is not None:
                callback_queue.waiting.pop()
                back.state = SERVED
                self.serve(agent, back, now)
        return True
