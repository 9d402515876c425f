"""Sites as configuration: where agent groups work, in which time zone, on which days, at what wage, the
site-wide outages (power, network) that take every agent of a site off the phones, and the site's own tools.

A site's outage is run as a tool of its own (`SiteTool`, named `<site>/<outage>`) whose one effect is `down` on the
site's agent groups, so it is switched, recorded (the outages table) and reported like any tool's outage
(`engine.technology`). Its `start` is on the horizon's clock (`horizon.time_zone`), or with `local: true` on the
site's own clock (converted date by date, `scenario.site_clock`, so daylight saving is kept); with a `date` it
happens on that day only, without one every day, and `failures` makes it random as a tool's. A site's `tools` are
tools as `tools:` has them (a CRM, the site's telephony) run as `<site>/<tool>`, whose `down` and `slow` effects
cover the site's groups only: the offshore CRM fails on its own while the onshore one keeps working. A site's `hours`
are when its agents work, on its own clock (`scenario.site_hours`). A site's holidays are dates its agents do
not work (the other sites' agents do); its `wage_per_hour` sets the cost of its groups' paid hours
(`costs.groups[].per_paid_hour`, for those groups). Checks against the centre are in `site_errors` and
`scenario.site_checks`.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from bposim.fields import FiniteFloat
from bposim.scenario.calendar import read_date
from bposim.scenario.common import SECONDS_PER_DAY, Clock, Model, clock_seconds
from bposim.scenario.costs import Costs, GroupCost
from bposim.scenario.errors import listed
from bposim.scenario.site_clock import horizon_dates, horizon_seconds
from bposim.scenario.site_clock import local_clock as local_clock  # where it was first
from bposim.scenario.site_clock import scenario_time_zone as scenario_time_zone
from bposim.scenario.site_hours import SiteHours
from bposim.scenario.technology import Effect, Failures, Maintenance, Tool

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario


def read_time_zone(value: Any) -> Any:
    """An IANA time zone name (Europe/Lisbon, Asia/Manila), checked with zoneinfo."""
    if value is None:
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("write an IANA time zone name, e.g. Europe/Lisbon or Asia/Manila")
    try:
        zoneinfo.ZoneInfo(value.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{value}'; write an IANA name, e.g. Europe/Lisbon or Asia/Manila"
        ) from None
    return value.strip()


class SiteOutage(Model):
    """A site-wide outage (power, network): every agent of the site is off the phones while it lasts."""

    name: str = Field("outage", min_length=1, description="what fails, e.g. power or network")
    start: Clock | None = Field(None, description="HH:MM on the horizon's clock, the site's with local")
    local: bool = Field(False, description="start is on the site's own clock (its time_zone), not the horizon's")
    minutes: FiniteFloat | None = Field(None, gt=0, description="how long it lasts (with start)")
    date: datetime.date | None = Field(None, description="the one date it happens on; every day if left out")
    failures: Failures | None = Field(None, description="random instead: time up between failures, then repair")
    in_progress: Literal["finish", "drop"] = Field("drop", description="calls in progress are finished or cut off")

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return value if value is None else read_date(value)

    @model_validator(mode="after")
    def _when(self) -> SiteOutage:
        timed = self.start is not None or self.minutes is not None
        if timed and (self.start is None or self.minutes is None):
            raise ValueError("a timed outage needs both start (HH:MM) and minutes")
        if timed == (self.failures is not None):
            raise ValueError("give start and minutes (a set outage) or failures (random outages), one of the two")
        if self.date is not None and not timed:
            raise ValueError("date applies to a set outage (start and minutes)")
        if self.local and not timed:
            raise ValueError("local says which clock start is on: it applies to a set outage (start and minutes)")
        return self


class Site(Model):
    """A place agents work: its time zone, opening hours, holidays, wage and outages."""

    name: str = Field(min_length=1)
    time_zone: str | None = Field(None, description="IANA time zone, e.g. Europe/Lisbon or Asia/Manila")
    hours: SiteHours | None = Field(
        None, description="the site's opening hours on its local clock: its agents work inside them only"
    )
    holidays: list[datetime.date] = Field([], description="dates the site's agents do not work; needs start_date")
    wage_per_hour: FiniteFloat | None = Field(
        None, ge=0, description="cost of a paid agent hour of the site's groups (instead of costs.groups)"
    )
    outages: list[SiteOutage] = Field([], description="site-wide outages: the site's agents are off the phones")
    tools: list[Tool] = Field(
        [], description="the site's own tools, as tools: has them; their down and slow effects cover its groups only"
    )

    @field_validator("time_zone", mode="before")
    @classmethod
    def _time_zone(cls, value: Any) -> Any:
        return read_time_zone(value)

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise ValueError('write the hours as {open: "08:00", close: "20:00"} (HH:MM on the site\'s local clock)')
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _holidays(cls, value: Any) -> Any:
        return [read_date(item) for item in value] if isinstance(value, list) else value


class SiteTool(Tool):
    """A site's outage as a tool: `down` on the site's groups; a dated one happens once (`dated_outages`)."""

    once: tuple[tuple[float, float], ...] = ()

    def dated_outages(self) -> list[tuple[float, float]]:
        return list(self.once)


def site_tools(scenario: Scenario) -> list[Tool]:
    """Every site outage as a tool (`<site>/<outage>`), then every site's own tools (`<site>/<tool>`, their effects
    on the site's groups), after the scenario's own tools' order."""
    tools: list[Tool] = []
    for site in scenario.sites:
        groups = site_groups(scenario, site.name)
        if not groups:
            continue
        for outage in site.outages:
            tools.append(_outage_tool(scenario, site, outage, groups))
    for site in scenario.sites:
        groups = site_groups(scenario, site.name)
        if groups:
            tools += [_own_tool(site, tool, groups) for tool in site.tools]
    return tools


