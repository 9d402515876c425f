"""The contact centre on SimPy, driven by events and callbacks rather than one generator per caller.

Every happening is a handler called with a payload that says who it concerns, at a time set on the calendar
(`events.Calendar.at`); an interval's first attempts come from the calendar's arrival stream. Abandonment is
lazy: the patience event of a caller already answered finds it served and does nothing, so no event is ever
cancelled.

=====================  ================================  ========================  =================================
event                  handler                           payload                   what it does
=====================  ================================  ========================  =================================
interval boundary      Centre._interval_start            interval index (int)      opens the day (its first open
                                                                                   interval), staffs groups to plan,
                                                                                   draws the interval's arrivals
closing time           Centre._close                     None                      lets the queue go or serves it
a first attempt        Centre._attempt (an arrival of    routing.Call              busy signal, bot, agent or queue
  arrives                the calendar's stream, no event)
  (no feature checks     Centre._first_attempt             DrawnCaller (a tuple)     an agent free answers it with no
  on answering)                                                                    call made; else as _attempt
a retrial arrives      Centre._attempt                   routing.Call              as a first attempt
a repeat contact       Centre._attempt (live),           routing.Call              as a first attempt; made by
  arrives                Centre._arrive_repeat_item                                `engine.resolution` for an
                                                                                   unresolved contact
patience runs out      Centre._patience                  routing.Call              a waiting caller hangs up, and
                                                                                   may retry
overflow delay passes  Centre._overflow                  routing.Overflow          more groups may take the call
agent free             Centre._ready                     routing.Agent             a break, a call, idling or log-out
  (outages cut calls)  Centre._ready_after_job           routing.Agent             records the call just ended first
talk ends              Centre._release                   routing.Call              frees the caller's trunk line
shift starts           Workforce._shift_start            agents.ShiftStart         a rostered agent logs in
shift ends             Workforce._shift_end              agents.AgentSession       a rostered agent logs out
break due              Workforce._due                    agents.DueActivity        taken now or when next free
shrinkage clock        Workforce._shrinkage_clock        agents.AgentSession       a shrinkage episode falls due
tool goes out          Outages._begin                    technology.OutageStart    effects on; `drop` cuts calls
tool comes back        Outages._end                      technology.OutageEnd      effects off; the outage recorded
caller leaves the bot  BotAssistCallbacks._leave_bot     technology.BotExit        contained, or on to the agents
=====================  ================================  ========================  =================================

Balking, the maximum wait and its message, and how retrials are made (kept patience and handle time, after
closing) are in `engine.behaviour`, with events of their own; a call type without them never enters it.
Transfers (a caller passed on to another call type after the talk, as a new leg) have theirs in `engine.journeys`;
a centre without transfers never enters it. Outbound campaigns (`engine.outbound`) wrap the ready handler: an
agent left idle may be taken by a dialer; a centre without campaigns never enters that module. Chat sessions and
deferred work (email, case) have events of their own, in `engine.channels`; voice enters them only where a call
may stop an interruptible item (its queue is then `blended`), so a voice-only centre runs as it always did.
Trunk lines and callbacks are voice only. A call type split between sites by share has a line per site
(`engine.site_shares`): its first attempts are allotted to one as they reach `_attempt`.

Random numbers come from one stream per source (`engine.sources`, which also draws each interval's callers and
their retrials), so changing staffing or adding a call type leaves the other sources' draws unchanged (common
random numbers).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from itertools import repeat

from bposim.arrivals import busyness_factors, calendar_weeks
from bposim.engine.agents import Workforce
from bposim.engine.behaviour import CallerBehaviour
from bposim.engine.channels import ChannelWork, ItemProgress
from bposim.engine.events import Calendar
from bposim.engine.journeys import JourneyWork, LegRow, leg_sources, transfer_desks
from bposim.engine.outbound import Dialers
from bposim.engine.records import (
    ABANDONED,
    ANSWERED,
    ANSWERED_VALUE,
    BLOCKED,
    CALLBACK,
    DIRECT_VALUE,
    UNSERVED,
    CallRecords,
    PieceRow,
    pack_call_row,
)
from bposim.engine.resolution import repeats_for
from bposim.engine.routing import GONE, SERVED, WAITING, Agent, Call, CallQueue, Job, Overflow, Router
from bposim.engine.site_shares import share_by_site
from bposim.engine.sources import Callers, call_source, draw_day, first_uniform, stream
from bposim.engine.technology import BotAssistCallbacks, Outages
from bposim.scenario import SECONDS_PER_DAY, Scenario
from bposim.scenario.residency import resident_centre
from bposim.scenario.site_hours import shut_intervals
from bposim.scenario.sites import holiday_days

INF = math.inf
DrawnCaller = tuple[int, CallQueue, float, float, float]  # a first attempt before any call is made (`_first_attempt`):
# its call_id, queue, patience, handle and wrap-up seconds, as `zip` makes them (a named type would cost one per caller)
BLOCK_CALLERS = 5000  # contacts expected in a block of intervals drawn at once (`Centre._draw_block`): ~170 bytes
# each while drawn, under a megabyte; a block costs ~0.15 ms beyond its callers (500: 9 blocks, +15% on a BPO day)


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cycle collector held off while a centre runs: a run makes and drops a call, a record row and an
    event entry per contact, none of them in a reference cycle (reference counting frees them), yet every 700 new
    objects the collector would walk the young ones, and every so often every object of the process. What a run
    leaves in cycles (the centre itself, once let go) is collected after. Left as it is when already disabled."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Centre(ChannelWork, CallerBehaviour, JourneyWork):
    """One replication of a scenario: build with a seed, `run()`, then read `calls`, `sessions`, `agents`."""

    def __init__(self, scenario: Scenario, seed: int, replication: int = 0):
        scenario = resident_centre(scenario)  # a client's restrict_to takes its call types from ineligible groups
        self.scenario = scenario
        self.env = Calendar()
        horizon = scenario.horizon
        self.interval_seconds = horizon.interval_seconds
        self.intervals = horizon.intervals
        self.days = horizon.days
        self.spans = [horizon.open_intervals(day) for day in range(horizon.days)]  # each day's open intervals
        self.clear_at_close = horizon.closing == "clear"
        self.trunks = scenario.trunk_lines
        self.in_system = 0
        self.closing = False
        self.close_time = INF
        self.day = 0
        self.next_call_id = 0
        self.block = range(0)  # the intervals of the day whose callers are drawn (`_draw_block`)
        self.day_callers: list[Callers] = []  # the first attempts of each interval of the block
        self.day_items: list[Callers] = []  # the email and case items likewise
        rng = partial(stream, seed, replication)  # the stream of a named source
        self.rng = rng
        self.interval = 0
        self.router = Router(scenario, rng, self._hung_up)
        self._set_up_behaviour()
        site_lines = share_by_site(scenario, self.router, rng)  # call types routed by site shares
        self.records = CallRecords()
        self._write_call = self.records.writer()
        self.plans = [g.agents.per_interval_counts(self.intervals) for g in scenario.agent_groups]
        holidays = holiday_days(scenario)  # the days each group's site is on holiday: its plan agents stay away
        self.days_off = [holidays.get(g.name, frozenset()) for g in scenario.agent_groups]
        shut = shut_intervals(scenario)  # the (day, interval)s outside each group's site's hours: logged out too
        self.hours_off = [shut.get(g.name, frozenset()) for g in scenario.agent_groups]
        self.factors = busyness_factors(scenario.busyness, self.days, rng("busyness"), calendar_weeks(horizon))
        self.sources = [call_source(ct, i, horizon, rng) for i, ct in enumerate(scenario.call_types)]
        self.live_sources = [source for source, ct in zip(self.sources, scenario.call_types, strict=True) if ct.live]
        self.deferred_sources = [s for s, ct in zip(self.sources, scenario.call_types, strict=True) if not ct.live]
        self.live_queues = [q for q in self.router.queues if not q.deferred] + self.router.callback_queues + site_lines
        self.deferred_queues = [q for q in self.router.queues if q.deferred]
        self._items: Iterator[Call] = iter(())
        self.pieces: list[PieceRow] = []  # the stretches of work on items interrupted at least once
        self.progress: dict[Call, ItemProgress] = {}  # the work of interrupted items so far
        self.track_jobs = any(effect.in_progress == "drop" for tool in scenario.outage_tools for effect in tool.effects)
        self._on_ready = self._ready_after_job if self.track_jobs else self._ready
        self.transfer_desks = transfer_desks(scenario, self.router.queues, rng)  # `engine.journeys`
        self.leg_sources = leg_sources(scenario, rng)
        self.legs: list[LegRow] = []  # the legs from the second on
        if any(self.transfer_desks):  # served and let go through the journeys' handlers; else as ever
            self._serve = self._serve_journey
            self._record_unanswered = self._unanswered_journey
        elif not self.track_jobs and all(ct.resolution is None for ct in scenario.call_types):
            self._serve = self._answer  # no feature's check on every answered call
        self.answer_drawn = self._serve == self._answer  # first attempts answered without a call (`_first_attempt`)
        if all(queue.behaviour is None for queue in self.router.queues):
            self._wait_or_callback = self._wait_unless_called_back  # no balking's check on every waiting caller
        self.dialers = None  # outbound campaigns (`engine.outbound`): they see every agent made ready
        if scenario.outbound:
            self.dialers = Dialers(scenario, self.router, self.env, rng, self._on_ready, lambda: self.closing)
            self._on_ready = self.dialers.ready
        self.bot_assist_callbacks = BotAssistCallbacks(
            scenario,
            self.router,
            self.env,
            rng,
            self._record_unanswered,
            self._after_bot,
            self._serve,
            partial(first_uniform, seed, replication),
        )
        self.workforce = Workforce(
            scenario, self.router.groups, self.env, rng, self._on_ready, self.bot_assist_callbacks.assist_for
        )
        self.agents = self.workforce.agents
        self.outages = Outages(
            scenario,
            self.router,
            self.env,
            rng,
            self._on_ready,
            self.agents,
            self.records.call,
            self._line_freed_by_cut,
            self._cut_chats,
            self._requeue,
            self._resume_chats,
            self.dialers.tool_switched if self.dialers is not None else None,
        )
        self.repeats = repeats_for(
            scenario, self.router.queues, self.env, rng, self._take_call_id, self._attempt, self._arrive_repeat_item
        )
        self.day = self._open_day_from(0)
        first = self.spans[self.day].start
        self.env.at(self.day * SECONDS_PER_DAY + first * self.interval_seconds, self._interval_start, first)
        self._open_backlog()

    def run(self) -> Centre:
        """Simulate to the end of the horizon, served out, and record whatever is left waiting: deferred items as
        unserved at the last closing."""
        with cycle_collection_paused():
            self.env.run()
            for queue in self.live_queues:
                self._let_go(queue, UNSERVED)
            for queue in self.deferred_queues:
                self._let_go(queue, UNSERVED, self.close_time)
        return self

    # --- the day's clock: interval boundaries, arrivals drawn an interval at a time, closing -----------
    # A day runs over its open intervals only (`Horizon.open_intervals`): a day with shorter hours opens at its
    # first and closes after its last; a closed day has no event at all.

    def _open_day_from(self, day: int) -> int:
        """The first day from `day` on that opens (the number of days when none is left)."""
        while day < self.days and not self.spans[day]:
            day += 1
        return day

    def _interval_start(self, interval: int) -> None:
        env = self.env
        now = env.now
        self.interval = interval
        span = self.spans[self.day]
        if interval == span.start:
            self.closing = False
            self.close_time = now + len(span) * self.interval_seconds
            self.workforce.open_day(now, self.close_time, now - span.start * self.interval_seconds, self.day)
            self.block = range(0)
            if self.dialers is not None:
                self.dialers.open_day(now, self.close_time, now - span.start * self.interval_seconds)
        day = self.day
        for group, plan, off, shut in zip(self.router.groups, self.plans, self.days_off, self.hours_off, strict=True):
            self.workforce.set_staff(group, 0 if day in off or (day, interval) in shut else plan[interval], now)
            if group.reserve is not None:
                self._fill_reserve(group, now)
        if interval not in self.block:
            self._draw_block(interval, span.stop, now)
        self._draw_arrivals(interval, now)
        if self.deferred_sources:
            self._draw_items(interval, now)
        if interval + 1 < span.stop:
            env.at(self.interval_seconds, self._interval_start, interval + 1)
        else:
            env.at(self.interval_seconds, self._close, None)
        self.records.pack_if_large()

    def _draw_block(self, first: int, stop: int, now: float) -> None:
        """Draw the first attempts and items of the intervals from `first` on (`draw_day`): as many as are expected
        to bring about BLOCK_CALLERS contacts (at least one interval, at most to `stop`, the day's end), so a long
        day is drawn a block at a time and memory does not grow with its length."""
        day, factor, length = self.day, self.factors[self.day], self.interval_seconds
        end, expected = first, 0.0
        while end < stop and (end == first or expected < BLOCK_CALLERS):
            expected += sum(source.rates[day][end] for source in self.sources) * factor * length / 3600.0
            end += 1
        self.block = range(first, end)
        self.day_callers = draw_day(self.live_sources, day, self.block, now, length, factor)
        if self.deferred_sources:
            self.day_items = draw_day(self.deferred_sources, day, self.block, now, length, factor)

    def _draw_arrivals(self, interval: int, now: float) -> None:
        """The interval's first attempts: the calendar's arrival stream, each call made as it comes (or, where
        callers may be answered without a call made, `_first_attempt`, each caller's drawn values)."""
        callers = self.day_callers[interval - self.block.start]
        if callers.times:
            if self.answer_drawn:
                self.env.arrivals(callers.times, self._drawn_callers(callers), self._first_attempt)
            else:
                self.env.arrivals(callers.times, self._new_calls(callers), self._attempt)

    def _new_calls(self, callers: Callers) -> Iterator[Call]:
        """First attempts of the drawn callers, numbered on from the last, made as they are taken."""
        queues = self.router.queues
        first = self.next_call_id
        self.next_call_id = first + len(callers.times)
        return map(
            Call,
            range(first, self.next_call_id),
            [queues[i] for i in callers.types],
            repeat(1),
            callers.patience,
            callers.handle,
            callers.wrap,
        )

    def _drawn_callers(self, callers: Callers) -> Iterator[DrawnCaller]:
        """The drawn callers' first attempts as `DrawnCaller` values, numbered on from the last, without a call."""
        queues = self.router.queues
        first = self.next_call_id
        self.next_call_id = first + len(callers.times)
        return zip(
            range(first, self.next_call_id),
            [queues[i] for i in callers.types],
            callers.patience,
            callers.handle,
            callers.wrap,
            strict=True,
        )

    def _take_call_id(self) -> int:
        """A new contact's call_id (a repeat contact's: numbered on from the last)."""
        call_id = self.next_call_id
        self.next_call_id = call_id + 1
        return call_id

    def _arrive_repeat_item(self, item: Call) -> None:
        """An email or case item that repeats an unresolved one arrives: to an agent free for it, else it waits."""
        now = self.env.now
        agent = self._item_agent(item.queue.agent_tiers, now)
        if agent is not None:
            item.state = SERVED
            self._serve_item(agent, item, now)
        else:
            self._wait(item, now)

    def _close(self, _: None) -> None:
        """Closing: the live queues are let go (`clear`) or served, deferred work waits for the next opening. Idle
        agents serve the queue or leave; agents a `down` outage keeps off the phones leave at once if no caller of
        their skills waits, else stay for them."""
        now = self.env.now
        self.closing = True
        self.workforce.closing(now)
        for queue in self.live_queues:
            if self.clear_at_close or not queue.staffed:
                self._let_go(queue, UNSERVED)
        for group in self.router.groups:
            for agent in [*group.idle, *group.reserved]:  # agents in a deferred block end it at closing
                self.env.at(0, self._on_ready, agent)
            group.idle.clear()
            group.reserved.clear()
            if group.blocked and not self._callers_wait(group):
                for agent in list(group.blocked):
                    del group.blocked[agent]
                    self._leave_after_closing(agent, now)
        self.day = self._open_day_from(self.day + 1)
        if self.day < self.days:
            first = self.spans[self.day].start
            self.env.at(self.day * SECONDS_PER_DAY + first * self.interval_seconds - now, self._interval_start, first)

    # --- callers -------------------------------------------------------------------------------------

    def _attempt(self, call: Call) -> None:
        """A caller's attempt reaches the centre: busy signal, the bot, an agent at once, or the queue."""
        now = self.env._now
        call.arrival = now
        queue = call.queue
        if queue.entry_checks:
            if queue.shares is not None:  # site shares: to the allotted site's line (`engine.site_shares`)
                call.queue = queue = queue.shares.allot()
            if queue.door_closures or (queue.trunked and self.in_system >= self.trunks):
                self._record_unanswered(call, BLOCKED)
                self._maybe_retry(call, now, blocked=True)
                return
            if queue.trunked:
                self.in_system += 1
            if queue.bot is not None and not queue.bot_outages:
                self.bot_assist_callbacks.enter_bot(call, now)
                return
            if queue.blended:
                self._blended_to_agents(call, now)
                return
        solo = queue.solo  # `_to_agents` begun inline: most callers find an agent free
        if solo is not None:
            if solo.idle:
                self._serve(solo.idle.popitem(last=False)[0], call, now)
                return
        else:
            agent = self.router.find_agent(queue.agent_tiers)
            if agent is not None:
                self._serve(agent, call, now)
                return
        self._wait_or_callback(call, now)

    def _first_attempt(self, caller: DrawnCaller) -> None:
        """A drawn caller's first attempt, in a centre where answering needs no feature's check (`answer_drawn`):
        a caller of a call type without entry checks who finds an agent free is answered and recorded from the
        drawn values, as `_attempt` and `_answer` would, with no `Call` made (most of a day's callers); any other
        becomes a call and goes on as in `_attempt`."""
        call_id, queue, patience, handle, wrap = caller
        now = self.env._now
        if not queue.entry_checks:
            solo = queue.solo
            if solo is not None:
                agent = solo.idle.popitem(last=False)[0] if solo.idle else None
            else:
                agent = self.router.find_agent(queue.agent_tiers)
            if agent is not None:  # `_answer` written inline, the caller answered on arrival
                index = queue.index
                talk = handle * agent.group.speed[index]
                if agent.assist is not None:
                    talk *= agent.assist[index]
                if agent.learning is not None:
                    talk *= agent.learning.multiplier(agent.handled)
                    agent.handled += 1
                self._write_call(
                    pack_call_row(
                        call_id,
                        index,
                        1.0,  # the first attempt
                        now,
                        now,
                        now + talk,
                        talk,
                        wrap,
                        ANSWERED_VALUE,
                        agent.index,
                        DIRECT_VALUE,
                        0.0,
                    )
                )
                self.env.at(talk + wrap, self._on_ready, agent)
                return
            call = Call(call_id, queue, 1, patience, handle, wrap)
            call.arrival = now
            self._wait_or_callback(call, now)
            return
        self._attempt(Call(call_id, queue, 1, patience, handle, wrap))

    def _to_agents(self, call: Call, now: float) -> None:
        """Answer the caller at once if an agent is free, else queue them (or call them back later)."""
        queue = call.queue
        solo = queue.solo  # one group answers first: its longest idle, no tier search (+4% on Erlang-A)
        if solo is not None:
            if solo.idle:
                self._serve(solo.idle.popitem(last=False)[0], call, now)
                return
        else:
            agent = self.router.find_agent(queue.agent_tiers)
            if agent is not None:
                self._serve(agent, call, now)
                return
        self._wait_or_callback(call, now)

    def _wait_or_callback(self, call: Call, now: float) -> None:
        """Nobody is free: the caller takes a callback if offered one, else waits."""
        queue = call.queue
        if queue.callbacks is not None and self.bot_assist_callbacks.takes_callback(call, now):
            return
        if queue.behaviour is not None and not self._joins(call, now):
            return  # balked (`engine.behaviour`)
        if queue.lazy_patience:
            call.deadline = now + call.patience
        elif call.patience < INF:
            self.env.at(call.patience, self._patience, call)
        queue.waiting.append(call)
        for delay, tiers in queue.delayed:
            self.env.at(delay, self._overflow, Overflow(call, tiers))

    def _wait_unless_called_back(self, call: Call, now: float) -> None:
        """`_wait_or_callback` where no call type has balking nor a maximum wait (bound in its place): the same,
        without their check on every waiting caller."""
        queue = call.queue
        if queue.callbacks is not None and self.bot_assist_callbacks.takes_callback(call, now):
            return
        if queue.lazy_patience:
            call.deadline = now + call.patience
        elif call.patience < INF:
            self.env.at(call.patience, self._patience, call)
        queue.waiting.append(call)
        for delay, tiers in queue.delayed:
            self.env.at(delay, self._overflow, Overflow(call, tiers))

    def _patience(self, call: Call) -> None:
        if call.state == WAITING:
            self._record_unanswered(call, ABANDONED)
            self._maybe_retry(call, self.env.now, blocked=False)

    def _record_unanswered(self, call: Call, outcome: int, when: float | None = None) -> None:
        """Record a caller leaving unanswered (now, or at `when`); lazy hang-ups are recorded at their deadline."""
        call.state = GONE
        if call.queue.trunked and outcome != BLOCKED:
            self.in_system -= 1
        if when is None:
            when = self.env.now
        if call.deadline <= when:
            when, outcome = call.deadline, ABANDONED
        self.records.call(call, outcome, when)

    def _hung_up(self, call: Call) -> None:
        """The router found a caller whose patience ran out while waiting (lazy abandonment)."""
        self.records.call(call, ABANDONED, call.deadline)

    def _overflow(self, overflow: Overflow) -> None:
        call, tiers = overflow
        now = self.env._now
        if call.state == WAITING and call.deadline > now:
            if call.queue.blended or call.queue.deferred:
                self._overflow_channel(call, tiers, now)
                return
            agent = self.router.find_agent(tiers)
            if agent is not None:
                call.state = SERVED
                self._serve(agent, call, now)

    def _maybe_retry(self, call: Call, now: float, blocked: bool, balked: bool = False) -> None:
        """A caller blocked, hanging up or balking may call again, if before closing (or, by the retrial rule, at
        the next opening: `engine.behaviour`)."""
        source = self.sources[call.queue.index]
        retry = source.retry(call.attempt, blocked, balked)
        if retry is None:
            return
        if now + retry.delay < self.close_time:
            self.env.at(retry.delay, self._attempt, self._retrial(call, retry, now + retry.delay))
        elif source.retrial.after_closing:
            due = self._next_opening(now + retry.delay)
            if due is not None:
                self.env.at(due - now, self._attempt, self._retrial(call, retry, due))

    # --- agents --------------------------------------------------------------------------------------

    def _serve(self, agent: Agent, call: Call, now: float) -> None:
        queue = call.queue
        # `agent.talk_time(call)` written inline: the hot path of every answered call (chat sessions use the method)
        talk = call.handle * agent.group.speed[queue.index]
        if agent.assist is not None:
            talk *= agent.assist[queue.index]
        if agent.learning is not None:
            talk *= agent.learning.multiplier(agent.handled)
            agent.handled += 1
        if self.repeats is not None:
            self.repeats.answered(agent, call, now + talk)
        wrap = call.wrap
        if self.track_jobs:  # recorded when the agent is free, unless an outage cuts the call off first
            agent.job = Job(call, now, talk, wrap, now + talk, now + (talk + wrap))
        else:  # `records.call` written inline
            self._write_call(
                pack_call_row(
                    call.call_id,
                    queue.index,
                    call.attempt,
                    call.arrival,
                    now,
                    now + talk,
                    talk,
                    wrap,
                    ANSWERED_VALUE,
                    agent.index,
                    call.path,
                    call.bot,
                )
            )
        self.env.at(talk + wrap, self._on_ready, agent)
        if queue.trunked and call.path != CALLBACK:
            self.env.at(talk, self._release, call)

    def _answer(self, agent: Agent, call: Call, now: float) -> None:
        """`_serve` where no call type has first-contact resolution or transfers and no outage cuts calls off (bound
        in its place, as in most centres): the same, without those features' checks on every answered call."""
        queue = call.queue
        talk = call.handle * agent.group.speed[queue.index]
        if agent.assist is not None:
            talk *= agent.assist[queue.index]
        if agent.learning is not None:
            talk *= agent.learning.multiplier(agent.handled)
            agent.handled += 1
        wrap = call.wrap
        self._write_call(
            pack_call_row(
                call.call_id,
                queue.index,
                call.attempt,
                call.arrival,
                now,
                now + talk,
                talk,
                wrap,
                ANSWERED_VALUE,
                agent.index,
                call.path,
                call.bot,
            )
        )
        self.env.at(talk + wrap, self._on_ready, agent)
        if queue.trunked and call.path != CALLBACK:
            self.env.at(talk, self._release, call)

    def _release(self, call: Call) -> None:
        """The end of talk frees the caller's trunk line (a call cut off by an outage freed it at the cut)."""
        if call not in self.outages.cut_off:
            self.in_system -= 1

    def _line_freed_by_cut(self, call: Call) -> None:
        if call.queue.trunked and call.path != CALLBACK:
            self.in_system -= 1

    def _log_out(self, agent: Agent, now: float) -> None:
        """An agent leaves; after closing, callers nobody is left to serve are let go as unserved."""
        self.workforce.log_out(agent, now)
        if self.closing:
            for queue in agent.group.live_queues:
                if not queue.staffed:
                    self._let_go(queue, UNSERVED)

    def _callers_wait(self, group) -> bool:
        """Whether a caller of the group's skills, or any callback, is still waiting."""
        return any(
            call.state == WAITING for queue in group.live_queues + self.router.callback_queues for call in queue.waiting
        )

    def _leave_after_closing(self, agent: Agent, now: float) -> None:
        """An agent kept off the phones by an outage after closing, with nobody left to serve, logs out."""
        if agent.leaving and agent.shift is None:
            self.workforce.plan_agent_leaves(agent)
        self._log_out(agent, now)

    def _let_go(self, queue, outcome: int, when: float | None = None) -> None:
        """Every caller still waiting in a queue leaves now, or at `when` (or at their hang-up time, if earlier); a
        contact that arrived after `when` (an item made of a message left after the last closing) leaves at its
        arrival, never before it."""
        for call in queue.waiting:
            if call.state == WAITING:
                self._record_unanswered(call, outcome, when if when is None else max(when, call.arrival))
        queue.waiting.clear()

    def _ready_after_job(self, agent: Agent) -> None:
        """`_ready` where outages may cut calls off: a ready event made stale by a cut is ignored, and the call the
        agent has just finished is recorded as answered."""
        stale = agent.stale_ready_times
        if stale and self.env.now in stale:
            stale.remove(self.env.now)
            return
        job = agent.job
        if job is not None:
            agent.job = None
            self.records.call(job.call, ANSWERED, job.talk_end, job.answer, job.talk, job.wrap, agent.index)
        self._ready(agent)

    def _ready(self, agent: Agent) -> None:
        """An agent is free for work: after a call and its wrap-up, on logging in, or at closing."""
        now = self.env._now  # not the `now` property: the hot path of every freed agent
        if agent.leaving:
            if agent.shift is None:
                self.workforce.plan_agent_leaves(agent)
            self._log_out(agent, now)
            return
        if agent.pending:
            self.workforce.start_activity(agent, agent.pending.pop(0), now)
            return
        group = agent.group
        if group.down_outages:
            if self.closing and not self._callers_wait(group):
                self._leave_after_closing(agent, now)
            else:
                group.blocked[agent] = None
            return
        only = group.only_queue  # one-skill group skips the router: +3% on Erlang-A, +2% multi-skill
        if only is not None and not only.waiting and not self.closing:
            agent.idle_since = now
            group.idle[agent] = None
            return
        if group.mixed:
            self._ready_mixed(agent, now)
            return
        call = self.router.next_call(group.take_tiers, now, self.closing)
        if call is not None:
            self._serve(agent, call, now)
        elif self.closing:
            self._log_out(agent, now)
        else:
            agent.idle_since = now
            group.idle[agent] = None
