"""The router: per-call-type queues, idle agents per group, and the two matching decisions.

A caller who arrives is matched to an idle agent of the best-priority groups that hold its skill (by the
scenario's agent-selection policy); an agent who frees takes a waiting call by the call-selection policy.
Waiting lines are FIFO deques with lazy removal: a caller who abandons is only marked, and skipped later.
Idle agents sit in an OrderedDict per group, so the first key is the agent idle longest, taken in constant time
whatever the group's size (a plain dict would scan past the slots its taken agents left at the front).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bposim.engine.records import DIRECT, PATHS  # noqa: F401 (PATHS: also read from here)
from bposim.scenario import Callbacks, Scenario, SelfService
from bposim.scenario.call_types import DEFERRED_CHANNELS

if TYPE_CHECKING:
    from bposim.engine.agents import Activity

WAITING, SERVED, GONE = 0, 1, 2


class Call:
    """One call attempt while it is in the system.

    `deadline` is when the caller hangs up if still waiting, for queues whose abandonment is lazy (see
    CallQueue.lazy_patience); otherwise infinity, and a patience event does the hanging up. `path` says how
    the caller got here (straight, through the bot, or as a callback) and `bot` the seconds spent in the bot.
    """

    __slots__ = (
        "call_id",
        "queue",
        "attempt",
        "patience",
        "handle",
        "wrap",
        "arrival",
        "deadline",
        "state",
        "path",
        "bot",
    )

    def __init__(self, call_id: int, queue: CallQueue, attempt: int, patience: float, handle: float, wrap: float):
        self.call_id = call_id
        self.queue = queue
        self.attempt = attempt
        self.patience = patience
        self.handle = handle
        self.wrap = wrap
        self.arrival = math.nan
        self.deadline = math.inf
        self.state = WAITING
        self.path = DIRECT
        self.bot = 0.0


class Job(NamedTuple):
    """The call an agent is on, kept while an outage may cut calls off: answered at `answer`, talking `talk`
    seconds until `talk_end`, then wrapping up `wrap` seconds until `free_at`."""

    call: Call
    answer: float
    talk: float
    wrap: float
    talk_end: float
    free_at: float


class ChatSession(NamedTuple):
    """A chat session an agent holds: answered at `answer`, `talk` seconds (stretched by the sessions held with it
    at its start), then `wrap` seconds of wrap-up, after which the agent's slot is free."""

    agent: Agent
    call: Call
    answer: float
    talk: float
    wrap: float


class Overflow(NamedTuple):
    """A waiting caller's overflow delay has passed: the agent groups of `tiers` may now take the call."""

    call: Call
    tiers: list[list[Group]]


class Bot(NamedTuple):
    """Self-service in front of a call type: its settings and random stream."""

    spec: SelfService
    rng: np.random.Generator


class CallbackDesk(NamedTuple):
    """Callbacks offered to a call type: the queue of callers to call back, the settings, the call type's mean
    handle time (for the wait estimate) and the acceptance stream."""

    queue: CallQueue
    spec: Callbacks
    mean_handle_seconds: float
    rng: np.random.Generator


class Agent:
    """One agent: who they are, their shift if rostered, and whether logged in, idle or on their way out.

    `assist` holds the handle-time multipliers per call type of an agent with AI assist (else None).
    `stale_ready_times` are when calls an outage cut off would have freed the agent: the ready events then are
    ignored. `piece` is the stretch of deferred work the agent is on (None: none); `block_end` when the agent's
    deferred block ends (minus infinity: not in one).
    """

    __slots__ = (
        "index",
        "name",
        "group",
        "shift",
        "slot",
        "idle_since",
        "logged_in",
        "leaving",
        "login_time",
        "planned_end",
        "session",
        "pending",
        "learning",
        "handled",
        "assist",
        "job",
        "stale_ready_times",
        "sessions",
        "chats",
        "piece",
        "block_end",
    )

    def __init__(
        self,
        index: int,
        name: str,
        group: Group,
        shift=None,
        slot: int = 0,
        assist: list[float] | None = None,
    ):
        self.index = index
        self.name = name
        self.group = group
        self.shift = shift
        self.slot = slot
        self.idle_since = 0.0
        self.logged_in = False
        self.leaving = False
        self.login_time = 0.0
        self.planned_end = math.inf
        self.session = 0
        self.pending: list[Activity] = []
        self.learning = None
        self.handled = 0
        self.assist = assist
        self.job: Job | None = None
        self.stale_ready_times: list[float] = []
        self.sessions = 0
        self.chats: dict[ChatSession, None] = {}
        self.piece = None
        self.block_end = -math.inf

    def talk_time(self, call: Call, stretch: float = 1.0, counted: bool = True) -> float:
        """The time the agent talks (or works) on `call`: its drawn handle time at the group's current speed for
        its type, times `stretch` (a chat held with others), the agent's AI assist and learning curve (which counts
        the contact as handled, unless not `counted`: an item taken up again)."""
        index = call.queue.index
        talk = call.handle * self.group.speed[index]
        if stretch != 1.0:
            talk *= stretch
        if self.assist is not None:
            talk *= self.assist[index]
        if self.learning is not None:
            talk *= self.learning.multiplier(self.handled)
            if counted:
                self.handled += 1
        return talk


