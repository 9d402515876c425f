"""What each client of a BPO provider pays, is credited and costs, from a run's tables and the scenario's
`clients` (`bposim.scenario.clients`); and the provider's totals.

Definitions (per replication; contacts of the warm-up left out, like the KPIs):

- work seconds of a client: handle + wrap-up seconds of the answered rows (live, callbacks, chat sessions, email
  and case items worked) of its call types; its busy share: its work over the work of every call type.
- billed units, by billing model: per_handled_contact the answered rows; per_handle_minute the work seconds / 60;
  per_productive_hour the work seconds / 3,600; per_fte_hour the logged-in hours of the agents of `groups`;
  fixed_monthly one month's fee × the horizon's days / 30.4. A `minimum_volume` (units a month) bills at least
  minimum × days / 30.4 units; a `volume_cap` at most cap × days / 30.4. revenue = billed units × rate. A client
  without a contract is billed nothing (billing `none`) and has no clauses; its work and cost count as any's.
- a service-level clause is measured on each period (day, week or month of `bposim.periods.horizon_periods`) by
  the pooled service level of its call types: live ones answered within its threshold_seconds over the
  scenario's definition's denominator (offered; answered; offered less abandons within the threshold), deferred
  ones their items met by their due time over those due (the backlog's). A period with nothing counted is not
  measured. The worst tier (the lowest `below`) the period's service level is below applies: a credit of
  credit_share × the period's revenue (the revenue × the period's days in the horizon / the horizon's days) or
  credit_amount; a period with no credit reaching the bonus's `at_least` earns share × the period's revenue.
- service level of a client: its clauses' contacts within their thresholds (items met by their due time) over those
  counted, pooled over its clauses and every period of the horizon; NaN without a clause or nothing counted.
- net revenue = revenue − credits + bonuses. cost: with a `costs` section (or sites' wages), each agent group's pay
  (agents and overtime lines) shared out by the client's share of that group's busy time (a client served by an
  onshore team bears its wages, one served offshore the offshore wages), a site's technology by its share of the
  site's groups' busy time, other technology by its share of all busy time (a line whose pool did no work: by its
  share of all busy time), plus the abandoned-call and service-level penalty items of the client's call types;
  NaN without one. margin = net revenue − cost; margin_share = margin / net revenue.
- the provider: every client's revenue, credits, bonuses and net revenue summed; its cost is the run's total cost
  (work of call types no client owns included).

With several replications, each figure is the mean with its 95% half-width under `<key>_ci`; per clause
p_trigger (the share of measured periods that owed a credit, over all replications, with its 95% Wilson interval
p_trigger_low..p_trigger_high) and expected_credit (credits per replication, mean and half-width).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.periods import horizon_periods, wilson
from bposim.scenario import Scenario
from bposim.scenario.clients import DAYS_PER_MONTH, Client, ServiceLevelClause

COLUMNS = (
    "client",
    "billing",
    "billed_units",
    "unit",
    "revenue",
    "credits",
    "bonuses",
    "net_revenue",
    "work_seconds",
    "busy_share",
    "cost",
    "margin",
    "margin_share",
    "periods_measured",
    "periods_credited",
)
KPIS = ("revenue", "credits", "bonuses", "net_revenue", "cost", "margin", "margin_share", "busy_share", "billed_units")
CELL_KPIS = (
    "revenue",
    "credits",
    "bonuses",
    "net_revenue",
    "cost",
    "margin",
    "margin_share",
    "p_penalty",
    "service_level",
)
UNITS = {
    "per_handled_contact": "contacts",
    "per_handle_minute": "handle minutes",
    "per_productive_hour": "productive hours",
    "per_fte_hour": "logged-in hours",
    "fixed_monthly": "months",
    "none": "",
}
NO_CONTRACT = "none"  # the billing of a client without a contract: nothing billed, credited or rewarded
SHARED_COMPONENTS = ("agents", "overtime", "technology")  # shared out by busy time; the others are per call type
PEOPLE = ("agents", "overtime")  # a group's pay: shared out by the busy time of that group's agents
_LIVE_OFFERED = ("answered", "abandoned", "blocked", "unserved", "dropped", "balked", "message", "disconnected")


def empty_table(replications: int) -> pd.DataFrame:
    """The clients table of a scenario without clients: no rows, its columns (and replication with several)."""
    text = ("client", "billing", "unit")
    counts = ("periods_measured", "periods_credited")
    columns = {
        name: pd.Series(dtype=object if name in text else np.int64 if name in counts else float) for name in COLUMNS
    }
    if replications > 1:
        columns["replication"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(columns)


def has_clients(scenario: Scenario | None) -> bool:
    """Whether a scenario has clients to price."""
    return scenario is not None and bool(scenario.clients)


def client_results(
    scenario: Scenario,
    calls: pd.DataFrame,
    agents: pd.DataFrame,
    backlog: pd.DataFrame | None,
    costs: pd.DataFrame | None,
) -> tuple[pd.DataFrame, list[dict]]:
    """The clients table (columns COLUMNS, per replication when there are several) and each replication's
    `summary["clients"]` (the shape `pooled` reads)."""
    backlog = backlog if backlog is not None and not backlog.empty else None
    costs = costs if costs is not None and not costs.empty else None
    if "replication" not in calls:
        table, summary = _replication(scenario, calls, agents, backlog, costs)
        return table, [summary]
    frames, summaries = [], []
    for replication in np.unique(calls["replication"].to_numpy()):
        table, summary = _replication(
            scenario,
            calls[calls["replication"] == replication],
            agents[agents["replication"] == replication],
            None if backlog is None else backlog[backlog["replication"] == replication],
            None if costs is None else costs[costs["replication"] == replication],
        )
        frames.append(table.assign(replication=replication))
        summaries.append(summary)
    return pd.concat(frames, ignore_index=True), summaries


def _replication(
    scenario: Scenario,
    calls: pd.DataFrame,
    agents: pd.DataFrame,
    backlog: pd.DataFrame | None,
    costs: pd.DataFrame | None,
) -> tuple[pd.DataFrame, dict]:
    """One replication's clients table and summary."""
    assert scenario.clients
    counted = calls[~calls["warmup"].to_numpy(dtype=bool)]
    answered = counted[counted["outcome"] == "answered"]
    busy = answered["handle_seconds"] + answered["wrap_seconds"]
    work = busy.groupby(answered["call_type"].astype(str)).sum()
    total_work = float(work.sum())
    by_group = busy.groupby([answered["group"].astype(str), answered["call_type"].astype(str)]).sum()
    pools = _cost_pools(scenario, costs, by_group) if costs is not None else []
    own_items = costs[~costs["component"].isin(SHARED_COMPONENTS)] if costs is not None else None
    rows, clients = [], {}
    for client in scenario.clients:
        contract = client.contract
        seconds = float(sum(work.get(name, 0.0) for name in client.call_types))
        if contract is None:
            model, units, revenue, clauses = NO_CONTRACT, 0.0, 0.0, []
        else:
            model, units = contract.billing.model, _billed_units(client, scenario, answered, agents, seconds)
            revenue = units * (
                contract.billing.rate if contract.billing.rate is not None else contract.billing.amount or 0.0
            )
            clauses = [
                _clause(scenario, client, clause, counted, backlog, revenue) for clause in contract.service_levels
            ]
        contacts = sum(clause.pop("counted") for clause in clauses)
        level = sum(clause.pop("within") for clause in clauses) / contacts if contacts else math.nan
        credits = sum(clause["credits"] for clause in clauses)
        bonuses = sum(clause["bonuses"] for clause in clauses)
        net = revenue - credits + bonuses
        share = seconds / total_work if total_work else 0.0
        if own_items is None:
            cost = math.nan
        else:
            mine = set(client.call_types)
            cost = sum(amount * _share(pool, mine, share) for amount, pool in pools)
            cost += float(own_items[own_items["item"].isin(client.call_types)]["amount"].sum())
        margin = net - cost
        row = {
            "client": client.name,
            "billing": model,
            "billed_units": units,
            "unit": UNITS[model],
            "revenue": revenue,
            "credits": credits,
            "bonuses": bonuses,
            "net_revenue": net,
            "work_seconds": seconds,
            "busy_share": share,
            "cost": cost,
            "margin": margin,
            "margin_share": margin / net if net else math.nan,
            "periods_measured": sum(clause["periods"] for clause in clauses),
            "periods_credited": sum(clause["credited"] for clause in clauses),
        }
        rows.append(row)
        clients[client.name] = {key: row[key] for key in KPIS} | {
            "service_level": level,
            "unit": row["unit"],
            "clauses": clauses,
        }
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    total_cost = float(costs["amount"].sum()) if costs is not None else math.nan
    provider = {key: float(table[key].sum()) for key in ("revenue", "credits", "bonuses", "net_revenue")}
    provider |= {"cost": total_cost, "margin": provider["net_revenue"] - total_cost}
    provider["margin_share"] = provider["margin"] / provider["net_revenue"] if provider["net_revenue"] else math.nan
    return table, {"provider": provider, "by_client": clients}