def _outage_tool(scenario: Scenario, site: Site, outage: SiteOutage, groups: list[str]) -> SiteTool:
    """A site outage as a tool: every day at its start (maintenance), once on its date, or at random; one on the
    site's clock (local) once on each date, as daylight saving may move it on the horizon's clock."""
    horizon = scenario.horizon
    effect = Effect(type="down", groups=groups, in_progress=outage.in_progress)
    maintenance, once = [], ()
    if outage.start is not None and outage.local and horizon.start_date is not None:
        dates = [outage.date] if outage.date is not None else horizon_dates(horizon)
        once = tuple((horizon_seconds(scenario, site, date, outage.start), outage.minutes * 60.0) for date in dates)
    elif outage.start is not None and outage.date is None:
        maintenance = [Maintenance(start=outage.start, minutes=outage.minutes)]
    elif outage.start is not None and horizon.start_date is not None:
        day = (outage.date - horizon.start_date).days
        start = day * SECONDS_PER_DAY + clock_seconds(outage.start) - horizon.start_seconds
        once = ((float(start), outage.minutes * 60.0),)
    return SiteTool(
        name=f"{site.name}/{outage.name}",
        failures=outage.failures,
        maintenance=maintenance,
        effects=[effect],
        once=once,
    )


def _own_tool(site: Site, tool: Tool, groups: list[str]) -> Tool:
    """A site's own tool as the engine runs it: named `<site>/<tool>`, an effect without groups on the site's."""
    effects = [
        effect if effect.groups is not None else effect.model_copy(update={"groups": groups}) for effect in tool.effects
    ]
    return tool.model_copy(update={"name": f"{site.name}/{tool.name}", "effects": effects})


def site_groups(scenario: Scenario, site: str) -> list[str]:
    """The agent groups working at a site, in the scenario's order."""
    return [group.name for group in scenario.agent_groups if group.site == site]


def holiday_days(scenario: Scenario) -> dict[str, frozenset[int]]:
    """Agent group → the horizon's day numbers its site is on holiday (groups of sites with holidays only)."""
    first = scenario.horizon.start_date
    if first is None:
        return {}
    days = {site.name: frozenset((date - first).days for date in site.holidays) for site in scenario.sites}
    return {group.name: days[group.site] for group in scenario.agent_groups if group.site and days.get(group.site)}


