"""A run's tables shaped per channel for the charts, the report and the command line: which channels a run has,
live contacts waiting and agents busy (a chat agent counted once however many sessions it holds), the backlog of
deferred work by age band at each closing, chat sessions per agent, and the call types short of their target.

Reads a run's tables (`calls`, `intervals`, `staffing`, `backlog`, the summary) and its scenario, which says each
call type's channel, target and due time, the groups' chat caps and the clock. A run read back without its scenario
(tables written before channels, without scenario.yaml) is taken as voice only.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from bposim.formatting import clock, date_label, day_label
from bposim.metrics import per_interval, queue_and_busy
from bposim.scenario.call_types import CHANNELS, DEFERRED_CHANNELS, LIVE_CHANNELS
from bposim.scenario.residency import resident_centre

DEFERRED_KEYS = ("arrived", "completed", "open_at_end", "oldest_age_hours", "due", "met_due", "service_level")
AGE_BANDS = ("due in more than 24 h", "due within 24 h", "overdue")
DAY_HOURS = 24.0


def channel_of_call_types(run: Any) -> dict[str, str]:
    """Each call type's channel, call types in the order of their channels (voice, chat, email, case); every call
    type voice in a run without its scenario."""
    if run.scenario is None:
        return dict.fromkeys(run.summary.get("by_call_type", {}), "voice")
    found = {ct.name: ct.channel for ct in run.scenario.call_types}
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
    """The agent groups holding a skill of `channel`."""
    wanted = set(call_types_of(run, channel))
    served_by = resident_centre(run.scenario).agent_groups  # the skills as run
    return [g.name for g in served_by if any(s.call_type in wanted for s in g.skills)]


def live_view(run: Any, channel: str) -> SimpleNamespace:
    """The run's intervals of one live channel and the staffing of the groups holding its skills, as
    `bposim.metrics.interval_profile` reads a run."""
    intervals = run.intervals
    intervals = intervals[intervals["call_type"].isin(call_types_of(run, channel))]
    staffing = run.staffing[run.staffing["group"].isin(groups_of(run, channel))]
    return SimpleNamespace(intervals=intervals, staffing=staffing, scenario=run.scenario)


def live_queue(run: Any, day: int = 0, bin_minutes: float = 5, replication: int = 0) -> pd.DataFrame:
    """`bposim.metrics.queue_and_busy` (live contacts waiting, agents busy with any work, a chat agent holding
    sessions counted once, agents on the phone), with the live contacts waiting per live channel
    (`waiting_<channel>`), each averaged over the bin."""
    table = queue_and_busy(run, day=day, bin_minutes=bin_minutes, replication=replication)
    calls = run.calls
    if "replication" in calls:
        calls = calls[calls["replication"] == replication]
    calls = calls[(calls["day"] == day) & ~calls["outcome"].isin(["blocked", "contained"])]
    width = bin_minutes * 60
    edges = np.append(table["time"].to_numpy(dtype=float), table["time"].iloc[-1] + width)[None, :]
    for name in [c for c in LIVE_CHANNELS if c in set(calls["channel"].astype(str))]:
        part = calls[calls["channel"] == name]
        left = part["answer"].fillna(part["end"]).to_numpy(dtype=float)
        waiting = per_interval(part["arrival"].to_numpy(dtype=float), left, edges).ravel()
        table[f"waiting_{name}"] = waiting.clip(min=0)  # rounding leaves -1e-14 where none wait
    return table


@dataclass(frozen=True)
class Clock:
    """When a run's days open and close (seconds from the opening of day 0), for labels and closing times."""

    opening: float  # seconds after midnight of the first opening
    open_seconds: float
    days: int

    def closing(self, day: int) -> float:
        return day * 86_400.0 + self.open_seconds


def run_clock(run: Any) -> Clock:
    """The run's opening, open hours and days."""
    horizon = run.scenario.horizon
    return Clock(float(horizon.start_seconds), float(horizon.open_seconds), int(horizon.days))


def due_hours(run: Any) -> dict[str, float]:
    """Each deferred call type's due time in hours."""
    return {ct.name: ct.due_seconds / 3600 for ct in run.scenario.call_types if not ct.live}