def _cost_pools(scenario: Scenario, costs: pd.DataFrame, by_group: pd.Series) -> list[tuple[float, pd.Series]]:
    """Each shared cost line's amount with the busy seconds it is shared out by, per call type: a group's pay (agents,
    overtime) by the work of that group's agents, so a client served onshore bears onshore wages; a site's tool by
    the work of the site's groups; any other tool by all the work."""
    site_groups: dict[str, set[str]] = {}
    for group in scenario.agent_groups:
        if group.site is not None:
            site_groups.setdefault(group.site, set()).add(group.name)
    groups = by_group.index.get_level_values(0)
    everyone = by_group.groupby(level=1).sum()
    pools = []
    for row in costs[costs["component"].isin(SHARED_COMPONENTS)].itertuples(index=False):
        if row.component in PEOPLE:
            within = {str(row.item)}
        elif isinstance(row.site, str) and row.site in site_groups:
            within = site_groups[str(row.site)]
        else:
            within = None
        pool = everyone if within is None else by_group[groups.isin(within)].groupby(level=1).sum()
        pools.append((float(row.amount), pool))
    return pools


def _share(pool: pd.Series, mine: set[str], fallback: float) -> float:
    """A client's share of a cost line: its call types' busy seconds in the line's pool over the pool's; where the
    pool did no work at all (a group that answered nothing), the client's share of all the work (`fallback`)."""
    total = float(pool.sum())
    if not total:
        return fallback
    return float(pool[pool.index.isin(mine)].sum()) / total


