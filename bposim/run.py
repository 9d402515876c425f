"""`simulate(scenario, seed)`: a pure function from a scenario to a `Run` of tidy tables.

Tables (times in seconds from the opening of day 0; a day d opens at d × 86,400 s):

``calls``: one row per call attempt (a chat session, an email or case item: one row each). call_id (the caller;
retrials keep it), call_type, channel (voice | chat | email | case), attempt (1 = first), leg (1, 2, ...: the legs
of one attempt passed on by transfers share its call_id and attempt; `bposim.engine.journeys`), day, interval (of
the day, by arrival; both −1 for an item of an initial backlog, which arrived before the first opening, at a
negative time), arrival (when the caller reached the agents' queue; for callers the bot contained, when they entered
the bot), answer (NaN unless answered; for deferred work, when the work started), end (call end if answered, else
when the caller left), wait (answer or end − arrival), handle_seconds (talk, after proficiency, learning, AI assist
and outage slow-downs; an interrupted item: the work of all its stretches), wrap_seconds (after-call work; deferred
work is completed at end + wrap_seconds), interruptions (with an interruptible call type only: how often an item was
stopped for a live contact; its answer is when work first began), outcome (answered | abandoned | blocked | unserved
| contained | callback_requested | dropped: cut off by an outage | balked: hung up at once rather than queue |
message: sent to leave a message at the maximum wait, its recording time in handle_seconds;
`bposim.engine.behaviour` | disconnected: cut off at a transfer nobody was free for), agent and group (answered
and dropped calls), path (direct | bot_opt_out | bot_bounce | bot_contained | callback), bot_seconds (time in
the bot), warmup (a live contact that arrived during the warm-up: left out of KPIs),
with transfers transfer_mode (cold | warm: how the leg was passed on; missing on a first leg) and conference_seconds
(a warm transfer's conference, on the leg it opened), with a call type's `resolution` resolved (nullable boolean,
answered rows of such call types; NA on legs passed on: a journey is resolved on its last leg) and repeat_of
(the call_id a repeat contact repeats, −1 for first contacts; `bposim.engine.resolution`), and replication when
there are several.

``intervals``: one row per day, interval and live call type (voice, chat): interval_start (HH:MM), channel, the
counts and KPIs of `bposim.metrics` (balked, messages and balk_rate only in scenarios with balking or a maximum
wait), and the call type's threshold_seconds and target.

``agents``: one row per agent: group, calls_handled, busy (each stretch of an interrupted item on the agent who
worked it), idle, off-phone (breaks, shrinkage; not deferred blocks), logged-in, overtime and unpaid seconds,
absent_days, occupancy.

``staffing``: one row per day, interval and agent group, in agent-equivalents averaged over the interval:
scheduled (plan + roster), absent, present (logged in), off_phone (breaks, shrinkage), on_phone, busy (an agent
holding one or more chat sessions counts once), occupancy (busy / on_phone), and sessions (chat
session-equivalents: the summed time of the chat sessions over the interval's length).

``activities``: one row per break, shrinkage episode, absence or deferred block: agent, group, kind, name,
planned start, start, end, late (started after the latest start its window allows), missed (the shift ended
first), paid.

``outages``: one row per tool outage: tool, kind (random | planned), start, end, duration_seconds, effects,
dropped (calls cut off by it), and the offered, answered, abandoned, blocked and answered-within-threshold
calls that arrived during it and in the interval after it, with the service level of each.

``backlog``: one row per day and deferred call type (email, case): arrived, completed, abandoned, open_at_start,
open_at_end, oldest_age_hours, due, met_due, service_level, projected_late, mean_open, and the call type's
channel, threshold_hours and target (defined in `bposim.backlog`); empty without deferred work.

``backlog_intervals`` (built only when named in `tables=`): one row per day, interval and deferred call type:
interval_start (HH:MM), channel, arrived, completed, abandoned, open_at_start, open_at_end, oldest_age_hours,
completed_within_due, overdue_at_end, and the call type's threshold_hours (defined in `bposim.backlog`; a day's
last interval takes in the night); empty without deferred work.

``periods``: one row per call type and period its target is measured over (`service_level.period`: interval, day,
week or month; defined in `bposim.periods`): period, label, first_day, last_day (start_date and end_date on dates),
interval, partial, counted, within, service_level, target, met; cheap: pooled from the KPI sums already made.

``outbound``: one row per dial of an outbound campaign (`scenario.outbound`): campaign, dial_id, day, interval,
held_from, dialed, ended, result (right_party | wrong_party | no_answer | nuisance), agent, group, talk_start,
talk_end, free_at, record_id, attempt, cut_off (defined in `bposim.outbound`); empty without campaigns (and not
written by `save`). The summary then has `outbound`: each campaign's dials, results, nuisance_rate, agent_hours,
contacts per agent-hour and per dialling hour, records completed, attempts per record and records left.

``clients``: one row per client of the scenario's `clients` (its billing, billed_units, unit, revenue, credits,
bonuses, net_revenue, work_seconds, busy_share, cost, margin, margin_share, periods_measured, periods_credited;
defined in `bposim.contracts`); without clients no rows (and not written by `save`). The summary then has
`clients`: the provider's and each client's figures, and per service-level clause P(a period owes a credit).

``sites``: one row per replication and site of the scenario's `sites` (time_zone, groups, agents, paid_hours, cost,
occupancy, calls_handled, aht_seconds; defined in `bposim.sites`); without sites no rows (and not written by `save`).

``costs``: one row per cost item (component, item, site, quantity, unit, unit_cost, amount), when the scenario
has a `costs` section; the summary then has total_cost, cost_per_handled_contact and cost_<component>.

With a horizon on dates (a `start_date`), calls, intervals, staffing and backlog have `date` (datetime64[ns] at
midnight; NaT for an initial backlog's items) and `weekday` (categorical mon..sun) after `day`; where some day does
not open over its whole grid (closed days, shorter hours), intervals and staffing have `open` (the interval is in
the day's hours) and backlog has `open` (the day opens). Times stay seconds from the start of day 0's grid.

``summary``: the KPIs over everything, per call type (`by_call_type`) and per channel (`by_channel`), and the
channels present (`channels`, in the order voice, chat, email, case); with transfers, `journeys` (the KPIs of
`bposim.journeys`). Live call types and channels have the KPIs
of `bposim.metrics`; deferred ones those of `bposim.backlog` (arrived, completed, abandoned, open_at_end,
oldest_age_hours, due, met_due, service_level), each with the occupancy of the agents holding its skills. With one
channel the overall KPIs are that channel's; with several, the overall rates and times (service_level,
asa_seconds, aht_seconds, abandon_rate, callback_service_level) are NaN, never an average across channels, the
counts are the live contacts', and occupancy is every agent's. With several replications, each KPI is the mean
over replications with a 95% confidence half-width under `<key>_ci`. `periods`: per call type, its periods met and
P(every period met), and per period the mean service level and P(met), with 95% Wilson intervals
(`bposim.periods.pooled`). With a call type's `resolution`, the first-contact resolution KPIs of
`bposim.resolution` (fcr, repeats, repeats_per_day, repeats_carried_out, cost_of_repeats, ...), overall and for
such call types.

Each replication's records are taken from its engine as numpy columns as soon as it has run (`bposim.columns`),
and the tables of all replications are built once from them (`bposim.tables`); `tables=` asks for fewer, or
for backlog_intervals too (DEFAULT_TABLES are those built unless named). `Run.concat`
joins runs of one replication each (giving what `simulate` gives) and `Run.replication` takes one back out.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bposim import backlog, contracts, journeys, metrics, outbound, periods, resolution, sites, workload
from bposim.clocktimes import csv_table
from bposim.columns import Records, joined, replication_records
from bposim.costs import cost_summary, cost_table
from bposim.engine.model import Centre, cycle_collection_paused
from bposim.files import write_atomically, write_text_atomically
from bposim.scenario import Scenario, scenario_text
from bposim.scenario.sites import site_costs
from bposim.tables import BUILT, EXEMPT_KEY, ON_REQUEST, run_tables

# built unless named: from the records, and what is priced from them
DEFAULT_TABLES = (*BUILT, "costs", "clients", "sites")
TABLES = (*DEFAULT_TABLES, *ON_REQUEST)  # every table of a run, those built only when named last
POOLED = (
    *metrics.SUMMARY_KEYS,
    *(key for key in backlog.KPIS if key not in metrics.SUMMARY_KEYS),  # live, deferred
    EXEMPT_KEY,  # with exempt maintenance windows only
    *metrics.BEHAVIOUR_KEYS,  # with balking or a maximum wait only
    *resolution.KPIS,  # with a call type's resolution only
)
_HEADER = ("scenario", "seed", "replications", "service_level_definition")  # what a summary starts with


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
    backlog: pd.DataFrame
    costs: pd.DataFrame
    backlog_intervals: pd.DataFrame
    periods: pd.DataFrame
    outbound: pd.DataFrame
    clients: pd.DataFrame
    sites: pd.DataFrame
    summary: dict = field(repr=False)

    TABLES = TABLES
    DEFAULT_TABLES = DEFAULT_TABLES

    @classmethod
    def concat(cls, runs: Sequence[Run], replications: Sequence[int] | None = None) -> Run:
        """Runs of one replication each as one run: every table's rows, with a `replication` column.

        `replications` numbers the runs (0, 1, ... unless given). The summary is pooled as `simulate` pools it: each
        KPI the mean over the runs with its 95% confidence half-width under `<key>_ci` (when the runs' summaries
        have KPIs; runs read back with an empty summary give none), and the costs' summary over their cost rows.
        A run without costs (no `costs` section) has an empty costs table, left without a replication column, as
        `bposim.costs.cost_table` gives it; a table not built (no columns) is left as it is.
        """
        if not runs:
            raise ValueError("Run.concat needs at least one run")
        labels = list(range(len(runs))) if replications is None else list(replications)
        if len(labels) != len(runs):
            raise ValueError(f"Run.concat: {len(runs)} runs but {len(labels)} replication numbers")
        numbered = [i for i, run in enumerate(runs) if run.replications != 1 or "replication" in run.calls]
        if numbered:
            raise ValueError(
                f"Run.concat joins runs of one replication each, not numbered yet; run {numbered[0]} has a "
                "replication column (several replications, or one taken out by Run.replication)"
            )
        tables = {}
        for name in cls.TABLES:
            parts = [getattr(run, name) for run in runs]
            if (name == "costs" and all(part.empty for part in parts)) or not any(len(p.columns) for p in parts):
                tables[name] = parts[0]  # no cost rows to number, or a table not built
            else:
                tables[name] = pd.concat(
                    [part.assign(replication=r) for part, r in zip(parts, labels, strict=True)], ignore_index=True
                )
        first = runs[0]
        summary = {key: first.summary[key] for key in _HEADER if key in first.summary}
        summary["replications"] = len(runs)
        if all("by_call_type" in run.summary for run in runs):
            summary.update(_pool([run.summary for run in runs]))
        summary.update(cost_summary(tables["costs"], tables["calls"]))
        if all("clients" in run.summary for run in runs):
            summary["clients"] = contracts.pooled([run.summary["clients"] for run in runs])
        if all("sites" in run.summary for run in runs) and len(tables["agents"].columns):
            summary["sites"] = sites.site_summary(first.scenario, tables, tables["costs"])
        return cls(first.scenario, first.seed, len(runs), **tables, summary=summary)

    def replication(self, replication: int) -> Run:
        """One replication's rows of every table (each keeps its `replication` column), as a run of one.

        The summary stays this run's (pooled over every replication); a run of one replication is itself.
        """
        if "replication" not in self.calls:
            if replication != 0:
                raise ValueError(f"replication {replication}: this run has one replication, number 0")
            return self
        tables = {}
        for name in self.TABLES:
            table = getattr(self, name)
            if "replication" in table:
                table = table[table["replication"] == replication].reset_index(drop=True)
            tables[name] = table
        return Run(self.scenario, self.seed, 1, **tables, summary=self.summary)

    def save(self, directory: str | Path) -> None:
        """Write every table as CSV and Parquet (backlog_intervals only when it was built; the CSV files with clock
        times beside the seconds, `bposim.clocktimes`), the summary as
        summary.json (NaN as null), and the scenario simulated as scenario.yaml (a scenario file `bposim run`
        accepts). Each file is written whole or not at all (`bposim.files.write_atomically`); a failure raises a
        `WriteError` naming the file."""

        directory = Path(directory)
        for name in self.TABLES:
            frame = getattr(self, name)
            if (name in ON_REQUEST and not len(frame.columns)) or (name == "outbound" and not self._dials(frame)):
                continue
            if name in ("clients", "sites") and frame.empty:  # no clients, or no sites, in the scenario
                continue
            text = frame if self.scenario is None else csv_table(name, frame, self.scenario.horizon)
            write_atomically(directory / f"{name}.csv", lambda handle, text=text: text.to_csv(handle, index=False))
            write_atomically(
                directory / f"{name}.parquet", lambda handle, frame=frame: frame.to_parquet(handle, index=False)
            )
        write_text_atomically(directory / "summary.json", json.dumps(jsonable(self.summary), indent=2) + "\n")
        if self.scenario is not None:
            write_text_atomically(directory / "scenario.yaml", scenario_text(self.scenario))

    def _dials(self, frame: pd.DataFrame) -> bool:
        """Whether the run has outbound campaigns (the outbound table is written only then)."""
        return bool(self.scenario.outbound) if self.scenario is not None else len(frame) > 0

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
            for name in cls.TABLES
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


def simulate(scenario: Scenario, seed: int = 0, replications: int = 1, tables: Collection[str] = DEFAULT_TABLES) -> Run:
    """Simulate `replications` independent runs of `scenario`; replication r is the same whatever their number.

    `tables` names the tables to build (`Run.DEFAULT_TABLES` unless given: every table of `Run.TABLES` but
    backlog_intervals, built only when named, e.g. `tables=(*Run.DEFAULT_TABLES, "backlog_intervals")`); the
    others are left empty
    (`pandas.DataFrame()`), and the summary is always whole. A scenario (with its replications) beyond the limits
    of `bposim.workload` raises ScenarioError at once.
    """
    _check_count("seed", seed, 0)
    _check_count("replications", replications, 1)
    wanted = _check_tables(tables)
    workload.check(scenario, replications)
    return _run(scenario, seed, range(replications), wanted)


def simulate_replication(
    scenario: Scenario, seed: int, replication: int, tables: Collection[str] = DEFAULT_TABLES
) -> Run:
    """Replication `replication` of `simulate(scenario, seed, ...)` on its own: one task of an experiment.

    `tables` as for `simulate`: a sweep task that keeps no tables asks only for the staffing table its KPI row
    reads (with the summary).
    """
    _check_count("seed", seed, 0)
    _check_count("replication", replication, 0)
    wanted = _check_tables(tables)
    workload.check(scenario)
    return _run(scenario, seed, [replication], wanted)


def _check_count(name: str, value: object, minimum: int) -> None:
    """A seed or replication count must be a whole number (a Python or numpy integer, not a flag) ≥ minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: must be a whole number ≥ {minimum}; got {value!r}")


