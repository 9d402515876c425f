"""How much work a scenario asks of the engine, estimated from the scenario alone, and the limits that keep a run
finishing on a laptop in minutes and a few GB.

The estimate follows what the engine does: arrivals are drawn per interval at the call type's rate (the day's
busyness factor has mean 1); a caller may try again after abandoning or a busy signal, and come back with a repeat
contact (worst case: no contact resolves); a bot session precedes every attempt of a call type with self-service; a
callback adds a record per accepted offer; a transfer a leg per caller passed on (as if every attempt were
answered); shrinkage episodes fall due at `per_hour` per logged-in agent hour; a tool fails once per mean time
between failures plus mean repair, on a clock that runs through the nights, and goes down for each maintenance
window every day. The figures are expectations with worst cases where the outcome of calls matters (every attempt
fails and retries with the retrial probability). Computing them is O(size of the scenario), never O(calls).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from bposim.arrivals import day_rates
from bposim.distributions import Empirical, Exponential, Fixed, Gamma, Lognormal, Uniform, Weibull
from bposim.memo import per_scenario
from bposim.scenario import SECONDS_PER_DAY, Scenario, ScenarioError
from bposim.scenario.journeys import transfer_matrix

MAX_REPLICATIONS = 100_000
"""Replications of one run (`simulate`, `bposim run --replications`, `bposim staff --replications`, experiments)."""
MAX_CALLS = 10_000_000
"""Call attempts (retrials and callbacks included) per run: ~1 min at 200,000 calls/s, ~2.3 GB at 230 B a call."""
MAX_AGENTS = 100_000
"""Agents a scenario may have at once (peak plan count plus every shift of the roster)."""
MAX_AGENT_RECORDS = 5_000_000
"""Log-ins, breaks, shrinkage episodes and absences per run: ~300 B and ~8 µs each."""
MAX_OUTAGES = 1_000_000
"""Tool outages (random and planned) per run."""
MAX_INTERVAL_ROWS = 5_000_000
"""Rows of the intervals and staffing tables per run (days × intervals × (call types + groups)): ~200 B each."""
MAX_CELLS = 10_000
"""Cells of an experiment (the product of its factors' lengths): each is a validated scenario of ~40 KB."""
MAX_TASKS = 100_000
"""Tasks of an experiment (cells × replications)."""
SWEEP_RUNS = 100
"""A sweep may do the work of this many runs at their limits (it runs on several cores and resumes when stopped)."""
MAX_SHIFT_VARIANTS = 200_000
"""Shifts `bposim staff` may choose from (group × start × length × break placements)."""


@dataclass(frozen=True)
class Part:
    """One contribution to a quantity: the field responsible, what to do about it, and its amount per day."""

    field: str
    advice: str
    per_day: float


@dataclass(frozen=True)
class Quantity:
    """Something the engine makes a lot of, its limit per run and the parts of the scenario that add up to it."""

    name: str
    limit: float | None  # None: estimated for the planner, not limited (bot sessions: never more than the calls)
    parts: tuple[Part, ...]
    per_scenario: bool = False  # agents: held at once, not made anew every day and replication
    days_advice: str = "lower horizon.days"

    @property
    def per_day(self) -> float:
        return math.fsum(part.per_day for part in self.parts)

    def worst(self) -> Part | None:
        """The part that contributes most (NaN and infinity first)."""
        return max(self.parts, key=lambda part: math.inf if math.isnan(part.per_day) else part.per_day, default=None)


@dataclass(frozen=True)
class Workload:
    """The expected work of a scenario: per day of one replication, and over the horizon's days."""

    days: int
    intervals: int
    quantities: dict[str, Quantity] = field(repr=False)

    def per_day(self, name: str) -> float:
        return self.quantities[name].per_day

    def per_replication(self, name: str) -> float:
        quantity = self.quantities[name]
        return quantity.per_day if quantity.per_scenario else quantity.per_day * self.days

    @property
    def calls_per_day(self) -> float:
        """Call attempts a day: first attempts, retrials and callbacks."""
        return self.per_day("call attempts")


@per_scenario  # a sweep checks each task's scenario: the same cell's again and again
def estimate(scenario: Scenario) -> Workload:
    """The expected work of one replication of `scenario`, quantity by quantity, with the fields behind each."""
    horizon = scenario.horizon
    open_seconds = horizon.open_seconds
    interval_hours = horizon.interval_seconds / 3600.0
    intervals = horizon.intervals
    days = horizon.days
    first, calls, bots = _call_parts(scenario, open_seconds, interval_hours)
    agents, records = _agent_parts(scenario, open_seconds, interval_hours)
    quantities = [
        Quantity("callers", None, tuple(first)),
        Quantity("call attempts", MAX_CALLS, tuple(calls)),
        Quantity("bot sessions", None, tuple(bots)),
        Quantity("agents", MAX_AGENTS, tuple(agents), per_scenario=True),
        Quantity("agent records (log-ins, breaks, shrinkage episodes, absences)", MAX_AGENT_RECORDS, tuple(records)),
        Quantity("tool outages", MAX_OUTAGES, tuple(_outage_parts(scenario, days, open_seconds))),
        Quantity("outbound dials", MAX_CALLS, tuple(_dial_parts(scenario, open_seconds, days))),
        Quantity(
            "interval rows",
            MAX_INTERVAL_ROWS,
            (_interval_part(scenario, intervals),),
            days_advice="lower horizon.days or raise horizon.interval_minutes",
        ),
    ]
    return Workload(days, intervals, {quantity.name: quantity for quantity in quantities})


def check(
    scenario: Scenario, replications: int = 1, *, source: str = "scenario", replications_field: str = "replications"
) -> Workload:
    """The workload of `replications` replications of `scenario`; beyond a limit, a ScenarioError naming `source`,
    the field that causes it and the estimate."""
    problems = []
    if not 1 <= replications <= MAX_REPLICATIONS:
        problems.append(
            f"{replications_field}: {replications:,} replications; bposim runs 1 to "
            f"{MAX_REPLICATIONS:,} — lower {replications_field}"
        )
    workload = estimate(scenario)
    if not problems:
        problems = run_problems(workload, replications, replications_field)
    if problems:
        raise ScenarioError(source, problems)
    return workload


def run_problems(workload: Workload, replications: int, replications_field: str = "replications") -> list[str]:
    """One line per quantity beyond its limit over the horizon's days × `replications`, naming the field to change."""
    problems = []
    for quantity in workload.quantities.values():
        worst = quantity.worst()
        if quantity.limit is None or worst is None:
            continue
        per_day = quantity.per_day
        days = 1 if quantity.per_scenario else workload.days
        runs = 1 if quantity.per_scenario else replications
        total = per_day * days * runs
        if total <= quantity.limit:
            continue
        if not per_day <= quantity.limit or runs * days == 1:
            where, advice = worst.field, worst.advice
        elif not per_day * days <= quantity.limit:
            where, advice = "horizon.days", quantity.days_advice
        else:
            where, advice = replications_field, f"lower {replications_field}"
        span = "at once" if quantity.per_scenario else f"over {days:,} day(s) × {runs:,} replication(s)"
        per = "at once" if quantity.per_scenario else "per run"
        problems.append(
            f"{where}: {_approximately(total)} {quantity.name} {span}; bposim runs at most "
            f"{about(quantity.limit)} {per} — {advice}"
        )
    return problems


def about(value: float) -> str:
    """A count as a planner reads it: 12,000 or 3.2e12 (two significant figures)."""
    value = _number(value)
    if math.isnan(value) or math.isinf(value):
        return "infinitely many" if value > 0 else "an unknown number of"
    if value < 100:
        return f"{value:.0f}"
    if value < 10_000_000:
        return f"{float(f'{value:.2g}'):,.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


def _number(value: float) -> float:
    """A count as a float; an integer too large for one is infinity."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _approximately(value: float) -> str:
    return f"about {about(value)}" if math.isfinite(value) else about(value)


# --- the parts of each quantity --------------------------------------------------------------------------------


def _first_attempts(arrivals, open_seconds: float, interval_hours: float, horizon) -> float:
    """First attempts a day: the plain rates over the grid; rates by day type, weekly volumes and date overrides
    over each day's open intervals, averaged over the days of the horizon."""
    if arrivals.calendar_fields:
        days = day_rates(arrivals, horizon)
        volume = math.fsum(math.fsum(rates[i] for i in horizon.open_intervals(day)) for day, rates in enumerate(days))
        return volume * interval_hours / horizon.days
    if arrivals.per_interval is not None:
        return math.fsum(arrivals.per_interval) * interval_hours
    return float(arrivals.per_hour) * open_seconds / 3600.0


def _call_parts(
    scenario: Scenario, open_seconds: float, interval_hours: float
) -> tuple[list[Part], list[Part], list[Part]]:
    """Per call type: first attempts; call attempts (× retrials, + callbacks); and bot sessions (every attempt)."""
    callbacks = scenario.technology.callbacks
    bots = {bot.call_type for bot in scenario.technology.self_service}
    callers, calls, sessions = [], [], []
    for c, call_type in enumerate(scenario.call_types):
        arrivals = call_type.arrivals
        first = _first_attempts(arrivals, open_seconds, interval_hours, scenario.horizon)
        forms = ["per_interval" if arrivals.per_interval is not None else "per_hour", *arrivals.calendar_fields]
        if arrivals.per_interval is None and arrivals.per_hour is None:
            forms = forms[1:]
        rate_field = f"call_types[{c}].arrivals.{forms[0]}"
        callers.append(Part(rate_field, f"lower {rate_field}", first))
        retried, binding = _attempts_per_caller(call_type, open_seconds)
        repeats = call_type.resolution.contacts_at_most if call_type.resolution is not None else 1.0
        attempts = first * retried * repeats
        if not repeats < 3 and repeats > retried:  # repeat contacts more than double the contacts: change them
            where = f"call_types[{c}].resolution"
            part = Part(f"{where}.max_repeats", f"lower {where}.max_repeats or {where}.repeat_probability", attempts)
        elif not retried < 3:  # retrials more than double the attempts: they are what to change
            where = f"call_types[{c}].retrial"
            advice = {
                "max_attempts": f"lower {where}.max_attempts",
                "delay": f"lengthen {where}.delay or lower {where}.max_attempts",
            }.get(binding, f"lower {where}.{binding} or {where}.max_attempts")
            part = Part(f"{where}.{binding}", advice, attempts)
        else:
            part = Part(rate_field, f"lower {rate_field}", attempts)
        if call_type.name in bots:
            sessions.append(Part(part.field, part.advice, attempts))
        offered = callbacks is not None and callbacks.enabled
        if offered and (callbacks.call_types is None or call_type.name in callbacks.call_types):
            part = Part(part.field, part.advice, attempts * (1.0 + callbacks.acceptance))
        calls.append(part)
    calls += _transfer_parts(scenario, [part.per_day for part in calls])
    return callers, calls, sessions


def _transfer_parts(scenario: Scenario, attempts: list[float]) -> list[Part]:
    """The legs transfers add, per call type passing callers on, if every attempt were answered and passed on with
    the highest probability of its groups: the visits v of each call type solve v = a + Pᵀv (a its attempts, P the
    transfer probabilities), and call type i adds v_i × Σ_j P_ij legs."""
    matrix = transfer_matrix(scenario)
    if not any(any(row) for row in matrix):
        return []
    import numpy as np  # imported here: the estimate of a scenario without transfers needs none

    chance = np.array(matrix, dtype=float)
    visits = np.linalg.solve(np.eye(len(attempts)) - chance.T, np.array(attempts, dtype=float))
    parts = []
    for i, row in enumerate(matrix):
        if any(row):
            where = f"call_types[{i}].transfers"
            parts.append(Part(where, f"lower the probabilities of {where}", float(visits[i] * sum(row))))
    return parts


def _attempts_per_caller(call_type, open_seconds: float) -> tuple[float, str]:
    """Expected attempts per caller at most, if every attempt fails and retries with the retrial probability;
    and the retrial field that binds (max_attempts, after_abandon, after_blocked or delay)."""
    retrial = call_type.retrial
    after_abandon = retrial.after_abandon if retrial is not None and call_type.patience is not None else 0.0
    if retrial is None or max(after_abandon, retrial.after_blocked) <= 0:
        return 1.0, ""
    p = max(after_abandon, retrial.after_blocked)
    limit = _number(retrial.max_attempts)
    geometric = limit if p >= 1 else -math.expm1(limit * math.log(p)) / (1.0 - p)
    # A caller's attempts are at least a retrial delay apart within the open day: by Lorden's bound on a renewal
    # process, at most 1 + T/μ + E[X²]/μ² of them are expected (X the delay, μ its mean).
    mean = retrial.delay.mean
    timed = 1.0 + open_seconds / mean + _second_moment_ratio(retrial.delay) if mean > 0 else math.inf
    probability = "after_abandon" if after_abandon >= retrial.after_blocked else "after_blocked"
    return min((limit, "max_attempts"), (geometric, probability), (timed, "delay"), key=lambda option: option[0])


def _second_moment_ratio(distribution) -> float:
    """E[X²] / E[X]² of a duration distribution (1 + cv²), or an upper bound of it."""
    mean = distribution.mean
    if mean <= 0:
        return math.inf
    if getattr(distribution, "max_seconds", None) is not None:
        return distribution.max_seconds / mean  # X ≤ max: E[X²] ≤ max · E[X]
    if isinstance(distribution, Fixed):
        return 1.0
    if isinstance(distribution, Exponential):
        return 2.0
    if isinstance(distribution, Lognormal | Gamma):
        return 1.0 + distribution.cv**2
    if isinstance(distribution, Weibull):
        try:
            ratio = math.gamma(1 + 2 / distribution.shape) / math.gamma(1 + 1 / distribution.shape) ** 2
        except OverflowError:
            return math.inf
        return ratio if math.isfinite(ratio) else math.inf  # a shape so small that both gammas are infinite
    if isinstance(distribution, Uniform):
        return _mean_square_ratio([distribution.low_seconds, distribution.high_seconds], uniform=True)
    if isinstance(distribution, Empirical):
        return _mean_square_ratio(distribution.values_seconds)
    return math.inf


def _mean_square_ratio(values: list[float], uniform: bool = False) -> float:
    """E[X²] / E[X]² of an empirical law (or of a uniform one between two values), on values scaled by the largest,
    so that neither tiny nor huge durations underflow or overflow."""
    scale = max(values)
    if not scale > 0:
        return math.inf
    x = [value / scale for value in values]
    if uniform:
        low, high = x
        return (low * low + low * high + high * high) / 3.0 / ((low + high) / 2.0) ** 2
    return math.fsum(v * v for v in x) / len(x) / (math.fsum(x) / len(x)) ** 2


def _plan(staffing, intervals: int) -> tuple[float, float, float, str]:
    """A group's plan: peak agents, agents summed over the day's intervals, log-ins a day, and the peak's field."""
    if staffing.per_interval is not None and staffing.per_interval:
        counts = [_number(count) for count in staffing.per_interval]
        peak = max(counts)
        logins = math.fsum(max(0.0, now - before) for before, now in zip([0.0, *counts], counts, strict=False))
        return peak, math.fsum(counts), logins, f".per_interval[{counts.index(peak)}]"
    count = _number(staffing.count or 0)
    return count, count * intervals, count, ""


def _agent_parts(scenario: Scenario, open_seconds: float, interval_hours: float) -> tuple[list[Part], list[Part]]:
    """Agents at once (plan peaks and roster shifts), and the agent records of a day."""
    intervals = scenario.horizon.intervals
    agents, records = [], []
    hours: dict[str, float] = {}
    for g, group in enumerate(scenario.agent_groups):
        peak, interval_agents, logins, where = _plan(group.agents, intervals)
        path = f"agent_groups[{g}].agents{where}"
        agents.append(Part(path, f"lower agent_groups[{g}].agents", peak))
        records.append(Part(path, f"lower agent_groups[{g}].agents", logins))
        hours[group.name] = interval_agents * interval_hours
    for i, shift in enumerate(scenario.roster):
        count = _number(shift.agents)
        agents.append(Part(f"roster[{i}].agents", f"lower roster[{i}].agents", count))
        records.append(
            Part(
                f"roster[{i}].agents",
                f"lower roster[{i}].agents",
                count * (1.0 + len(shift.breaks) + len(shift.deferred_blocks)),
            )
        )
        shift_hours = count * (shift.end_seconds - shift.start_seconds) / 3600.0
        hours[shift.group] = hours.get(shift.group, 0.0) + shift_hours
    for g, group in enumerate(scenario.agent_groups):
        shrinkage = scenario.group_shrinkage(group)
        if shrinkage is not None and shrinkage.per_hour > 0:
            where = f"agent_groups[{g}].shrinkage.per_hour" if group.shrinkage is not None else "shrinkage.per_hour"
            episodes = shrinkage.per_hour * hours.get(group.name, 0.0)
            records.append(Part(where, f"lower {where}", episodes if hours.get(group.name) else 0.0))
    return agents, records


def _dial_parts(scenario: Scenario, open_seconds: float, days: int) -> Iterable[Part]:
    """Dials of each outbound campaign a day, at most: its groups' peak agents dialling through its hours, each dial
    holding its agent for its mean time (a predictive dialer: `dials_per_free_agent` dials per agent), and no more
    than its calling list spread over the days (the records at the start and those arriving through its hours,
    each dialled up to its attempts)."""
    intervals = scenario.horizon.intervals
    peaks = {group.name: _plan(group.agents, intervals)[0] for group in scenario.agent_groups}
    for shift in scenario.roster:
        peaks[shift.group] = peaks.get(shift.group, 0.0) + _number(shift.agents)
    for c, campaign in enumerate(scenario.outbound):
        window = campaign.window
        hours = open_seconds if window is None else min(open_seconds, float(window.close - window.open))
        ratio = campaign.dials_per_free_agent if campaign.dialer == "predictive" else 1.0
        agents = math.fsum(peaks.get(name, 0.0) for name in campaign.groups)
        dials = agents * hours / campaign.mean_dial_seconds * ratio
        listed = campaign.list_size / days + (campaign.rate_per_hour or 0.0) * hours / 3600.0
        dials = min(dials, listed * campaign.max_attempts)
        yield Part(f"outbound[{c}].records", f"give outbound[{c}].records a smaller calling list", dials)


def _outage_parts(scenario: Scenario, days: int, open_seconds: float) -> Iterable[Part]:
    """Outages of each tool a day: random ones over the clock that runs through the nights, and maintenance."""
    span = (days - 1) * SECONDS_PER_DAY + open_seconds
    for t, tool in enumerate(scenario.tools):
        if tool.failures is not None:
            cycle = tool.failures.time_between.mean + tool.failures.repair.mean
            count = span / cycle + 1.0 if cycle > 0 else math.inf
            where = f"tools[{t}].failures.time_between"
            yield Part(where, f"raise the mean of {where} (and repair)", count / days)
        if tool.maintenance:
            yield Part(f"tools[{t}].maintenance", f"fewer tools[{t}].maintenance windows", float(len(tool.maintenance)))
    for s, site in enumerate(scenario.sites):  # a site's random outages and own tools, as a tool's
        for o, outage in enumerate(site.outages):
            if outage.failures is not None:
                cycle = outage.failures.time_between.mean + outage.failures.repair.mean
                count = span / cycle + 1.0 if cycle > 0 else math.inf
                where = f"sites[{s}].outages[{o}].failures.time_between"
                yield Part(where, f"raise the mean of {where} (and repair)", count / days)
        for t, tool in enumerate(site.tools):
            if tool.failures is not None:
                cycle = tool.failures.time_between.mean + tool.failures.repair.mean
                count = span / cycle + 1.0 if cycle > 0 else math.inf
                where = f"sites[{s}].tools[{t}].failures.time_between"
                yield Part(where, f"raise the mean of {where} (and repair)", count / days)


def _interval_part(scenario: Scenario, intervals: int) -> Part:
    horizon = scenario.horizon
    series = len(scenario.call_types) + len(scenario.agent_groups)
    if series > intervals:
        where, advice = "call_types", "fewer call types and agent groups"
    elif horizon.length_hours is not None and horizon.length_hours > 24:
        where, advice = "horizon.length_hours", "lower horizon.length_hours or raise horizon.interval_minutes"
    else:
        where, advice = "horizon.interval_minutes", "raise horizon.interval_minutes"
    return Part(where, advice, float(intervals) * series)


# --- experiments and the roster optimiser ------------------------------------------------------------------------


def grid_problems(cells: int, replications: int) -> list[str]:
    """An experiment's size, before its cells are built: cells and cells × replications within their limits."""
    if cells > MAX_CELLS:
        return [
            f"factors: {about(cells)} cells (the product of the factors' lengths); bposim sweeps at most "
            f"{MAX_CELLS:,} — fewer factors or levels"
        ]
    if cells * replications > MAX_TASKS:
        return [
            f"replications: {cells:,} cells × {replications:,} replications = {about(cells * replications)} "
            f"tasks; bposim sweeps at most {MAX_TASKS:,} — lower replications or the number of levels"
        ]
    return []


def sweep_problems(workloads: list[Workload], replications: int, labels: list[str]) -> list[str]:
    """Each cell's task (one replication) within the limits of a run, and the whole sweep within SWEEP_RUNS runs."""
    problems = []
    failing = [(label, run_problems(workload, 1)) for label, workload in zip(labels, workloads, strict=True)]
    failing = [(label, lines) for label, lines in failing if lines]
    if failing:
        label, lines = failing[0]
        others = f" (and {len(failing) - 1:,} other cells)" if len(failing) > 1 else ""
        problems += [f"{label}{line}{others}" for line in lines]
        return problems
    for name, quantity in workloads[0].quantities.items():
        if quantity.per_scenario or quantity.limit is None:
            continue
        total = math.fsum(workload.per_replication(name) for workload in workloads) * replications
        limit = quantity.limit * SWEEP_RUNS
        if not total <= limit:
            problems.append(
                f"replications: {_approximately(total)} {name} over {len(workloads):,} cell(s) × "
                f"{replications:,} replication(s); a sweep does at most {about(limit)} "
                f"({SWEEP_RUNS} runs' worth) — lower replications or the number of cells"
            )
    return problems


def shift_variants(scenario: Scenario) -> tuple[float, str]:
    """How many shifts the roster optimiser would enumerate (an upper bound), and the pattern field most to blame."""
    scheduling = scenario.scheduling
    if scheduling is None or scenario.horizon.end is None:
        return 0.0, ""
    groups = [group.name for group in scenario.agent_groups]
    step = scenario.horizon.interval_minutes
    total, worst, blame = 0.0, -1.0, ""
    for p, pattern in enumerate(scheduling.shifts):
        times = pattern.shift_times(scenario.horizon)
        placements = 1.0
        widest, widest_field = 0.0, f"scheduling.shifts[{p}].starts"
        for b, rule in enumerate(pattern.breaks):
            # every possible start is listed before those that do not fit in the shift are dropped
            steps = (rule.after_hours[1] - rule.after_hours[0]) * 60.0 / (rule.every_minutes or step)
            options = math.floor(steps) + 1.0 if math.isfinite(steps) else math.inf
            placements *= options
            if options > widest:
                widest, widest_field = options, f"scheduling.shifts[{p}].breaks[{b}].after_hours"
        count = len(scheduling.groups_of(pattern, groups)) * len(times) * placements
        total += count
        if count > worst:
            worst, blame = count, widest_field if widest > len(times) else f"scheduling.shifts[{p}].starts"
    return total, blame


def staff_problems(scenario: Scenario, replications: int, replications_field: str = "--replications") -> list[str]:
    """`bposim staff`: each evaluation within the limits of a run, and the shifts to choose from enumerable."""
    problems = []
    if not 1 <= replications <= MAX_REPLICATIONS:
        problems.append(
            f"{replications_field}: {replications:,} replications; bposim runs 1 to "
            f"{MAX_REPLICATIONS:,} — lower {replications_field}"
        )
    else:
        problems += run_problems(estimate(scenario), replications, replications_field)
    variants, blame = shift_variants(scenario)
    if not variants <= MAX_SHIFT_VARIANTS:
        problems.append(
            f"{blame}: {_approximately(variants)} shifts to choose from (group × start × length × break "
            f"placements); bposim staff takes at most {about(MAX_SHIFT_VARIANTS)} — fewer start times or "
            "break placements (a larger every_minutes)"
        )
    return problems
