"""Erlang B, C and A (M/M/n+M) baselines used for staffing and for validating the simulator.

Rates are per second and times in seconds. Everything is computed with recursions or in log space, so results
stay finite and accurate for thousands of agents.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import pandas as pd
from scipy import integrate, optimize, special

# Offered-wait integrands are cut where they fall below exp(-_LOG_TAIL) times their peak.
_LOG_TAIL = 60.0
_QUAD_RTOL = 1e-11


@dataclass(frozen=True)
class ErlangC:
    """Steady-state metrics of M/M/n with infinitely patient callers at one staffing level."""

    agents: int
    load: float
    p_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float
    stable: bool


@dataclass(frozen=True)
class ErlangA:
    """Steady-state metrics of M/M/n+M (exponential patience) at one staffing level.

    `service_level` counts calls answered within the threshold over all offered calls; `asa_seconds` averages
    answered calls only.
    """

    agents: int
    load: float
    p_wait: float
    p_abandon: float
    service_level: float
    service_level_answered: float
    asa_seconds: float
    mean_wait_all_seconds: float
    occupancy: float


def _check_agents(agents: int, minimum: int) -> int:
    """Return `agents` as an int, rejecting non-integers and counts below `minimum`."""
    try:
        count = operator.index(agents)
    except TypeError:
        raise ValueError(f"agents must be an integer, got {agents!r}") from None
    if count < minimum:
        raise ValueError(f"agents must be >= {minimum}, got {count}")
    return count


def _check_non_negative(name: str, value: float, allow_inf: bool = False) -> float:
    """Return `value` as a float, rejecting NaN, negatives and (unless allowed) infinity."""
    number = float(value)
    if math.isnan(number) or number < 0 or (math.isinf(number) and not allow_inf):
        limit = "a non-negative number" if allow_inf else "a finite non-negative number"
        raise ValueError(f"{name} must be {limit}, got {value!r}")
    return number


def _check_positive(name: str, value: float, allow_inf: bool = False) -> float:
    """Return `value` as a float, rejecting NaN, non-positive values and (unless allowed) infinity."""
    number = _check_non_negative(name, value, allow_inf)
    if number == 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n via the stable recursion B(k) = A·B(k−1) / (k + A·B(k−1))."""
    n = _check_agents(agents, 0)
    offered = _check_non_negative("load", load)
    blocking = 1.0
    for k in range(1, n + 1):
        blocking = offered * blocking / (k + offered * blocking)
    return blocking


