"""KPIs computed from the flat tables of a run, by small pure functions a planner can read and redo.

Definitions (all times in seconds; calls that arrive during the warm-up are left out of every KPI):

- offered: live call attempts that reached the queue or got a busy signal: answered + abandoned + blocked +
  unserved + dropped (answered, then cut off by an outage) + balked (hung up at once rather than queue) + messages
  (sent to leave a message at the maximum wait) + disconnected (passed on by a transfer to a call type nobody was
  free for, `when_nobody_free: disconnect`; each leg of a journey is an attempt of its call type). A retrial is a
  new attempt. Callers the bot contained (contained) and callers who took a callback instead of waiting
  (callback_requests) are counted apart, and so are the callbacks made (callbacks_made, callbacks_within_deadline;
  callback_service_level = within deadline / requests).
- answered_within_threshold: answered with wait ≤ the call type's threshold.
- abandoned_within_threshold: abandoned with wait ≤ the threshold, and balked (a hang-up at once): "short
  abandons".
- service_level, by the scenario's `service_level.definition`:
  ``offered``: answered within T / offered;
  ``answered``: answered within T / answered;
  ``offered_less_short_abandons``: answered within T / (offered − abandoned within T).
- asa_seconds: mean wait of answered calls. aht_seconds: mean talk + wrap-up of answered calls.
- abandon_rate: abandoned / offered.
- balked, messages, balk_rate (balked / offered): only in scenarios with balking or a maximum wait
  (BEHAVIOUR_KEYS); messages that bring a callback count among callback_requests.
- occupancy: busy (talk + wrap-up) seconds / available seconds (logged in, not on a break or other off-phone
  activity) of the agents concerned; per call type, of the agents holding that skill.

The tables the charts draw are shaped here too, for reports and notebooks: `interval_profile` (per day and
interval) and `queue_and_busy` (calls waiting and agents busy, per few minutes of one day).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bposim import cells, formatting
from bposim.cells import COUNTS, SERVICE_LEVEL_DEFINITIONS, service_level  # noqa: F401  (defined beside the cells; public here)
from bposim.scenario.call_types import DEFERRED_CHANNELS

SUMMARY_KEYS = (
    *COUNTS,
    "service_level",
    "asa_seconds",
    "aht_seconds",
    "abandon_rate",
    "callback_service_level",
    "occupancy",
)
BEHAVIOUR_KEYS = (*cells.BEHAVIOUR_COUNTS, *cells.BEHAVIOUR_RATES)  # with balking or a maximum wait only


def call_counts(
    calls: pd.DataFrame, thresholds: dict[str, float], callback_deadline: float = math.inf
) -> dict[str, np.ndarray]:
    """Per call attempt, a 0/1 indicator for each count in COUNTS, plus the wait and work of answered calls.

    Live attempts are those not made as callbacks; the live KPIs leave out callers the bot contained and
    callers who took a callback instead of waiting.
    """
    categories = calls["call_type"].cat.categories
    return cells.indicators(
        calls["call_type"].cat.codes.to_numpy(),
        calls["outcome"].cat.codes.to_numpy(),
        calls["path"].cat.codes.to_numpy(),
        calls["wait"].to_numpy(),
        calls["handle_seconds"].to_numpy(),
        calls["wrap_seconds"].to_numpy(),
        np.array([thresholds[name] for name in categories], dtype=float),
        callback_deadline,
    )


def summed(indicators: dict[str, np.ndarray], cells_of_calls: np.ndarray, n_cells: int) -> pd.DataFrame:
    """Sum every indicator over the cells (0..n_cells-1) that each call attempt belongs to."""
    return pd.DataFrame(cells.summed(indicators, cells_of_calls, n_cells))


def with_rates(sums: pd.DataFrame, definition: str) -> pd.DataFrame:
    """The counts of a frame of summed counts, with service_level, asa_seconds, aht_seconds, abandon_rate and
    callback_service_level."""
    return pd.DataFrame(cells.with_rates(sums, definition), index=sums.index)


def kpi_tables(
    calls: pd.DataFrame,
    thresholds: dict[str, float],
    definition: str,
    days: int,
    intervals: int,
    callback_deadline: float = math.inf,
) -> tuple[pd.DataFrame, dict, dict[str, dict]]:
    """KPIs per (day, interval, call type) with every cell present, overall, and per call type.

    Calls that arrived during the warm-up are left out, and so are the items of deferred call types (email, case;
    their KPIs are the backlog's, `bposim.backlog`), whose rows stay, empty. Occupancy is not included (see
    `occupancy`). A run's tables compute them for all replications at once (`bposim.cells.kpi_cells`).
    """
    types = calls["call_type"].cat.categories
    columns = {name: calls[name].to_numpy() for name in ("wait", "handle_seconds", "wrap_seconds", "day", "interval")}
    columns.update({name: calls[name].cat.codes.to_numpy() for name in ("call_type", "outcome", "path")})
    columns["warmup"] = calls["warmup"].to_numpy(dtype=bool)
    limits = np.array([thresholds[name] for name in types], dtype=float)
    counted = None
    if "channel" in calls:  # deferred work (email, case) has no interval KPIs
        deferred = calls["channel"].isin(DEFERRED_CHANNELS).to_numpy()
        counted = np.bincount(columns["call_type"][deferred], minlength=len(types)) == 0
    table, overall, per_type, _ = cells.kpi_cells(
        columns, limits, definition, days, intervals, callback_deadline, counted=counted
    )
    table["call_type"] = pd.Categorical.from_codes(table["call_type"], categories=types)
    return pd.DataFrame(table), overall[0], dict(zip(types, per_type[0], strict=True))


def window_counts(
    calls: pd.DataFrame, thresholds: dict[str, float], windows: list[tuple[np.ndarray, np.ndarray]]
) -> list[dict[str, np.ndarray]]:
    """For each list of time windows [start, end), the counts of the live calls that arrived in each window."""
    order = np.argsort(calls["arrival"].to_numpy(), kind="stable")
    arrival = calls["arrival"].to_numpy()[order]
    running = {
        key: np.concatenate([[0], np.cumsum(np.asarray(values, dtype=np.int64)[order])])
        for key, values in call_counts(calls, thresholds).items()
        if key in COUNTS
    }
    out = []
    for starts, ends in windows:
        first, last = np.searchsorted(arrival, starts), np.searchsorted(arrival, ends)
        out.append({key: totals[last] - totals[first] for key, totals in running.items()})
    return out


def occupancy(agents: pd.DataFrame, groups: list[str] | None = None) -> float:
    """Busy over available (logged-in, not off-phone) seconds of the agents (of the given groups)."""
    if groups is not None:
        agents = agents[agents["group"].isin(groups)]
    available = agents["logged_in_seconds"].sum() - agents["off_phone_seconds"].sum()
    return _ratio(agents["busy_seconds"].sum(), available)


def covered_before(starts: np.ndarray, ends: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point t, the total length of the spans [start, end) that lies before t: Σ (t − start) over the
    spans begun by t, less Σ (t − end) over those ended by t (the starts, then the ends, sorted one at a time)."""
    begun_part = _before(starts, points)
    return begun_part - _before(ends, points)