def _check_tables(tables: Collection[str]) -> frozenset[str]:
    """The table names asked for, each one of Run.TABLES."""
    if isinstance(tables, str):
        tables = [tables]
    unknown = [name for name in tables if name not in TABLES]
    if unknown:
        raise ValueError(f"tables: unknown table {unknown[0]!r}; known: {', '.join(TABLES)}")
    return frozenset(tables)


def _run(scenario: Scenario, seed: int, replications: Sequence[int], wanted: frozenset[str]) -> Run:
    """Simulate the replications, one at a time, keeping only each one's records as columns; then build the tables
    asked for and the summary once, for all of them (numbered 0, 1, ... when there are several)."""
    records = joined([_replication(scenario, seed, r) for r in replications])
    count = records.replications
    priced_by = site_costs(scenario)  # the costs section, with the sites' wages in (`scenario.sites`)
    costs_needed = priced_by is not None
    priced = {"calls", "intervals", "agents", "backlog"} if costs_needed else set()
    if scenario.sites:  # the sites' KPIs read the agents and calls
        priced |= {"calls", "agents"}
    if contracts.has_clients(scenario):
        priced |= {"calls", "agents", "backlog"}
    built = run_tables(scenario, records, wanted | priced)
    del records
    found = built.tables
    costs = (
        cost_table(
            priced_by,
            scenario,
            found.get("calls"),
            found.get("intervals"),
            found.get("agents"),
            found.get("backlog"),
        )
        if costs_needed or "costs" in wanted
        else None
    )
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "replications": count,
        "service_level_definition": scenario.service_level.definition,
    }
    if count == 1:
        summary.update(built.summaries[0])
    else:
        summary.update(_pool(built.summaries))
    if costs_needed:
        summary.update(cost_summary(costs, found.get("calls")))
    if scenario.sites:
        summary["sites"] = sites.site_summary(scenario, found, costs)
    if "sites" in wanted:  # a sweep task asks for none of the tables: not even an empty one is built
        found["sites"] = (
            sites.site_results(scenario, found["agents"], found["calls"], costs)
            if scenario.sites
            else sites.empty_table(count)
        )
    if "costs" in wanted:
        found["costs"] = costs
    if contracts.has_clients(scenario):
        clients, each = contracts.client_results(scenario, found["calls"], found["agents"], found.get("backlog"), costs)
        summary["clients"] = contracts.pooled(each)
        found["clients"] = clients
    elif "clients" in wanted:
        found["clients"] = contracts.empty_table(count)
    return Run(
        scenario,
        seed,
        count,
        **{name: found[name] if name in wanted else _NOT_ASKED.copy() for name in Run.TABLES},
        summary=summary,
    )