class Group:
    """An agent group at run time: its idle agents and the order in which it takes waiting calls.

    `only_queue` is the one queue the group takes calls from, when there is exactly one (a fast path).
    `staffed` counts the plan agents logged in and staying; `to_leave` the busy plan agents still to log out
    after a fall in the plan (whoever frees first), and `drop_times` when each of those falls came.
    `down_outages` counts the outages on now that keep the group's agents off the phones.

    Chat and deferred work: `mixed` says whether the group holds any chat or email/case skill (its freed agents
    take the slower, channel-aware path). `cap[q]` is how many chat sessions an agent may hold when starting one
    of call type q; `holding[n]` lists the agents holding n sessions (1 <= n < max_sessions), oldest first.
    `deferred_tiers` are the email/case queues it takes items from, best first; `live_takes` every live queue it
    takes from, with its overflow delay; `on_deferred` counts its agents working an item, `reserve` the agents to
    keep on items per interval (None: no reserve); `recheck_at` when its idle agents look at the backlog again.
    `working` holds its agents working an interruptible item (with their piece of work), by the piece's start;
    `reserved` its agents in a deferred block with no item to work, idle longest first.
    """

    def __init__(self, index: int, name: str):
        self.index = index
        self.name = name
        self.idle: OrderedDict[Agent, None] = OrderedDict()
        self.blocked: dict[Agent, None] = {}
        self.down_outages = 0
        self.agents: list[Agent] = []
        self.staffed = 0
        self.to_leave = 0
        self.drop_times: deque[float] = deque()
        self.proficiency: list[float] = []
        self.speed: list[float] = []
        self.only_queue: CallQueue | None = None
        self.queues: list[CallQueue] = []
        self.take_tiers: list[list[tuple[CallQueue, float]]] = []
        self.mixed = False
        self.cap: list[int] = []
        self.max_sessions = 1
        self.holding: list[OrderedDict[Agent, None]] = []
        self.chat_tiers: list[list[tuple[CallQueue, float]]] = []
        self.deferred_tiers: list[list[tuple[CallQueue, float]]] = []
        self.live_takes: list[tuple[CallQueue, float]] = []
        self.live_queues: list[CallQueue] = []
        self.on_deferred = 0
        self.reserve: list[int] | None = None
        self.recheck_at = math.inf
        self.working: dict[Agent, object] = {}
        self.reserved: OrderedDict[Agent, None] = OrderedDict()


