"""The people side: shifts with breaks and deferred-only blocks, absence, unplanned shrinkage and the learning curve
of new hires.

A deferred block is time in a shift kept for email and case work ("block" rather than "blended" scheduling): placed
like a break (staggered across its window among the shift's agents, taken when the agent is next free), but spent
logged in, on deferred items only."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat, WholeNumber
from bposim.scenario.calendar import NEEDS_START_DATE, read_date, weekday_mapping, weekdays_of
from bposim.scenario.common import Clock, Model, clock_seconds, read_text_file

ROSTER_COLUMNS = ("group", "start", "end", "agents", "breaks", "blocks", "name")


class TimeBlock(Model):
    """A stretch of a shift of a given length and the window it must fit in; each agent's is staggered across it."""

    kind: ClassVar[str] = "block"  # what the stretch is called in messages

    name: str = Field(min_length=1)
    minutes: FiniteFloat = Field(gt=0)
    window: tuple[str, str] = Field(description="earliest start and latest end, HH:MM")

    @field_validator("window")
    @classmethod
    def _clock(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = (clock_seconds(v) for v in value)
        if end <= start:
            raise ValueError(f"window end {value[1]} must be after its start {value[0]}")
        return value

    @model_validator(mode="after")
    def _fits(self) -> TimeBlock:
        if self.window_seconds[1] - self.window_seconds[0] < self.minutes * 60:
            raise ValueError(
                f"a {self.minutes:g}-minute {self.kind} does not fit in the window {'-'.join(self.window)}"
            )
        return self

    @property
    def window_seconds(self) -> tuple[int, int]:
        return clock_seconds(self.window[0]), clock_seconds(self.window[1])


class Break(TimeBlock):
    """A break or lunch: its length and the window it must fit in; each agent's is staggered across it."""

    kind: ClassVar[str] = "break"
    paid: bool = True


class DeferredBlock(TimeBlock):
    """Time kept for deferred work (email, case): the agent takes no live contact, works items, and waits for one
    when none is open (idle but reserved); each agent's block is staggered across the window, like a break."""


class Shift(Model):
    """A shift pattern: how many agents of a group work from start to end, with which breaks and deferred blocks."""

    name: str | None = Field(
        None, min_length=1, description="names the line, so that an experiment can address it (roster.early.agents)"
    )
    group: str
    start: Clock = Field(description="log-in time, HH:MM")
    end: Clock = Field(description="log-out time, HH:MM; a call in progress is finished (overtime)")
    agents: WholeNumber
    breaks: list[Break] = []
    deferred_blocks: list[DeferredBlock] = Field(
        [], description="stretches on email and case work only (no live contacts), placed like breaks"
    )
    days: list[datetime.date] | None = Field(
        None,
        min_length=1,
        description="the dates the line's agents work (YYYY-MM-DD, needs a start_date); every open day if left out",
    )

    @field_validator("days", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return [read_date(item) for item in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _order(self) -> Shift:
        start, end = clock_seconds(self.start), clock_seconds(self.end)
        if end <= start:
            raise ValueError(f"shift end {self.end} must be after its start {self.start}")
        for what, items in (("break", self.breaks), ("deferred block", self.deferred_blocks)):
            for item in items:
                low, high = item.window_seconds
                if low < start or high > end:
                    raise ValueError(
                        f"{what} '{item.name}' window {'-'.join(item.window)} is outside the shift "
                        f"{self.start}-{self.end}"
                    )
        return self

    @property
    def start_seconds(self) -> int:
        return clock_seconds(self.start)

    @property
    def end_seconds(self) -> int:
        return clock_seconds(self.end)

    @property
    def paid_seconds(self) -> float:
        unpaid = sum(item.minutes * 60 for item in self.breaks if not item.paid)
        return clock_seconds(self.end) - clock_seconds(self.start) - unpaid


class Absence(Model):
    """Each rostered agent is absent for the whole day with this probability (or the day's weekday's, in
    `by_weekday`: needs a horizon with a start_date)."""

    probability: FiniteFloat = Field(ge=0, lt=1)
    by_weekday: dict[str, Annotated[FiniteFloat, Field(ge=0, lt=1)]] | None = Field(
        None, description="the probability on these weekdays or ranges ({mon: 0.08, sat-sun: 0.03}); needs start_date"
    )

    @field_validator("by_weekday", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> Any:
        return weekday_mapping("Absence", value, "{mon: 0.08, sat-sun: 0.03}")

    def by_day(self) -> tuple[float, ...]:
        """The probability on each weekday, mon..sun."""
        return _week(self.probability, self.by_weekday)


class Shrinkage(Model):
    """Unplanned off-phone episodes (coaching, system trouble, personal): a rate per logged-in hour (or the day's
    weekday's, in `by_weekday`: needs a horizon with a start_date) and a length."""

    per_hour: FiniteFloat = Field(ge=0)
    duration: Distribution
    by_weekday: dict[str, Annotated[FiniteFloat, Field(ge=0)]] | None = Field(
        None, description="the per_hour rate on these weekdays or ranges ({mon-fri: 0.6, sat: 0.3}); needs start_date"
    )

    @field_validator("by_weekday", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> Any:
        return weekday_mapping("Shrinkage", value, "{mon-fri: 0.6, sat: 0.3}")

    def by_day(self) -> tuple[float, ...]:
        """The per_hour rate on each weekday, mon..sun."""
        return _week(self.per_hour, self.by_weekday)


def weekday_errors(rule: Absence | Shrinkage | None, loc: tuple, horizon: Any) -> Iterator[tuple[tuple, str, Any]]:
    """An absence or shrinkage `by_weekday` needs a horizon with a start_date (to know each day's weekday)."""
    if rule is not None and rule.by_weekday is not None and horizon.start_date is None:
        yield (*loc, "by_weekday"), f"by_weekday {NEEDS_START_DATE}", rule.by_weekday


def _week(usual: float, by_weekday: dict[str, float] | None) -> tuple[float, ...]:
    """A value for each weekday, mon..sun: `by_weekday`'s, else `usual`."""
    week = [usual] * 7
    for key, value in (by_weekday or {}).items():
        for weekday in weekdays_of(key):
            week[weekday] = value
    return tuple(week)


class LearningCurve(Model):
    """New hires start slower: talk-time multiplier 1 + (start_multiplier − 1) · ½^(calls handled / calls_to_halve)."""

    start_multiplier: FiniteFloat = Field(ge=1, description="multiplier on the first call")
    calls_to_halve: FiniteFloat = Field(gt=0, description="calls after which the extra time has halved")

    def multiplier(self, calls_handled: int) -> float:
        return 1.0 + (self.start_multiplier - 1.0) * 0.5 ** (calls_handled / self.calls_to_halve)


def read_roster_csv(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, shift) of each row of a CSV with columns group, start, end, agents and optionally breaks,
    blocks (deferred blocks) and name (the line's, for experiments; empty for none).

    Breaks are written ``name minutes HH:MM-HH:MM [unpaid]`` and separated by ``;``, e.g.
    ``morning 15 09:30-11:00; lunch 30 12:00-13:30 unpaid``; blocks the same way, without ``unpaid``, e.g.
    ``email 60 14:00-16:00``.
    The file is UTF-8 (Excel's "CSV UTF-8", with its byte-order mark, too); a header line alone is no shifts.
    Problems (an unknown or missing column, a row with more or fewer fields than the header) raise ValueError
    naming the line.
    """
    text = read_text_file(path, "split the roster")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"the file is empty; its first line must name the columns: {', '.join(ROSTER_COLUMNS)}")
        columns = _roster_columns(header)
        shifts = []
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(columns):
                raise ValueError(
                    f"line {reader.line_num}: {len(fields)} fields, but the header names "
                    f"{len(columns)} columns ({', '.join(columns)})"
                )
            shift: dict[str, Any] = {name: field.strip() for name, field in zip(columns, fields, strict=True)}
            if shift["agents"].isdigit():
                shift["agents"] = int(shift["agents"])
            if not shift.get("name", "x"):
                del shift["name"]  # an empty name: the line has none
            breaks = shift.pop("breaks", "")
            shift["breaks"] = [_parse_break(part, reader.line_num) for part in breaks.split(";") if part.strip()]
            blocks = shift.pop("blocks", "")
            shift["deferred_blocks"] = [
                _parse_block(part, reader.line_num) for part in blocks.split(";") if part.strip()
            ]
            shifts.append((reader.line_num, shift))
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: not valid CSV ({exc})") from None
    return shifts


def _roster_columns(header: list[str]) -> list[str]:
    """The column names of a roster CSV's header line, checked against the columns a roster has."""
    columns = [name.strip() for name in header]
    allowed = ", ".join(ROSTER_COLUMNS)
    for name in columns:
        if name not in ROSTER_COLUMNS:
            raise ValueError(f"line 1: unknown column '{name}'; allowed: {allowed}")
        if columns.count(name) > 1:
            raise ValueError(f"line 1: column '{name}' is given twice")
    missing = [name for name in ROSTER_COLUMNS[:4] if name not in columns]
    if missing:
        raise ValueError(
            f"line 1: column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing; the columns "
            f"are {allowed} (breaks, blocks and name may be left out)"
        )
    return columns


def _parse_break(text: str, line: int) -> dict[str, Any]:
    words = text.split()
    try:
        name, minutes, window = words[:3]
        start, end = window.split("-")
        paid = words[3:] != ["unpaid"]
        if words[3:] not in ([], ["unpaid"]):
            raise ValueError
        return {"name": name, "minutes": float(minutes), "window": (start, end), "paid": paid}
    except ValueError:
        raise ValueError(f"line {line}: break '{text.strip()}' is not 'name minutes HH:MM-HH:MM [unpaid]'") from None


def _parse_block(text: str, line: int) -> dict[str, Any]:
    words = text.split()
    try:
        name, minutes, window = words
        start, end = window.split("-")
        return {"name": name, "minutes": float(minutes), "window": (start, end)}
    except ValueError:
        raise ValueError(f"line {line}: block '{text.strip()}' is not 'name minutes HH:MM-HH:MM'") from None
