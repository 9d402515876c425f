"""Erlang B/C/A baselines checked against textbook values, direct formulas and independent CTMC solutions."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, linalg, special, stats

from bposim.analytic import (
    ErlangA,
    ErlangC,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    erlang_table,
    required_agents,
    sqrt_staffing,
)


def direct_erlang_b(agents: int, load: float) -> float:
    """Erlang B straight from its definition, usable only for small headcounts."""
    terms = [load**k / math.factorial(k) for k in range(agents + 1)]
    return terms[-1] / sum(terms)


def direct_erlang_c(agents: int, load: float) -> float:
    """Erlang C straight from its definition, usable only for small headcounts."""
    waiting = load**agents / math.factorial(agents) * agents / (agents - load)
    return waiting / (sum(load**k / math.factorial(k) for k in range(agents)) + waiting)


def birth_death(agents: int, arrival_rate: float, handle: float, patience: float, queue_states: int) -> np.ndarray:
    """Truncated stationary distribution of M/M/n+M by direct products, for small headcounts only."""
    mu, theta = 1.0 / handle, 1.0 / patience
    weights = [(arrival_rate / mu) ** j / math.factorial(j) for j in range(agents + 1)]
    for k in range(1, queue_states + 1):
        weights.append(weights[-1] * arrival_rate / (agents * mu + k * theta))
    distribution = np.array(weights)
    return distribution / distribution.sum()


def ahead_rates(agents: int, handle: float, patience: float, queue_states: int) -> np.ndarray:
    """Rates r_i = nμ + iθ at which a waiting caller with i callers ahead moves one place forward."""
    return agents / handle + np.arange(queue_states + 1) / patience


SMALL_CASES = [
    # agents, arrival rate (1/s), mean handle (s), mean patience (s), threshold (s)
    (1, 1 / 200, 180.0, 120.0, 30.0),
    (1, 1 / 60, 180.0, 240.0, 60.0),
    (3, 3.4 / 120, 120.0, 90.0, 30.0),
    (5, 3.0 / 300, 300.0, 600.0, 20.0),
    (8, 10.0 / 240, 240.0, 60.0, 45.0),
    (4, 0.077, 694.0, 0.127, 0.05),
]
# Overloaded with long patience: the queue builds to hundreds of callers before abandonment balances it.
OVERLOADED_CASE = (20, 25.0 / 60, 60.0, 3000.0, 120.0)


@pytest.mark.parametrize(("agents", "load", "expected"), [(10, 5.0, 0.018385), (1, 1.0, 0.5), (2, 1.0, 0.2)])
def test_erlang_b_textbook_values(agents: int, load: float, expected: float) -> None:
    assert erlang_b(agents, load) == pytest.approx(expected, abs=5e-7)


def test_erlang_c_textbook_value() -> None:
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=5e-6)


@pytest.mark.parametrize("agents", [1, 2, 5, 10, 25, 40])
@pytest.mark.parametrize("utilisation", [0.1, 0.5, 0.8, 0.97])
def test_erlang_b_and_c_match_direct_formulas(agents: int, utilisation: float) -> None:
    load = utilisation * agents
    assert erlang_b(agents, load) == pytest.approx(direct_erlang_b(agents, load), rel=1e-12)
    assert erlang_c(agents, load) == pytest.approx(direct_erlang_c(agents, load), rel=1e-12)


def test_degenerate_loads() -> None:
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0
    assert erlang_c(4, 0.0) == 0.0
    assert erlang_c(4, 4.0) == 1.0
    assert erlang_c(4, 9.5) == 1.0


def test_large_systems_are_stable_and_match_log_space_sums() -> None:
    agents, load = 2000, 1950.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blocking = erlang_b(agents, load)
        waiting = erlang_c(agents, load)
        c_metrics = erlang_c_metrics(agents, load / 180, 180.0, 20.0)
        a_metrics = erlang_a_metrics(agents, load / 180, 180.0, 300.0, 20.0)
    poisson = stats.poisson(load)
    assert blocking == pytest.approx(poisson.pmf(agents) / poisson.cdf(agents), rel=1e-9)
    log_terms = np.arange(agents + 1) * math.log(load) - special.gammaln(np.arange(agents + 1) + 1)
    log_terms[-1] += math.log(agents / (agents - load))
    assert waiting == pytest.approx(math.exp(log_terms[-1] - special.logsumexp(log_terms)), rel=1e-9)
    for value in (c_metrics.p_wait, c_metrics.service_level, a_metrics.p_wait, a_metrics.p_abandon):
        assert 0.0 <= value <= 1.0
    assert math.isfinite(a_metrics.asa_seconds) and math.isfinite(c_metrics.asa_seconds)
    assert a_metrics.p_wait < c_metrics.p_wait and a_metrics.asa_seconds < c_metrics.asa_seconds


def test_erlang_c_metrics_formulas() -> None:
    metrics = erlang_c_metrics(10, 8 / 180, 180.0, 20.0)
    waiting = direct_erlang_c(10, 8.0)
    drain = 10 / 180 - 8 / 180
    assert metrics == ErlangC(10, 8.0, metrics.p_wait, metrics.service_level, metrics.asa_seconds, 0.8, True)
    assert metrics.p_wait == pytest.approx(waiting, rel=1e-12)
    assert metrics.service_level == pytest.approx(1 - waiting * math.exp(-drain * 20), rel=1e-12)
    assert metrics.asa_seconds == pytest.approx(waiting / drain, rel=1e-12)
    assert erlang_c_metrics(10, 8 / 180, 180.0, math.inf).service_level == 1.0


def test_erlang_c_metrics_unstable() -> None:
    assert erlang_c_metrics(10, 11 / 180, 180.0, 20.0) == ErlangC(10, 11.0, 1.0, 0.0, math.inf, 1.0, False)


@pytest.mark.parametrize(("patience", "tolerance"), [(1e7, 5e-4), (1e9, 5e-6), (1e12, 5e-9)])
def test_erlang_a_approaches_erlang_c_for_long_patience(patience: float, tolerance: float) -> None:
    c_metrics = erlang_c_metrics(10, 8 / 180, 180.0, 20.0)
    a_metrics = erlang_a_metrics(10, 8 / 180, 180.0, patience, 20.0)
    assert a_metrics.p_wait == pytest.approx(c_metrics.p_wait, rel=tolerance)
    assert a_metrics.service_level == pytest.approx(c_metrics.service_level, rel=tolerance)
    assert a_metrics.asa_seconds == pytest.approx(c_metrics.asa_seconds, rel=tolerance)
    assert a_metrics.occupancy == pytest.approx(c_metrics.occupancy, rel=tolerance)
    assert a_metrics.p_abandon == pytest.approx(c_metrics.asa_seconds / patience, rel=tolerance)


def test_erlang_a_with_infinite_patience_is_erlang_c() -> None:
    c_metrics = erlang_c_metrics(10, 8 / 180, 180.0, 20.0)
    a_metrics = erlang_a_metrics(10, 8 / 180, 180.0, math.inf, 20.0)
    assert a_metrics == ErlangA(
        10,
        8.0,
        c_metrics.p_wait,
        0.0,
        c_metrics.service_level,
        c_metrics.service_level,
        c_metrics.asa_seconds,
        c_metrics.asa_seconds,
        0.8,
    )
    unstable = erlang_a_metrics(10, 12 / 180, 180.0, math.inf, 20.0)
    assert (unstable.p_wait, unstable.service_level, unstable.asa_seconds) == (1.0, 0.0, math.inf)


def test_erlang_a_overload_limit_loses_the_excess() -> None:
    metrics = erlang_a_metrics(1400, 1500 / 180, 180.0, 1e7, 20.0)
    assert metrics.p_abandon == pytest.approx(1 - 1400 / 1500, rel=1e-6)
    assert metrics.occupancy == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("agents", "arrival_rate", "handle", "patience", "threshold"), [*SMALL_CASES, OVERLOADED_CASE])
def test_erlang_a_matches_birth_death_distribution(
    agents: int, arrival_rate: float, handle: float, patience: float, threshold: float
) -> None:
    queue_states = 1500
    distribution = birth_death(agents, arrival_rate, handle, patience, queue_states)
    assert distribution[-1] < 1e-20
    ahead = distribution[agents:]
    mean_queue = float(np.arange(queue_states + 1) @ ahead)
    rates = ahead_rates(agents, handle, patience, queue_states)
    served_given_ahead = np.cumprod(rates / (rates + 1 / patience))
    served_wait_given_ahead = served_given_ahead * np.cumsum(1 / (rates + 1 / patience))
    metrics = erlang_a_metrics(agents, arrival_rate, handle, patience, threshold)

    assert metrics.p_wait == pytest.approx(ahead.sum(), rel=1e-8)
    assert metrics.p_abandon == pytest.approx(mean_queue / patience / arrival_rate, rel=1e-8)
    assert metrics.p_abandon == pytest.approx(float(ahead @ (1 - served_given_ahead)), rel=1e-8)
    assert metrics.mean_wait_all_seconds == pytest.approx(mean_queue / arrival_rate, rel=1e-8)
    answered_wait = float(ahead @ served_wait_given_ahead) / (1 - metrics.p_abandon)
    assert metrics.asa_seconds == pytest.approx(answered_wait, rel=1e-8)
    busy = np.minimum(np.arange(distribution.size), agents) @ distribution
    assert metrics.occupancy == pytest.approx(busy / agents, rel=1e-8)


@pytest.mark.parametrize(("agents", "arrival_rate", "handle", "patience", "threshold"), SMALL_CASES)
def test_erlang_a_service_level_matches_dense_ctmc(
    agents: int, arrival_rate: float, handle: float, patience: float, threshold: float
) -> None:
    queue_states = 120
    distribution = birth_death(agents, arrival_rate, handle, patience, queue_states)
    assert distribution[-1] < 1e-18
    rates = ahead_rates(agents, handle, patience, queue_states)
    served, abandoned = queue_states + 1, queue_states + 2
    generator = np.zeros((queue_states + 3, queue_states + 3))
    for i, rate in enumerate(rates):
        generator[i, i - 1 if i else served] = rate
        generator[i, abandoned] = 1 / patience
        generator[i, i] = -(rate + 1 / patience)
    start = np.zeros(queue_states + 3)
    start[: queue_states + 1] = distribution[agents:]
    answered_in_time = (start @ linalg.expm(generator * threshold))[served]
    expected = distribution[:agents].sum() + answered_in_time
    metrics = erlang_a_metrics(agents, arrival_rate, handle, patience, threshold)
    assert metrics.service_level == pytest.approx(expected, rel=1e-8)
    assert metrics.service_level_answered == pytest.approx(expected / (1 - metrics.p_abandon), rel=1e-8)


def test_mm1_with_abandonment_service_level_by_direct_integration() -> None:
    arrival_rate, handle, patience, threshold = 1 / 90, 120.0, 200.0, 40.0
    mu, theta = 1 / handle, 1 / patience

    def offered_wait_density(x: float) -> float:
        return math.exp(arrival_rate * (1 - math.exp(-theta * x)) / theta - mu * x)

    normaliser = integrate.quad(offered_wait_density, 0, np.inf)[0]
    p_idle = 1 / (1 + arrival_rate * normaliser)
    on_time = integrate.quad(lambda x: offered_wait_density(x) * math.exp(-theta * x), 0, threshold)[0]
    expected = p_idle + p_idle * arrival_rate * on_time
    metrics = erlang_a_metrics(1, arrival_rate, handle, patience, threshold)
    assert metrics.service_level == pytest.approx(expected, rel=1e-8)


def test_erlang_a_service_level_limits() -> None:
    metrics = erlang_a_metrics(8, 10 / 240, 240.0, 60.0, 0.0)
    assert metrics.service_level == pytest.approx(1 - metrics.p_wait, rel=1e-12)
    long_threshold = erlang_a_metrics(8, 10 / 240, 240.0, 60.0, 1e6)
    assert long_threshold.service_level == pytest.approx(1 - long_threshold.p_abandon, rel=1e-10)
    assert erlang_a_metrics(8, 0.0, 240.0, 60.0, 20.0).service_level == 1.0


@settings(max_examples=40, deadline=None)
@given(
    agents=st.integers(1, 60),
    load=st.floats(0.2, 60.0),
    handle=st.floats(30.0, 600.0),
    patience=st.floats(5.0, 2000.0),
    threshold=st.floats(0.0, 300.0),
)
def test_more_agents_never_hurt(agents: int, load: float, handle: float, patience: float, threshold: float) -> None:
    arrival_rate = load / handle
    fewer = erlang_a_metrics(agents, arrival_rate, handle, patience, threshold)
    more = erlang_a_metrics(agents + 1, arrival_rate, handle, patience, threshold)
    assert more.service_level >= fewer.service_level - 1e-12
    assert more.p_abandon <= fewer.p_abandon + 1e-12
    assert more.occupancy <= fewer.occupancy + 1e-12
    c_fewer = erlang_c_metrics(agents, arrival_rate, handle, threshold)
    c_more = erlang_c_metrics(agents + 1, arrival_rate, handle, threshold)
    assert c_more.service_level >= c_fewer.service_level - 1e-12


@pytest.mark.parametrize("patience", [None, 300.0, 30.0])
@pytest.mark.parametrize(("load", "target", "threshold"), [(1500.0, 0.8, 20.0), (12.0, 0.9, 30.0), (0.5, 0.95, 10.0)])
def test_required_agents_is_the_smallest_meeting_target(
    load: float, target: float, threshold: float, patience: float | None
) -> None:
    arrival_rate, handle = load / 180, 180.0
    agents = required_agents(arrival_rate, handle, threshold, target, mean_patience_seconds=patience)

    def service_level(n: int) -> float:
        if patience is None:
            return erlang_c_metrics(n, arrival_rate, handle, threshold).service_level
        return erlang_a_metrics(n, arrival_rate, handle, patience, threshold).service_level

    assert service_level(agents) >= target
    assert agents == 1 or service_level(agents - 1) < target


def test_required_agents_respects_occupancy_cap() -> None:
    arrival_rate, handle = 100 / 180, 180.0
    loose = required_agents(arrival_rate, handle, 20.0, 0.8)
    capped = required_agents(arrival_rate, handle, 20.0, 0.8, max_occupancy=0.8)
    assert capped == 125 > loose
    with_patience = required_agents(arrival_rate, handle, 20.0, 0.5, 120.0, max_occupancy=0.85)
    assert erlang_a_metrics(with_patience, arrival_rate, handle, 120.0, 20.0).occupancy <= 0.85
    assert erlang_a_metrics(with_patience - 1, arrival_rate, handle, 120.0, 20.0).occupancy > 0.85


def test_required_agents_reports_unreachable_targets() -> None:
    with pytest.raises(ValueError, match="not reachable"):
        required_agents(100 / 180, 180.0, 20.0, 0.8, max_agents=50)


@pytest.mark.parametrize(
    ("load", "beta", "expected"),
    [(100.0, 1.0, 110), (1600.0, 0.5, 1620), (10.0, 0.0, 10), (9.0, -1.0, 6), (0.0, 2.0, 0)],
)
def test_sqrt_staffing(load: float, beta: float, expected: int) -> None:
    assert sqrt_staffing(load, beta) == expected


def test_sqrt_staffing_rounds_up() -> None:
    assert sqrt_staffing(50.0, 0.5) == math.ceil(50 + 0.5 * math.sqrt(50)) == 54


def test_erlang_table_rows_match_metrics() -> None:
    c_table = erlang_table(8 / 180, 180.0, 20.0, range(7, 12))
    assert list(c_table.columns) == ["agents", "load", "p_wait", "service_level", "asa_seconds", "occupancy"]
    assert c_table["agents"].tolist() == [7, 8, 9, 10, 11]
    assert c_table.loc[3, "p_wait"] == pytest.approx(0.40918, abs=5e-6)
    assert math.isinf(c_table.loc[0, "asa_seconds"])
    a_table = erlang_table(8 / 180, 180.0, 20.0, [9, 10], mean_patience_seconds=300.0)
    assert a_table.columns[-1] == "p_abandon"
    assert a_table.loc[1, "p_abandon"] == erlang_a_metrics(10, 8 / 180, 180.0, 300.0, 20.0).p_abandon


@pytest.mark.parametrize(
    "call",
    [
        lambda: erlang_b(-1, 2.0),
        lambda: erlang_b(3, -0.5),
        lambda: erlang_b(2.5, 1.0),
        lambda: erlang_c(0, 1.0),
        lambda: erlang_c(3, math.nan),
        lambda: erlang_c_metrics(3, -1.0, 180.0, 20.0),
        lambda: erlang_c_metrics(3, 0.01, 0.0, 20.0),
        lambda: erlang_c_metrics(3, 0.01, 180.0, -1.0),
        lambda: erlang_a_metrics(3, 0.01, 180.0, 0.0, 20.0),
        lambda: erlang_a_metrics(0, 0.01, 180.0, 60.0, 20.0),
        lambda: sqrt_staffing(-1.0, 1.0),
        lambda: required_agents(0.01, 180.0, 20.0, 1.5),
        lambda: required_agents(0.01, 180.0, 20.0, 0.8, max_occupancy=0.0),
    ],
)
def test_invalid_arguments_raise(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()