class CallQueue:
    """A call type at run time: its waiting line and the groups that serve it, best priority first.

    `staffed` counts the logged-in agents who hold the skill. `solo` is the one group that takes its calls at
    once, when there is exactly one (a fast path). With `lazy_patience`, a caller whose patience ran out is
    found and recorded when it reaches the head of the line, at its true hang-up time, instead of by an
    event: exact whenever nothing else depends on the moment of hanging up (no retrial to schedule, no trunk
    line to free). `entry_checks` says whether an arriving caller may meet a busy signal or the bot (a trunk
    limit, a bot, an outage that can shut the door, or chat); `door_closures` counts the outages on now that give
    its callers a busy signal, and `bot_outages` those that send its callers past the bot. `chat` and `deferred`
    say the channel (neither: voice); `trunked` whether its callers hold a trunk line (voice with a trunk limit);
    `stretch` is a chat session's extra handle time per other session held with it. `interruptible`: its items
    may be stopped for a live contact; `interrupts`: its live contacts may stop such items, when some group that
    serves them holds an interruptible skill; `blended`: a chat, or a voice call that interrupts (the paths of
    `engine.channels`).
    """

    def __init__(self, index: int, name: str, priority: int, channel: str = "voice"):
        self.index = index
        self.name = name
        self.priority = priority
        self.waiting: deque[Call] = deque()
        self.agent_tiers: list[list[Group]] = []
        self.delayed: list[tuple[float, list[list[Group]]]] = []
        self.solo: Group | None = None
        self.lazy_patience = True
        self.staffed = 0
        self.door_closures = 0
        self.entry_checks = True
        self.bot: Bot | None = None
        self.bot_outages = 0
        self.callbacks: CallbackDesk | None = None
        self.chat = channel == "chat"
        self.deferred = channel in DEFERRED_CHANNELS
        self.trunked = False
        self.stretch = 0.0
        self.interruptible = False
        self.interrupts = False
        self.blended = self.chat
        self.behaviour = None  # balking, a maximum wait: `engine.behaviour.QueueBehaviour`
        self.shares = None  # site shares: the sites' lines and the allotment, `engine.site_shares.SiteShares`


