"""`simulate(scenario, seed)`: a pure function from a scenario to a `Run` of tidy tables.

Tables (times in seconds from the opening of day 0; a day d opens at d × 86,400 s):

``calls``: one row per call attempt. call_id (the caller; retrials keep it), call_type, attempt (1 = first),
day, interval (of the day, by arrival), arrival (when the caller reached the agents' queue; for callers the
bot contained, when they entered the bot), answer (NaN unless answered), end (call end if answered, else when
the caller left), wait (answer or end − arrival), handle_seconds (talk, after proficiency, learning, AI assist
and outage slow-downs), wrap_seconds (after-call work), outcome (answered | abandoned | blocked | unserved |
contained | callback_requested | dropped: cut off by an outage), agent and group (answered and dropped calls),
path (direct | bot_opt_out | bot_bounce | bot_contained | callback), bot_seconds (time in the bot), warmup
(arrived during the warm-up: left out of KPIs), and replication when there are several.

``intervals``: one row per day, interval and call type: interval_start (HH:MM), the counts and KPIs of
`bposim.metrics`, and the call type's threshold_seconds and target.

``agents``: one row per agent: group, calls_handled, busy, idle, off-phone, logged-in, overtime and unpaid
seconds, absent_days, occupancy.

``staffing``: one row per day, interval and agent group, in agent-equivalents averaged over the interval:
scheduled (plan + roster), absent, present (logged in), off_phone (breaks, shrinkage), on_phone, busy, and
occupancy (busy / on_phone).

``activities``: one row per break, shrinkage episode or absence: agent, group, kind, name, planned start,
start, end, late (started after the latest start its window allows), missed (the shift ended first), paid.

``outages``: one row per tool outage: tool, kind (random | planned), start, end, duration_seconds, effects,
dropped (calls cut off by it), and the offered, answered, abandoned, blocked and answered-within-threshold
calls that arrived during it and in the interval after it, with the service level of each.

``costs``: one row per cost item (component, item, site, quantity, unit, unit_cost, amount), when the scenario
has a `costs` section; the summary then has total_cost, cost_per_handled_contact and cost_<component>.

``summary``: the KPIs over everything and per call type (`by_call_type`); with several replications, each
KPI is the mean over replications with a 95% confidence half-width under `<key>_ci`.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bposim import metrics, workload
from bposim.costs import cost_summary, cost_table
from bposim.engine.model import Centre
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
from bposim.files import write_atomically, write_text_atomically
from bposim.formatting import clock
from bposim.scenario import SECONDS_PER_DAY, Scenario


@dataclass(frozen=True)
class Run:
    """The result of simulating a scenario: tidy tables and a summary."""

    scenario: Scenario
    seed: int
    replications: int
    calls: pd.DataFrame
    intervals: pd.DataFrame
    agents: pd.DataFrame
    staffing: pd.DataFrame
    activities: pd.DataFrame
    outages: pd.DataFrame
    costs: pd.DataFrame
    summary: dict = field(repr=False)

    TABLES = ("calls", "intervals", "agents", "staffing", "activities", "outages")

    def save(self, directory: str | Path) -> None:
        """Write every table (and costs) as CSV and Parquet, the summary as summary.json (NaN as null), and the
        scenario simulated as scenario.yaml (a scenario file `bposim run` accepts). Each file is written whole or
        not at all (`bposim.files.write_atomically`); a failure raises a `WriteError` naming the file."""
        import yaml

        directory = Path(directory)
        for name in (*self.TABLES, "costs"):
            frame = getattr(self, name)
            write_atomically(directory / f"{name}.csv", lambda handle, frame=frame: frame.to_csv(handle, index=False))
            write_atomically(
                directory / f"{name}.parquet", lambda handle, frame=frame: frame.to_parquet(handle, index=False)
            )
        write_text_atomically(directory / "summary.json", json.dumps(jsonable(self.summary), indent=2) + "\n")
        if self.scenario is not None:
            data = self.scenario.model_dump(mode="json", exclude_none=True)
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=112)
            write_text_atomically(directory / "scenario.yaml", text)

    @classmethod
    def load(cls, directory: str | Path, summary: dict | None = None) -> Run:
        """A run's tables read back from a directory written by `save`, with its scenario where scenario.yaml is
        there (else None)."""
        from bposim.scenario import load_scenario

        directory = Path(directory)
        tables = {
            name: pd.read_parquet(directory / f"{name}.parquet")
            if (directory / f"{name}.parquet").is_file()
            else pd.DataFrame()
            for name in (*cls.TABLES, "costs")
        }
        if summary is None:
            summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
        scenario = load_scenario(directory / "scenario.yaml") if (directory / "scenario.yaml").is_file() else None
        return cls(scenario, summary.get("seed", 0), summary.get("replications", 1), **tables, summary=summary)


def jsonable(value):
    """Summary values as plain JSON: NaN and infinity become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return jsonable(value.item())
    return value


