"""A run's tables shaped per channel for the charts, the report and the command line: which channels a run has,
live contacts waiting and agents busy (a chat agent counted once however many sessions it holds), the backlog of
deferred work by age band at each closing, chat sessions per agent, and the call types short of their target.

Reads tables only (`calls`, `intervals`, `staffing`, `backlog`, the summary) and the scenario when the run has
one; the channel of a call type is the calls table's `channel` column where the tables carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from bposim.metrics import per_interval, queue_and_busy
from bposim.scenario.call_types import CHANNELS, DEFERRED_CHANNELS, LIVE_CHANNELS

DEFERRED_KEYS = ("arrived", "completed", "open_at_end", "oldest_age_hours", "due", "met_due", "service_level")
AGE_BANDS = ("due in more than 24 h", "due within 24 h", "overdue")
DAY_HOURS = 24.0


def channel_of_call_types(run: Any) -> dict[str, str]:
    """Each call type's channel, call types in the order of their channels (voice, chat, email, case): from the
    scenario, else the calls table's `channel` column, else voice."""
    scenario = getattr(run, "scenario", None)
    if scenario is not None:
        found = {ct.name: ct.channel for ct in scenario.call_types}
    elif "channel" in run.calls:
        pairs = run.calls[["call_type", "channel"]].drop_duplicates()
        found = {str(t): str(c) for t, c in zip(pairs["call_type"], pairs["channel"], strict=True)}
        for name in run.summary.get("by_call_type", {}):
            found.setdefault(name, "voice")
    else:
        found = dict.fromkeys(run.summary.get("by_call_type", {}), "voice")
    return dict(sorted(found.items(), key=lambda item: CHANNELS.index(item[1])))


def channels(run: Any) -> list[str]:
    """The channels of a run's call types, in the order voice, chat, email, case."""
    return list(dict.fromkeys(channel_of_call_types(run).values()))


def several_channels(run: Any) -> bool:
    """Whether the run's call types are of more than one channel, or of one other than voice: its figures then go
    per channel."""
    return channels(run) not in ([], ["voice"])


def call_types_of(run: Any, channel: str) -> list[str]:
    """The call types of one channel."""
    return [name for name, own in channel_of_call_types(run).items() if own == channel]


def groups_of(run: Any, channel: str) -> list[str]:
    """The agent groups holding a skill of `channel`: from the scenario, else the groups that handled its calls."""
    wanted = set(call_types_of(run, channel))
    scenario = getattr(run, "scenario", None)
    if scenario is not None:
        return [g.name for g in scenario.agent_groups if any(s.call_type in wanted for s in g.skills)]
    calls = run.calls
    handled = calls[calls["call_type"].isin(wanted) & calls["group"].notna()]
    return sorted(str(g) for g in handled["group"].unique())


def live_view(run: Any, channel: str) -> SimpleNamespace:
    """The run's intervals of one live channel and the staffing of the groups holding its skills, as
    `bposim.metrics.interval_profile` reads a run."""
    intervals = run.intervals
    intervals = intervals[intervals["call_type"].isin(call_types_of(run, channel))]
    staffing = run.staffing[run.staffing["group"].isin(groups_of(run, channel))]
    return SimpleNamespace(intervals=intervals, staffing=staffing, scenario=getattr(run, "scenario", None))


def _calls_channel(run: Any) -> pd.Series:
    """The channel of each call attempt."""
    calls = run.calls
    if "channel" in calls:
        return calls["channel"].astype(str)
    return calls["call_type"].astype(str).map(channel_of_call_types(run)).fillna("voice")


def live_queue(run: Any, day: int = 0, bin_minutes: float = 5, replication: int = 0) -> pd.DataFrame:
    """Per `bin_minutes` of one day: live contacts waiting, per live channel (`waiting_<channel>`), agents busy with
    any work (a chat agent holding sessions counted once) and agents on the phone, each averaged over the bin."""
    calls = run.calls
    channel = _calls_channel(run)
    live = channel.isin(LIVE_CHANNELS)
    view = SimpleNamespace(calls=calls[live], staffing=run.staffing, scenario=getattr(run, "scenario", None))
    table = queue_and_busy(view, day=day, bin_minutes=bin_minutes, replication=replication)
    width = bin_minutes * 60
    edges = np.append(table["time"].to_numpy(dtype=float), table["time"].iloc[-1] + width)[None, :]
    own = calls["replication"] == replication if "replication" in calls else pd.Series(True, index=calls.index)
    own &= calls["day"] == day

    for name in [c for c in LIVE_CHANNELS if (channel[own] == c).any()]:
        part = calls[own & (channel == name) & ~calls["outcome"].isin(["blocked", "contained"])]
        left = part["answer"].fillna(part["end"]).to_numpy(dtype=float)
        waiting = per_interval(part["arrival"].to_numpy(dtype=float), left, edges).ravel()
        table[f"waiting_{name}"] = waiting.clip(min=0)  # rounding leaves -1e-14 where none wait
    starts, ends = busy_spans(calls[own])
    table["busy"] = per_interval(starts, ends, edges).ravel().clip(min=0)
    return table


