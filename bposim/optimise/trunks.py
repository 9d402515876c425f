"""What trunk lines allow: the best service level any number of agents can reach when `trunk_lines` caps the calls
in the system and callers beyond it get a busy signal.

With every caller answered at once, the calls in the system are an Erlang loss system: N lines, and a load of
the interval's arrival rate × the time a call holds a line (its talk time). A blocked attempt counts as offered
and not answered, so under the `offered` definitions no staffing gives a call type more than 1 − B(N, load)
(Erlang B), less the part of the interval the system spends coming from the previous interval's lighter load (a
relaxation over one mean talk time; the day opens empty). Talk is taken at its shortest (the fastest group
holding the skill, AI assist), and retrials, outages and the bot are left out, so the bound errs towards
feasible: a target above it cannot be met, one below it may still be out of reach (the simulation then says
so). Call types with a bot in front are not checked; nor is the `answered` definition, which blocked calls do
not enter.
"""

from __future__ import annotations

from dataclasses import dataclass

from bposim.analytic import erlang_b
from bposim.formatting import clock
from bposim.optimise.requirement.day_kinds import busiest_rates
from bposim.scenario import Scenario


@dataclass(frozen=True)
class TrunkLimit:
    """A call type and interval whose target lies above what the trunk lines allow with unlimited agents."""

    call_type: str
    interval_start: str
    target: float
    threshold_seconds: float
    lines: int
    needed: int
    calls_per_hour: float
    blocked: float

    def __str__(self) -> str:
        return (
            f"trunk_lines: {self.lines} lines allow at most {self.lines} calls in the system; the target "
            f"{self.target:.0%} within {self.threshold_seconds:g} s for {self.call_type} at "
            f"{self.interval_start} needs at least {self.needed} lines (with every caller answered at once, "
            f"{self.lines} lines turn away {self.blocked:.1%} of the {self.calls_per_hour:,.0f} calls an hour "
            "there)"
        )


def trunk_limits(scenario: Scenario) -> list[TrunkLimit]:
    """Every call type and interval whose target no staffing can reach for want of trunk lines, worst first."""
    lines = scenario.trunk_lines
    if lines is None or scenario.service_level.definition == "answered":
        return []
    horizon = scenario.horizon
    intervals = horizon.intervals
    bots = {bot.call_type for bot in scenario.technology.self_service}
    fastest = _fastest_talk(scenario)
    rates = [busiest_rates(call_type.arrivals, horizon) for call_type in scenario.call_types]
    loads = [sum(rate[t] / 3600.0 * fastest[k] for k, rate in enumerate(rates)) for t in range(intervals)]
    limits = []
    for t, load in enumerate(loads):
        if load <= 0 or t * horizon.interval_seconds < horizon.warmup_minutes * 60:
            continue
        blocked = erlang_b(lines, load)
        before = erlang_b(lines, loads[t - 1]) if t > 0 else 0.0
        hold = load / sum(rate[t] / 3600.0 for rate in rates)
        blocked -= max(0.0, blocked - before) * min(1.0, hold / horizon.interval_seconds)
        for k, call_type in enumerate(scenario.call_types):
            threshold, target = scenario.service_level_for(call_type)
            if call_type.name in bots or rates[k][t] <= 0 or 1.0 - blocked >= target:
                continue
            needed = lines
            while 1.0 - erlang_b(needed, load) < target:
                needed += 1
            limits.append(
                TrunkLimit(call_type.name, _clock(scenario, t), target, threshold, lines, needed, rates[k][t], blocked)
            )
    return sorted(limits, key=lambda limit: limit.target - (1.0 - limit.blocked), reverse=True)


def trunk_limit_text(limits: list[TrunkLimit]) -> str:
    """The worst limit in words, and how many other call types and intervals share the problem."""
    more = len(limits) - 1
    return str(limits[0]) + (f"; and {more} more interval(s) or call type(s) like it" if more else "")


def _fastest_talk(scenario: Scenario) -> list[float]:
    """Per call type, the shortest mean time a call holds a line: talk at the fastest group holding the skill,
    with AI assist where it shortens talk."""
    assist = scenario.technology.ai_assist
    shortest = 1.0
    if assist is not None and assist.enabled:
        shortest = min(
            1.0, assist.handle_time_multiplier, *assist.by_call_type.values(), assist.novice_multiplier or 1.0
        )
    talks = []
    for call_type in scenario.call_types:
        speeds = [
            skill.proficiency
            for group in scenario.agent_groups
            for skill in group.skills
            if skill.call_type == call_type.name
        ]
        talks.append(call_type.handle_time.mean * min(speeds, default=1.0) * shortest)
    return talks


def _clock(scenario: Scenario, interval: int) -> str:
    """The time of day an interval starts at, as HH:MM."""
    return clock(scenario.horizon.start_seconds + interval * scenario.horizon.interval_seconds)
