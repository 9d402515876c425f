"""The schemas of every record the engine keeps (call attempts, agent sessions, activities, outages: their
fields, and the codes of outcomes, paths and kinds), and the call records, collected cheaply and turned into
arrays once.

Sessions, activities and outages are rows of named types (`SessionRow`, `ActivityRow`, `OutageRow`), whose fields
are the schema. Call attempts, one per call and the engine's most frequent write, are plain tuples of CALL_FIELDS,
written through `CallRecords.call` whatever the outcome; every so often the buffered tuples are packed into a float
array, so memory stays close to the size of the final calls table whatever the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain
from typing import NamedTuple

import numpy as np

ANSWERED, ABANDONED, BLOCKED, UNSERVED, CONTAINED, CALLBACK_REQUESTED, DROPPED = 0, 1, 2, 3, 4, 5, 6
OUTCOMES = ("answered", "abandoned", "blocked", "unserved", "contained", "callback_requested", "dropped")
BALKED, MESSAGE = len(OUTCOMES), len(OUTCOMES) + 1  # callers' behaviour (`engine.behaviour`)
OUTCOMES += ("balked", "message")
DISCONNECTED = len(OUTCOMES)  # a caller cut off when passed on to a call type nobody was free for (`engine.journeys`)
OUTCOMES += ("disconnected",)
DIRECT, BOT_OPT_OUT, BOT_BOUNCE, BOT_CONTAINED, CALLBACK = 0, 1, 2, 3, 4
PATHS = ("direct", "bot_opt_out", "bot_bounce", "bot_contained", "callback")
CALL_FIELDS = (
    "call_id",
    "call_type",
    "attempt",
    "arrival",
    "answer",
    "end",
    "handle_seconds",
    "wrap_seconds",
    "outcome",
    "agent",
    "path",
    "bot_seconds",
)


class SessionRow(NamedTuple):
    """An agent's logged-in stretch: the agent's index, when they logged in and out, and when they were due out."""

    agent: int
    login: float
    logout: float
    planned_logout: float


SESSION_FIELDS = SessionRow._fields

BREAK, SHRINKAGE, ABSENCE, BLOCK = 0, 1, 2, 3
ACTIVITY_KINDS = ("break", "shrinkage", "absence", "deferred_block")
OFF_PHONE_KINDS = (BREAK, SHRINKAGE)  # what takes an agent off the phones (a deferred block keeps them on)


class ActivityRow(NamedTuple):
    """A break, shrinkage episode, absence or deferred block (`kind`, one of ACTIVITY_KINDS) of an agent: planned,
    started and ended (NaN if missed), started late, missed, paid (a block: always)."""

    agent: int
    kind: int
    name: str
    planned: float
    start: float
    end: float
    late: bool
    missed: bool
    paid: bool


ACTIVITY_FIELDS = ActivityRow._fields


class PieceRow(NamedTuple):
    """A stretch of work on an email or case item interrupted at least once: the agent's index, the item's call_id,
    when the stretch began and ended (the last one: with the wrap-up), the handle seconds worked in it, and whether
    a live contact stopped it (else it finished the item)."""

    agent: int
    call_id: int
    start: float
    end: float
    handle: float
    stopped: bool


PIECE_FIELDS = PieceRow._fields

RANDOM, PLANNED = 0, 1
OUTAGE_KINDS = ("random", "planned")


class OutageRow(NamedTuple):
    """A tool's outage: the tool's index, its kind (one of OUTAGE_KINDS), when it began and ended."""

    tool: int
    kind: int
    start: float
    end: float


OUTAGE_FIELDS = OutageRow._fields

PACK_EVERY = 20_000


class CallRecords:
    """Call attempts as rows of CALL_FIELDS, written by `call`."""

    def __init__(self) -> None:
        self._rows: list[tuple] = []
        self._blocks: list[np.ndarray] = []

    def call(
        self,
        call,
        outcome: int,
        end: float,
        answer: float = math.nan,
        handle: float = 0.0,
        wrap: float = 0.0,
        agent: int = -1,
    ) -> None:
        """Record a call attempt (a `routing.Call`) that ended at `end` with `outcome`; answered and dropped calls
        give when they were answered, their talk and wrap-up seconds and the agent's index."""
        self._rows.append(
            (
                call.call_id,
                call.queue.index,
                call.attempt,
                call.arrival,
                answer,
                end,
                handle,
                wrap,
                outcome,
                agent,
                call.path,
                call.bot,
            )
        )

    def writer(self) -> Callable[[tuple], None]:
        """Append one row of CALL_FIELDS (as `call` writes it), for the engine's hot path: an answered call."""
        return self._rows.append

    def pack_if_large(self) -> None:
        """Pack the buffered rows into an array when there are many (called at interval boundaries)."""
        if len(self._rows) >= PACK_EVERY:
            self._pack()

    def _pack(self) -> None:
        if self._rows:
            # the rows' values in one flat run, their number known: no shape discovery over the nested tuples, and
            # no row item to unpack (a third faster than fromiter with a row dtype, ~20% faster than np.array)
            values = chain.from_iterable(self._rows)
            count = len(self._rows) * len(CALL_FIELDS)
            self._blocks.append(np.fromiter(values, dtype=np.float64, count=count).reshape(-1, len(CALL_FIELDS)))
            self._rows.clear()

    def blocks(self) -> list[np.ndarray]:
        """All records, in order, as (rows, len(CALL_FIELDS)) float arrays; the buffers are handed over, not kept, so
        the caller can free each block once read."""
        self._pack()
        blocks, self._blocks = self._blocks, []
        return blocks

    def array(self) -> np.ndarray:
        """All records as an (n, len(CALL_FIELDS)) float array; the buffers are handed over, not kept."""
        self._pack()
        blocks, self._blocks = self._blocks, []
        if not blocks:
            return np.empty((0, len(CALL_FIELDS)))
        return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
