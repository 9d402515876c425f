"""A run's journey figures as text, as the command line and the report print them (scenarios with transfers): one
sentence on journeys (legs, total wait, journey service level, conferences, disconnects) and the transfer rate per
call type and per agent group. The KPIs themselves are `bposim.journeys`'."""

from __future__ import annotations

import math

from bposim.channel_kpis import KpiRows, kpi_cell
from bposim.formatting import estimate, share

TRANSFER_COLUMNS = (
    ("answered_legs", "Answered legs", ",.0f"),
    ("transferred", "Passed on", ",.0f"),
    ("transfer_rate", "Transfer rate", "%"),
)


def journeys_of(summary: dict) -> dict | None:
    """The summary's journey KPIs, None for a scenario without transfers."""
    return summary.get("journeys")


def journey_sentence(journeys: dict, threshold_note: str = "the first call type's threshold") -> str:
    """Journeys, legs per journey, the journey service level and wait, conferences and disconnects, in words."""
    level = share(journeys.get("journey_service_level"), journeys.get("journey_service_level_ci"))
    wait = estimate(journeys.get("journey_wait_seconds"), journeys.get("journey_wait_seconds_ci"), ",.1f")
    legs = estimate(journeys.get("legs_per_journey"), journeys.get("legs_per_journey_ci"), ".2f")
    text = (
        f"Journeys: {estimate(journeys.get('journeys'), journeys.get('journeys_ci'))} (a caller's attempt and the "
        f"legs it was passed on to), {legs} legs each; {level} ended answered with a total wait within "
        f"{threshold_note} (journey service level); total wait of journeys ending answered {wait} s"
    )
    conferences = journeys.get("conferences", 0)
    if conferences and not math.isnan(conferences):
        mean = estimate(journeys.get("conference_seconds"), journeys.get("conference_seconds_ci"), ",.1f")
        text += f"; {estimate(conferences)} warm-transfer conferences of {mean} s on average"
    disconnected = journeys.get("disconnected", 0)
    text += f"; {estimate(disconnected, journeys.get('disconnected_ci'))} callers disconnected at a transfer."
    return text


def transfer_tables(journeys: dict) -> list[KpiRows]:
    """The transfer rate per call type (with its disconnects) and per agent group, then over all answered legs."""
    overall = [("all", journeys)]
    by_type = [*journeys.get("by_call_type", {}).items(), *overall]
    by_group = [*journeys.get("by_group", {}).items(), *overall]
    header = ["Call type", *(label for _, label, _ in TRANSFER_COLUMNS), "Disconnected"]
    type_rows = [
        [
            name,
            *(kpi_cell(kpis, key, spec) for key, _, spec in TRANSFER_COLUMNS),
            kpi_cell(kpis, "disconnected", ",.0f"),
        ]
        for name, kpis in by_type
    ]
    group_rows = [[name, *(kpi_cell(kpis, key, spec) for key, _, spec in TRANSFER_COLUMNS)] for name, kpis in by_group]
    return [
        KpiRows("Transfers by call type (answered legs passed on)", header, type_rows, [None] * len(type_rows)),
        KpiRows(
            "Transfers by agent group",
            ["Agent group", *(label for _, label, _ in TRANSFER_COLUMNS)],
            group_rows,
            [None] * len(group_rows),
        ),
    ]
