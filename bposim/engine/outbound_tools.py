"""What the tools' outages (`scenario.tools`, switched by `engine.technology`) do to outbound work: the telephony
down (a tool shutting the front door for every call type: `arrivals_blocked` with no call_types) stops the
dialers; `slow` effects on every call type slow the outbound talk of the groups they cover; `down` effects that
drop calls in progress name the groups whose outbound talk is cut off (`engine.outbound` cuts it)."""

from __future__ import annotations

from bposim.engine.routing import Group
from bposim.scenario import Scenario


class OutboundTools:
    """Which tools are down now, and what that means for the dialers and for outbound talk."""

    def __init__(self, scenario: Scenario, groups: list[Group]):
        self.tools = scenario.outage_tools
        self.groups = groups
        self.down = [False] * len(self.tools)
        self.telephony = [
            any(effect.type == "arrivals_blocked" and effect.call_types is None for effect in tool.effects)
            for tool in self.tools
        ]
        self.lines_down = 0  # telephony tools down now: no dial is placed
        self.talk_factor: dict[Group, float] = {}  # slow effects on outbound talk now, by group (absent: 1)

    def switch(self, tool: int, down: bool) -> bool:
        """Tool `tool` went down (`down`) or came back up; True when that brought the telephony back."""
        self.down[tool] = down
        self.talk_factor = self._talk_factors()
        if not self.telephony[tool]:
            return False
        self.lines_down += 1 if down else -1
        return not down and not self.lines_down

    def dropped_groups(self, tool: int) -> list[list[str] | None]:
        """The groups (None: every group) of each of the tool's down effects that cut calls in progress off."""
        return [
            effect.groups
            for effect in self.tools[tool].effects
            if effect.type == "down" and effect.in_progress == "drop"
        ]

    def _talk_factors(self) -> dict[Group, float]:
        """The product of the slow effects (on every call type) of the tools down now, for each group covered."""
        factors: dict[Group, float] = {}
        for tool, down in zip(self.tools, self.down, strict=True):
            if not down:
                continue
            for effect in tool.effects:
                if effect.type == "slow" and effect.call_types is None:
                    for group in self.groups:
                        if effect.groups is None or group.name in effect.groups:
                            factors[group] = factors.get(group, 1.0) * effect.multiplier
        return factors
