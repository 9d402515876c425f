"""The sites shown to a planner: each site's local opening hours (`bposim validate`), its KPIs (the run printout
and report) and its agents and occupancy through the day on its own clock (the run report)."""

from __future__ import annotations

import math

import pandas as pd

from bposim.run import Run
from bposim.scenario import Scenario
from bposim.scenario.common import clock_seconds
from bposim.scenario.sites import local_clock, scenario_time_zone, site_groups

KPI_HEADER = ["Site", "Time zone", "Agents", "Paid hours", "Cost", "Occupancy", "Calls handled", "AHT (s)"]


def opening_lines(scenario: Scenario) -> list[str]:
    """One line per site: its groups, time zone, the horizon's grid on its local clock, holidays and outages."""
    if not scenario.sites:
        return []
    horizon = scenario.horizon
    zone = scenario_time_zone(scenario)
    opens, closes = horizon.start_seconds, horizon.start_seconds + horizon.open_seconds
    lines = [f"Sites (the horizon's clock: {zone or 'no time zone'}):"]
    for site in scenario.sites:
        groups = ", ".join(site_groups(scenario, site.name)) or "no agent group"
        local = f"{local_clock(scenario, site, opens)}-{local_clock(scenario, site, closes)}"
        parts = [f"  {site.name} ({site.time_zone or 'no time zone'}): {groups}; open {local} local"]
        if site.wage_per_hour is not None:
            parts.append(f"wage {site.wage_per_hour:g}/h")
        if site.holidays:
            parts.append(f"holidays {', '.join(str(date) for date in site.holidays)}")
        for outage in site.outages:
            if outage.failures is not None:
                parts.append(f"{outage.name} outages at random")
            else:
                when = str(outage.date) if outage.date else "every day"
                start = local_clock(scenario, site, float(clock_seconds(outage.start)), outage.date)
                parts.append(f"{outage.name} outage {when} {outage.start} ({start} local), {outage.minutes:g} min")
        lines.append("; ".join(parts))
    return lines


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
                "-" if math.isnan(kpis["cost"]) else f"{kpis['cost']:,.2f}",
                "-" if math.isnan(kpis["occupancy"]) else f"{kpis['occupancy']:.1%}",
                f"{kpis['calls_handled']:g}",
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
        table[f"{site.name} local"] = [local_clock(scenario, site, t) for t in seconds]
        table[f"{site.name} on phone"] = (sums["on_phone"] / days).to_numpy()
        table[f"{site.name} occupancy"] = (sums["busy"] / sums["on_phone"].where(sums["on_phone"] > 0)).to_numpy()
    return table


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
