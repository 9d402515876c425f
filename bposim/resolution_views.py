"""First-contact resolution as a planner reads it, for `bposim run` and the run report: a row per call type with
`resolution` (and one for all of them when there are several), and a sentence saying what the figures are. The
figures are the summary's (`bposim.resolution`)."""

from __future__ import annotations

from bposim.channel_kpis import kpi_cell

COLUMNS = (  # (summary key, label, format: "%" or a number format)
    ("fcr", "FCR", "%"),
    ("first_contacts_answered", "First contacts answered", ",.0f"),
    ("repeats", "Repeat contacts", ",.0f"),
    ("repeats_per_day", "Repeats a day", ",.1f"),
    ("repeats_carried_out", "Carried out of horizon", ",.0f"),
    ("cost_of_repeats", "Cost of repeats", ",.0f"),
)


def has_resolution(summary: dict) -> bool:
    """Whether the summary holds first-contact resolution figures."""
    return "fcr" in summary


def resolution_table(summary: dict) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table: a row per call type with resolution, then "all" when there are several;
    the cost column only when the scenario prices agent time."""
    columns = [column for column in COLUMNS if column[0] != "cost_of_repeats" or "cost_of_repeats" in summary]
    parts = [(name, kpis) for name, kpis in summary.get("by_call_type", {}).items() if "fcr" in kpis]
    if len(parts) > 1:
        parts.append(("all", summary))
    rows = [[name, *(kpi_cell(kpis, key, spec) for key, _, spec in columns)] for name, kpis in parts]
    return ["Call type", *(label for _, label, _ in columns)], rows


def explanation(summary: dict) -> str:
    """What the figures are, in one paragraph."""
    text = (
        "FCR = answered first contacts resolved / answered first contacts; an unresolved customer may come back as "
        "a repeat contact of the same type, which queues like any other. Repeats due after the last closing are "
        "carried out of the horizon, not made."
    )
    if "journeys" in summary:
        text += (
            " With transfers a contact is a journey: resolved or not on the leg that ends it, and counted under that "
            "leg's call type."
        )
    if "cost_of_repeats" in summary:
        text += " Cost of repeats = handle and wrap-up hours of answered repeats × the group's hourly rate (already "
        text += "inside the agents' cost: the time a better first answer would have saved)."
    return text
