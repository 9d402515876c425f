"""What a capacity plan earns: revenue, credits, bonuses and margin, week by week, from the contracts of its scenario.

Who pays. Each client of the day scenario with a contract (`clients:`, `bposim.scenario.clients`) is an account
over its live call types (voice, chat; email and case are not planned here); without clients, the plan's
`revenue:` (a billing of the same shape) is one account, `revenue`, over every live call type. Neither: the plan
is costed only (revenue, credits, bonuses and margin are NaN).

The week's representative day. `erlang`: each interval's calls of a call type are split over its groups as the
requirement splits them (`bposim.capacity.service`); a group's interval at the week's staffing answers a share
1 − P(abandon) of them (Erlang A; at most the agents' capacity), and answers a share within a clause's threshold
(the Erlang service level at that threshold: offered, or answered with `definition: answered`). `simulation`:
the handled contacts, their handle + wrap-up seconds and each clause's counts (`bposim.contracts.clause_counts`,
the run's own definition) of the week's simulated days, each day a sample.

Billing per week (open days = `open_days_per_week`): per_handled_contact the handled contacts of a day × open
days; per_handle_minute and per_productive_hour their handle + wrap-up minutes and hours; per_fte_hour the paid
hours of the agents of the billed groups out of training (nesting and tenured heads × `paid_hours_per_week`;
trainees are not billed); fixed_monthly the monthly amount × 7 / 30.4. A monthly `minimum_volume` and
`volume_cap` hold per week at × 7 / 30.4. revenue = units × rate.

Service-level clauses, judged as in `bposim.contracts` (the worst tier a period is below owes its credit, else a
bonus may be earned) on the week's samples: a `day` clause judges each sampled day, each standing for an equal
share of the open days (credits = open days × the mean credit of the samples, a day's revenue being the week's
over its open days; with `erlang` every day of a week is alike); a `week` clause the week pooled over its samples;
a `month` clause the month (the weeks starting in it) pooled over its weeks, each week counting its day samples ×
its open days; a month's credit or bonus is shared out over its weeks in proportion to their revenue.

margin = revenue − credits + bonuses − cost, the cost being the plan's (paid hours × wage, every group).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim.arrivals import day_rates
from bposim.capacity import service
from bposim.contracts import clause_counts, period_owed
from bposim.scenario import Scenario
from bposim.scenario.capacity import CapacityPlan
from bposim.scenario.clients import DAYS_PER_MONTH, Billing, ServiceLevelClause

WEEK_MONTHS = 7 / DAYS_PER_MONTH  # a week's share of a month's fee, minimum and cap
ACCOUNT_COLUMNS = [
    "replication",
    "week",
    "week_start",
    "client",
    "billing",
    "handled",
    "work_hours",
    "billed_units",
    "revenue",
    "credits",
    "bonuses",
    "net_revenue",
]
CLAUSE_COLUMNS = [
    "replication",
    "client",
    "clause",
    "period",
    "period_start",
    "level",
    "periods",
    "periods_credited",
    "revenue",
    "credits",
    "bonuses",
]

MONEY = (("revenue", "Revenue"), ("credits", "Credits"), ("bonuses", "Bonuses"), ("cost", "Cost"), ("margin", "Margin"))
"""The money columns of the weeks, months and options, with their labels."""
_KEYS = [key for key, _ in MONEY]


@dataclass(frozen=True)
class Account:
    """Who pays for some live call types: a client with its contract, or the plan's `revenue`."""

    client: str
    call_types: tuple[str, ...]
    billing: Billing
    clauses: tuple[ServiceLevelClause, ...]

    def clause_types(self, clause: ServiceLevelClause) -> tuple[str, ...]:
        """The live call types a clause measures."""
        return tuple(name for name in clause.call_types or self.call_types if name in self.call_types)


@dataclass(frozen=True)
class Usage:
    """An account's contacts on the week's representative day: handled, their handle + wrap-up seconds, and per
    clause the contacts counted and those within its threshold on each sampled day."""

    handled: float
    work_seconds: float
    counted: tuple[tuple[float, ...], ...]
    within: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Pricing:
    """A plan's accounts, and what the Erlang day needs: each call type's hourly rate per interval on each group
    it is planned on, its handle + wrap-up seconds, the scenario's service-level definition."""

    accounts: tuple[Account, ...]
    shares: dict[str, dict[str, np.ndarray]]
    handle_seconds: dict[str, float]
    definition: str


