"""A kind of contact as typed, validated configuration: its channel, arrivals, work content, customers' patience and
retrials, and the service-level objective it is measured against (the scenario's, or its own); and the day-level
busyness that scales every call type's arrivals.

Channels (`channel`): `voice` and `chat` are live (a customer waits, may hang up, and the service level is the
share answered within seconds); `email` and `case` are deferred work (items wait in a backlog that carries over
nights and closed days, never abandon unless given a patience, and the service level is the share completed within
a due time in hours). A chat agent holds several sessions at once (`agent_groups[].max_concurrency`); each session
then takes longer, by the `sequential_share` of its handle time that needs the agent's whole attention. An
`interruptible` email or case item may be stopped for a live contact that would otherwise wait, and is resumed
later with the work it has left.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from bposim.distributions import Distribution
from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario.behaviour import Balking, Factor, Message
from bposim.scenario.calendar import NEEDS_START_DATE, WEEKDAYS, read_date, weekday_mapping, weekdays_of
from bposim.scenario.common import Model, custom_error
from bposim.scenario.journeys import Transfer
from bposim.scenario.resolution import Resolution

LIVE_CHANNELS = ("voice", "chat")
DEFERRED_CHANNELS = ("email", "case")
CHANNELS = LIVE_CHANNELS + DEFERRED_CHANNELS
DUE_HOURS = {"email": 24.0, "case": 48.0}  # a deferred call type's due time when it gives none
PERIODS = ("interval", "day", "week", "month")  # what a service-level target is measured over
Period = Literal["interval", "day", "week", "month"]
PERIOD_HELP = (
    "what the target is measured over, pooled: interval, day, week (ISO, Monday to Sunday) or month (calendar); "
    "week and month need horizon.start_date"
)
SHARE_TOLERANCE = 1e-6  # how far from 1 the weekday shares of a weekly volume may sum


class ServiceLevel(Model):
    """The service-level objective: `target` of calls answered within `threshold_seconds`, over each `period`
    (`bposim.periods`)."""

    threshold_seconds: FiniteFloat = Field(20, ge=0)
    target: FiniteFloat = Field(0.8, ge=0, le=1)
    definition: Literal["offered", "answered", "offered_less_short_abandons"] = Field(
        "offered",
        description="denominator: all offered calls; answered calls; or offered minus abandons within threshold",
    )
    period: Period = Field("interval", description=PERIOD_HELP)


class ServiceLevelOverride(Model):
    """A call type's own threshold, target and period; what is left out comes from the scenario's service_level.

    Deferred work (email, case) is due `threshold_hours` after it arrives (default: email 24 h, case 48 h)."""

    threshold_seconds: FiniteFloat | None = Field(None, ge=0)
    threshold_hours: FiniteFloat | None = Field(None, gt=0, description="due time of deferred work (email, case)")
    target: FiniteFloat | None = Field(None, ge=0, le=1)
    period: Period | None = Field(None, description=PERIOD_HELP)

    @model_validator(mode="after")
    def _one_threshold(self) -> ServiceLevelOverride:
        if self.threshold_seconds is not None and self.threshold_hours is not None:
            raise ValueError("give threshold_seconds (live channels) or threshold_hours (email, case), not both")
        return self


class Rates(Model):
    """Poisson arrivals at a constant hourly rate, or one hourly rate per interval of the day's grid."""

    per_hour: FiniteFloat | None = Field(None, ge=0)
    per_interval: list[Annotated[FiniteFloat, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _one(self) -> Rates:
        if (self.per_hour is None) == (self.per_interval is None):
            raise ValueError("give either per_hour or per_interval (hourly rates, one per interval)")
        return self

    def hourly_rates(self, intervals: int) -> list[float]:
        """The hourly arrival rate of each interval of a day."""
        return list(self.per_interval) if self.per_interval is not None else [self.per_hour] * intervals


class DateOverride(Model):
    """One date's arrivals: the day's usual rates times a `factor` (a campaign launch: 1.4), or rates of its own."""

    factor: FiniteFloat | None = Field(None, ge=0, description="multiplies the date's usual rates")
    per_hour: FiniteFloat | None = Field(None, ge=0)
    per_interval: list[Annotated[FiniteFloat, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _one(self) -> DateOverride:
        if sum(value is not None for value in (self.factor, self.per_hour, self.per_interval)) != 1:
            raise ValueError("give one of factor, per_hour or per_interval (hourly rates, one per interval)")
        return self


class WeeklyVolume(Model):
    """Arrivals as a week's volume, shared out over the weekdays, and over each day's open intervals by an intraday
    shape (flat when left out)."""

    volume: FiniteFloat = Field(ge=0, description="calls offered in a whole week (all seven weekdays)")
    weekday_share: dict[str, Annotated[FiniteFloat, Field(ge=0)]] = Field(
        description="share of the week's volume on each weekday (a range, mon-fri, gives each of its days the "
        "share); the seven weekdays' shares sum to 1, weekdays left out get none"
    )
    intraday: list[Annotated[FiniteFloat, Field(ge=0)]] | None = Field(
        None,
        description="weights, one per interval of the grid, scaled to sum to 1 over each day's open intervals",
    )

    @field_validator("weekday_share", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        return weekday_mapping("WeeklyVolume", value, "{mon-fri: 0.17, sat: 0.15}")

    @model_validator(mode="after")
    def _sums_to_one(self) -> WeeklyVolume:
        total = math.fsum(self.shares())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                f"weekday_share sums to {total:g} over the week (a range counts once per weekday); the shares of "
                "the seven weekdays must sum to 1"
            )
        return self

    def shares(self) -> list[float]:
        """The share of the week's volume on each weekday, mon..sun."""
        shares = [0.0] * 7
        for key, share in self.weekday_share.items():
            for weekday in weekdays_of(key):
                shares[weekday] = share
        return shares


class Arrivals(Rates):
    """A call type's arrivals: Poisson at hourly rates, the same every open day (`per_hour`, `per_interval`), or
    per day type (`by_day_type`), or a weekly volume (`weekly`); `by_date` overrides single dates. The calendar
    forms need a horizon with a start_date; `bposim.arrivals.day_rates` gives the rates of each day."""

    by_day_type: dict[str, Rates] | None = Field(
        None,
        description="rates per weekday or range of weekdays ({mon-fri: {per_interval: [...]}, sat: {per_hour: 20}}); "
        "weekdays left out take per_hour / per_interval, or get no arrivals",
    )
    weekly: WeeklyVolume | None = Field(None, description="a week's volume, weekday shares and an intraday shape")
    by_date: dict[datetime.date, DateOverride] | None = Field(
        None, description="dates with other arrivals ({2027-03-15: {factor: 1.4}}), inside the horizon"
    )

    @field_validator("by_day_type", mode="before")
    @classmethod
    def _day_types(cls, value: Any) -> Any:
        return weekday_mapping("Arrivals", value, "{mon-fri: {per_hour: 120}, sat: {per_hour: 40}}")

    @field_validator("by_date", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if value is None or not isinstance(value, dict):
            return value
        dates: dict[datetime.date, Any] = {}
        for key, override in value.items():
            try:
                date = read_date(key)
            except ValueError as exc:
                raise custom_error("Arrivals", [((str(key),), str(exc), key)]) from None
            if date in dates:
                raise custom_error("Arrivals", [((str(key),), f"{date} is given twice", key)])
            dates[date] = override
        return dates

    @model_validator(mode="after")
    def _one(self) -> Arrivals:
        plain = self.per_hour is not None or self.per_interval is not None
        if self.per_hour is not None and self.per_interval is not None:
            raise ValueError("give either per_hour or per_interval (hourly rates, one per interval), not both")
        if self.weekly is not None and (plain or self.by_day_type is not None):
            raise ValueError("weekly gives every day's arrivals: give it without per_hour, per_interval, by_day_type")
        if not plain and self.weekly is None and self.by_day_type is None:
            raise ValueError("give per_hour, per_interval (hourly rates, one per interval), by_day_type or weekly")
        return self

    @property
    def calendar_fields(self) -> list[str]:
        """The fields given that need a horizon on dates."""
        return [name for name in ("by_day_type", "weekly", "by_date") if getattr(self, name) is not None]

    def day_types(self) -> list[Rates | None]:
        """The rates of each weekday, mon..sun, by day type (weekly volumes aside): by_day_type's, else the plain
        per_hour / per_interval, else None (no arrivals)."""
        plain = Rates(per_hour=self.per_hour, per_interval=self.per_interval) if self._plain else None
        week: list[Rates | None] = [plain] * 7
        for key, rates in (self.by_day_type or {}).items():
            for weekday in weekdays_of(key):
                week[weekday] = rates
        return week

    @property
    def _plain(self) -> bool:
        return self.per_hour is not None or self.per_interval is not None

    def hourly_rates(self, intervals: int, interval_hours: float | None = None) -> list[float]:
        """The hourly arrival rate of each interval of a day: the plain rates (every open day's); with only day
        types or a weekly volume, the busiest day type's (interval by interval), what a one-day plan must cover
        (a weekly volume needs `interval_hours`). `bposim.arrivals.day_rates` gives each day's own."""
        if self._plain:
            return super().hourly_rates(intervals)
        if self.weekly is not None:
            shape = self.weekly.intraday or [1.0] * intervals
            total = math.fsum(shape)
            if interval_hours is None:
                raise ValueError("a weekly volume's hourly rates need the interval length (interval_hours)")
            peak = max(self.weekly.shares()) * self.weekly.volume
            return [peak * weight / total / interval_hours if total else 0.0 for weight in shape]
        curves = [rates.hourly_rates(intervals) for rates in self.day_types() if rates is not None]
        return [max(values) for values in zip(*curves, strict=True)]


class Busyness(Model):
    """A day-level factor (mean 1) multiplying every call type's rates: real days vary more than Poisson.

    Alone, `cv` draws each day's factor from a gamma distribution. With `week_correlation` ρ, busy days come in busy
    weeks: a day's factor is a week factor shared by the days of its week (mon-sun on a calendar horizon, else
    days 0-6, 7-13, ...) times a factor of its own, both lognormal with mean 1, splitting the variance of the log
    factor σ² = ln(1 + cv²) into ρσ² for the week and (1 − ρ)σ² for the day: each day's factor keeps mean 1 and
    the coefficient of variation cv, the log factors of two days of a week correlate by ρ, and the factors
    themselves by (e^(ρσ²) − 1) / (e^(σ²) − 1), a little less."""

    cv: FiniteFloat = Field(gt=0, le=2, description="coefficient of variation of the daily factor")
    week_correlation: FiniteFloat | None = Field(
        None, ge=0, le=1, description="share of the day factor's log-variance shared by the days of a week (0 to 1)"
    )


class Retrial(Model):
    """Callers who abandon, balk or get a busy signal may call again after a delay, with a fresh patience and handle
    time unless told to keep their first attempt's; a retrial due after closing is not made unless `after_closing`
    (it then comes at the next opening)."""

    after_abandon: FiniteFloat = Field(0, ge=0, le=1, description="probability an abandoning caller calls again")
    after_blocked: FiniteFloat = Field(0, ge=0, le=1, description="probability a blocked caller calls again")
    after_balk: FiniteFloat = Field(0, ge=0, le=1, description="probability a caller who balked calls again")
    delay: Distribution = Field(description="time until the caller tries again")
    max_attempts: PositiveWholeNumber = Field(3, description="attempts per caller, the first included")
    keep_patience: bool = Field(False, description="a retrial has the first attempt's patience, not a fresh draw")
    keep_handle_time: bool = Field(False, description="a retrial has the first attempt's handle time")
    after_closing: bool = Field(
        False, description="a retrial due after closing comes at the next opening (else it is not made)"
    )


class BacklogBand(Model):
    """Items already waiting when the horizon opens, all of one age."""

    items: WholeNumber
    age_hours: FiniteFloat = Field(ge=0, description="how long they have waited at the first opening")


class CallType(Model):
    """A kind of contact with its own channel, arrivals, work content, customers' patience and objective."""

    name: str = Field(min_length=1)
    channel: Literal["voice", "chat", "email", "case"] = Field(
        "voice", description="voice and chat are live; email and case are deferred work with a due time in hours"
    )
    priority: PositiveWholeNumber = Field(1, description="1 is served first; larger numbers wait behind")
    arrivals: Arrivals
    handle_time: Distribution
    after_call_work: Distribution | None = Field(None, description="wrap-up after the call; none if left out")
    patience: Distribution | None = Field(None, description="time callers wait before hanging up; never if left out")
    service_level: ServiceLevelOverride | None = None
    retrial: Retrial | None = None
    sequential_share: FiniteFloat | None = Field(
        None,
        ge=0,
        le=1,
        description="chat: the share of a session's handle time that needs the agent's whole attention; a session "
        "held with n-1 others takes 1 + share * (n-1) times as long (0, the default: no slow-down)",
    )
    initial_backlog: list[BacklogBand] = Field([], description="email, case: items waiting at the first opening")
    interruptible: bool = Field(
        False,
        description="email, case: an agent working an item stops it for a live contact that would otherwise wait; "
        "the item goes back to the head of its queue with the work it has left",
    )
    balking: Balking | None = Field(None, description="voice, chat: callers who would queue may hang up at once")
    max_wait_seconds: FiniteFloat | None = Field(
        None, gt=0, description="voice, chat: a caller still waiting this long is sent to leave a message"
    )
    message: Message | None = Field(None, description="what the message at max_wait_seconds does (needs it)")
    handle_time_factor: list[Factor] | None = Field(
        None, description="multipliers on drawn handle times, one per interval of the day's grid (by arrival)"
    )
    patience_factor: list[Factor] | None = Field(
        None, description="multipliers on drawn patience, one per interval of the day's grid (by arrival)"
    )
    transfers: list[Transfer] = Field(
        [], description="voice: call types a served caller may be passed on to (`bposim.scenario.journeys`)"
    )
    resolution: Resolution | None = Field(
        None, description="first-contact resolution: unresolved contacts come back as repeats (none if left out)"
    )
    site_shares: dict[str, FiniteFloat] | None = Field(
        None,
        min_length=1,
        description="voice: sites (sites[].name) → the share of first attempts allotted to each, summing to 1; only "
        "the allotted site's groups serve a caller (`bposim.scenario.site_shares`)",
    )
    site_overflow_after_seconds: FiniteFloat | None = Field(
        None, gt=0, description="with site_shares: other sites' groups may take a caller still waiting this long"
    )

    @field_validator("site_shares")
    @classmethod
    def _shares(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None and (problem := site_share_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _channel_fields(self) -> CallType:
        """Fields that belong to one kind of channel are refused on the others, naming the channel."""
        live = self.channel in LIVE_CHANNELS
        misplaced = []
        if self.sequential_share is not None and self.channel != "chat":
            misplaced.append("sequential_share (chat only)")
        if live and self.initial_backlog:
            misplaced.append("initial_backlog (email and case only)")
        if live and self.interruptible:
            misplaced.append("interruptible (email and case only: a live contact is never stopped)")
        if not live and self.retrial is not None:
            misplaced.append("retrial (voice and chat only)")
        for name in ("balking", "max_wait_seconds", "message"):
            if not live and getattr(self, name) is not None:
                misplaced.append(f"{name} (voice and chat only)")
        if self.channel == "chat" and self.message is not None and self.message.then == "callback":
            misplaced.append("message.then: callback (callbacks are voice only)")
        if self.site_overflow_after_seconds is not None and self.site_shares is None:
            raise ValueError("site_overflow_after_seconds needs site_shares (the sites whose lines it overflows)")
        if self.message is not None and self.max_wait_seconds is None:
            raise ValueError("message needs max_wait_seconds (how long a caller waits before being sent to it)")
        override = self.service_level
        if live and override is not None and override.threshold_hours is not None:
            misplaced.append("service_level.threshold_hours (email and case; live channels take threshold_seconds)")
        if not live and override is not None and override.threshold_seconds is not None:
            misplaced.append("service_level.threshold_seconds (voice and chat; email and case take threshold_hours)")
        if misplaced:
            raise ValueError(f"{_article(self.channel)} {self.channel} call type cannot have {'; '.join(misplaced)}")
        return self

    @property
    def live(self) -> bool:
        """Whether a customer waits on the line (voice, chat), rather than an item in a backlog (email, case)."""
        return self.channel in LIVE_CHANNELS

    @property
    def due_seconds(self) -> float | None:
        """Deferred work: seconds from arrival to due time; None for live channels."""
        if self.live:
            return None
        hours = self.service_level.threshold_hours if self.service_level is not None else None
        return (DUE_HOURS[self.channel] if hours is None else hours) * 3600.0

    @property
    def stretch(self) -> float:
        """Chat: the extra handle time per other session held (the sequential share; 0 when none is given)."""
        return self.sequential_share or 0.0


def site_share_problem(shares: dict[str, float]) -> str | None:
    """What is wrong with a call type's site shares alone (None: nothing): each from 0 to 1, summing to 1. Their
    checks against the centre are in `scenario.site_shares`."""
    for site, share in shares.items():
        if not 0 <= share <= 1:
            return f"site '{site}': a share is from 0 to 1, got {share:g}"
    total = math.fsum(shares.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        return f"the shares must sum to 1, they sum to {total:g}"
    return None


def arrivals_calendar_errors(arrivals: Arrivals, loc: tuple, horizon: Any) -> Iterator[tuple[tuple, str, Any]]:
    """What a horizon refuses in arrivals by day type, weekly volumes and date overrides: any of them without a
    start_date; a curve without one value per interval of the grid; a date outside the horizon or closed; a weekday
    with a share of the week's volume that is closed, or whose open intervals the intraday shape gives no weight."""
    if horizon.start_date is None:
        for name in arrivals.calendar_fields:
            yield (*loc, name), f"{name} {NEEDS_START_DATE}", name
        return
    curves = [
        ((*loc, "by_day_type", key, "per_interval"), rates.per_interval)
        for key, rates in (arrivals.by_day_type or {}).items()
    ]
    if arrivals.weekly is not None:
        curves.append(((*loc, "weekly", "intraday"), arrivals.weekly.intraday))
    last = horizon.date(horizon.days - 1)
    for date, override in (arrivals.by_date or {}).items():
        where = (*loc, "by_date", str(date))
        if not horizon.start_date <= date <= last:
            yield where, f"{date} is outside the horizon, {horizon.start_date} to {last}", str(date)
        elif date in horizon.closed_dates:
            yield where, f"{date} is in horizon.closed_dates: nothing arrives on a closed day", str(date)
        curves.append(((*where, "per_interval"), override.per_interval))
    for where, curve in curves:
        if curve is not None and len(curve) != horizon.intervals:
            message = (
                f"{len(curve)} values given; the horizon has {horizon.intervals} intervals of "
                f"{horizon.interval_minutes} minutes (one value per interval of the day's grid, "
                "from the earliest opening of the week)"
            )
            yield where, message, curve
    weekly = arrivals.weekly
    if weekly is None:
        return
    shape = weekly.intraday
    for weekday, share in enumerate(weekly.shares()):
        hours = horizon.week[weekday]
        where = (*loc, "weekly", "weekday_share")
        if share > 0 and hours is None:
            yield where, f"{WEEKDAYS[weekday]} is closed, but has a share of {share:g}; give it none", share
        elif share > 0 and shape is not None and len(shape) == horizon.intervals:
            grid = horizon.start_seconds
            first = round((hours.open - grid) / horizon.interval_seconds)
            stop = round((hours.close - grid) / horizon.interval_seconds)
            if not horizon.opening_hours:
                first, stop = 0, horizon.intervals
            if not math.fsum(shape[first:stop]) > 0:
                message = f"the intraday shape gives no weight to {WEEKDAYS[weekday]}'s open intervals"
                yield (*loc, "weekly", "intraday"), message, shape


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
