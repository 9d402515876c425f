"""A campaign's calling list at run time: the records on it at the start (`records`, a number or unlimited), those
arriving (`rate_per_hour`) and, with `retry`, those due for another dial after a result the campaign retries.

A record is numbered when first dialled; a record due again is dialled before a fresh one, oldest due first. The
dialer (`engine.outbound`) takes records with `take`, feeds arrivals with `arrive`, and hands back each dial's
record with `after_dial`: a record coming back waits `retry.after_minutes` (`pending`), then is `due`.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from bposim.scenario.outbound import Campaign


class Record(NamedTuple):
    """A record of the calling list, numbered per campaign as first dialled, and the attempt its next dial is."""

    record_id: int
    attempt: int


class ListRow(NamedTuple):
    """A campaign's calling list at the end of a run: records that arrived (rate_per_hour), records never dialled
    (infinity: unlimited), records waiting for a retry, and its dialling hours in seconds, all of them and those
    after each day's warm-up."""

    campaign: int
    arrived: int
    fresh_left: float
    retries_left: int
    dialing_seconds: float
    counted_seconds: float


LIST_FIELDS = ListRow._fields


class CallingList:
    """The records of one campaign: never dialled (`fresh`), due again, and waiting for their retry delay."""

    def __init__(self, spec: Campaign):
        self.retry = spec.retry
        self.fresh = spec.list_size  # records never dialled
        self.due: deque[Record] = deque()  # records due for another dial, oldest due first
        self.pending = 0  # records waiting for their retry delay to pass
        self.next_record = 0
        self.arrived = 0

    def has_record(self) -> bool:
        """Whether a record is due now: one back for a retry, or one never dialled."""
        return bool(self.due) or self.fresh > 0

    def take(self) -> Record:
        """The next record to dial: the oldest due again, else a fresh one (numbered now)."""
        if self.due:
            return self.due.popleft()
        self.fresh -= 1
        self.next_record += 1
        return Record(self.next_record - 1, 1)

    def arrive(self) -> None:
        """A record arrives to the list (rate_per_hour)."""
        self.fresh += 1
        self.arrived += 1

    def after_dial(self, record: Record, result: str) -> Record | None:
        """The record's dial ended with `result`: the record coming back for another dial (then pending until
        `come_due`), or None when it is done (reached, not retried, or out of attempts)."""
        retry = self.retry
        if retry is None or record.attempt >= retry.max_attempts or result not in retry.on:
            return None
        self.pending += 1
        return Record(record.record_id, record.attempt + 1)

    def come_due(self, record: Record) -> None:
        """A record's retry delay has passed: it is due."""
        self.pending -= 1
        self.due.append(record)

    def left(self) -> int:
        """Records waiting for a retry, due or not yet."""
        return len(self.due) + self.pending
