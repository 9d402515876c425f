"""An optimised roster's report: its shifts, the service level it reached on days the search never saw, where it
falls short, the requirement by channel, and the requirement against the agents scheduled. A weekly roster's
report has the named agents' week grid (agents × dates, each shift coloured by its start time) instead of the
shifts."""

from __future__ import annotations

import colorsys
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from bposim.formatting import estimate, points, share
from bposim.report.html import Section, html_table, write_page

if TYPE_CHECKING:
    import pandas as pd

    from bposim.optimise import RosterPlan, WeeklyPlan

GRID_STYLE = (
    "<style>.weekgrid td,.weekgrid th{padding:2px 4px;font-size:11px;white-space:nowrap;text-align:center}"
    ".weekgrid td.off{color:#999;background:#f3f3f3}.weekgrid td.closed{background:#ddd;color:#aaa}"
    ".weekgrid th.weekend{background:#eef}.weekgrid td.name{text-align:left}</style>"
)


def roster_report(plan: RosterPlan, path: str | Path, comparison: pd.DataFrame | None = None) -> Path:
    """Write the report of an optimised roster (`bposim.optimise.RosterPlan`): shifts, service level, chart; the
    service level per period under the period objective, and the objectives compared (`comparison`:
    `optimise.roster.objectives.objective_table`) when given."""
    from bposim.optimise.charts import requirement_vs_scheduled
    from bposim.report.objectives import objective_sections

    schedule = plan.schedule
    rows = schedule.shift_rows()
    shifts = html_table(list(schedule.SHIFT_COLUMNS), rows, None, numeric_from=5)
    levels = [
        [row.call_type, f"{row.offered:,.0f}", share(row.service_level, row.service_level_ci), f"{row.target:.0%}"]
        for row in plan.by_call_type.itertuples(index=False)
    ]
    met = plan.by_call_type["met"].astype(bool).tolist()
    cost = estimate(plan.cost, plan.cost_ci, ",.2f")
    if plan.verified:
        verdict = (
            f"{plan.targets} met its target, on the search days in round {plan.rounds} of the loop and on the "
            "fresh days"
        )
    elif plan.converged:
        verdict = f"The search days met every target in round {plan.rounds} of the loop, but the fresh days did not"
    else:
        rounds = f"{plan.rounds} round{'' if plan.rounds == 1 else 's'}"
        verdict = f"After {rounds} of the loop, not every interval meets its target"
    sections = [
        Section(
            "Roster",
            f"The cheapest set of the scenario's shift patterns covering the requirement: "
            f"{sum(schedule.agents)} agents, {schedule.paid_hours:g} paid hours, shifts {schedule.cost:,.2f} "
            f"{schedule.cost_unit}. {verdict}; {plan.simulations:,} simulated days.",
            table=shifts,
            note="" if plan.verified else _shortfall_note(plan),
        ),
        Section(
            "Service level on fresh days",
            f"Requirement by {plan.requirement.method.replace('_', ' ')}; the roster verified on days the search "
            f"never saw (seed {plan.verification_seed}), means ± 95% confidence half-widths. Cost {cost} "
            f"{plan.cost_unit} per day.{_deferred_note(plan)}{_exempt_note(plan)}",
            table=html_table(["Call type", "Offered / day", "Service level", "Target"], levels, met, 1),
        ),
        *objective_sections(plan, comparison),
        *_fresh_misses_section(plan),
        *_channel_section(plan),
        Section(
            "Required and scheduled agents",
            "Per group and interval: the requirement (dashed) and the "
            "requirement as the loop left it (solid: raised where the simulated roster missed, lowered where a "
            "trim held), against the agents scheduled on the phones and logged in; below, the service level "
            "each interval achieved.",
            figure=requirement_vs_scheduled(plan),
        ),
    ]
    return write_page(path, f"{plan.scenario.name}: optimised roster", sections)


