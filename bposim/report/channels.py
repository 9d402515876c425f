"""The report's sections for a centre with channels beyond voice: key figures per channel and which channel misses
its target, the backlog of deferred work over the days, chat concurrency, and the day of each live channel."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bposim import channel_charts, channel_kpis, channel_views, charts
from bposim.formatting import date_label, estimate, share
from bposim.report.html import Section, html_table

if TYPE_CHECKING:
    from bposim.run import Run


def key_figures(run: Run, facts: str, note: str) -> Section:
    """A table per channel (its call types, then the channel's own figures), which channels miss their target, and
    the agents' occupancy and chat sessions."""
    tables = []
    for table in channel_kpis.channel_tables(run):
        body = html_table(table.header, table.rows, table.meets, numeric_from=table.numeric_from)
        tables.append(f"<h3>{escape(table.title)}</h3>{body}")
    verdicts = channel_views.channel_verdicts(run)
    missed = [line for line in verdicts if " misses " in line]
    text = (
        f"{facts} Live channels: service level = answered within the threshold (seconds) / offered; ASA = mean "
        "wait of answered contacts. Deferred work: done within due time = items due in the horizon completed by "
        "their due time (hours) / items due; backlog at end = items open at the last closing. A green edge marks "
        f"a call type meeting its target. {' '.join(line for line in verdicts if line not in missed)} "
        + channel_kpis.agents_line(run)
    )
    warning = " ".join([*missed, note]).strip()
    return Section("Key figures", text, table="".join(tables), note=warning)


def backlog_section(run: Run) -> list[Section]:
    """The backlog of deferred work day by day (the backlog table, means per replication) and by age band at each
    closing; none without deferred work."""
    deferred = [c for c in channel_views.channels(run) if c in channel_views.DEFERRED_CHANNELS]
    if not deferred:
        return []
    days = channel_views.backlog_days(run)
    table = ""
    if len(days):
        header = [
            "Day",
            "Call type",
            "Arrived",
            "Completed",
            "Open at opening",
            "Open at closing",
            "Oldest open h",
            "Due",
            "Done within due time",
            "Target",
            "Projected late",
        ]
        rows = [
            [
                date_label(row.date) if "date" in days else str(int(row.day)),
                str(row.call_type),
                estimate(row.arrived, spec=",.1f"),
                estimate(row.completed, spec=",.1f"),
                estimate(row.open_at_start, spec=",.1f"),
                estimate(row.open_at_end, spec=",.1f"),
                estimate(row.oldest_age_hours, spec=",.1f"),
                estimate(row.due, spec=",.1f"),
                share(row.service_level),
                f"{row.target:.0%}",
                estimate(row.projected_late, spec=",.1f"),
            ]
            for row in days.itertuples(index=False)
        ]
        meets = [None if r.due == 0 else bool(r.service_level >= r.target) for r in days.itertuples(index=False)]
        table = html_table(header, rows, meets, numeric_from=2)
    replications = f", means over {run.replications} replications" if run.replications > 1 else ""
    intervals = channel_views.backlog_over_intervals(run)
    asked = (
        ""
        if len(intervals)
        else " Open items interval by interval need the backlog_intervals table (`bposim run --backlog-per "
        'interval`, or simulate with tables=(*Run.DEFAULT_TABLES, "backlog_intervals")).'
    )
    sections = [
        Section(
            "Backlog of deferred work",
            "Email and case items carry over the nights. Per day and call type: items arrived (opening to next "
            "opening), completed, open at the opening and at the closing, the oldest item open at the closing (hours), "
            "the items due that day and the share of them done by their due time, and the items open at the closing "
            "that will miss their due time at the day's pace (projected late)"
            f"{replications}. The chart splits the items waiting at each closing by the time left to their due time."
            + asked,
            table=table,
            figure=channel_charts.backlog_by_age(run),
        )
    ]
    if len(intervals):
        sections.append(
            Section(
                "Open deferred items, interval by interval",
                "Email and case items open (arrived, not yet completed) at each day's opening and at the end of "
                "each interval, a line per call type, and dotted the overdue ones among them (past their due time), "
                f"from the backlog_intervals table{replications}. The line breaks over the nights (shaded). A day's "
                "last point, at its closing, takes in the night after it, as the backlog table does: work under "
                "way at the closing and finished overnight is done, items given up overnight are gone, so the next "
                "opening starts where the closing left off (no item arrives or starts at night).",
                figure=channel_charts.backlog_over_intervals(run),
            )
        )
    return sections


def concurrency_section(run: Run) -> list[Section]:
    """Chat sessions per agent on the phone by interval; none without chat or without the sessions column."""
    if "chat" not in channel_views.channels(run) or channel_views.chat_concurrency(run).empty:
        return []
    return [
        Section(
            "Chat concurrency",
            "Chat session-equivalents (session time over the interval) per agent on the phone in each group taking "
            "chat, interval by interval; the dashed line is the most sessions an agent of the group holds at once. "
            + channel_kpis.agents_line(run),
            figure=channel_charts.chat_sessions(run),
        )
    ]


def live_profiles(run: Run, title: str, text: str) -> list[Section]:
    """The day profile of each live channel: its contacts, service level against target and the agents of the
    groups taking it, interval by interval."""
    return [
        Section(
            f"{title} — {channel}",
            (text + " " if text else "") + f"Offered {charts.CONTACTS[channel]}, their service level against its "
            "target, and agents scheduled and on the phone in the groups taking them, interval by interval.",
            figure=charts.day_profile(run, channel=channel),
        )
        for channel in channel_views.channels(run)
        if channel in channel_views.LIVE_CHANNELS
    ]