def _replication(scenario: Scenario, seed: int, replication: int) -> Records:
    """One replication's records as columns, its centre built, run and let go with the cycle collector held off
    (`engine.model.cycle_collection_paused`): the centre, a web of objects that point at each other, is then
    freed by the first young-generation collection after, not carried into the older generations."""
    with cycle_collection_paused():
        return replication_records(scenario, Centre(scenario, seed, replication).run())


_NOT_ASKED = pd.DataFrame()  # what a table not asked for is, copied (a quarter of the time of a new one)


def _pool(summaries: list[dict]) -> dict:
    """Mean and 95% confidence half-width across replications of each KPI (POOLED) a replication's summary holds,
    overall, per call type and per channel (the channels present are listed as they are)."""

    def pooled(rows: list[dict]) -> dict:
        out: dict = {}
        for key in POOLED:
            if key in rows[0]:
                mean, half = metrics.mean_and_ci([float(row[key]) for row in rows])
                out[key] = mean
                out[f"{key}_ci"] = half
        return out

    result = pooled(summaries)
    for part in ("by_call_type", "by_channel"):
        if part in summaries[0]:
            names = summaries[0][part].keys()
            result[part] = {name: pooled([s[part][name] for s in summaries]) for name in names}
    if "channels" in summaries[0]:
        result["channels"] = list(summaries[0]["channels"])
    if "periods" in summaries[0]:
        result["periods"] = periods.pooled([summary["periods"] for summary in summaries])
    if "journeys" in summaries[0]:
        result["journeys"] = journeys.pooled([summary["journeys"] for summary in summaries])
    if "outbound" in summaries[0]:
        result["outbound"] = outbound.pooled([summary["outbound"] for summary in summaries])
    return result
