"""Checks of what a site owns against the centre, for Scenario's validator: outages on the site's own clock, the
site's own tools, and the one site label of a cost line (`costs.groups[].site`, `costs.technology[].site`).

A scenario with `sites:` has one meaning of "site": the group's `agent_groups[].site`. A cost line's `site` then
may only repeat it (left out, the group's site is taken); a scenario without `sites:` keeps `costs.groups[].site`
as the free label it always was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bposim.scenario.common import SECONDS_PER_DAY, clock_seconds
from bposim.scenario.errors import listed
from bposim.scenario.site_clock import horizon_dates, horizon_seconds, scenario_time_zone
from bposim.scenario.sites import Site, site_groups

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario

Problem = tuple[tuple[str | int, ...], str, Any]
SITE_EFFECTS = ("down", "slow")  # what a site's own tool may do: act on the site's agents


def site_check_errors(scenario: Scenario) -> Iterator[Problem]:
    """Every problem of the sites' local outages, own tools and cost labels."""
    for s, site in enumerate(scenario.sites):
        yield from _local_outage_errors(scenario, s, site)
        yield from _tool_errors(scenario, s, site)
    if scenario.costs is not None:
        yield from _cost_site_errors(scenario)


def _local_outage_errors(scenario: Scenario, s: int, site: Site) -> Iterator[Problem]:
    horizon = scenario.horizon
    for o, outage in enumerate(site.outages):
        if not outage.local:
            continue
        loc = ("sites", s, "outages", o, "local")
        if horizon.start_date is None:
            yield loc, "a start on the site's clock needs dates: give horizon.start_date (YYYY-MM-DD)", True
        elif site.time_zone is None or scenario_time_zone(scenario) is None:
            yield loc, f"a start on the site's clock needs sites[{s}].time_zone (an IANA name)", True
        else:
            last_close = (horizon.days - 1) * SECONDS_PER_DAY + horizon.open_seconds
            for date in [outage.date] if outage.date is not None else horizon_dates(horizon):
                start = horizon_seconds(scenario, site, date, outage.start)
                if not 0 <= start < last_close:
                    message = (
                        f"{outage.start} local on {date} is outside the horizon's hours on its clock "
                        f"({scenario_time_zone(scenario)}); give a time inside them or a date further in"
                    )
                    yield ("sites", s, "outages", o, "start"), message, outage.start
                    break


def _tool_errors(scenario: Scenario, s: int, site: Site) -> Iterator[Problem]:
    groups = site_groups(scenario, site.name)
    if site.tools and not groups:
        message = f"site '{site.name}' has tools but no agent group works there (agent_groups[].site)"
        yield ("sites", s, "tools"), message, site.name
    taken = {tool.name for tool in scenario.tools} | {f"{site.name}/{outage.name}" for outage in site.outages}
    types = [call_type.name for call_type in scenario.call_types]
    seen: set[str] = set()
    for t, tool in enumerate(site.tools):
        loc = ("sites", s, "tools", t)
        full = f"{site.name}/{tool.name}"
        if full in taken:
            yield (*loc, "name"), f"'{full}' is the name of a tool or of the site's outage already", tool.name
        if tool.name in seen:
            yield (*loc, "name"), f"site '{site.name}' has two tools named '{tool.name}'", tool.name
        seen.add(tool.name)
        for e, effect in enumerate(tool.effects):
            if effect.type not in SITE_EFFECTS:
                message = (
                    f"a site's tool acts on the site's agents ({listed(SITE_EFFECTS)}); {effect.type} acts on call "
                    "types of the whole centre: put that tool under tools:"
                )
                yield (*loc, "effects", e, "type"), message, effect.type
            for n, name in enumerate(effect.groups or []):
                if name not in groups:
                    message = f"agent group '{name}' does not work at site '{site.name}'; its groups: {listed(groups)}"
                    yield (*loc, "effects", e, "groups", n), message, name
            for n, name in enumerate(effect.call_types or []):
                if name not in types:
                    message = f"unknown call type '{name}'; known: {listed(types)}"
                    yield (*loc, "effects", e, "call_types", n), message, name
        for m, window in enumerate(tool.maintenance):
            if clock_seconds(window.start) < scenario.horizon.start_seconds:
                message = f"{window.start} is before the centre opens at {scenario.horizon.start}"
                yield (*loc, "maintenance", m, "start"), message, window.start


def _cost_site_errors(scenario: Scenario) -> Iterator[Problem]:
    costs = scenario.costs
    names = [site.name for site in scenario.sites]
    site_of = {group.name: group.site for group in scenario.agent_groups}
    if scenario.sites:
        for i, entry in enumerate(costs.groups):
            if not entry.site or entry.group not in site_of or entry.site == site_of[entry.group]:
                continue
            own = site_of[entry.group]
            allowed = f"'{own}' (agent_groups[].site)" if own else "nothing: the group works at no site"
            message = (
                f"site '{entry.site}' contradicts where agent group '{entry.group}' works; with sites: a cost line "
                f"takes the group's site: leave site out, or write {allowed}"
            )
            yield ("costs", "groups", i, "site"), message, entry.site
    for t, tool in enumerate(costs.technology):
        if tool.site is None:
            continue
        loc = ("costs", "technology", t, "site")
        if tool.site not in names:
            known = f"known: {listed(names)}" if names else "no sites are defined (add them under sites:)"
            yield loc, f"unknown site '{tool.site}'; {known}", tool.site
            continue
        if tool.per_contact is not None:
            message = (
                f"technology '{tool.name}': contacts reach the centre, not a site; price a site's tool per seat-day "
                "or per day, or leave site out"
            )
            yield loc, message, tool.site
        own = site_groups(scenario, tool.site)
        for n, name in enumerate(tool.groups or []):
            if name in site_of and name not in own:
                message = f"agent group '{name}' does not work at site '{tool.site}'; its groups: {listed(own)}"
                yield ("costs", "technology", t, "groups", n), message, name
