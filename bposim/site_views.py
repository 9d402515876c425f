"""The sites shown to a planner: each site's local opening hours (`bposim validate`), its KPIs (the run printout
and report) and its agents and occupancy through the day on its own clock (the run report). A local time is read
date by date: where daylight saving moves it within the horizon, both sides are shown with the dates they hold."""

from __future__ import annotations

import datetime
import math

import pandas as pd

from bposim.run import Run
from bposim.scenario import Scenario
from bposim.scenario.common import clock_seconds
from bposim.scenario.site_clock import (
    by_date,
    hhmm,
    horizon_seconds,
    local_clock,
    scenario_time_zone,
    spans_text,
)
from bposim.scenario.site_hours import horizon_hours_text
from bposim.scenario.sites import Site, SiteOutage, site_groups

KPI_HEADER = ["Site", "Time zone", "Agents", "Paid hours", "Cost", "Occupancy", "Calls handled", "AHT (s)"]


def opening_lines(scenario: Scenario) -> list[str]:
    """One line per site: its groups, time zone, the horizon's grid on its local clock, its own hours, holidays and
    outages."""
    if not scenario.sites:
        return []
    horizon = scenario.horizon
    zone = scenario_time_zone(scenario)
    opens, closes = horizon.start_seconds, horizon.start_seconds + horizon.open_seconds
    lines = [f"Sites (the horizon's clock: {zone or 'no time zone'}):"]
    for site in scenario.sites:
        groups = ", ".join(site_groups(scenario, site.name)) or "no agent group"
        hours = by_date(
            horizon,
            lambda date, site=site: (
                f"{local_clock(scenario, site, opens, date)}-{local_clock(scenario, site, closes, date)}"
            ),
        )
        parts = [f"  {site.name} ({site.time_zone or 'no time zone'}): {groups}; open {spans_text(hours, ' local')}"]
        if site.hours is not None:
            parts.append(_hours_text(scenario, site))
        if site.wage_per_hour is not None:
            parts.append(f"wage {site.wage_per_hour:g}/h")
        if site.holidays:
            parts.append(f"holidays {', '.join(str(date) for date in site.holidays)}")
        parts += [_outage_text(scenario, site, outage) for outage in site.outages]
        parts += [f"own tool {tool.name} (runs as {site.name}/{tool.name})" for tool in site.tools]
        lines.append("; ".join(parts))
    return lines


def _hours_text(scenario: Scenario, site: Site) -> str:
    """A site's own hours for `bposim validate`: on its local clock, then on the horizon's (date by date)."""
    first = scenario.horizon.start_date
    spans = by_date(
        scenario.horizon,
        lambda date: horizon_hours_text(scenario, site, (date - first).days if date is not None else 0),
    )
    return f"site hours {site.hours.open}-{site.hours.close} local ({spans_text(spans, ' horizon')})"


def _outage_text(scenario: Scenario, site: Site, outage: SiteOutage) -> str:
    """A site outage for `bposim validate`: when, on the clock it is given on and on the other (date by date)."""
    if outage.failures is not None:
        return f"{outage.name} outages at random"
    if outage.local:  # given on the site's clock: the horizon's time can move with daylight saving
        other, side = (lambda date: _horizon_clock(scenario, site, date, outage.start)), " horizon"
    else:
        seconds = float(clock_seconds(outage.start))
        other, side = (lambda date: local_clock(scenario, site, seconds, date)), " local"
    spans = [(outage.date, other(outage.date))] if outage.date else by_date(scenario.horizon, other)
    given = f"{outage.start} local" if outage.local else outage.start
    when = str(outage.date) if outage.date else "every day"
    return f"{outage.name} outage {when} {given} ({spans_text(spans, side)}), {outage.minutes:g} min"


def _horizon_clock(scenario: Scenario, site: Site, date: datetime.date | None, clock: str) -> str:
    """A site's local time on a date as the horizon's clock time (HH:MM, +1d/-1d when the day differs)."""
    if date is None:
        return clock
    seconds = horizon_seconds(scenario, site, date, clock) + scenario.horizon.start_seconds
    day = int(seconds // 86_400) - (date - scenario.horizon.start_date).days
    rest = seconds - (seconds // 86_400) * 86_400
    return hhmm(rest) + (f" {day:+d}d" if day else "")


def kpi_rows(summary: dict) -> list[list[str]]:
    """The sites' KPIs as table cells, a row per site (KPI_HEADER)."""
    rows = []
    for name, kpis in summary.get("sites", {}).items():
        rows.append(
            [
                name,
                kpis["time_zone"] or "-",
                f"{kpis['agents']:g}",
                f"{kpis['paid_hours']:,.1f}",
                "-" if math.isnan(kpis["cost"]) else f"{kpis['cost']:,.0f}",
                "-" if math.isnan(kpis["occupancy"]) else f"{kpis['occupancy']:.1%}",
                f"{kpis['calls_handled']:,.0f}",
                "-" if math.isnan(kpis["aht_seconds"]) else f"{kpis['aht_seconds']:.0f}",
            ]
        )
    return rows


def profile(run: Run) -> pd.DataFrame:
    """Per interval of the day (mean over days and replications), each site's agents on the phones and their
    occupancy, with the interval's start on the horizon's clock and on each site's."""
    scenario = run.scenario
    staffing = run.staffing
    table = pd.DataFrame({"interval_start": sorted(staffing["interval_start"].unique())})
    group = staffing["group"].astype(str)
    days = max(1, staffing.groupby(["day", *(["replication"] if "replication" in staffing else [])]).ngroups)
    horizon = scenario.horizon
    for site in scenario.sites:
        mine = staffing[group.isin(site_groups(scenario, site.name))]
        sums = mine.groupby("interval_start")[["on_phone", "busy"]].sum()
        sums = sums.reindex(table["interval_start"]).fillna(0.0)
        sums[sums["on_phone"] <= 1e-6] = 0.0  # no one on the phones: float dust gone
        seconds = [horizon.start_seconds + i * horizon.interval_seconds for i in range(len(table))]
        table[f"{site.name} local"] = [_local_label(scenario, site, t) for t in seconds]
        table[f"{site.name} on phone"] = (sums["on_phone"] / days).to_numpy()
        table[f"{site.name} occupancy"] = (sums["busy"] / sums["on_phone"].where(sums["on_phone"] > 0)).to_numpy()
    return table


def _local_label(scenario: Scenario, site: Site, seconds_of_day: float) -> str:
    """An interval's start on the site's clock: one time, or each time with the first date it holds from when
    daylight saving moves it within the horizon ("01:00, 02:00 from 2027-03-28")."""
    spans = by_date(scenario.horizon, lambda date: local_clock(scenario, site, seconds_of_day, date))
    return ", ".join(text if i == 0 else f"{text} from {first}" for i, (first, text) in enumerate(spans))


def lines(summary: dict, scenario: Scenario) -> list[str]:
    """The printout's lines for the sites: agents, paid hours, cost, occupancy, calls handled and AHT of each."""
    if not summary.get("sites"):
        return []
    zone = scenario_time_zone(scenario) if scenario is not None else None
    per = ", means per replication" if summary.get("replications", 1) > 1 else ""
    out = [f"Sites (clock: {zone or 'no time zone'}{per}):"]
    for row in kpi_rows(summary):
        name, zone_name, agents, hours, cost, occupancy, handled, aht = row
        priced = "" if cost == "-" else f", cost {cost}"
        out.append(
            f"  {name} ({zone_name}): {agents} agents, {hours} paid hours{priced}, occupancy {occupancy}, "
            f"{handled} calls handled, AHT {aht} s"
        )
    return out
