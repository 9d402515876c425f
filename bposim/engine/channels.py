"""Chat sessions and deferred work (email, case) at run time: the part of the centre that voice never enters.

Chat: a chat is routed like a call (idle agents first, by tiers), but when nobody of a tier is idle it goes to the
agent of that tier holding the fewest sessions with a slot free for its type (the skill's `max_concurrency`, else
the group's). An agent holding a session takes only more chats until it holds none; one with a break due, on its way
out or kept off by an outage starts none. A session's talk time is stretched once, at its start, by
1 + sequential_share * (n - 1), n the sessions held with it; its slot is free after its wrap-up.

Deferred work: items arrive like calls, plus the initial backlog at the first opening, and wait FIFO per type. A freed
agent takes one only when no live contact of its skills waits (even one whose overflow delay has not passed), unless
fewer than the group's `deferred_reserve` agents are on items, when it takes one first. No item starts after closing;
they wait for the next opening, and those still open at the end are recorded unserved at the last closing.

=====================  ================================  ========================  =================================
event                  handler                           payload                   what it does
=====================  ================================  ========================  =================================
an item arrives        ChannelWork._arrive_item          routing.Call              to an agent free for it, or waits
chat session ends      ChannelWork._chat_end             routing.ChatSession       the slot is free: another chat,
                                                                                   or the agent is ready at none
item done              ChannelWork._item_done            routing.Agent             the agent is ready
backlog look again     ChannelWork._recheck              (Group, time)             idle agents held back by a live
                                                                                   contact's overflow delay take items
=====================  ================================  ========================  =================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bposim.engine.records import ANSWERED, DROPPED
from bposim.engine.routing import SERVED, WAITING, Agent, Call, ChatSession, Group, Job, Overflow
from bposim.engine.sources import Callers, draw_callers, initial_backlog

if TYPE_CHECKING:
    from bposim.engine.model import Centre

INF = math.inf


class ChannelWork:
    """Chat and deferred-work handlers of a `model.Centre` (mixed in): they use its calendar, router and records."""

    # --- chat ------------------------------------------------------------------------------------------

    def _chat_to_agents(self: Centre, call: Call, now: float) -> None:
        """A chat goes to an idle agent, else to the least-loaded agent with a free slot, else it waits."""
        queue = call.queue
        router = self.router
        agent = router.find_agent(queue.agent_tiers) or router.find_chat_slot(queue.agent_tiers, queue)
        if agent is not None:
            self._serve_chat(agent, call, now)
            return
        self._wait(call, now)

    def _after_bot(self: Centre, call: Call, now: float) -> None:
        """A caller who leaves the bot for an agent: a chat or a call."""
        if call.queue.chat:
            self._chat_to_agents(call, now)
        else:
            self._to_agents(call, now)

    def _wait(self: Centre, call: Call, now: float) -> None:
        """The contact joins its queue, may hang up, and may go to more groups after their overflow delays."""
        queue = call.queue
        if queue.lazy_patience:
            call.deadline = call.arrival + call.patience
        elif call.patience < INF:
            self.env.at(call.patience, self._patience, call)
        queue.waiting.append(call)
        for delay, tiers in queue.delayed:
            self.env.at(max(call.arrival + delay - now, 0.0), self._overflow, Overflow(call, tiers))

    def _serve_chat(self: Centre, agent: Agent, call: Call, now: float) -> None:
        """The agent starts one more session; its talk time is stretched by the sessions it holds with it."""
        group = agent.group
        held = agent.sessions
        if held:
            del group.holding[held][agent]
        held += 1
        agent.sessions = held
        if held < group.max_sessions:
            group.holding[held][agent] = None
        queue = call.queue
        talk = agent.talk_time(call, 1.0 + queue.stretch * (held - 1))
        session = ChatSession(agent, call, now, talk, call.wrap)
        if self.track_jobs:  # recorded at its end, unless an outage cuts it off first
            agent.chats[session] = None
        else:
            self.records.call(call, ANSWERED, now + talk, now, talk, call.wrap, agent.index)
        self.env.at(talk + call.wrap, self._chat_end, session)

    def _chat_end(self: Centre, session: ChatSession) -> None:
        agent = session.agent
        if self.track_jobs:
            if session not in agent.chats:
                return  # cut off by an outage, and recorded then
            del agent.chats[session]
            answer, talk = session.answer, session.talk
            self.records.call(session.call, ANSWERED, answer + talk, answer, talk, session.wrap, agent.index)
        self._session_over(agent, self.env.now)

    def _session_over(self: Centre, agent: Agent, now: float) -> None:
        """A slot of the agent is free: it starts another waiting chat if it may, or is ready when it holds none."""
        group = agent.group
        held = agent.sessions
        if held < group.max_sessions:
            del group.holding[held][agent]
        held -= 1
        agent.sessions = held
        if not held:
            self.env.at(0.0, self._on_ready, agent)
            return
        group.holding[held][agent] = None
        if not (agent.leaving or agent.pending or group.down_outages):
            call = self.router.next_chat(agent, now, self.closing)
            if call is not None:
                self._serve_chat(agent, call, now)

    def _resume_chats(self: Centre, group: Group) -> None:
        """An outage keeping the group off ends: its agents holding sessions start waiting chats in free slots."""
        now = self.env.now
        for held in range(1, group.max_sessions):
            for agent in list(group.holding[held]):
                while agent.sessions == held and not (agent.leaving or agent.pending):
                    call = self.router.next_chat(agent, now, self.closing)
                    if call is None:
                        break
                    self._serve_chat(agent, call, now)

    def _cut_chats(self: Centre, agent: Agent, now: float) -> None:
        """An outage that drops calls cuts off every session the agent is talking in: each is recorded as dropped
        (no wrap-up); sessions in their wrap-up run on."""
        for session in list(agent.chats):
            answer = session.answer
            if answer <= now < answer + session.talk:
                del agent.chats[session]
                self.records.call(session.call, DROPPED, now, answer, now - answer, 0.0, agent.index)
                self._session_over(agent, now)

    # --- deferred work ---------------------------------------------------------------------------------

    def _open_backlog(self: Centre) -> None:
        """The items already waiting at the first opening, oldest first, with arrival times before it."""
        for queue, call_type in zip(self.router.queues, self.scenario.call_types, strict=True):
            if queue.deferred and call_type.initial_backlog:
                items = initial_backlog(call_type, queue.index, self.rng)
                for item in self._calls(items):
                    self._wait(item, 0.0)

    def _calls(self: Centre, callers: Callers) -> list[Call]:
        """New contacts, numbered on from the last, with their arrival times set."""
        calls = list(self._new_calls(callers))
        for call, time in zip(calls, callers.times, strict=True):
            call.arrival = time
        return calls

    def _draw_items(self: Centre, interval: int, now: float) -> None:
        """Draw the interval's email and case items; the first arrives when it comes, and brings on the next."""
        drawn = draw_callers(self.deferred_sources, interval, now, self.interval_seconds, self.factors[self.day])
        items = iter(self._calls(drawn))
        self._items = items
        first = next(items, None)
        if first is not None:
            self.env.at(first.arrival - now, self._arrive_item, first)

    def _arrive_item(self: Centre, item: Call) -> None:
        now = self.env.now
        upcoming = next(self._items, None)
        if upcoming is not None:
            self.env.at(upcoming.arrival - now, self._arrive_item, upcoming)
        agent = self._item_agent(item.queue.agent_tiers, now)
        if agent is not None:
            item.state = SERVED
            self._serve_item(agent, item, now)
        else:
            self._wait(item, now)

    def _free_for_items(self: Centre, group: Group, now: float) -> bool:
        """Whether the group's idle agents may take deferred work now: its reserve is short, or no live contact of
        its skills waits. While one waits only for its overflow delay, the group looks again when that passes."""
        if group.reserve is not None and group.on_deferred < group.reserve[self.interval]:
            return True
        until = self.router.live_wait(group, now)
        if until is None:
            return True
        if until > now:
            self._look_again(group, until, now)
        return False

    def _item_agent(self: Centre, tiers: list[list[Group]], now: float) -> Agent | None:
        """The idle agent an item goes to, chosen as for a call among the groups free for items (none after
        closing)."""
        if self.closing:
            return None
        return self.router.find_agent(tiers, lambda group: self._free_for_items(group, now))

    def _serve_item(self: Centre, agent: Agent, item: Call, now: float) -> None:
        """The agent works the item to the end (handle, then wrap-up); it counts among the group's agents on items."""
        group = agent.group
        talk = agent.talk_time(item)
        wrap = item.wrap
        group.on_deferred += 1
        if self.track_jobs:
            agent.job = Job(item, now, talk, wrap, now + talk, now + (talk + wrap))
        else:
            self.records.call(item, ANSWERED, now + talk, now, talk, wrap, agent.index)
        self.env.at(talk + wrap, self._item_done, agent)

    def _item_done(self: Centre, agent: Agent) -> None:
        if not (self.track_jobs and self.env.now in agent.stale_ready_times):  # not an item an outage put back
            agent.group.on_deferred -= 1
        self._on_ready(agent)

    def _requeue(self: Centre, agent: Agent, item: Call) -> None:
        """An outage that drops calls stops work on an item: it goes back to the head of its queue, not lost (the
        work done on it is not recorded), and is worked again from the start."""
        item.state = WAITING
        item.queue.waiting.appendleft(item)
        agent.group.on_deferred -= 1

    def _fill_reserve(self: Centre, group: Group, now: float) -> None:
        """At an interval's start, idle agents of the group take waiting items while its reserve is short."""
        while group.idle and group.on_deferred < group.reserve[self.interval] and not group.down_outages:
            item = self.router.next_call(group.deferred_tiers, now, False)
            if item is None:
                return
            self._serve_item(group.idle.popitem(last=False)[0], item, now)

    def _look_again(self: Centre, group: Group, at: float, now: float) -> None:
        if at < group.recheck_at:
            group.recheck_at = at
            self.env.at(at - now, self._recheck, (group, at))

    def _recheck(self: Centre, group_at: tuple[Group, float]) -> None:
        """A live contact's overflow delay has passed: the group's idle agents take items if none is left waiting."""
        group, at = group_at
        if at != group.recheck_at:
            return
        group.recheck_at = INF
        now = self.env.now
        if self.closing or group.down_outages:
            return
        while group.idle and self._free_for_items(group, now):
            item = self.router.next_call(group.deferred_tiers, now, False)
            if item is None:
                return
            self._serve_item(group.idle.popitem(last=False)[0], item, now)

    def _ready_mixed(self: Centre, agent: Agent, now: float) -> None:
        """A freed agent of a group with chat or deferred skills: items first while the reserve is short; else a live
        contact (a chat starts a session); else an item if no live contact of its skills waits; else idle."""
        group = agent.group
        router = self.router
        closing = self.closing
        if not closing and group.reserve is not None and group.on_deferred < group.reserve[self.interval]:
            item = router.next_call(group.deferred_tiers, now, False)
            if item is not None:
                self._serve_item(agent, item, now)
                return
        call = router.next_call(group.take_tiers, now, closing)
        if call is not None:
            if call.queue.chat:
                self._serve_chat(agent, call, now)
            else:
                self._serve(agent, call, now)
            return
        if closing:
            self._log_out(agent, now)
            return
        if group.deferred_tiers and self._free_for_items(group, now):
            item = router.next_call(group.deferred_tiers, now, False)
            if item is not None:
                self._serve_item(agent, item, now)
                return
        agent.idle_since = now
        group.idle[agent] = None

    def _overflow_channel(self: Centre, call: Call, tiers: list[list[Group]], now: float) -> None:
        """A waiting chat or item whose overflow delay has passed may go to the groups of `tiers`."""
        if call.queue.chat:
            agent = self.router.find_agent(tiers) or self.router.find_chat_slot(tiers, call.queue)
            if agent is not None:
                call.state = SERVED
                self._serve_chat(agent, call, now)
        else:
            agent = self._item_agent(tiers, now)
            if agent is not None:
                call.state = SERVED
                self._serve_item(agent, call, now)
