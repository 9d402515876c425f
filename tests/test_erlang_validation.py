"""Simulated single-skill centres agree with Erlang C and Erlang A within the run's own confidence interval.

Each case runs R independent long replications with a warm-up and compares the replication mean of a KPI
with the analytic value. The tolerance is the run's own 99.9% Student-t half-width (derived from the 95%
half-width that `simulate` reports), so a wrong engine fails and a noisy run is not excused by a
hand-picked margin. Seeds are fixed, so the outcome is reproducible.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

import bposim
from bposim import analytic

REPLICATIONS = 8
THRESHOLD = 20.0


def _scenario(agents: int, load: float, handle: float, patience: float | None, hours: float, warmup_minutes: float):
    call_type = {
        "name": "support",
        "arrivals": {"per_hour": load / handle * 3600.0},
        "handle_time": {"distribution": "exponential", "mean_seconds": handle},
    }
    if patience is not None:
        call_type["patience"] = {"distribution": "exponential", "mean_seconds": patience}
    return bposim.Scenario.model_validate(
        {
            "name": f"M/M/{agents}" + ("+M" if patience else ""),
            "horizon": {
                "start": "00:00",
                "length_hours": hours,
                "interval_minutes": 60,
                "warmup_minutes": warmup_minutes,
            },
            "service_level": {"threshold_seconds": THRESHOLD, "target": 0.8},
            "call_types": [call_type],
            "agent_groups": [{"name": "team", "skills": ["support"], "agents": agents}],
        }
    )


def _tolerance(summary: dict, key: str) -> float:
    """The 99.9% half-width of the replication mean, from the 95% half-width the run reports."""
    dof = REPLICATIONS - 1
    return summary[f"{key}_ci"] * stats.t.ppf(0.9995, dof) / stats.t.ppf(0.975, dof)


# (agents, load in Erlangs, mean handle s, mean patience s or None, hours per replication, warm-up minutes)
ERLANG_C_CASES = {
    "one agent, moderate load": (1, 0.7, 180.0, None, 400, 600),
    "light load": (5, 2.5, 240.0, None, 200, 120),
    "heavy load": (20, 18.0, 300.0, None, 160, 300),
    "large centre, heavy load": (220, 209.0, 300.0, None, 16, 120),
}
ERLANG_A_CASES = {
    "one agent, overloaded": (1, 1.3, 180.0, 120.0, 200, 120),
    "light load": (10, 5.0, 240.0, 300.0, 120, 120),
    "reference: 50 agents at 0.95": (50, 47.5, 300.0, 180.0, 60, 120),
    "large centre, overloaded": (250, 262.5, 300.0, 240.0, 10, 120),
}


@pytest.mark.parametrize("case", ERLANG_C_CASES, ids=list(ERLANG_C_CASES))
def test_simulation_agrees_with_erlang_c(case: str) -> None:
    agents, load, handle, _, hours, warmup = ERLANG_C_CASES[case]
    run = bposim.simulate(_scenario(agents, load, handle, None, hours, warmup), seed=11, replications=REPLICATIONS)
    theory = analytic.erlang_c_metrics(agents, load / handle, handle, THRESHOLD)
    summary = run.summary
    assert summary["offered"] * REPLICATIONS > 40_000, "too few calls to be decisive"
    assert summary["abandoned"] == 0
    for key, expected in (("service_level", theory.service_level), ("asa_seconds", theory.asa_seconds)):
        gap = abs(summary[key] - expected)
        assert gap <= _tolerance(summary, key), f"{key}: simulated {summary[key]:.4f}, Erlang C {expected:.4f}"
    occupancy = summary["occupancy"]
    assert abs(occupancy - theory.occupancy) <= _tolerance(summary, "occupancy") + 0.01


@pytest.mark.parametrize("case", ERLANG_A_CASES, ids=list(ERLANG_A_CASES))
def test_simulation_agrees_with_erlang_a(case: str) -> None:
    agents, load, handle, patience, hours, warmup = ERLANG_A_CASES[case]
    run = bposim.simulate(_scenario(agents, load, handle, patience, hours, warmup), seed=7, replications=REPLICATIONS)
    theory = analytic.erlang_a_metrics(agents, load / handle, handle, patience, THRESHOLD)
    summary = run.summary
    assert summary["offered"] * REPLICATIONS > 40_000, "too few calls to be decisive"
    checks = {
        "service_level": theory.service_level,
        "abandon_rate": theory.p_abandon,
        "asa_seconds": theory.asa_seconds,
    }
    for key, expected in checks.items():
        gap = abs(summary[key] - expected)
        assert gap <= _tolerance(summary, key), f"{key}: simulated {summary[key]:.4f}, Erlang A {expected:.4f}"


def test_the_check_is_decisive_a_wrong_model_is_rejected() -> None:
    """The same tolerance rejects Erlang C's answer for a centre whose callers abandon."""
    agents, load, handle, patience, hours, warmup = ERLANG_A_CASES["reference: 50 agents at 0.95"]
    run = bposim.simulate(_scenario(agents, load, handle, patience, hours, warmup), seed=7, replications=REPLICATIONS)
    wrong = analytic.erlang_c_metrics(agents, load / handle, handle, THRESHOLD)
    assert abs(run.summary["service_level"] - wrong.service_level) > _tolerance(run.summary, "service_level")
    assert math.isfinite(run.summary["service_level_ci"]) and run.summary["service_level_ci"] > 0
