"""A contact centre as typed, validated configuration: the Scenario, which holds the horizon, call types
(`scenario.call_types`), agent groups, routing, roster, tools, technology, costs and scheduling.

This is the one place where defaults live (beside each field) and where every cross-field rule (a skill nobody
has, a staffing list of the wrong length) is checked, so the engine can trust what it is given.
"""

from __future__ import annotations

import copy
import datetime
import numbers
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.formatting import hours_minutes
from bposim.scenario.behaviour import behaviour_errors
from bposim.scenario.calendar import (
    WEEKDAYS,
    Hours,
    hours_label,
    listed_weekdays,
    opening_hours_errors,
    read_date,
    week_of,
    weekdays_of,
)
from bposim.scenario.call_types import (
    DEFERRED_CHANNELS,
    Busyness,
    CallType,
    ServiceLevel,
    arrivals_calendar_errors,
)
from bposim.scenario.clients import Client, client_errors
from bposim.scenario.common import SECONDS_PER_DAY, Clock, Model, clock_seconds, custom_error
from bposim.scenario.costs import Costs, cost_errors
from bposim.scenario.errors import ScenarioError, format_validation_error, listed
from bposim.scenario.journeys import transfer_errors
from bposim.scenario.outbound import Campaign, campaign_errors
from bposim.scenario.resolution import resolution_errors
from bposim.scenario.scheduling import Scheduling, scheduling_errors
from bposim.scenario.site_checks import site_check_errors
from bposim.scenario.site_hours import hours_errors, pattern_errors
from bposim.scenario.site_shares import site_share_errors
from bposim.scenario.sites import Site, read_time_zone, site_errors, site_tools
from bposim.scenario.technology import Technology, Tool
from bposim.scenario.workforce import Absence, LearningCurve, Shift, Shrinkage, read_roster_csv, weekday_errors

MAX_WEEKS = 522  # 3,654 days: within the 3,660 days a horizon may hold