def _before(times: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point t, Σ (t − time) over the times before it."""
    times = np.sort(times)
    sums = np.empty(len(times) + 1)
    sums[0] = 0.0
    np.cumsum(times, out=sums[1:])
    count = np.searchsorted(times, points)
    return count * points - sums[count]


def per_interval(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Agent-equivalents in each interval: seconds covered by the spans over the interval's length.

    `edges` is (days, intervals + 1): the interval boundaries of each day.
    """
    covered = covered_before(starts, ends, edges.ravel()).reshape(edges.shape)
    return np.diff(covered, axis=1) / np.diff(edges, axis=1)


def held_spans(holder: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spans [start, end) of each holder (an agent, or an agent in a replication) merged where they overlap or
    touch: (holder, start, end) of the time each holder held at least one, by holder, then start."""
    if not len(holder):  # nobody held anything (a centre with no agents busy)
        return holder, starts, ends
    order = np.lexsort((starts, holder))
    holder, starts, ends = holder[order], starts[order], ends[order]
    reach = pd.Series(ends).groupby(holder).cummax().to_numpy()  # the latest end so far of the holder's spans
    new = np.ones(len(holder), bool)
    new[1:] = (holder[1:] != holder[:-1]) | (starts[1:] > reach[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(holder)) - 1
    return holder[first], starts[first], reach[last]


def sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Float sums of `values` per code 0..n-1 (float even when there are no values)."""
    return np.bincount(codes, weights=values, minlength=n).astype(np.float64)


def mean_and_ci(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean over replications and the half-width of its Student-t confidence interval (NaN for one)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(data) == 0:
        return math.nan, math.nan
    if len(data) < 2:
        return float(data[0]), math.nan
    from scipy import stats as scipy_stats  # imported here: SciPy's statistics take a second to load

    half = scipy_stats.t.ppf(0.5 + confidence / 2, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data))
    return float(data.mean()), float(half)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def pooled_service_level(
    days: pd.DataFrame, keys: list[str], definition: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Service level per `keys` pooled over days, with its standard error and confidence half-width.

    `days` holds one row of counts per day and key (a run's `intervals` table: every day and replication a row).
    The service level is the pooled ratio R = Σ within / Σ base over the days (`base` by the definition), the
    scenario's own definition. Its standard error is the delta method's over days: the daily values
    (within − R·base) / mean(base) have the ratio's first-order variance, and days, not calls, are independent
    (calls within a day share a queue). The half-width is Student-t with days − 1 degrees of freedom (NaN for
    one day). Returns offered, within, base, days, service_level, service_level_se and service_level_ci per key;
    the service level is NaN where the base is 0.
    """
    if definition not in SERVICE_LEVEL_DEFINITIONS:
        raise ValueError(f"unknown service-level definition '{definition}'; known: {SERVICE_LEVEL_DEFINITIONS}")
    base = {
        "offered": days["offered"],
        "answered": days["answered"],
        "offered_less_short_abandons": days["offered"] - days["abandoned_within_threshold"],
    }[definition]
    table = pd.DataFrame({key: days[key] for key in keys})
    table["offered"] = days["offered"].to_numpy(float)
    table["within"] = days["answered_within_threshold"].to_numpy(float)
    table["base"] = np.asarray(base, float)
    grouped = table.groupby(keys, observed=True, sort=True)
    pooled = grouped[["offered", "within", "base"]].sum()
    pooled["days"] = grouped.size()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = pooled["within"] / pooled["base"]
        mean_base = pooled["base"] / pooled["days"]
        index = pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1 else pd.Index(table[keys[0]])
        residual = (table["within"].to_numpy() - ratio.reindex(index).to_numpy() * table["base"].to_numpy()) / (
            mean_base.reindex(index).to_numpy()
        )
    spread = (
        pd.Series(residual, index=table.index)
        .groupby([table[key] for key in keys], observed=True, sort=True)
        .std(ddof=1)
    )
    from scipy import stats as scipy_stats

    pooled["service_level"] = ratio
    pooled["service_level_se"] = (spread / np.sqrt(pooled["days"])).where(pooled["days"] >= 2)
    quantile = scipy_stats.t.ppf(0.5 + confidence / 2, (pooled["days"] - 1).clip(lower=1))
    pooled["service_level_ci"] = quantile * pooled["service_level_se"]
    return pooled


def _weighted(values: pd.Series, weights: pd.Series) -> float:
    """The weighted mean of the non-missing values (NaN if no weight)."""
    ok = values.notna() & (weights > 0)
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else float("nan")


def daily_profile(run: Any) -> pd.DataFrame:
    """Per day, over its live call types: offered (the mean per replication), the service level (offered-weighted
    over the day's intervals, so pooled over them and the replications) and the target; a closed day has nothing
    offered and no service level."""
    intervals = run.intervals
    replications = intervals["replication"].nunique() if "replication" in intervals else 1
    rows = [
        {
            "day": day,
            "offered": part["offered"].sum() / max(replications, 1),
            "service_level": _weighted(part["service_level"], part["offered"]),
            "target": _weighted(part["target"], part["offered"].clip(lower=1)),
        }
        for day, part in intervals.groupby("day", sort=True)
    ]
    return pd.DataFrame(rows, columns=["day", "offered", "service_level", "target"])


def interval_profile(run: Any, call_type: str | None = None) -> pd.DataFrame:
    """Per day and interval: offered, offered-weighted service level and target, scheduled and on-phone agents.

    With several replications (a sweep cell, or `simulate(..., replications=n)`), offered calls and agents are the
    means per replication and the service level is pooled over them.
    """
    intervals = run.intervals
    if call_type is not None:
        intervals = intervals[intervals["call_type"] == call_type]
    replications = intervals["replication"].nunique() if "replication" in intervals else 1
    keys = ["day", "interval"]
    rows = []
    for (day, interval), part in intervals.groupby(keys, sort=True):
        rows.append(
            {
                "day": day,
                "interval": interval,
                "interval_start": part["interval_start"].iloc[0],
                "offered": part["offered"].sum() / max(replications, 1),
                "service_level": _weighted(part["service_level"], part["offered"]),
                "target": _weighted(part["target"], part["offered"].clip(lower=1)),
            }
        )
    profile = pd.DataFrame(rows, columns=[*keys, "interval_start", "offered", "service_level", "target"])
    staffing = run.staffing
    per_replication = staffing["replication"].nunique() if "replication" in staffing else 1
    staff = staffing.groupby(keys, as_index=False)[["scheduled", "on_phone"]].sum()
    staff[["scheduled", "on_phone"]] /= max(per_replication, 1)
    return profile.merge(staff, on=keys, how="outer").sort_values(keys, ignore_index=True)


def queue_and_busy(run: Any, day: int = 0, bin_minutes: float = 5, replication: int = 0) -> pd.DataFrame:
    """Per `bin_minutes` of one day: mean calls waiting for an agent, agents busy (talk and wrap-up) and agents on
    the phone, each averaged exactly over the bin. With channels other than voice: live contacts waiting (a backlog
    of deferred work is the backlog table's), and agents busy with the day's work, an agent holding several chat
    sessions counted once."""
    calls, staffing = run.calls, run.staffing
    if "replication" in calls:
        calls = calls[calls["replication"] == replication]
    if "replication" in staffing:
        staffing = staffing[staffing["replication"] == replication]
    channels = "channel" in calls and not calls["channel"].eq("voice").all()
    opening = day * 86_400.0  # times count from the opening of day 0; day d opens d days later
    if channels:  # the work of the day, whenever its contacts arrived; an agent holding chats is busy once
        worked = calls[calls["answer"].notna()]
        worked = worked[(worked["answer"] >= opening) & (worked["answer"] < opening + 86_400.0)]
        calls = calls[(calls["day"] == day) & ~calls["channel"].isin(DEFERRED_CHANNELS)]
    else:
        calls = calls[calls["day"] == day]
        worked = calls[calls["answer"].notna()]
    staffing = staffing[staffing["day"] == day]
    scenario = getattr(run, "scenario", None)
    clock_start = scenario.horizon.start_seconds if scenario is not None else opening_seconds(staffing)
    begin = worked["answer"].to_numpy(dtype=float)
    busy_end = (worked["end"] + worked["wrap_seconds"].fillna(0)).to_numpy(dtype=float)
    if channels:
        _, begin, busy_end = held_spans(worked["agent"].cat.codes.to_numpy().astype(np.int64), begin, busy_end)
    queued = calls[~calls["outcome"].isin(["blocked", "contained"])]
    left = queued["answer"].fillna(queued["end"]).to_numpy(dtype=float)
    last = float(np.nanmax(np.concatenate([[opening + 3_600], left, busy_end])))
    width = bin_minutes * 60
    edges = opening + np.arange(0, np.ceil((last - opening) / width) + 1)[None, :] * width
    clock = [formatting.clock(t - opening + clock_start) for t in edges[0, :-1]]
    staffed = staffing.groupby("interval_start", sort=True)["on_phone"].sum()
    slots = list(staffed.index)
    on_phone = [float(staffed[max((s for s in slots if s <= c), default=slots[0])]) if slots else np.nan for c in clock]
    return pd.DataFrame(
        {
            "time": edges[0, :-1],
            "clock": clock,
            "waiting": per_interval(queued["arrival"].to_numpy(dtype=float), left, edges).ravel(),
            "busy": per_interval(begin, busy_end, edges).ravel(),
            "on_phone": on_phone,
        }
    )


def opening_seconds(staffing: pd.DataFrame) -> float:
    """Seconds after midnight of the first interval in a staffing table (for tables read back from files)."""
    first = str(staffing["interval_start"].min()) if len(staffing) else "00:00"
    hours, minutes = first.split(":")
    return int(hours) * 3600 + int(minutes) * 60
