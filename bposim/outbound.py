"""The outbound table and each campaign's KPIs, from the dials of a run (`bposim.engine.outbound`).

``outbound``: one row per dial: campaign, dial_id (numbered in the order dialled, per campaign), day and interval
(of the day, by dial time), held_from (when the agent was taken: the start of the preview, or the dial; NaN when no
agent ended on the dial), dialed, ended (answered, or given up after ringing), result (right_party | wrong_party |
no_answer | nuisance), agent and group (the agent who talked, or who waited on a dial not answered; empty for a
nuisance call and an extra predictive dial nobody waited on), talk_start, talk_end, free_at (talk end plus
after-call work; for a dial not answered, when its agent was free again), record_id (the record dialled, numbered
per campaign as first dialled), attempt (1 for a record's first dial, 2 for its first retry, ...), cut_off (an
outage cut the talk off), and replication when there are several.

KPIs per campaign (`summary["outbound"][campaign]`):

- dials, right_party, wrong_party, no_answer, nuisance: counts of dials by result;
- live_answers: right_party + wrong_party + nuisance (a person answered);
- right_party_rate: right_party / dials;
- nuisance_rate: nuisance / live_answers (NaN with no live answer), what `nuisance_cap` bounds;
- agent_hours: the agents' time on the campaign (previewing, waiting on ringing, talking, after-call work), in
  hours: the sum of free_at − held_from;
- contacts_per_agent_hour: (right_party + wrong_party) / agent_hours; right_party_per_agent_hour likewise;
- records_dialed: the records dialled (distinct record_id); records_completed: those reaching the right party (a
  record reached is done); attempts_per_record: dials / records_dialed;
- dialing_hours: the campaign's hours over the horizon (cut to each day's opening hours); contacts_per_hour:
  (right_party + wrong_party) / dialing_hours; right_party_per_hour likewise;
- records_arrived (rate_per_hour), records_left: records on the list at the end, never dialled or waiting for a
  retry (NaN with an unlimited list), retries_left: those waiting for a retry.

Like the inbound KPIs these leave out each day's warm-up: a dial counts when it was dialled after it, and
dialing_hours are the hours after it (records_arrived, records_left and retries_left are the whole horizon's). The
agents table gets `outbound_seconds` (each agent's time on outbound work after the warm-up), taken out of its
idle_seconds; busy_seconds and occupancy stay inbound.

With several replications each KPI is the mean over them, with its 95% confidence half-width under `<key>_ci`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.columns import Records
from bposim.engine.outbound import NO_ANSWER, NUISANCE, RESULTS, RIGHT_PARTY, WRONG_PARTY
from bposim.scenario import SECONDS_PER_DAY, Scenario

KPIS = (
    "dials",
    "right_party",
    "wrong_party",
    "no_answer",
    "nuisance",
    "live_answers",
    "right_party_rate",
    "nuisance_rate",
    "agent_hours",
    "contacts_per_agent_hour",
    "right_party_per_agent_hour",
    "records_dialed",
    "records_completed",
    "attempts_per_record",
    "dialing_hours",
    "contacts_per_hour",
    "right_party_per_hour",
    "records_arrived",
    "records_left",
    "retries_left",
)

CELL_KPIS = (  # the columns of a sweep's results and cells, `outbound.<campaign>.<kpi>`
    "dials",
    "right_party",
    "nuisance",
    "contacts_per_hour",
    "right_party_per_hour",
    "nuisance_rate",
    "attempts_per_record",
    "records_left",
)


def outbound_table(scenario: Scenario, records: Records) -> pd.DataFrame:
    """The outbound table (one row per dial; no row without campaigns), with a replication column when several."""
    dials = records.dials
    campaign = dials[:, 0].astype(np.int32)
    agent = dials[:, 6].astype(np.int32)
    group = np.append(records.agent_groups, -1).astype(np.int32)[agent]
    dialed = dials[:, 3]
    horizon = scenario.horizon
    day = (dialed // SECONDS_PER_DAY).astype(np.int32)
    since_open = dialed - day * float(SECONDS_PER_DAY)
    interval = np.clip(since_open // horizon.interval_seconds, 0, horizon.intervals - 1).astype(np.int32)
    table = {
        "campaign": categorical(campaign, [c.name for c in scenario.outbound]),
        "dial_id": dials[:, 1].astype(np.int64),
        "day": day,
        "interval": interval,
        "held_from": dials[:, 2],
        "dialed": dialed,
        "ended": dials[:, 4],
        "result": categorical(dials[:, 5].astype(np.int8), RESULTS),
        "agent": categorical(agent, records.agent_names),
        "group": categorical(group, [g.name for g in scenario.agent_groups]),
        "talk_start": dials[:, 7],
        "talk_end": dials[:, 8],
        "free_at": dials[:, 9],
        "record_id": dials[:, 10].astype(np.int64),
        "attempt": dials[:, 11].astype(np.int32),
        "cut_off": dials[:, 12].astype(bool),
    }
    if records.replications > 1:
        table["replication"] = records.replication("dials")
    return pd.DataFrame(table, copy=False)


def with_outbound_seconds(
    columns: dict[str, np.ndarray], records: Records, window_start: Callable[[np.ndarray], np.ndarray | float]
) -> dict[str, np.ndarray]:
    """The agents table's columns with `outbound_seconds` (each agent's time on outbound work, held to free, after
    the warm-up) after busy_seconds, taken out of idle_seconds."""
    dials = records.dials
    worked = dials[:, 6] >= 0
    codes = dials[worked, 6].astype(np.int64) + records.replication("dials")[worked] * len(records.agent_names)
    start, end = dials[worked, 2], dials[worked, 9]
    after_warmup = np.clip(end - np.maximum(start, window_start(start)), 0.0, None)
    spent = metrics.sum_by(codes, after_warmup, len(columns["agent"]))
    out = {}
    for name, column in columns.items():
        out[name] = column - spent if name == "idle_seconds" else column
        if name == "busy_seconds":
            out["outbound_seconds"] = spent
    return out


def categorical(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    """A categorical column of `codes` into `names` (−1: missing)."""
    return pd.Categorical.from_codes(codes, categories=names)


def campaign_summaries(
    scenario: Scenario, records: Records, window_start: Callable[[np.ndarray], np.ndarray | float] | None = None
) -> list[dict[str, dict[str, float]]]:
    """Per replication, the KPIs of each campaign (by name, in the scenario's order), over the dials dialled after
    each day's warm-up (`window_start`: when statistics start on a time's day; None: every dial)."""
    dials = records.dials
    counted = dials if window_start is None else dials[dials[:, 3] >= window_start(dials[:, 3])]
    replication = records.replication("dials")
    if window_start is not None:
        replication = replication[dials[:, 3] >= window_start(dials[:, 3])]
    campaigns = len(scenario.outbound)
    out = []
    for r in range(records.replications):
        mine = counted[replication == r]
        lists = records.lists[r * campaigns : (r + 1) * campaigns]
        out.append(
            {
                spec.name: campaign_kpis(mine[mine[:, 0] == c], lists[c] if len(lists) else None)
                for c, spec in enumerate(scenario.outbound)
            }
        )
    return out


def campaign_kpis(dials: np.ndarray, calling_list: np.ndarray | None = None) -> dict[str, float]:
    """The KPIs of one campaign's dials (rows of `engine.outbound.DIAL_FIELDS`) and its calling list at the end
    (a row of `engine.calling_lists.LIST_FIELDS`; None: the list's KPIs are NaN)."""
    results = dials[:, 5].astype(np.int64)
    count = np.bincount(results, minlength=len(RESULTS))
    right, wrong, nuisance = int(count[RIGHT_PARTY]), int(count[WRONG_PARTY]), int(count[NUISANCE])
    live = right + wrong + nuisance
    worked = dials[:, 6] >= 0
    hours = float(np.sum(dials[worked, 9] - dials[worked, 2])) / 3600.0
    dialed = len(np.unique(dials[:, 10]))
    if calling_list is None:
        arrived = dialing = left = retries = math.nan
    else:
        arrived, fresh, retries = float(calling_list[1]), float(calling_list[2]), float(calling_list[3])
        dialing = float(calling_list[5]) / 3600.0
        left = fresh + retries if math.isfinite(fresh) else math.nan
    return {
        "dials": len(dials),
        "right_party": right,
        "wrong_party": wrong,
        "no_answer": int(count[NO_ANSWER]),
        "nuisance": nuisance,
        "live_answers": live,
        "right_party_rate": right / len(dials) if len(dials) else math.nan,
        "nuisance_rate": nuisance / live if live else math.nan,
        "agent_hours": hours,
        "contacts_per_agent_hour": (right + wrong) / hours if hours else math.nan,
        "right_party_per_agent_hour": right / hours if hours else math.nan,
        "records_dialed": dialed,
        "records_completed": right,
        "attempts_per_record": len(dials) / dialed if dialed else math.nan,
        "dialing_hours": dialing,
        "contacts_per_hour": (right + wrong) / dialing if dialing else math.nan,
        "right_party_per_hour": right / dialing if dialing else math.nan,
        "records_arrived": arrived,
        "records_left": left,
        "retries_left": retries,
    }


def pooled(summaries: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each campaign's KPIs as means over replications, with 95% confidence half-widths under `<key>_ci`."""
    out = {}
    for name in summaries[0]:
        kpis: dict[str, float] = {}
        for key in KPIS:
            mean, half = metrics.mean_and_ci([float(summary[name][key]) for summary in summaries])
            kpis[key] = mean
            kpis[f"{key}_ci"] = half
        out[name] = kpis
    return out
