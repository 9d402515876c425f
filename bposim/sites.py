"""KPIs per site (`scenario.sites`), from a run's agents, calls and costs tables (`site_views` shows them).

`site_results` is the run's `sites` table: one row per replication and site (the agents and costs tables a run
has are per replication, not per day, so a day's paid hours and cost are not known apart). `site_table` pools the
replications into one row per site, the summary's `sites`.

Definitions (after the warm-up, like every KPI; pooled over several replications, counts, hours and costs are means
per replication, occupancy and AHT pooled over them):

- agents: agents of the site's groups logged in at some time; paid_hours: their logged-in hours less unpaid
  breaks; cost: the cost table's agents and overtime amounts of the site's groups and its own tools' technology
  amounts (`costs.technology[].site`; NaN without costs);
- occupancy: busy seconds / (logged-in − off-phone seconds) of the site's agents, as the agents table's;
- calls_handled: the calls the site's agents answered; aht_seconds: their mean handle time (talk + wrap-up).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim.scenario import Scenario
from bposim.scenario.sites import site_groups

CELL_KPIS = ("cost", "occupancy", "paid_hours", "calls_handled")  # a sweep's results columns site.<name>.<kpi>
SITE_COLUMNS = (
    "site",
    "time_zone",
    "groups",
    "agents",
    "paid_hours",
    "cost",
    "occupancy",
    "calls_handled",
    "aht_seconds",
)


def site_table(
    scenario: Scenario, agents: pd.DataFrame, calls: pd.DataFrame, costs: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per site (SITE_COLUMNS), in the scenario's order."""
    replications = int(agents["replication"].nunique()) if "replication" in agents else 1
    replications = max(replications, 1)
    group_of_agent = agents["group"].astype(str).to_numpy()
    answered = calls[(calls["outcome"] == "answered") & ~calls["warmup"].to_numpy(dtype=bool)]
    handled_group = answered["group"].astype(str)
    handled_seconds = answered["handle_seconds"] + answered["wrap_seconds"].fillna(0.0)
    rows = []
    for site in scenario.sites:
        groups = site_groups(scenario, site.name)
        own = np.isin(group_of_agent, groups)
        mine = agents[own]
        logged_in = mine["logged_in_seconds"].to_numpy()
        available = float(logged_in.sum() - mine["off_phone_seconds"].sum())
        paid = float((logged_in - mine["unpaid_seconds"].to_numpy()).sum())
        by_site = handled_group.isin(groups).to_numpy(dtype=bool)
        handled = int(by_site.sum())
        cost = math.nan
        if costs is not None and not costs.empty:
            paid_rows = costs["component"].isin(("agents", "overtime")) & costs["item"].isin(groups)
            paid_rows |= (costs["component"] == "technology") & (costs["site"] == site.name)
            if paid_rows.any():  # a site none of whose groups is priced has no cost
                cost = float(costs.loc[paid_rows, "amount"].sum()) / replications
        rows.append(
            (
                site.name,
                site.time_zone or "",
                ", ".join(groups),
                int((logged_in > 0).sum()) / replications,
                paid / 3600.0 / replications,
                cost,
                float(mine["busy_seconds"].sum()) / available if available else math.nan,
                handled / replications,
                float(handled_seconds[by_site].mean()) if handled else math.nan,
            )
        )
    return pd.DataFrame(rows, columns=list(SITE_COLUMNS))


def site_results(
    scenario: Scenario, agents: pd.DataFrame, calls: pd.DataFrame, costs: pd.DataFrame | None
) -> pd.DataFrame:
    """The run's `sites` table: SITE_COLUMNS per site, a row per replication and site (with a `replication` column
    when there are several), in the scenario's order; no rows without sites."""
    if not scenario.sites or "replication" not in agents:
        return site_table(scenario, agents, calls, costs) if scenario.sites else empty_table(1)
    parts = []
    for replication in np.unique(agents["replication"].to_numpy()):
        own = costs[costs["replication"] == replication] if costs is not None and "replication" in costs else costs
        part = site_table(
            scenario,
            agents[agents["replication"] == replication],
            calls[calls["replication"] == replication],
            own,
        )
        parts.append(part.assign(replication=replication))
    return pd.concat(parts, ignore_index=True)


def empty_table(replications: int) -> pd.DataFrame:
    """The sites table of a scenario without sites: no rows, its columns (and replication with several)."""
    text = ("site", "time_zone", "groups")
    columns = {name: pd.Series(dtype=object if name in text else float) for name in SITE_COLUMNS}
    if replications > 1:
        columns["replication"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(columns)


def site_summary(scenario: Scenario, tables: dict[str, pd.DataFrame], costs: pd.DataFrame | None) -> dict[str, dict]:
    """The summary's `sites`: site name → its KPIs (the site table's columns but the name)."""
    table = site_table(scenario, tables["agents"], tables["calls"], costs)
    return {row.pop("site"): row for row in table.to_dict("records")}
