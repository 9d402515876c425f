"""A run's report: its key figures per call type, then its day (profile, queue, occupancy, costs, outages); the day
sections serve a sweep's recommended cell too."""

from __future__ import annotations

from html import escape
from pathlib import Path

from bposim import (
    calendar_charts,
    channel_kpis,
    channel_views,
    charts,
    contract_views,
    journey_views,
    outbound_views,
    period_views,
    resolution_charts,
    resolution_views,
)
from bposim.channel_kpis import kpi_cell
from bposim.formatting import date_label, estimate, missing
from bposim.report import channels
from bposim.report.html import Section, html_table, write_page
from bposim.run import Run
from bposim.scenario.sites import scenario_time_zone


def run_report(run: Run, path: str | Path) -> Path:
    """Write the report of a `Run` in memory to `path`."""
    return write_page(path, *run_sections(run))


def run_sections(run: Run) -> tuple[str, list[Section]]:
    """The title and sections of a run's report: key figures, then the pooled day and the first day."""
    summary = run.summary
    name = summary.get("scenario", "run")
    replications = summary.get("replications", 1)
    facts = f"Seed {summary.get('seed', '?')}, {replications} replication{'s' if replications != 1 else ''}"
    facts += ", means ± 95% confidence half-widths." if replications > 1 else "."
    definition = str(summary.get("service_level_definition", "offered")).replace("_", " ")
    cost = ""
    if summary.get("total_cost") is not None and not missing(summary.get("total_cost")):
        cost = f" Total cost {estimate(summary['total_cost'], summary.get('total_cost_ci'))} {charts.cost_unit(run)}."
    if channel_views.several_channels(run):
        sections = [channels.key_figures(run, facts + cost, few_replications(replications, ""))]
        sections += channels.backlog_section(run) + channels.concurrency_section(run)
    else:
        facts += f" Service level = answered within the threshold / {definition}; ASA = mean wait of answered calls."
        table = _summary_table(summary)
        sections = [Section("Key figures", facts + cost, table=table, note=few_replications(replications, ""))]
    if "journeys" in summary:
        sections.insert(1, journey_section(summary["journeys"]))
    if period_views.by_period(summary):
        sections.insert(1, period_section(summary))
    if resolution_views.has_resolution(summary):
        sections.insert(1, resolution_section(run))
    if contract_views.has_clients(summary):
        sections.insert(1, client_section(run))
    campaigns = outbound_section(run)
    if campaigns is not None:
        sections.append(campaigns)
    if summary.get("sites") and run.scenario is not None:
        sections.append(site_section(run))
    if run.scenario is not None and run.scenario.horizon.calendar and run.scenario.horizon.days > 1:
        sections.append(calendar_section(run))
    sections += pooled_section(run, f"The run's {replications} replications")
    if replications > 1:
        run = run.replication(0)
    sections += day_sections(
        run,
        "The day" if replications == 1 else "The first replication",
        "" if replications == 1 else "Replication 0 of the run.",
    )
    return f"{name}: run report", sections


def client_section(run: Run) -> Section:
    """Each client's revenue, credits, bonuses, cost and margin, the provider's, and each service-level clause's
    chance of a credit (scenarios with clients)."""
    summary = run.summary
    rows = contract_views.client_rows(summary, summary.get("replications", 1) > 1)
    table = html_table(contract_views.HEADER, [row.cells for row in rows], [row.positive for row in rows], 1)
    clauses = contract_views.clause_rows(summary)
    if clauses:
        table += "<h3>Service-level clauses</h3>" + html_table(contract_views.CLAUSE_HEADER, clauses, None, 2)
    costs = run.scenario.costs if run.scenario is not None else None
    return Section("Clients and contracts", contract_views.explanation(costs.currency if costs else ""), table=table)


