"""The experiment's tables: one tidy row per cell × replication, and the per-cell summary a planner reads.

Results columns, in order: cell, one column per factor (its path, or its name for named variants), replication,
seed, service_level_target, met_target (this replication's overall service level reached the target),
scheduled_agent_hours (plan and roster), the overall KPIs of `bposim.metrics.SUMMARY_KEYS` (counts as integers),
the cost keys when the scenario has costs, then `<call_type>.<kpi>` for every call type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bposim import costs, metrics

if TYPE_CHECKING:
    from bposim.run import Run

ORDER = ["cell", "replication"]


def kpi_row(run: Run) -> dict[str, float | int | bool]:
    """The results-table columns after `seed` for one replication of one cell."""
    summary = run.summary
    target = run.scenario.service_level.target
    interval_hours = run.scenario.horizon.interval_seconds / 3600.0
    row: dict[str, float | int | bool] = {
        "service_level_target": float(target),
        "met_target": bool(summary["service_level"] >= target),
        "scheduled_agent_hours": float(run.staffing["scheduled"].sum() * interval_hours),
    }
    row.update(_kpis(summary))
    row.update({key: float(summary[key]) for key in costs.SUMMARY_KEYS if key in summary})
    for call_type, kpis in summary["by_call_type"].items():
        row.update({f"{call_type}.{key}": value for key, value in _kpis(kpis).items()})
    return row


def _kpis(summary: dict) -> dict[str, float | int]:
    return {key: int(summary[key]) if key in metrics.COUNTS else float(summary[key]) for key in metrics.SUMMARY_KEYS}


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


def cell_summary(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Per cell: its factor levels, replications, the share that met the target, and each KPI's mean ± CI.

    `<kpi>` is the mean over replications and `<kpi>_ci` the Student-t half-width (NaN with one replication);
    met_target_share is the planner's risk: the share of days that met the service-level target.
    meets_target says whether the mean service level reached it.
    """
    from scipy import stats

    grouped = results.groupby("cell", sort=True)
    kpis = kpi_columns(results)
    first = results.drop_duplicates("cell").set_index("cell")[[*factor_columns(results), "service_level_target"]]
    means, spread, count = grouped[kpis].mean(), grouped[kpis].std(), grouped[kpis].count()
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = stats.t.ppf(0.5 + confidence / 2, (count - 1).where(count > 1))
        half = spread * factor / np.sqrt(count)
    columns: dict[str, pd.Series] = {name: first[name].sort_index() for name in first.columns}
    columns["replications"] = grouped.size()
    columns["met_target_share"] = grouped["met_target"].mean()
    columns["meets_target"] = means["service_level"] >= first["service_level_target"]
    for key in kpis:
        columns[key] = means[key]
        columns[f"{key}_ci"] = half[key]
    return pd.DataFrame(columns).rename_axis("cell").reset_index()


def paired_differences(
    results: pd.DataFrame, baseline: int, kpis: tuple[str, ...] = ("service_level", "total_cost"),
    confidence: float = 0.95,
) -> pd.DataFrame:  # fmt: skip
    """Per cell: each KPI minus the baseline cell's on the same replication, mean ± Student-t half-width.

    Under common random numbers replication r of every cell sees the same days, so the paired difference has
    a far narrower interval than the difference of the two cells' own intervals. Columns: cell, pairs,
    `<kpi>_diff`, `<kpi>_diff_ci`; the baseline's own row is zero.
    """
    kpis = tuple(k for k in kpis if k in results)
    wide = results.pivot_table(index="replication", columns="cell", values=list(kpis), aggfunc="first")
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


def ranked_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells whose mean service level meets the target: cheapest first with costs, else fewest agent hours."""
    feasible = cells[cells["meets_target"]]
    key = "total_cost" if "total_cost" in cells and not cells["total_cost"].isna().all() else "scheduled_agent_hours"
    return feasible.sort_values([key, "cell"], kind="stable", ignore_index=True)

