"""The engine's records as compact numpy columns: taken from each replication's `Centre` as soon as it has run (so
only one replication's Python records are alive at a time), then joined, replication after replication, for
`bposim.tables` to build every table once.

Call attempts are sorted by caller and attempt within their replication; activities by start, then agent; outages
by start, then tool. Sessions and the pieces of interrupted items keep the engine's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bposim.engine.calling_lists import LIST_FIELDS
from bposim.engine.journeys import LEG_FIELDS, LEG_STRIDE
from bposim.engine.outbound import DIAL_FIELDS
from bposim.engine.records import ACTIVITY_FIELDS, ANSWERED, CALL_FIELDS, OUTAGE_FIELDS, PIECE_FIELDS, SESSION_FIELDS
from bposim.engine.resolution import resolution_columns
from bposim.scenario import SECONDS_PER_DAY, Scenario

if TYPE_CHECKING:
    from bposim.engine.model import Centre

CALL_DTYPES = {
    "call_id": np.int64,
    "call_type": np.int16,
    "attempt": np.int32,
    "arrival": np.float64,
    "answer": np.float64,
    "end": np.float64,
    "handle_seconds": np.float64,
    "wrap_seconds": np.float64,
    "outcome": np.int8,
    "agent": np.int32,
    "path": np.int8,
    "bot_seconds": np.float64,
}
FLAGS = ("late", "missed", "paid")


@dataclass
class Records:
    """The records of one or more replications as columns, and how many rows each replication has.

    calls: CALL_FIELDS in CALL_DTYPES, with day and interval (of the day, by arrival), wait (answer or end −
    arrival), warmup (arrived during the warm-up), leg (1, 2, ... of a journey: `leg_columns`), when some call type
    is interruptible, interruptions (how often an item was stopped), when some call type has transfers,
    transfer_mode and conference_seconds, and when some call type has resolution, resolved (int8: 1, 0, or −1 on
    rows not answered and on legs passed on) and repeat_of (the call_id a repeat contact repeats, −1 for first
    contacts). sessions, outages and pieces (the stretches of work on items interrupted at least once,
    PIECE_FIELDS) and dials (the dials of outbound campaigns, DIAL_FIELDS; lists, each campaign's calling list at the
    end, LIST_FIELDS, one row per campaign per replication): (rows, fields) float arrays.
    activities: ACTIVITY_FIELDS (name as objects, flags as booleans, the rest floats). agent_names and agent_groups
    (group index) of every agent, both fixed by the scenario, so the same in every replication.
    """

    calls: dict[str, np.ndarray]
    sessions: np.ndarray
    activities: dict[str, np.ndarray]
    outages: np.ndarray
    agent_names: list[str]
    agent_groups: np.ndarray
    counts: dict[str, np.ndarray]  # rows per replication of calls, sessions, activities, outages and pieces
    pieces: np.ndarray = field(default_factory=lambda: np.empty((0, len(PIECE_FIELDS))))
    repeats_carried: np.ndarray | None = None  # with resolution: (replications, call types) repeats past the horizon
    dials: np.ndarray = field(default_factory=lambda: np.empty((0, len(DIAL_FIELDS))))  # outbound, by campaign, id
    lists: np.ndarray = field(default_factory=lambda: np.empty((0, len(LIST_FIELDS))))  # a row a campaign a replication

    @property
    def replications(self) -> int:
        return len(self.counts["calls"])

    def replication(self, kind: str) -> np.ndarray:
        """The replication (0, 1, ...) of each row of `kind` (calls, sessions, activities, outages, pieces or
        dials)."""
        counts = self.counts[kind] if kind in self.counts else np.zeros(self.replications, np.int64)
        return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def replication_records(scenario: Scenario, centre: Centre) -> Records:
    """The records of `centre`, a run of `scenario`'s centre, as columns; the call records are handed over."""
    calls = _call_columns(scenario, centre)
    pieces = np.array(centre.pieces, dtype=np.float64).reshape(-1, len(PIECE_FIELDS))
    if any(call_type.interruptible for call_type in scenario.call_types):
        calls["interruptions"] = interruptions(calls["call_id"], pieces)
    recorded = calls["attempt"]  # with transfers, the leg is in it (`leg_columns` decodes it)
    calls.update(leg_columns(calls, centre.legs if has_transfers(scenario) else None))
    repeats = centre.repeats
    if repeats is not None:
        calls.update(resolution_columns(repeats, calls["call_id"], recorded, calls["outcome"], ANSWERED))
    sessions = np.array(centre.workforce.sessions, dtype=np.float64).reshape(-1, len(SESSION_FIELDS))
    activities = _activity_columns(centre.workforce.activities)
    outages = np.array(centre.outages.records, dtype=np.float64).reshape(-1, len(OUTAGE_FIELDS))
    outages = outages[np.lexsort((outages[:, 0], outages[:, 2]))]
    counts = {
        "calls": np.array([len(calls["call_id"])]),
        "sessions": np.array([len(sessions)]),
        "activities": np.array([len(activities["agent"])]),
        "outages": np.array([len(outages)]),
        "pieces": np.array([len(pieces)]),
    }
    dials = _dial_rows(centre)
    if scenario.outbound:
        counts["dials"] = np.array([len(dials)])
    return Records(
        calls=calls,
        sessions=sessions,
        activities=activities,
        outages=outages,
        agent_names=[agent.name for agent in centre.agents],
        agent_groups=np.array([agent.group.index for agent in centre.agents], dtype=np.int64),
        counts=counts,
        pieces=pieces,
        repeats_carried=np.array([repeats.carried], np.int64) if repeats is not None else None,
        dials=dials,
        lists=np.array(centre.dialers.list_rows() if centre.dialers is not None else [], np.float64).reshape(
            -1, len(LIST_FIELDS)
        ),
    )