def busy_spans(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The spans each agent is busy (from an answer to the end of its wrap-up), overlapping ones of one agent (chat
    sessions held together) merged into one, as (starts, ends)."""
    answered = calls[calls["answer"].notna() & calls["agent"].notna()]
    if answered.empty:
        return np.array([]), np.array([])
    keys = ["replication", "agent"] if "replication" in answered else ["agent"]
    spans = pd.DataFrame(
        {
            **{key: answered[key].astype(str) for key in keys},
            "start": answered["answer"].to_numpy(dtype=float),
            "end": (answered["end"] + answered["wrap_seconds"].fillna(0)).to_numpy(dtype=float),
        }
    ).sort_values([*keys, "start"], ignore_index=True)
    reach = spans.groupby(keys, sort=False)["end"].cummax()
    before = reach.groupby([spans[key] for key in keys], sort=False).shift()
    block = (before.isna() | (spans["start"] > before)).cumsum()
    merged = spans.groupby(block).agg(start=("start", "min"), end=("end", "max"))
    return merged["start"].to_numpy(dtype=float), merged["end"].to_numpy(dtype=float)


@dataclass(frozen=True)
class Clock:
    """When a run's days open and close (seconds from the opening of day 0), for labels and closing times."""

    opening: float  # seconds after midnight of the first opening
    open_seconds: float
    days: int

    def closing(self, day: int) -> float:
        return day * 86_400.0 + self.open_seconds


def run_clock(run: Any) -> Clock:
    """The run's opening, open hours and days: from the scenario, else from the staffing table."""
    scenario = getattr(run, "scenario", None)
    if scenario is not None:
        horizon = scenario.horizon
        return Clock(float(horizon.start_seconds), float(horizon.open_seconds), int(horizon.days))
    staffing = run.staffing
    starts = sorted({_seconds(text) for text in staffing["interval_start"].astype(str)})
    step = starts[1] - starts[0] if len(starts) > 1 else 3600.0
    return Clock(float(starts[0]), float(starts[-1] - starts[0] + step), int(staffing["day"].max()) + 1)


def _seconds(text: str) -> float:
    hours, minutes = text.split(":")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def due_hours(run: Any) -> dict[str, float]:
    """Each deferred call type's due time in hours: from the backlog table, else the scenario."""
    backlog = getattr(run, "backlog", None)
    if backlog is not None and "threshold_hours" in backlog and len(backlog):
        firsts = backlog.groupby("call_type", observed=True, sort=False)["threshold_hours"].first()
        return {str(name): float(hours) for name, hours in firsts.items()}
    scenario = getattr(run, "scenario", None)
    if scenario is None:
        return {}
    return {ct.name: ct.due_seconds / 3600 for ct in scenario.call_types if not ct.live}


def backlog_ages(run: Any) -> pd.DataFrame:
    """Deferred items waiting (not yet started) at the first opening, when any were, and at each day's closing,
    per call type and age band (due in more than 24 h, due within 24 h, overdue): means per replication.

    Columns: moment (0 for the first opening, d + 1 for day d's closing), label, call_type, band, items."""
    due = due_hours(run)
    columns = ["moment", "label", "call_type", "band", "items"]
    deferred = [name for name in due if name in set(call_types_of(run, "email") + call_types_of(run, "case"))]
    if not deferred:
        return pd.DataFrame(columns=columns)
    calls = run.calls[run.calls["call_type"].isin(deferred)]
    clock = run_clock(run)
    replications = calls["replication"].nunique() if "replication" in calls else 1
    moments = [(d + 1, clock.closing(d), f"day {d} closing") for d in range(clock.days)]
    if (calls["arrival"] < 0).any():
        moments.insert(0, (0, 0.0, "day 0 opening"))
    arrival = calls["arrival"].to_numpy(dtype=float)
    unserved = calls["outcome"].astype(str).eq("unserved").to_numpy()
    left = np.where(unserved, np.inf, calls["answer"].fillna(calls["end"]).to_numpy(dtype=float))
    due_at = arrival + calls["call_type"].astype(str).map(due).to_numpy(dtype=float) * 3600
    rows = []
    for moment, time, label in moments:
        waiting = (arrival <= time) & (left > time)
        remaining = (due_at - time) / 3600
        band = np.where(remaining < 0, AGE_BANDS[2], np.where(remaining <= DAY_HOURS, AGE_BANDS[1], AGE_BANDS[0]))
        for name in deferred:
            mine = waiting & (calls["call_type"].astype(str).to_numpy() == name)
            for kind in AGE_BANDS:
                items = np.count_nonzero(mine & (band == kind)) / max(replications, 1)
                rows.append([moment, label, name, kind, items])
    return pd.DataFrame(rows, columns=columns)


def backlog_days(run: Any) -> pd.DataFrame:
    """The backlog table per day and deferred call type, means per replication (the service level pooled: met_due
    over due); empty when the run has no backlog table."""
    backlog = getattr(run, "backlog", None)
    if backlog is None or backlog.empty:
        return pd.DataFrame()
    keys = ["day", "call_type"]
    numbers = [c for c in backlog.columns if c not in (*keys, "channel", "replication", "service_level")]
    table = backlog.groupby(keys, observed=True, sort=True)[numbers].mean().reset_index()
    table["service_level"] = table["met_due"] / table["due"].where(table["due"] > 0)
    table["channel"] = table["call_type"].astype(str).map(channel_of_call_types(run))
    return table


def chat_concurrency(run: Any) -> pd.DataFrame:
    """Per day, interval and group holding chat: chat sessions (session-equivalents), agents on the phone and
    sessions per agent on the phone, means per replication; empty when the staffing table has no `sessions`."""
    staffing = run.staffing
    groups = groups_of(run, "chat")
    if "sessions" not in staffing or not groups:
        return pd.DataFrame(columns=["day", "interval", "interval_start", "group", "sessions", "on_phone"])
    part = staffing[staffing["group"].isin(groups)]
    keys = ["day", "interval", "interval_start", "group"]
    table = part.groupby(keys, observed=True, sort=True)[["sessions", "on_phone"]].mean().reset_index()
    table["sessions_per_agent"] = table["sessions"] / table["on_phone"].where(table["on_phone"] > 0)
    return table


def sessions_per_agent(run: Any) -> float:
    """Chat sessions held per agent on the phone in the groups holding chat, over the whole run (NaN without)."""
    table = chat_concurrency(run)
    on_phone = table["on_phone"].sum() if len(table) else 0.0
    return float(table["sessions"].sum() / on_phone) if on_phone > 0 else float("nan")


def concurrency_caps(run: Any) -> dict[str, int]:
    """The most chat sessions an agent of each group holding chat takes at once (the scenario's; none without)."""
    scenario = getattr(run, "scenario", None)
    if scenario is None:
        return {}
    return {g.name: g.max_concurrency for g in scenario.agent_groups if g.name in groups_of(run, "chat")}


def targets(run: Any) -> dict[str, tuple[float, float]]:
    """Each call type's (threshold_seconds, target): the scenario's, else the intervals' and backlog's tables."""
    scenario = getattr(run, "scenario", None)
    if scenario is not None:
        return {ct.name: scenario.service_level_for(ct) for ct in scenario.call_types}
    found: dict[str, tuple[float, float]] = {}
    for table, threshold, scale in (
        (run.intervals, "threshold_seconds", 1.0),
        (getattr(run, "backlog", None), "threshold_hours", 3600.0),
    ):
        if table is not None and len(table) and threshold in table:
            firsts = table.groupby("call_type", observed=True, sort=False)[[threshold, "target"]].first()
            found.update({str(n): (float(r[threshold]) * scale, float(r["target"])) for n, r in firsts.iterrows()})
    return found


@dataclass(frozen=True)
class Miss:
    """A call type whose service level is below its target."""

    channel: str
    call_type: str
    service_level: float
    target: float

    def __str__(self) -> str:
        return f"{self.call_type} {self.service_level:.1%} < {self.target:.0%}"


def misses(run: Any) -> list[Miss]:
    """The call types whose mean service level (the summary's) is below their target, in channel order."""
    by_type = run.summary.get("by_call_type", {})
    goal = targets(run)
    found = []
    for name, channel in channel_of_call_types(run).items():
        value = by_type.get(name, {}).get("service_level", float("nan"))
        if name in goal and not np.isnan(value) and value < goal[name][1]:
            found.append(Miss(channel, name, float(value), goal[name][1]))
    return found


def channel_verdicts(run: Any) -> list[str]:
    """One sentence per channel present: whether every call type of it meets its target, else which miss."""
    missed = misses(run)
    lines = []
    for channel in channels(run):
        mine = [str(m) for m in missed if m.channel == channel]
        what = "due time" if channel in DEFERRED_CHANNELS else "threshold"
        if mine:
            lines.append(f"{channel.capitalize()} misses its target: {', '.join(mine)}.")
        else:
            lines.append(f"{channel.capitalize()} meets its target (share within the {what}) for every call type.")
    return lines
