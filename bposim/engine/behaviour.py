"""Callers' behaviour at run time: balking, the maximum wait ending in a message, and how retrials are made.

Balking: a caller who would queue (voice: nobody free and no callback taken; chat: no idle agent and no free slot)
hangs up at once with the call type's balking probability, recorded `balked`, and may call again
(`retrial.after_balk`). The probability is constant, or read off a piecewise linear curve in the callers of the
type waiting ahead (those still waiting: not served, not yet past their patience), or in the expected wait

    (ahead + 1) × (mean handle + mean wrap-up, × the interval's handle_time_factor) / servers

servers being the agents logged in with the skill (chat: their session slots, each agent's `max_concurrency` for
the type): the wait of a caller answered at the (ahead + 1)-th completion when every server is busy and
completions come at one per mean work time per server (the estimate the callback offer makes, with wrap-up added:
an agent frees only after it). Every caller who would queue takes one draw of the type's balking stream, whatever
the probability, so a change of curve moves no one else's draw.

Maximum wait: a caller whose patience is longer than `max_wait_seconds` and who still waits then is sent to leave
a message: recorded `message` at that moment (`end`), with `handle_seconds` the recording time (0 without one),
during which a trunk line, if any, stays held. Once recorded, the message brings nothing more (`then: none`), a
callback (`then: callback`: it waits with the callbacks of the type, as an accepted callback offer does; a call
type offered no callbacks gets a line of its own) or an item of an email or case type (`then: deferred:<type>`:
a new caller id, handle time, wrap-up and patience drawn from that type's distributions, arriving when the
message is recorded). Callers whose patience runs out first abandon as before.

Balking and the maximum wait act where a caller reaches the centre: a leg passed on by a transfer
(`engine.journeys`) joins its queue without either, handed over by an agent (a message or callback would break its
journey into contacts of their own).

Retrials: a retrial has fresh patience and handle time (times the factors of the interval it arrives in) unless
`retrial.keep_patience` / `keep_handle_time` give it the first attempt's as that attempt had them (the fresh draws
are still made, and dropped, so that the retrial stream keeps its order). A retrial due after closing is not made,
unless `retrial.after_closing`: it then comes at the next opening (none left: not made).

=====================  ================================  ========================  =================================
event                  handler                           payload                   what it does
=====================  ================================  ========================  =================================
maximum wait passes    CallerBehaviour._max_wait         routing.Call              a caller still waiting leaves a
                                                                                   message
message recorded       CallerBehaviour._message_left     routing.Call              frees the line; a callback or an
                                                                                   item
=====================  ================================  ========================  =================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from bposim.engine.records import BALKED, CALLBACK, MESSAGE
from bposim.engine.routing import GONE, SERVED, WAITING, Call, CallQueue
from bposim.engine.sources import Retry
from bposim.scenario import SECONDS_PER_DAY, CallType
from bposim.scenario.behaviour import Balking

if TYPE_CHECKING:
    from bposim.engine.model import Centre

INF = math.inf


class QueueBehaviour:
    """A call type's behaviour settings at run time: balking (None: none) with its stream and mean work per call
    (handle + wrap-up), the maximum wait (infinity: none), the message's recording time, what follows it (`then`:
    none, callback, deferred) with the callback line or the queue and call type of the items, and their streams."""

    __slots__ = (
        "balking",
        "balk_rng",
        "mean_work",
        "max_wait",
        "recording",
        "then",
        "callback_line",
        "item_queue",
        "item_type",
        "message_rng",
        "chat_groups",
    )

    def __init__(self, call_type: CallType, balk_rng: np.random.Generator, message_rng: np.random.Generator):
        self.balking: Balking | None = call_type.balking
        self.balk_rng = balk_rng
        wrap = call_type.after_call_work
        self.mean_work = call_type.handle_time.mean + (wrap.mean if wrap is not None else 0.0)
        self.max_wait = call_type.max_wait_seconds if call_type.max_wait_seconds is not None else INF
        message = call_type.message
        self.recording = message.recording_time if message is not None else None
        self.then = "none" if message is None else ("deferred" if message.deferred_type else message.then)
        self.callback_line: CallQueue | None = None
        self.item_queue: CallQueue | None = None
        self.item_type: CallType | None = None
        self.message_rng = message_rng
        self.chat_groups: list = []  # chat: the groups holding the skill, whose session slots serve it


class CallerBehaviour:
    """Balking, messages and retrials of a `model.Centre` (mixed in): they use its calendar, router and records."""

    def _set_up_behaviour(self: Centre) -> None:
        """Give each call type with balking or a maximum wait its settings (`CallQueue.behaviour`), and a callback
        line to those whose messages bring callbacks but that are offered none."""
        scenario, router = self.scenario, self.router
        by_name = {queue.name: queue for queue in router.queues}
        for queue, call_type in zip(router.queues, scenario.call_types, strict=True):
            if call_type.balking is None and call_type.max_wait_seconds is None:
                continue
            behaviour = QueueBehaviour(
                call_type, self.rng(f"{call_type.name}/balking"), self.rng(f"{call_type.name}/message")
            )
            if behaviour.then == "callback":
                behaviour.callback_line = queue.callbacks.queue if queue.callbacks is not None else self._line(queue)
            elif behaviour.then == "deferred":
                name = call_type.message.deferred_type
                behaviour.item_queue = by_name[name]
                behaviour.item_type = scenario.call_types[by_name[name].index]
            if queue.chat:
                behaviour.chat_groups = [group for group in router.groups if queue in group.queues]
            queue.behaviour = behaviour

    def _line(self: Centre, queue: CallQueue) -> CallQueue:
        """A callback line for a call type offered no callbacks, taken by the groups that hold its skill after
        every live queue of theirs, as callbacks are."""
        line = CallQueue(queue.index, queue.name, queue.priority)
        line.trunked = queue.trunked
        self.router.callback_queues.append(line)
        for group in self.router.groups:
            if queue in group.queues:
                group.queues.append(line)
                group.live_queues.append(line)
                group.take_tiers.append([(line, 0.0)])
                group.live_takes.append((line, 0.0))
                group.only_queue = None
        return line

    # --- on joining the queue ------------------------------------------------------------------------

    def _joins(self: Centre, call: Call, now: float) -> bool:
        """A caller who would queue: False if they balk (recorded, and they may call again); else True, and their
        maximum wait is set."""
        behaviour = call.queue.behaviour
        if behaviour.balking is not None and self._balks(call, behaviour, now):
            self._record_unanswered(call, BALKED)
            self._maybe_retry(call, now, blocked=False, balked=True)
            return False
        if call.patience > behaviour.max_wait:
            self.env.at(behaviour.max_wait, self._max_wait, call)
        return True

    def _balks(self: Centre, call: Call, behaviour: QueueBehaviour, now: float) -> bool:
        balking = behaviour.balking
        draw = behaviour.balk_rng.random()
        if balking.probability is not None:
            return draw < balking.probability
        queue = call.queue
        ahead = sum(1 for other in queue.waiting if other.state == WAITING and other.deadline > now)
        if not balking.on_expected_wait:
            return draw < balking.chance(ahead)
        factors = self.sources[queue.index].handle_factor
        work = behaviour.mean_work * (factors[self.interval] if factors is not None else 1.0)
        servers = self._chat_slots(queue, behaviour.chat_groups) if queue.chat else queue.staffed
        return draw < balking.chance((ahead + 1) * work / max(1, servers))

    def _chat_slots(self: Centre, queue: CallQueue, groups: list) -> int:
        """The chat sessions the agents logged in with a chat skill may hold at once: each agent's cap for the
        type (one group: its cap × the agents logged in with the skill)."""
        if len(groups) == 1:
            return groups[0].cap[queue.index] * queue.staffed
        return sum(agent.group.cap[queue.index] for agent in self.agents if agent.logged_in and agent.group in groups)

    # --- the maximum wait ----------------------------------------------------------------------------

    def _max_wait(self: Centre, call: Call) -> None:
        """A caller still waiting at the maximum wait leaves a message (patience longer than it: not gone yet)."""
        if call.state != WAITING:
            return
        behaviour = call.queue.behaviour
        call.state = GONE
        recording = behaviour.recording
        seconds = float(recording.sample(behaviour.message_rng, 1)[0]) if recording is not None else 0.0
        self.records.call(call, MESSAGE, self.env.now, handle=seconds)
        if call.queue.trunked or behaviour.then != "none":
            self.env.at(seconds, self._message_left, call)

    def _message_left(self: Centre, call: Call) -> None:
        """The message is recorded: the caller's line is free, and a callback or an item follows, if any."""
        queue = call.queue
        if queue.trunked:
            self.in_system -= 1
        behaviour = queue.behaviour
        now = self.env.now
        if behaviour.then == "callback":
            self._call_back(call, behaviour.callback_line, now)
        elif behaviour.then == "deferred":
            self._message_item(behaviour, now)

    def _call_back(self: Centre, call: Call, line: CallQueue, now: float) -> None:
        """A callback for the caller, with their handle time: to an idle agent holding the skill, else it waits."""
        back = Call(call.call_id, line, call.attempt, INF, call.handle, call.wrap)
        back.arrival = now
        back.path = CALLBACK
        agent = None if self.closing else self.router.find_agent(call.queue.agent_tiers)
        if agent is not None:
            back.state = SERVED
            self._serve(agent, back, now)
        else:
            line.waiting.append(back)

    def _message_item(self: Centre, behaviour: QueueBehaviour, now: float) -> None:
        """An email or case item made of the message: a new caller id, its type's handle time, wrap-up and
        patience (from the message stream), arriving now."""
        call_type, queue, rng = behaviour.item_type, behaviour.item_queue, behaviour.message_rng
        patience, wrap = call_type.patience, call_type.after_call_work
        item = Call(
            self.next_call_id,
            queue,
            1,
            float(patience.sample(rng, 1)[0]) if patience is not None else INF,
            float(call_type.handle_time.sample(rng, 1)[0]),
            float(wrap.sample(rng, 1)[0]) if wrap is not None else 0.0,
        )
        self.next_call_id += 1
        item.arrival = now
        agent = self._item_agent(queue.agent_tiers, now)
        if agent is not None:
            item.state = SERVED
            self._serve_item(agent, item, now)
        else:
            self._wait(item, now)

    # --- retrials ------------------------------------------------------------------------------------

    def _retrial(self: Centre, call: Call, retry: Retry, due: float) -> Call:
        """The caller's next attempt, due at `due`: fresh patience and handle time (times the factors of the
        interval it arrives in), or the first attempt's where the retrial rule keeps them."""
        source = self.sources[call.queue.index]
        retrial = source.retrial
        patience, handle = retry.patience, retry.handle
        if source.patience_factor is not None or source.handle_factor is not None:
            since = due - self._day_of(due) * SECONDS_PER_DAY
            interval = min(int(since // self.interval_seconds), self.intervals - 1)
            if source.patience_factor is not None:
                patience *= source.patience_factor[interval]
            if source.handle_factor is not None:
                handle *= source.handle_factor[interval]
        if retrial.keep_patience:
            patience = call.patience
        if retrial.keep_handle_time:
            handle = call.handle
        return Call(call.call_id, call.queue, call.attempt + 1, patience, handle, retry.wrap)

    def _day_of(self: Centre, time: float) -> int:
        """The day a time falls on (one day: always day 0, however long, as the tables count it)."""
        return int(time // SECONDS_PER_DAY) if self.days > 1 else 0

    def _next_opening(self: Centre, due: float) -> float | None:
        """When a retrial due at `due` after closing comes: then, if the centre is open; else at the next opening;
        None if no opening is left in the horizon."""
        interval = self.interval_seconds
        for day in range(self._day_of(due), self.days):
            span = self.spans[day]
            if not span:
                continue
            opens = day * SECONDS_PER_DAY + span.start * interval
            if due < opens:
                return opens
            if due < day * SECONDS_PER_DAY + span.stop * interval:
                return due
        return None