def _billed_units(
    client: Client, scenario: Scenario, answered: pd.DataFrame, agents: pd.DataFrame, seconds: float
) -> float:
    """The units a client is billed for over the horizon, its monthly minimum and cap pro-rated."""
    billing = client.contract.billing
    months = scenario.horizon.days / DAYS_PER_MONTH
    if billing.model == "fixed_monthly":
        return months
    if billing.model == "per_handled_contact":
        units = float(answered["call_type"].astype(str).isin(client.call_types).sum())
    elif billing.model == "per_handle_minute":
        units = seconds / 60.0
    elif billing.model == "per_productive_hour":
        units = seconds / 3600.0
    else:
        logged_in = agents[agents["group"].astype(str).isin(billing.groups or [])]["logged_in_seconds"]
        units = float(logged_in.sum()) / 3600.0
    return billing.within_volume(units, months)


def clause_levels(
    scenario: Scenario,
    clause: ServiceLevelClause,
    call_types: Sequence[str],
    calls: pd.DataFrame,
    backlog: pd.DataFrame | None,
) -> tuple[list, np.ndarray]:
    """The clause's periods and each one's pooled service level (NaN: nothing counted), for one replication."""
    periods, counted, within = clause_counts(scenario, clause, call_types, calls, backlog)
    return periods, _levels(counted, within)