class Router:
    """Matches callers and agents; knows nothing of time beyond the `now` it is given.

    It builds the queues whole, each with its bot and callback desk, and the groups with the order in which they
    take waiting calls (callbacks last).
    """

    def __init__(
        self,
        scenario: Scenario,
        rng: Callable[[str], np.random.Generator],
        abandoned: Callable[[Call], None],
    ):
        self.abandoned = abandoned
        self.random = scenario.routing.agent_selection == "random"
        self.rng = rng("routing") if self.random else None  # a stream only when drawn from (it costs ~20 µs)
        self.queues = [CallQueue(i, ct.name, ct.priority, ct.channel) for i, ct in enumerate(scenario.call_types)]
        by_name = {q.name: q for q in self.queues}
        self.groups = [Group(i, g.name) for i, g in enumerate(scenario.agent_groups)]
        servers: dict[str, list[tuple[tuple, float, Group]]] = {q.name: [] for q in self.queues}
        for group, spec in zip(self.groups, scenario.agent_groups, strict=True):
            group.proficiency = [1.0] * len(self.queues)
            group.cap = [spec.max_concurrency] * len(self.queues)
            group.max_sessions = spec.max_concurrency
            takes, items = [], []
            for skill in spec.skills:
                queue = by_name[skill.call_type]
                group.proficiency[queue.index] = skill.proficiency
                if skill.max_concurrency is not None:
                    group.cap[queue.index] = skill.max_concurrency
                group.queues.append(queue)
                group.mixed = group.mixed or queue.chat or queue.deferred
                rank = (skill.priority,)
                if scenario.routing.agent_selection == "most_proficient":
                    rank = (skill.priority, skill.proficiency)
                servers[queue.name].append((rank, skill.delay_seconds, group))
                take = (_take_rank(scenario.routing.call_selection, skill.priority, queue), queue, skill)
                (items if queue.deferred else takes).append(take)
            group.speed = list(group.proficiency)
            group.take_tiers = _take_tiers(takes)
            group.deferred_tiers = _take_tiers(items)
            group.chat_tiers = [chats for tier in group.take_tiers if (chats := [t for t in tier if t[0].chat])]
            group.holding = [OrderedDict() for _ in range(group.max_sessions)]
            if len(takes) == 1 and not items and takes[0][2].delay_seconds == 0 and not group.mixed:
                group.only_queue = takes[0][1]
            if spec.deferred_reserve is not None:
                group.reserve = spec.deferred_reserve.per_interval_counts(scenario.horizon.intervals)
        for queue in self.queues:
            route(queue, servers[queue.name], self.random)
            call_type = scenario.call_types[queue.index]
            retrial = call_type.retrial
            no_retrial = retrial is None or retrial.after_abandon == 0
            queue.trunked = scenario.trunk_lines is not None and not (queue.chat or queue.deferred)
            queue.lazy_patience = no_retrial and (scenario.trunk_lines is None or queue.chat or queue.deferred)
            queue.stretch = call_type.stretch
            queue.interruptible = call_type.interruptible
        for bot in scenario.technology.self_service:
            by_name[bot.call_type].bot = Bot(bot, rng(f"{bot.call_type}/bot"))
        self.callback_queues: list[CallQueue] = []
        callbacks = scenario.technology.callbacks
        if callbacks is not None and callbacks.enabled:
            self._set_up_callbacks(scenario, callbacks, rng)
        closable = _doors_that_may_close(scenario)
        for queue in self.queues:
            queue.entry_checks = (
                queue.trunked or queue.bot is not None or queue.name in closable or queue.chat
            ) and not queue.deferred
        for group in self.groups:
            group.live_queues = [queue for queue in group.queues if not queue.deferred]
            group.live_takes = [take for tier in group.take_tiers for take in tier]
        _mark_interrupting(self.queues)

    def _set_up_callbacks(
        self, scenario: Scenario, callbacks: Callbacks, rng: Callable[[str], np.random.Generator]
    ) -> None:
        """A callback desk for each call type offering callbacks; the groups that hold the skill make its
        callbacks when no live caller of theirs waits."""
        means = {ct.name: ct.handle_time.mean for ct in scenario.call_types}
        for queue in self.queues:
            if queue.chat or queue.deferred:
                continue  # callbacks are voice only
            if callbacks.call_types is not None and queue.name not in callbacks.call_types:
                continue
            callback_queue = CallQueue(queue.index, queue.name, queue.priority)
            callback_queue.trunked = queue.trunked
            queue.callbacks = CallbackDesk(callback_queue, callbacks, means[queue.name], rng(f"{queue.name}/callbacks"))
            self.callback_queues.append(callback_queue)
            for group in self.groups:
                if queue in group.queues:
                    group.queues.append(callback_queue)
                    group.take_tiers.append([(callback_queue, 0.0)])
                    group.only_queue = None

    def find_agent(self, tiers: list[list[Group]], may: Callable[[Group], bool] | None = None) -> Agent | None:
        """Take the idle agent an arriving contact goes to, from the first tier that has one; `may(group)`, when
        given, says whether a group's idle agents may take it now (asked only of groups with idle agents)."""
        for tier in tiers:
            best = None
            if self.random:
                idle = [agent for group in tier if group.idle and (may is None or may(group)) for agent in group.idle]
                if idle:
                    best = idle[int(self.rng.integers(len(idle)))]
            elif len(tier) == 1:  # one group: its longest idle, taken at once
                idle = tier[0].idle
                if idle and (may is None or may(tier[0])):
                    return idle.popitem(last=False)[0]
                continue
            else:
                for group in tier:
                    if group.idle and (may is None or may(group)):
                        agent = next(iter(group.idle))
                        if best is None or agent.idle_since < best.idle_since:
                            best = agent
            if best is not None:
                del best.group.idle[best]
                return best
        return None

    def drop_gone(self, waiting: deque[Call], now: float) -> None:
        """Take off the head of a line the calls already served or gone, and those whose patience ran out by `now`
        (recorded as hang-ups), so that its head is a call still waiting."""
        while waiting:
            head = waiting[0]
            if head.state:
                waiting.popleft()
            elif head.deadline <= now:
                waiting.popleft()
                head.state = GONE
                self.abandoned(head)
            else:
                break

    def next_call(self, tiers: list[list[tuple[CallQueue, float]]], now: float, closing: bool) -> Call | None:
        """Take the waiting call a freed agent serves next from a group's `tiers` of queues (its `take_tiers`, or
        those of one channel), or None."""
        for tier in tiers:
            best = None
            for queue, delay in tier:
                waiting = queue.waiting
                while waiting:  # `drop_gone` written inline: every freed agent passes here (+4% on Erlang-A)
                    head = waiting[0]
                    if head.state:
                        waiting.popleft()
                    elif head.deadline <= now:
                        waiting.popleft()
                        head.state = GONE
                        self.abandoned(head)
                    else:
                        break
                if waiting:
                    head = waiting[0]
                    if delay and not closing and now - head.arrival < delay:
                        continue
                    if best is None or head.arrival < best.arrival:
                        best = head
            if best is not None:
                best.queue.waiting.popleft()
                best.state = SERVED
                return best
        return None

    def find_chat_slot(self, tiers: list[list[Group]], queue: CallQueue) -> Agent | None:
        """The agent a chat of `queue` goes to when nobody of `tiers` is idle: of the first tier that has one, the
        agent holding the fewest sessions with a slot free for this call type (the longest so loaded, on a tie),
        neither on their way out, nor with a break due, nor kept off by an outage."""
        q = queue.index
        for tier in tiers:
            best, fewest = None, math.inf
            for group in tier:
                if group.down_outages:
                    continue
                for sessions in range(1, min(group.cap[q], fewest)):
                    agent = next((a for a in group.holding[sessions] if not (a.leaving or a.pending)), None)
                    if agent is not None:
                        best, fewest = agent, sessions
                        break
            if best is not None:
                return best
        return None

    def next_chat(self, agent: Agent, now: float, closing: bool) -> Call | None:
        """Take the waiting chat an agent holding sessions starts next (only types whose cap it is under), or None."""
        group, sessions = agent.group, agent.sessions
        tiers = [under for tier in group.chat_tiers if (under := [t for t in tier if sessions < group.cap[t[0].index]])]
        return self.next_call(tiers, now, closing)

    def live_wait(self, group: Group, now: float) -> float | None:
        """None when no live contact (voice, chat, callback) of the group's skills waits; else the earliest time
        one of them may go to the group (its arrival plus the group's overflow delay for it). Hang-ups found at
        the heads of the lines on the way are recorded."""
        earliest = None
        for queue, delay in group.live_takes:
            waiting = queue.waiting
            self.drop_gone(waiting, now)
            if waiting and (earliest is None or waiting[0].arrival + delay < earliest):
                earliest = waiting[0].arrival + delay
        return earliest


