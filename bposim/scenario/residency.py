"""Data residency and security: a client's contract may keep its contacts to agents of certain sites or holding
certain clearances (in-country, PCI-cleared, background-checked), and routing never breaks it.

`clients[].contract.restrict_to` names the sites and the clearances (`agent_groups[].clearances`, free tags) a
group must have to serve the client: a group is eligible when it works at one of the `sites` (if given) AND holds
every one of the `clearances` (if given). The restriction covers the client's call types, or those of its
`call_types` (e.g. only the card-payment line). A group that lists a restricted skill without being eligible is
not refused (a sweep switches the restriction on and off on the same groups): when the centre is built, the
client's call types are taken out of its skills (`resident_centre`), so every path of the router (first attempts,
queue pulls, callbacks, retrials, transfers, overflow, chat, email and case items) honours it by construction.
`withdrawn_skills` says which groups lose which call types (`bposim validate` prints it); checks against the
centre are in `residency_errors`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from bposim.memo import per_scenario
from bposim.scenario.call_types import DEFERRED_CHANNELS
from bposim.scenario.common import Model
from bposim.scenario.errors import listed

if TYPE_CHECKING:
    from bposim.scenario.centre import AgentGroup, Scenario


class Residency(Model):
    """Where a client's contacts may be served: by groups at one of `sites` AND holding every one of
    `clearances`; of the client's `call_types` (all of them if left out)."""

    sites: list[str] | None = Field(None, min_length=1, description="sites (sites[].name) whose groups may serve")
    clearances: list[str] | None = Field(
        None, min_length=1, description="clearances (agent_groups[].clearances) a group must hold, every one"
    )
    call_types: list[str] | None = Field(None, min_length=1, description="the client's call types if left out")

    @model_validator(mode="after")
    def _restricts(self) -> Residency:
        if self.sites is None and self.clearances is None:
            raise ValueError("give sites, clearances or both (a restriction to nothing restricts nothing)")
        return self

    def admits(self, group: AgentGroup) -> bool:
        """Whether the group may serve the restricted call types: on one of the sites and holding every clearance."""
        on_site = self.sites is None or group.site in self.sites
        return on_site and set(self.clearances or ()) <= set(group.clearances)


def restricted_call_types(scenario: Scenario) -> dict[str, Residency]:
    """Call type → the restriction its client's contract puts on it (restricted call types only)."""
    found: dict[str, Residency] = {}
    for client in scenario.clients or ():
        residency = client.restriction
        if residency is not None:
            for name in residency.call_types or client.call_types:
                found.setdefault(name, residency)
    return found


def withdrawn_skills(scenario: Scenario) -> dict[str, list[str]]:
    """Agent group → the call types it lists but may not serve under the restrictions (groups losing some only)."""
    restricted = restricted_call_types(scenario)
    lost: dict[str, list[str]] = {}
    for group in scenario.agent_groups:
        names = [
            s.call_type for s in group.skills if s.call_type in restricted and not restricted[s.call_type].admits(group)
        ]
        if names:
            lost[group.name] = names
    return lost


def resident_centre(scenario: Scenario) -> Scenario:
    """The scenario as the centre runs it: each group's skills without the call types it may not serve (the
    scenario itself when nothing is withdrawn). A group left with no chat skill takes one session at a time; one
    left with no email or case skill keeps no agents on them. Worked out once per scenario object, so that every
    replication of a cell runs (and memoises by) the same one."""
    if not any(client.restriction is not None for client in scenario.clients or ()):
        return scenario
    return _restricted_centre(scenario)


@per_scenario
def _restricted_centre(scenario: Scenario) -> Scenario:
    lost = withdrawn_skills(scenario)
    if not lost:
        return scenario
    channels = {ct.name: ct.channel for ct in scenario.call_types}
    groups = []
    for group in scenario.agent_groups:
        if group.name not in lost:
            groups.append(group)
            continue
        skills = [skill for skill in group.skills if skill.call_type not in lost[group.name]]
        kept = {channels[skill.call_type] for skill in skills}
        update: dict[str, Any] = {"skills": skills}
        if "chat" not in kept:
            update["max_concurrency"] = 1
        if not kept & set(DEFERRED_CHANNELS):
            update["deferred_reserve"] = None
        groups.append(group.model_copy(update=update))
    return scenario.model_copy(update={"agent_groups": groups})


def residency_errors(scenario: Scenario) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """Problems of the clients' restrictions, for Scenario's validator: an unknown site, a clearance no group holds,
    a call type not the client's, and a restricted call type no eligible group serves."""
    sites = [site.name for site in scenario.sites]
    held = list(dict.fromkeys(tag for group in scenario.agent_groups for tag in group.clearances))
    for c, client in enumerate(scenario.clients or ()):
        residency = client.restriction
        if residency is None:
            continue
        loc = ("clients", c, "contract", "restrict_to")
        bad = False
        for s, site in enumerate(residency.sites or ()):
            if site not in sites:
                known = f"known: {listed(sites)}" if sites else "no sites are defined (add them under sites:)"
                yield (*loc, "sites", s), f"unknown site '{site}'; {known}", site
                bad = True
        for k, tag in enumerate(residency.clearances or ()):
            if tag not in held:
                known = f"held: {listed(held)}" if held else "no group holds any (agent_groups[].clearances)"
                yield (*loc, "clearances", k), f"no agent group holds the clearance '{tag}'; {known}", tag
                bad = True
        for t, name in enumerate(residency.call_types or ()):
            if name not in client.call_types:
                message = f"call type '{name}' is not the client's; its call types: {listed(client.call_types)}"
                yield (*loc, "call_types", t), message, name
                bad = True
        if not bad:
            yield from _unserved(scenario, client.name, residency, loc, residency.call_types or client.call_types)


def _unserved(
    scenario: Scenario, client: str, residency: Residency, loc: tuple, names: list[str]
) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
    """A restricted call type that some group serves but no eligible group does (one served by none is refused
    by the scenario's own check)."""
    for name in names:
        servers = [g for g in scenario.agent_groups if any(s.call_type == name for s in g.skills)]
        if servers and not any(residency.admits(group) for group in servers):
            eligible = [g.name for g in scenario.agent_groups if residency.admits(g)]
            allowed = f"eligible groups: {listed(eligible)}" if eligible else "no agent group is eligible"
            message = (
                f"client '{client}': no agent group allowed to serve '{name}' holds the skill ({requirement(residency)}"
                f"; {allowed}); give an eligible group the skill, or widen the restriction"
            )
            yield loc, message, name


def requirement(residency: Residency) -> str:
    """What a group needs, in words: 'at lisbon or porto, holding pci and background_checked'."""
    parts = []
    if residency.sites is not None:
        parts.append(f"at {' or '.join(residency.sites)}")
    if residency.clearances is not None:
        parts.append(f"holding {' and '.join(residency.clearances)}")
    return ", ".join(parts)