def _log_erlang_b(agents: int, load: float) -> float:
    """Natural log of Erlang B for load > 0; unlike `erlang_b` it does not underflow for n ≫ A."""
    log_load = math.log(load)
    log_blocking = 0.0
    for k in range(1, agents + 1):
        log_blocking += log_load - math.log(k + load * math.exp(log_blocking))
    return log_blocking


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits in M/M/n; 1.0 when load >= agents (no steady state)."""
    n = _check_agents(agents, 1)
    offered = _check_non_negative("load", load)
    if offered >= n:
        return 1.0
    blocking = erlang_b(n, offered)
    return min(1.0, n * blocking / (n - offered * (1.0 - blocking)))


def erlang_c_metrics(agents: int, arrival_rate: float, mean_handle_seconds: float, threshold_seconds: float) -> ErlangC:
    """Erlang C service level P(W ≤ T) = 1 − C·exp(−(nμ−λ)T), ASA = C/(nμ−λ) and occupancy A/n."""
    n = _check_agents(agents, 1)
    arrivals = _check_non_negative("arrival_rate", arrival_rate)
    handle = _check_positive("mean_handle_seconds", mean_handle_seconds)
    threshold = _check_non_negative("threshold_seconds", threshold_seconds, allow_inf=True)
    offered = arrivals * handle
    if offered >= n:
        return ErlangC(n, offered, 1.0, 0.0, math.inf, 1.0, False)
    p_wait = erlang_c(n, offered)
    drain_rate = n / handle - arrivals
    service_level = 1.0 - p_wait * math.exp(-drain_rate * threshold)
    return ErlangC(n, offered, p_wait, service_level, p_wait / drain_rate, offered / n, True)


# Taylor coefficients 1/(k+2)! of (u + e^−u − 1)/u² = Σ (−u)^k/(k+2)!, highest order first for Horner.
_EXCESS_SERIES = tuple(1.0 / math.factorial(k + 2) for k in range(14, -1, -1))


def _exp_excess(u: float) -> float:
    """u + e^−u − 1 (≥ 0), accurate also for small |u| where the direct form cancels."""
    if abs(u) > 0.1:
        return u + math.expm1(-u)
    total = 0.0
    for coefficient in _EXCESS_SERIES:
        total = total * -u + coefficient
    return u * u * total


class _WaitShape:
    """Log-concave bell exp(φ(x)), φ(x) = λ(1−e^{−θx})/θ − κx, holding all M/M/n+M offered-wait integrals.

    With κ = nμ it is the offered-wait density shape (Baccelli–Hébuterne); κ = nμ + θ folds in the
    survival e^{−θx} of the caller's own patience. Work is done in offsets d = x − mode to avoid cancellation.
    """

    def __init__(self, arrival_rate: float, drain_rate: float, abandon_rate: float) -> None:
        self.drain_rate = drain_rate
        self.abandon_rate = abandon_rate
        if arrival_rate > drain_rate:
            surplus = arrival_rate / drain_rate - 1.0
            self.mode = math.log1p(surplus) / abandon_rate
            self.slope = drain_rate
            self.log_peak = drain_rate * (surplus - math.log1p(surplus)) / abandon_rate
        else:
            self.mode, self.slope, self.log_peak = 0.0, arrival_rate, 0.0
        self.left, self.right = self._support()

    def log_ratio(self, offset: float) -> float:
        """φ(mode + offset) − φ(mode), using the slope λe^{−θ·mode} of the arrival term at the mode."""
        theta = self.abandon_rate
        return -(self.drain_rate - self.slope) * offset - self.slope * _exp_excess(theta * offset) / theta

    def _support(self) -> tuple[float, float]:
        """Offsets outside which the bell is below e^−60 of its peak."""

        def above_floor(offset: float) -> float:
            return self.log_ratio(offset) + _LOG_TAIL

        left = -self.mode
        if above_floor(left) < 0:
            left = optimize.brentq(above_floor, left, 0.0)
        step = 1.0 / self.drain_rate
        while above_floor(step) > 0:
            step *= 2.0
        return left, optimize.brentq(above_floor, 0.0, step)

    def _cuts(self) -> list[float]:
        """Offsets growing geometrically from the mode, so quad sees every length scale of the bell.

        A single adaptive pass over a long flat tail can miss a kink of width 1/θ near the mode.
        """
        theta, slope = self.abandon_rate, self.slope
        scales = [1.0 / theta, 1.0 / math.sqrt(slope * theta)]
        if self.drain_rate > slope:
            scales.append(1.0 / (self.drain_rate - slope))
        cuts, offset = [0.0], min(scales) / 4.0
        while offset < max(-self.left, self.right):
            cuts.extend((-offset, offset))
            offset *= 4.0
        return cuts

    def integral(
        self,
        weight: Callable[[float], float] | None = None,
        upper: float = math.inf,
        breaks: Iterable[float] = (),
    ) -> float:
        """∫_0^upper weight(x)·exp(φ(x) − φ(mode)) dx, split on the bell's scales and at `breaks` (in x)."""
        low, high = self.left, min(self.right, upper - self.mode)
        if high <= low:
            return 0.0

        def integrand(offset: float) -> float:
            value = math.exp(self.log_ratio(offset))
            return value if weight is None else value * weight(self.mode + offset)

        inner = {*self._cuts(), *(x - self.mode for x in breaks)}
        cuts = [low, *sorted(cut for cut in inner if low < cut < high), high]
        return sum(
            integrate.quad(integrand, a, b, epsabs=0.0, epsrel=_QUAD_RTOL, limit=200)[0]
            for a, b in zip(cuts, cuts[1:], strict=False)
        )