def backlog_ages(run: Any) -> pd.DataFrame:
    """Deferred items waiting (not started before the moment) at the first opening, when any were, and at each
    day's closing, per call type and age band (due in more than 24 h, due within 24 h, overdue): means per
    replication. An item started at the very moment counts as waiting then, so the first opening shows the whole
    initial backlog.

    Columns: moment (0 for the first opening, d + 1 for day d's closing), label, call_type, band, items."""
    due = due_hours(run)
    columns = ["moment", "label", "call_type", "band", "items"]
    deferred = list(due)
    if not deferred:
        return pd.DataFrame(columns=columns)
    calls = run.calls[run.calls["call_type"].isin(deferred)]
    clock = run_clock(run)
    replications = run.replications
    horizon = run.scenario.horizon
    days = (
        [date_label(date) for date in horizon.dates()] if horizon.calendar else [f"day {d}" for d in range(clock.days)]
    )
    moments = [(d + 1, clock.closing(d), f"{days[d]} closing") for d in range(clock.days)]
    if (calls["arrival"] < 0).any():
        moments.insert(0, (0, 0.0, f"{days[0]} opening"))
    arrival = calls["arrival"].to_numpy(dtype=float)
    unserved = calls["outcome"].astype(str).eq("unserved").to_numpy()
    left = np.where(unserved, np.inf, calls["answer"].fillna(calls["end"]).to_numpy(dtype=float))
    due_at = arrival + calls["call_type"].astype(str).map(due).to_numpy(dtype=float) * 3600
    rows = []
    for moment, time, label in moments:
        waiting = (arrival <= time) & (left >= time)  # an item started at the very moment was waiting until then
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
    backlog = run.backlog
    if backlog.empty:
        return pd.DataFrame()
    keys = ["day", *(c for c in ("date", "weekday", "open") if c in backlog), "call_type"]  # calendar columns kept
    numbers = [c for c in backlog.columns if c not in (*keys, "channel", "replication", "service_level")]
    table = backlog.groupby(keys, observed=True, sort=True)[numbers].mean().reset_index()
    table["service_level"] = table["met_due"] / table["due"].where(table["due"] > 0)
    table["channel"] = table["call_type"].astype(str).map(channel_of_call_types(run))
    return table


def backlog_over_intervals(run: Any) -> pd.DataFrame:
    """The deferred items open through the horizon, per call type, from the backlog_intervals table (means per
    replication): a point at each day's opening (open_at_start of its first interval) and at the end of each
    interval on the clock (open_at_end; a day's last point is its closing, taking in the night after it),
    with the overdue items among them and the oldest one's age. Empty when the run has no backlog_intervals rows.

    Columns: call_type, day, hours (from midnight before day 0's opening, so a night is a gap of its own length),
    label ("day 1 14:30"), open, overdue, oldest_age_hours."""
    columns = ["call_type", "day", "hours", "label", "open", "overdue", "oldest_age_hours"]
    table = getattr(run, "backlog_intervals", pd.DataFrame())
    if table.empty:
        return pd.DataFrame(columns=columns)
    keys = ["call_type", "day", "interval"]
    numbers = ["open_at_start", "open_at_end", "overdue_at_end", "oldest_age_hours"]
    means = table.groupby(keys, observed=True, sort=True)[numbers].mean().reset_index()
    horizon = run.scenario.horizon
    day_seconds = means["day"].to_numpy() * max(86_400.0, horizon.open_seconds) + horizon.start_seconds
    end = day_seconds + (means["interval"].to_numpy() + 1) * horizon.interval_seconds
    ends = pd.DataFrame(
        {
            "call_type": means["call_type"],
            "day": means["day"],
            "seconds": end,
            "open": means["open_at_end"],
            "overdue": means["overdue_at_end"],
            "oldest_age_hours": means["oldest_age_hours"],
        }
    )
    first = means["interval"] == 0
    openings = pd.DataFrame(
        {
            "call_type": means["call_type"][first],
            "day": means["day"][first],
            "seconds": day_seconds[first.to_numpy()],
            "open": means["open_at_start"][first],
            "overdue": np.nan,  # counted at interval ends only
            "oldest_age_hours": np.nan,
        }
    )
    points = pd.concat([openings, ends], ignore_index=True).sort_values(["call_type", "seconds"], kind="stable")
    points["call_type"] = points["call_type"].astype(str)
    points["hours"] = points["seconds"] / 3600.0
    moments = zip(points["day"], points["seconds"], strict=True)
    points["label"] = [day_label(int(day), clock(seconds)) for day, seconds in moments]
    nights = (points["seconds"] % 86_400.0 == horizon.start_seconds + horizon.open_seconds) & (
        points["day"] < horizon.days - 1
    )
    points.loc[nights, "label"] += " (and the night after)"
    return points[columns].reset_index(drop=True)


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
    """The most chat sessions an agent of each group holding chat takes at once."""
    return {g.name: g.max_concurrency for g in run.scenario.agent_groups if g.name in groups_of(run, "chat")}


def targets(run: Any) -> dict[str, tuple[float, float]]:
    """Each call type's (threshold_seconds, target); for deferred work the threshold is its due time in seconds."""
    return {ct.name: run.scenario.service_level_for(ct) for ct in run.scenario.call_types}


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
