"""The sweep report's clients section: per cell and client, its service level (over its contract's clauses),
margin, credits and P(a period owes a credit), and the chart of service level against margin
(`bposim.client_charts`)."""

from __future__ import annotations

import pandas as pd

from bposim.client_charts import client_names, service_vs_margin
from bposim.formatting import estimate, share
from bposim.report.html import Section, html_table


def client_sections(cells: pd.DataFrame, factors: list[str]) -> list[Section]:
    """The clients of a sweep's cells: a table, then the service level against margin chart (none without
    clients)."""
    clients = client_names(cells)
    if not clients or f"client.{clients[0]}.service_level" not in cells:
        return []
    rows = []
    for _, cell in cells.iterrows():
        for name in clients:
            key = f"client.{name}."
            rows.append(
                [
                    str(int(cell["cell"])),
                    *(str(cell[factor]) for factor in factors),
                    name,
                    share(cell[f"{key}service_level"], cell.get(f"{key}service_level_ci")),
                    estimate(cell[f"{key}net_revenue"], cell.get(f"{key}net_revenue_ci")),
                    estimate(cell[f"{key}credits"], cell.get(f"{key}credits_ci")),
                    estimate(cell[f"{key}margin"], cell.get(f"{key}margin_ci")),
                    share(cell[f"{key}p_penalty"], cell.get(f"{key}p_penalty_ci"), digits=0),
                ]
            )
    header = ["Cell", *factors, "Client", "Service level", "Net revenue", "Credits", "Margin", "P(credit)"]
    text = (
        "Per cell and client, means over replications ± 95% confidence half-widths: the client's service level (its "
        "contract clauses' contacts within their thresholds over the horizon), net revenue, credits owed, margin "
        "(net revenue less its share of the cost) and P(credit), the share of its clauses' periods that owed one. "
        "A change that helps one client's service level often takes from the other's when they share agents."
    )
    return [
        Section("Clients", text, table=html_table(header, rows, None, numeric_from=len(factors) + 2)),
        Section(
            "Client service level against margin",
            "One point per cell and client: up is better service, right more margin.",
            figure=service_vs_margin(cells, factors),
        ),
    ]
