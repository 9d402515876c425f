"""The people side: shifts with breaks, absence, unplanned shrinkage and the learning curve of new hires."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution
from bposim.scenario.common import Clock, Model, clock_seconds


class Break(Model):
    """A break or lunch: its length and the window it must fit in; each agent's is staggered across it."""

    name: str = Field(min_length=1)
    minutes: float = Field(gt=0)
    window: tuple[str, str] = Field(description="earliest start and latest end, HH:MM")
    paid: bool = True

    @field_validator("window")
    @classmethod
    def _clock(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = (clock_seconds(v) for v in value)
        if end <= start:
            raise ValueError(f"window end {value[1]} must be after its start {value[0]}")
        return value

    @model_validator(mode="after")
    def _fits(self) -> Break:
        if self.window_seconds[1] - self.window_seconds[0] < self.minutes * 60:
            raise ValueError(f"a {self.minutes:g}-minute break does not fit in the window {'-'.join(self.window)}")
        return self

    @property
    def window_seconds(self) -> tuple[int, int]:
        return clock_seconds(self.window[0]), clock_seconds(self.window[1])


class Shift(Model):
    """A shift pattern: how many agents of a group work from start to end, with which breaks."""

    group: str
    start: Clock = Field(description="log-in time, HH:MM")
    end: Clock = Field(description="log-out time, HH:MM; a call in progress is finished (overtime)")
    agents: int = Field(ge=0)
    breaks: list[Break] = []

    @model_validator(mode="after")
    def _order(self) -> Shift:
        start, end = clock_seconds(self.start), clock_seconds(self.end)
        if end <= start:
            raise ValueError(f"shift end {self.end} must be after its start {self.start}")
        for item in self.breaks:
            low, high = item.window_seconds
            if low < start or high > end:
                raise ValueError(f"break '{item.name}' window {'-'.join(item.window)} is outside the shift "
                                 f"{self.start}-{self.end}")  # fmt: skip
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
    """Each rostered agent is absent for the whole day with this probability."""

    probability: float = Field(ge=0, lt=1)


class Shrinkage(Model):
    """Unplanned off-phone episodes (coaching, system trouble, personal): a rate per logged-in hour and a length."""

    per_hour: float = Field(ge=0)
    duration: Distribution


class LearningCurve(Model):
    """New hires start slower: talk-time multiplier 1 + (start_multiplier − 1) · ½^(calls handled / calls_to_halve)."""

    start_multiplier: float = Field(ge=1, description="multiplier on the first call")
    calls_to_halve: float = Field(gt=0, description="calls after which the extra time has halved")

    def multiplier(self, calls_handled: int) -> float:
        return 1.0 + (self.start_multiplier - 1.0) * 0.5 ** (calls_handled / self.calls_to_halve)


def read_roster_csv(path: Path) -> list[dict[str, Any]]:
    """Shifts from a CSV with columns group, start, end, agents and optionally breaks.

    Breaks are written ``name minutes HH:MM-HH:MM [unpaid]`` and separated by ``;``, e.g.
    ``morning 15 09:30-11:00; lunch 30 12:00-13:30 unpaid``.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    shifts = []
    for number, row in enumerate(rows, start=2):
        shift: dict[str, Any] = {key: (value or "").strip() for key, value in row.items() if key is not None}
        breaks = shift.pop("breaks", "")
        shift["breaks"] = [_parse_break(text, number) for text in breaks.split(";") if text.strip()]
        shifts.append(shift)
    return shifts


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
        raise ValueError(
            f"line {line}: break '{text.strip()}' is not 'name minutes HH:MM-HH:MM [unpaid]'"
        ) from None
