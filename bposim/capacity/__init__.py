"""The capacity plan over months: headcount, FTE available against required, service level and cost, week by week.

    from bposim.capacity import load_plan, plan_capacity
    plan, scenario = load_plan("models/plans/capacity_plan.yaml")
    result = plan_capacity(plan, scenario, replications=3, seed=0)
    result.weekly[["week_start", "group", "available_fte", "required_fte", "service_level", "p_meets"]]

Each replication draws its own attrition and washouts (`bposim.capacity.workforce`) and its own week factors on
the volume (trend × the week's factor × a gamma draw of mean 1 and the plan's cv); the requirement and service
level of each week come from the scenario's representative day at that volume and staffing
(`bposim.capacity.service`). Replication r uses the same random numbers whatever the hiring classes, so two plans
differing in their classes are compared under common random numbers (`compare_plans`).

A month meets its target when its service level, pooled over the weeks starting in it (by calls), reaches the
scenario's target; P(month meets) is the share of replications in which it did.

What the weeks earn, under the scenario's contracts (or the plan's `revenue`), and the margin over the plan's cost
are `bposim.capacity.margin`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bposim.capacity import margin, service, workforce
from bposim.scenario import Scenario
from bposim.scenario.capacity import CapacityPlan, HiringClass, load_plan

__all__ = ["CapacityResult", "compare_plans", "load_plan", "plan_capacity", "what_if"]


@dataclass(frozen=True)
class CapacityResult:
    """A plan's outcome: `replications` (one row per replication, week and group: the headcount table's columns,
    then week_start, factor, paid_hours, cost, available_fte, required_fte, gap_fte, calls, within,
    service_level), `weekly` (per week and group across replications: means, the 10th-90th percentile band of
    available FTE, P(meets)), `months` (per month: mean service level, P(meets), revenue, credits, bonuses, cost and
    margin) and the totals; what it earns (`bposim.capacity.margin`): `margin` (per week: means of revenue,
    credits, bonuses, cost and margin, with the margin's 10th-90th percentile band), `accounts` (per replication,
    week and paying client) and `clauses` (per replication, clause and period judged); `tenure` the agents present
    per replication, week, group and tenure band (`workforce.tenure_headcount`)."""

    plan: CapacityPlan
    replications: pd.DataFrame
    weekly: pd.DataFrame
    months: pd.DataFrame
    target: float
    seed: int
    totals: dict = field(default_factory=dict)
    margin: pd.DataFrame = field(default_factory=pd.DataFrame)
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)
    clauses: pd.DataFrame = field(default_factory=pd.DataFrame)
    tenure: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def priced(self) -> bool:
        """Whether anybody pays (the scenario's clients with contracts, or the plan's `revenue`)."""
        return not self.accounts.empty


def plan_capacity(plan: CapacityPlan, scenario: Scenario, *, replications: int = 3, seed: int = 0) -> CapacityResult:
    """Play the plan out `replications` times from `seed` (see the module docstring)."""
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications: must be a whole number ≥ 1; got {replications!r}")
    loads = service.group_loads(scenario)
    shrinkage = _shrinkage(plan, scenario)
    rates = _wages(scenario)
    hours_per_interval = scenario.horizon.interval_minutes / 60.0
    prices = margin.pricing(plan, scenario)
    frames, accounts, clauses, tenure = [], [], [], []
    for replication in range(replications):
        table = workforce.headcount(plan, seed, replication)
        tenure.append(workforce.tenure_headcount(plan, seed, replication))
        factors = week_factors(plan, seed, replication)
        table["week_start"] = table["week"].map(lambda w: plan.week_start(int(w)).isoformat())
        table["factor"] = factors[table["week"].to_numpy()]
        table["paid_hours"] = (table["start"] + table["hires"]) * plan.paid_hours_per_week
        table["cost"] = table["paid_hours"] * table["group"].map(lambda g: rates.get(g, math.nan))
        table["available_fte"] = table["productive"] * (1.0 - table["group"].map(shrinkage))
        usages = _serve(table, plan, scenario, loads, hours_per_interval, seed, replication, prices)
        frames.append(table)
        if prices is not None:
            own, judged = margin.account_weeks(prices, plan, table, usages, replication)
            accounts.append(own)
            clauses.append(judged)
    rows = pd.concat(frames, ignore_index=True)
    accounts = pd.concat(accounts, ignore_index=True) if accounts else pd.DataFrame(columns=margin.ACCOUNT_COLUMNS)
    clauses = pd.concat(clauses, ignore_index=True) if clauses else pd.DataFrame(columns=margin.CLAUSE_COLUMNS)
    money = margin.margin_weeks(rows, accounts)
    target = scenario.service_level.target
    weeks = _weekly(rows, target)
    months = _months(rows, target).merge(margin.monthly(money), on="month", how="left")
    totals = _totals(rows, months, target) | margin.totals(money)
    tenure = pd.concat(tenure, ignore_index=True)
    return CapacityResult(
        plan, rows, weeks, months, target, seed, totals, margin.weekly(money), accounts, clauses, tenure
    )


def week_factors(plan: CapacityPlan, seed: int, replication: int) -> np.ndarray:
    """Each week's factor on the day's arrivals in one replication: trend, the week's factor, a gamma draw."""
    rng = np.random.default_rng([seed, replication, 2])
    weeks = np.arange(plan.weeks)
    base = (1.0 + plan.volume.weekly_trend) ** weeks
    for date, factor in plan.volume.factors.items():
        base[plan.week_of(date)] *= factor
    cv = plan.volume.cv
    if cv == 0:
        return base
    shape = 1.0 / cv**2
    return base * rng.gamma(shape, 1.0 / shape, size=plan.weeks)