def pricing(plan: CapacityPlan, scenario: Scenario) -> Pricing | None:
    """The plan's accounts (None: nobody pays; the plan is costed only)."""
    live = [ct for ct in scenario.call_types if ct.live]
    names = {ct.name for ct in live}
    if scenario.clients and any(client.contract is not None for client in scenario.clients):
        accounts = tuple(
            Account(
                client.name,
                tuple(name for name in client.call_types if name in names),
                client.contract.billing,
                tuple(client.contract.service_levels),
            )
            for client in scenario.clients
            if client.contract is not None
        )
    elif plan.revenue is not None:
        accounts = (Account("revenue", tuple(ct.name for ct in live), plan.revenue, ()),)
    else:
        return None
    shares, handle = {}, {}
    for ct in live:
        first = service.first_groups(scenario, ct)
        rates = np.asarray(day_rates(ct.arrivals, scenario.horizon)[0], dtype=float)[: scenario.horizon.intervals]
        shares[ct.name] = {group.name: rates / max(len(first), 1) for group in first}
        handle[ct.name] = ct.handle_time.mean + (ct.after_call_work.mean if ct.after_call_work is not None else 0.0)
    return Pricing(accounts, shares, handle, scenario.service_level.definition)


def erlang_usage(
    prices: Pricing,
    loads: dict[str, service.GroupLoad],
    factor: float,
    staffed: dict[str, np.ndarray],
    interval_hours: float,
) -> dict[str, Usage]:
    """Each account's usage on the week's day by Erlang A at the week's staffing (see the module docstring)."""
    found = {}
    for account in prices.accounts:
        handled = work = 0.0
        counted = np.zeros(len(account.clauses))
        within = np.zeros(len(account.clauses))
        for name in account.call_types:
            measured = [k for k, clause in enumerate(account.clauses) if name in account.clause_types(clause)]
            for group, rates in prices.shares[name].items():
                agents = staffed.get(group, np.zeros(len(rates), dtype=int))
                for served in _intervals(loads[group], agents, rates, factor, interval_hours):
                    handled += served.answered
                    work += served.answered * prices.handle_seconds[name]
                    answered = prices.definition == "answered"
                    base = served.answered if answered else served.calls
                    for k in measured:
                        counted[k] += base
                        within[k] += base * served.level(account.clauses[k].threshold_seconds, answered)
        found[account.client] = Usage(
            handled, work, tuple((float(c),) for c in counted), tuple((float(w),) for w in within)
        )
    return found


@dataclass(frozen=True)
class _Served:
    """A call type's calls on one group in one interval: offered, answered, and the group's queue behind them."""

    calls: float
    answered: float
    agents: int
    rate_per_hour: float
    load: service.GroupLoad

    def level(self, threshold_seconds: float, answered: bool) -> float:
        """The group's interval service level at a threshold (of calls offered, or answered)."""
        return service.level_at(self.agents, self.rate_per_hour, self.load, threshold_seconds, answered)


def _intervals(
    load: service.GroupLoad, agents: np.ndarray, rates: np.ndarray, factor: float, interval_hours: float
) -> Iterator[_Served]:
    """A call type's calls on a group, interval by interval: all but the Erlang A abandons at the group's agents
    are answered, and no more than the agents' capacity (the call type's share of it)."""
    for interval, rate in enumerate(rates):
        calls = rate * factor * interval_hours
        count, total = int(agents[interval]), round(load.rates[interval] * factor, 3)
        if calls <= 0 or total <= 0:
            continue
        answered = calls * (1.0 - service.abandon_share(count, total, load))
        share = rate * factor / total  # the call type's share of the group's calls
        capacity = count * interval_hours * 3600.0 / load.handle_seconds * share
        yield _Served(calls, min(answered, capacity), count, total, load)


