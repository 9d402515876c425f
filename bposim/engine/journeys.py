"""Transfers at run time: a caller passed on after an agent's talk becomes the next leg of one journey.

When an agent of a call type with `transfers` answers, a draw from the call type's own stream ("billing/transfers")
says whether the caller will be passed on after the talk, and to which call type (the probabilities of the serving
group). The talk ends; then:

- no transfer: the call goes on as any other (`model.Centre._serve`, untouched);
- `cold`: the agent wraps up at once, as after any call; the caller becomes a new leg in the target's queue;
- `warm`: the agent stays on the line (busy, no wrap-up yet) while the caller, a new leg, waits for an agent of the
  target. When one answers, both talk for the `conference` time; then the first agent leaves and wraps up, and the
  second goes on with its own talk. If the caller hangs up meanwhile (or is let go at closing), the first agent is
  released then.

A leg is a `Leg`: a call with the same call_id and attempt, the target's patience, handle time and wrap-up (drawn
from the target's stream of legs, "support/legs", so the target's own callers keep their draws), no bot, no
callback offer and no retrial. When nobody of the target is free: `queue` (the caller waits, and may hang up) or
`disconnect` (recorded `disconnected` at once); after closing a leg nobody serves is let go as unserved. A caller's
trunk line is held through the whole journey and freed when its last leg ends. The first agent's row ends when it
leaves the line: for a warm transfer, its handle_seconds take in the hold and the conference; the second agent's
row starts at its answer and its handle_seconds take in the conference.

Records: a leg's row carries its leg number in its attempt (`attempt + LEG_STRIDE × (leg − 1)`, decoded into the
`attempt` and `leg` columns by `bposim.columns`), so the engine's row of a call keeps its fields; each leg from the
second on also leaves a `LegRow` (how it was passed on, its conference). An outage that drops calls may cut a leg's
talk (then no transfer follows), never a caller on hold.

First-contact resolution (`engine.resolution`) is drawn once a journey, on its last leg: a leg that will be passed
on draws none; the leg that ends the journey answered draws with its own call type's rule and its group's chance.

=====================  ================================  ========================  =================================
event                  handler                           payload                   what it does
=====================  ================================  ========================  =================================
talk before a          JourneyWork._pass_on              journeys.Handover         the caller becomes the next leg:
  transfer ends                                                                    to an agent, the queue, or cut
                                                                                   off
=====================  ================================  ========================  =================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bposim.distributions import Distribution
from bposim.engine.records import ANSWERED, CALLBACK, DISCONNECTED, UNSERVED
from bposim.engine.routing import SERVED, Agent, Call, CallQueue, Job, Overflow
from bposim.scenario import Scenario

if TYPE_CHECKING:
    from collections.abc import Callable

    from bposim.engine.model import Centre

INF = math.inf
COLD, WARM = 0, 1
TRANSFER_MODES = ("cold", "warm")
LEG_STRIDE = 1 << 16  # a leg's attempt as recorded: attempt + LEG_STRIDE × (leg − 1); attempts stay far below it


class Route(NamedTuple):
    """One transfer of a call type: the target's queue, COLD or WARM, the conference's length (warm), whether a
    caller nobody of the target is free for is cut off, and the chance per serving group (by group index)."""

    target: CallQueue
    mode: int
    conference: Distribution | None
    disconnect: bool
    chance: list[float]


@dataclass(frozen=True)
class TransferDesk:
    """A call type's transfers and its streams: which transfer an answered caller takes, and conference times."""

    routes: list[Route]
    rng: np.random.Generator
    conference_rng: np.random.Generator

    def route_for(self, group: int) -> Route | None:
        """The transfer a caller served by group number `group` will take after the talk, or None (one draw)."""
        draw = self.rng.random()
        for route in self.routes:
            draw -= route.chance[group]
            if draw < 0:
                return route
        return None


@dataclass(frozen=True)
class LegSource:
    """What a call type's legs are drawn from: its patience (None: never hangs up), handle time and wrap-up (None:
    none), and the stream of its legs."""

    patience: Distribution | None
    handle: Distribution
    wrap: Distribution | None
    rng: np.random.Generator

    def draw(self) -> tuple[float, float, float]:
        rng = self.rng
        patience = float(self.patience.sample(rng, 1)[0]) if self.patience is not None else INF
        handle = float(self.handle.sample(rng, 1)[0])
        wrap = float(self.wrap.sample(rng, 1)[0]) if self.wrap is not None else 0.0
        return patience, handle, wrap