def _dial_rows(centre: Centre) -> np.ndarray:
    """The outbound dials (`engine.outbound.DIAL_FIELDS`) as a float array, by campaign, then dial number."""
    rows = np.array(centre.dialers.rows if centre.dialers is not None else [], dtype=np.float64)
    rows = rows.reshape(-1, len(DIAL_FIELDS))
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def joined(parts: Sequence[Records]) -> Records:
    """The records of several replications, in order, as one; the parts' columns are emptied as they are joined."""
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if any(part.agent_names != first.agent_names for part in parts):
        raise ValueError("replications of one scenario have the same agents")
    return Records(
        calls=_join_columns([part.calls for part in parts]),
        sessions=np.concatenate([part.sessions for part in parts]),
        activities=_join_columns([part.activities for part in parts]),
        outages=np.concatenate([part.outages for part in parts]),
        agent_names=first.agent_names,
        agent_groups=first.agent_groups,
        counts={kind: np.concatenate([part.counts[kind] for part in parts]) for kind in first.counts},
        pieces=np.concatenate([part.pieces for part in parts]),
        repeats_carried=None if first.repeats_carried is None else np.concatenate([p.repeats_carried for p in parts]),
        dials=np.concatenate([part.dials for part in parts]),
        lists=np.concatenate([part.lists for part in parts]),
    )


