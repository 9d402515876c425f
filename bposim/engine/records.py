"""The schemas of every record the engine keeps (call attempts, agent sessions, activities, outages: their
fields, and the codes of outcomes, paths and kinds), and the call records, collected cheaply and turned into
arrays once.

Sessions, activities and outages are rows of named types (`SessionRow`, `ActivityRow`, `OutageRow`), whose fields
are the schema. Call attempts, one per call and the engine's most frequent write, are the values of CALL_FIELDS,
written through `CallRecords.call` whatever the outcome, each packed at once into a buffer of floats (`CALL_ROW`):
no tuple and no float object kept per call, memory the size of the final calls table whatever the horizon, and the
calls table's array the buffer itself.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
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

CALL_ROW = struct.Struct(f"{len(CALL_FIELDS)}d")  # a call record as native 64-bit floats, as the calls array holds it
pack_call_row = CALL_ROW.pack  # the values of CALL_FIELDS packed into a row, for `CallRecords.writer`
ANSWERED_VALUE, DIRECT_VALUE = float(ANSWERED), float(DIRECT)  # codes as a row holds them, for the hot path: a float
# is packed at half the cost of an int (which is made a float first)
PACK_EVERY = 20_000  # rows buffered before they are moved into an array of their own


class CallRecords:
    """Call attempts as rows of CALL_FIELDS, written by `call` (or, on the hot path, `writer`)."""

    def __init__(self) -> None:
        self._buffer = bytearray()  # rows packed by CALL_ROW, not yet in a block
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
        self._buffer += pack_call_row(
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

    def writer(self) -> Callable[[bytes], None]:
        """Append one row packed by `pack_call_row` (the values `call` writes), for the engine's hot path: an answered
        call. The writer stays valid for the records' life."""
        return self._buffer.extend

    def pack_if_large(self) -> None:
        """Move the buffered rows into an array of their own when there are many (called at interval boundaries), so
        the buffer is never copied whole as it grows."""
        if len(self._buffer) >= PACK_EVERY * CALL_ROW.size:
            self._pack()

    def _pack(self) -> None:
        if self._buffer:
            self._blocks.append(np.frombuffer(self._buffer, dtype=np.float64).reshape(-1, len(CALL_FIELDS)).copy())
            self._buffer.clear()

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
