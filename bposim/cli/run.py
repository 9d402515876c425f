"""`bposim run`, `validate` and `schema`: simulate one scenario and print its summary, check a scenario file, print
the scenario files' JSON schema."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bposim.cli.common import (
    Format,
    cannot_write,
    check_xlsx,
    err,
    fail,
    load,
    out,
    prepare_directory,
    within_limits,
    write_xlsx,
)
from bposim.formatting import amount, dated_clock, share
from bposim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from bposim.run import Run

SHARES = ("service_level", "abandon_rate", "occupancy", "balk_rate")


class BacklogGrain(StrEnum):
    """How finely `run --out` writes the backlog of deferred work (--backlog-per): per day (backlog.csv, always)
    or per interval too (backlog_intervals.csv)."""

    day = "day"
    interval = "interval"


def run(
    file: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    seed: Annotated[int, typer.Option(min=0, help="random seed; the same seed gives the same tables")] = 0,
    replications: Annotated[int, typer.Option(min=1, help="independent replications (days) to run")] = 1,
    format: Annotated[Format, typer.Option("--format", help="how to print the summary")] = Format.table,
    out_dir: Annotated[Path | None, typer.Option("--out", help="write calls/intervals/agents tables here")] = None,
    report: Annotated[bool, typer.Option("--report", help="also write report.html in the --out directory")] = False,
    backlog_per: Annotated[
        BacklogGrain,
        typer.Option(
            "--backlog-per",
            help="email and case work: the backlog per day (backlog.csv) or per interval too "
            "(backlog_intervals.csv, with --out)",
        ),
    ] = BacklogGrain.day,
    xlsx: Annotated[
        Path | None,
        typer.Option(
            "--xlsx", help="also write an Excel workbook: KPIs, intervals (dates and clock times), staffing, agents"
        ),
    ] = None,
) -> None:
    """Simulate a scenario and print its service level, waiting, abandonment and occupancy."""
    # imported here: keeps the CLI's start fast (the engine: simpy, pandas)
    from bposim.run import DEFAULT_TABLES, jsonable, simulate

    scenario = load(file)
    within_limits(scenario, file, replications)
    if report and out_dir is None:
        fail(["--report: give --out DIRECTORY too; the report is written there as report.html"])
    deferred = [ct.name for ct in scenario.call_types if not ct.live]
    if backlog_per is BacklogGrain.interval:
        _check_backlog_per_interval(scenario, file, out_dir)
    if out_dir is not None:
        prepare_directory(out_dir)
    check_xlsx(xlsx)
    # the report's chart of open items per interval reads the per-interval backlog: a few milliseconds to build
    per_interval = backlog_per is BacklogGrain.interval or (report and bool(deferred))
    tables = (*DEFAULT_TABLES, "backlog_intervals") if per_interval else DEFAULT_TABLES
    result = simulate(scenario, seed=seed, replications=replications, tables=tables)
    if out_dir is not None:
        try:
            result.save(out_dir)
        except OSError as exc:
            fail([cannot_write(exc, out_dir)])
    if report:
        # imported here: keeps the CLI's start fast (plotly)
        from bposim.report import run_report

        try:
            page = run_report(result, out_dir / "report.html")
        except OSError as exc:
            fail([cannot_write(exc, out_dir / "report.html")])
    if format is Format.json:
        print(json.dumps(jsonable(result.summary), indent=2))
    elif format is Format.csv:
        _summary_rows(result).to_csv(sys.stdout, index=False)
    else:
        _print_summary(result)
    if out_dir is not None and format is Format.table:
        out.print(f"Tables written to {out_dir}/ (every table as CSV and Parquet; summary.json)")
    if xlsx is not None:
        from bposim.workbooks import run_sheets

        costs = scenario.costs
        sheets = run_sheets(result, _summary_rows(result))
        console = err if format is not Format.table else out  # stdout holds the JSON or CSV summary alone
        write_xlsx(xlsx, sheets, costs.currency if costs is not None else None, console)
    if report:
        (err if format is not Format.table else out).print(f"Report: {page}", highlight=False)


def _check_backlog_per_interval(scenario: Scenario, file: Path, out_dir: Path | None) -> None:
    """--backlog-per interval needs deferred work to count and a directory to write the table in."""
    if all(call_type.live for call_type in scenario.call_types):
        channels = ", ".join(dict.fromkeys(call_type.channel for call_type in scenario.call_types))
        fail(
            [
                f"--backlog-per interval: {file} has no deferred work to count (its channels: {channels}); the "
                "backlog per interval is of email and case call types (call_types[].channel: email | case). "
                "Leave the option out or give --backlog-per day"
            ]
        )
    if out_dir is None:
        fail(["--backlog-per interval: give --out DIRECTORY too; the table is written there as backlog_intervals.csv"])


def _count(n: int, noun: str) -> str:
    """ "1 agent group", "3 agent groups"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tools(scenario: Scenario) -> str:
    """ "3 tools (2 of sites)": the scenario's tools and the sites' own (`sites[].tools`), counted together."""
    of_sites = sum(len(site.tools) for site in scenario.sites)
    counted = _count(len(scenario.tools) + of_sites, "tool")
    return f"{counted} ({of_sites} of sites)" if of_sites else counted


