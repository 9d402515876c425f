"""The experiment's tables: one tidy row per cell × replication, and the per-cell summary a planner reads.

Results columns, in order: cell, one column per factor (its path, or its name for named variants), replication, seed;
the cell's settings: service_level_target, `<call_type>.service_level_target` and `<call_type>.service_level_period`
(interval, day, week or month) for every call type, currency (of the costs, "" without) and horizon_days (days per
replication); met_target (this replication's overall service level reached the target; with several channels, which have
no overall service level, every call type's reached its own; with a call type measured over days, weeks or months, that
one met in every period and every other call type reached its own), scheduled_agent_hours (plan and roster), the overall
KPIs of `bposim.metrics.SUMMARY_KEYS` (counts as integers; NaN rates with several channels), the cost keys when the
scenario has costs, then with several channels `<channel>.<kpi>` for every channel (live: the same KPIs over its call
types; email, case: those of `bposim.backlog.KPIS`), then `<call_type>.<kpi>` for every call type (deferred ones:
`bposim.backlog.KPIS`), and per call type `<call_type>.periods_met_share` (the share of its periods, `bposim.periods`,
that met its target) and `<call_type>.all_periods_met` (1 when every one did, else 0: its mean over a cell's
replications is P(every period met)). With a call type's `resolution`, the first-contact resolution KPIs of
`bposim.resolution.KPIS` overall (fcr, repeats_per_day, cost_of_repeats, ...) and per such call type (`<call_type>.fcr`,
`<call_type>.repeats_per_day`, ...). With outbound campaigns, `outbound.<campaign>.<kpi>` for the KPIs of
`bposim.outbound.CELL_KPIS` (dials, right-party connects, contacts and right-party connects per dialling hour, the
nuisance rate, attempts per record, records left). With clients, `client.<client>.<kpi>` for the KPIs of
`bposim.contracts.CELL_KPIS` (revenue, credits, bonuses, net_revenue, cost, margin, margin_share, and p_penalty: the
share of its clauses' periods that owed a credit; its mean over a cell's replications is P(a period owes one)).
A channel named like a call type (a call type called "chat") leaves its columns to the call type.
`pareto_frontier` keeps the cells no other cell beats on both cost and service level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import backlog, cells, contracts, costs, metrics, outbound, resolution, sites
from bposim.memo import per_scenario
from bposim.scenario.call_types import CHANNELS
from bposim.tables import scheduled

if TYPE_CHECKING:
    from bposim.run import Run
    from bposim.scenario import Scenario

ORDER = ["cell", "replication"]
_KEYS = (
    *metrics.SUMMARY_KEYS,
    *(key for key in backlog.KPIS if key not in metrics.SUMMARY_KEYS),
    *metrics.BEHAVIOUR_KEYS,  # with balking or a maximum wait only
    *resolution.KPIS,  # with a call type's resolution only
)
_COUNTS = {*metrics.COUNTS, *backlog.COUNTS, *cells.BEHAVIOUR_COUNTS, *resolution.COUNTS}
FEW = 5  # fewer replications than this give wide 95% t-intervals, and the reports say so


def kpi_row(run: Run) -> dict[str, float | int | bool | str]:
    """The results-table columns after `seed` for one replication of one cell."""
    summary, scenario = run.summary, run.scenario
    target = scenario.service_level.target
    row: dict[str, float | int | bool | str] = {
        "service_level_target": float(target),
        **{f"{ct.name}.service_level_target": float(scenario.service_level_for(ct)[1]) for ct in scenario.call_types},
        **{f"{ct.name}.service_level_period": scenario.period_for(ct) for ct in scenario.call_types},
        "currency": scenario.costs.currency if scenario.costs is not None else "",
        "horizon_days": int(scenario.horizon.days),
        "met_target": _met_target(summary, scenario),
        "scheduled_agent_hours": scheduled_hours(scenario),
    }
    row.update(_kpis(summary))
    row.update({key: float(summary[key]) for key in costs.SUMMARY_KEYS if key in summary})
    names = {ct.name for ct in scenario.call_types}
    if len(summary.get("channels", ())) > 1:
        for channel, kpis in summary["by_channel"].items():
            if channel not in names:  # a call type of that name has the column
                row.update({f"{channel}.{key}": value for key, value in _kpis(kpis).items()})
    for call_type, kpis in summary["by_call_type"].items():
        row.update({f"{call_type}.{key}": value for key, value in _kpis(kpis).items()})
    for call_type, own in summary.get("periods", {}).items():
        row[f"{call_type}.periods_met_share"] = float(own["periods_met_share"])
        row[f"{call_type}.all_periods_met"] = float(own["p_all_met"])
    for campaign, kpis in summary.get("outbound", {}).items():
        row.update({f"outbound.{campaign}.{key}": float(kpis[key]) for key in outbound.CELL_KPIS})
    for site, kpis in summary.get("sites", {}).items():
        row.update({f"site.{site}.{key}": float(kpis[key]) for key in sites.CELL_KPIS})
    for client, kpis in summary.get("clients", {}).get("by_client", {}).items():
        row.update({f"client.{client}.{key}": float(kpis[key]) for key in contracts.CELL_KPIS})
    return row


@per_scenario  # every replication of a cell: the same hours
def scheduled_hours(scenario: Scenario) -> float:
    """The agent hours scheduled over the horizon (the staffing table's `scheduled`, summed, in hours)."""
    interval_hours = scenario.horizon.interval_seconds / 3600.0
    return float(scheduled(scenario).sum() * interval_hours)


def _met_target(summary: dict, scenario) -> bool:
    """Whether one replication met the target: its overall service level reached the scenario's; with several
    channels (no overall service level), every call type's reached its own (one with nothing offered or due, NaN,
    misses nothing). With a call type measured over days, weeks or months (`service_level.period`), every call type
    meets its own: that one in every period, one measured by the interval over the horizon, as before."""
    measured = {ct.name: scenario.period_for(ct) for ct in scenario.call_types}
    by_interval = all(period == "interval" for period in measured.values()) or "periods" not in summary
    if by_interval and len(summary.get("channels", ())) <= 1:
        return bool(summary["service_level"] >= scenario.service_level.target)
    return all(
        summary["periods"][ct.name]["p_all_met"] == 1.0
        if not by_interval and measured[ct.name] != "interval"
        else not summary["by_call_type"][ct.name]["service_level"] < scenario.service_level_for(ct)[1]
        for ct in scenario.call_types
    )


def _kpis(summary: dict) -> dict[str, float | int]:
    """The KPIs of one part of a summary (overall, a channel, a call type): the live ones (`metrics.SUMMARY_KEYS`)
    and the deferred ones (`bposim.backlog.KPIS`) it holds, counts as integers."""
    return {key: int(summary[key]) if key in _COUNTS else float(summary[key]) for key in _KEYS if key in summary}


def results_table(rows: list[pd.DataFrame]) -> pd.DataFrame:
    """One-row frames (as saved per task) as the results table, sorted by cell and replication."""
    if not rows:
        return pd.DataFrame(columns=ORDER)
    return pd.concat(rows, ignore_index=True).sort_values(ORDER, kind="stable", ignore_index=True)


def kpi_columns(results: pd.DataFrame) -> list[str]:
    """The numeric KPI columns of a results table (everything after met_target)."""
    return list(results.columns[results.columns.get_loc("met_target") + 1 :])


def factor_columns(results: pd.DataFrame) -> list[str]:
    """The factor columns of a results table (between cell and replication)."""
    return list(results.columns[1 : results.columns.get_loc("replication")])


def setting_columns(results: pd.DataFrame) -> list[str]:
    """The columns that are the same for every replication of a cell: service_level_target up to met_target."""
    columns = results.columns
    return list(columns[columns.get_loc("service_level_target") : columns.get_loc("met_target")])


def cell_summary(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per cell: its factor levels and settings, replications, whether it meets the target, and each KPI's mean ± CI.

    `<kpi>` is the mean over replications and `<kpi>_ci` the Student-t half-width (NaN with one replication);
    met_target_share is the planner's risk: the share of days whose overall service level met the target.
    meets_target says whether the mean service level reached the target overall (with several channels, which have
    no overall service level, or when every call type is measured per day, week or month: left out) and every call
    type its own target over its period
    (`<call type>.service_level_period`): one measured per interval by its mean service level, one measured per day,
    week or month by its periods (`_below`); short_call_types names (comma-separated) the call types that fall
    below their target.
    """
    from scipy import stats  # SciPy loads slowly: only the summary needs it

    grouped = results.groupby("cell", sort=True)
    kpis = kpi_columns(results)
    first = results.drop_duplicates("cell").set_index("cell")[[*factor_columns(results), *setting_columns(results)]]
    means, spread, count = grouped[kpis].mean(), grouped[kpis].std(), grouped[kpis].count()
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = stats.t.ppf(0.5 + confidence / 2, (count - 1).where(count > 1))
        half = spread * factor / np.sqrt(count)
    columns: dict[str, pd.Series] = {name: first[name].sort_index() for name in first.columns}
    columns["replications"] = grouped.size()
    columns["met_target_share"] = grouped["met_target"].mean()
    types = call_type_names(results)
    below = pd.DataFrame({ct: _below(ct, means, first) for ct in types}, index=means.index)
    overall = means["service_level"] >= first["service_level_target"]
    periods = [first[f"{ct}.service_level_period"] for ct in types if f"{ct}.service_level_period" in first]
    if types and len(periods) == len(types):  # every call type judged over its days, weeks or months: by them alone
        overall = overall | pd.concat(periods, axis=1).ne("interval").all(axis=1).reindex(means.index)
    if channel_names(results):  # several channels: no overall service level, every call type its own
        overall = means["service_level"].isna() | overall
    columns["meets_target"] = overall & ~below.any(axis=1)
    columns["short_call_types"] = pd.Series(
        [", ".join(below.columns[row]) for row in below.to_numpy(dtype=bool)], index=below.index
    )
    for key in kpis:
        columns[key] = means[key]
        columns[f"{key}_ci"] = half[key]
    return pd.DataFrame(columns).rename_axis("cell").reset_index()


MOST_PERIODS = 0.5  # a call type measured per day, week or month meets in a cell when most of its periods met


def _below(call_type: str, means: pd.DataFrame, first: pd.DataFrame) -> pd.Series:
    """Per cell, whether a call type falls below its target: measured per interval, its mean service level below
    its target; measured per day, week or month, the mean share of its periods that met
    (`<call type>.periods_met_share`: P(a period meets)) below one half (MOST_PERIODS)."""
    target = first.get(f"{call_type}.service_level_target", first["service_level_target"])
    by_interval = means[f"{call_type}.service_level"] < target
    period = first.get(f"{call_type}.service_level_period")
    share = f"{call_type}.periods_met_share"
    if period is None or share not in means:
        return by_interval
    pooled = period.reindex(means.index) != "interval"
    return by_interval.where(~pooled, means[share] < MOST_PERIODS)


def call_type_names(results: pd.DataFrame) -> list[str]:
    """The call types of a results or cells table (each has its `<call type>.service_level_target` setting), in
    order."""
    return [
        str(column).removesuffix(".service_level_target")
        for column in results.columns
        if str(column).endswith(".service_level_target")
    ]


def channel_names(results: pd.DataFrame) -> list[str]:
    """The channels with columns of their own in a results table (a scenario of several channels), in order."""
    types = set(call_type_names(results))
    return [channel for channel in CHANNELS if f"{channel}.service_level" in results and channel not in types]


def paired_differences(
    results: pd.DataFrame,
    baseline: int,
    kpis: tuple[str, ...] = ("service_level", "total_cost"),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per cell: each KPI minus the baseline cell's on the same replication, mean ± Student-t half-width.

    Under common random numbers replication r of every cell sees the same days, so the paired difference has
    a far narrower interval than the difference of the two cells' own intervals. Columns: cell, pairs,
    `<kpi>_diff`, `<kpi>_diff_ci`; the baseline's own row is zero.
    """
    kpis = tuple(k for k in kpis if k in results)
    # dropna=False keeps a KPI that is NaN throughout (the overall service level with several channels)
    wide = results.pivot_table(index="replication", columns="cell", values=list(kpis), aggfunc="first", dropna=False)
    if baseline not in results["cell"].to_numpy():
        raise ValueError(f"cell {baseline} is not in the results")
    rows = []
    for cell in sorted(results["cell"].unique()):
        row: dict[str, float | int] = {"cell": int(cell)}
        for key in kpis:
            diff = (wide[(key, cell)] - wide[(key, baseline)]).dropna()
            row["pairs"] = len(diff)
            row[f"{key}_diff"], row[f"{key}_diff_ci"] = metrics.mean_and_ci(diff.tolist(), confidence)
        rows.append(row)
    return pd.DataFrame(rows)


def shortfalls(cell: pd.Series, channels: Mapping[str, str] | None = None) -> str:
    """A cell's call types below their target, with mean and target: "sales_en 79.6% < 80%, ..." ("" if none);
    with `channels` (call type to channel, for a scenario of several), each names its channel:
    "chat_en (chat) 71.2% < 80%"."""
    parts = []
    for name in filter(None, str(cell.get("short_call_types", "")).split(", ")):
        target = cell.get(f"{name}.service_level_target", cell["service_level_target"])
        period = cell.get(f"{name}.service_level_period", "interval")
        if period != "interval" and f"{name}.periods_met_share" in cell:
            label = f"{name} ({channels[name]})" if channels and name in channels else name
            parts.append(f"{label} {cell[f'{name}.periods_met_share']:.0%} of its {period}s met {target * 100:g}%")
            continue
        level = cell[f"{name}.service_level"]
        digits = 1 if round(level, 3) < target else 2  # 79.97% < 80%, not 80.0% < 80%
        label = f"{name} ({channels[name]})" if channels and name in channels else name
        parts.append(f"{label} {level:.{digits}%} < {target * 100:g}%")
    return ", ".join(parts)


def short_on_call_types(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells whose mean reaches the target overall but not for every call type."""
    return cells[~cells["meets_target"] & (cells["service_level"] >= cells["service_level_target"])]


def ranked_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells meeting the target overall and for every call type: cheapest first with costs, else fewest agent
    hours."""
    feasible = cells[cells["meets_target"]]
    key = "total_cost" if "total_cost" in cells and not cells["total_cost"].isna().all() else "scheduled_agent_hours"
    return feasible.sort_values([key, "cell"], kind="stable", ignore_index=True)


def best_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells best first as judged against the targets: fewest call types short of their own target, then the
    highest overall service level (with several channels there is none), then the smallest worst shortfall of a
    call type below its target, then by cell."""
    short = cells["short_call_types"].str.count(",") + cells["short_call_types"].ne("")
    gaps = [cells[f"{name}.service_level"] - cells[f"{name}.service_level_target"] for name in call_type_names(cells)]
    worst = pd.concat(gaps, axis=1).min(axis=1) if gaps else cells["service_level"]
    order = cells.assign(_short=short, _worst=worst).sort_values(
        ["_short", "service_level", "_worst", "cell"], ascending=[True, False, False, True], na_position="last"
    )
    return order.drop(columns=["_short", "_worst"]).reset_index(drop=True)


def pareto_frontier(cells: pd.DataFrame, cost: str = "total_cost", service: str = "service_level") -> pd.DataFrame:
    """The non-dominated rows (no other row is as cheap and as good, and strictly better in one), cheapest first."""
    data = cells.dropna(subset=[cost, service])
    c = data[cost].to_numpy(dtype=float)
    s = data[service].to_numpy(dtype=float)
    no_worse = (c[None, :] <= c[:, None]) & (s[None, :] >= s[:, None])
    better = (c[None, :] < c[:, None]) | (s[None, :] > s[:, None])
    dominated = (no_worse & better).any(axis=1)
    return data[~dominated].sort_values([cost, service], ascending=[True, False], kind="stable")