def _log_peak_gap(arrival_rate: float, capacity: float, abandon_rate: float) -> float:
    """max φ with drain nμ+θ minus max φ with drain nμ, in closed form so huge peaks do not cancel."""
    if arrival_rate <= capacity:
        return 0.0
    if arrival_rate <= capacity + abandon_rate:
        return -_WaitShape(arrival_rate, capacity, abandon_rate).log_peak
    ratio = abandon_rate / capacity
    return -math.log(arrival_rate / capacity) + ((1.0 + ratio) * math.log1p(ratio) - ratio) / ratio


def erlang_a_metrics(
    agents: int,
    arrival_rate: float,
    mean_handle_seconds: float,
    mean_patience_seconds: float,
    threshold_seconds: float,
) -> ErlangA:
    """Exact M/M/n+M metrics from the birth–death chain; infinite patience falls back to Erlang C.

    With π_n the probability of exactly n in system, the offered wait V has an atom 1 − P(wait) at zero and
    density nμ·π_n·exp(φ(x)) for x > 0, so every metric is a one-dimensional integral over V (no truncation).
    """
    n = _check_agents(agents, 1)
    arrivals = _check_non_negative("arrival_rate", arrival_rate)
    handle = _check_positive("mean_handle_seconds", mean_handle_seconds)
    patience = _check_positive("mean_patience_seconds", mean_patience_seconds, allow_inf=True)
    threshold = _check_non_negative("threshold_seconds", threshold_seconds, allow_inf=True)
    offered = arrivals * handle
    if math.isinf(patience):
        c = erlang_c_metrics(n, arrivals, handle, threshold)
        return ErlangA(
            agents=n,
            load=offered,
            p_wait=c.p_wait,
            p_abandon=0.0,
            service_level=c.service_level,
            service_level_answered=c.service_level,
            asa_seconds=c.asa_seconds,
            mean_wait_all_seconds=c.asa_seconds,
            occupancy=c.occupancy,
        )
    if arrivals == 0:
        return ErlangA(n, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0)

    theta = 1.0 / patience
    capacity = n / handle
    offered_wait = _WaitShape(arrivals, capacity, theta)
    answered_wait = _WaitShape(arrivals, capacity + theta, theta)
    mass = offered_wait.integral()
    patience_scale = (patience, 8.0 * patience, 40.0 * patience)
    abandon_share = offered_wait.integral(lambda x: -math.expm1(-theta * x), breaks=patience_scale) / mass
    answered_scale = math.exp(_log_peak_gap(arrivals, capacity, theta)) / mass
    on_time_share = answered_scale * answered_wait.integral(upper=threshold)
    served_wait = answered_scale * answered_wait.integral(lambda x: x)

    # P(wait) = nμJ / (1/B − 1 + nμJ) with J = ∫exp(φ); evaluated as a logistic of log-odds to avoid overflow.
    log_blocking = _log_erlang_b(n, offered)
    log_idle_odds = math.log1p(-math.exp(log_blocking)) - log_blocking
    log_queue_odds = math.log(capacity) + offered_wait.log_peak + math.log(mass)
    p_wait = float(special.expit(log_queue_odds - log_idle_odds))

    p_abandon = p_wait * abandon_share
    p_served = 1.0 - p_abandon
    service_level = (1.0 - p_wait) + p_wait * on_time_share
    if p_served > 0:
        service_level_answered = min(1.0, service_level / p_served)
        asa = p_wait * served_wait / p_served
    else:
        service_level_answered, asa = 0.0, math.inf
    occupancy = min(1.0, arrivals * p_served / capacity)
    return ErlangA(
        agents=n,
        load=offered,
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=service_level,
        service_level_answered=service_level_answered,
        asa_seconds=asa,
        mean_wait_all_seconds=p_abandon / theta,
        occupancy=occupancy,
    )


