"""The sweep report's outbound section: per cell and campaign, contacts and right-party connects per dialling hour
and the nuisance rate beside the inbound service level, and the trade-off chart (`bposim.outbound_charts`)."""

from __future__ import annotations

import pandas as pd

from bposim.formatting import estimate, share
from bposim.outbound_charts import campaign_names, service_vs_connects
from bposim.report.html import Section, html_table


def outbound_sections(cells: pd.DataFrame, factors: list[str], target: float | None) -> list[Section]:
    """The outbound campaigns of a sweep's cells: a table, then one trade-off chart per campaign (none without
    campaigns)."""
    campaigns = campaign_names(cells)
    if not campaigns:
        return []
    rows = []
    for _, cell in cells.iterrows():
        for name in campaigns:
            key = f"outbound.{name}."
            rows.append(
                [
                    str(int(cell["cell"])),
                    *(str(cell[factor]) for factor in factors),
                    name,
                    share(cell["service_level"], cell.get("service_level_ci")),
                    estimate(cell[f"{key}contacts_per_hour"], cell.get(f"{key}contacts_per_hour_ci"), ",.1f"),
                    estimate(cell[f"{key}right_party_per_hour"], cell.get(f"{key}right_party_per_hour_ci"), ",.1f"),
                    share(cell[f"{key}nuisance_rate"], cell.get(f"{key}nuisance_rate_ci"), digits=2),
                    estimate(cell[f"{key}attempts_per_record"], cell.get(f"{key}attempts_per_record_ci"), ",.2f"),
                ]
            )
    header = [
        "Cell",
        *factors,
        "Campaign",
        "Inbound service level",
        "Contacts / h",
        "Right party / h",
        "Nuisance %",
        "Attempts / record",
    ]
    text = (
        "Per cell and campaign, means over replications ± 95% confidence half-widths: contacts (right and wrong "
        "party) and right-party connects per hour of the campaign's dialling hours (after each day's warm-up), the "
        "nuisance rate (nuisance calls / live answers) and dials per record dialled, beside the inbound service "
        "level: what the outbound work costs the inbound queue."
    )
    sections = [
        Section("Outbound campaigns", text, table=html_table(header, rows, None, numeric_from=len(factors) + 2))
    ]
    for name in campaigns:
        sections.append(
            Section(
                f"Inbound service against {name}",
                "One point per cell: the more the dialer takes the agents, the more right-party connects an hour and "
                "the lower the inbound service level.",
                figure=service_vs_connects(cells, name, factors, target),
            )
        )
    return sections
