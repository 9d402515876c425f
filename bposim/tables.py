"""The tables of one replication, built from the engine's records: `replication_tables(scenario, centre)`.

A `Centre` that has run holds flat records (call attempts, agent sessions, activities, outages); here they become
the pandas tables of a run, a column at a time, with the replication's KPIs. Nothing here simulates, and nothing
here knows about other replications (`Run.concat` joins them). The columns of every table are documented in
`bposim.run`, the KPIs in `bposim.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.engine.records import (
    ACTIVITY_FIELDS,
    ACTIVITY_KINDS,
    ANSWERED,
    CALL_FIELDS,
    OUTAGE_FIELDS,
    OUTAGE_KINDS,
    OUTCOMES,
    PATHS,
    SESSION_FIELDS,
)
from bposim.formatting import clock
from bposim.scenario import SECONDS_PER_DAY, Scenario

if TYPE_CHECKING:
    from bposim.engine.model import Centre


@dataclass(frozen=True)
class Tables:
    """One replication's tables, and its summary: the KPIs overall and per call type (`by_call_type`), no costs."""

    calls: pd.DataFrame
    intervals: pd.DataFrame
    agents: pd.DataFrame
    staffing: pd.DataFrame
    activities: pd.DataFrame
    outages: pd.DataFrame
    summary: dict = field(repr=False)


def replication_tables(scenario: Scenario, centre: Centre) -> Tables:
    """The tables and KPIs of one replication: `centre`, a run of `scenario`'s centre."""
    calls = _calls_table(scenario, centre)
    thresholds = {ct.name: scenario.service_level_for(ct)[0] for ct in scenario.call_types}
    definition = scenario.service_level.definition
    horizon = scenario.horizon
    callbacks = scenario.technology.callbacks
    deadline = callbacks.deadline_minutes * 60.0 if callbacks is not None else math.inf
    intervals, overall, per_type = metrics.kpi_tables(
        calls, thresholds, definition, horizon.days, horizon.intervals, deadline
    )
    intervals = _label_intervals(scenario, intervals, thresholds)
    names = calls["agent"].cat.categories
    group_names = [g.name for g in scenario.agent_groups]
    agent_groups = pd.Categorical.from_codes(
        np.array([agent.group.index for agent in centre.agents], dtype=np.int64), group_names
    )
    sessions = _sessions_table(centre, names)
    activities = _activities_table(centre, names, agent_groups)
    agents = _agents_table(calls, sessions, activities, agent_groups, _window_start(scenario))
    staffing = _staffing_table(scenario, centre, calls, sessions, activities, agent_groups)
    overall["occupancy"] = metrics.occupancy(agents)
    for call_type in scenario.call_types:
        holders = [g.name for g in scenario.agent_groups if any(s.call_type == call_type.name for s in g.skills)]
        per_type[call_type.name]["occupancy"] = metrics.occupancy(agents, holders)
    outages = _outages_table(scenario, centre, calls, thresholds)
    return Tables(
        calls=calls,
        intervals=intervals,
        agents=agents,
        staffing=staffing,
        activities=activities,
        outages=outages,
        summary={**overall, "by_call_type": per_type},
    )


