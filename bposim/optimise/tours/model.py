"""The tour scheduling problem as plain values: the days of the horizon, the shifts a day may hold, the contracts
agents work under and the limits that keep a roster workable; and the error when no roster meets them.

Times are seconds: a shift's start is seconds after midnight of its day, its length seconds; a day's intervals
start at `opens` and last `interval_seconds` each. Weekdays count from 0 = Monday. Weeks are the horizon's
consecutive blocks of 7 days from its first day (a horizon of up to 7 days is one week).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bposim.optimise.coverage import ScheduleError

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEK_DAYS = 7
WeekendRule = Literal["any", "one_off", "both_off", "alternate"]


class TourError(ScheduleError):
    """No weekly roster can be built: an interval no shift covers, a contract whose rules no week can meet, or
    headcount or workable limits too tight for the requirement."""


@dataclass(frozen=True)
class Day:
    """One day of the horizon: its weekday, whether the site opens, and its interval grid; `hours` (open, close in
    seconds after midnight) when the day opens less than the grid (a Saturday 09:00-14:00): only the shift types
    that fit within them are worked that day."""

    weekday: int
    intervals: int
    interval_seconds: int = 1800
    opens: int = 8 * 3600
    open: bool = True
    label: str = ""
    hours: tuple[int, int] | None = None

    def fits(self, shift: ShiftType) -> bool:
        """Whether the shift lies within the day's hours (every shift on a day open the whole grid)."""
        return self.hours is None or self.hours[0] <= shift.start and shift.end <= self.hours[1]

    @property
    def name(self) -> str:
        """The day's label, else its weekday's short name."""
        return self.label or WEEKDAYS[self.weekday]

    @property
    def weekend(self) -> bool:
        return self.weekday >= 5


@dataclass(frozen=True)
class BreakWindow:
    """A break of a shift whose start the programme chooses: `starts` are seconds after the shift's start."""

    name: str
    minutes: int
    starts: tuple[int, ...]
    paid: bool = True


@dataclass(frozen=True)
class ShiftType:
    """A shift a group's agents may work on any open day: start (seconds after midnight), length (seconds), its
    breaks (each a window the programme places, Aykin-style) or a `coverage` row given outright (the share of
    each of the day's intervals the agent is on the phones), and what a paid hour costs.

    `paid_hours` defaults to the length less the unpaid breaks."""

    name: str
    group: str
    start: int
    length: int
    breaks: tuple[BreakWindow, ...] = ()
    coverage: tuple[float, ...] | None = None
    paid_hours: float | None = None
    cost_per_paid_hour: float = 1.0

    @property
    def end(self) -> int:
        return self.start + self.length

    @property
    def paid(self) -> float:
        if self.paid_hours is not None:
            return float(self.paid_hours)
        unpaid = sum(window.minutes for window in self.breaks if not window.paid)
        return self.length / 3600 - unpaid / 60

    @property
    def cost(self) -> float:
        return self.paid * self.cost_per_paid_hour


@dataclass(frozen=True)
class Contract:
    """The weekly rules of a group's agents under one contract (full time, part time, ...).

    Each week an agent works `min_days`-`max_days` days and at most `max_weekly_hours` paid hours; the days off
    hold a run of at least `days_off_together` consecutive days; `weekend` is "any", "one_off" (Saturday or Sunday
    off), "both_off" or "alternate" (Saturday and Sunday off every other week); between the end of one shift and
    the start of the next pass at least `min_rest_hours` (across weeks too); with `start_window_hours`, a week's
    shift starts lie within that many hours of each other. `shifts` names the shift types the contract may work
    (default: every shift type of its group); `max_agents` caps its headcount."""

    name: str
    group: str
    min_days: int = 5
    max_days: int = 5
    max_weekly_hours: float | None = None
    days_off_together: int = 1
    weekend: WeekendRule = "any"
    min_rest_hours: float = 11.0
    start_window_hours: float | None = None
    max_agents: int | None = None
    shifts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Limits:
    """What keeps a roster workable: at most `max_starts_per_day` distinct start times per group and day, and on
    every shift line used (a shift type on a day) at least `min_agents_per_line` agents."""

    max_starts_per_day: int | None = None
    min_agents_per_line: int | None = None


@dataclass(frozen=True)
class TourProblem:
    """Everything the tour programme needs besides the requirement."""

    days: tuple[Day, ...]
    shifts: tuple[ShiftType, ...]
    contracts: tuple[Contract, ...]
    limits: Limits = Limits()

    @property
    def weeks(self) -> list[range]:
        """The day indices of each week: blocks of 7 days from the first."""
        return [range(start, min(start + WEEK_DAYS, len(self.days))) for start in range(0, len(self.days), WEEK_DAYS)]

    @property
    def groups(self) -> list[str]:
        """The groups the contracts staff, in order of first mention."""
        return list(dict.fromkeys(contract.group for contract in self.contracts))

    def contract_shifts(self, contract: Contract) -> list[int]:
        """The shift types (indices) a contract's agents may work."""
        return [
            i
            for i, shift in enumerate(self.shifts)
            if shift.group == contract.group and (contract.shifts is None or shift.name in contract.shifts)
        ]

    @property
    def day_names(self) -> list[str]:
        """Each day's label, else its weekday (with its week, "w2 Mon", on a horizon of several weeks)."""
        several = len(self.days) > WEEK_DAYS
        return [
            day.label or (f"w{d // WEEK_DAYS + 1} {day.name}" if several else day.name)
            for d, day in enumerate(self.days)
        ]