def route(queue: CallQueue, servers: list[tuple[tuple, float, Group]], random: bool) -> None:
    """Give a queue the groups that serve it, each entry (rank, overflow delay, group): at once in tiers of equal
    rank, best first (one group alone, with idle-longest selection: its `solo`), and after each delay."""
    entries = sorted(servers, key=lambda item: (item[1], item[0]))
    immediate = [e for e in entries if e[1] == 0]
    queue.agent_tiers = _tiers(immediate)
    if len(immediate) == 1 and not random:
        queue.solo = immediate[0][2]
    for delay, same in groupby([e for e in entries if e[1] > 0], key=lambda item: item[1]):
        queue.delayed.append((delay, _tiers(list(same))))


def _mark_interrupting(queues: list[CallQueue]) -> None:
    """Mark the live queues whose contacts may stop interruptible items: some group serving them, at once or after
    an overflow delay, holds an interruptible email or case skill. A voice queue so marked takes the channel-aware
    path (its entry checks on)."""
    stoppable = {group for queue in queues if queue.interruptible for group in _groups_of(queue)}
    for queue in queues:
        if queue.deferred or not stoppable.intersection(_groups_of(queue)):
            continue
        queue.interrupts = True
        queue.blended = True
        queue.entry_checks = True


def _groups_of(queue: CallQueue) -> list[Group]:
    """Every group that serves a queue, at once or after an overflow delay."""
    tiers = [*queue.agent_tiers, *(tier for _, tiers in queue.delayed for tier in tiers)]
    return [group for tier in tiers for group in tier]


def _doors_that_may_close(scenario: Scenario) -> set[str]:
    """The call types whose front door some tool's outage can shut (an `arrivals_blocked` effect)."""
    every_type = [call_type.name for call_type in scenario.call_types]
    return {
        name
        for tool in scenario.outage_tools
        for effect in tool.effects
        if effect.type == "arrivals_blocked"
        for name in (effect.call_types if effect.call_types is not None else every_type)
    }


def _take_tiers(takes: list[tuple[tuple, CallQueue, object]]) -> list[list[tuple[CallQueue, float]]]:
    """The queues a group takes work from, grouped in tiers of equal rank, best first, each with its overflow delay."""
    takes = sorted(takes, key=lambda item: item[0])
    tiers = groupby(takes, key=lambda item: item[0])
    return [[(queue, skill.delay_seconds) for _, queue, skill in tier] for _, tier in tiers]


def _take_rank(policy: str, skill_priority: int, queue: CallQueue) -> tuple:
    if policy == "skill_priority":
        return (skill_priority, queue.priority)
    if policy == "longest_wait":
        return ()
    return (queue.priority,)


def _tiers(entries: list[tuple[tuple, float, Group]]) -> list[list[Group]]:
    entries = sorted(entries, key=lambda item: item[0])
    return [[group for _, _, group in tier] for _, tier in groupby(entries, key=lambda item: item[0])]
