"""The sweep report's sites section: per cell and site of a model with `sites`, the site's cost, paid hours,
occupancy and calls handled (the results' `site.<name>.<kpi>` columns, `bposim.sites.CELL_KPIS`), so a planner sees
which site a cell's extra agents, or its savings, fall on."""

from __future__ import annotations

import pandas as pd

from bposim.charts import cost_unit
from bposim.formatting import estimate, share
from bposim.report.html import Section, html_table


def site_names(cells: pd.DataFrame) -> list[str]:
    """The sites of a sweep's cells, in the order of their columns (none without sites)."""
    return list(dict.fromkeys(column[5 : -len(".cost")] for column in cells.columns if _site_cost(column)))


def _site_cost(column: str) -> bool:
    return column.startswith("site.") and column.endswith(".cost") and not column.endswith("_ci")


def site_sections(cells: pd.DataFrame, factors: list[str]) -> list[Section]:
    """One table, a row per cell and site (none without sites)."""
    names = site_names(cells)
    if not names:
        return []
    priced = any(cells[f"site.{name}.cost"].notna().any() for name in names)
    rows = []
    for _, cell in cells.iterrows():
        for name in names:
            key = f"site.{name}."
            rows.append(
                [
                    str(int(cell["cell"])),
                    *(str(cell[factor]) for factor in factors),
                    name,
                    *([estimate(cell[f"{key}cost"], cell.get(f"{key}cost_ci"), ",.2f")] if priced else []),
                    estimate(cell[f"{key}paid_hours"], cell.get(f"{key}paid_hours_ci"), ",.1f"),
                    share(cell[f"{key}occupancy"], cell.get(f"{key}occupancy_ci")),
                    estimate(cell[f"{key}calls_handled"], cell.get(f"{key}calls_handled_ci"), ",.1f"),
                ]
            )
    header = [
        "Cell",
        *factors,
        "Site",
        *([f"Cost ({cost_unit(cells)})"] if priced else []),
        "Paid hours",
        "Occupancy",
        "Calls handled",
    ]
    text = (
        "Per cell and site, means over replications ± 95% confidence half-widths: "
        + ("the cost of the site's paid hours and own tools, " if priced else "")
        + "its agents' paid hours (logged in less unpaid breaks), their occupancy and the calls they answered."
    )
    return [Section("Sites", text, table=html_table(header, rows, None, numeric_from=len(factors) + 2))]
