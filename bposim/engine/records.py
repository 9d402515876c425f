"""Flat records of call attempts and agent sessions, collected cheaply and turned into arrays once.

The engine appends one plain tuple per finished call attempt; every so often the buffered tuples are packed
into a float array, so memory stays close to the size of the final calls table whatever the horizon.
"""

from __future__ import annotations

import numpy as np

ANSWERED, ABANDONED, BLOCKED, UNSERVED, CONTAINED, CALLBACK_REQUESTED, DROPPED = 0, 1, 2, 3, 4, 5, 6
OUTCOMES = ("answered", "abandoned", "blocked", "unserved", "contained", "callback_requested", "dropped")
PATHS = ("direct", "bot_opt_out", "bot_bounce", "bot_contained", "callback")
CALL_FIELDS = (
    "call_id", "call_type", "attempt", "arrival", "answer", "end", "handle_seconds", "wrap_seconds", "outcome",
    "agent", "path", "bot_seconds",
)  # fmt: skip
PACK_EVERY = 20_000


class CallRecords:
    """Call attempts as rows of CALL_FIELDS; `add` is the bound append of the current buffer."""

    def __init__(self) -> None:
        self._rows: list[tuple] = []
        self._blocks: list[np.ndarray] = []
        self.add = self._rows.append

    def pack_if_large(self) -> None:
        """Pack the buffered rows into an array when there are many (called at interval boundaries)."""
        if len(self._rows) >= PACK_EVERY:
            self._pack()

    def _pack(self) -> None:
        if self._rows:
            self._blocks.append(np.array(self._rows, dtype=np.float64))
            self._rows.clear()

    def array(self) -> np.ndarray:
        """All records as an (n, len(CALL_FIELDS)) float array; the buffers are handed over, not kept."""
        self._pack()
        blocks, self._blocks = self._blocks, []
        if not blocks:
            return np.empty((0, len(CALL_FIELDS)))
        return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
