"""What the CLI and the run report show of outbound campaigns: one row per campaign of the summary's
`outbound` KPIs (`bposim.outbound`), written once here for both, and a sentence on the nuisance caps."""

from __future__ import annotations

from typing import Any, NamedTuple

from bposim.channel_kpis import kpi_cell

COLUMNS = (  # (KPI key, label, "%" or a number format)
    ("dials", "Dials", ",.0f"),
    ("right_party", "Right party", ",.0f"),
    ("no_answer", "No answer", ",.0f"),
    ("nuisance", "Nuisance", ",.0f"),
    ("nuisance_rate", "Nuisance %", "%"),
    ("agent_hours", "Agent hours", ",.1f"),
    ("right_party_per_agent_hour", "Right party / agent h", ",.1f"),
    ("right_party_per_hour", "Right party / h", ",.1f"),
    ("attempts_per_record", "Attempts / record", ",.2f"),
    ("records_left", "Records left", ",.0f"),
)


class CampaignRows(NamedTuple):
    """The campaigns' table: its header, one row of text cells per campaign, and whether each keeps its cap."""

    header: list[str]
    rows: list[list[str]]
    within_cap: list[bool | None]


def campaign_rows(run: Any) -> CampaignRows | None:
    """The campaigns' KPIs as text cells (None when the run has no campaign)."""
    campaigns = run.summary.get("outbound")
    if not campaigns:
        return None
    specs = {spec.name: spec for spec in run.scenario.outbound} if run.scenario is not None else {}
    rows, within = [], []
    for name, kpis in campaigns.items():
        spec = specs.get(name)
        dialer = spec.dialer if spec is not None else ""
        rows.append([name, dialer, *(kpi_cell(kpis, key, form) for key, _, form in COLUMNS)])
        rate = kpis.get("nuisance_rate")
        within.append(None if spec is None or rate is None or rate != rate else rate <= spec.nuisance_cap)
    return CampaignRows(["Campaign", "Dialer", *(label for _, label, _ in COLUMNS)], rows, within)


def explanation(run: Any) -> str:
    """What the campaigns' figures mean, with each predictive campaign's cap."""
    text = (
        "Blended agents dial only in their idle time, never while an inbound caller of their skills waits. "
        "Nuisance rate = nuisance calls (a person answered and no agent was free) / live answers; agent hours = "
        "the agents' time on the campaign (preview, ringing, talk, after-call work); per hour: per hour of the "
        "campaign's dialling hours; attempts / record: dials per record dialled (retries); records left: on the "
        "list at the end, never dialled or due a retry (— when unlimited). "
        "Each day's warm-up is left out."
    )
    caps = [
        f"{spec.name} {spec.nuisance_cap:.1%}"
        for spec in (run.scenario.outbound if run.scenario is not None else [])
        if spec.dialer == "predictive"
    ]
    if caps:
        text += " Nuisance cap (predictive): " + ", ".join(caps) + "."
    return text
