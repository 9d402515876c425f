"""What a run costs: one row per cost item from the run's tables and the scenario's `costs`, and a summary.

Definitions (everything after the warm-up, like the KPIs; a run of several replications gives rows per
replication and a summary of means over them):

- agents: per group, regular paid hours × per_paid_hour. Paid seconds of an agent are logged_in_seconds −
  unpaid_seconds (unpaid breaks); regular seconds are paid seconds − overtime_seconds.
- overtime: per group, overtime hours (logged in past the planned log-out, finishing a call) ×
  per_paid_hour × (1 + overtime_premium).
- technology, per seat-day: seats are the agents of the covered groups who were logged in at some time in
  the run; each is a seat on every simulated day they were not absent (days − absent_days). The agents table
  is per run, not per day, so an agent logged in on some days only counts on every day they were not absent.
- technology, per contact: call attempts of the covered call types, whatever their outcome (a callback made
  is an attempt of its own, a chat session one contact, an email or case item one contact whether worked in the
  horizon or not, an item of an initial backlog included); or, with `contacts: bot_sessions`, the attempts that
  went into a self-service bot (path bot_opt_out, bot_bounce or bot_contained).
- technology, fixed per day: the simulated days.
- a technology line with a `site` (a site's tool) counts as seats only the agents of the site's groups, and its
  rows carry the site in `site` (every other technology row has none).
- abandoned_calls: per call type, abandoned call attempts × abandoned_call.
- service_level_penalty: per live call type (voice, chat), the intervals with calls offered whose service level
  is below the call type's target (an undefined service level, NaN, is not a miss) × service_level_penalty; per
  deferred call type (email, case), the days with items due whose service level (met_due / due, the backlog
  table's) is below its target × service_level_penalty.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.scenario import Scenario
from bposim.scenario.costs import Costs

COMPONENTS = ("agents", "overtime", "technology", "abandoned_calls", "service_level_penalty")
COLUMNS = ("component", "item", "site", "quantity", "unit", "unit_cost", "amount")
SUMMARY_KEYS = ("total_cost", "cost_per_handled_contact", *(f"cost_{component}" for component in COMPONENTS))
SECONDS_PER_HOUR = 3600.0
BOT_PATHS = ("bot_opt_out", "bot_bounce", "bot_contained")


def cost_table(
    costs: Costs | None,
    scenario: Scenario,
    calls: pd.DataFrame,
    intervals: pd.DataFrame,
    agents: pd.DataFrame,
    backlog: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per cost item (columns COLUMNS; amount = quantity × unit_cost); empty without a costs section.

    With several replications (a `replication` column in the tables) the rows are per replication. `backlog` (the
    run's backlog table) prices the days deferred work missed its target; without it they cost nothing.
    """
    if costs is None:
        return _frame([])
    if backlog is None or backlog.empty:
        backlog = pd.DataFrame({"call_type": [], "due": [], "service_level": [], "target": [], "replication": []})
    if "replication" not in intervals:
        return _frame(_cost_rows(costs, scenario, calls, intervals, agents, backlog))
    frames = []
    for replication in np.unique(intervals["replication"].to_numpy()):
        rows = _cost_rows(
            costs,
            scenario,
            calls[calls["replication"] == replication],
            intervals[intervals["replication"] == replication],
            agents[agents["replication"] == replication],
            backlog[backlog["replication"] == replication],
        )
        frames.append(_frame(rows).assign(replication=replication))
    return pd.concat(frames, ignore_index=True)


def cost_summary(table: pd.DataFrame, calls: pd.DataFrame) -> dict[str, float]:
    """total_cost, cost_per_handled_contact and cost_<component> for each component.

    Handled contacts are the calls agents answered, live or as callbacks (the summary's `answered` counts live
    calls only), each chat session one contact (an agent holding three sessions handles three), and each email or
    case item worked (whatever day it arrived on; an item left unserved is not handled); callers the bot contained
    are not among them. An empty table (no costs section) gives {}.
    With several replications each key is the mean over them, with its 95% confidence half-width under
    `<key>_ci`, as in the run's summary.
    """
    if table.empty:
        return {}
    if "replication" not in table:
        return _summary(table, calls)
    parts = [
        _summary(table[table["replication"] == replication], calls[calls["replication"] == replication])
        for replication in np.unique(table["replication"].to_numpy())
    ]
    pooled: dict[str, float] = {}
    for key in SUMMARY_KEYS:
        pooled[key], pooled[f"{key}_ci"] = metrics.mean_and_ci([part[key] for part in parts])
    return pooled