class Hold(NamedTuple):
    """A first agent on the line during a warm transfer: who, on which call, answered when, and its wrap-up."""

    agent: Agent
    call: Call
    answer: float
    wrap: float


class Handover(NamedTuple):
    """The talk before a transfer ends: the call, the transfer it takes, and the first agent holding on (warm)."""

    call: Call
    route: Route
    hold: Hold | None


class LegRow(NamedTuple):
    """A leg from the second on: its call_id and attempt as recorded (with the leg number), how it was passed on
    (COLD or WARM) and its conference seconds (0 for cold)."""

    call_id: int
    attempt: int
    mode: int
    conference: float


LEG_FIELDS = LegRow._fields


class Leg(Call):
    """A caller passed on: a call in the target's queue, with its leg number (2, 3, ...), how it was passed on, the
    conference it opens with (warm) and the first agent holding on for it (None: nobody, or no longer)."""

    __slots__ = ("leg", "mode", "conference", "holder")

    def __init__(self, previous: Call, queue: CallQueue, leg: int, draws: tuple[float, float, float]):
        patience, handle, wrap = draws
        attempt = previous.attempt % LEG_STRIDE + LEG_STRIDE * (leg - 1)
        super().__init__(previous.call_id, queue, attempt, patience, handle, wrap)
        self.leg = leg
        self.mode = COLD
        self.conference = 0.0
        self.holder: Hold | None = None


def transfer_desks(
    scenario: Scenario, queues: list[CallQueue], rng: Callable[[str], np.random.Generator]
) -> list[TransferDesk | None]:
    """Per call type, its transfer desk (None: it passes nobody on)."""
    index = {queue.name: queue for queue in queues}
    groups = [group.name for group in scenario.agent_groups]
    desks: list[TransferDesk | None] = []
    for call_type in scenario.call_types:
        if not call_type.transfers:
            desks.append(None)
            continue
        routes = [
            Route(
                index[transfer.to],
                WARM if transfer.mode == "warm" else COLD,
                transfer.conference,
                transfer.when_nobody_free == "disconnect",
                [transfer.probability_for(group) for group in groups],
            )
            for transfer in call_type.transfers
        ]
        desks.append(TransferDesk(routes, rng(f"{call_type.name}/transfers"), rng(f"{call_type.name}/conference")))
    return desks


def leg_sources(scenario: Scenario, rng: Callable[[str], np.random.Generator]) -> list[LegSource | None]:
    """Per call type some transfer leads to, the source of its legs (None for the others)."""
    targets = {transfer.to for call_type in scenario.call_types for transfer in call_type.transfers}
    return [
        LegSource(ct.patience, ct.handle_time, ct.after_call_work, rng(f"{ct.name}/legs"))
        if ct.name in targets
        else None
        for ct in scenario.call_types
    ]


