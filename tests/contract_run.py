"""A run's tables and summary shaped as a run of several channels has them: the calls' and intervals' `channel`,
the `backlog` table, the staffing's `sessions` and the summary's `by_channel`, each built from the run's own calls
as the results' contract defines it, so the charts, report and command line can be checked on them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.run import Run
from bposim.scenario.call_types import CHANNELS, LIVE_CHANNELS

# a voice, chat and email centre whose email falls behind: its backlog goes overdue
OMNICHANNEL = """
name: omnichannel
horizon: {start: "08:00", end: "18:00", interval_minutes: 30, days: 2}
call_types:
  - name: voice_en
    arrivals: {per_hour: 60}
    handle_time: {distribution: exponential, mean_seconds: 300}
    patience: {distribution: exponential, mean_seconds: 180}
  - name: chat_en
    channel: chat
    sequential_share: 0.3
    arrivals: {per_hour: 30}
    handle_time: {distribution: exponential, mean_seconds: 600}
    patience: {distribution: exponential, mean_seconds: 300}
    service_level: {threshold_seconds: 60}
  - name: email_en
    channel: email
    arrivals: {per_hour: 30}
    handle_time: {distribution: exponential, mean_seconds: 480}
    initial_backlog: [{items: 30, age_hours: 20}]
    service_level: {threshold_hours: 4, target: 0.9}
agent_groups:
  - name: voice
    skills: [voice_en]
    agents: 6
  - name: digital
    skills: [chat_en, email_en]
    max_concurrency: 3
    deferred_reserve: 1
    agents: 7
"""

DEFERRED_KPIS = ("arrived", "completed", "open_at_end", "oldest_age_hours", "due", "met_due", "service_level")


@dataclass(frozen=True)
class ChannelRun(Run):
    """A run with a `backlog` table."""

    backlog: pd.DataFrame = field(default_factory=pd.DataFrame)

    TABLES = (*Run.TABLES, "backlog")

    def replication(self, replication: int) -> ChannelRun:
        if "replication" not in self.calls:
            return self
        tables = {}
        for name in self.TABLES:
            table = getattr(self, name)
            if "replication" in table:
                table = table[table["replication"] == replication].reset_index(drop=True)
            tables[name] = table
        return ChannelRun(self.scenario, self.seed, 1, **tables, summary=self.summary)


def with_channels(run: Run) -> ChannelRun:
    """`run` with the channel columns, the backlog table and the per-channel summary of the results' contract."""
    scenario = run.scenario
    channel_of = {ct.name: ct.channel for ct in scenario.call_types}
    calls = _with_initial_backlog(run)
    calls["channel"] = pd.Categorical(calls["call_type"].astype(str).map(channel_of), categories=CHANNELS)
    intervals = run.intervals.copy()
    intervals["channel"] = pd.Categorical(intervals["call_type"].astype(str).map(channel_of), categories=CHANNELS)
    intervals = intervals[intervals["channel"].isin(LIVE_CHANNELS)].reset_index(drop=True)
    staffing = run.staffing.copy()
    staffing["sessions"] = _sessions(run, calls)
    backlog = _backlog(run, calls)
    summary = dict(run.summary)
    summary["by_channel"] = _by_channel(run, backlog)
    summary["by_call_type"] = {
        name: kpis if channel_of[name] in LIVE_CHANNELS else _deferred_kpis(backlog[backlog["call_type"] == name])
        for name, kpis in run.summary["by_call_type"].items()
    }
    present = [c for c in CHANNELS if c in channel_of.values()]
    if len(present) > 1:
        summary["channels"] = present
        for key in ("service_level", "asa_seconds", "aht_seconds", "abandon_rate", "callback_service_level"):
            summary[key] = summary[f"{key}_ci"] = float("nan")
    tables = {name: getattr(run, name) for name in Run.TABLES}
    tables.update(calls=calls, intervals=intervals, staffing=staffing)
    return ChannelRun(scenario, run.seed, run.replications, **tables, summary=summary, backlog=backlog)


def _with_initial_backlog(run: Run) -> pd.DataFrame:
    """The calls, with the items of each deferred call type's initial backlog (arrival -age_hours * 3600) where
    the records have none: left unserved at the horizon's last closing, as the engine records items still open."""
    calls = run.calls
    if (calls["arrival"] < 0).any():
        return calls.copy()
    horizon = run.scenario.horizon
    last_closing = (horizon.days - 1) * 86_400 + horizon.open_seconds
    replications = sorted(calls["replication"].unique()) if "replication" in calls else [None]
    rows = []
    for replication in replications:
        for ct in run.scenario.call_types:
            for band in ct.initial_backlog:
                arrival = -band.age_hours * 3600
                for _ in range(band.items):
                    row = {
                        "call_type": ct.name,
                        "attempt": 1,
                        "day": 0,
                        "interval": 0,
                        "arrival": arrival,
                        "answer": np.nan,
                        "end": last_closing,
                        "wait": last_closing - arrival,
                        "handle_seconds": np.nan,
                        "wrap_seconds": np.nan,
                        "outcome": "unserved",
                        "path": "direct",
                        "bot_seconds": 0.0,
                        "warmup": False,
                    }
                    rows.append(row if replication is None else {**row, "replication": replication})
    if not rows:
        return calls.copy()
    added = pd.DataFrame(rows)
    added["call_id"] = calls["call_id"].max() + 1 + np.arange(len(added))
    joined = pd.concat([calls, added], ignore_index=True)
    for name in ("call_type", "outcome", "agent", "group", "path"):
        joined[name] = pd.Categorical(joined[name], categories=calls[name].cat.categories)
    return joined