def journey_section(journeys: dict) -> Section:
    """Transfers per call type and per agent group, and the journeys: legs, total wait, journey service level,
    conferences and disconnects (scenarios with transfers)."""
    tables = []
    for table in journey_views.transfer_tables(journeys):
        body = html_table(table.header, table.rows, None, numeric_from=table.numeric_from)
        tables.append(f"<h3>{escape(table.title)}</h3>{body}")
    text = (
        journey_views.journey_sentence(journeys)
        + " A journey's total wait is the sum of its legs' waits (the first queue and each queue it was passed on "
        "to, a warm transfer's hold included); the transfer rate is the share of answered legs passed on."
    )
    return Section("Journeys and transfers", text, table="".join(tables))


def period_section(summary: dict) -> Section:
    """Each call type's service level over the period its target is measured over (the scenario's
    `service_level.period`, or the call type's own), with the chance each period meets the target."""
    replications = summary.get("replications", 1)
    text = (
        " ".join(period_views.sentences(summary, replications))
        + " Each target holds over its period (a day, an ISO week, a calendar month), the service level pooled over "
        "the period: answered within the threshold over the period's offered calls (email and case: items done "
        "by their due time over the items due in it). P(met) is the share of the "
        f"{replications} replication{'s' if replications != 1 else ''} in which the period met its target, with "
        "its 95% Wilson interval; a period the horizon covers only in part is marked partial."
    )
    rows = period_views.period_rows(summary)
    table = html_table(
        ["Call type", "Period", "Service level", "Target", "P(met) (95% interval)"],
        [[row.call_type, row.period, row.service_level, row.goal, row.p_met] for row in rows],
        [row.meets for row in rows],
        numeric_from=2,
    )
    return Section("Service level by period", text, table=table, figure=period_views.period_chart(summary))


def resolution_section(run: Run) -> Section:
    """First-contact resolution and repeat contacts per call type, with the day-by-day first and repeat contacts
    when the horizon has several days."""
    summary = run.summary
    header, rows = resolution_views.resolution_table(summary)
    table = html_table(header, rows, None, numeric_from=1)
    days = run.scenario.horizon.days if run.scenario is not None else 1
    figure = resolution_charts.repeat_contacts(run) if len(run.calls) and days > 1 else None
    text = resolution_views.explanation(summary)
    if figure is not None:
        text += " The chart: contacts offered each day, first contacts and repeats (every replication)."
    return Section("First-contact resolution", text, table=table, figure=figure)


def outbound_section(run: Run) -> Section | None:
    """The outbound campaigns: dials by result, nuisance rate (a row over its cap marked) and contacts per agent-hour;
    None without campaigns."""
    table = outbound_views.campaign_rows(run)
    if table is None:
        return None
    rows = html_table(table.header, table.rows, table.within_cap, numeric_from=2)
    return Section("Outbound campaigns", outbound_views.explanation(run), table=rows)


def site_section(run: Run) -> Section:
    """The sites: each one's KPIs, then its agents on the phones and their occupancy through the day, on the
    horizon's clock and on the site's own."""
    from bposim import site_views

    zone = scenario_time_zone(run.scenario)
    text = (
        "Per site: agents logged in, paid hours, the cost of their paid hours, occupancy, calls handled and AHT "
        f"(talk + wrap-up). Below, each site's agents on the phones (mean over days) and occupancy by interval, on "
        f"the horizon's clock ({zone or 'no time zone'}) and the site's local clock (where daylight saving moves "
        "it within the horizon, each local time with the date it holds from)."
    )
    table = html_table(site_views.KPI_HEADER, site_views.kpi_rows(run.summary), None, numeric_from=2)
    day = site_views.profile(run)
    header = [f"Time ({zone or 'horizon'})", *day.columns[1:]]
    rows = [
        [cell if isinstance(cell, str) else ("-" if cell != cell else f"{cell:.2f}") for cell in row]
        for row in day.itertuples(index=False)
    ]
    return Section("Sites", text, table=table + html_table(header, rows, None, numeric_from=1))