def interruptions(call_ids: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """How often each call row (of one replication, sorted by call_id) was stopped by a live contact: its pieces
    so marked. Only items carry call_ids that pieces name, and they have one row each."""
    out = np.zeros(len(call_ids), np.int32)
    stopped = pieces[pieces[:, 5] == 1.0] if len(pieces) else pieces
    if len(stopped):
        named, count = np.unique(stopped[:, 1].astype(np.int64), return_counts=True)
        out[np.searchsorted(call_ids, named)] = count
    return out


def has_transfers(scenario: Scenario) -> bool:
    """Whether some call type passes callers on to another (`call_types[].transfers`)."""
    return any(call_type.transfers for call_type in scenario.call_types)


def leg_columns(calls: dict[str, np.ndarray], legs: list | None) -> dict[str, np.ndarray]:
    """The journey columns of one replication's call rows (sorted by caller, then attempt as recorded): `leg` (1 for
    every row without transfers); with transfers (`legs`, the engine's `journeys.LegRow`s, possibly none), the
    attempt and leg decoded from the attempt as recorded, `transfer_mode` (how the leg was passed on: a code of
    `journeys.TRANSFER_MODES`, −1 for a first leg) and `conference_seconds` (the conference a leg answered by a
    warm transfer opened with; NaN on every other row)."""
    n = len(calls["call_id"])
    if legs is None:
        return {"leg": np.ones(n, np.int16)}
    recorded = calls["attempt"]
    attempt = (recorded % LEG_STRIDE).astype(recorded.dtype)
    leg = (recorded // LEG_STRIDE + 1).astype(np.int16)
    mode = np.full(n, -1, np.int8)
    conference = np.full(n, np.nan)
    rows = np.array(legs, dtype=np.float64).reshape(-1, len(LEG_FIELDS))
    if len(rows):
        width = int(recorded.max(initial=0)) + 1
        key = calls["call_id"].astype(np.int64) * width + recorded
        where = np.searchsorted(key, rows[:, 0].astype(np.int64) * width + rows[:, 1].astype(np.int64))
        mode[where] = rows[:, 2].astype(np.int8)
        reached = ~np.isnan(calls["answer"][where])  # a conference happens once a second agent answers
        conference[where[reached]] = np.where(rows[reached, 2] == 1, rows[reached, 3], np.nan)
    return {"attempt": attempt, "leg": leg, "transfer_mode": mode, "conference_seconds": conference}


def _join_columns(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Each column of every part joined, one column at a time, each part's column dropped once joined."""
    out = {}
    for name in list(parts[0]):
        out[name] = np.concatenate([part.pop(name) for part in parts])
    return out


def _call_columns(scenario: Scenario, centre: Centre) -> dict[str, np.ndarray]:
    """The call attempts, sorted by caller and attempt: each block of records the engine packed is read into
    compact columns and freed, so little more than the columns is ever held."""
    blocks = centre.records.blocks()
    parts: dict[str, list[np.ndarray]] = {name: [] for name in CALL_FIELDS}
    while blocks:
        block = blocks.pop(0)
        for i, name in enumerate(CALL_FIELDS):
            parts[name].append(block[:, i].astype(CALL_DTYPES[name]))
        del block
    columns = {
        name: np.concatenate(parts.pop(name)) if parts[name] else np.empty(0, CALL_DTYPES[name]) for name in CALL_FIELDS
    }
    key = columns["call_id"].astype(np.int64) * (int(columns["attempt"].max(initial=0)) + 1) + columns["attempt"]
    order = np.argsort(key, kind="stable")  # by caller, then attempt: one integer key sorts faster than lexsort
    for name in CALL_FIELDS:
        columns[name] = columns[name][order]
    del order
    return with_derived_columns(scenario, columns)


def with_derived_columns(scenario: Scenario, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The call columns (CALL_FIELDS in CALL_DTYPES) with those derived from them added: day and interval (of the
    day, by arrival; −1 for items of a backlog present before the first opening, which arrived at a negative
    time; a leg passed on after the last day, as a day served to its end can, in the last day's last interval),
    warmup (a live contact that arrived during the warm-up; deferred work has none) and wait (answer or end −
    arrival; for deferred work the time from arrival to the start of the work)."""
    horizon = scenario.horizon
    arrival = columns["arrival"]
    last = horizon.days - 1  # a contact passed on after the last day (closing: serve) counts in its last interval
    day = np.minimum(arrival // SECONDS_PER_DAY, last).astype(np.int32) if last else np.zeros(len(arrival), np.int32)
    since_open = arrival - day * float(SECONDS_PER_DAY)
    interval = np.clip(since_open // horizon.interval_seconds, 0, horizon.intervals - 1).astype(np.int32)
    if horizon.varies:  # the warm-up runs from each day's own opening
        offsets = np.array([horizon.open_intervals(d).start for d in range(horizon.days)]) * horizon.interval_seconds
        since_open = since_open - offsets[np.clip(day, 0, horizon.days - 1)]
    warmup = since_open < horizon.warmup_minutes * 60.0
    deferred = np.array([not call_type.live for call_type in scenario.call_types])
    if deferred.any():
        earlier = arrival < 0
        day[earlier] = -1
        interval[earlier] = -1
        warmup &= ~deferred[columns["call_type"]]
    columns["day"] = day
    columns["interval"] = interval
    columns["warmup"] = warmup
    columns["wait"] = np.where(columns["outcome"] == ANSWERED, columns["answer"], columns["end"]) - arrival
    return columns


def _activity_columns(rows: list) -> dict[str, np.ndarray]:
    """Breaks, shrinkage episodes and absences as columns, by start, then agent."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(ACTIVITY_FIELDS)
    columns = {
        name: np.asarray(column, dtype=object if name == "name" else np.float64)
        for name, column in zip(ACTIVITY_FIELDS, values, strict=True)
    }
    order = np.lexsort((columns["agent"], columns["start"]))
    columns = {name: column[order] for name, column in columns.items()}
    for flag in FLAGS:
        columns[flag] = columns[flag].astype(bool)
    return columns
