"""First-contact resolution at run time: each answered contact of a call type with `resolution` is resolved or not,
and an unresolved customer may come back later as a repeat contact.

The draw is made when an agent takes the contact (a call or chat session when answered, an email or case item when
its work is done): resolved with the call type's probability, or its group's (`by_group`); with
`follows_proficiency` the chance of leaving it unresolved is multiplied by the agent's handle-time multiplier (skill
proficiency × learning curve, counted before this contact), capped at certainty; an agent using AI assist adds its
`resolution_uplift`; the result is kept within 0 and 1. An unresolved contact comes back with `repeat_probability`
as a new contact of the same call type (a new call_id, attempt 1, fresh patience, handle and wrap-up times), at the
end of the contact (talk end; an item's work end) plus `repeat_delay`, unless its chain already holds `max_repeats`
repeats. A repeat due while the centre is closed comes on the next open day, at a time drawn evenly over its open
hours; one due after the last closing is not made and is counted as carried out of the horizon. A repeat then
takes the normal path: the bot, busy signals, the queue, hanging up and retrials (same call_id, next attempt).

With transfers a contact is a journey, drawn once: `engine.journeys` draws none for a leg that will be passed on,
and the leg that ends the journey draws with its own call type's rule (its repeat comes to that call type and
repeats the journey's call_id). A draw is kept under the call_id and the attempt as recorded (with the leg), so
`resolution_columns` flags that leg alone.

Random numbers: per call type, one stream for the resolution draws ("support/resolution"), one for the repeats
("support/repeats": whether, and when on a closed day), and one each for the repeats' delays, patience, handle and
wrap-up times ("support/repeat_delay", ...; drawn a block at a time), so other sources draw as before.
A centre without `resolution` builds none of this, and its voice hot path checks a single attribute.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bposim.distributions import Distribution
from bposim.engine.routing import Agent, Call, CallQueue
from bposim.scenario import SECONDS_PER_DAY, Scenario
from bposim.scenario.resolution import Resolution

BLOCK = 256  # durations drawn at a time: one draw a repeat would cost a truncated law its set-up every time
ATTEMPT_KEY = 1 << 32  # a draw is kept under call_id × ATTEMPT_KEY + the attempt as recorded (a leg's, with transfers)


class Draws:
    """Durations of one distribution from a stream of their own, drawn a block at a time and handed out one by one
    (the same values, in the same order, as drawing them singly from a block-drawing stream); none without one."""

    def __init__(self, distribution: Distribution | None, rng: np.random.Generator, none: float):
        self.distribution = distribution
        self.rng = rng
        self.none = none
        self.values: list[float] = []
        self.at = 0

    def next(self) -> float:
        if self.distribution is None:
            return self.none
        if self.at == len(self.values):
            self.values = self.distribution.sample(self.rng, BLOCK).tolist()
            self.at = 0
        value = self.values[self.at]
        self.at += 1
        return value


@dataclass(slots=True, frozen=True)
class RepeatRule:
    """One call type's resolution, with its chance per agent group (by group index), the uniform streams of the
    resolution draws and of the repeats (whether, and when on a closed day), and the repeats' delays and times."""

    spec: Resolution
    by_group: list[float]
    live: bool
    resolution_rng: np.random.Generator
    repeats_rng: np.random.Generator
    delay: Draws
    patience: Draws
    handle: Draws
    wrap: Draws


