"""A contact centre as typed, validated configuration: the Scenario, which holds the horizon, call types
(`scenario.call_types`), agent groups, routing, roster, tools, technology, costs and scheduling.

This is the one place where defaults live (beside each field) and where every cross-field rule (a skill nobody
has, a staffing list of the wrong length) is checked, so the engine can trust what it is given.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.call_types import DEFERRED_CHANNELS, Busyness, CallType, ServiceLevel
from bposim.scenario.common import SECONDS_PER_DAY, Clock, Model, clock_seconds, custom_error
from bposim.scenario.costs import Costs, cost_errors
from bposim.scenario.errors import ScenarioError, format_validation_error, listed
from bposim.scenario.scheduling import Scheduling, scheduling_errors
from bposim.scenario.technology import Technology, Tool
from bposim.scenario.workforce import Absence, LearningCurve, Shift, Shrinkage, read_roster_csv


class Horizon(Model):
    """The opening hours simulated: one or more days, cut into planning intervals."""

    start: Clock = Field("08:00", description="opening time, HH:MM")
    end: Clock | None = Field(None, description="closing time, HH:MM (or give length_hours)")
    length_hours: FiniteFloat | None = Field(None, gt=0, description="open length, for horizons longer than a day")
    interval_minutes: PositiveWholeNumber = Field(30, le=1440, description="length of a planning interval")
    days: PositiveWholeNumber = Field(1, le=3660, description="number of days simulated, each opening afresh")
    warmup_minutes: FiniteFloat = Field(0, ge=0, description="time at the start excluded from statistics")
    closing: Literal["serve", "clear"] = Field(
        "serve", description="at closing, serve the callers still waiting, or clear the queue"
    )

    @model_validator(mode="after")
    def _length(self) -> Horizon:
        if (self.end is None) == (self.length_hours is None):
            raise ValueError("give either end (HH:MM) or length_hours, not both and not neither")
        if self.end is not None and clock_seconds(self.end) <= clock_seconds(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start} on the same day")
        if self.open_seconds % self.interval_seconds:
            raise ValueError(
                f"the open time ({self.open_seconds / 60:g} minutes) is not a whole number of "
                f"{self.interval_minutes}-minute intervals"
            )
        if self.days > 1 and self.open_seconds > SECONDS_PER_DAY:
            raise ValueError("with days > 1, each day can be open at most 24 hours")
        if self.warmup_minutes * 60 >= self.open_seconds:
            raise ValueError("warmup_minutes must be shorter than the open time")
        return self

    @property
    def start_seconds(self) -> int:
        """Opening time as seconds after midnight (for labels)."""
        return clock_seconds(self.start)

    @property
    def open_seconds(self) -> float:
        if self.end is not None:
            return float(clock_seconds(self.end) - clock_seconds(self.start))
        return float(self.length_hours) * 3600.0

    @property
    def interval_seconds(self) -> float:
        return self.interval_minutes * 60.0

    @property
    def intervals(self) -> int:
        """Planning intervals per day."""
        return round(self.open_seconds / self.interval_seconds)


class Skill(Model):
    """A call type an agent group can take, how fast, and how eagerly."""

    call_type: str
    proficiency: FiniteFloat = Field(1.0, gt=0, description="handle-time multiplier: 0.8 is 20% faster, 1.3 is slower")
    priority: PositiveWholeNumber = Field(1, description="routing priority: calls go to priority-1 groups first")
    delay_seconds: FiniteFloat = Field(
        0, ge=0, description="overflow: take this call type only after it waited this long"
    )
    max_concurrency: PositiveWholeNumber | None = Field(
        None, description="chat: start a session of this type only while holding fewer sessions than this"
    )


class Staffing(Model):
    """Agents logged in: a constant count, or one count per interval of the day."""

    count: WholeNumber | None = None
    per_interval: list[WholeNumber] | None = None

    def per_interval_counts(self, intervals: int) -> list[int]:
        return list(self.per_interval) if self.per_interval is not None else [self.count] * intervals


class AgentGroup(Model):
    """A team of agents sharing skills: a staffing plan (or shifts in the roster) and their own workforce traits."""

    name: str = Field(min_length=1)
    skills: list[Skill] = Field(min_length=1)
    agents: Staffing = Field(Staffing(count=0), description="agents outside the roster, logged in by plan")
    absence: Absence | None = Field(None, description="overrides the scenario's absence for this group")
    shrinkage: Shrinkage | None = Field(None, description="overrides the scenario's shrinkage for this group")
    learning_curve: LearningCurve | None = Field(None, description="new hires: slower at first")
    max_concurrency: PositiveWholeNumber = Field(1, le=20, description="chat sessions an agent holds at once")
    deferred_reserve: Staffing | None = Field(
        None,
        description="agents of the group kept on email and case work while they have any (a count, or one per "
        "interval): a freed agent takes deferred work before live contacts while fewer than this do",
    )

    @field_validator("deferred_reserve", mode="before")
    @classmethod
    def _reserve(cls, value: Any) -> Any:
        return value if value is None else cls._agents(value)

    @field_validator("skills", mode="before")
    @classmethod
    def _skill_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"call_type": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("agents", mode="before")
    @classmethod
    def _agents(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral | dict | Staffing):
            raise ValueError("must be a whole number of agents (≥ 0) or {per_interval: [counts]}")
        if isinstance(value, numbers.Integral):
            if value < 0:
                raise ValueError(f"must be a whole number of agents (≥ 0), got {value}")
            return {"count": int(value)}
        if isinstance(value, dict):
            value = {key: item for key, item in value.items() if item is not None}  # as model_dump() writes it
        if isinstance(value, dict) and set(value) not in ({"per_interval"}, {"count"}):
            raise ValueError("must be a whole number of agents (≥ 0) or {per_interval: [counts]}")
        return value


class Routing(Model):
    """How the router matches calls and agents."""

    agent_selection: Literal["longest_idle", "most_proficient", "random"] = Field(
        "longest_idle",
        description="among idle agents of the best-priority groups: the one idle longest; the fastest group's "
        "longest idle; or one at random",
    )
    call_selection: Literal["priority", "skill_priority", "longest_wait"] = Field(
        "priority",
        description="a freed agent takes: the most urgent call type, then longest waiting; its own best-priority "
        "skill first; or simply the longest waiting call",
    )


class Scenario(Model):
    """A whole contact centre: horizon, objective, call types, agent groups and routing."""

    name: str = Field(min_length=1)
    description: str = ""
    horizon: Horizon
    service_level: ServiceLevel = ServiceLevel()
    trunk_lines: WholeNumber | None = Field(None, description="calls in the system at most; beyond, busy signal")
    busyness: Busyness | None = None
    routing: Routing = Routing()
    call_types: list[CallType] = Field(min_length=1)
    agent_groups: list[AgentGroup] = Field(min_length=1)
    roster: list[Shift] = Field([], description="shifts; agents log in and out by them, with breaks")
    roster_file: str | None = Field(
        None, description="a CSV of more shifts (group,start,end,agents,breaks), relative to the scenario file"
    )
    absence: Absence | None = Field(None, description="day absence of rostered agents, for every group")
    shrinkage: Shrinkage | None = Field(None, description="off-phone episodes of logged-in agents, for every group")
    tools: list[Tool] = Field([], description="tools that fail, and what their outages do")
    technology: Technology = Technology()
    costs: Costs | None = Field(None, description="what the centre costs; no cost figures if left out")
    scheduling: Scheduling | None = Field(None, description="shift patterns for the roster optimiser (bposim staff)")

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Scenario:
        """pydantic's model_validate, raising ScenarioError (a ValueError) with one "field path: what is wrong"
        line per problem instead of pydantic's ValidationError."""
        try:
            return super().model_validate(obj, **options)
        except ValidationError as exc:
            raise ScenarioError("", format_validation_error(exc, cls)) from None

    @model_validator(mode="before")
    @classmethod
    def _roster_file(cls, data: Any, info: ValidationInfo) -> Any:
        """Add the shifts of `roster_file` to `roster` (once: the file name is then cleared)."""
        if not isinstance(data, dict) or not data.get("roster_file"):
            return data
        base = Path((info.context or {}).get("base_dir", "."))
        path = base / str(data["roster_file"])
        try:
            rows = read_roster_csv(path)
        except OSError as exc:
            raise custom_error(
                "Scenario", [(("roster_file",), f"cannot read {path} ({exc.strerror or exc})", data["roster_file"])]
            ) from None
        except ValueError as exc:
            raise custom_error("Scenario", [(("roster_file",), f"{path}: {exc}", data["roster_file"])]) from None
        problems = []
        for line, row in rows:
            try:
                Shift.model_validate(row)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                field = ".".join(str(part) for part in first["loc"]) or "row"
                message = first["msg"].removeprefix("Value error, ")
                problems.append((("roster_file",), f"{path} line {line}: {field}: {message}", row))
        if problems:
            raise custom_error("Scenario", problems)
        return {**data, "roster": [*data.get("roster", []), *(row for _, row in rows)], "roster_file": None}

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        errors = list(self._cross_field_errors())
        if errors:
            raise custom_error("Scenario", errors)
        return self

    def _cross_field_errors(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        yield from self._roster_errors()
        yield from self._technology_errors()
        if self.costs is not None:
            yield from cost_errors(self.costs, self)
        if self.scheduling is not None:
            yield from scheduling_errors(self.scheduling, self)
        names = [ct.name for ct in self.call_types]
        known = listed(names)
        yield from _twice(("call_types",), names, "call type '{}' is defined twice")
        groups = [g.name for g in self.agent_groups]
        yield from _twice(("agent_groups",), groups, "agent group '{}' is defined twice")
        types = set(names)
        served = set()
        for g, group in enumerate(self.agent_groups):
            seen: set[str] = set()
            for s, skill in enumerate(group.skills):
                loc = ("agent_groups", g, "skills", s)
                if skill.call_type not in types:
                    yield loc, f"unknown call type '{skill.call_type}'; known: {known}", skill.call_type
                elif skill.call_type in seen:
                    yield loc, f"skill '{skill.call_type}' is listed twice", skill.call_type
                seen.add(skill.call_type)
                served.add(skill.call_type)
            plan = group.agents.per_interval
            yield from self._interval_list_errors(("agent_groups", g, "agents", "per_interval"), plan)
            yield from self._channel_skill_errors(g, group)
        blocked_types, blocked_all = set(), False
        for effect in (effect for tool in self.tools for effect in tool.effects if effect.type == "arrivals_blocked"):
            blocked_all = blocked_all or effect.call_types is None
            blocked_types.update(effect.call_types or [])
        for c, call_type in enumerate(self.call_types):
            if call_type.name not in served:
                yield ("call_types", c), f"no agent group has the skill '{call_type.name}'", call_type.name
            rates = call_type.arrivals.per_interval
            yield from self._interval_list_errors(("call_types", c, "arrivals", "per_interval"), rates)
            retrial = call_type.retrial
            door = blocked_all or call_type.name in blocked_types
            if retrial is not None and retrial.after_blocked > 0 and self.trunk_lines is None and not door:
                yield (
                    ("call_types", c, "retrial", "after_blocked"),
                    "callers are only blocked when trunk_lines is set or an arrivals_blocked outage covers this call "
                    "type; set one or make this 0",
                    retrial.after_blocked,
                )

    def _channel_skill_errors(self, g: int, group: AgentGroup) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """Concurrency belongs to chat skills, reservations to groups with email or case skills."""
        channels = {ct.name: ct.channel for ct in self.call_types}
        own = {channels.get(skill.call_type) for skill in group.skills}
        if group.max_concurrency > 1 and "chat" not in own:
            yield (
                ("agent_groups", g, "max_concurrency"),
                f"{group.max_concurrency} sessions at once, but the group has no chat skill; concurrency applies "
                "to chat call types (channel: chat)",
                group.max_concurrency,
            )
        for s, skill in enumerate(group.skills):
            channel = channels.get(skill.call_type)
            if skill.max_concurrency is not None and channel is not None and channel != "chat":
                yield (
                    ("agent_groups", g, "skills", s, "max_concurrency"),
                    f"'{skill.call_type}' is a {channel} call type; max_concurrency applies to chat skills",
                    skill.max_concurrency,
                )
            elif skill.max_concurrency is not None and skill.max_concurrency > group.max_concurrency:
                yield (
                    ("agent_groups", g, "skills", s, "max_concurrency"),
                    f"{skill.max_concurrency} is above the group's max_concurrency ({group.max_concurrency}); a "
                    "skill can only lower it",
                    skill.max_concurrency,
                )
        reserve = group.deferred_reserve
        if reserve is not None:
            if not own & {"email", "case"}:
                yield (
                    ("agent_groups", g, "deferred_reserve"),
                    "the group has no email or case skill to keep agents on",
                    reserve.count if reserve.per_interval is None else reserve.per_interval,
                )
            yield from self._interval_list_errors(
                ("agent_groups", g, "deferred_reserve", "per_interval"), reserve.per_interval
            )

    def channel_of(self, name: str) -> str:
        """The channel of the call type called `name`."""
        return next(ct.channel for ct in self.call_types if ct.name == name)

    def updated(self, changes: dict[str, Any]) -> Scenario:
        """A new, re-validated scenario with fields changed by dotted path; this one is left as it is.

        List items are addressed by name or index: ``{"agent_groups.team.agents": 13,
        "call_types.support.arrivals.per_hour": 300}``. An unknown path raises ValueError naming the known
        ones, and a bad value names its field: both as ScenarioError (a ValueError), one line per problem.
        """
        data = self.model_dump(mode="python", exclude_none=True)
        for path, value in changes.items():
            try:
                _assign(data, path, copy.deepcopy(value))
            except ValueError as exc:
                raise ScenarioError("", [str(exc)]) from None
        return Scenario.model_validate(data)

    def _interval_list_errors(self, loc: tuple, values: list | None) -> Iterator[tuple[tuple, str, Any]]:
        """A per-interval list must have one value per interval of the day."""
        intervals = self.horizon.intervals
        if values is not None and len(values) != intervals:
            message = (
                f"{len(values)} values given; the horizon has {intervals} intervals of "
                f"{self.horizon.interval_minutes} minutes"
            )
            yield loc, message, values

    def _roster_errors(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        groups = [g.name for g in self.agent_groups]
        group_names = set(groups)
        types = {ct.name for ct in self.call_types}
        horizon = self.horizon
        for i, shift in enumerate(self.roster):
            if shift.group not in group_names:
                known = listed(groups)
                yield ("roster", i, "group"), f"unknown agent group '{shift.group}'; known: {known}", shift.group
            if horizon.end is None:
                yield ("roster", i), "a roster needs a horizon with an end time (HH:MM), not length_hours", shift.start
            elif clock_seconds(shift.start) < horizon.start_seconds:
                yield (
                    ("roster", i, "start"),
                    f"shift starts at {shift.start}, before the centre opens at {horizon.start}",
                    shift.start,
                )
            if shift.deferred_blocks and shift.group in group_names:
                group = next(g for g in self.agent_groups if g.name == shift.group)
                if not any(
                    self.channel_of(s.call_type) in DEFERRED_CHANNELS for s in group.skills if s.call_type in types
                ):
                    yield (
                        ("roster", i, "deferred_blocks"),
                        f"group '{shift.group}' has no email or case skill: its agents would have no work in a block",
                        [block.name for block in shift.deferred_blocks],
                    )

    def _technology_errors(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        groups = dict.fromkeys(g.name for g in self.agent_groups)  # ordered, and a quick `in`
        types = dict.fromkeys(ct.name for ct in self.call_types)

        def unknown(loc: tuple, names: list[str] | None, known: dict[str, None], what: str):
            for j, name in enumerate(names or []):
                if name not in known:
                    yield (*loc, j), f"unknown {what} '{name}'; known: {listed(known)}", name

        seen: set[str] = set()
        for t, tool in enumerate(self.tools):
            if tool.name in seen:
                yield ("tools", t, "name"), f"tool '{tool.name}' is defined twice", tool.name
            seen.add(tool.name)
            for e, effect in enumerate(tool.effects):
                yield from unknown(("tools", t, "effects", e, "groups"), effect.groups, groups, "agent group")
                yield from unknown(("tools", t, "effects", e, "call_types"), effect.call_types, types, "call type")
            for m, window in enumerate(tool.maintenance):
                if clock_seconds(window.start) < self.horizon.start_seconds:
                    message = f"{window.start} is before the centre opens at {self.horizon.start}"
                    yield ("tools", t, "maintenance", m, "start"), message, window.start
        technology = self.technology
        bots = [bot.call_type for bot in technology.self_service]
        yield from unknown(("technology", "self_service"), bots, types, "call type")
        offered: set[str] = set()
        for i, name in enumerate(bots):
            if name in offered:
                yield ("technology", "self_service", i), f"call type '{name}' has two self-service entries", name
            offered.add(name)
        if technology.ai_assist is not None:
            names = list(technology.ai_assist.by_call_type)
            yield from unknown(("technology", "ai_assist", "by_call_type"), names, types, "call type")
        if technology.callbacks is not None:
            yield from unknown(
                ("technology", "callbacks", "call_types"), technology.callbacks.call_types, types, "call type"
            )
        channels = {ct.name: ct.channel for ct in self.call_types}
        for i, name in enumerate(bots):
            if channels.get(name) in ("email", "case"):
                message = f"'{name}' is {channels[name]} work; self-service takes live contacts (voice, chat)"
                yield ("technology", "self_service", i, "call_type"), message, name
        callbacks = technology.callbacks
        if callbacks is not None:
            for i, name in enumerate(callbacks.call_types or []):
                if channels.get(name, "voice") != "voice":
                    message = f"'{name}' is a {channels[name]} call type; callbacks are offered to voice callers"
                    yield ("technology", "callbacks", "call_types", i), message, name

    def group_absence(self, group: AgentGroup) -> Absence | None:
        """The absence that applies to a group: its own, else the scenario's."""
        return group.absence if group.absence is not None else self.absence

    def group_shrinkage(self, group: AgentGroup) -> Shrinkage | None:
        """The shrinkage that applies to a group: its own, else the scenario's."""
        return group.shrinkage if group.shrinkage is not None else self.shrinkage

    def service_level_for(self, call_type: CallType) -> tuple[float, float]:
        """(threshold_seconds, target) of a call type, its own override first; deferred work's threshold is its
        due time in seconds."""
        override = call_type.service_level
        threshold = override.threshold_seconds if override and override.threshold_seconds is not None else None
        if not call_type.live:
            threshold = call_type.due_seconds
        target = override.target if override and override.target is not None else None
        return (
            self.service_level.threshold_seconds if threshold is None else threshold,
            self.service_level.target if target is None else target,
        )


def _twice(loc: tuple, names: list[str], message: str) -> Iterator[tuple[tuple, str, str]]:
    """Each repeat of a name in a list, at (*loc, index, "name"), with `message` formatted with the name."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield (*loc, i, "name"), message.format(name), name
        seen.add(name)


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path in a scenario's plain data (list items by name or index)."""
    node: Any = data
    parts = path.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[:depth]) or "the scenario"
        if isinstance(node, list):
            names = [item.get("name") for item in node if isinstance(item, dict)]
            if part in names:
                index = names.index(part)
            elif part.isdigit() and int(part) < len(node):
                index = int(part)
            else:
                raise ValueError(f"{path}: no item '{part}' in {where}; known: {listed(names)}")
            if last:
                node[index] = value
            node = node[index]
        elif isinstance(node, dict):
            if part not in node and not last:
                raise ValueError(f"{path}: no field '{part}' in {where}; known: {listed(node)}")
            if last:
                node[part] = value
            node = node[part]
        else:
            raise ValueError(f"{path}: {where} is a value, not a mapping or list")