def simulated_usage(prices: Pricing, scenario: Scenario, calls: pd.DataFrame, days: int) -> dict[str, Usage]:
    """Each account's usage from the calls of the week's simulated days (replication d is day d)."""
    counted_calls = calls[~calls["warmup"].to_numpy(dtype=bool)]
    answered = counted_calls[counted_calls["outcome"] == "answered"]
    kind = answered["call_type"].astype(str)
    found = {}
    for account in prices.accounts:
        own = answered[kind.isin(account.call_types)]
        work = float((own["handle_seconds"] + own["wrap_seconds"]).sum())
        counted, within = [], []
        for clause in account.clauses:
            daily = clause.model_copy(update={"period": "day"})
            samples = [
                clause_counts(scenario, daily, account.clause_types(clause), _day(calls, day), None)[1:]
                for day in range(days)
            ]
            counted.append(tuple(float(sample[0].sum()) for sample in samples))
            within.append(tuple(float(sample[1].sum()) for sample in samples))
        found[account.client] = Usage(len(own) / days, work / days, tuple(counted), tuple(within))
    return found


def _day(calls: pd.DataFrame, day: int) -> pd.DataFrame:
    """The calls of simulated day `day` (a replication of the one-day scenario)."""
    return calls[calls["replication"] == day] if "replication" in calls else calls


def account_weeks(
    prices: Pricing, plan: CapacityPlan, table: pd.DataFrame, usages: list[dict[str, Usage]], replication: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One replication's accounts table (per week and account: `ACCOUNT_COLUMNS`) and clauses table (per clause and
    period: `CLAUSE_COLUMNS`), from its headcount `table` and each week's usage."""
    open_days = plan.open_days_per_week
    starts = [plan.week_start(week).isoformat() for week in range(plan.weeks)]
    rows, clause_rows = [], []
    for account in prices.accounts:
        own = []
        for week, start in enumerate(starts):
            usage = usages[week][account.client]
            units = _units(account.billing, usage, table[table["week"] == week], plan)
            revenue = units * (account.billing.rate if account.billing.rate is not None else account.billing.amount)
            own.append(
                {
                    "replication": replication,
                    "week": week,
                    "week_start": start,
                    "client": account.client,
                    "billing": account.billing.model,
                    "handled": usage.handled * open_days,
                    "work_hours": usage.work_seconds * open_days / 3600.0,
                    "billed_units": units,
                    "revenue": revenue,
                    "credits": 0.0,
                    "bonuses": 0.0,
                }
            )
        for k, clause in enumerate(account.clauses):
            if clause.period == "month":
                clause_rows += _month_clause(account, k, clause, own, usages, open_days, replication)
                continue
            for row, week in zip(own, usages, strict=True):
                usage = week[account.client]
                found = _week_clause(clause, usage.counted[k], usage.within[k], row["revenue"], open_days)
                if found is None:
                    continue
                row["credits"] += found["credits"]
                row["bonuses"] += found["bonuses"]
                clause_rows.append(
                    {"replication": replication, "client": account.client, "clause": k, "period": clause.period}
                    | {"period_start": row["week_start"], "revenue": row["revenue"]}
                    | found
                )
        rows += own
    accounts = pd.DataFrame(rows, columns=ACCOUNT_COLUMNS[:-1])
    accounts["net_revenue"] = accounts["revenue"] - accounts["credits"] + accounts["bonuses"]
    return accounts, pd.DataFrame(clause_rows, columns=CLAUSE_COLUMNS)


def _units(billing: Billing, usage: Usage, week: pd.DataFrame, plan: CapacityPlan) -> float:
    """The units billed in one week (see the module docstring)."""
    open_days = plan.open_days_per_week
    if billing.model == "fixed_monthly":
        return WEEK_MONTHS
    if billing.model == "per_handled_contact":
        units = usage.handled * open_days
    elif billing.model == "per_handle_minute":
        units = usage.work_seconds * open_days / 60.0
    elif billing.model == "per_productive_hour":
        units = usage.work_seconds * open_days / 3600.0
    else:
        billed = week[week["group"].isin(billing.groups or [])]
        units = float((billed["nesting"] + billed["tenured"]).sum()) * plan.paid_hours_per_week
    return billing.within_volume(units, WEEK_MONTHS)


def _week_clause(
    clause: ServiceLevelClause, counted: tuple, within: tuple, revenue: float, open_days: float
) -> dict | None:
    """A day or week clause over one week's samples: its level, periods, periods credited, credits and bonuses
    (None: nothing counted)."""
    measured = [(c, w) for c, w in zip(counted, within, strict=True) if c > 0]
    if not measured:
        return None
    level = sum(w for _, w in measured) / sum(c for c, _ in measured)
    if clause.period == "week":
        credit, bonus = period_owed(clause, level, revenue)
        below = float(any(level < tier.below for tier in clause.tiers))
        return {"level": level, "periods": 1.0, "periods_credited": below, "credits": credit, "bonuses": bonus}
    owed = [period_owed(clause, w / c, revenue / open_days) for c, w in measured]
    below = np.mean([any(w / c < tier.below for tier in clause.tiers) for c, w in measured])
    return {
        "level": level,
        "periods": open_days,
        "periods_credited": open_days * float(below),
        "credits": open_days * float(np.mean([credit for credit, _ in owed])),
        "bonuses": open_days * float(np.mean([bonus for _, bonus in owed])),
    }