def what_if(plan: CapacityPlan, starts: list, sizes: list[int]) -> CapacityPlan:
    """The plan with its hiring classes replaced by classes starting at `starts` with `sizes`; each takes its other
    fields (group, training, nesting, graduation) from the plan's class of the same position, else its first."""
    if len(starts) != len(sizes):
        raise ValueError(f"{len(starts)} class start dates but {len(sizes)} class sizes; give one size per start")
    if not plan.hiring_classes:
        raise ValueError("the plan has no hiring class to take the group, training and nesting from")
    classes = []
    for n, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        model = plan.hiring_classes[n] if n < len(plan.hiring_classes) else plan.hiring_classes[0]
        classes.append(model.model_dump() | {"start_date": start, "size": size})
    return CapacityPlan.model_validate(plan.model_dump() | {"hiring_classes": classes, "what_ifs": []})


def compare_plans(
    options: dict[str, CapacityPlan], scenario: Scenario, *, replications: int = 3, seed: int = 0
) -> tuple[pd.DataFrame, dict[str, CapacityResult]]:
    """Several plans on one scenario under common random numbers: one row per plan with its cost and P(meets)."""
    results = {
        name: plan_capacity(plan, scenario, replications=replications, seed=seed) for name, plan in options.items()
    }
    rows = [
        {"option": name, "classes": classes_text(result.plan.hiring_classes), **result.totals}
        for name, result in results.items()
    ]
    return pd.DataFrame(rows), results


def classes_text(classes: list[HiringClass]) -> str:
    """Hiring classes as "10 team 2027-04-05; 15 team 2027-05-03"."""
    return "; ".join(f"{c.size} {c.group} {c.start_date.isoformat()}" for c in classes) or "no hiring"


def _shrinkage(plan: CapacityPlan, scenario: Scenario) -> dict[str, float]:
    from bposim.planning import group_shrinkage

    if plan.shrinkage is not None:
        return {group.name: plan.shrinkage for group in scenario.agent_groups}
    return {group.name: group_shrinkage(scenario, group) for group in scenario.agent_groups}


def _wages(scenario: Scenario) -> dict[str, float]:
    """Each group's cost per paid hour from the scenario's costs (groups without one cost NaN)."""
    if scenario.costs is None:
        return {}
    return {cost.group: cost.per_paid_hour for cost in scenario.costs.groups}