def validate(file: Annotated[Path, typer.Argument(help="scenario file (YAML)")]) -> None:
    """Check a scenario file and say what it describes, with the calls (or contacts, with chat, email or cases) a
    day it expects."""
    from bposim.workload import about

    scenario = load(file)
    work = within_limits(scenario, file)
    planned = sum(max(g.agents.per_interval_counts(scenario.horizon.intervals)) for g in scenario.agent_groups)
    rostered = sum(shift.agents for shift in scenario.roster)
    lines = len(scenario.roster)
    staff = ", ".join(
        ([f"up to {_count(planned, 'agent')} by plan"] if planned else [])
        + ([f"{_count(rostered, 'agent')} on {_count(lines, 'shift')}"] if rostered else [])
    ) or ("no agents yet: bposim staff schedules them" if scenario.scheduling is not None else "no agents")
    extras = [_tools(scenario)] if scenario.tools or any(site.tools for site in scenario.sites) else []
    if scenario.scheduling is not None:
        extras.append(f"{len(scenario.scheduling.shifts)} shift patterns to schedule")
    extras += [
        name
        for name, on in (
            ("self-service", scenario.technology.self_service),
            ("AI assist", scenario.technology.ai_assist),
            ("callbacks", scenario.technology.callbacks),
            ("transfers", any(call_type.transfers for call_type in scenario.call_types)),
            ("costs", scenario.costs),
        )
        if on
    ]
    if scenario.clients:
        extras.append(f"clients {', '.join(client.name for client in scenario.clients)}")
    if scenario.outbound:
        dialers = ", ".join(f"{campaign.name} ({campaign.dialer})" for campaign in scenario.outbound)
        extras.append(f"outbound {dialers}")
    channels = list(dict.fromkeys(ct.channel for ct in scenario.call_types))
    if channels != ["voice"]:
        extras.insert(0, f"channels {', '.join(channels)}")
    callers, attempts = about(work.per_day("callers")), about(work.calls_per_day)
    day = "a full day" if scenario.horizon.varies else "a day"  # the estimate is of a day open on the whole grid
    calls = f"about {callers} {'calls' if channels == ['voice'] else 'contacts'} {day}" + (
        f" (up to {attempts} attempts with retrials and callbacks"
        + (", legs with transfers)" if "transfers" in extras else ")")
        if attempts != callers
        else ""
    )
    if scenario.horizon.calendar:
        from bposim.calendar import description, weekday_volumes

        calls += f"; {description(scenario.horizon)}"

        volumes = [weekday_volumes(ct, scenario.horizon) for ct in scenario.call_types]
        calls += "".join(f"; {text}" for text in volumes if text)
    out.print(
        f"{file}: valid — '{scenario.name}': {_count(len(scenario.call_types), 'call type')}, "
        f"{_count(len(scenario.agent_groups), 'agent group')} ({staff}), {scenario.horizon.intervals} "
        f"intervals of {scenario.horizon.interval_minutes} min × {_count(scenario.horizon.days, 'day')}"
        + (f"; {', '.join(extras)}" if extras else "")
        + f"; {calls}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    _print_planning_load(scenario)
    from bposim.contract_views import residency_lines
    from bposim.scenario.site_shares import share_lines
    from bposim.site_views import opening_lines

    for line in [*opening_lines(scenario), *share_lines(scenario), *residency_lines(scenario)]:
        out.print(line, highlight=False, soft_wrap=True, markup=False)


def _print_planning_load(scenario: Scenario) -> None:
    """With transfers or resolution, the load planning counts per call type beyond its own arrivals: legs passed on
    to it and repeat contacts (`bposim.offered_load`), in mean calls an hour over the busiest day's open intervals."""
    from bposim.offered_load import has_journeys, load_lines, offered_load

    if not has_journeys(scenario):
        return
    from bposim.optimise.requirement.day_kinds import busiest_rates  # the optimiser loads slowly: only when needed

    own = [busiest_rates(ct.arrivals, scenario.horizon) for ct in scenario.call_types]
    lines = load_lines(scenario, offered_load(scenario, own))
    if lines:
        out.print(
            "Load planning counts (mean per hour over the open day; every leg answered, repeats at their steady "
            "state):",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
        for line in lines:
            out.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)


def schema() -> None:
    """Print the JSON schema of scenario files (for editors and linters)."""
    print(json.dumps(Scenario.model_json_schema(), indent=2))


def _summary_rows(result: Run) -> pd.DataFrame:
    """The summary as a table: one row for all calls, then one per call type; with channels beyond voice, per
    channel its call types then its own row ("all"), with a channel column and no row across channels."""
    # imported here: keeps the CLI's start fast
    import pandas as pd

    from bposim import channel_views

    summary = result.summary
    if not channel_views.several_channels(result):
        rows = [{"call_type": "all", **_flat(summary)}]
        rows += [{"call_type": name, **_flat(kpis)} for name, kpis in summary["by_call_type"].items()]
        return pd.DataFrame(rows)
    rows = []
    for channel in channel_views.channels(result):
        for name in channel_views.call_types_of(result, channel):
            rows.append({"call_type": name, "channel": channel, **_flat(summary["by_call_type"].get(name, {}))})
        if channel in summary.get("by_channel", {}):
            rows.append({"call_type": "all", "channel": channel, **_flat(summary["by_channel"][channel])})
    return pd.DataFrame(rows)


def _flat(kpis: dict) -> dict:
    """The KPIs a summary table keeps (live and deferred), with their CI half-widths."""
    # imported here: keeps the CLI's start fast (pandas)
    from bposim import metrics, resolution
    from bposim.channel_views import DEFERRED_KEYS

    kept = (*metrics.SUMMARY_KEYS, *DEFERRED_KEYS, *resolution.KPIS)
    return {key: value for key, value in kpis.items() if key.removesuffix("_ci") in kept}


def _print_summary(result: Run) -> None:
    from bposim import channel_views, period_views

    summary = result.summary
    pooled = result.replications > 1
    title = f"{summary['scenario']} — seed {result.seed}"
    if result.scenario is not None and result.scenario.horizon.calendar:
        from bposim.calendar import span

        title += f"; {span(result.scenario.horizon)}"
    title += f", mean of {result.replications} replications (± 95% CI)" if pooled else ""
    if channel_views.several_channels(result):
        _print_channels(result, title)
    else:
        _print_call_types(result, title)
    extras = [
        f"{summary[key]:,.0f} {label}"
        for key, label in (
            ("contained", "contained by the bot"),
            ("callback_requests", "callbacks requested"),
            ("callbacks_made", "callbacks made"),
        )
        if summary.get(key)
    ]
    if extras:
        out.print("Also: " + ", ".join(extras) + ".", highlight=False)
    _print_costs(result)
    if summary.get("sites"):
        from bposim.site_views import lines

        for line in lines(summary, result.scenario):
            out.print(line, highlight=False, soft_wrap=True, markup=False)
    _print_clients(result)
    if "journeys" in summary:
        _print_journeys(summary["journeys"])
    if period_views.by_period(summary):
        _print_periods(result)
    _print_exempt(result)
    _print_resolution(result)
    _print_campaigns(result)
    if len(result.outages) and not pooled:
        _print_outages(result)


def _print_costs(result: Run) -> None:
    """What the run cost, in total and by component, when the scenario has costs: means ± 95% CI with replications."""
    from bposim.costs import COMPONENTS

    summary = result.summary
    if "total_cost" not in summary:
        return
    pooled = result.replications > 1
    costs = result.scenario.costs if result.scenario is not None else None
    currency = f"{costs.currency}, " if costs is not None and costs.currency else ""
    days = result.scenario.horizon.days if result.scenario is not None else 1
    per = "per day" if days == 1 else f"per run of {days} days"
    mean = f"; mean of {result.replications} replications ± 95% CI" if pooled else ""
    parts = [
        f"{component.replace('_', ' ')} {_money(summary, f'cost_{component}', pooled)}"
        for component in COMPONENTS
        if summary.get(f"cost_{component}")
    ]
    per_contact = _money(summary, "cost_per_handled_contact", pooled, ",.2f")
    out.print(
        f"Cost ({currency}{per}{mean}): total {_money(summary, 'total_cost', pooled)}"
        + (f" — {', '.join(parts)}" if parts else "")
        + f"; {per_contact} per handled contact.",
        highlight=False,
        soft_wrap=True,
    )


def _print_clients(result: Run) -> None:
    """A table per client (revenue, credits, bonuses, cost, margin, and each service-level clause's chance of a
    credit), then the provider's figures, when the scenario has clients."""
    from bposim import contract_views

    if not contract_views.has_clients(result.summary):
        return
    pooled = result.replications > 1
    for title, rows in contract_views.client_tables(result.summary, pooled):
        view = Table(title=title, show_header=False)
        view.add_column("Figure")
        view.add_column("Value", justify="right")
        for label, value in rows:
            view.add_row(label, value)
        out.print(view)
    costs = result.scenario.costs if result.scenario is not None else None
    out.print(contract_views.explanation(costs.currency if costs is not None else ""), style="dim", highlight=False)


def _money(summary: dict, key: str, pooled: bool, spec: str = ",.0f") -> str:
    """An amount of the summary with its 95% half-width when replications are pooled, e.g. "15,971 ± 1,137"."""
    return amount(summary.get(key), summary.get(f"{key}_ci") if pooled else None, spec)


def _print_channels(result: Run, title: str) -> None:
    """A table of the live channels and one of deferred work, each row a call type or a channel's own figures;
    then which channel misses its target, and the agents' occupancy and chat sessions."""
    from bposim import channel_kpis, channel_views

    out.print(title, style="bold", highlight=False)
    for table in channel_kpis.channel_tables(result):
        view = Table(title=table.title)
        for i, label in enumerate(table.header):
            if i < table.numeric_from:  # names whole; the figures wrap at their ± instead
                view.add_column(label, no_wrap=True, min_width=max(len(row[i]) for row in [table.header, *table.rows]))
            else:
                view.add_column(label, justify="right")
        for row, meets in zip(table.rows, table.meets, strict=True):
            style = "bold" if row[0].startswith("all ") else ("red" if meets is False else None)
            view.add_row(*row, style=style)
        out.print(view)
    definition = result.summary["service_level_definition"].replace("_", " ")
    out.print(
        f"Live: service level = answered within the threshold / {definition}; ASA = mean wait of answered "
        "contacts. Deferred: done within due time = items due in the horizon completed by their due time / items "
        "due; backlog at end = items open at the last closing.",
        style="dim",
        highlight=False,
    )
    for line in channel_views.channel_verdicts(result):
        out.print(line, style="red" if " misses " in line else "green", highlight=False)
    out.print(channel_kpis.agents_line(result), highlight=False)


def _print_campaigns(result: Run) -> None:
    """The outbound campaigns' dials, results, nuisance rate and contacts per agent-hour (none without campaigns)."""
    from bposim import outbound_views

    table = outbound_views.campaign_rows(result)
    if table is None:
        return
    view = Table(title="Outbound campaigns")
    for i, label in enumerate(table.header):
        if i < 2:  # names whole
            view.add_column(label, no_wrap=True, min_width=max(len(row[i]) for row in [table.header, *table.rows]))
        else:
            view.add_column(label, justify="right")
    for row, within in zip(table.rows, table.within_cap, strict=True):
        view.add_row(*row, style="red" if within is False else None)
    out.print(view)
    out.print(outbound_views.explanation(result), style="dim", highlight=False)


def _print_call_types(result: Run, title: str) -> None:
    """The table of call types and all calls, as a voice-only centre's summary reads."""
    summary = result.summary
    pooled = result.replications > 1
    view = Table(title=title)
    columns = [
        ("offered", "Offered"),
        ("answered", "Answered"),
        ("abandoned", "Abandoned"),
        ("blocked", "Blocked"),
        ("service_level", "Service level"),
        ("asa_seconds", "ASA s"),
        ("abandon_rate", "Abandon %"),
        ("occupancy", "Occupancy"),
    ]
    if "balked" in summary:  # a scenario with balking or a maximum wait
        columns[4:4] = [("balked", "Balked"), ("messages", "Messages")]
        columns.insert(columns.index(("abandon_rate", "Abandon %")) + 1, ("balk_rate", "Balk %"))
    view.add_column("Call type")
    for _, label in columns:
        view.add_column(label, justify="right")
    rows = [(name, kpis) for name, kpis in summary["by_call_type"].items()]
    if len(rows) > 1:
        rows.append(("all", summary))
    for name, kpis in rows:
        view.add_row(name, *[_kpi(kpis, key, pooled) for key, _ in columns], style="bold" if name == "all" else None)
    out.print(view)
    definition = summary["service_level_definition"].replace("_", " ")
    out.print(
        f"Service level = answered within threshold / {definition}; ASA = mean wait of answered calls.",
        style="dim",
        highlight=False,
    )


def _print_journeys(journeys: dict) -> None:
    """Transfers per call type and per group, and the journeys in a sentence (scenarios with transfers)."""
    from bposim import journey_views

    for table in journey_views.transfer_tables(journeys):
        view = Table(title=table.title)
        for i, label in enumerate(table.header):
            view.add_column(label, justify="left" if i < table.numeric_from else "right")
        for row in table.rows:
            view.add_row(*row, style="bold" if row[0] == "all" else None)
        out.print(view)
    out.print(journey_views.journey_sentence(journeys), highlight=False)


def _print_periods(result: Run) -> None:
    """Each call type's service level over the periods its target is measured over, with P(met)."""
    from bposim import period_views

    view = Table(title="Service level by period")
    for label in ("Call type", "Period", "Service level", "Target", "P(met) (95% interval)"):
        view.add_column(label, justify="left" if label in ("Call type", "Period") else "right")
    for row in period_views.period_rows(result.summary):
        style = "red" if row.meets is False else ("bold" if row.period.startswith("all ") else None)
        view.add_row(row.call_type, row.period, row.service_level, row.goal, row.p_met, style=style)
    out.print(view)
    for line in period_views.sentences(result.summary, result.replications):
        out.print(line, highlight=False)


def _print_exempt(result: Run) -> None:
    """The maintenance windows exempt from the service-level objective, and the service level without the intervals
    they overlap beside the whole one."""
    from bposim.formatting import hours_minutes

    key = "service_level_excluding_exempt"
    if key not in result.summary or result.scenario is None:
        return
    windows = [
        f"{tool.name} {window.start}-{hours_minutes(window.start_seconds + window.minutes * 60)}"
        for tool in result.scenario.outage_tools
        for window in tool.maintenance
        if window.exempt
    ]
    levels = [
        f"{name} {share(kpis[key])} (whole: {share(kpis['service_level'])})"
        for name, kpis in result.summary.get("by_call_type", {}).items()
        if key in kpis
    ]
    out.print(
        f"Exempt maintenance, every day (outside the service-level objective): {', '.join(windows)}; service level "
        f"without those intervals: {', '.join(levels)}.",
        highlight=False,
    )


def _print_resolution(result: Run) -> None:
    """First-contact resolution and repeat contacts, per call type with `resolution`."""
    from bposim import resolution_views

    if not resolution_views.has_resolution(result.summary):
        return
    header, rows = resolution_views.resolution_table(result.summary)
    view = Table(title="First-contact resolution")
    for i, label in enumerate(header):
        view.add_column(label, justify="left" if i == 0 else "right")
    for row in rows:
        view.add_row(*row, style="bold" if row[0] == "all" else None)
    out.print(view)
    out.print(resolution_views.explanation(result.summary), style="dim", highlight=False)


def _print_outages(result: Run) -> None:
    """The tool outages of the run and what they did to the calls arriving during and after them."""
    view = Table(title="Tool outages")
    for label in ("Tool", "Kind", "From", "To", "Effects", "Offered", "SL during", "SL after"):
        view.add_column(label, justify="left" if label in ("Tool", "Kind", "Effects") else "right")
    horizon = result.scenario.horizon
    opening, dates = horizon.start_seconds, horizon.dates() if horizon.calendar else None
    for row in result.outages.itertuples(index=False):
        view.add_row(
            str(row.tool),
            str(row.kind),
            dated_clock(opening + row.start, dates),
            dated_clock(opening + row.end, dates),
            row.effects,
            f"{row.offered_during:,}",
            share(row.service_level_during, digits=0),
            share(row.service_level_after, digits=0),
        )
    out.print(view)


def _kpi(kpis: dict, key: str, pooled: bool) -> str:
    """One cell of the summary: a share, seconds or a count, with the 95% CI half-width when replications are
    pooled; "—" when there is no value."""
    value, half = kpis[key], kpis.get(f"{key}_ci") if pooled else None
    if key in SHARES:
        return share(value, half)
    if key.endswith("seconds"):
        return amount(value, half, ".1f")
    return amount(value, half, ",.0f")  # counts whole, their half-widths too
