"""The backlog of deferred work (email, case): per replication, day and deferred call type, what arrived, what was
completed, what was left open, and what was due and met its due time; and the deferred KPIs of each replication,
per call type and per channel. From the call columns of a run, by bincounts over (replication, day, call type)
cells, no pandas and no loop over items.

Definitions (times in seconds from the first opening; an item is one row of the calls table of a deferred call
type; it is completed at `end + wrap_seconds` when its outcome is answered, leaves at `end` when it abandoned, and
stays open when it is unserved):

- a day runs from its opening to the next day's opening; the last day runs on to the end of the records. An item
  belongs to the day whose span holds its arrival; items of an initial backlog (arrived before the first opening,
  at a negative time) count in `open_at_start` of day 0, not in `arrived`. A completion (or abandonment) belongs
  to the day whose span holds it.
- open_at_start: items that arrived before the day's opening and had not left by then.
- open_at_end: items that arrived before the next day's opening and had not left by then (on the last day: the
  items never completed, outcome unserved). No item arrives or is started after closing, so these are the items
  open at the day's closing less those whose work was under way then and ended before the next opening: the
  backlog carried into the night. open_at_start + arrived − completed − abandoned = open_at_end, and open_at_end
  of a day is open_at_start of the next.
- oldest_age_hours: the age at the day's closing of the oldest item of open_at_end (0 when there is none); a
  closed day (a horizon's closed weekday or date) has no closing: the age is taken at the hour the grid ends.
- due: items whose due time (arrival + the call type's threshold) falls in the day's span; items of an initial
  backlog already overdue at the first opening are due on day 0; items due after the horizon's last day (its
  opening + 24 h) are due on no day. met_due: of those, the items completed (end + wrap) by their due time.
  service_level = met_due / due (NaN when none is due).
- projected_late: items of open_at_end that will miss their due time if the backlog is worked first-in first-out,
  from the next opening, at the day's completion rate per open hour (completed / open hours): the k-th oldest is
  then done k / rate open hours later, counting only open hours (every day open as this one); with no
  completions that day, every open item is projected late.
- mean_open: the items open, averaged over the day's span (the last day's: its opening to its opening + 24 h),
  for Little's law: over the days, mean open items = arrival rate × mean time in the system.

Per interval (`interval_columns`, the `backlog_intervals` table, built only when asked for): one row per
replication, day, interval and deferred call type, intervals only in opening hours. Each interval is counted up to
a moment: its end, but for a day's last interval the next day's opening (the night folds into the day's last
interval: work under way at closing and finished in the night is completed there), and for the horizon's last
interval the end of the records. An event (arrival, completion, abandonment) at time t belongs to the interval whose
span [previous moment, moment) holds it; an item open at a moment arrived before it and had not left by then.

- arrived, completed, abandoned: as for a day, by interval (an item that arrives and is completed within one
  interval counts in both and is open at neither end).
- open_at_end: the items open at the interval's moment, whenever they arrived: items carried from earlier days
  and the initial backlog count. On a day's last interval it is the day's open_at_end.
  open_at_start = open_at_end − arrived + completed + abandoned: the previous interval's open_at_end (across a night
  too: the day's last interval, the night folded in), the initial backlog on the first.
- oldest_age_hours: the age, at the interval's end on the clock (a day's last interval: the closing, as for the
  day), of the oldest item of open_at_end (0 when there is none).
- completed_within_due: of the items completed in the interval, those done by their due time.
- overdue_at_end: of the items of open_at_end, those whose due time had passed at the interval's end on the
  clock (a day's last interval: at the closing).

Over a day's intervals, arrived, completed and abandoned sum to the day's, and the last open_at_end is the day's;
the first interval's open_at_start is the day's. Every count is a bincount over (replication, call type, interval)
cells after a searchsorted of each item's times in the moments: no loop over items or intervals.

The backlog leaves no warm-up out: a backlog carries over nights, so there is nothing to warm up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bposim import metrics
from bposim.engine.records import ANSWERED, UNSERVED
from bposim.scenario import SECONDS_PER_DAY, Scenario

COUNTS = ("arrived", "completed", "abandoned", "open_at_start", "open_at_end", "due", "met_due", "projected_late")
COLUMNS = (
    "arrived",
    "completed",
    "abandoned",
    "open_at_start",
    "open_at_end",
    "oldest_age_hours",
    "due",
    "met_due",
    "service_level",
    "projected_late",
    "mean_open",
)  # the backlog table's columns after day, call_type and channel, in order
_FLOATS = ("oldest_age_hours", "service_level", "mean_open")
INTERVAL_COLUMNS = (
    "arrived",
    "completed",
    "abandoned",
    "open_at_start",
    "open_at_end",
    "oldest_age_hours",
    "completed_within_due",
    "overdue_at_end",
)  # the backlog_intervals table's columns after day, interval, interval_start, call_type and channel, in order
KPIS = ("arrived", "completed", "abandoned", "open_at_end", "oldest_age_hours", "due", "met_due", "service_level")


def deferred_types(scenario: Scenario) -> list[int]:
    """The codes of the scenario's deferred (email, case) call types, in code order."""
    return [i for i, call_type in enumerate(scenario.call_types) if not call_type.live]