class Repeats:
    """The resolution of answered contacts and the repeat contacts they bring; `resolved`, `repeat_of` and
    `carried` are read after the run (`resolution_columns`)."""

    def __init__(
        self,
        scenario: Scenario,
        queues: list[CallQueue],
        env,
        rng: Callable[[str], np.random.Generator],
        take_call_id: Callable[[], int],
        arrive_live: Callable[[Call], None],
        arrive_item: Callable[[Call], None],
    ):
        self.env = env
        self.queues = queues  # the call types' own queues: a callback's repeat calls the call type afresh
        self.take_call_id = take_call_id
        self.arrive_live = arrive_live
        self.arrive_item = arrive_item
        assist = scenario.technology.ai_assist
        self.uplift = assist.resolution_uplift if assist is not None and assist.enabled else 0.0
        self.rules: list[RepeatRule | None] = [_rule(scenario, ct, rng) for ct in scenario.call_types]
        horizon = scenario.horizon
        self.windows = [
            (
                day * SECONDS_PER_DAY + span.start * horizon.interval_seconds,
                day * SECONDS_PER_DAY + span.stop * horizon.interval_seconds,
            )
            for day in range(horizon.days)
            if (span := horizon.open_intervals(day))
        ]
        self.resolved: dict[int, bool] = {}  # call_id × ATTEMPT_KEY + attempt as recorded → resolved: the leg drawn
        self.repeat_of: dict[int, int] = {}  # a repeat's call_id → the call_id of the contact it repeats
        self.depth: dict[int, int] = {}  # a repeat's call_id → its place in its chain (1 = the first repeat)
        self.carried = [0] * len(scenario.call_types)  # repeats due after the last closing, per call type

    def answered(self, agent: Agent, call: Call, end: float) -> None:
        """An agent took `call` (its work ends at `end`): draw whether it is resolved, and its repeat if not."""
        index = call.queue.index
        rule = self.rules[index]
        if rule is None:
            return
        resolved = bool(rule.resolution_rng.random() < self._chance(rule, agent, index))
        self.resolved[call.call_id * ATTEMPT_KEY + call.attempt] = resolved
        depth = self.depth.get(call.call_id, 0)
        if resolved or depth >= rule.spec.max_repeats:
            return
        rng = rule.repeats_rng
        if rng.random() >= rule.spec.repeat_probability:
            return
        delay, patience, handle, wrap = rule.delay.next(), rule.patience.next(), rule.handle.next(), rule.wrap.next()
        when = self._open_time(end + delay, rng)
        if when is None:
            self.carried[index] += 1
            return
        repeat = Call(self.take_call_id(), self.queues[index], 1, patience, handle, wrap)
        self.repeat_of[repeat.call_id] = call.call_id
        self.depth[repeat.call_id] = depth + 1
        if rule.live:
            self.env.at(when - self.env.now, self.arrive_live, repeat)
        else:
            repeat.arrival = when
            self.env.at(when - self.env.now, self.arrive_item, repeat)

    def _chance(self, rule: RepeatRule, agent: Agent, index: int) -> float:
        """The chance this agent resolves a contact of the call type: the group's, moved by proficiency and
        learning (when the rule follows them) and by AI assist."""
        chance = rule.by_group[agent.group.index]
        if rule.spec.follows_proficiency:
            multiplier = agent.group.proficiency[index]
            if agent.learning is not None:
                multiplier *= agent.learning.multiplier(max(agent.handled - 1, 0))
            chance = 1.0 - min(1.0, (1.0 - chance) * multiplier)
        if agent.assist is not None:
            chance += self.uplift
        return min(1.0, max(0.0, chance))

    def _open_time(self, due: float, rng: np.random.Generator) -> float | None:
        """When a repeat due at `due` comes: then if the centre is open, else evenly over the next open day's hours;
        None after the last closing."""
        for opening, closing in self.windows:
            if due < closing:
                return due if due >= opening else opening + float(rng.random()) * (closing - opening)
        return None


def repeats_for(
    scenario: Scenario,
    queues: list[CallQueue],
    env,
    rng: Callable[[str], np.random.Generator],
    take_call_id: Callable[[], int],
    arrive_live: Callable[[Call], None],
    arrive_item: Callable[[Call], None],
) -> Repeats | None:
    """The resolution of a centre, or None when no call type has `resolution` (nothing drawn, nothing kept)."""
    if all(call_type.resolution is None for call_type in scenario.call_types):
        return None
    return Repeats(scenario, queues, env, rng, take_call_id, arrive_live, arrive_item)


def _rule(scenario: Scenario, call_type, rng: Callable[[str], np.random.Generator]) -> RepeatRule | None:
    spec = call_type.resolution
    if spec is None:
        return None
    name = call_type.name
    return RepeatRule(
        spec,
        [spec.by_group.get(group.name, spec.probability) for group in scenario.agent_groups],
        call_type.live,
        rng(f"{name}/resolution"),
        rng(f"{name}/repeats"),
        Draws(spec.repeat_delay, rng(f"{name}/repeat_delay"), 0.0),
        Draws(call_type.patience, rng(f"{name}/repeat_patience"), math.inf),
        Draws(call_type.handle_time, rng(f"{name}/repeat_handle"), 0.0),
        Draws(call_type.after_call_work, rng(f"{name}/repeat_wrap"), 0.0),
    )


def resolution_columns(
    repeats: Repeats, call_ids: np.ndarray, attempts: np.ndarray, outcome: np.ndarray, answered: int
) -> dict:
    """The calls' `resolved` (int8: 1 or 0 on the answered rows drawn, −1 elsewhere: rows not answered, and legs
    passed on by a transfer, whose journey was drawn on its last leg) and `repeat_of` (the call_id a repeat
    contact's rows repeat, −1 for first contacts) columns, for rows of `call_ids`, `attempts` (as recorded, with
    the leg) and `outcome`."""
    resolved = np.full(len(call_ids), -1, np.int8)
    if repeats.resolved:
        keys = np.fromiter(repeats.resolved.keys(), np.int64, len(repeats.resolved))
        values = np.fromiter(repeats.resolved.values(), np.int8, len(repeats.resolved))
        rows = call_ids.astype(np.int64) * ATTEMPT_KEY + attempts.astype(np.int64)
        resolved = _lookup(rows, keys, values, np.int8(-1))
        resolved[outcome != answered] = -1
    repeat_of = np.full(len(call_ids), -1, np.int64)
    if repeats.repeat_of:
        keys = np.fromiter(repeats.repeat_of.keys(), np.int64, len(repeats.repeat_of))
        values = np.fromiter(repeats.repeat_of.values(), np.int64, len(repeats.repeat_of))
        repeat_of = _lookup(call_ids, keys, values, np.int64(-1))
    return {"resolved": resolved, "repeat_of": repeat_of}


def _lookup(call_ids: np.ndarray, keys: np.ndarray, values: np.ndarray, missing) -> np.ndarray:
    """values[keys == call_id] for each call_id (or other key), `missing` where it is not among the keys."""
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.clip(np.searchsorted(keys, call_ids), 0, max(len(keys) - 1, 0))
    found = keys[at] == call_ids
    return np.where(found, values[at], missing).astype(values.dtype)
