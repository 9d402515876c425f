"""A run's key figures per channel as rows of text, as the command line and the report print them: live channels
(voice, chat) with the service level within seconds, ASA and abandonment; deferred work (email, case) with the
share completed within its due time in hours, the backlog left at the end and its oldest item. No row averages
across channels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bposim import channel_views
from bposim.formatting import estimate, share
from bposim.scenario.call_types import LIVE_CHANNELS


@dataclass(frozen=True)
class KpiRows:
    """A table of key figures: its header, its rows of text, whether each row meets its target (None: no target),
    and the first column holding numbers."""

    title: str
    header: list[str]
    rows: list[list[str]]
    meets: list[bool | None]
    numeric_from: int = 1


LIVE_COLUMNS = (
    ("offered", "Offered", ",.0f"),
    ("answered", "Answered", ",.0f"),
    ("abandoned", "Abandoned", ",.0f"),
    ("service_level", "Service level", "%"),
    ("asa_seconds", "ASA s", ",.1f"),
    ("abandon_rate", "Abandon rate", "%"),
    ("occupancy", "Occupancy", "%"),
)
BEHAVIOUR_COLUMNS = (  # in scenarios with balking or a maximum wait, after Abandon rate
    ("balked", "Balked", ",.0f"),
    ("balk_rate", "Balk rate", "%"),
    ("messages", "Messages", ",.0f"),
)
DEFERRED_COLUMNS = (
    ("arrived", "Arrived", ",.0f"),
    ("completed", "Completed", ",.0f"),
    ("due", "Due", ",.0f"),
    ("service_level", "Done within due time", "%"),
    ("open_at_end", "Backlog at end", ",.0f"),
    ("oldest_age_hours", "Oldest open h", ",.1f"),
)


def live_columns(summary: dict) -> tuple[tuple[str, str, str], ...]:
    """The columns of a live table: LIVE_COLUMNS, with BEHAVIOUR_COLUMNS after the abandon rate when the summary
    counts balks and messages."""
    if "balked" not in summary:
        return LIVE_COLUMNS
    cut = [key for key, _, _ in LIVE_COLUMNS].index("abandon_rate") + 1
    return (*LIVE_COLUMNS[:cut], *BEHAVIOUR_COLUMNS, *LIVE_COLUMNS[cut:])


def kpi_cell(kpis: dict, key: str, spec: str) -> str:
    """One figure of a KPI table: a share ("%") or a number in `spec`, with its 95% CI half-width when given."""
    value, half = kpis.get(key, math.nan), kpis.get(f"{key}_ci")
    return share(value, half) if spec == "%" else estimate(value, half, spec)


def channel_tables(run: Any) -> list[KpiRows]:
    """One table per channel present, voice, chat, email, case: a row per call type, then the channel's own row
    when it has several call types (`summary["by_channel"]`); never a row averaging across channels."""
    summary = run.summary
    by_type, by_channel = summary.get("by_call_type", {}), summary.get("by_channel", {})
    goals = channel_views.targets(run)
    tables = []
    for channel in channel_views.channels(run):
        live = channel in LIVE_CHANNELS
        columns = live_columns(summary) if live else DEFERRED_COLUMNS
        header = ["Call type", *(label for _, label, _ in columns), "Threshold" if live else "Due time", "Target"]
        names = channel_views.call_types_of(run, channel)
        entries = [(name, by_type.get(name, {}), goals.get(name)) for name in names]
        if len(names) > 1 and channel in by_channel:
            entries.append((f"all {channel}", by_channel[channel], None))
        rows, meets = [], []
        for name, kpis, goal in entries:
            row = [name, *(kpi_cell(kpis, key, spec) for key, _, spec in columns)]
            if goal is None:
                row += ["", ""]
                meets.append(None)
            else:
                threshold, target = goal
                row += [f"{threshold:g} s" if live else f"{threshold / 3600:g} h", f"{target:.0%}"]
                value = kpis.get("service_level", math.nan)
                meets.append(None if math.isnan(value) else bool(value >= target))
            rows.append(row)
        kind = "live, service level within seconds" if live else "deferred, done within the due time in hours"
        tables.append(KpiRows(f"{channel.capitalize()} ({kind})", header, rows, meets))
    return tables


def agents_line(run: Any) -> str:
    """The agents' occupancy over the run and, where chat exists, the chat sessions held per agent on the phone."""
    summary = run.summary
    occupancy = share(summary.get("occupancy"), summary.get("occupancy_ci"))
    text = f"Agents' occupancy (busy over time on the phones) {occupancy}"
    if "chat" in channel_views.channels(run):
        sessions = channel_views.sessions_per_agent(run)
        if not math.isnan(sessions):
            text += f"; chat sessions held per agent on the phone in the groups taking chat: {sessions:.2f}"
    return text + "."