def _serve(
    table: pd.DataFrame,
    plan: CapacityPlan,
    scenario: Scenario,
    loads: dict[str, service.GroupLoad],
    hours_per_interval: float,
    seed: int,
    replication: int,
    prices: margin.Pricing | None = None,
) -> list[dict[str, margin.Usage]]:
    """Fill required_fte, gap_fte, calls, within and service_level for each week of one replication; with
    `prices`, return each week's usage per account (`bposim.capacity.margin`)."""
    day_fte = hours_per_interval * plan.open_days_per_week / plan.paid_hours_per_week
    required_fte = np.zeros(len(table))
    calls = np.zeros(len(table))
    within = np.zeros(len(table))
    usages = []
    for week, rows in table.groupby("week", sort=True):
        factor = float(rows["factor"].iloc[0])
        staffed = {}
        for index, row in rows.iterrows():
            load = loads.get(row["group"])
            if load is None:
                continue
            required = service.required_per_interval(load, factor)
            required_fte[index] = required.sum() * day_fte
            staffed[row["group"]] = service.staffing(required, row["available_fte"], required_fte[index])
            if plan.service_level == "erlang":
                calls[index], within[index] = service.erlang_week(load, factor, staffed[row["group"]])
        if plan.service_level == "simulation":
            seed_week = int(np.random.SeedSequence([seed, replication, 3, int(week)]).generate_state(1)[0])
            days = plan.simulated_days
            simulated = service.simulated_week(scenario, factor, staffed, seed_week, days, prices is not None)
            first = rows.index[0]
            calls[first], within[first] = simulated.offered, simulated.within  # the centre's, on the first group
            for index in rows.index[1:]:
                calls[index] = within[index] = math.nan
            if prices is not None:
                usages.append(margin.simulated_usage(prices, scenario, simulated.calls, days))
        elif prices is not None:
            usages.append(margin.erlang_usage(prices, loads, factor, staffed, hours_per_interval))
    table["required_fte"] = required_fte
    table["gap_fte"] = table["available_fte"] - table["required_fte"]
    table["calls"] = calls
    table["within"] = within
    table["service_level"] = np.where(calls > 0, within / np.where(calls > 0, calls, 1), np.nan)
    return usages


def _weekly(rows: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per week and group across replications; then a "all" row per week with the centre's pooled figures."""
    centre = _centre_weeks(rows)
    centre["meets"] = centre["service_level"] >= target
    by_group = rows.groupby(["week", "week_start", "group"], sort=False)
    weekly = by_group.agg(
        start=("start", "mean"),
        hires=("hires", "mean"),
        leavers=("attrition", "mean"),
        washouts=("washouts", "mean"),
        end=("end", "mean"),
        training=("training", "mean"),
        nesting=("nesting", "mean"),
        available_fte=("available_fte", "mean"),
        available_low=("available_fte", lambda s: s.quantile(0.1)),
        available_high=("available_fte", lambda s: s.quantile(0.9)),
        required_fte=("required_fte", "mean"),
        gap_fte=("gap_fte", "mean"),
        paid_hours=("paid_hours", "mean"),
        cost=("cost", "mean"),
    ).reset_index()
    level = centre.groupby("week").agg(
        service_level=("service_level", "mean"),
        service_level_low=("service_level", lambda s: s.quantile(0.1)),
        p_meets=("meets", "mean"),
    )
    return weekly.join(level, on="week")


def _centre_weeks(rows: pd.DataFrame) -> pd.DataFrame:
    """The centre's service level per replication and week, pooled over groups by calls."""
    pooled = rows.groupby(["replication", "week", "week_start"], sort=True)[["calls", "within"]].sum().reset_index()
    pooled["service_level"] = pooled["within"] / pooled["calls"].where(pooled["calls"] > 0)
    return pooled


def _months(rows: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per month (of the weeks' start dates): the pooled service level's mean and P(meets the target)."""
    pooled = _centre_weeks(rows)
    pooled["month"] = pooled["week_start"].str[:7]
    month = pooled.groupby(["replication", "month"], sort=True)[["calls", "within"]].sum().reset_index()
    month["service_level"] = month["within"] / month["calls"].where(month["calls"] > 0)
    month["meets"] = month["service_level"] >= target
    weeks = pooled[pooled["replication"] == pooled["replication"].iloc[0]].groupby("month").size()
    found = month.groupby("month", sort=True).agg(service_level=("service_level", "mean"), p_meets=("meets", "mean"))
    return found.assign(weeks=weeks).reset_index()


def _totals(rows: pd.DataFrame, months: pd.DataFrame, target: float) -> dict:
    """The plan's cost, hires and leavers (means over replications) and its chance of meeting every month."""
    replications = rows["replication"].nunique()
    pooled = _centre_weeks(rows)
    pooled["month"] = pooled["week_start"].str[:7]
    month = pooled.groupby(["replication", "month"])[["calls", "within"]].sum()
    meets = (month["within"] / month["calls"].where(month["calls"] > 0) >= target).groupby("replication").all()
    return {
        "cost": float(rows["cost"].sum(skipna=False) / replications),  # NaN when a group has no wage
        "paid_hours": float(rows["paid_hours"].sum() / replications),
        "hires": float(rows["hires"].sum() / replications),
        "leavers": float((rows["attrition"] + rows["washouts"]).sum() / replications),
        "p_all_months_meet": float(meets.mean()),
        "months_meeting_share": float(months["p_meets"].mean()),
        "min_gap_fte": float(rows.groupby(["replication", "week"])["gap_fte"].sum().groupby("week").mean().min()),
    }