def _kinds(plan: WeeklyPlan) -> str:
    """The kinds of day and their dates, e.g. "mon-fri (10 dates), sat (2 dates)"."""
    from bposim.optimise.requirement.day_kinds import kinds_text

    return kinds_text(list(plan.kinds))


def _exempt_note(plan: RosterPlan | WeeklyPlan) -> str:
    """The exempt maintenance intervals the objective leaves out, when there are any; "" otherwise."""
    from bposim.optimise.roster.evaluation import exempt_text

    text = exempt_text(plan.achieved)
    return f" {text}: outside the service-level objective, never raised nor counted as a miss." if text else ""


def _deferred_note(plan: RosterPlan) -> str:
    """What the service level of email and case work is, when the plan has any; "" otherwise."""
    deferred = plan.by_call_type[~plan.by_call_type["channel"].isin(("voice", "chat"))]
    if deferred.empty:
        return ""
    names = ", ".join(deferred["call_type"])
    return (
        f" {names}: the share of the items due done by their due time over the days of each fresh run, pooled "
        "over the runs (Offered / day: items arrived a day)."
    )


def _channel_section(plan: RosterPlan) -> list[Section]:
    """The requirement by channel, a table and a stacked chart, when the scenario has several channels."""
    from bposim.optimise.charts import requirement_by_channel

    hours = plan.requirement.channel_hours()
    if hours.empty:
        return []
    rows = [
        [row.channel, f"{row.agent_hours:,.1f}", share(row.share, digits=0), f"{row.peak:.1f}", row.peak_start]
        for row in hours.itertuples(index=False)
    ]
    drivers = ", ".join(
        f"{row.channel} drives {share(row.share, digits=0)}"
        for row in hours.itertuples(index=False)
        if row.channel != "voice"
    )
    return [
        Section(
            "Requirement by channel",
            "The agents each channel's work takes: each group's requirement in each interval split by its channels' "
            "share of its load (live work in the Erlang start, email and case work as the deferred start does it), "
            f"summed over groups; {drivers} of the agent-hours.",
            table=html_table(["Channel", "Agent-hours / day", "Share", "Peak agents", "At"], rows, None, 1, 4),
            figure=requirement_by_channel(plan),
        )
    ]


def _shortfall_note(plan: RosterPlan) -> str:
    """The warning at the top of a roster report whose roster misses a target somewhere."""
    parts = []
    if not plan.converged:
        parts.append(f"Not every interval meets its target on the search days: {plan.shortfall}.")
    if plan.fresh_shortfall:
        parts.append(f"Not every interval meets its target on the fresh days: {plan.fresh_shortfall}.")
    return " ".join(parts)


def _fresh_misses_section(plan: RosterPlan) -> list[Section]:
    """A section listing each call type and interval clearly below target on the fresh days, by how much."""
    missed = plan.fresh_misses
    if missed.empty:
        return []
    rows = [
        [
            row.call_type,
            row.interval_start,
            share(row.service_level, row.service_level_ci),
            f"{row.target:.0%}",
            points(row.gap),
        ]
        for row in missed.itertuples(index=False)
    ]
    return [
        Section(
            "Below target on the fresh days",
            f"The call types and intervals clearly below target on the fresh days (the whole 95% confidence "
            f"interval below it; with one day, the day's value): {len(missed)}, the furthest below first.",
            table=html_table(
                ["Call type", "Interval", "Service level", "Target", "Points short"], rows, [False] * len(rows), 2
            ),
        )
    ]


