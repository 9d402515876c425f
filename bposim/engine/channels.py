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

Interruption: an item of an `interruptible` type may be stopped for a live contact (voice or chat, arriving or
past an overflow delay) that finds no agent of its tiers free: of the first tier that has one, the agent whose
piece of work started last is interrupted, provided the group keeps more agents on items than its reserve, and the
agent is in the work (not the wrap-up), not in a deferred block, not on its way out, with no break due and not kept
off by an outage. The agent takes the contact at once; the item goes back into its queue in arrival order (at the
head, as a rule) with the share of work it has left, which the next agent to take it works at their own speed.
Its record is one row at completion: answer when work first began, end when the work was done, the handle seconds
of all its pieces, and the agent who finished it; each piece is a `PieceRow` (the agent's busy time).

Deferred blocks: an agent in a block (`agents.Workforce` starts and ends it) takes no live contact: a freed agent
works items, and with none waiting waits among the group's `reserved` agents, who take the next item that comes
before any idle agent does. A block ends at closing; an item in hand when it ends is finished as usual.

=====================  ================================  ========================  =================================
event                  handler                           payload                   what it does
=====================  ================================  ========================  =================================
an item arrives        ChannelWork._arrive_item          routing.Call              to an agent free for it, or waits
chat session ends      ChannelWork._chat_end             routing.ChatSession       the slot is free: another chat,
                                                                                   or the agent is ready at none
item done              ChannelWork._item_done            channels.Piece            recorded, the agent is ready
                                                                                   (nothing if the piece was
                                                                                   stopped)
backlog look again     ChannelWork._recheck              (Group, time)             idle agents held back by a live
                                                                                   contact's overflow delay take items
=====================  ================================  ========================  =================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bposim.engine.records import ANSWERED, DROPPED, PieceRow
from bposim.engine.routing import SERVED, WAITING, Agent, Call, ChatSession, Group, Job, Overflow
from bposim.engine.sources import Callers, initial_backlog

if TYPE_CHECKING:
    from bposim.engine.model import Centre

INF = math.inf


class Piece:
    """A stretch of work by `agent` on `item` from `start`: working `work` seconds until `work_end`, doing the
    share `left` of the item's work it had left, then `wrap` seconds of wrap-up until `free_at`."""

    __slots__ = ("agent", "item", "start", "work", "left", "wrap", "work_end", "free_at")

    def __init__(self, agent: Agent, item: Call, start: float, work: float, left: float, wrap: float):
        self.agent = agent
        self.item = item
        self.start = start
        self.work = work
        self.left = left
        self.wrap = wrap
        self.work_end = start + work
        self.free_at = start + (work + wrap)


class ItemProgress:
    """An item interrupted at least once: when work on it first began, the share of its work left, the handle
    seconds worked so far and how often it was stopped."""

    __slots__ = ("first_start", "left", "worked", "interruptions")

    def __init__(self, first_start: float):
        self.first_start = first_start
        self.left = 1.0
        self.worked = 0.0
        self.interruptions = 0


class ChannelWork:
    """Chat and deferred-work handlers of a `model.Centre` (mixed in): they use its calendar, router and records."""

    # --- chat ------------------------------------------------------------------------------------------

    def _after_bot(self: Centre, call: Call, now: float) -> None:
        """A caller who leaves the bot for an agent: a chat or a call."""
        if call.queue.blended:
            self._blended_to_agents(call, now)
        else:
            self._to_agents(call, now)

    def _blended_to_agents(self: Centre, call: Call, now: float) -> None:
        """A chat, or a call that may stop an interruptible item: to an idle agent (a chat: else to a free slot),
        else to an agent it interrupts, else it waits."""
        queue = call.queue
        tiers = queue.agent_tiers
        router = self.router
        agent = router.find_agent(tiers)
        if agent is None and queue.chat:
            agent = router.find_chat_slot(tiers, queue)
        if agent is None and queue.interrupts:
            agent = self._interrupt(tiers, now)
        if agent is not None:
            self._serve_live(agent, call, now)
        elif queue.chat:
            if queue.behaviour is None or self._joins(call, now):  # else balked (`engine.behaviour`)
                self._wait(call, now)
        else:
            self._to_agents(call, now)  # finds nobody idle: the call waits, or is offered a callback

    def _serve_live(self: Centre, agent: Agent, call: Call, now: float) -> None:
        if call.queue.chat:
            self._serve_chat(agent, call, now)
        else:
            self._serve(agent, call, now)

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
        if self.repeats is not None:
            self.repeats.answered(agent, call, now + talk)
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
        """The interval's email and case items (drawn with its block, `_draw_block`): the first arrives when it
        comes, and brings on the next."""
        drawn = self.day_items[interval - self.block.start]
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
        """The agent an item goes to (none after closing): an agent in a deferred block waiting for one, else an
        idle agent chosen as for a call among the groups free for items."""
        if self.closing:
            return None
        for tier in tiers:
            for group in tier:
                if group.reserved and not group.down_outages:
                    return group.reserved.popitem(last=False)[0]
        return self.router.find_agent(tiers, lambda group: self._free_for_items(group, now))

    def _serve_item(self: Centre, agent: Agent, item: Call, now: float) -> None:
        """The agent works the item (the work it has left, then the wrap-up), unless stopped; it counts among the
        group's agents on items. The item is recorded when done."""
        group = agent.group
        progress = self.progress.get(item)
        if progress is None:
            left = 1.0
            work = agent.talk_time(item)
        else:
            left = progress.left
            work = left * agent.talk_time(item, counted=False)
        wrap = item.wrap
        group.on_deferred += 1
        piece = Piece(agent, item, now, work, left, wrap)
        agent.piece = piece
        if item.queue.interruptible:
            group.working[agent] = piece
        if self.track_jobs:  # an outage that drops calls finds the item here, and puts it back
            agent.job = Job(item, now, work, wrap, piece.work_end, piece.free_at)
        self.env.at(work + wrap, self._item_done, piece)

    def _item_done(self: Centre, piece: Piece) -> None:
        agent = piece.agent
        if agent.piece is not piece:  # stopped: by a live contact, or by an outage that put the item back
            stale = agent.stale_ready_times
            now = self.env.now
            if self.track_jobs and now in stale:
                stale.remove(now)
            return
        agent.piece = None
        agent.job = None
        group = agent.group
        group.on_deferred -= 1
        group.working.pop(agent, None)
        self._record_item(piece)
        self._on_ready(agent)

    def _record_item(self: Centre, piece: Piece) -> None:
        """Record a finished item: one row (an interrupted one: with the work of all its pieces from its first
        start, and its last piece recorded as a piece)."""
        item, agent = piece.item, piece.agent
        if self.repeats is not None:
            self.repeats.answered(agent, item, piece.work_end)
        progress = self.progress.pop(item, None)
        if progress is None:
            self.records.call(item, ANSWERED, piece.work_end, piece.start, piece.work, piece.wrap, agent.index)
            return
        self.pieces.append(PieceRow(agent.index, item.call_id, piece.start, piece.free_at, piece.work, False))
        worked = progress.worked + piece.work
        self.records.call(item, ANSWERED, piece.work_end, progress.first_start, worked, piece.wrap, agent.index)

    def _interrupt(self: Centre, tiers: list[list[Group]], now: float) -> Agent | None:
        """Stop the interruptible item whose piece started last among the agents of the first tier that has one
        who may be interrupted, and give back that agent (now free for a live contact); None if nobody may be."""
        interval = self.interval
        for tier in tiers:
            best = None
            for group in tier:
                if not group.working or group.down_outages:
                    continue
                if group.reserve is not None and group.on_deferred <= group.reserve[interval]:
                    continue  # never below the group's reserve
                for agent, piece in reversed(group.working.items()):
                    if piece.work_end > now and agent.block_end <= now and not (agent.leaving or agent.pending):
                        if best is None or piece.start > best.start:
                            best = piece
                        break
            if best is not None:
                self._stop_piece(best, now)
                return best.agent
        return None

    def _stop_piece(self: Centre, piece: Piece, now: float) -> None:
        """The agent stops work on the item: the piece is recorded, and the item goes back to its queue, in arrival
        order, with the share of its work still to do."""
        agent, item = piece.agent, piece.item
        progress = self.progress.get(item)
        if progress is None:
            progress = self.progress[item] = ItemProgress(piece.start)
        worked = now - piece.start
        progress.left = piece.left * (piece.work_end - now) / piece.work
        progress.worked += worked
        progress.interruptions += 1
        self.pieces.append(PieceRow(agent.index, item.call_id, piece.start, now, worked, True))
        self._put_back(agent, item)
        self._to_reserved(item, now)

    def _to_reserved(self: Centre, item: Call, now: float) -> None:
        """An item put back goes at once to an agent in a deferred block waiting for one, if any may take it."""
        if self.closing:
            return
        for tier in item.queue.agent_tiers:
            for group in tier:
                if group.reserved and not group.down_outages:
                    item.queue.waiting.remove(item)
                    item.state = SERVED
                    self._serve_item(group.reserved.popitem(last=False)[0], item, now)
                    return

    def _put_back(self: Centre, agent: Agent, item: Call) -> None:
        """The agent no longer works the item, which waits again in its queue, in arrival order (and no longer
        abandons: its work has begun)."""
        agent.piece = None
        agent.job = None
        group = agent.group
        group.on_deferred -= 1
        group.working.pop(agent, None)
        item.state = WAITING
        item.deadline = INF
        waiting = item.queue.waiting
        if item in waiting:  # taken after its overflow delay, it was left in the line, marked served
            waiting.remove(item)
        if not waiting or waiting[0].arrival >= item.arrival:
            waiting.appendleft(item)
            return
        position = next((i for i, other in enumerate(waiting) if other.arrival > item.arrival), len(waiting))
        waiting.insert(position, item)

    def _requeue(self: Centre, agent: Agent, item: Call) -> None:
        """An outage that drops calls stops work on an item: it goes back into its queue, not lost (the work of the
        piece cut off is not recorded), and is worked again from where this piece began."""
        self._put_back(agent, item)

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
        """A freed agent of a group with chat or deferred skills: in a deferred block, an item or waiting for one;
        else items first while the reserve is short; else a live contact (a chat starts a session); else an item if
        no live contact of its skills waits; else idle."""
        group = agent.group
        router = self.router
        closing = self.closing
        if agent.block_end > now and not closing:
            item = router.next_call(group.deferred_tiers, now, False)
            if item is not None:
                self._serve_item(agent, item, now)
            else:
                agent.idle_since = now
                group.reserved[agent] = None
            return
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
        """A waiting chat, call that may interrupt, or item whose overflow delay has passed may go to the groups of
        `tiers`."""
        queue = call.queue
        if queue.blended:
            agent = self.router.find_agent(tiers)
            if agent is None and queue.chat:
                agent = self.router.find_chat_slot(tiers, queue)
            if agent is None and queue.interrupts:
                agent = self._interrupt(tiers, now)
            if agent is not None:
                call.state = SERVED
                self._serve_live(agent, call, now)
        else:
            agent = self._item_agent(tiers, now)
            if agent is not None:
                call.state = SERVED
                self._serve_item(agent, call, now)
