"""The tables of a run, built once from the records of all its replications: `run_tables(scenario, records)`.

`bposim.columns` turns each replication's records into numpy columns; here they become the pandas tables of the
run, replication after replication (with a `replication` column when there are several), and each replication's
KPIs, computed together by bincounts over (replication, ...) cells. Only the tables asked for are built. Nothing
here simulates. The columns of every table are documented in `bposim.run`, the KPIs in `bposim.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.columns import Records
from bposim.engine.records import ABSENCE, ACTIVITY_KINDS, OUTAGE_KINDS, OUTCOMES, PATHS
from bposim.formatting import clock
from bposim.scenario import SECONDS_PER_DAY, Scenario

TABLES = ("calls", "intervals", "agents", "staffing", "activities", "outages")


@dataclass(frozen=True)
class Tables:
    """The tables asked for (by name, each with a `replication` column when there are several replications), and
    each replication's summary: the KPIs overall and per call type (`by_call_type`), no costs."""

    tables: dict[str, pd.DataFrame]
    summaries: list[dict] = field(repr=False)


def run_tables(scenario: Scenario, records: Records, wanted: Collection[str] = TABLES) -> Tables:
    """The tables named in `wanted` (and the KPIs of every replication) from the records of a run of `scenario`."""
    replications = records.replications
    calls = _calls_table(scenario, records)
    thresholds = {ct.name: scenario.service_level_for(ct)[0] for ct in scenario.call_types}
    horizon = scenario.horizon
    callbacks = scenario.technology.callbacks
    deadline = callbacks.deadline_minutes * 60.0 if callbacks is not None else math.inf
    intervals, overall, per_type = metrics.kpi_tables(
        calls, thresholds, scenario.service_level.definition, horizon.days, horizon.intervals, deadline, replications
    )
    window_start = _window_start(scenario)
    agents = _agents_table(scenario, records, window_start)
    _add_occupancy(scenario, agents, replications, overall, per_type)
    built = {"calls": calls, "intervals": _label_intervals(scenario, intervals, thresholds), "agents": agents}
    if "staffing" in wanted:
        built["staffing"] = _staffing_table(scenario, records)
    if "activities" in wanted:
        built["activities"] = _activities_table(scenario, records)
    if "outages" in wanted:
        built["outages"] = _outages_table(scenario, records, calls, thresholds)
    if replications > 1:
        for name in ("intervals", "agents", "staffing", "activities", "outages"):
            if name in built:
                rows = len(built[name]) // replications if name != "outages" and name != "activities" else None
                built[name]["replication"] = (
                    np.repeat(np.arange(replications, dtype=np.int64), rows)
                    if rows is not None
                    else records.replication(name)
                )
    summaries = [{**overall[r], "by_call_type": per_type[r]} for r in range(replications)]
    return Tables({name: table for name, table in built.items() if name in wanted}, summaries)


def _calls_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """The calls table from the call columns (which it takes over), with a replication column when several."""
    columns = records.calls
    agent = columns["agent"]
    group = np.append(records.agent_groups, -1).astype(np.int32)[agent]
    table = {
        "call_id": columns["call_id"],
        "call_type": pd.Categorical.from_codes(columns["call_type"], [ct.name for ct in scenario.call_types]),
        "attempt": columns["attempt"],
        "day": columns["day"],
        "interval": columns["interval"],
        "arrival": columns["arrival"],
        "answer": columns["answer"],
        "end": columns["end"],
        "wait": columns["wait"],
        "handle_seconds": columns["handle_seconds"],
        "wrap_seconds": columns["wrap_seconds"],
        "outcome": pd.Categorical.from_codes(columns["outcome"], OUTCOMES),
        "agent": pd.Categorical.from_codes(agent, records.agent_names),
        "group": pd.Categorical.from_codes(group, [g.name for g in scenario.agent_groups]),
        "path": pd.Categorical.from_codes(columns["path"], PATHS),
        "bot_seconds": columns["bot_seconds"],
        "warmup": columns["warmup"],
    }
    if records.replications > 1:
        table["replication"] = records.replication("calls")
    return pd.DataFrame(table, copy=False)


