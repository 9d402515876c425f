"""First-contact resolution KPIs, from the calls' `resolved` and `repeat_of` columns (scenarios with a call type that
has `resolution`; `bposim.engine.resolution` says how contacts are resolved and repeats made).

Per call type with resolution, and over all of them, counted on contacts that arrived after the warm-up (with
transfers: whose journey's first leg did). A contact is a journey: with transfers, its legs passed on carry no
resolution, and it is counted once, on the leg that ended it answered, under that leg's call type.

- first_contacts_answered: answered contacts that repeat nothing (repeat_of −1);
- resolved_first_contacts: those of them resolved;
- fcr (first-contact resolution): resolved_first_contacts / first_contacts_answered (NaN with none);
- repeats: repeat contacts offered (their first attempts' first legs, callbacks left out; a repeat's retrials are
  attempts of the same contact);
- repeats_per_day: repeats / the horizon's days;
- repeats_carried_out: repeats due after the last closing, so not made in the horizon (warm-up or not);
- cost_of_repeats (with `costs.groups`): the handle-time cost of the answered repeat contacts, (handle + wrap-up)
  hours × the answering group's per_paid_hour. It is a view of what the agents' pay already holds, not an extra
  cost item: the share of paid agent time spent answering contacts a better first answer would have saved.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim.columns import Records
from bposim.engine.records import ANSWERED, CALLBACK
from bposim.scenario import Scenario

SECONDS_PER_HOUR = 3600.0
COUNTS = ("first_contacts_answered", "resolved_first_contacts", "repeats", "repeats_carried_out")
KPIS = ("fcr", *COUNTS, "repeats_per_day", "cost_of_repeats")


def call_columns(columns: dict[str, np.ndarray]) -> dict[str, pd.api.extensions.ExtensionArray | np.ndarray]:
    """The calls table's resolved (boolean, NA on rows not answered or of call types without resolution) and
    repeat_of (int64, −1 for first contacts) columns; none when the records have no resolution."""
    if "resolved" not in columns:
        return {}
    resolved = columns["resolved"]
    return {
        "resolved": pd.arrays.BooleanArray(resolved == 1, resolved < 0),
        "repeat_of": columns["repeat_of"],
    }


def add_kpis(summaries: list[dict], scenario: Scenario, records: Records) -> None:
    """Add the resolution KPIs to each replication's summary: overall and under by_call_type for each call type
    with resolution. Nothing without resolution."""
    calls = records.calls
    if "resolved" not in calls:
        return
    replications = records.replications
    types = len(scenario.call_types)
    cell = records.replication("calls") * types + calls["call_type"].astype(np.int64)
    kept = ~journey_warmup(calls, records.replication("calls"))
    first = calls["repeat_of"] < 0
    answered_first = kept & first & (calls["outcome"] == ANSWERED) & (calls["resolved"] >= 0)
    repeat_contact = kept & ~first & (calls["attempt"] == 1) & (calls["leg"] == 1) & (calls["path"] != CALLBACK)
    size = replications * types

    def per_cell(selected: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        counted = np.bincount(cell[selected], weights[selected] if weights is not None else None, minlength=size)
        return counted.reshape(replications, types)

    counts = {
        "first_contacts_answered": per_cell(answered_first),
        "resolved_first_contacts": per_cell(answered_first & (calls["resolved"] == 1)),
        "repeats": per_cell(repeat_contact),
        "repeats_carried_out": records.repeats_carried,
    }
    cost = _repeat_cost(scenario, records, kept & ~first & (calls["outcome"] == ANSWERED), per_cell)
    days = scenario.horizon.days
    resolving = [i for i, call_type in enumerate(scenario.call_types) if call_type.resolution is not None]
    for r, summary in enumerate(summaries):
        for i in resolving:
            own = {key: int(counts[key][r, i]) for key in COUNTS}
            summary["by_call_type"][scenario.call_types[i].name].update(_kpis(own, days, cost, r, [i]))
        total = {key: int(counts[key][r, resolving].sum()) for key in COUNTS}
        summary.update(_kpis(total, days, cost, r, resolving))


def journey_warmup(calls: dict[str, np.ndarray], replication: np.ndarray) -> np.ndarray:
    """Whether each row's journey arrived during the warm-up (its first leg did): a leg passed on after the warm-up
    goes with its journey. Without legs beyond the first, the rows' own `warmup`."""
    warmup, leg = calls["warmup"], calls["leg"]
    if not (leg > 1).any():
        return warmup
    keys = np.stack([replication, calls["call_id"].astype(np.int64), calls["attempt"].astype(np.int64)], axis=1)
    _, journey = np.unique(keys, axis=0, return_inverse=True)
    journey = journey.ravel()
    starts = leg == 1
    started = np.zeros(int(journey.max()) + 1, bool)
    started[journey[starts]] = warmup[starts]
    return started[journey]


def _kpis(counts: dict[str, int], days: int, cost: np.ndarray | None, r: int, types: list[int]) -> dict:
    """The KPIs of KPIS from the counts of one replication (over the call types `types`)."""
    answered = counts["first_contacts_answered"]
    kpis = {
        "fcr": counts["resolved_first_contacts"] / answered if answered else math.nan,
        **counts,
        "repeats_per_day": counts["repeats"] / days,
    }
    if cost is not None:
        kpis["cost_of_repeats"] = float(cost[r, types].sum())
    return kpis


def _repeat_cost(scenario: Scenario, records: Records, answered_repeats: np.ndarray, per_cell) -> np.ndarray | None:
    """Per replication and call type, the handle-time cost of the answered repeat contacts; None without group
    rates (`costs.groups`)."""
    costs = scenario.costs
    if costs is None or not costs.groups:
        return None
    rates: dict[str, float] = {}
    for entry in costs.groups:
        rates.setdefault(entry.group, entry.per_paid_hour)
    group_rate = np.array([rates.get(group.name, 0.0) for group in scenario.agent_groups] + [0.0])
    calls = records.calls
    agent_group = np.append(records.agent_groups, -1)[calls["agent"].astype(np.int64)]
    hours = (calls["handle_seconds"] + calls["wrap_seconds"]) / SECONDS_PER_HOUR
    return per_cell(answered_repeats, hours * group_rate[agent_group])