def weekly_roster_report(plan: WeeklyPlan, path: str | Path, comparison: pd.DataFrame | None = None) -> Path:
    """Write the report of a weekly roster (`bposim.optimise.WeeklyPlan`): contracts, the week grid of the named
    agents, the service level on fresh days; the service level per period and the objectives compared as in
    `roster_report`."""
    from bposim.report.objectives import objective_sections

    tours = plan.tours
    weeks = plan.weeks
    contracts = [[name, str(agents)] for name, agents in tours.headcount.items()]
    levels = [
        [row.call_type, f"{row.offered:,.0f}", share(row.service_level, row.service_level_ci), f"{row.target:.0%}"]
        for row in plan.by_call_type.itertuples(index=False)
    ]
    met = plan.by_call_type["met"].astype(bool).tolist()
    rounds = f"{plan.rounds} round{'' if plan.rounds == 1 else 's'}"
    held = "Every call type over its period (and every interval above its floor)"
    verdict = (
        f"{held if plan.objective == 'period' else 'Every interval'} met its target on the search days and on the "
        "fresh days"
        if plan.verified
        else "Not every target held"
        if plan.objective == "period"
        else "Not every interval met its target"
    )
    solver = "proven cheapest" if tours.optimal else f"within {tours.gap:.2%} of the cheapest"
    starts = plan.starts_per_day()
    sections = [
        Section(
            "Weekly roster",
            f"The cheapest agents' weeks under the scenario's contracts covering the requirement on every date: "
            f"{len(tours.agents)} agents, {tours.paid_hours / weeks:,.1f} paid hours and shifts "
            f"{plan.cost_per_week:,.2f} {plan.cost_unit} a week ({solver}). {verdict}; {rounds} of the loop, "
            f"{plan.simulations:,} simulated days.",
            table=html_table(["Contract", "Agents"], contracts, None, 1),
            note="" if plan.verified else " ".join(part for part in (plan.shortfall, plan.fresh_shortfall) if part),
        ),
        Section(
            "Week grid",
            "Each agent's shift on each date (log-in to log-out), coloured by its start time; off days grey, closed "
            f"dates darker. At most {int(starts['starts'].max()) if len(starts) else 0} distinct start times on a "
            "date.",
            table=week_grid(plan),
        ),
        Section(
            "Service level on fresh days",
            f"Requirement by {plan.requirement.method.replace('_', ' ')} for each kind of day (the same hours and "
            f"arrivals: {_kinds(plan)}), each date taking its kind's on its open hours; the roster judged per kind "
            f"of day and verified on runs of the horizon the search never saw (seed {plan.verification_seed}), "
            f"means ± 95% confidence half-widths.{_exempt_note(plan)}",
            table=html_table(["Call type", "Offered / day", "Service level", "Target"], levels, met, 1),
        ),
        *objective_sections(plan, comparison),
    ]
    return write_page(path, f"{plan.scenario.name}: weekly roster", sections)


def week_grid(plan: WeeklyPlan) -> str:
    """The named schedule as an HTML table: agents down, dates across, each shift coloured by its start time."""
    tours = plan.tours
    problem = tours.problem
    dates = plan.scenario.horizon.dates()
    starts = sorted({problem.shifts[s].start for agent in tours.agents for s in agent.shifts if s is not None})
    colours = {start: _colour(n, len(starts)) for n, start in enumerate(starts)}
    head = "<th>Agent</th><th>Contract</th>" + "".join(
        f'<th class="{"weekend" if date.weekday() >= 5 else ""}">{date:%a}<br>{date.day} {date:%b}</th>'
        for date in dates
    )
    rows = []
    for agent in tours.agents:
        cells = [
            f'<td class="name">{escape(agent.name)}</td>',
            f"<td>{escape(problem.contracts[agent.contract].name)}</td>",
        ]
        for d, s in enumerate(agent.shifts):
            if not problem.days[d].open:
                cells.append('<td class="closed">closed</td>')
            elif s is None:
                cells.append('<td class="off">off</td>')
            else:
                shift = problem.shifts[s]
                cells.append(f'<td style="background:{colours[shift.start]}">{escape(tours.hours(agent, d))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'{GRID_STYLE}<table class="weekgrid"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _colour(n: int, count: int) -> str:
    """A light colour for the n-th of `count` start times, early starts blue through late ones red."""
    hue = 0.6 * (1 - n / max(count - 1, 1))
    red, green, blue = colorsys.hls_to_rgb(hue, 0.8, 0.7)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"