def _levels(counted: np.ndarray, within: np.ndarray) -> np.ndarray:
    """Each period's service level, within over counted (NaN: nothing counted)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted > 0, within / np.where(counted > 0, counted, 1), math.nan)


def clause_counts(
    scenario: Scenario,
    clause: ServiceLevelClause,
    call_types: Sequence[str],
    calls: pd.DataFrame,
    backlog: pd.DataFrame | None,
) -> tuple[list, np.ndarray, np.ndarray]:
    """The clause's periods, each one's contacts counted (the service level's denominator) and those within its
    threshold (or items met by their due time), for one replication."""
    periods, grid = horizon_periods(scenario.horizon, clause.period)
    live = [ct.name for ct in scenario.call_types if ct.name in call_types and ct.live]
    deferred = [ct.name for ct in scenario.call_types if ct.name in call_types and not ct.live]
    counted = np.zeros(len(periods))
    within = np.zeros(len(periods))
    own = calls[calls["call_type"].astype(str).isin(live) & (calls["day"].to_numpy() >= 0)]
    if len(own):
        period = grid[own["day"].to_numpy(), own["interval"].to_numpy()]
        outcome, path = own["outcome"].astype(str).to_numpy(), own["path"].astype(str).to_numpy()
        wait = own["wait"].to_numpy(dtype=float)
        first = path != "callback"
        offered = first & np.isin(outcome, _LIVE_OFFERED)
        answered = first & (outcome == "answered")
        quick = answered & (wait <= clause.threshold_seconds)
        short = ((outcome == "abandoned") & (wait <= clause.threshold_seconds)) | (outcome == "balked")
        denominator = {"offered": offered, "answered": answered}.get(
            scenario.service_level.definition, offered.astype(int) - short.astype(int)
        )
        kept = period >= 0
        counted += np.bincount(period[kept], weights=np.asarray(denominator, float)[kept], minlength=len(periods))
        within += np.bincount(period[kept], weights=quick[kept].astype(float), minlength=len(periods))
    if deferred and backlog is not None:
        items = backlog[backlog["call_type"].astype(str).isin(deferred)]
        period = grid[items["day"].to_numpy(), 0]
        kept = period >= 0
        counted += np.bincount(period[kept], weights=items["due"].to_numpy(float)[kept], minlength=len(periods))
        within += np.bincount(period[kept], weights=items["met_due"].to_numpy(float)[kept], minlength=len(periods))
    return periods, counted, within


def _clause(
    scenario: Scenario,
    client: Client,
    clause: ServiceLevelClause,
    calls: pd.DataFrame,
    backlog: pd.DataFrame | None,
    revenue: float,
) -> dict:
    """One clause over one replication: its periods measured, those below each tier, credits and bonuses."""
    call_types = clause.call_types or client.call_types
    periods, counted, within = clause_counts(scenario, clause, call_types, calls, backlog)
    levels = _levels(counted, within)
    days = scenario.horizon.days
    below = dict.fromkeys((f"{tier.below:g}" for tier in clause.tiers), 0)
    credits = bonuses = 0.0
    credited = measured = 0
    for period, level in zip(periods, levels, strict=True):
        if math.isnan(level):
            continue
        measured += 1
        period_revenue = revenue * (period.last_day - period.first_day + 1) / days
        for tier in clause.tiers:
            below[f"{tier.below:g}"] += int(level < tier.below)
        credit, bonus = period_owed(clause, level, period_revenue)
        credited += int(any(level < tier.below for tier in clause.tiers))
        credits += credit
        bonuses += bonus
    return {
        "call_types": list(call_types),
        "period": clause.period,
        "threshold_seconds": clause.threshold_seconds,
        "target": clause.target,
        "periods": measured,
        "periods_below": below,
        "credited": credited,
        "credits": credits,
        "bonuses": bonuses,
        "counted": float(counted.sum()),
        "within": float(within.sum()),
    }


def period_owed(clause: ServiceLevelClause, level: float, period_revenue: float) -> tuple[float, float]:
    """(credit, bonus) of one measured period at service level `level`: the worst tier it is below (the lowest
    `below`) owes its amount or share of the period's revenue; a period owing nothing and reaching the bonus's
    `at_least` earns its share."""
    worst = min((tier for tier in clause.tiers if level < tier.below), key=lambda tier: tier.below, default=None)
    if worst is not None:
        credit = worst.credit_amount if worst.credit_amount is not None else worst.credit_share * period_revenue
        return credit, 0.0
    if clause.bonus is not None and level >= clause.bonus.at_least:
        return 0.0, clause.bonus.share * period_revenue
    return 0.0, 0.0


def pooled(summaries: Sequence[dict]) -> dict:
    """Several replications' `summary["clients"]` as one: each figure's mean with its 95% half-width under
    `<key>_ci`; per clause the mean periods below each tier, p_trigger with its Wilson interval and
    expected_credit with its half-width. One replication's is given the same shape, and the pooled summaries of
    runs of one replication each pool as their replications' would (`Run.concat`)."""
    provider = _means(
        [summary["provider"] for summary in summaries],
        ("revenue", "credits", "bonuses", "net_revenue", "cost", "margin", "margin_share"),
    )
    by_client = {}
    for name in summaries[0]["by_client"]:
        rows = [summary["by_client"][name] for summary in summaries]
        own = _means(rows, (*KPIS, "service_level")) | {"unit": rows[0]["unit"]}
        clauses = [_pooled_clause([row["clauses"][i] for row in rows]) for i in range(len(rows[0]["clauses"]))]
        measured = sum(clause["periods_total"] for clause in clauses)
        triggered = sum(clause["credited_total"] for clause in clauses)
        own["p_penalty"] = triggered / measured if measured else math.nan
        own["p_penalty_low"], own["p_penalty_high"] = wilson(own["p_penalty"], measured)
        own["clauses"] = clauses
        by_client[name] = own
    return {"provider": provider, "by_client": by_client}


def _pooled_clause(rows: list[dict]) -> dict:
    """One clause over the replications."""
    first = rows[0]
    measured = round(sum(row["periods"] for row in rows))
    credited = round(sum(row.get("credited", row.get("credited_total", 0)) for row in rows))
    p_trigger = credited / measured if measured else math.nan
    low, high = wilson(p_trigger, measured)
    credit, credit_ci = metrics.mean_and_ci([row.get("credits", row.get("expected_credit")) for row in rows])
    bonus, bonus_ci = metrics.mean_and_ci([row.get("bonuses", row.get("expected_bonus")) for row in rows])
    return {
        **{key: first[key] for key in ("call_types", "period", "threshold_seconds", "target")},
        "periods": measured / len(rows),
        "periods_below": {
            key: float(np.mean([row["periods_below"][key] for row in rows])) for key in first["periods_below"]
        },
        "p_trigger": p_trigger,
        "p_trigger_low": low,
        "p_trigger_high": high,
        "expected_credit": credit,
        "expected_credit_ci": credit_ci,
        "expected_bonus": bonus,
        "expected_bonus_ci": bonus_ci,
        "periods_total": measured,
        "credited_total": credited,
    }


def _means(rows: list[dict], keys: Sequence[str]) -> dict:
    """Each key's mean over the rows, with its 95% half-width under `<key>_ci`."""
    out = {}
    for key in keys:
        out[key], out[f"{key}_ci"] = metrics.mean_and_ci([float(row[key]) for row in rows])
    return out