class Horizon(Model):
    """The opening hours simulated: one or more days cut into planning intervals, one grid a day; with a
    `start_date`, days on dates, with hours per weekday and closed dates (`bposim.scenario.calendar`).

    Times are seconds from the start of the horizon: the first interval of the grid on day 0; day d's grid starts
    at d × 86,400 s. `dates()`, `weekday(day)`, `hours(day)`, `open_intervals(day)`, `opens_at(day)` and
    `closes_at(day)` say what each day is; `start_seconds`, `open_seconds` and `intervals` describe the grid.
    """

    start: Clock = Field("08:00", description="opening time, HH:MM (of the weekdays opening_hours leaves out)")
    end: Clock | None = Field(None, description="closing time, HH:MM (or give length_hours)")
    length_hours: FiniteFloat | None = Field(None, gt=0, description="open length, for horizons longer than a day")
    interval_minutes: PositiveWholeNumber = Field(30, le=1440, description="length of a planning interval")
    days: PositiveWholeNumber = Field(1, le=3660, description="number of days simulated, each opening afresh")
    weeks: PositiveWholeNumber | None = Field(
        None, le=MAX_WEEKS, description="weeks simulated, instead of days: weeks: 4 is days: 28 (saved as days)"
    )
    start_date: datetime.date | None = Field(
        None, description="the date of day 0, YYYY-MM-DD: days have dates and weekdays"
    )
    opening_hours: dict[str, str] | None = Field(
        None,
        description='hours per weekday or range of weekdays (mon-fri: "08:00-20:00", sun: closed); weekdays left '
        "out open start-end; needs start_date",
    )
    closed_dates: list[datetime.date] = Field(
        [], description="dates the centre is closed (holidays), inside the horizon; needs start_date"
    )
    warmup_minutes: FiniteFloat = Field(0, ge=0, description="time at the start excluded from statistics")
    closing: Literal["serve", "clear"] = Field(
        "serve", description="at closing, serve the callers still waiting, or clear the queue"
    )
    time_zone: str | None = Field(
        None, description="IANA time zone of the horizon's clock (default: the first site's, if any)"
    )

    @field_validator("time_zone", mode="before")
    @classmethod
    def _time_zone(cls, value: Any) -> Any:
        return read_time_zone(value)

    @model_validator(mode="before")
    @classmethod
    def _weeks(cls, data: Any) -> Any:
        """`weeks: n` is `days: 7n` (the weeks are not kept: a saved scenario reads days); both at once are refused."""
        if not isinstance(data, dict) or data.get("weeks") is None:
            return data
        weeks = data["weeks"]
        if data.get("days") is not None:
            raise custom_error("Horizon", [(("weeks",), "give days or weeks, not both", weeks)])
        if isinstance(weeks, numbers.Integral) and not isinstance(weeks, bool) and 1 <= weeks <= MAX_WEEKS:
            return {**{key: value for key, value in data.items() if key != "weeks"}, "days": 7 * int(weeks)}
        return data  # the weeks field refuses it

    @field_validator("start_date", mode="before")
    @classmethod
    def _start_date(cls, value: Any) -> Any:
        return value if value is None else read_date(value)

    @field_validator("closed_dates", mode="before")
    @classmethod
    def _closed_dates(cls, value: Any) -> Any:
        return [read_date(item) for item in value] if isinstance(value, list) else value

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _opening_hours(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict) or not value:
            raise ValueError('write a mapping of weekdays to hours, e.g. {mon-fri: "08:00-20:00", sun: closed}')
        problems = opening_hours_errors(value)
        if problems:
            raise custom_error("Horizon", [(loc[1:], message, item) for loc, message, item in problems])
        return {str(key): str(hours) for key, hours in value.items()}

    @model_validator(mode="after")
    def _length(self) -> Horizon:
        every_weekday = len(listed_weekdays(self.opening_hours)) == 7
        if (self.end is None) == (self.length_hours is None) and not (every_weekday and self.length_hours is None):
            raise ValueError("give either end (HH:MM) or length_hours, not both and not neither")
        if self.end is not None and clock_seconds(self.end) <= clock_seconds(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start} on the same day")
        problems = list(self._calendar_errors())
        if problems:
            raise custom_error("Horizon", problems)
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

    def _calendar_errors(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """Opening hours and closed dates need a start date, closed dates fall inside the horizon, every weekday's
        hours lie on the grid of intervals, and some day is open."""
        if self.start_date is None:
            for name in ("opening_hours", "closed_dates"):
                if getattr(self, name):
                    yield (
                        (name,),
                        f"{name} need a start_date (the date of day 0, YYYY-MM-DD) to know each day's weekday and date",
                        getattr(self, name),
                    )
            return
        last = self.start_date + datetime.timedelta(days=self.days - 1)
        seen: set[datetime.date] = set()
        for i, date in enumerate(self.closed_dates):
            if not self.start_date <= date <= last:
                message = (
                    f"{date} is outside the horizon, {self.start_date} to {last} ({self.days} days from start_date)"
                )
                yield ("closed_dates", i), message, str(date)
            elif date in seen:
                yield ("closed_dates", i), f"{date} is given twice", str(date)
            seen.add(date)
        grid = self.start_seconds
        for weekday, hours in enumerate(self.week):
            for moment in () if hours is None else hours:
                if (moment - grid) % self.interval_seconds:
                    where = self._hours_key(weekday)
                    which = "" if where[-1] == WEEKDAYS[weekday] else f"{WEEKDAYS[weekday]}: "
                    message = (
                        f"{which}{hours_minutes(moment)} is not on the grid of "
                        f"{self.interval_minutes}-minute intervals from {hours_minutes(grid)} (the earliest opening); "
                        "open and close on interval boundaries"
                    )
                    yield where, message, hours_label(hours)
                    break
        if not self.open_days():
            yield (
                ("opening_hours",) if self.opening_hours else ("closed_dates",),
                "no day of the horizon is open",
                (self.opening_hours or [str(date) for date in self.closed_dates]),
            )

    def _hours_key(self, weekday: int) -> tuple[str, ...]:
        """Where a weekday's hours are written: its opening_hours key, else start/end."""
        for key in self.opening_hours or {}:
            if weekday in weekdays_of(key):
                return ("opening_hours", key)
        return ("start",)

    # --- the grid --------------------------------------------------------------------------------------------

    @cached_property
    def start_seconds(self) -> int:
        """The start of each day's grid (the earliest opening over the week) as seconds after midnight."""
        known = [hours.open for hours in self.week if hours is not None]
        return min(known) if self.opening_hours and known else self._start

    @cached_property
    def open_seconds(self) -> float:
        """The length of each day's grid: from the earliest opening to the latest closing over the week."""
        known = [hours.close for hours in self.week if hours is not None]
        if self.opening_hours and known:
            return float(max(known) - self.start_seconds)
        return self._usual_length

    @property
    def interval_seconds(self) -> float:
        return self.interval_minutes * 60.0

    @cached_property
    def intervals(self) -> int:
        """Planning intervals per day."""
        return round(self.open_seconds / self.interval_seconds)

    @property
    def _start(self) -> int:
        return clock_seconds(self.start)

    @property
    def _usual_length(self) -> float:
        if self.end is not None:
            return float(clock_seconds(self.end) - clock_seconds(self.start))
        return float(self.length_hours) * 3600.0 if self.length_hours is not None else 0.0

    @cached_property
    def week(self) -> tuple[Hours | None, ...]:
        """The hours of each weekday, mon..sun (None: closed): opening_hours, else start-end (as seconds after
        midnight, `Hours(open, close)`)."""
        listed = self.opening_hours or {}
        usual = None
        if self.end is not None or self.length_hours is not None:
            usual = Hours(self._start, round(self._start + self._usual_length))
        return week_of(listed, usual)

    # --- the days --------------------------------------------------------------------------------------------

    @property
    def calendar(self) -> bool:
        """Whether the days have dates (a start_date is given)."""
        return self.start_date is not None

    @cached_property
    def varies(self) -> bool:
        """Whether some day's hours are not the whole grid: a closed day, or one opening later or closing earlier."""
        return len(self.open_days()) < self.days or any(
            len(self.open_intervals(day)) < self.intervals for day in self.open_days()
        )

    def dates(self) -> list[datetime.date]:
        """The date of each day, day 0 first (needs a start_date)."""
        return [self.date(day) for day in range(self.days)]

    def date(self, day: int) -> datetime.date:
        """The date of day `day` (needs a start_date)."""
        if self.start_date is None:
            raise ValueError("the horizon has no start_date: its days have no dates")
        return self.start_date + datetime.timedelta(days=day)

    def weekday(self, day: int) -> str | None:
        """The weekday of day `day` ("mon".."sun"), or None without a start_date."""
        return None if self.start_date is None else WEEKDAYS[self.date(day).weekday()]

    def hours(self, day: int) -> Hours | None:
        """Day `day`'s opening hours as seconds after midnight, or None when it is closed (its weekday is closed, or
        its date is in closed_dates)."""
        if self.start_date is None:
            return self.week[0]
        date = self.date(day)
        return None if date in self._closed else self.week[date.weekday()]

    def open_intervals(self, day: int) -> range:
        """The intervals of the grid day `day` is open (empty when closed)."""
        return self._open_intervals[day]

    def open_days(self) -> list[int]:
        """The days that open, in order."""
        return [day for day in range(self.days) if self._open_intervals[day]]

    def opens_at(self, day: int) -> float | None:
        """When day `day` opens, in seconds from the start of the horizon (None when closed)."""
        span = self._open_intervals[day]
        return day * float(SECONDS_PER_DAY) + span.start * self.interval_seconds if span else None

    def closes_at(self, day: int) -> float | None:
        """When day `day` closes, in seconds from the start of the horizon (None when closed)."""
        span = self._open_intervals[day]
        return day * float(SECONDS_PER_DAY) + span.stop * self.interval_seconds if span else None

    @cached_property
    def _closed(self) -> frozenset[datetime.date]:
        return frozenset(self.closed_dates)

    @cached_property
    def _open_intervals(self) -> tuple[range, ...]:
        grid, length = self.start_seconds, self.interval_seconds
        spans = []
        for day in range(self.days):
            hours = self.hours(day)
            if hours is None:
                spans.append(range(0))
            elif not self.opening_hours:
                spans.append(range(self.intervals))
            else:
                spans.append(range(round((hours.open - grid) / length), round((hours.close - grid) / length)))
        return tuple(spans)


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
    site: str | None = Field(None, description="the site (sites[].name) the group works at")
    clearances: list[Annotated[str, Field(min_length=1)]] = Field(
        [], description="what the group's agents are vetted for (pci, background_checked): clients[].restrict_to"
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
    outbound: list[Campaign] = Field([], description="outbound campaigns dialled by blended agents in their idle time")
    sites: list[Site] = Field([], description="where groups work: time zones, holidays, wages, site-wide outages")
    clients: list[Client] | None = Field(
        None, description="the provider's clients: the call types each owns and its contract (bposim.contracts)"
    )

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
        yield from weekday_errors(self.absence, ("absence",), self.horizon)
        yield from weekday_errors(self.shrinkage, ("shrinkage",), self.horizon)
        for g, group in enumerate(self.agent_groups):
            yield from weekday_errors(group.absence, ("agent_groups", g, "absence"), self.horizon)
            yield from weekday_errors(group.shrinkage, ("agent_groups", g, "shrinkage"), self.horizon)
        yield from self._technology_errors()
        yield from site_errors(self)
        yield from site_check_errors(self)
        yield from hours_errors(self)
        yield from pattern_errors(self)
        yield from site_share_errors(self)
        yield from behaviour_errors(self)
        if self.costs is not None:
            yield from cost_errors(self.costs, self)
        if self.scheduling is not None:
            yield from scheduling_errors(self.scheduling, self)
        if self.clients:
            yield from client_errors(self.clients, self)
        if self.outbound:
            yield from campaign_errors(self.outbound, [group.name for group in self.agent_groups])
        names = [ct.name for ct in self.call_types]
        known = listed(names)
        yield from _twice(("call_types",), names, "call type '{}' is defined twice")
        groups = [g.name for g in self.agent_groups]
        yield from _twice(("agent_groups",), groups, "agent group '{}' is defined twice")
        types = set(names)
        channels = {ct.name: ct.channel for ct in self.call_types}
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
            yield from self._channel_skill_errors(g, group, channels)
        blocked_types, blocked_all = set(), False
        for effect in (effect for tool in self.tools for effect in tool.effects if effect.type == "arrivals_blocked"):
            blocked_all = blocked_all or effect.call_types is None
            blocked_types.update(effect.call_types or [])
        yield from self._period_errors()
        yield from transfer_errors(self)
        assist = self.technology.ai_assist
        yield from resolution_errors(self.call_types, self.agent_groups, assist.resolution_uplift if assist else 0.0)
        for c, call_type in enumerate(self.call_types):
            if call_type.name not in served:
                yield ("call_types", c), f"no agent group has the skill '{call_type.name}'", call_type.name
            rates = call_type.arrivals.per_interval
            yield from self._interval_list_errors(("call_types", c, "arrivals", "per_interval"), rates)
            yield from arrivals_calendar_errors(call_type.arrivals, ("call_types", c, "arrivals"), self.horizon)
            retrial = call_type.retrial
            door = blocked_all or call_type.name in blocked_types
            if retrial is not None and retrial.after_blocked > 0 and self.trunk_lines is None and not door:
                yield (
                    ("call_types", c, "retrial", "after_blocked"),
                    "callers are only blocked when trunk_lines is set or an arrivals_blocked outage covers this call "
                    "type; set one or make this 0",
                    retrial.after_blocked,
                )

    def _period_errors(self) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """A week or a month of dates needs a horizon on dates."""
        if self.horizon.start_date is not None:
            return
        message = "period '{}' needs horizon.start_date (weeks and months are of dates); without one: interval or day"
        if self.service_level.period in ("week", "month"):
            yield ("service_level", "period"), message.format(self.service_level.period), self.service_level.period
        for c, call_type in enumerate(self.call_types):
            own = call_type.service_level.period if call_type.service_level is not None else None
            if own in ("week", "month"):
                yield ("call_types", c, "service_level", "period"), message.format(own), own

    def _channel_skill_errors(
        self, g: int, group: AgentGroup, channels: dict[str, str]
    ) -> Iterator[tuple[tuple[str | int, ...], str, Any]]:
        """Concurrency belongs to chat skills, reservations to groups with email or case skills (`channels`: each
        call type's channel, made once for all groups)."""
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
        named = [shift.name for shift in self.roster if shift.name is not None]
        if len(set(named)) < len(named):
            yield from _twice(
                ("roster",), [shift.name or f"#{i}" for i, shift in enumerate(self.roster)], "shift '{}' is named twice"
            )
        for i, shift in enumerate(self.roster):
            if shift.group not in group_names:
                known = listed(groups)
                yield ("roster", i, "group"), f"unknown agent group '{shift.group}'; known: {known}", shift.group
            if horizon.length_hours is not None:
                yield ("roster", i), "a roster needs a horizon with an end time (HH:MM), not length_hours", shift.start
            elif clock_seconds(shift.start) < horizon.start_seconds:
                yield (
                    ("roster", i, "start"),
                    f"shift starts at {shift.start}, before the centre opens at {horizon.start}",
                    shift.start,
                )
            yield from _shift_days_errors(i, shift, horizon)
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

    @cached_property
    def outage_tools(self) -> list[Tool]:
        """The tools whose outages the engine runs: the scenario's own, then each site outage as a tool
        (`scenario.sites.site_tools`)."""
        return [*self.tools, *site_tools(self)] if self.sites else self.tools

    def group_absence(self, group: AgentGroup) -> Absence | None:
        """The absence that applies to a group: its own, else the scenario's."""
        return group.absence if group.absence is not None else self.absence

    def group_shrinkage(self, group: AgentGroup) -> Shrinkage | None:
        """The shrinkage that applies to a group: its own, else the scenario's."""
        return group.shrinkage if group.shrinkage is not None else self.shrinkage

    def period_for(self, call_type: CallType) -> str:
        """The period a call type's target is measured over: its own, else the scenario's."""
        own = call_type.service_level.period if call_type.service_level is not None else None
        return self.service_level.period if own is None else own

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


def _shift_days_errors(i: int, shift: Shift, horizon: Horizon) -> Iterator[tuple[tuple, str, Any]]:
    """A roster line's `days` are dates of the horizon, each once (they need a start_date)."""
    if shift.days is None:
        return
    if horizon.start_date is None:
        yield ("roster", i, "days"), "days are dates: the horizon needs a start_date (YYYY-MM-DD)", None
        return
    last = horizon.date(horizon.days - 1)
    seen: set[datetime.date] = set()
    for d, date in enumerate(shift.days):
        if not horizon.start_date <= date <= last:
            yield ("roster", i, "days", d), f"{date} is outside the horizon, {horizon.start_date} to {last}", str(date)
        elif date in seen:
            yield ("roster", i, "days", d), f"{date} is given twice", str(date)
        seen.add(date)


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
