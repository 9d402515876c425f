"""What a horizon on dates is, in the words a planner reads it: its span, open days and holidays, and the hours of
each weekday ("Mon 1 Mar to Sun 28 Mar 2027 (4 weeks): 23 open days; closed Wed 17 Mar", "mon-fri 08:00-20:00,
sat 09:00-14:00, sun closed"), for `bposim validate`, `bposim run` and the reports. The calendar itself (dates,
weekdays, each day's hours and open intervals) is the horizon's: `bposim.scenario.Horizon`."""

from __future__ import annotations

from bposim.formatting import date_label
from bposim.scenario import CallType, Horizon
from bposim.scenario.calendar import WEEKDAYS, hours_label


def span(horizon: Horizon) -> str:
    """The horizon's dates and open days, e.g. "Mon 1 Mar to Sun 28 Mar 2027 (4 weeks): 23 open days; closed
    Wed 17 Mar" (a horizon with a start_date)."""
    dates = horizon.dates()
    weeks = f"{horizon.days // 7} week{'s' if horizon.days != 7 else ''}" if horizon.days % 7 == 0 else ""
    length = weeks or f"{horizon.days} day{'s' if horizon.days != 1 else ''}"
    text = f"{date_label(dates[0])} to {date_label(dates[-1])} {dates[-1].year} ({length}): "
    text += f"{len(horizon.open_days())} open day{'s' if len(horizon.open_days()) != 1 else ''}"
    if horizon.closed_dates:
        text += "; closed " + ", ".join(date_label(date) for date in sorted(horizon.closed_dates))
    return text


def week_hours(horizon: Horizon) -> str:
    """The hours of each weekday, runs of weekdays with the same hours joined: "mon-fri 08:00-20:00, sat
    09:00-14:00, sun closed"."""
    parts = []
    week = horizon.week
    first = 0
    for weekday in range(1, 8):
        if weekday == 7 or week[weekday] != week[first]:
            last = weekday - 1
            days = WEEKDAYS[first] if first == last else f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
            parts.append(f"{days} {hours_label(week[first])}")
            first = weekday
    return ", ".join(parts)


def description(horizon: Horizon) -> str:
    """The span and the weekly hours, as `bposim validate` prints them."""
    return f"{span(horizon)}; open {week_hours(horizon)}"


def weekday_volumes(call_type: CallType, horizon: Horizon) -> str:
    """A call type's arrivals by weekday, when it has calendar arrivals (by_day_type, weekly, by_date): the volume
    of each open weekday, runs with the same volume joined, then the date overrides: "voice: mon-fri 770, sat 227
    calls a day; 2027-03-15 ×1.4". Empty for arrivals the same every open day."""
    from bposim.arrivals import weekday_rates, weekday_span

    arrivals = call_type.arrivals
    if not arrivals.calendar_fields:
        return ""
    hours = horizon.interval_seconds / 3600.0
    volumes = [
        round(sum(rates[i] for i in weekday_span(horizon, weekday)) * hours) if horizon.week[weekday] else None
        for weekday, rates in enumerate(weekday_rates(arrivals, horizon))
    ]
    parts = []
    first = 0
    for weekday in range(1, 8):
        if weekday == 7 or volumes[weekday] != volumes[first]:
            if volumes[first] is not None:
                last = weekday - 1
                days = WEEKDAYS[first] if first == last else f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
                parts.append(f"{days} {volumes[first]:,}")
            first = weekday
    text = f"{call_type.name}: {', '.join(parts)} a day"
    for date, override in (arrivals.by_date or {}).items():
        text += f"; {date} " + (f"×{override.factor:g}" if override.factor is not None else "own rates")
    return text