def _label_intervals(scenario: Scenario, table: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The KPIs per interval with each interval's start (HH:MM), threshold and target."""
    horizon = scenario.horizon
    labels = np.array(_clock_labels(horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds))
    table.insert(2, "interval_start", labels[table["interval"].to_numpy()])
    codes = table["call_type"].cat.codes.to_numpy()
    table["threshold_seconds"] = np.array([thresholds[ct.name] for ct in scenario.call_types], dtype=float)[codes]
    targets = [scenario.service_level_for(ct)[1] for ct in scenario.call_types]
    table["target"] = np.array(targets, dtype=float)[codes]
    return table


def _activities_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """One row per break, shrinkage episode or absence, by start, then agent."""
    columns = records.activities
    codes = columns["agent"].astype(np.int64)
    table = {
        "agent": pd.Categorical.from_codes(codes, records.agent_names),
        "group": pd.Categorical.from_codes(records.agent_groups[codes], [g.name for g in scenario.agent_groups]),
        "kind": pd.Categorical.from_codes(columns["kind"].astype(np.int64), ACTIVITY_KINDS),
    }
    table.update({name: column for name, column in columns.items() if name not in table})
    return pd.DataFrame(table)


def _agents_table(
    scenario: Scenario, records: Records, window_start: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """Per agent (and replication): calls handled, busy, idle, off-phone, logged-in, overtime and unpaid seconds,
    absent days and occupancy, counted after the warm-up.

    `window_start(times)` says when statistics start on each time's day. Occupancy is busy time over the time the
    agent was available for calls: logged in and not on a break or other off-phone activity.
    """
    n = len(records.agent_names)
    cells = n * records.replications
    calls = records.calls
    answered = ~np.isnan(calls["answer"])
    codes = calls["agent"][answered] + records.replication("calls")[answered] * n
    begin = calls["answer"][answered]
    window = window_start(begin)
    busy = _after(begin, calls["end"][answered] + calls["wrap_seconds"][answered], window)
    sessions = records.sessions
    login, logout = sessions[:, 1], sessions[:, 2]
    session_window = window_start(login)
    session_codes = sessions[:, 0].astype(np.int64) + records.replication("sessions") * n
    overtime_from = np.maximum(sessions[:, 3], login)
    activities = records.activities
    activity_codes = activities["agent"].astype(np.int64) + records.replication("activities") * n
    absence = activities["kind"] == ABSENCE
    taken = ~absence & ~activities["missed"]
    off_start = activities["start"][taken]
    off_seconds = _after(off_start, activities["end"][taken], window_start(off_start))
    off_codes = activity_codes[taken]
    unpaid = ~activities["paid"][taken]
    sum_by = metrics.sum_by
    table = pd.DataFrame(
        {
            "agent": np.tile(np.array(records.agent_names, dtype=object), records.replications),
            "group": pd.Categorical.from_codes(
                np.tile(records.agent_groups, records.replications), [g.name for g in scenario.agent_groups]
            ),
            "calls_handled": np.bincount(codes[begin >= window], minlength=cells),
            "busy_seconds": sum_by(codes, busy, cells),
            "off_phone_seconds": sum_by(off_codes, off_seconds, cells),
            "logged_in_seconds": sum_by(session_codes, _after(login, logout, session_window), cells),
            "overtime_seconds": sum_by(session_codes, _after(overtime_from, logout, session_window), cells),
            "unpaid_seconds": sum_by(off_codes[unpaid], off_seconds[unpaid], cells),
            "absent_days": np.bincount(activity_codes[absence], minlength=cells),
        }
    )
    available = table["logged_in_seconds"] - table["off_phone_seconds"]
    table.insert(4, "idle_seconds", available - table["busy_seconds"])
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = table["busy_seconds"] / available
    return table


def _add_occupancy(
    scenario: Scenario, agents: pd.DataFrame, replications: int, overall: list[dict], per_type: list[dict]
) -> None:
    """Each replication's occupancy (`bposim.metrics.occupancy`) overall and per call type, of the agents holding
    its skill, added to its summary dicts."""

    def per_replication(name: str) -> np.ndarray:
        return agents[name].to_numpy().reshape(replications, -1)

    busy, logged_in, off = (
        per_replication(name) for name in ("busy_seconds", "logged_in_seconds", "off_phone_seconds")
    )

    def occupancy(holders: np.ndarray | slice) -> list[float]:
        available = metrics.row_sums(logged_in[:, holders]) - metrics.row_sums(off[:, holders])
        worked = metrics.row_sums(busy[:, holders])
        return [float(b) / float(a) if a else math.nan for b, a in zip(worked, available, strict=True)]

    for r, value in enumerate(occupancy(slice(None))):
        overall[r]["occupancy"] = value
    group_codes = agents["group"].cat.codes.to_numpy()[: busy.shape[1]]
    for call_type in scenario.call_types:
        holders = [
            i for i, g in enumerate(scenario.agent_groups) if any(s.call_type == call_type.name for s in g.skills)
        ]
        for r, value in enumerate(occupancy(np.isin(group_codes, holders))):
            per_type[r][call_type.name]["occupancy"] = value


def _after(starts: np.ndarray, ends: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Length of each span [start, end) after its window start."""
    return np.clip(ends - np.maximum(starts, window), 0.0, None)


def _window_start(scenario: Scenario) -> Callable[[np.ndarray], np.ndarray]:
    """For an array of times: when statistics start on each time's day (the day's opening + warm-up)."""
    warmup = scenario.horizon.warmup_minutes * 60.0
    if scenario.horizon.days == 1:
        return lambda times: np.full(len(times), warmup)
    return lambda times: np.floor(np.asarray(times) / SECONDS_PER_DAY) * SECONDS_PER_DAY + warmup


def _staffing_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """Per replication, day, interval and group: agents scheduled, absent, present, off the phones, on the phones,
    busy (agent-equivalents averaged over the interval)."""
    horizon = scenario.horizon
    groups = len(scenario.agent_groups)
    edges = (
        np.arange(horizon.days)[:, None] * float(SECONDS_PER_DAY)
        + np.arange(horizon.intervals + 1)[None, :] * horizon.interval_seconds
    )
    day_starts = np.arange(horizon.days) * float(SECONDS_PER_DAY) - horizon.start_seconds
    rostered = records.rostered
    scheduled = []
    for index, group in enumerate(scenario.agent_groups):
        shifts = rostered[rostered[:, 0] == index]
        shift_starts = (day_starts[:, None] + shifts[None, :, 1]).ravel()
        shift_ends = (day_starts[:, None] + shifts[None, :, 2]).ravel()
        plan = np.tile(np.asarray(group.agents.per_interval_counts(horizon.intervals), float), horizon.days)
        scheduled.append(plan + metrics.per_interval(shift_starts, shift_ends, edges).ravel())
    calls, activities, sessions = records.calls, records.activities, records.sessions
    answered = ~np.isnan(calls["answer"])
    call_group = np.append(records.agent_groups, -1)[calls["agent"]]
    activity_group = records.agent_groups[activities["agent"].astype(np.int64)]
    absence = activities["kind"] == ABSENCE
    taken = ~absence & ~activities["missed"]
    session_group = records.agent_groups[sessions[:, 0].astype(np.int64)]
    spans = {
        "busy": (answered, call_group, calls["answer"], calls["end"] + calls["wrap_seconds"], "calls"),
        "absent": (absence, activity_group, activities["start"], activities["end"], "activities"),
        "present": (None, session_group, sessions[:, 1], sessions[:, 2], "sessions"),
        "off_phone": (taken, activity_group, activities["start"], activities["end"], "activities"),
    }
    cells = horizon.days * horizon.intervals
    measured = {}
    for name, (keep, group_of, starts, ends, kind) in spans.items():
        bounds = np.concatenate([[0], np.cumsum(records.counts[kind])])
        out = np.empty((records.replications, cells, groups))
        for r in range(records.replications):
            mine = slice(bounds[r], bounds[r + 1])
            chosen = np.ones(bounds[r + 1] - bounds[r], bool) if keep is None else keep[mine]
            for index in range(groups):
                ok = chosen & (group_of[mine] == index)
                out[r, :, index] = metrics.per_interval(starts[mine][ok], ends[mine][ok], edges).ravel()
        measured[name] = out.ravel()
    rows = records.replications * cells * groups
    position = np.arange(rows) % (cells * groups)
    interval = position // groups % horizon.intervals
    labels = np.array(_clock_labels(horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds))
    present, off = measured["present"], measured["off_phone"]
    table = pd.DataFrame(
        {
            "day": position // (groups * horizon.intervals),
            "interval": interval,
            "interval_start": labels[interval],
            "group": pd.Categorical.from_codes(position % groups, [g.name for g in scenario.agent_groups]),
            "scheduled": np.tile(np.stack(scheduled, axis=1).ravel(), records.replications),
            "absent": measured["absent"],
            "present": present,
            "off_phone": off,
            "on_phone": present - off,
            "busy": measured["busy"],
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = table["busy"] / table["on_phone"]
    return table


def _outages_table(scenario: Scenario, records: Records, calls: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """One row per outage (by replication, start, tool), with what happened to the calls that arrived during it and
    in the interval after; built per replication, as outages are few and only in scenarios with tools."""
    if not len(records.outages):
        return _replication_outages(scenario, records.outages, calls.iloc[:0], thresholds)
    call_bounds = np.concatenate([[0], np.cumsum(records.counts["calls"])])
    outage_bounds = np.concatenate([[0], np.cumsum(records.counts["outages"])])
    parts = [
        _replication_outages(
            scenario,
            records.outages[outage_bounds[r] : outage_bounds[r + 1]],
            calls.iloc[call_bounds[r] : call_bounds[r + 1]],
            thresholds,
        )
        for r in range(records.replications)
    ]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _replication_outages(scenario: Scenario, rows: np.ndarray, calls: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The outages of one replication (rows of OUTAGE_FIELDS, by start and tool) and the calls around them."""
    tools = scenario.tools
    table = pd.DataFrame(
        {
            "tool": pd.Categorical.from_codes(rows[:, 0].astype(np.int64), [tool.name for tool in tools]),
            "kind": pd.Categorical.from_codes(rows[:, 1].astype(np.int64), OUTAGE_KINDS),
            "start": rows[:, 2],
            "end": rows[:, 3],
            "duration_seconds": rows[:, 3] - rows[:, 2],
            "effects": [_effects_label(tools[int(i)]) for i in rows[:, 0]],
        }
    )
    cut = np.sort(calls.loc[calls["outcome"] == "dropped", "end"].to_numpy())
    table["dropped"] = np.searchsorted(cut, rows[:, 3], side="right") - np.searchsorted(cut, rows[:, 2])
    recovery = scenario.horizon.interval_seconds
    windows = [(rows[:, 2], rows[:, 3]), (rows[:, 3], rows[:, 3] + recovery)]
    counted = metrics.window_counts(calls, thresholds, windows) if len(rows) else [{}, {}]
    for label, window in zip(("during", "after"), counted, strict=True):
        window = {key: window.get(key, np.zeros(0, np.int64)) for key in metrics.COUNTS}
        for key in ("offered", "answered", "abandoned", "blocked", "answered_within_threshold"):
            table[f"{key}_{label}"] = window[key]
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"service_level_{label}"] = window["answered_within_threshold"] / window["offered"]
    return table


def _effects_label(tool) -> str:
    """What an outage of the tool does, e.g. "slow ×1.5 (billing); down (all)"."""
    parts = []
    for effect in tool.effects:
        scope = ", ".join([*(effect.groups or []), *(effect.call_types or [])]) or "all"
        what = f"slow ×{effect.multiplier:g}" if effect.type == "slow" else effect.type
        parts.append(f"{what} ({scope})")
    return "; ".join(parts)


def _clock_labels(seconds: np.ndarray) -> list[str]:
    return [clock(s) for s in seconds]