def site_costs(scenario: Scenario) -> Costs | None:
    """The cost model with the sites' wages in: a group of a site with `wage_per_hour` is paid that (its overtime
    premium kept), and a group's cost entry names its site; the scenario's costs as they are without sites."""
    if not scenario.sites:
        return scenario.costs
    wages = {site.name: site.wage_per_hour for site in scenario.sites if site.wage_per_hour is not None}
    costs = scenario.costs
    entries = {entry.group: entry for entry in costs.groups} if costs is not None else {}
    groups = []
    for group in scenario.agent_groups:
        entry = entries.get(group.name)
        site = group.site or (entry.site if entry is not None else "")
        if group.site in wages:
            premium = entry.overtime_premium if entry is not None else 0.0
            groups.append(
                GroupCost(group=group.name, per_paid_hour=wages[group.site], overtime_premium=premium, site=site)
            )
        elif entry is not None:
            groups.append(entry.model_copy(update={"site": site or entry.site}))
    if costs is None:
        return Costs(groups=groups) if groups else None
    return costs.model_copy(update={"groups": groups})


def waged_groups(scenario: Scenario) -> set[str]:
    """The agent groups whose pay their site's wage_per_hour sets."""
    waged = {site.name for site in scenario.sites if site.wage_per_hour is not None}
    return {group.name for group in scenario.agent_groups if group.site in waged}


def site_errors(scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Problems between the sites and the centre, for Scenario's validator: unknown or repeated sites, holidays
    and dated outages without dates or outside the horizon, outages of a site without agents, tool names taken."""
    names = [site.name for site in scenario.sites]
    seen: set[str] = set()
    for s, name in enumerate(names):
        if name in seen:
            yield ("sites", s, "name"), f"site '{name}' is defined twice", name
        seen.add(name)
    for g, group in enumerate(scenario.agent_groups):
        if group.site is not None and group.site not in seen:
            known = f"known: {listed(names)}" if names else "no sites are defined (add them under sites:)"
            yield ("agent_groups", g, "site"), f"unknown site '{group.site}'; {known}", group.site
    horizon = scenario.horizon
    first = horizon.start_date
    last = first + datetime.timedelta(days=horizon.days - 1) if first is not None else None
    tools = {tool.name for tool in scenario.tools}
    for s, site in enumerate(scenario.sites):
        for d, date in enumerate(site.holidays):
            yield from _date_errors(("sites", s, "holidays", d), date, first, last)
        if site.outages and not site_groups(scenario, site.name):
            message = f"site '{site.name}' has outages but no agent group works there (agent_groups[].site)"
            yield ("sites", s, "outages"), message, site.name
        for o, outage in enumerate(site.outages):
            loc = ("sites", s, "outages", o)
            if f"{site.name}/{outage.name}" in tools:
                yield (*loc, "name"), f"'{site.name}/{outage.name}' is a tool's name already", outage.name
            if outage.date is not None:
                yield from _date_errors((*loc, "date"), outage.date, first, last)
            if outage.start is not None and not outage.local and clock_seconds(outage.start) < horizon.start_seconds:
                yield (*loc, "start"), f"{outage.start} is before the centre opens at {horizon.start}", outage.start
        twice = [o.name for i, o in enumerate(site.outages) if o.name in [p.name for p in site.outages[:i]]]
        for name in twice:
            yield ("sites", s, "outages"), f"site '{site.name}' has two outages named '{name}'", name


def _date_errors(loc: tuple, date: datetime.date, first, last) -> Iterator[tuple[tuple, str, Any]]:
    if first is None:
        yield loc, "dates need a horizon on dates: give horizon.start_date (YYYY-MM-DD)", str(date)
    elif not first <= date <= last:
        yield loc, f"{date} is outside the horizon, {first} to {last}", str(date)