def backlog_columns(
    scenario: Scenario, calls: dict[str, np.ndarray], replication: np.ndarray | None, replications: int
) -> dict[str, np.ndarray]:
    """The backlog table's columns, one row per (replication, day, deferred call type), in that order: day,
    call_type (code), the COUNTS, oldest_age_hours, service_level and mean_open (see the module's definitions)."""
    horizon = scenario.horizon
    codes = np.array(deferred_types(scenario), dtype=np.int64)
    kinds, days = len(codes), horizon.days
    if not kinds:
        empty = {name: np.zeros(0, np.float64 if name in _FLOATS else np.int64) for name in COLUMNS}
        return {"day": np.zeros(0, np.int64), "call_type": codes, **empty}
    n_cells = replications * kinds * days  # worked out as (replication, deferred call type, day)
    items = _deferred_items(scenario, codes, calls, replication)
    group, arrival, completed, stays = items.group, items.arrival, items.completed, items.stays
    finite_left, left, due_time = items.finite_left, items.left, items.due_time
    period = _period(horizon)

    def day_of(times: np.ndarray) -> np.ndarray:
        """The day whose span holds each time (before the first opening: day 0; after the last: the last day)."""
        return np.clip(np.floor(times / period), 0, days - 1).astype(np.int64)

    def counted(keep: np.ndarray, day: np.ndarray) -> np.ndarray:
        return np.bincount((group * days + day)[keep], minlength=n_cells)

    new = arrival >= 0
    left_day = day_of(finite_left)
    columns: dict[str, np.ndarray] = {
        "arrived": counted(new, day_of(arrival)),
        "completed": counted(completed, left_day),
        "abandoned": counted(~completed & ~stays, left_day),
    }
    # open at a day's opening: arrived before it (from the day after its arrival's) and left at or after it
    arrival_day = np.where(new, np.floor(arrival / period), -1).astype(np.int64)
    open_from = arrival_day + 1
    whole_left_day = np.floor(finite_left / period).astype(np.int64)
    open_until = np.where(stays, days - 1, np.minimum(whole_left_day, days - 1))
    columns["open_at_start"] = _spans_count(group, open_from, open_until, days, n_cells)
    # open at a day's end: arrived before the next opening and left at or after it (the last day: never left)
    first = np.maximum(arrival_day, 0)
    last = np.where(stays, days - 1, np.minimum(whole_left_day - 1, days - 2))
    members, member_day = _expanded(first, last)
    member_cells = group[members] * days + member_day
    columns["open_at_end"] = np.bincount(member_cells, minlength=n_cells)
    in_horizon = due_time < days * period
    due_day = day_of(due_time)
    columns["due"] = counted(in_horizon, due_day)
    columns["met_due"] = counted(in_horizon & completed & (finite_left <= due_time), due_day)
    oldest, late = _open_items(
        member_cells, member_day, arrival[members], due_time[members], columns["completed"], horizon, period
    )
    columns["projected_late"] = late
    closing = _closings(horizon, period)[np.arange(n_cells) % days]
    columns["oldest_age_hours"] = np.where(columns["open_at_end"] > 0, (closing - oldest) / 3600.0, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns["service_level"] = columns["met_due"] / columns["due"].astype(float)
    columns["mean_open"] = _mean_open(group, arrival, left, days, period, replications * kinds)
    cell = np.arange(n_cells)
    columns = {"day": cell % days, "call_type": codes[cell // days % kinds], **columns}
    order = (cell.reshape(replications, kinds, days).transpose(0, 2, 1)).ravel()  # to (replication, day, type)
    return {name: column[order] for name, column in columns.items()}


class _Items(NamedTuple):
    """The deferred items of a run (rows of the calls table of a deferred call type), as columns: each one's group
    (replication × deferred call types + its position among them), arrival, whether it was completed or stays
    open (unserved), when it left (completed: end + wrap-up; abandoned: end; `left` is inf for those still open) and
    its due time."""

    group: np.ndarray
    arrival: np.ndarray
    completed: np.ndarray
    stays: np.ndarray
    finite_left: np.ndarray
    left: np.ndarray
    due_time: np.ndarray


def _deferred_items(
    scenario: Scenario, codes: np.ndarray, calls: dict[str, np.ndarray], replication: np.ndarray | None
) -> _Items:
    """The items of the deferred call types `codes` among the call columns."""
    kinds = len(codes)
    kind_of = np.full(len(scenario.call_types), -1, np.int64)
    kind_of[codes] = np.arange(kinds)
    kind = kind_of[calls["call_type"]]
    mine = kind >= 0
    kind = kind[mine]
    group = kind if replication is None else replication[mine].astype(np.int64) * kinds + kind
    arrival = calls["arrival"][mine]
    outcome = calls["outcome"][mine]
    completed = outcome == ANSWERED
    finite_left = np.where(completed, calls["end"][mine] + calls["wrap_seconds"][mine], calls["end"][mine])
    stays = outcome == UNSERVED
    due_seconds = np.array([scenario.service_level_for(scenario.call_types[c])[0] for c in codes], dtype=float)
    return _Items(
        group, arrival, completed, stays, finite_left, np.where(stays, np.inf, finite_left), arrival + due_seconds[kind]
    )


def _period(horizon) -> float:
    """Seconds from one opening to the next."""
    return max(float(SECONDS_PER_DAY), horizon.open_seconds)


def interval_columns(
    scenario: Scenario, calls: dict[str, np.ndarray], replication: np.ndarray | None, replications: int
) -> dict[str, np.ndarray]:
    """The per-interval backlog's columns, one row per (replication, day, interval, deferred call type), in that
    order: day, interval, call_type (code) and INTERVAL_COLUMNS (see the module's definitions)."""
    horizon = scenario.horizon
    codes = np.array(deferred_types(scenario), dtype=np.int64)
    kinds, slots = len(codes), horizon.days * horizon.intervals
    if not kinds:
        empty = {name: np.zeros(0, np.float64 if name in _FLOATS else np.int64) for name in INTERVAL_COLUMNS}
        return {"day": np.zeros(0, np.int64), "interval": np.zeros(0, np.int64), "call_type": codes, **empty}
    groups = replications * kinds
    n_cells = groups * slots  # worked out as (replication, deferred call type, day × interval)
    moments, ends = _interval_moments(horizon)
    items = _deferred_items(scenario, codes, calls, replication)
    base = items.group * slots
    new = items.arrival >= 0
    open_from = np.searchsorted(moments, items.arrival, side="right")  # the first interval it is open at the end of
    left_in = np.searchsorted(moments, items.left, side="right")  # where it left: slots when it never did
    abandoned = ~items.completed & ~items.stays

    def counted(keep: np.ndarray, slot: np.ndarray) -> np.ndarray:
        return np.bincount((base + slot)[keep], minlength=n_cells)

    def open_over(first: np.ndarray) -> np.ndarray:
        """Items open at the end of intervals first..left_in − 1 of their group."""
        keep = left_in > first
        starts = np.bincount((base + first)[keep], minlength=n_cells + 1)
        stops = np.bincount((base + left_in)[keep], minlength=n_cells + 1)
        return np.cumsum(starts - stops)[:n_cells]

    columns = {
        "arrived": counted(new, open_from),
        "completed": counted(items.completed, left_in),
        "abandoned": counted(abandoned, left_in),
        "open_at_end": open_over(open_from),
    }
    columns["open_at_start"] = columns["open_at_end"] - columns["arrived"] + columns["completed"] + columns["abandoned"]
    oldest = _oldest_open(items.group, items.arrival, open_from, left_in, groups, slots)
    columns["oldest_age_hours"] = np.where(np.isfinite(oldest), (np.tile(ends, groups) - oldest) / 3600.0, 0.0)
    columns["completed_within_due"] = counted(items.completed & (items.finite_left <= items.due_time), left_in)
    columns["overdue_at_end"] = open_over(np.searchsorted(ends, items.due_time, side="right"))
    cell = np.arange(n_cells)
    slot = cell % slots
    columns = {
        "day": slot // horizon.intervals,
        "interval": slot % horizon.intervals,
        "call_type": codes[cell // slots % kinds],
        **{name: columns[name] for name in INTERVAL_COLUMNS},
    }
    order = cell.reshape(replications, kinds, slots).transpose(0, 2, 1).ravel()  # to (replication, slot, type)
    return {name: column[order] for name, column in columns.items()}


def _interval_moments(horizon) -> tuple[np.ndarray, np.ndarray]:
    """Per interval of the horizon (day after day): the moment it is counted up to (its end; a day's last: the
    next opening; the horizon's last: inf), and its end on the clock (a day's last: the closing)."""
    step = horizon.interval_seconds
    ends = np.arange(horizon.days)[:, None] * _period(horizon) + np.arange(1, horizon.intervals + 1)[None, :] * step
    moments = ends.copy()
    moments[:, -1] = np.arange(1, horizon.days + 1) * _period(horizon)
    moments[-1, -1] = np.inf
    return moments.ravel(), ends.ravel()


def _oldest_open(
    group: np.ndarray, arrival: np.ndarray, open_from: np.ndarray, left_in: np.ndarray, groups: int, slots: int
) -> np.ndarray:
    """Per (group, interval) cell: the arrival of the oldest item open at the interval's end (inf where none), an
    item of a group being open at the ends of its intervals open_from..left_in − 1.

    With a group's items by arrival, the oldest open at the end of interval k is the first whose left_in exceeds k,
    if it arrived by then: found by a searchsorted in the running maximum of (group, left_in) keys."""
    cell = np.arange(groups * slots)
    if not len(arrival):
        return np.full(len(cell), np.inf)
    order = np.lexsort((arrival, group))
    reach = np.maximum.accumulate(group[order] * (slots + 1) + left_in[order])  # a group's keys top earlier ones'
    wanted_group, slot = cell // slots, cell % slots
    first = np.searchsorted(reach, wanted_group * (slots + 1) + slot + 1, side="left")
    chosen = order[np.minimum(first, len(order) - 1)]
    is_open = (first < len(order)) & (group[chosen] == wanted_group) & (open_from[chosen] <= slot)
    return np.where(is_open, arrival[chosen], np.inf)


def _closings(horizon, period: float) -> np.ndarray:
    """Each day's closing: its own where its hours are shorter than the grid; the grid's end on a closed day."""
    grid_end = np.arange(horizon.days) * period + horizon.open_seconds
    if not horizon.varies:
        return grid_end
    return np.array([horizon.closes_at(d) or grid_end[d] for d in range(horizon.days)])


def _spans_count(group: np.ndarray, first: np.ndarray, last: np.ndarray, days: int, n_cells: int) -> np.ndarray:
    """How many items are open on each (group, day) cell, item i on days first[i]..last[i] of its group (none
    where last < first)."""
    keep = last >= first
    starts = np.bincount((group * days + first)[keep], minlength=n_cells + 1)
    ends = np.bincount((group * days + last + 1)[keep], minlength=n_cells + 1)
    return np.cumsum(starts - ends)[:n_cells]


def _expanded(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item's days first..last (none where last < first) as (item index, day) pairs."""
    count = np.clip(last - first + 1, 0, None)
    items = np.repeat(np.arange(len(first)), count)
    offsets = np.arange(len(items)) - np.repeat(np.cumsum(count) - count, count)
    return items, first[items] + offsets


def _open_items(
    cells: np.ndarray,
    day: np.ndarray,
    arrival: np.ndarray,
    due_time: np.ndarray,
    completed: np.ndarray,
    horizon,
    period: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Of the items open at the end of each cell's day (`cells` and `day`: one entry per item and day it is
    open then): the oldest arrival per cell (inf where none), and how many are projected late if worked first-in
    first-out from the next opening at the day's completion rate per open hour."""
    n_cells = len(completed)
    order = np.lexsort((arrival, cells))
    cells, day, arrival, due_time = cells[order], day[order], arrival[order], due_time[order]
    first = np.ones(len(cells), bool)
    first[1:] = cells[1:] != cells[:-1]
    oldest = np.full(n_cells, np.inf)
    oldest[cells[first]] = arrival[first]
    rank = np.arange(len(cells)) - np.maximum.accumulate(np.where(first, np.arange(len(cells)), 0)) + 1
    open_seconds = horizon.open_seconds
    rate = completed[cells] / open_seconds  # items per open second that day
    with np.errstate(invalid="ignore", divide="ignore"):
        work = rank / rate  # open seconds from the next opening until the item is done
        whole_days = np.ceil(work / open_seconds) - 1  # open days used up before the one it is done on
        done = (day + 1 + whole_days) * period + (work - whole_days * open_seconds)
    late = (rate == 0) | (done > due_time)
    return oldest, np.bincount(cells[late], minlength=n_cells)


def _mean_open(
    group: np.ndarray, arrival: np.ndarray, left: np.ndarray, days: int, period: float, groups: int
) -> np.ndarray:
    """Per (group, day) cell: the items open averaged over the day's span, each item open from its arrival (the
    first opening for an initial backlog) until it left; one pass per group (replication and call type)."""
    edges = np.arange(days + 1) * period
    begin = np.maximum(arrival, 0.0)
    until = np.minimum(left, edges[-1])
    out = np.zeros((groups, days))
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(groups + 1))
    for g in range(groups):
        chosen = order[bounds[g] : bounds[g + 1]]
        out[g] = np.diff(metrics.covered_before(begin[chosen], until[chosen], edges)) / period
    return out.ravel()


def deferred_kpis(
    columns: dict[str, np.ndarray], replications: int, days: int, kinds: Sequence[int]
) -> list[dict[str, float | int]]:
    """The deferred KPIs (KPIS) of each replication over the deferred call types `kinds` (their positions among
    the deferred ones) from the backlog columns: arrived, completed, abandoned, due and met_due summed over the
    days and the call types, open_at_end and oldest_age_hours at the last day's end (the total; the oldest), and
    service_level = met_due / due (NaN when none is due)."""
    kinds = list(kinds)
    total = len(columns["day"]) // (replications * days) if replications * days else 0

    def shaped(name: str) -> np.ndarray:
        return columns[name].reshape(replications, days, total)[:, :, kinds]

    sums = {name: shaped(name).sum(axis=(1, 2)) for name in ("arrived", "completed", "abandoned", "due", "met_due")}
    sums["open_at_end"] = shaped("open_at_end")[:, -1, :].sum(axis=1)
    oldest = shaped("oldest_age_hours")[:, -1, :]
    sums["oldest_age_hours"] = oldest.max(axis=1) if len(kinds) else np.zeros(replications)
    with np.errstate(invalid="ignore", divide="ignore"):
        sums["service_level"] = sums["met_due"] / sums["due"].astype(float)
    return [
        {
            key: float(sums[key][r]) if key in ("oldest_age_hours", "service_level") else int(sums[key][r])
            for key in KPIS
        }
        for r in range(replications)
    ]