def simulate(scenario: Scenario, seed: int = 0, replications: int = 1) -> Run:
    """Simulate `replications` independent runs of `scenario`; replication r is the same whatever their number.

    A scenario (with its replications) beyond the limits of `bposim.workload` raises ScenarioError at once.
    """
    _check_count("seed", seed, 0)
    _check_count("replications", replications, 1)
    workload.check(scenario, replications)
    parts = [_replicate(scenario, seed, r) for r in range(replications)]
    if replications == 1:
        tables, summary = parts[0][:-1], parts[0][-1]
    else:
        tables = [
            pd.concat([part[i].assign(replication=r) for r, part in enumerate(parts)], ignore_index=True)
            for i in range(len(Run.TABLES))
        ]
        summary = _pool([part[-1] for part in parts])
    return _assemble(scenario, seed, replications, tables, summary)


def simulate_replication(scenario: Scenario, seed: int, replication: int) -> Run:
    """Replication `replication` of `simulate(scenario, seed, ...)` on its own: one task of an experiment."""
    _check_count("seed", seed, 0)
    _check_count("replication", replication, 0)
    workload.check(scenario)
    *tables, summary = _replicate(scenario, seed, replication)
    return _assemble(scenario, seed, 1, tables, summary)


def _check_count(name: str, value: object, minimum: int) -> None:
    """A seed or replication count must be a whole number (a Python or numpy integer, not a flag) ≥ minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: must be a whole number ≥ {minimum}; got {value!r}")


def _assemble(scenario: Scenario, seed: int, replications: int, tables: list, summary: dict) -> Run:
    costs = cost_table(scenario.costs, scenario, tables[0], tables[1], tables[2])
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "replications": replications,
        "service_level_definition": scenario.service_level.definition,
        **summary,
        **cost_summary(costs, tables[0]),
    }
    return Run(scenario, seed, replications, *tables, costs=costs, summary=summary)


def _replicate(scenario: Scenario, seed: int, replication: int):
    centre = Centre(scenario, seed, replication).run()
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
    sessions = pd.DataFrame(
        np.array(centre.workforce.sessions, dtype=np.float64).reshape(-1, len(SESSION_FIELDS)),
        columns=list(SESSION_FIELDS),
    )
    sessions["agent"] = pd.Categorical.from_codes(sessions["agent"].to_numpy(dtype=np.int64), names)
    activities = _activities_table(centre, names, agent_groups)
    agents = metrics.agent_table(calls, sessions, activities, agent_groups, _window_start(scenario))
    staffing = _staffing_table(scenario, centre, calls, sessions, activities, agent_groups)
    overall["occupancy"] = metrics.occupancy(agents)
    for call_type in scenario.call_types:
        holders = [g.name for g in scenario.agent_groups if any(s.call_type == call_type.name for s in g.skills)]
        per_type[call_type.name]["occupancy"] = metrics.occupancy(agents, holders)
    outages = _outages_table(scenario, centre, calls, thresholds)
    return calls, intervals, agents, staffing, activities, outages, {**overall, "by_call_type": per_type}


def _activities_table(centre: Centre, names, agent_groups: pd.Categorical) -> pd.DataFrame:
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
    parts = []
    for effect in tool.effects:
        scope = ", ".join([*(effect.groups or []), *(effect.call_types or [])]) or "all"
        what = f"slow ×{effect.multiplier:g}" if effect.type == "slow" else effect.type
        parts.append(f"{what} ({scope})")
    return "; ".join(parts)


def _clock_labels(seconds: np.ndarray) -> list[str]:
    return [clock(s) for s in seconds]


def _window_start(scenario: Scenario):
    """For an array of times: when statistics start on each time's day (the day's opening + warm-up)."""
    warmup = scenario.horizon.warmup_minutes * 60.0
    if scenario.horizon.days == 1:
        return lambda times: np.full(len(times), warmup)
    return lambda times: np.floor(np.asarray(times) / SECONDS_PER_DAY) * SECONDS_PER_DAY + warmup


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
    horizon = scenario.horizon
    starts = horizon.start_seconds + table["interval"].to_numpy() * horizon.interval_seconds
    table.insert(2, "interval_start", _clock_labels(starts))
    targets = {ct.name: scenario.service_level_for(ct)[1] for ct in scenario.call_types}
    table["threshold_seconds"] = table["call_type"].map(thresholds).astype(float)
    table["target"] = table["call_type"].map(targets).astype(float)
    return table


def _pool(summaries: list[dict]) -> dict:
    """Mean and 95% confidence half-width across replications, overall and per call type."""

    def pooled(rows: list[dict]) -> dict:
        out: dict = {}
        for key in metrics.SUMMARY_KEYS:
            mean, half = metrics.mean_and_ci([float(row[key]) for row in rows])
            out[key] = mean
            out[f"{key}_ci"] = half
        return out

    result = pooled(summaries)
    names = summaries[0]["by_call_type"].keys()
    result["by_call_type"] = {name: pooled([s["by_call_type"][name] for s in summaries]) for name in names}
    return result
