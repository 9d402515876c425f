"""Routing a call type across sites by share: a contract's "60% of billing calls to Lisbon, 40% to Manila".

`call_types[].site_shares` maps sites (`sites[].name`) to shares summing to 1. Each arriving first attempt of the
call type is allotted to a site at random by share, from a stream of its own (`<call type>/sites`, so every other
source draws the same numbers: common random numbers), and waits in its site's line: only that site's groups with
the skill may serve it, each by its usual skill priority and delay. `site_overflow_after_seconds`, a number per
call type beside the shares (the shares stay the plain map a contract states, and a sweep may vary either alone),
lets the other sites' groups take a caller still waiting after that many seconds (never sooner than their own skill
delay). Tables, KPIs and clients stay per call type: the allotment is the engine's (`engine.site_shares`).

A retrial keeps its caller's site; a repeat contact is allotted afresh; a caller offered a callback, and a caller
transferred in from another call type, go to any site's groups with the skill (as without shares). The call type is
voice without a bot in front (`technology.self_service`); the checks against the centre are in `site_share_errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bposim.scenario.errors import listed
from bposim.scenario.residency import withdrawn_skills

if TYPE_CHECKING:
    from bposim.scenario.centre import Scenario

Problem = tuple[tuple[str | int, ...], str, Any]


def site_share_errors(scenario: Scenario) -> Iterator[Problem]:
    """Problems of the call types' site shares against the centre: an unknown site, a site with no group holding
    the skill, a channel other than voice, a bot in front of the call type."""
    sites = [site.name for site in scenario.sites]
    bots = {bot.call_type for bot in scenario.technology.self_service}
    for c, call_type in enumerate(scenario.call_types):
        if call_type.site_shares is None:
            continue
        loc = ("call_types", c, "site_shares")
        if call_type.channel != "voice":
            message = f"site shares route voice calls; '{call_type.name}' is {call_type.channel}: leave site_shares out"
            yield loc, message, call_type.channel
        if call_type.name in bots:
            message = (
                f"'{call_type.name}' has a bot in front (technology.self_service): site shares route calls that "
                "reach the agents straight; leave out one of the two"
            )
            yield loc, message, call_type.name
        for site in call_type.site_shares:
            if site not in sites:
                known = f"known: {listed(sites)}" if sites else "no sites are defined (add them under sites:)"
                yield (*loc, site), f"unknown site '{site}'; {known}", site
                continue
            servers = serving_groups(scenario, call_type.name, site)
            if not servers:
                at_site = [g.name for g in scenario.agent_groups if g.site == site]
                held = f"its groups: {listed(at_site)}" if at_site else "no agent group works there"
                message = (
                    f"no agent group at site '{site}' holds the skill '{call_type.name}' and may serve it ({held}); "
                    "give one the skill (agent_groups[].skills), or leave the site out of the shares"
                )
                yield (*loc, site), message, site


def serving_groups(scenario: Scenario, call_type: str, site: str) -> list[str]:
    """The agent groups at a site that hold a call type's skill and may serve it (a client's `restrict_to` takes
    it from the groups it does not admit)."""
    withdrawn = withdrawn_skills(scenario)
    return [
        group.name
        for group in scenario.agent_groups
        if group.site == site
        and any(skill.call_type == call_type for skill in group.skills)
        and call_type not in withdrawn.get(group.name, ())
    ]


def share_lines(scenario: Scenario) -> list[str]:
    """For `bposim validate`: per call type with site shares, each site's share and groups, and the overflow to
    the other sites (nothing when no call type has shares)."""
    lines = []
    for call_type in scenario.call_types:
        if call_type.site_shares is None:
            continue
        parts = [
            f"{site} {share:.0%} ({', '.join(serving_groups(scenario, call_type.name, site))})"
            for site, share in call_type.site_shares.items()
        ]
        after = call_type.site_overflow_after_seconds
        overflow = f"other sites' groups after {after:g} s" if after is not None else "no overflow to other sites"
        lines.append(f"  {call_type.name}: {', '.join(parts)}; {overflow}")
    return ["Site shares (first attempts allotted by share, each site from its own line):", *lines] if lines else []