def _calls_table(scenario: Scenario, centre: Centre) -> pd.DataFrame:
    """The calls table, sorted by caller and attempt, built a column at a time to keep memory low."""
    rows = centre.records.array()
    order = np.lexsort((rows[:, CALL_FIELDS.index("attempt")], rows[:, CALL_FIELDS.index("call_id")]))
    raw = {name: rows[order, i] for i, name in enumerate(CALL_FIELDS)}
    del rows, order

    def column(name: str, dtype=np.float64) -> np.ndarray:
        return raw.pop(name).astype(dtype, copy=False)

    horizon = scenario.horizon
    arrival = column("arrival")
    day = (arrival // SECONDS_PER_DAY).astype(np.int32) if horizon.days > 1 else np.zeros(len(arrival), np.int32)
    since_open = arrival - day * float(SECONDS_PER_DAY)
    interval = np.clip(since_open // horizon.interval_seconds, 0, horizon.intervals - 1).astype(np.int32)
    warmup = since_open < horizon.warmup_minutes * 60.0
    del since_open
    outcome = column("outcome", np.int8)
    answer, end = column("answer"), column("end")
    agent_index = column("agent", np.int32)
    group_index = np.array([agent.group.index for agent in centre.agents] + [-1], dtype=np.int32)[agent_index]
    table = {
        "call_id": column("call_id", np.int64),
        "call_type": pd.Categorical.from_codes(column("call_type", np.int16), [ct.name for ct in scenario.call_types]),
        "attempt": column("attempt", np.int32),
        "day": day,
        "interval": interval,
        "arrival": arrival,
        "answer": answer,
        "end": end,
        "wait": np.where(outcome == ANSWERED, answer, end) - arrival,
        "handle_seconds": column("handle_seconds"),
        "wrap_seconds": column("wrap_seconds"),
        "outcome": pd.Categorical.from_codes(outcome, OUTCOMES),
        "agent": pd.Categorical.from_codes(agent_index, [agent.name for agent in centre.agents]),
        "group": pd.Categorical.from_codes(group_index, [g.name for g in scenario.agent_groups]),
        "path": pd.Categorical.from_codes(column("path", np.int8), PATHS),
        "bot_seconds": column("bot_seconds"),
        "warmup": warmup,
    }
    return pd.DataFrame(table, copy=False)


def _label_intervals(scenario: Scenario, table: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """The KPIs per interval with each interval's start (HH:MM), threshold and target."""
    horizon = scenario.horizon
    starts = horizon.start_seconds + table["interval"].to_numpy() * horizon.interval_seconds
    table.insert(2, "interval_start", _clock_labels(starts))
    targets = {ct.name: scenario.service_level_for(ct)[1] for ct in scenario.call_types}
    table["threshold_seconds"] = table["call_type"].map(thresholds).astype(float)
    table["target"] = table["call_type"].map(targets).astype(float)
    return table


def _sessions_table(centre: Centre, names: pd.Index) -> pd.DataFrame:
    """One row per agent session (login to logout), agents named by a categorical over `names`."""
    sessions = pd.DataFrame(
        np.array(centre.workforce.sessions, dtype=np.float64).reshape(-1, len(SESSION_FIELDS)),
        columns=list(SESSION_FIELDS),
    )
    sessions["agent"] = pd.Categorical.from_codes(sessions["agent"].to_numpy(dtype=np.int64), names)
    return sessions


def _activities_table(centre: Centre, names: pd.Index, agent_groups: pd.Categorical) -> pd.DataFrame:
    """One row per break, shrinkage episode or absence, by start."""
    rows = centre.workforce.activities
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(ACTIVITY_FIELDS)
    table = pd.DataFrame(
        {
            name: np.asarray(values, dtype=object if name == "name" else np.float64)
            for name, values in zip(ACTIVITY_FIELDS, columns, strict=True)
        }
    )
    codes = table["agent"].to_numpy(dtype=np.int64)
    table["agent"] = pd.Categorical.from_codes(codes, names)
    table.insert(1, "group", agent_groups[codes] if len(codes) else pd.Categorical([], agent_groups.categories))
    table["kind"] = pd.Categorical.from_codes(table["kind"].to_numpy(dtype=np.int64), ACTIVITY_KINDS)
    for flag in ("late", "missed", "paid"):
        table[flag] = table[flag].astype(bool)
    return table.sort_values(["start", "agent"], kind="stable", ignore_index=True)


def _agents_table(
    calls: pd.DataFrame,
    sessions: pd.DataFrame,
    activities: pd.DataFrame,
    groups: pd.Categorical,
    window_start: Callable[[np.ndarray], np.ndarray],
) -> pd.DataFrame:
    """Per agent: calls handled, busy, idle, off-phone, logged-in, overtime and unpaid seconds, absent days and
    occupancy, counted after the warm-up.

    `calls`, `sessions` and `activities` name agents by categoricals over the same agent names, in the order
    of `groups` (each agent's group); `window_start(times)` says when statistics start on each time's day.
    Occupancy is busy time over the time the agent was available for calls: logged in and not on a break or
    other off-phone activity.
    """
    names = sessions["agent"].cat.categories
    n = len(names)
    answered = calls[calls["answer"].notna().to_numpy()]
    codes = answered["agent"].cat.codes.to_numpy()
    begin = answered["answer"].to_numpy()
    window = window_start(begin)
    busy = _after(begin, (answered["end"] + answered["wrap_seconds"]).to_numpy(), window)
    login, logout = sessions["login"].to_numpy(), sessions["logout"].to_numpy()
    session_window = window_start(login)
    session_codes = sessions["agent"].cat.codes.to_numpy()
    overtime_from = np.maximum(sessions["planned_logout"].to_numpy(), login)
    kind = activities["kind"].to_numpy()
    taken = (kind != "absence") & ~activities["missed"].to_numpy(dtype=bool)
    off = activities[taken]
    off_seconds = _after(off["start"].to_numpy(), off["end"].to_numpy(), window_start(off["start"].to_numpy()))
    off_codes = off["agent"].cat.codes.to_numpy()
    unpaid = ~off["paid"].to_numpy(dtype=bool)
    sum_by = metrics.sum_by
    table = pd.DataFrame(
        {
            "agent": names,
            "group": groups,
            "calls_handled": np.bincount(codes[begin >= window], minlength=n),
            "busy_seconds": sum_by(codes, busy, n),
            "off_phone_seconds": sum_by(off_codes, off_seconds, n),
            "logged_in_seconds": sum_by(session_codes, _after(login, logout, session_window), n),
            "overtime_seconds": sum_by(session_codes, _after(overtime_from, logout, session_window), n),
            "unpaid_seconds": sum_by(off_codes[unpaid], off_seconds[unpaid], n),
            "absent_days": np.bincount(activities["agent"].cat.codes.to_numpy()[kind == "absence"], minlength=n),
        }
    )
    available = table["logged_in_seconds"] - table["off_phone_seconds"]
    table.insert(4, "idle_seconds", available - table["busy_seconds"])
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = table["busy_seconds"] / available
    return table


def _after(starts: np.ndarray, ends: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Length of each span [start, end) after its window start."""
    return np.clip(ends - np.maximum(starts, window), 0.0, None)


def _window_start(scenario: Scenario) -> Callable[[np.ndarray], np.ndarray]:
    """For an array of times: when statistics start on each time's day (the day's opening + warm-up)."""
    warmup = scenario.horizon.warmup_minutes * 60.0
    if scenario.horizon.days == 1:
        return lambda times: np.full(len(times), warmup)
    return lambda times: np.floor(np.asarray(times) / SECONDS_PER_DAY) * SECONDS_PER_DAY + warmup


def _staffing_table(
    scenario: Scenario,
    centre: Centre,
    calls: pd.DataFrame,
    sessions: pd.DataFrame,
    activities: pd.DataFrame,
    agent_groups: pd.Categorical,
) -> pd.DataFrame:
    """Per day, interval and group: agents scheduled, absent, present, off the phones, on the phones, busy."""
    horizon = scenario.horizon
    edges = (
        np.arange(horizon.days)[:, None] * float(SECONDS_PER_DAY)
        + np.arange(horizon.intervals + 1)[None, :] * horizon.interval_seconds
    )
    session_group = agent_groups.codes[sessions["agent"].cat.codes.to_numpy()]
    answered = calls[calls["answer"].notna()]
    taken = activities[(activities["kind"] != "absence") & ~activities["missed"]]
    absent = activities[activities["kind"] == "absence"]
    rostered = np.array(
        [[a.group.index, a.shift.start_seconds, a.shift.end_seconds] for a in centre.workforce.rostered], dtype=float
    ).reshape(-1, 3)
    day_starts = np.arange(horizon.days) * float(SECONDS_PER_DAY) - horizon.start_seconds
    frames = []
    for index, group in enumerate(scenario.agent_groups):
        shifts = rostered[rostered[:, 0] == index]
        shift_starts = (day_starts[:, None] + shifts[None, :, 1]).ravel()
        shift_ends = (day_starts[:, None] + shifts[None, :, 2]).ravel()
        plan = np.tile(np.asarray(group.agents.per_interval_counts(horizon.intervals), float), horizon.days)
        mine = answered["group"] == group.name
        present = metrics.per_interval(
            sessions["login"].to_numpy()[session_group == index],
            sessions["logout"].to_numpy()[session_group == index],
            edges,
        ).ravel()
        off = metrics.per_interval(
            taken["start"].to_numpy()[taken["group"] == group.name],
            taken["end"].to_numpy()[taken["group"] == group.name],
            edges,
        ).ravel()
        frames.append(
            pd.DataFrame(
                {
                    "day": np.repeat(np.arange(horizon.days), horizon.intervals),
                    "interval": np.tile(np.arange(horizon.intervals), horizon.days),
                    "group": group.name,
                    "scheduled": plan + metrics.per_interval(shift_starts, shift_ends, edges).ravel(),
                    "absent": metrics.per_interval(
                        absent["start"].to_numpy()[absent["group"] == group.name],
                        absent["end"].to_numpy()[absent["group"] == group.name],
                        edges,
                    ).ravel(),
                    "present": present,
                    "off_phone": off,
                    "on_phone": present - off,
                    "busy": metrics.per_interval(
                        answered["answer"].to_numpy()[mine],
                        (answered["end"] + answered["wrap_seconds"]).to_numpy()[mine],
                        edges,
                    ).ravel(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True).sort_values(["day", "interval"], kind="stable", ignore_index=True)
    table["group"] = pd.Categorical(table["group"], [g.name for g in scenario.agent_groups])
    with np.errstate(invalid="ignore", divide="ignore"):
        table["occupancy"] = table["busy"] / table["on_phone"]
    starts = horizon.start_seconds + table["interval"].to_numpy() * horizon.interval_seconds
    table.insert(2, "interval_start", _clock_labels(starts))
    return table


def _outages_table(scenario: Scenario, centre: Centre, calls: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """One row per outage, with what happened to the calls that arrived during it and in the interval after."""
    rows = np.array(centre.outages.records, dtype=np.float64).reshape(-1, len(OUTAGE_FIELDS))
    rows = rows[np.lexsort((rows[:, 0], rows[:, 2]))]
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
