"""The tables of a run, built once from the records of all its replications: `run_tables(scenario, records)`.

A horizon with a start_date gives the tables of days a `date` and a `weekday` column after `day`; one whose days
do not all open over the whole grid (closed days, shorter hours) gives the interval tables an `open` column, and
the backlog table one per day (`calendar_columns`, `open_column`).

`bposim.columns` turns each replication's records into numpy columns; here they become the pandas tables of the
run, replication after replication (with a `replication` column when there are several), and each replication's
KPIs, computed together by bincounts over (replication, ...) cells. Only the tables asked for are built. Nothing
here simulates. The columns of every table are documented in `bposim.run`, the KPIs in `bposim.metrics`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bposim import backlog, cells, journeys, metrics, outbound, periods, resolution
from bposim.columns import Records, has_transfers
from bposim.engine.journeys import TRANSFER_MODES
from bposim.engine.records import ABSENCE, ACTIVITY_KINDS, OFF_PHONE_KINDS, OUTAGE_KINDS, OUTCOMES, PATHS
from bposim.formatting import clock
from bposim.scenario import SECONDS_PER_DAY, Horizon, Scenario
from bposim.scenario.calendar import WEEKDAYS
from bposim.scenario.call_types import CHANNELS
from bposim.scenario.residency import resident_centre
from bposim.scenario.site_hours import open_hours
from bposim.scenario.sites import holiday_days

BUILT = ("calls", "intervals", "agents", "staffing", "activities", "outages", "backlog", "periods", "outbound")
ON_REQUEST = ("backlog_intervals",)  # also built from the records, but only when named
WEEKDAY_DTYPE = pd.CategoricalDtype(list(WEEKDAYS), ordered=True)  # the weekday column: mon < tue < ... < sun
RATES = cells.RATES  # the top-level KPIs left NaN when a scenario has several channels
EXEMPT_KEY = "service_level_excluding_exempt"  # the summary's service level without exempt maintenance intervals


@dataclass(frozen=True)
class Tables:
    """The tables asked for (by name, each with a `replication` column when there are several replications), and
    each replication's summary: the KPIs overall, per call type (`by_call_type`) and per channel (`by_channel`,
    with `channels` listing those present), no costs."""

    tables: dict[str, pd.DataFrame]
    summaries: list[dict] = field(repr=False)


def run_tables(scenario: Scenario, records: Records, wanted: Collection[str] = BUILT) -> Tables:
    """The tables named in `wanted` (and the KPIs of every replication) from the records of a run of `scenario`."""
    replications = records.replications
    numbered = replications > 1
    thresholds = {ct.name: scenario.service_level_for(ct)[0] for ct in scenario.call_types}
    horizon = scenario.horizon
    callbacks = scenario.technology.callbacks
    deadline = callbacks.deadline_minutes * 60.0 if callbacks is not None else math.inf
    live = np.array([ct.live for ct in scenario.call_types])
    channels = present_channels(scenario)
    live_groups = {
        channel: np.flatnonzero([ct.channel == channel for ct in scenario.call_types])
        for channel in channels
        if channel in ("voice", "chat")
    }
    replication = records.replication("calls") if numbered else None
    kpis = cells.kpi_cells(
        records.calls,
        np.array(list(thresholds.values()), dtype=float),
        scenario.service_level.definition,
        horizon.days,
        horizon.intervals,
        deadline,
        replication,
        replications,
        counted=None if live.all() else live,
        groups=live_groups,
        behaviour=message_callbacks(scenario) if has_behaviour(scenario) else None,
    )
    backlog_columns = backlog.backlog_columns(scenario, records.calls, replication, replications)
    agents = _agent_columns(scenario, records, _window_start(scenario))
    summaries = _summaries(scenario, agents, replications, kpis, backlog_columns)
    if has_transfers(scenario):
        for summary, own in zip(summaries, _journeys(scenario, records, thresholds, replication), strict=True):
            summary["journeys"] = own
    resolution.add_kpis(summaries, scenario, records)
    period_counts = periods.period_counts(scenario, kpis.table, backlog_columns, replications)
    for summary, own in zip(
        summaries, periods.replication_summaries(scenario, period_counts, replications), strict=True
    ):
        summary["periods"] = own
    if scenario.outbound:
        for summary, own in zip(
            summaries, outbound.campaign_summaries(scenario, records, _window_start(scenario)), strict=True
        ):
            summary["outbound"] = own
    built: dict[str, pd.DataFrame] = {}
    if "calls" in wanted or "outages" in wanted:
        built["calls"] = _calls_table(scenario, records)
    if "intervals" in wanted:
        built["intervals"] = _intervals_table(scenario, kpis.table, thresholds, replications)
    if "agents" in wanted:
        built["agents"] = _numbered(agents, replications)
    if "staffing" in wanted:
        built["staffing"] = _numbered(_staffing_columns(scenario, records), replications)
    if "activities" in wanted:
        built["activities"] = _activities_table(scenario, records)
    if "outages" in wanted:
        built["outages"] = _outages_table(scenario, records, built["calls"], thresholds)
    if "backlog" in wanted:
        built["backlog"] = _backlog_table(scenario, backlog_columns, replications)
    if "periods" in wanted:
        built["periods"] = periods.period_table(scenario, period_counts, replications)
    if "outbound" in wanted:
        built["outbound"] = outbound.outbound_table(scenario, records)
    if "backlog_intervals" in wanted:
        columns = backlog.interval_columns(scenario, records.calls, replication, replications)
        built["backlog_intervals"] = _backlog_intervals_table(scenario, columns, replications)
    for name in ("activities", "outages"):
        if numbered and name in built:
            built[name]["replication"] = records.replication(name)
    return Tables({name: table for name, table in built.items() if name in wanted}, summaries)


def has_behaviour(scenario: Scenario) -> bool:
    """Whether some call type has balking or a maximum wait: the KPIs then count balks and messages (`balked`,
    `messages`, `balk_rate`); without, the tables are as they always were."""
    return any(ct.balking is not None or ct.max_wait_seconds is not None for ct in scenario.call_types)


def message_callbacks(scenario: Scenario) -> np.ndarray:
    """Per call type: whether its messages bring callbacks (`message.then: callback`)."""
    return np.array([ct.message is not None and ct.message.then == "callback" for ct in scenario.call_types])


def _journeys(scenario: Scenario, records: Records, thresholds: dict, replication: np.ndarray | None) -> list[dict]:
    """Each replication's journey KPIs (`bposim.journeys`), for a scenario with transfers."""
    return journeys.journey_kpis(
        records.calls,
        replication,
        records.replications,
        records.agent_groups,
        np.array(list(thresholds.values()), dtype=float),
        [ct.name for ct in scenario.call_types],
        [g.name for g in scenario.agent_groups],
    )