def sqrt_staffing(load: float, beta: float) -> int:
    """Square-root staffing rule ceil(A + β·√A), ignoring float noise below 1e-9 and floored at zero."""
    offered = _check_non_negative("load", load)
    quality = float(beta)
    if not math.isfinite(quality):
        raise ValueError(f"beta must be finite, got {beta!r}")
    return max(0, math.ceil(offered + quality * math.sqrt(offered) - 1e-9))


def required_agents(
    arrival_rate: float,
    mean_handle_seconds: float,
    threshold_seconds: float,
    target: float,
    mean_patience_seconds: float | None = None,
    max_occupancy: float | None = None,
    max_agents: int = 10_000,
) -> int:
    """Smallest headcount meeting the service-level target (and occupancy cap), Erlang C or Erlang A.

    Uses galloping from n ≈ A then bisection, relying on service level rising and occupancy falling with n.
    """
    arrivals = _check_non_negative("arrival_rate", arrival_rate)
    handle = _check_positive("mean_handle_seconds", mean_handle_seconds)
    _check_non_negative("threshold_seconds", threshold_seconds, allow_inf=True)
    if not 0.0 < float(target) <= 1.0:
        raise ValueError(f"target must be in (0, 1], got {target!r}")
    if mean_patience_seconds is not None:
        _check_positive("mean_patience_seconds", mean_patience_seconds, allow_inf=True)
    if max_occupancy is not None and not 0.0 < float(max_occupancy) <= 1.0:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy!r}")
    ceiling = _check_agents(max_agents, 1)

    def meets(agents: int) -> bool:
        if mean_patience_seconds is None:
            metrics: ErlangC | ErlangA = erlang_c_metrics(agents, arrivals, handle, threshold_seconds)
        else:
            metrics = erlang_a_metrics(agents, arrivals, handle, mean_patience_seconds, threshold_seconds)
        within_cap = max_occupancy is None or metrics.occupancy <= max_occupancy
        return metrics.service_level >= target and within_cap

    guess = min(max(1, math.ceil(arrivals * handle)), ceiling)
    step = 1
    if meets(guess):
        failing, passing = guess - 1, guess
        while failing >= 1 and meets(failing):
            passing = failing
            step *= 2
            failing = max(0, passing - step)
    else:
        failing, passing = guess, min(guess + 1, ceiling)
        while not meets(passing):
            if passing >= ceiling:
                raise ValueError(f"target not reachable with at most {ceiling} agents")
            failing = passing
            step *= 2
            passing = min(failing + step, ceiling)
    while passing - failing > 1:
        middle = (failing + passing) // 2
        if meets(middle):
            passing = middle
        else:
            failing = middle
    return passing


def erlang_table(
    arrival_rate: float,
    mean_handle_seconds: float,
    threshold_seconds: float,
    agents_range: Iterable[int],
    mean_patience_seconds: float | None = None,
) -> pd.DataFrame:
    """One row of Erlang C (or, given patience, Erlang A) metrics per headcount, for staffing tables."""
    columns = ["agents", "load", "p_wait", "service_level", "asa_seconds", "occupancy"]
    handle, threshold, patience = mean_handle_seconds, threshold_seconds, mean_patience_seconds
    if patience is None:
        rows = [asdict(erlang_c_metrics(n, arrival_rate, handle, threshold)) for n in agents_range]
    else:
        columns.append("p_abandon")
        rows = [asdict(erlang_a_metrics(n, arrival_rate, handle, patience, threshold)) for n in agents_range]
    return pd.DataFrame(rows, columns=columns)