class JourneyWork:
    """Transfer handlers of a `model.Centre` (mixed in). A centre with transfers serves through `_serve_journey`
    and records callers leaving unanswered through `_unanswered_journey`; one without never enters here."""

    def _serve_journey(self: Centre, agent: Agent, call: Call, now: float) -> None:
        """An agent answers: a leg that a first agent holds on for opens with the conference; a call that will be
        passed on talks, then is handed over (no resolution drawn: its journey goes on); any other is served as
        usual."""
        desk = self.transfer_desks[call.queue.index]
        route = desk.route_for(agent.group.index) if desk is not None else None
        hold = call.holder if type(call) is Leg else None
        if hold is None and route is None:
            type(self)._serve(self, agent, call, now)
            return
        talk = agent.talk_time(call)
        if hold is not None:
            call.holder = None
            talk += call.conference
            self._end_hold(hold, now + call.conference)
        if route is None and self.repeats is not None:  # the journey ends with this leg: resolved or not
            self.repeats.answered(agent, call, now + talk)
        self._talk(agent, call, now, talk, route)

    def _talk(self: Centre, agent: Agent, call: Call, now: float, talk: float, route: Route | None) -> None:
        """The agent talks `talk` seconds; then wraps up (no transfer, or cold), or holds on (warm)."""
        wrap = call.wrap
        if route is not None and route.mode == WARM:
            if self.track_jobs:  # an outage may cut the talk; never the hold after it
                agent.job = Job(call, now, talk, wrap, now + talk, INF)
            self.env.at(talk, self._pass_on, Handover(call, route, Hold(agent, call, now, wrap)))
            return
        if self.track_jobs:
            agent.job = Job(call, now, talk, wrap, now + talk, now + (talk + wrap))
        else:
            self.records.call(call, ANSWERED, now + talk, now, talk, wrap, agent.index)
        self.env.at(talk + wrap, self._on_ready, agent)
        if route is not None:
            self.env.at(talk, self._pass_on, Handover(call, route, None))
        elif call.queue.trunked and call.path != CALLBACK:
            self.env.at(talk, self._release, call)

    def _pass_on(self: Centre, handover: Handover) -> None:
        """The talk is over: the caller becomes the next leg (unless an outage cut the talk off)."""
        call, route, hold = handover
        now = self.env.now
        if self.track_jobs:
            if call in self.outages.cut_off:
                return
            if hold is not None:
                hold.agent.job = None
        number = call.leg + 1 if type(call) is Leg else 2
        leg = Leg(call, route.target, number, self.leg_sources[route.target.index].draw())
        leg.arrival = now
        leg.mode = route.mode
        if route.mode == WARM:
            leg.conference = float(route.conference.sample(self.transfer_desks[call.queue.index].conference_rng, 1)[0])
            leg.holder = hold
        self.legs.append(LegRow(leg.call_id, leg.attempt, leg.mode, leg.conference))
        if call.path == CALLBACK and leg.queue.trunked:
            self.in_system += 1  # a customer called back holds no line; passed on, it waits on one
        self._leg_arrives(leg, route, now)

    def _leg_arrives(self: Centre, leg: Leg, route: Route, now: float) -> None:
        """A leg reaches its queue: an agent free takes it; else it is cut off (`disconnect`), let go (after
        closing, with nobody to serve it) or waits."""
        queue = leg.queue
        tiers = queue.agent_tiers
        agent = self.router.find_agent(tiers)
        if agent is None and queue.interrupts:
            agent = self._interrupt(tiers, now)
        if agent is not None:
            leg.state = SERVED
            self._serve(agent, leg, now)
        elif route.disconnect:
            self._record_unanswered(leg, DISCONNECTED)
        elif self.closing and (self.clear_at_close or not queue.staffed):
            self._record_unanswered(leg, UNSERVED)
        else:
            self._leg_waits(leg, now)

    def _leg_waits(self: Centre, leg: Leg, now: float) -> None:
        """The leg joins its queue, may hang up (at a patience event when a first agent holds on for it, so the agent
        is freed then) and may go to more groups after their overflow delays."""
        queue = leg.queue
        if leg.holder is None and queue.lazy_patience:
            leg.deadline = now + leg.patience
        elif leg.patience < INF:
            self.env.at(leg.patience, self._patience, leg)
        queue.waiting.append(leg)
        for delay, tiers in queue.delayed:
            self.env.at(delay, self._overflow, Overflow(leg, tiers))

    def _unanswered_journey(self: Centre, call: Call, outcome: int, when: float | None = None) -> None:
        """`_record_unanswered`, and a first agent holding on for the caller leaves the line then."""
        type(self)._record_unanswered(self, call, outcome, when)
        if type(call) is Leg and call.holder is not None:
            hold = call.holder
            call.holder = None
            self._end_hold(hold, self.env.now if when is None else when)

    def _end_hold(self: Centre, hold: Hold, end: float) -> None:
        """A first agent leaves the line at `end` (now, or after a conference): its call is recorded from its answer
        (the talk, the hold and the conference), and it is free after its wrap-up."""
        agent, call, answer, wrap = hold
        self.records.call(call, ANSWERED, end, answer, end - answer, wrap, agent.index)
        self.env.at(end - self.env.now + wrap, self._on_ready, agent)
