"""The KPIs of every (replication, day, interval, call type) cell, and of each replication overall and per call
type, from the call columns of a run: bincounts over the cells, no pandas on the way.

The KPIs are those of `bposim.metrics` (where they are defined), computed in the same order of additions as there,
so a replication's numbers are the same to the last bit whether it is summed alone or with others.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from bposim.engine.records import (
    ABANDONED,
    ANSWERED,
    BALKED,
    BLOCKED,
    CALLBACK,
    CALLBACK_REQUESTED,
    CONTAINED,
    DISCONNECTED,
    DROPPED,
    MESSAGE,
    UNSERVED,
)

COUNTS = (
    "offered",
    "answered",
    "abandoned",
    "blocked",
    "unserved",
    "dropped",
    "answered_within_threshold",
    "abandoned_within_threshold",
    "contained",
    "callback_requests",
    "callbacks_made",
    "callbacks_within_deadline",
)
BEHAVIOUR_COUNTS = ("balked", "messages")  # only for scenarios with balking or a maximum wait
BEHAVIOUR_RATES = ("balk_rate",)
_COUNTED = (*COUNTS, *BEHAVIOUR_COUNTS)
SECONDS = ("wait_answered_seconds", "work_seconds")
RATES = ("service_level", "asa_seconds", "aht_seconds", "abandon_rate", "callback_service_level")
SERVICE_LEVEL_DEFINITIONS = ("offered", "answered", "offered_less_short_abandons")


def indicators(
    call_type: np.ndarray,
    outcome: np.ndarray,
    path: np.ndarray,
    wait: np.ndarray,
    handle: np.ndarray,
    wrap: np.ndarray,
    thresholds: np.ndarray,
    callback_deadline: float = math.inf,
    behaviour: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per call attempt (codes of its call type, outcome and path; its wait, handle and wrap-up seconds), a 0/1
    indicator for each of COUNTS (and, with `behaviour`, of BEHAVIOUR_COUNTS), and the wait and work (handle +
    wrap-up) seconds of answered calls; `thresholds` per call type code. `behaviour` (None: no balking nor maximum
    wait in the scenario) says per call type code whether its messages bring callbacks: those count among the
    callback requests.

    Live attempts are those not made as callbacks; the live KPIs leave out callers the bot contained and callers
    who took a callback instead of waiting. Callers who balked or were sent to leave a message are offered; a
    balk, a hang-up at once, counts among the short abandons (`abandoned_within_threshold`).
    """
    return dict(_indicators(call_type, outcome, path, wait, handle, wrap, thresholds, callback_deadline, behaviour))


def _indicators(call_type, outcome, path, wait, handle, wrap, thresholds, callback_deadline, behaviour=None):
    """`indicators`, one at a time (so that only one is held while it is summed)."""
    live = path != CALLBACK
    answered_any = outcome == ANSWERED
    answered = live & answered_any
    abandoned = outcome == ABANDONED
    balked = outcome == BALKED
    message = outcome == MESSAGE
    yield (
        "offered",
        live & ((outcome <= UNSERVED) | (outcome == DROPPED) | balked | message | (outcome == DISCONNECTED)),
    )
    yield "answered", answered
    yield "abandoned", abandoned
    yield "blocked", outcome == BLOCKED
    yield "unserved", live & (outcome == UNSERVED)
    yield "dropped", live & (outcome == DROPPED)
    within = wait <= thresholds[call_type]
    yield "answered_within_threshold", answered & within
    yield "abandoned_within_threshold", (abandoned & within) | balked
    del within
    yield "contained", outcome == CONTAINED
    requested = outcome == CALLBACK_REQUESTED
    yield "callback_requests", requested if behaviour is None else requested | (message & behaviour[call_type])
    callback = ~live & answered_any
    yield "callbacks_made", callback
    yield "callbacks_within_deadline", callback & (wait <= callback_deadline)
    del callback
    yield "wait_answered_seconds", np.where(answered, wait, 0.0)
    yield "work_seconds", np.where(answered, handle + wrap, 0.0)
    if behaviour is not None:
        yield "balked", balked
        yield "messages", message


def summed(
    values: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]], cells: np.ndarray, n_cells: int
) -> dict[str, np.ndarray]:
    """Every indicator (a mapping, or (key, values) pairs) summed over the cells (0..n_cells-1) each call attempt
    belongs to: counts as integers."""
    out = {}
    for key, column in values.items() if isinstance(values, Mapping) else values:
        total = np.bincount(cells, weights=np.asarray(column, dtype=float), minlength=n_cells)
        out[key] = total.round().astype(np.int64) if key in _COUNTED else total.astype(np.float64)
    return out


