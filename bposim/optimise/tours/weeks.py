"""The weeks an agent may work, as classes of tours: which days are worked and which shift types each may hold.

A skeleton fixes, for one contract, crew and week, the days worked (a pattern meeting the days-worked, days-off
and weekend rules; a day open less than the grid is worked only on the shift types that fit its hours), a start
band (every shift type starting within `start_window_hours` of the band's earliest
start, so that any choice of shifts inside it keeps the week's starts within the window) and, where the weekly
hours limit can bind, the paid hours of each worked day. Any choice of one shift type per worked day among its
options is then a week that meets every weekly rule; only the rest between shifts is left to the programme.

Crews serve the "alternate" weekend rule: crew r has Saturday and Sunday off in the weeks t with t % 2 == r, and
an agent stays in one crew.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bposim.optimise.tours.model import Contract, TourError, TourProblem

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Skeleton:
    """A class of weekly tours: contract (index), crew, week, the days worked (horizon day indices, in order) and
    each worked day's shift type options (indices into the problem's shifts)."""

    contract: int
    crew: int
    week: int
    worked: tuple[int, ...]
    options: tuple[tuple[int, ...], ...]


def crews(contract: Contract) -> tuple[int, ...]:
    """The crews a contract's agents are split into: two for alternate weekends off, else one."""
    return (0, 1) if contract.weekend == "alternate" else (0,)


def day_patterns(problem: TourProblem, contract: Contract, crew: int, week: int) -> list[tuple[int, ...]]:
    """Every set of days (horizon indices) an agent of the contract and crew may work in the week."""
    days = list(problem.weeks[week])
    open_days = [d for d in days if problem.days[d].open]
    found = []
    for count in range(contract.min_days, min(contract.max_days, len(open_days)) + 1):
        for worked in itertools.combinations(open_days, count):
            off = [d not in worked for d in days]
            if _off_run(off) >= min(contract.days_off_together, len(days)) and _weekend_ok(
                problem, contract, crew, week, set(worked)
            ):
                found.append(worked)
    return found


def _off_run(off: list[bool]) -> int:
    """The longest run of consecutive days off in the week."""
    longest = run = 0
    for day_off in off:
        run = run + 1 if day_off else 0
        longest = max(longest, run)
    return longest


def _weekend_ok(problem: TourProblem, contract: Contract, crew: int, week: int, worked: set[int]) -> bool:
    weekend = [d for d in problem.weeks[week] if problem.days[d].weekend]
    if not weekend or contract.weekend == "any":
        return True
    if contract.weekend == "one_off":
        return any(d not in worked for d in weekend)
    if contract.weekend == "both_off" or week % 2 == crew:
        return not any(d in worked for d in weekend)
    return True


def start_bands(problem: TourProblem, contract: Contract) -> list[tuple[int, ...]]:
    """The shift types (indices) whose starts lie within the start window of each band's earliest start; bands
    that another band contains are left out (their weeks are the other's too). One band of every shift type
    without a window."""
    mine = problem.contract_shifts(contract)
    if contract.start_window_hours is None:
        return [tuple(mine)]
    window = contract.start_window_hours * 3600
    starts = sorted({problem.shifts[i].start for i in mine})
    bands = [frozenset(i for i in mine if a <= problem.shifts[i].start <= a + window + TOLERANCE) for a in starts]
    kept = [band for band in bands if not any(band < other for other in bands)]
    return [tuple(sorted(band)) for band in dict.fromkeys(kept)]


def paid_profiles(problem: TourProblem, contract: Contract, band: tuple[int, ...], days: int) -> list[tuple | None]:
    """The paid hours of each of `days` worked days that keep within the weekly limit, or [None] when any choice
    does (no limit, or the band's longest shifts on every day fit)."""
    paid = sorted({round(problem.shifts[i].paid, 6) for i in band})
    limit = contract.max_weekly_hours
    if limit is None or days * paid[-1] <= limit + TOLERANCE:
        return [None]
    return [profile for profile in itertools.product(paid, repeat=days) if sum(profile) <= limit + TOLERANCE]


def skeletons(problem: TourProblem) -> list[Skeleton]:
    """Every skeleton of every contract, crew and week. A crew with a week no pattern meets is left out (its
    weekend rule cannot hold, e.g. every day of the week but the weekend closed); TourError naming a contract none
    of whose crews can work every week."""
    found = []
    for c, contract in enumerate(problem.contracts):
        bands = start_bands(problem, contract)
        reasons = []
        for crew in crews(contract):
            weeks = [
                [
                    Skeleton(c, crew, week, worked, options)
                    for worked in day_patterns(problem, contract, crew, week)
                    for band in bands
                    for options in _options(problem, contract, band, worked)
                ]
                for week in range(len(problem.weeks))
            ]
            empty = [week for week, mine in enumerate(weeks) if not mine]
            if empty:
                reasons.append(_no_week(problem, contract, crew, empty[0]))
                continue
            found.extend(skeleton for mine in weeks for skeleton in mine)
        if len(reasons) == len(crews(contract)):
            raise TourError(reasons[0])
    return found


def _options(problem: TourProblem, contract: Contract, band: tuple[int, ...], worked: tuple[int, ...]) -> list:
    """Each worked day's shift options in the band that fit the day's hours, one tuple per paid-hours profile
    within the weekly limit; none where a worked day would have no option."""
    fitting = [tuple(i for i in band if problem.days[d].fits(problem.shifts[i])) for d in worked]
    found = []
    for profile in paid_profiles(problem, contract, band, len(worked)):
        if profile is None:
            options = tuple(fitting)
        else:
            options = tuple(
                tuple(i for i in mine if abs(problem.shifts[i].paid - p) < TOLERANCE)
                for mine, p in zip(fitting, profile, strict=True)
            )
        if all(options):
            found.append(options)
    return found


def _no_week(problem: TourProblem, contract: Contract, crew: int, week: int) -> str:
    """Why no week of the contract exists: the rules in words."""
    days = problem.weeks[week]
    open_days = sum(problem.days[d].open for d in days)
    rules = [
        f"{contract.min_days}-{contract.max_days} days worked",
        f"at least {contract.days_off_together} days off together",
        f"weekend {contract.weekend}" + (f" (crew {crew + 1})" if contract.weekend == "alternate" else ""),
    ]
    if contract.max_weekly_hours is not None:
        rules.append(f"at most {contract.max_weekly_hours:g} paid hours")
    return (
        f"contract '{contract.name}' (group '{contract.group}'): no week {week + 1} meets its rules "
        f"({', '.join(rules)}) with {open_days} open day{'' if open_days == 1 else 's'} of {len(days)}"
    )