def _sessions(run: Run, calls: pd.DataFrame) -> np.ndarray:
    """Chat session-equivalents of each staffing row: summed session time over the interval's length."""
    horizon = run.scenario.horizon
    staffing = run.staffing
    chat = calls[(calls["channel"] == "chat") & calls["answer"].notna()]
    values = np.zeros(len(staffing))
    for position, row in enumerate(staffing.itertuples(index=False)):
        start = row.day * 86_400 + row.interval * horizon.interval_seconds
        edges = np.array([[start, start + horizon.interval_seconds]])
        mine = chat[chat["group"].astype(str) == str(row.group)]
        if "replication" in staffing:
            mine = mine[mine["replication"] == row.replication]
        ends = (mine["end"] + mine["wrap_seconds"]).to_numpy(dtype=float)
        values[position] = metrics.per_interval(mine["answer"].to_numpy(dtype=float), ends, edges)[0, 0]
    return values


def _backlog(run: Run, calls: pd.DataFrame) -> pd.DataFrame:
    """One row per replication, day and deferred call type, as the contract's backlog table."""
    scenario = run.scenario
    horizon = scenario.horizon
    rows = []
    replications = sorted(calls["replication"].unique()) if "replication" in calls else [0]
    for replication in replications:
        own = calls[calls["replication"] == replication] if "replication" in calls else calls
        for ct in scenario.call_types:
            if ct.live:
                continue
            items = own[own["call_type"] == ct.name]
            arrival = items["arrival"].to_numpy(dtype=float)
            started = items["answer"].to_numpy(dtype=float)
            done = (items["end"] + items["wrap_seconds"]).where(items["answer"].notna()).to_numpy(dtype=float)
            due_at = arrival + ct.due_seconds
            _, target = scenario.service_level_for(ct)
            for day in range(horizon.days):
                opening, closing, following = day * 86_400, day * 86_400 + horizon.open_seconds, (day + 1) * 86_400

                def waiting(t: float) -> np.ndarray:
                    return (arrival <= t) & ~(started <= t)  # noqa: B023

                at_end = waiting(closing)
                due = (due_at >= opening) & (due_at < following)
                completed_in_day = (done >= opening) & (done < following)
                rate = completed_in_day.sum() / (horizon.open_seconds / 3600)
                order = np.argsort(arrival[at_end])
                finish = closing + (np.arange(at_end.sum()) + 1) / rate * 3600 if rate > 0 else np.inf
                rows.append(
                    {
                        "day": day,
                        "call_type": ct.name,
                        "channel": ct.channel,
                        "arrived": int(((arrival >= opening) & (arrival < following)).sum()),
                        "completed": int(completed_in_day.sum()),
                        "open_at_start": int(waiting(opening).sum()),
                        "open_at_end": int(at_end.sum()),
                        "oldest_age_hours": float((closing - arrival[at_end]).max() / 3600) if at_end.any() else 0.0,
                        "due": int(due.sum()),
                        "met_due": int((due & (done <= due_at)).sum()),
                        "service_level": (due & (done <= due_at)).sum() / due.sum() if due.any() else np.nan,
                        "projected_late": int((due_at[at_end][order] < finish).sum()),
                        "threshold_hours": ct.due_seconds / 3600,
                        "target": target,
                        "replication": replication,
                    }
                )
    backlog = pd.DataFrame(rows)
    if len(backlog):
        backlog["channel"] = pd.Categorical(backlog["channel"], categories=CHANNELS)
    return backlog


def _by_channel(run: Run, backlog: pd.DataFrame) -> dict:
    """The summary per channel: live channels' KPIs over their call types, deferred channels' from the backlog."""
    scenario = run.scenario
    by_type = run.summary["by_call_type"]
    result = {}
    for channel in CHANNELS:
        names = [ct.name for ct in scenario.call_types if ct.channel == channel]
        if not names:
            continue
        if channel in LIVE_CHANNELS:
            kpis = {key: sum(by_type[n][key] for n in names) for key in metrics.COUNTS}
            offered, answered = kpis["offered"], kpis["answered"]
            kpis["service_level"] = kpis["answered_within_threshold"] / offered if offered else np.nan
            kpis["abandon_rate"] = kpis["abandoned"] / offered if offered else np.nan
            waited = sum(by_type[n]["asa_seconds"] * by_type[n]["answered"] for n in names)
            kpis["asa_seconds"] = waited / answered if answered else np.nan
            kpis["occupancy"] = run.summary["occupancy"]
            kpis.update({f"{key}_ci": np.nan for key in list(kpis)})
        else:
            kpis = _deferred_kpis(backlog[backlog["channel"] == channel])
        result[channel] = kpis
    return result


def _deferred_kpis(part: pd.DataFrame) -> dict:
    """Arrived, completed, open at the end, oldest age, due, met due and the share met over some backlog rows."""
    per_replication = []
    for _, one in part.groupby("replication"):
        last = one[one["day"] == one["day"].max()]
        due = one["due"].sum()
        per_replication.append(
            {
                "arrived": one["arrived"].sum(),
                "completed": one["completed"].sum(),
                "open_at_end": last["open_at_end"].sum(),
                "oldest_age_hours": last["oldest_age_hours"].max(),
                "due": due,
                "met_due": one["met_due"].sum(),
                "service_level": one["met_due"].sum() / due if due else np.nan,
            }
        )
    kpis = {}
    for key in DEFERRED_KPIS:
        kpis[key], kpis[f"{key}_ci"] = metrics.mean_and_ci([float(r[key]) for r in per_replication])
    return kpis