def service_level(within, offered, answered, short_abandons, definition: str):
    """The service level under one of the three definitions (NaN where the denominator is 0)."""
    denominators = {
        "offered": offered,
        "answered": answered,
        "offered_less_short_abandons": np.subtract(offered, short_abandons),
    }
    if definition not in denominators:
        raise ValueError(f"unknown service-level definition '{definition}'; known: {SERVICE_LEVEL_DEFINITIONS}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.divide(np.asarray(within, dtype=float), np.asarray(denominators[definition], dtype=float))


def with_rates(sums: Mapping[str, np.ndarray], definition: str) -> dict[str, np.ndarray]:
    """The counts, with service_level (by `definition`), asa_seconds, aht_seconds, abandon_rate and
    callback_service_level (NaN where the denominator is 0); and balked, messages and balk_rate (balked / offered)
    when the sums have them."""
    out = {key: sums[key] for key in _COUNTED if key in sums}
    answered = np.asarray(sums["answered"], dtype=float)
    out["service_level"] = service_level(
        sums["answered_within_threshold"],
        sums["offered"],
        sums["answered"],
        sums["abandoned_within_threshold"],
        definition,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["asa_seconds"] = np.asarray(sums["wait_answered_seconds"], dtype=float) / answered
        out["aht_seconds"] = np.asarray(sums["work_seconds"], dtype=float) / answered
        out["abandon_rate"] = np.asarray(sums["abandoned"], dtype=float) / np.asarray(sums["offered"], dtype=float)
        out["callback_service_level"] = np.asarray(sums["callbacks_within_deadline"], dtype=float) / np.asarray(
            sums["callback_requests"], dtype=float
        )
        if "balked" in sums:
            out["balk_rate"] = np.asarray(sums["balked"], dtype=float) / np.asarray(sums["offered"], dtype=float)
    return out


class KpiCells(NamedTuple):
    """What `kpi_cells` gives: the cells' table (columns), and per replication the KPIs overall, per call type (in
    code order) and per group of call types (by name), as plain numbers."""

    table: dict[str, np.ndarray]
    overall: list[dict]
    per_type: list[list[dict]]
    per_group: dict[str, list[dict]]


def kpi_cells(
    calls: Mapping[str, np.ndarray],
    thresholds: np.ndarray,
    definition: str,
    days: int,
    intervals: int,
    callback_deadline: float = math.inf,
    replication: np.ndarray | None = None,
    replications: int = 1,
    counted: np.ndarray | None = None,
    groups: Mapping[str, np.ndarray] | None = None,
    behaviour: np.ndarray | None = None,
) -> KpiCells:
    """KPIs per (replication, day, interval, call type) cell, every cell present, as columns (the cell's day,
    interval and call_type code, then the counts and rates); and per replication the KPIs overall, per call type
    (in code order) and per group of call types (`groups`: a name to the call type codes it holds, e.g. a channel),
    as plain numbers.

    `calls` holds the call columns (call_type, outcome and path codes, wait, handle_seconds, wrap_seconds, day,
    interval, warmup), `replication` each call's replication (None for one). Warm-up calls are left out, and so
    are the calls of call types `counted` (a flag per call type code; None: all) leaves out: their cells are
    present, empty. A group of every call type, in code order, gives the overall KPIs to the last bit. With
    `behaviour` (a scenario with balking or a maximum wait: see `indicators`), balked, messages and balk_rate are
    among them.
    """
    types = len(thresholds)
    kept = ~calls["warmup"]
    if counted is not None and not counted.all():
        kept = kept & counted[calls["call_type"]]
    everything = bool(kept.all())

    def column(name: str) -> np.ndarray:
        return calls[name] if everything else calls[name][kept]

    cells = column("day").astype(np.int64)
    if replication is not None:
        cells += (replication if everything else replication[kept]) * days
    cells *= intervals
    cells += column("interval")
    cells *= types
    cells += column("call_type")
    values = _indicators(
        column("call_type"),
        column("outcome"),
        column("path"),
        column("wait"),
        column("handle_seconds"),
        column("wrap_seconds"),
        thresholds,
        callback_deadline,
        behaviour,
    )
    per_replication = days * intervals * types
    sums = summed(values, cells, replications * per_replication)
    cell = np.arange(replications * per_replication) % per_replication
    table = {
        "day": cell // (intervals * types),
        "interval": cell // types % intervals,
        "call_type": cell % types,
        **with_rates(sums, definition),
    }
    by_type = _by_type(sums, replications, types)
    overall = {key: row_sums(total.reshape(replications, types)) for key, total in by_type.items()}
    overall_rows = _records(with_rates(overall, definition))
    per_group = {}
    for name, codes in (groups or {}).items():
        if np.array_equal(codes, np.arange(types)):  # every call type: the overall sums, as summed above
            per_group[name] = [dict(row) for row in overall_rows]
        else:
            sums = {key: row_sums(total.reshape(replications, types)[:, codes]) for key, total in by_type.items()}
            per_group[name] = _records(with_rates(sums, definition))
    type_rows = _records(with_rates(by_type, definition))
    return KpiCells(
        table,
        overall_rows,
        [type_rows[r * types : (r + 1) * types] for r in range(replications)],
        per_group,
    )


def _by_type(sums: dict[str, np.ndarray], replications: int, types: int) -> dict[str, np.ndarray]:
    """The cells' sums summed over days and intervals, per replication and call type (replication-major): counts
    exactly, seconds as pandas' grouped sum gives them (`grouped_seconds`), as the KPIs of one replication always
    were, so the figures stay the same to the last bit."""
    out = {key: sums[key].reshape(replications, -1, types).sum(axis=1).ravel() for key in _COUNTED if key in sums}
    seconds = grouped_seconds(np.stack([sums[key] for key in SECONDS]), replications, types)
    out.update(zip(SECONDS, seconds, strict=True))
    return out


def grouped_seconds(values: np.ndarray, replications: int, types: int) -> np.ndarray:
    """Rows of cell values (each row: replication-major cells, call type fastest) summed per replication and call
    type, to the bit as pandas' grouped sum of them (``DataFrame(rows.T).groupby(group).sum()``, pandas 3) without
    its overhead (~1 ms a call): group labels in order (one call type, or one cell per replication) are summed by
    `numpy.add.reduceat`, as pandas does; otherwise by pandas' compensated (Kahan) sum, cell after cell, done here
    a step for all groups at once (`_compensated`). Many steps (long horizons) go through pandas itself, faster
    there."""
    rows, cells = values.shape
    steps = cells // (replications * types)
    missing = np.isnan(values)
    if (types == 1 or steps == 1) and not missing.any():  # pandas' reduceat path: sorted group labels
        return np.add.reduceat(values, np.arange(0, cells, steps), axis=1)
    if steps > _STEPWISE_UP_TO:
        cell = np.arange(cells)
        group = cell // (steps * types) * types + cell % types
        return pd.DataFrame(values.T).groupby(pd.Index(group)).sum().to_numpy().T.copy()
    by_step = np.moveaxis(values.reshape(rows, replications, steps, types), 2, 0)  # (steps, rows, reps, types)
    if np.isfinite(values).all():
        total = _compensated(by_step)
        if np.isfinite(total).all():  # no overflow: no error term was ever NaN
            return total.reshape(rows, -1)
    with np.errstate(invalid="ignore", over="ignore"):
        return _compensated(by_step, np.moveaxis(missing.reshape(rows, replications, steps, types), 2, 0)).reshape(
            rows, -1
        )


_STEPWISE_UP_TO = 400  # steps (days × intervals) summed a step at a time; beyond, pandas' loop is faster


def _compensated(by_step: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Kahan sums over the first axis, as pandas' grouped sum makes them (``y = value - c; t = sum + y;
    c = (t - sum) - y; sum = t``). With `missing` (NaN values, skipped), an error term that is NaN (an infinite
    value) is reset to 0, as pandas does (GH#53606); without, the values are finite and so are the terms."""
    total = np.zeros(by_step.shape[1:])
    compensation = np.zeros_like(total)
    for step, value in enumerate(by_step):
        y = value - compensation
        t = total + y
        error = t - total
        error -= y
        if missing is not None:
            error[error != error] = 0.0
            kept = ~missing[step]
            t = np.where(kept, t, total)
            error = np.where(kept, error, compensation)
        total, compensation = t, error
    return total


def row_sums(values: np.ndarray) -> np.ndarray:
    """Each row summed alone (a 1-D pairwise sum), as a replication's rows are when summed alone."""
    return np.array([np.ascontiguousarray(row).sum() for row in values], dtype=values.dtype)


def _records(columns: Mapping[str, np.ndarray]) -> list[dict]:
    """Columns of equal length as one dict per row: counts as int, the rest as float."""
    converted = {key: column.tolist() for key, column in columns.items()}
    rows = []
    for i in range(len(converted["offered"])):
        rows.append({key: int(values[i]) if key in _COUNTED else float(values[i]) for key, values in converted.items()})
    return rows