def present_channels(scenario: Scenario) -> list[str]:
    """The channels of the scenario's call types, in the order of CHANNELS (voice, chat, email, case)."""
    own = {call_type.channel for call_type in scenario.call_types}
    return [channel for channel in CHANNELS if channel in own]


def categorical(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    """A categorical column of `codes` into `names` (codes checked: −1 is missing), its dtype made once per names."""
    return pd.Categorical.from_codes(codes, dtype=_categories(tuple(names)))


@functools.lru_cache(maxsize=256)
def _categories(names: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical dtype of `names` (made once: making it infers the names' string type, ~0.1 ms a column)."""
    return pd.CategoricalDtype(list(names))


def _channel_column(scenario: Scenario, call_type_codes: np.ndarray) -> pd.Categorical:
    """The channel of each call type code, as a categorical over CHANNELS."""
    codes = np.array([CHANNELS.index(ct.channel) for ct in scenario.call_types], dtype=np.int8)
    if not codes.any():  # voice only
        voice = np.zeros(len(call_type_codes), np.int8)
        return pd.Categorical.from_codes(voice, dtype=_categories(CHANNELS), validate=False)
    return categorical(codes[call_type_codes], CHANNELS)


def _numbered(columns: dict[str, np.ndarray], replications: int) -> pd.DataFrame:
    """A table of columns whose rows run replication after replication, each the same number of rows, with a
    replication column when there are several."""
    if replications > 1:
        rows = len(next(iter(columns.values()))) // replications
        columns = {**columns, "replication": np.repeat(np.arange(replications, dtype=np.int64), rows)}
    return pd.DataFrame(columns, copy=False)


def _calls_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """The calls table from the call columns (which it takes over), with a replication column when several."""
    columns = records.calls
    agent = columns["agent"]
    group = np.append(records.agent_groups, -1).astype(np.int32)[agent]
    table = {
        "call_id": columns["call_id"],
        "call_type": categorical(columns["call_type"], [ct.name for ct in scenario.call_types]),
        "channel": _channel_column(scenario, columns["call_type"]),
        "attempt": columns["attempt"],
        "leg": columns["leg"] if "leg" in columns else np.ones(len(columns["call_id"]), np.int16),
        "day": columns["day"],
        **calendar_columns(scenario.horizon, columns["day"]),
        "interval": columns["interval"],
        "arrival": columns["arrival"],
        "answer": columns["answer"],
        "end": columns["end"],
        "wait": columns["wait"],
        "handle_seconds": columns["handle_seconds"],
        "wrap_seconds": columns["wrap_seconds"],
        **({"interruptions": columns["interruptions"]} if "interruptions" in columns else {}),
        "outcome": categorical(columns["outcome"], OUTCOMES),
        "agent": categorical(agent, records.agent_names),
        "group": categorical(group, [g.name for g in scenario.agent_groups]),
        "path": categorical(columns["path"], PATHS),
        "bot_seconds": columns["bot_seconds"],
        "warmup": columns["warmup"],
        **journey_columns(columns),
        **resolution.call_columns(columns),
    }
    if records.replications > 1:
        table["replication"] = records.replication("calls")
    return pd.DataFrame(table, copy=False)


def journey_columns(columns: dict[str, np.ndarray]) -> dict:
    """With transfers: transfer_mode (categorical over TRANSFER_MODES, missing on a first leg) and
    conference_seconds."""
    if "transfer_mode" not in columns:
        return {}
    return {
        "transfer_mode": categorical(columns["transfer_mode"], TRANSFER_MODES),
        "conference_seconds": columns["conference_seconds"],
    }


def _intervals_table(scenario: Scenario, kpis: dict, thresholds: dict, replications: int) -> pd.DataFrame:
    """The KPIs per (replication,) day, interval and live call type (voice, chat), with each interval's start
    (HH:MM), the call type's channel, threshold and target."""
    horizon = scenario.horizon
    labels = np.array(_clock_labels(horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds))
    live = np.array([ct.live for ct in scenario.call_types])
    if not live.all():
        kept = live[kpis["call_type"]]
        kpis = {name: column[kept] for name, column in kpis.items()}
    codes = kpis.pop("call_type")
    targets = [scenario.service_level_for(ct)[1] for ct in scenario.call_types]
    day, interval = kpis.pop("day"), kpis.pop("interval")
    columns = {
        "day": day,
        **calendar_columns(horizon, day),
        "interval": interval,
        "interval_start": labels[interval],
        **open_column(horizon, day, interval),
        **exempt_column(scenario, day, interval),
        "call_type": categorical(codes, [ct.name for ct in scenario.call_types]),
        "channel": _channel_column(scenario, codes),
        **kpis,
        "threshold_seconds": np.array(list(thresholds.values()), dtype=float)[codes],
        "target": np.array(targets, dtype=float)[codes],
    }
    return _numbered(columns, replications)


def _backlog_table(scenario: Scenario, columns: dict[str, np.ndarray], replications: int) -> pd.DataFrame:
    """One row per (replication,) day and deferred call type: the columns of `bposim.backlog`, with the call
    type's channel, threshold_hours (its due time) and target."""
    columns = dict(columns)
    codes = columns.pop("call_type")
    settings = [scenario.service_level_for(ct) for ct in scenario.call_types]
    day = columns.pop("day")
    horizon = scenario.horizon
    table = {
        "day": day,
        **calendar_columns(horizon, day),
        **({"open": np.array([bool(horizon.open_intervals(d)) for d in day], dtype=bool)} if horizon.varies else {}),
        "call_type": categorical(codes, [ct.name for ct in scenario.call_types]),
        "channel": _channel_column(scenario, codes),
        **{name: columns[name] for name in backlog.COLUMNS},
        "threshold_hours": np.array([threshold / 3600.0 for threshold, _ in settings], dtype=float)[codes],
        "target": np.array([target for _, target in settings], dtype=float)[codes],
    }
    return _numbered(table, replications)


def _backlog_intervals_table(scenario: Scenario, columns: dict[str, np.ndarray], replications: int) -> pd.DataFrame:
    """One row per (replication,) day, interval and deferred call type: the interval columns of `bposim.backlog`,
    with the interval's start (HH:MM), the call type's channel and threshold_hours (its due time)."""
    columns = dict(columns)
    codes = columns.pop("call_type")
    horizon = scenario.horizon
    labels = np.array(_clock_labels(horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds))
    day, interval = columns.pop("day"), columns.pop("interval")
    table = {
        "day": day,
        **calendar_columns(horizon, day),
        "interval": interval,
        "interval_start": labels[interval],
        **open_column(horizon, day, interval),
        "call_type": categorical(codes, [ct.name for ct in scenario.call_types]),
        "channel": _channel_column(scenario, codes),
        **{name: columns[name] for name in backlog.INTERVAL_COLUMNS},
        "threshold_hours": np.array(
            [scenario.service_level_for(ct)[0] / 3600.0 for ct in scenario.call_types], dtype=float
        )[codes],
    }
    return _numbered(table, replications)


def _activities_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """One row per break, shrinkage episode or absence, by start, then agent."""
    columns = records.activities
    codes = columns["agent"].astype(np.int64)
    table = {
        "agent": categorical(codes, records.agent_names),
        "group": categorical(records.agent_groups[codes], [g.name for g in scenario.agent_groups]),
        "kind": categorical(columns["kind"].astype(np.int64), ACTIVITY_KINDS),
    }
    table.update({name: column for name, column in columns.items() if name not in table})
    return pd.DataFrame(table)


def _agent_columns(
    scenario: Scenario, records: Records, window_start: Callable[[np.ndarray], np.ndarray | float]
) -> dict[str, np.ndarray]:
    """Per agent, replication after replication: calls handled, busy, idle, off-phone, logged-in, overtime and
    unpaid seconds, absent days and occupancy, counted after the warm-up (the agents table's columns).

    `window_start(times)` says when statistics start on each time's day. Occupancy is busy time over the time the
    agent was available for calls: logged in and not on a break or other off-phone activity (a deferred block is
    available time: busy while working items, idle while waiting for one). An item interrupted at least once is
    busy time piece by piece, each on the agent who worked it.
    """
    n = len(records.agent_names)
    rows = n * records.replications
    calls = records.calls
    answered = ~np.isnan(calls["answer"])
    codes = calls["agent"][answered].astype(np.int64)
    if records.replications > 1:
        codes += records.replication("calls")[answered] * n
    begin = calls["answer"][answered]
    window = window_start(begin)
    busy_end = calls["end"][answered]
    busy_end += calls["wrap_seconds"][answered]
    handled = np.bincount(codes[begin >= window], minlength=rows)
    busy_codes = codes
    if len(records.pieces):  # interrupted items: their pieces instead of the span from first start to end
        busy_codes, begin, busy_end = _with_pieces(records, answered, codes, begin, busy_end)
        window = window_start(begin)
    if _has_chat(scenario):  # an agent's chat sessions overlap: busy is the time holding at least one
        busy_codes, begin, busy_end = metrics.held_spans(busy_codes, begin, busy_end)
        window = window_start(begin)
    busy = _after(begin, busy_end, window)
    del busy_end, begin, window, answered
    sessions = records.sessions
    login, logout = sessions[:, 1], sessions[:, 2]
    session_window = window_start(login)
    session_codes = sessions[:, 0].astype(np.int64) + records.replication("sessions") * n
    overtime_from = np.maximum(sessions[:, 3], login)
    activities = records.activities
    activity_codes = activities["agent"].astype(np.int64) + records.replication("activities") * n
    absence = activities["kind"] == ABSENCE
    taken = np.isin(activities["kind"], OFF_PHONE_KINDS) & ~activities["missed"]
    off_start = activities["start"][taken]
    off_seconds = _after(off_start, activities["end"][taken], window_start(off_start))
    off_codes = activity_codes[taken]
    unpaid = ~activities["paid"][taken]
    sum_by = metrics.sum_by
    busy_seconds = sum_by(busy_codes, busy, rows)
    off_phone = sum_by(off_codes, off_seconds, rows)
    logged_in = sum_by(session_codes, _after(login, logout, session_window), rows)
    available = logged_in - off_phone
    with np.errstate(invalid="ignore", divide="ignore"):
        occupancy = busy_seconds / available
    columns = {
        "agent": np.tile(np.array(records.agent_names, dtype=object), records.replications),
        "group": categorical(
            np.tile(records.agent_groups, records.replications), [g.name for g in scenario.agent_groups]
        ),
        "calls_handled": handled,
        "busy_seconds": busy_seconds,
        "idle_seconds": available - busy_seconds,
        "off_phone_seconds": off_phone,
        "logged_in_seconds": logged_in,
        "overtime_seconds": sum_by(session_codes, _after(overtime_from, logout, session_window), rows),
        "unpaid_seconds": sum_by(off_codes[unpaid], off_seconds[unpaid], rows),
        "absent_days": np.bincount(activity_codes[absence], minlength=rows),
        "occupancy": occupancy,
    }
    if scenario.outbound:  # outbound work is not idle time; busy and occupancy stay inbound
        columns = outbound.with_outbound_seconds(columns, records, window_start)
    return columns


def _summaries(
    scenario: Scenario,
    agents: dict[str, np.ndarray],
    replications: int,
    kpis: cells.KpiCells,
    backlog_columns: dict[str, np.ndarray],
) -> list[dict]:
    """Each replication's summary: its KPIs overall, with occupancy (`bposim.metrics.occupancy`), per call type and
    per channel, each with the occupancy of the agents holding its skills, and the channels present.

    Live call types and channels (voice, chat) have the live KPIs; deferred ones (email, case) those of
    `bposim.backlog.deferred_kpis`. With one channel the overall KPIs are that channel's (a voice-only scenario's
    are as they always were); with several, the overall rates and times (RATES) are NaN, never an average across
    channels, and the overall counts are the live contacts'.
    """

    def per_replication(name: str) -> np.ndarray:
        return agents[name].reshape(replications, -1)

    busy, logged_in, off = (
        per_replication(name) for name in ("busy_seconds", "logged_in_seconds", "off_phone_seconds")
    )

    def occupancy(holders: np.ndarray | slice) -> list[float]:
        available = cells.row_sums(logged_in[:, holders]) - cells.row_sums(off[:, holders])
        worked = cells.row_sums(busy[:, holders])
        return [float(b) / float(a) if a else math.nan for b, a in zip(worked, available, strict=True)]

    group_codes = np.asarray(agents["group"].codes[: busy.shape[1]])

    served_by = resident_centre(scenario).agent_groups  # the skills as run: without those a restriction takes

    def holders_of(names: set[str]) -> np.ndarray:
        holds = np.array([any(s.call_type in names for s in g.skills) for g in served_by], dtype=bool)
        return holds[group_codes]  # each agent's group looked up (np.isin's sort is slower for a few groups)

    summaries = [
        {**kpis.overall[r], "occupancy": value, "by_call_type": {}, "by_channel": {}}
        for r, value in enumerate(occupancy(slice(None)))
    ]
    deferred = backlog.deferred_types(scenario)
    days = scenario.horizon.days
    for index, call_type in enumerate(scenario.call_types):
        own = (
            [kpis.per_type[r][index] for r in range(replications)]
            if call_type.live
            else backlog.deferred_kpis(backlog_columns, replications, days, [deferred.index(index)])
        )
        for r, value in enumerate(occupancy(holders_of({call_type.name}))):
            summaries[r]["by_call_type"][call_type.name] = {**own[r], "occupancy": value}
    channels = present_channels(scenario)
    for channel in channels:
        names = {ct.name for ct in scenario.call_types if ct.channel == channel}
        if channel in kpis.per_group:
            own = kpis.per_group[channel]
        else:
            kinds = [k for k, code in enumerate(deferred) if scenario.call_types[code].channel == channel]
            own = backlog.deferred_kpis(backlog_columns, replications, days, kinds)
        for r, value in enumerate(occupancy(holders_of(names))):
            summaries[r]["by_channel"][channel] = {**own[r], "occupancy": value}
    excluding = _excluding_exempt(scenario, kpis, replications)
    for r, summary in enumerate(summaries if excluding is not None else []):
        summary[EXEMPT_KEY] = excluding[r][EXEMPT_KEY]
        for name, value in excluding[r]["by_call_type"].items():
            summary["by_call_type"][name][EXEMPT_KEY] = value
    for summary in summaries:
        if len(channels) > 1:
            summary.update(dict.fromkeys(RATES, math.nan))
            summary.update(dict.fromkeys([key for key in cells.BEHAVIOUR_RATES if key in summary], math.nan))
        elif channels[0] not in kpis.per_group:  # deferred work only: its KPIs are the overall ones
            only = summary["by_channel"][channels[0]]
            summary.update({key: only[key] for key in backlog.KPIS})
        summary["by_call_type"] = summary.pop("by_call_type")
        summary["by_channel"] = summary.pop("by_channel")
        summary["channels"] = list(channels)
    return summaries


def _with_pieces(
    records: Records, answered: np.ndarray, holder: np.ndarray, begin: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The busy spans (holder: agent + replication × agents, begin, end) of the answered rows, with each item
    interrupted at least once replaced by its pieces, each on the agent who worked it."""
    n = len(records.agent_names)
    whole = records.calls["interruptions"][answered] == 0
    pieces = records.pieces
    piece_holder = pieces[:, 0].astype(np.int64) + records.replication("pieces") * n
    return (
        np.concatenate([holder[whole], piece_holder]),
        np.concatenate([begin[whole], pieces[:, 2]]),
        np.concatenate([end[whole], pieces[:, 3]]),
    )


def _has_chat(scenario: Scenario) -> bool:
    return any(call_type.channel == "chat" for call_type in scenario.call_types)


def _after(starts: np.ndarray, ends: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Length of each span [start, end) after its window start."""
    return np.clip(ends - np.maximum(starts, window), 0.0, None)


def _window_start(scenario: Scenario) -> Callable[[np.ndarray], np.ndarray | float]:
    """For an array of times: when statistics start on each time's day (the day's opening + warm-up; one number
    when there is one day)."""
    horizon = scenario.horizon
    warmup = horizon.warmup_minutes * 60.0
    if horizon.varies:  # from each day's own opening
        offsets = opening_offsets(horizon) + warmup

        def window(times: np.ndarray) -> np.ndarray:
            day = np.floor(np.asarray(times) / SECONDS_PER_DAY)
            return day * SECONDS_PER_DAY + offsets[np.clip(day, 0, horizon.days - 1).astype(np.int64)]

        return window
    if horizon.days == 1:
        return lambda times: warmup
    return lambda times: np.floor(np.asarray(times) / SECONDS_PER_DAY) * SECONDS_PER_DAY + warmup


def _interval_edges(scenario: Scenario) -> np.ndarray:
    """The interval boundaries of each day, (days, intervals + 1), in seconds from the first opening."""
    horizon = scenario.horizon
    return (
        np.arange(horizon.days)[:, None] * float(SECONDS_PER_DAY)
        + np.arange(horizon.intervals + 1)[None, :] * horizon.interval_seconds
    )


def scheduled(scenario: Scenario) -> np.ndarray:
    """Agents scheduled per day, interval and group (the staffing table's `scheduled` for one replication): the
    plan's agents, and the rostered ones as agent-equivalents over each interval; none on a holiday of the group's
    site or outside its hours. It depends on the scenario
    alone (absence is counted apart), so a task that needs only its total builds no staffing table."""
    horizon = scenario.horizon
    edges = _interval_edges(scenario)
    day_starts = np.arange(horizon.days) * float(SECONDS_PER_DAY) - horizon.start_seconds  # each day's midnight
    index = {group.name: i for i, group in enumerate(scenario.agent_groups)}
    holidays = holiday_days(scenario)
    hours = open_hours(scenario)
    rostered = np.array(
        [
            [index[shift.group], shift.start_seconds, shift.end_seconds]
            for shift in scenario.roster
            for _ in range(shift.agents)
        ],
        dtype=float,
    ).reshape(-1, 3)
    out = []
    for number, group in enumerate(scenario.agent_groups):
        shifts = rostered[rostered[:, 0] == number]
        shift_starts = day_starts[:, None] + shifts[None, :, 1]
        shift_ends = day_starts[:, None] + shifts[None, :, 2]
        plan = np.tile(np.asarray(group.agents.per_interval_counts(horizon.intervals), float), horizon.days)
        if horizon.varies:
            shift_starts, shift_ends = _cut_to_hours(horizon, shift_starts, shift_ends)
            plan = plan * open_mask(horizon).ravel()
        agents = plan + metrics.per_interval(shift_starts.ravel(), shift_ends.ravel(), edges).ravel()
        if group.name in holidays:  # its site's holidays: no one scheduled (`scenario.sites`)
            agents = agents.reshape(horizon.days, -1)
            agents[sorted(holidays[group.name])] = 0.0
            agents = agents.ravel()
        if group.name in hours:  # outside its site's hours: no one scheduled (`scenario.site_hours`)
            agents = agents * hours[group.name].ravel()
        out.append(agents)
    return np.stack(out, axis=1).ravel()


def _cut_to_hours(horizon: Horizon, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifts (days, shifts) cut to each day's hours as the engine cuts them: starting at opening at the earliest,
    due out at closing at the latest on a day closing before the grid ends; none on a closed day."""
    days = np.arange(horizon.days)
    opens = np.array([horizon.opens_at(d) if horizon.open_intervals(d) else np.nan for d in days])[:, None]
    closes = np.array([horizon.closes_at(d) if horizon.open_intervals(d) else np.nan for d in days])[:, None]
    early = closes < days[:, None] * float(SECONDS_PER_DAY) + horizon.open_seconds
    starts = np.maximum(starts, opens)
    ends = np.where(early, np.minimum(ends, closes), ends)
    shut = np.isnan(opens) | (starts >= ends)
    return np.where(shut, 0.0, starts), np.where(shut, 0.0, np.maximum(ends, starts))


def open_mask(horizon: Horizon) -> np.ndarray:
    """(days, intervals): whether each interval of each day's grid is open."""
    mask = np.zeros((horizon.days, horizon.intervals), bool)
    for day in range(horizon.days):
        span = horizon.open_intervals(day)
        mask[day, span.start : span.stop] = True
    return mask


def opening_offsets(horizon: Horizon) -> np.ndarray:
    """Per day: seconds from the start of its grid to its opening (0 on a closed day)."""
    return np.array([horizon.open_intervals(d).start * horizon.interval_seconds for d in range(horizon.days)])


def calendar_columns(horizon: Horizon, day: np.ndarray) -> dict[str, np.ndarray | pd.Categorical]:
    """The `date` (datetime64[ns] at midnight: pandas' own dates, kept as they are through Parquet) and `weekday`
    (categorical mon..sun, ordered) of each row's day, when the horizon has a start_date; NaT and missing for day
    −1 (items of an initial backlog, there before the first opening). No columns without a start_date."""
    if not horizon.calendar:
        return {}
    day = np.asarray(day)
    dates = horizon.dates()
    known = day >= 0
    index = np.where(known, day, 0)
    stamps = np.array(dates, dtype="datetime64[D]").astype("datetime64[ns]")[index]
    weekdays = np.array([date.weekday() for date in dates], dtype=np.int8)[index]
    return {
        "date": np.where(known, stamps, np.datetime64("NaT", "ns")),
        "weekday": pd.Categorical.from_codes(np.where(known, weekdays, -1), dtype=WEEKDAY_DTYPE),
    }


def open_column(horizon: Horizon, day: np.ndarray, interval: np.ndarray) -> dict[str, np.ndarray]:
    """`open`: whether each row's interval is within its day's hours, when some day's hours are not the whole grid
    (a closed interval has nothing offered, so it never counts as a missed service level)."""
    if not horizon.varies:
        return {}
    return {"open": open_mask(horizon)[np.asarray(day), np.asarray(interval)]}


def exempt_mask(scenario: Scenario) -> np.ndarray | None:
    """(days, intervals): whether an exempt maintenance window (`tools[].maintenance[].exempt`, a site tool's too)
    overlaps each interval of each day's grid; None when no window is exempt."""
    horizon = scenario.horizon
    windows = [window for tool in scenario.outage_tools for window in tool.maintenance if window.exempt]
    if not windows:
        return None
    starts = horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds
    ends = starts + horizon.interval_seconds
    row = np.zeros(horizon.intervals, bool)
    for window in windows:
        begin = window.start_seconds
        row |= (starts < begin + window.minutes * 60.0) & (ends > begin)
    return np.broadcast_to(row, (horizon.days, horizon.intervals))


def exempt_column(scenario: Scenario, day: np.ndarray, interval: np.ndarray) -> dict[str, np.ndarray]:
    """`exempt`: whether an exempt maintenance window overlaps each row's interval, when some window is exempt
    (the intervals left out of `service_level_excluding_exempt`)."""
    mask = exempt_mask(scenario)
    if mask is None:
        return {}
    return {"exempt": mask[np.asarray(day), np.asarray(interval)]}


def _excluding_exempt(scenario: Scenario, kpis: cells.KpiCells, replications: int) -> list[dict] | None:
    """Per replication, the service level over the intervals no exempt maintenance window overlaps: overall (NaN
    with several channels, as the overall service level is) and per live call type; None without exempt
    windows."""
    mask = exempt_mask(scenario)
    if mask is None:
        return None
    table = kpis.table
    kept = ~mask[table["day"], table["interval"]]
    per_replication = len(kept) // replications
    replication = np.arange(len(kept)) // per_replication
    names = ("answered_within_threshold", "offered", "answered", "abandoned_within_threshold")
    definition = scenario.service_level.definition

    def level(selected: np.ndarray) -> np.ndarray:
        sums = [np.bincount(replication[selected], table[name][selected], minlength=replications) for name in names]
        return cells.service_level(*sums, definition)

    live = [ct.live for ct in scenario.call_types]
    counted = kept & np.array(live)[table["call_type"]]
    overall = level(counted)
    several = len(present_channels(scenario)) > 1
    by_type = {
        ct.name: level(kept & (table["call_type"] == code)) for code, ct in enumerate(scenario.call_types) if ct.live
    }
    return [
        {
            EXEMPT_KEY: math.nan if several else float(overall[r]),
            "by_call_type": {name: float(values[r]) for name, values in by_type.items()},
        }
        for r in range(replications)
    ]


def _staffing_columns(scenario: Scenario, records: Records) -> dict[str, np.ndarray]:
    """Per replication, day, interval and group: agents scheduled, absent, present, off the phones, on the phones,
    busy (agent-equivalents averaged over the interval: an agent holding one or more chat sessions counts once),
    occupancy, and chat sessions (session-equivalents: the summed time of the sessions over the interval's
    length)."""
    horizon = scenario.horizon
    groups = len(scenario.agent_groups)
    edges = _interval_edges(scenario)
    calls, activities, sessions = records.calls, records.activities, records.sessions
    answered = ~np.isnan(calls["answer"])
    call_group = np.append(records.agent_groups, -1).astype(np.int32)[calls["agent"]]
    activity_group = records.agent_groups[activities["agent"].astype(np.int64)]
    absence = activities["kind"] == ABSENCE
    taken = np.isin(activities["kind"], OFF_PHONE_KINDS) & ~activities["missed"]
    session_group = records.agent_groups[sessions[:, 0].astype(np.int64)]

    def bounds(kind: str) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(records.counts[kind])])

    spans = {
        "busy": (answered, call_group, calls["answer"], (calls["end"], calls["wrap_seconds"]), bounds("calls")),
        "absent": (absence, activity_group, activities["start"], (activities["end"],), bounds("activities")),
        "present": (None, session_group, sessions[:, 1], (sessions[:, 2],), bounds("sessions")),
        "off_phone": (taken, activity_group, activities["start"], (activities["end"],), bounds("activities")),
    }  # each span: which rows, their groups, starts, the parts whose sum is the end (busy: end + wrap-up), and
    # where each replication's rows begin
    if _has_chat(scenario) or len(records.pieces):
        chat = np.array([call_type.channel == "chat" for call_type in scenario.call_types])[calls["call_type"]]
        spans["sessions"] = (answered & chat, *spans["busy"][1:])
        n = len(records.agent_names)
        holder = calls["agent"][answered].astype(np.int64) + records.replication("calls")[answered] * n
        begin, end = calls["answer"][answered], calls["end"][answered] + calls["wrap_seconds"][answered]
        if len(records.pieces):
            holder, begin, end = _with_pieces(records, answered, holder, begin, end)
        if _has_chat(scenario):
            holder, begin, end = metrics.held_spans(holder, begin, end)
        else:  # by holder (so by replication): an agent works one thing at a time
            order = np.argsort(holder, kind="stable")
            holder, begin, end = holder[order], begin[order], end[order]
        first = np.searchsorted(holder // n, np.arange(records.replications + 1))
        spans["busy"] = (None, records.agent_groups[holder % n], begin, (end,), first)
    cells = horizon.days * horizon.intervals
    measured = {"sessions": np.zeros(records.replications * cells * groups)}
    for name, (keep, group_of, starts, ends, bounds) in spans.items():
        out = np.empty((records.replications, cells, groups))
        for r in range(records.replications):
            mine = slice(bounds[r], bounds[r + 1])
            chosen = np.ones(bounds[r + 1] - bounds[r], bool) if keep is None else keep[mine]
            for index in range(groups):
                ok = chosen & (group_of[mine] == index)
                span_ends = ends[0][mine][ok]
                for part in ends[1:]:
                    span_ends += part[mine][ok]
                out[r, :, index] = metrics.per_interval(starts[mine][ok], span_ends, edges).ravel()
        measured[name] = out.ravel()
    rows = records.replications * cells * groups
    position = np.arange(rows) % (cells * groups)
    interval = position // groups % horizon.intervals
    labels = np.array(_clock_labels(horizon.start_seconds + np.arange(horizon.intervals) * horizon.interval_seconds))
    present, off = measured["present"], measured["off_phone"]
    on_phone = present - off
    with np.errstate(invalid="ignore", divide="ignore"):
        occupancy = measured["busy"] / on_phone
    day = position // (groups * horizon.intervals)
    return {
        "day": day,
        **calendar_columns(horizon, day),
        "interval": interval,
        "interval_start": labels[interval],
        **open_column(horizon, day, interval),
        "group": categorical(position % groups, [g.name for g in scenario.agent_groups]),
        "scheduled": np.tile(scheduled(scenario), records.replications),
        "absent": measured["absent"],
        "present": present,
        "off_phone": off,
        "on_phone": on_phone,
        "busy": measured["busy"],
        "occupancy": occupancy,
        "sessions": measured["sessions"],
    }


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
    tools = scenario.outage_tools
    table = pd.DataFrame(
        {
            "tool": categorical(rows[:, 0].astype(np.int64), [tool.name for tool in tools]),
            "kind": categorical(rows[:, 1].astype(np.int64), OUTAGE_KINDS),
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
