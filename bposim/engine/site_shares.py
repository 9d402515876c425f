"""Site shares at run time: a call type's first attempts allotted to sites by share, each site answering its
share from a line of its own (`scenario.site_shares` has the rules).

Each site of the shares has a line (a `CallQueue` with the call type's index and name, so every record, table and
KPI stays per call type) served at once by the site's groups with the skill, in their usual tiers and skill
delays, and, with `site_overflow_after_seconds`, by the other sites' groups after that delay (as a skill's
`delay_seconds` works). A group takes from its site's line in the tier where it takes the call type, and from the
other sites' lines after the overflow delay. The call type's own queue keeps every group, for callers not allotted
(callbacks, transfers in). The allotment draws one uniform number per first attempt from the stream
`<call type>/sites`: no other stream moves, and a centre without shares builds nothing here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import NamedTuple

import numpy as np

from bposim.engine.routing import CallQueue, Group, Router, route
from bposim.scenario import Scenario


class SiteShares(NamedTuple):
    """A call type's sites' lines, the cumulative shares to allot by, and the allotment stream."""

    lines: list[CallQueue]
    bounds: list[float]
    rng: np.random.Generator

    def allot(self) -> CallQueue:
        """The line of the site a first attempt is allotted to, drawn by share."""
        pick = bisect_right(self.bounds, self.rng.random())
        return self.lines[min(pick, len(self.lines) - 1)]


def share_by_site(scenario: Scenario, router: Router, rng: Callable[[str], np.random.Generator]) -> list[CallQueue]:
    """Give each call type with site shares its sites' lines (`CallQueue.shares`) and the groups their takes;
    return every line made (none: the router as it was). Call after the router and caller behaviour are set up."""
    made: list[CallQueue] = []
    site_of = {group.name: group.site for group in scenario.agent_groups}
    for queue, call_type in zip(router.queues, scenario.call_types, strict=True):
        if call_type.site_shares is None:
            continue
        servers = _servers(scenario, router, call_type.name)
        after = call_type.site_overflow_after_seconds
        lines = []
        for site in call_type.site_shares:
            line = _line_like(queue)
            entries = []
            for rank, delay, group in servers:
                if site_of[group.name] != site:
                    if after is None:
                        continue
                    delay = max(delay, after)
                entries.append((rank, delay, group))
                _take_from(group, queue, line, delay)
            route(line, entries, router.random)
            lines.append(line)
        bounds = list(accumulate(call_type.site_shares.values()))
        queue.shares = SiteShares(lines, bounds, rng(f"{call_type.name}/sites"))
        queue.entry_checks = True  # first attempts pass `Centre._attempt`, where they are allotted
        made += lines
    for group in router.groups:
        if any(line in group.queues for line in made):
            group.live_queues = [q for q in group.queues if not q.deferred]
            group.live_takes = [take for tier in group.take_tiers for take in tier]
    return made


def _servers(scenario: Scenario, router: Router, name: str) -> list[tuple[tuple, float, Group]]:
    """The groups that serve a call type, each as the router ranks it: (rank, skill delay, group)."""
    found = []
    for group, spec in zip(router.groups, scenario.agent_groups, strict=True):
        for skill in spec.skills:
            if skill.call_type == name:
                rank = (skill.priority,)
                if scenario.routing.agent_selection == "most_proficient":
                    rank = (skill.priority, skill.proficiency)
                found.append((rank, skill.delay_seconds, group))
    return found


def _line_like(queue: CallQueue) -> CallQueue:
    """A site's line of a call type: its index, name and the settings its callers meet."""
    line = CallQueue(queue.index, queue.name, queue.priority)
    line.trunked = queue.trunked
    line.lazy_patience = queue.lazy_patience
    line.entry_checks = queue.entry_checks  # a retrial meets the busy signal as its first attempt did
    line.callbacks = queue.callbacks
    line.behaviour = queue.behaviour
    line.interrupts = queue.interrupts
    line.blended = queue.blended
    return line


def _take_from(group: Group, queue: CallQueue, line: CallQueue, delay: float) -> None:
    """The group takes from a site's line in the tier where it takes the call type, after `delay`."""
    group.queues.append(line)
    group.only_queue = None
    for tier in group.take_tiers:
        if any(taken is queue for taken, _ in tier):
            tier.append((line, delay))
            return