def _month_clause(
    account: Account,
    k: int,
    clause: ServiceLevelClause,
    own: list[dict],
    usages: list[dict[str, Usage]],
    open_days: float,
    replication: int,
) -> list[dict]:
    """A month clause: each month pooled over its weeks (each week's mean day × its open days); the month's credit
    or bonus shared over its weeks by revenue (added to `own`), and one clauses row per month measured."""
    months: dict[str, list[int]] = {}
    for week, row in enumerate(own):
        months.setdefault(row["week_start"][:7], []).append(week)
    rows = []
    for month, weeks in months.items():
        counted = sum(open_days * float(np.mean(usages[w][account.client].counted[k])) for w in weeks)
        within = sum(open_days * float(np.mean(usages[w][account.client].within[k])) for w in weeks)
        if counted <= 0:
            continue
        level = within / counted
        revenue = sum(own[w]["revenue"] for w in weeks)
        credit, bonus = period_owed(clause, level, revenue)
        for w in weeks:
            part = own[w]["revenue"] / revenue if revenue > 0 else 1.0 / len(weeks)
            own[w]["credits"] += credit * part
            own[w]["bonuses"] += bonus * part
        below = float(any(level < tier.below for tier in clause.tiers))
        rows.append(
            {"replication": replication, "client": account.client, "clause": k, "period": "month"}
            | {"period_start": month, "level": level, "periods": 1.0, "periods_credited": below}
            | {"revenue": revenue, "credits": credit, "bonuses": bonus}
        )
    return rows


def margin_weeks(rows: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """Per replication and week: the plan's cost (every group) and its accounts' revenue, credits, bonuses and
    margin (NaN when nobody pays)."""
    keys = ["replication", "week", "week_start"]
    weeks = rows.assign(unpriced=rows["cost"].isna()).groupby(keys, sort=True)[["cost", "unpriced"]]
    weeks = weeks.agg({"cost": "sum", "unpriced": "any"}).reset_index()
    weeks["cost"] = weeks["cost"].where(~weeks["unpriced"])  # NaN when a group has no wage, as the plan's cost
    money = ["revenue", "credits", "bonuses"]
    if accounts is None or accounts.empty:
        for column in money:
            weeks[column] = math.nan
    else:
        summed = accounts.groupby(["replication", "week"], sort=True)[money].sum().reset_index()
        weeks = weeks.merge(summed, on=["replication", "week"], how="left")
    weeks["margin"] = weeks["revenue"] - weeks["credits"] + weeks["bonuses"] - weeks["cost"]
    return weeks[["replication", "week", "week_start", *money, "cost", "margin"]]


def weekly(money: pd.DataFrame) -> pd.DataFrame:
    """Per week across replications: the means of revenue, credits, bonuses, cost and margin, and the margin's
    10th-90th percentile band."""
    by_week = money.groupby(["week", "week_start"], sort=True)
    weeks = by_week[_KEYS].mean()
    weeks["margin_low"] = by_week["margin"].quantile(0.1)
    weeks["margin_high"] = by_week["margin"].quantile(0.9)
    return weeks.reset_index()


def monthly(money: pd.DataFrame) -> pd.DataFrame:
    """Per month (of the weeks' start dates): the sums over its weeks, mean over replications."""
    months = money.assign(month=money["week_start"].str[:7])
    summed = months.groupby(["replication", "month"], sort=True)[_KEYS].sum(min_count=1)
    return summed.groupby("month").mean().reset_index()


def totals(money: pd.DataFrame) -> dict:
    """The plan's revenue, credits, bonuses and margin over its weeks (means over replications; NaN unpriced)."""
    summed = money.groupby("replication")[["revenue", "credits", "bonuses", "margin"]].sum(min_count=1)
    return {key: float(summed[key].mean()) for key in summed.columns}