def _summary(table: pd.DataFrame, calls: pd.DataFrame) -> dict[str, float]:
    """The cost summary of one replication."""
    total = float(table["amount"].sum())
    answered = int(((calls["outcome"] == "answered") & ~calls["warmup"]).sum())
    by_component = table.groupby("component")["amount"].sum()
    return {
        "total_cost": total,
        "cost_per_handled_contact": total / answered if answered else math.nan,
        **{f"cost_{component}": float(by_component.get(component, 0.0)) for component in COMPONENTS},
    }


def _cost_rows(
    costs: Costs,
    scenario: Scenario,
    calls: pd.DataFrame,
    intervals: pd.DataFrame,
    agents: pd.DataFrame,
    backlog: pd.DataFrame,
) -> list[tuple]:
    """The cost items of one replication, as (component, item, site, quantity, unit, unit_cost) tuples."""
    days = scenario.horizon.days
    type_names = [call_type.name for call_type in scenario.call_types]
    counted = calls[~calls["warmup"].to_numpy(dtype=bool)]
    group = agents["group"].astype(str)
    paid = agents["logged_in_seconds"] - agents["unpaid_seconds"]
    regular_hours = (paid - agents["overtime_seconds"]).groupby(group).sum() / SECONDS_PER_HOUR
    overtime_hours = agents["overtime_seconds"].groupby(group).sum() / SECONDS_PER_HOUR
    rows: list[tuple] = []
    for entry in costs.groups:
        rate = entry.per_paid_hour
        rows.append(("agents", entry.group, entry.site, float(regular_hours.get(entry.group, 0.0)), "paid hours", rate))
        rows.append(
            (
                "overtime",
                entry.group,
                entry.site,
                float(overtime_hours.get(entry.group, 0.0)),
                "overtime hours",
                rate * (1.0 + entry.overtime_premium),
            )
        )
    for tool in costs.technology:
        site = tool.site or ""  # a site's tool: its seats are the site's agents, its lines carry the site
        if tool.per_seat_per_day is not None:
            seats = agents["logged_in_seconds"].to_numpy() > 0
            if tool.groups is not None:
                seats &= group.isin(tool.groups).to_numpy()
            if tool.site is not None:
                seats &= group.isin([g.name for g in scenario.agent_groups if g.site == tool.site]).to_numpy()
            seat_days = float((days - agents["absent_days"].to_numpy()[seats]).clip(min=0).sum())
            rows.append(("technology", tool.name, site, seat_days, "seat-days", tool.per_seat_per_day))
        if tool.per_contact is not None:
            covered = counted if tool.call_types is None else counted[counted["call_type"].isin(tool.call_types)]
            if tool.contacts == "bot_sessions":
                covered = covered[covered["path"].isin(BOT_PATHS)]
            unit = "contacts" if tool.contacts == "attempts" else "bot sessions"
            rows.append(("technology", tool.name, site, float(len(covered)), unit, tool.per_contact))
        if tool.fixed_per_day is not None:
            rows.append(("technology", tool.name, site, float(days), "days", tool.fixed_per_day))
    if costs.abandoned_call is not None:
        abandoned = counted[counted["outcome"] == "abandoned"]["call_type"].value_counts()
        rows += [
            ("abandoned_calls", name, "", float(abandoned.get(name, 0)), "abandoned calls", costs.abandoned_call)
            for name in type_names
        ]
    if costs.service_level_penalty is not None:
        missed = intervals[(intervals["offered"] > 0) & (intervals["service_level"] < intervals["target"])]
        by_type = missed["call_type"].value_counts()
        late = backlog[(backlog["due"] > 0) & (backlog["service_level"] < backlog["target"])]
        late_days = late["call_type"].astype(str).value_counts()
        rows += [
            (
                "service_level_penalty",
                ct.name,
                "",
                float(by_type.get(ct.name, 0) if ct.live else late_days.get(ct.name, 0)),
                "missed intervals" if ct.live else "missed days",
                costs.service_level_penalty,
            )
            for ct in scenario.call_types
        ]
    return rows


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """The cost table of (component, item, site, quantity, unit, unit_cost) rows, with amount added."""
    table = pd.DataFrame(rows, columns=list(COLUMNS[:-1])).astype({"quantity": float, "unit_cost": float})
    table["amount"] = table["quantity"] * table["unit_cost"]
    return table