def calendar_section(run: Run) -> Section:
    """The days of a horizon on dates, one bar each: what was offered and the service level reached."""
    horizon = run.scenario.horizon
    dates = horizon.dates()
    closed = len(dates) - len(horizon.open_days())
    text = (
        f"{date_label(dates[0])} to {date_label(dates[-1])} {dates[-1].year}: {len(horizon.open_days())} open days"
        + (f", {closed} closed" if closed else "")
        + ". Live contacts offered each day and the day's service level (pooled over its intervals)."
    )
    return Section("Day by day", text, figure=calendar_charts.days_profile(run))


def few_replications(replications: int, scope: str) -> str:
    """A warning when too few replications make the ± figures wide (or absent), else ""."""
    from bposim.experiment.tables import FEW

    where = f" {scope}" if scope else ""
    if replications == 1:
        return (
            f"Only one replication{where}: there are no confidence intervals, and every figure is one "
            "replication's, as noisy as a single day."
        )
    if replications < FEW:
        return (
            f"Only {replications} replications{where}: the ± figures are 95% Student-t intervals over only "
            f"{replications} replications, so they are wide; run more replications to narrow them."
        )
    return ""


def _summary_table(summary: dict) -> str:
    by_type = summary.get("by_call_type", {})
    rows_in = [(name, kpis) for name, kpis in by_type.items()]
    if len(rows_in) != 1:
        rows_in.append(("all", summary))
    columns = channel_kpis.live_columns(summary)
    rows = [[name, *(kpi_cell(kpis, key, spec) for key, _, spec in columns)] for name, kpis in rows_in]
    return html_table(["Call type", *(label for _, label, _ in columns)], rows, None, numeric_from=1)


def pooled_section(run: Run, text: str) -> list[Section]:
    """The day profile over every replication of a run (none when it has one), one per live channel when the run
    has channels beyond voice."""
    if run.replications < 2:
        return []
    if channel_views.several_channels(run):
        return channels.live_profiles(
            run,
            "Over the day, every replication",
            f"{text}: contacts and agents are means per replication, the service level is pooled over them.",
        )
    return [
        Section(
            "Over the day, every replication",
            f"{text}: offered calls and agents are means per replication, the service level is pooled over them.",
            figure=charts.day_profile(run),
        )
    ]


def day_sections(run: Run, title: str, text: str) -> list[Section]:
    """Charts of one run's day: profile (one per live channel when there are channels beyond voice), queue and busy
    agents, occupancy, costs, outages."""
    if channel_views.several_channels(run):
        sections = channels.live_profiles(run, title, text)
        queue = (
            "Live contacts waiting (chats and calls; email and case items wait in their backlog) and agents busy "
            "(an agent holding chat sessions counted once), averaged over 5 minutes; the dotted line is the agents "
            "on the phone (logged in, not on a break)."
        )
    else:
        sections = [
            Section(
                title,
                (text + " " if text else "") + "Offered calls, service level against its target, and agents "
                "scheduled and on the phone, interval by interval.",
                figure=charts.day_profile(run),
            )
        ]
        queue = (
            "Calls waiting and agents busy, averaged over 5 minutes; the dotted line is the "
            "agents on the phone (logged in, not on a break)."
        )
    sections += [
        Section("Queue and agents", queue, figure=charts.queue_and_agents(run, day=_first_open_day(run))),
        Section(
            "Occupancy",
            "Busy time over on-phone time of each agent group in each interval.",
            figure=charts.occupancy_heatmap(run),
        ),
    ]
    if len(run.costs):
        sections.append(Section("Cost", "Cost by component and item.", figure=charts.cost_breakdown(run)))
    if len(run.outages):
        sections.append(
            Section(
                "Tool outages", "Each outage of a tool and the calls it touched.", figure=charts.outage_timeline(run)
            )
        )
    return sections


def _first_open_day(run: Run) -> int:
    """The first day that opens (day 0 unless the horizon starts on a closed day)."""
    return run.scenario.horizon.open_days()[0] if run.scenario is not None else 0
