"""Hypothesis strategies and helpers shared by the tests: small random contact centres as scenario dicts, and what
the checks of runs and rosters read.

Scenarios are drawn as plain dicts (the YAML shape) so a failing example reads like a scenario file.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import bposim

CALL_TYPES = ("sales", "billing", "tech")
GROUPS = ("generalists", "specialists", "backoffice")
DISTRIBUTIONS = ("exponential", "lognormal", "gamma", "weibull", "fixed", "uniform", "empirical")
SEEDS = st.integers(0, 2**32 - 1)


def checked(max_examples: int):
    """Hypothesis settings for simulation properties: no deadline, a fixed budget of examples."""
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- strategies -----------------------------------------------------------------------------------------------


@st.composite
def durations(draw, low: float, high: float) -> dict:
    """A duration distribution of any kind, its mean between `low` and `high` seconds."""
    kind = draw(st.sampled_from(DISTRIBUTIONS))
    mean = draw(st.floats(low, high))
    if kind == "exponential":
        return {"distribution": kind, "mean_seconds": mean}
    if kind in ("lognormal", "gamma"):
        return {"distribution": kind, "mean_seconds": mean, "cv": draw(st.floats(0.1, 2.0))}
    if kind == "weibull":
        return {"distribution": kind, "mean_seconds": mean, "shape": draw(st.floats(0.5, 3.0))}
    if kind == "fixed":
        return {"distribution": kind, "value_seconds": draw(st.just(0.0) | st.just(mean))}
    if kind == "uniform":
        spread = draw(st.floats(0.0, mean))
        return {"distribution": kind, "low_seconds": mean - spread, "high_seconds": mean + spread}
    return {"distribution": kind, "values_seconds": draw(st.lists(st.floats(0.0, 2 * mean), min_size=1, max_size=5))}


def staffing_plans(intervals: int) -> st.SearchStrategy:
    """A group's agents: a constant headcount or one per interval, zeros allowed."""
    per_interval = st.lists(st.integers(0, 5), min_size=intervals, max_size=intervals)
    return st.integers(1, 5) | st.integers(0, 5) | per_interval.map(lambda counts: {"per_interval": counts})


@st.composite
def call_type_specs(draw, name: str, intervals: int, trunked: bool) -> dict:
    """A call type with random arrivals, work content, patience, wrap-up and retrials."""
    rates = st.floats(2.0, 40.0) | st.floats(0.0, 40.0)
    arrivals = draw(
        rates.map(lambda rate: {"per_hour": rate})
        | st.lists(rates, min_size=intervals, max_size=intervals).map(lambda values: {"per_interval": values})
    )
    spec = {
        "name": name,
        "priority": draw(st.integers(1, 3)),
        "arrivals": arrivals,
        "handle_time": draw(durations(20.0, 600.0)),
    }
    if draw(st.booleans()):
        spec["after_call_work"] = draw(durations(1.0, 120.0))
    if draw(st.booleans()):
        spec["patience"] = draw(durations(1.0, 300.0))
    if draw(st.booleans()):
        spec["service_level"] = {"threshold_seconds": draw(st.floats(0.0, 60.0))}
    if draw(st.booleans()):
        spec["retrial"] = {
            "after_abandon": draw(st.floats(0.0, 1.0)),
            "after_blocked": draw(st.floats(0.0, 1.0)) if trunked else 0.0,
            "delay": draw(durations(1.0, 600.0)),
            "max_attempts": draw(st.integers(1, 4)),
        }
    return spec


@st.composite
def skill_specs(draw, call_type: str) -> dict:
    """A skill with a random proficiency, routing priority and sometimes an overflow delay."""
    return {
        "call_type": call_type,
        "proficiency": draw(st.just(1.0) | st.floats(0.5, 2.0)),
        "priority": draw(st.integers(1, 2)),
        "delay_seconds": draw(st.just(0.0) | st.floats(1.0, 120.0)),
    }


@st.composite
def scenario_specs(draw, min_intervals: int = 1) -> dict:
    """A small random contact centre (1–4 hours, 1–3 call types, 1–3 groups) as a scenario dict."""
    minutes = draw(st.sampled_from([15, 30, 60]))
    hours = draw(st.integers(-(-min_intervals * minutes // 60), 4))
    intervals = hours * 60 // minutes
    trunk_lines = draw(st.none() | st.integers(0, 12))
    names = CALL_TYPES[: draw(st.integers(1, 3))]
    skill_sets = [draw(st.sets(st.sampled_from(names), min_size=1)) for _ in range(draw(st.integers(1, 3)))]
    for name in names:
        if not any(name in skills for skills in skill_sets):
            skill_sets[draw(st.integers(0, len(skill_sets) - 1))].add(name)
    spec = {
        "name": "property",
        "horizon": {
            "start": "08:00",
            "length_hours": hours,
            "interval_minutes": minutes,
            "days": draw(st.integers(1, 2)),
            "warmup_minutes": draw(st.sampled_from([0, 0, 10, 30])),
            "closing": draw(st.sampled_from(["serve", "clear"])),
        },
        "service_level": {
            "threshold_seconds": draw(st.floats(0.0, 60.0)),
            "definition": draw(st.sampled_from(["offered", "answered", "offered_less_short_abandons"])),
        },
        "routing": {
            "agent_selection": draw(st.sampled_from(["longest_idle", "most_proficient", "random"])),
            "call_selection": draw(st.sampled_from(["priority", "skill_priority", "longest_wait"])),
        },
        "call_types": [draw(call_type_specs(name, intervals, trunk_lines is not None)) for name in names],
        "agent_groups": [
            {
                "name": GROUPS[g],
                "skills": [draw(skill_specs(name)) for name in names if name in skills],
                "agents": draw(staffing_plans(intervals)),
            }
            for g, skills in enumerate(skill_sets)
        ],
    }
    if trunk_lines is not None:
        spec["trunk_lines"] = trunk_lines
    if draw(st.booleans()):
        spec["busyness"] = {"cv": draw(st.floats(0.05, 1.0))}
    return spec


@st.composite
def blended_specs(draw) -> dict:
    """A small random centre (from `scenario_specs`, its horizon given an end time) with an interruptible email type
    beside its live ones (one of which may be chat), held by some groups, sometimes with a deferred reserve, shifts
    with deferred blocks, and an outage that drops the work in progress."""
    spec = draw(scenario_specs())
    horizon = spec["horizon"]
    hours = horizon.pop("length_hours")
    horizon["end"] = f"{8 + hours:02d}:00"
    spec["call_types"].append(
        {
            "name": "mail",
            "channel": "email",
            "interruptible": True,
            "arrivals": {"per_hour": draw(st.floats(1.0, 30.0))},
            "handle_time": draw(durations(30.0, 1200.0)),
            "initial_backlog": [{"items": draw(st.integers(0, 6)), "age_hours": 2.0}],
        }
    )
    if draw(st.booleans()):
        chat = spec["call_types"][0]
        chat["channel"] = "chat"
        chat.pop("retrial", None)
        if spec.pop("trunk_lines", None) is not None:  # chat holds no trunk line: nobody is blocked
            for call_type in spec["call_types"]:
                if "retrial" in call_type:
                    call_type["retrial"]["after_blocked"] = 0.0
    chat_types = {ct["name"] for ct in spec["call_types"] if ct.get("channel") == "chat"}
    groups = spec["agent_groups"]
    holders = draw(st.sets(st.integers(0, len(groups) - 1), min_size=1))
    for g, group in enumerate(groups):
        if any(skill["call_type"] in chat_types for skill in group["skills"]):
            group["max_concurrency"] = draw(st.integers(1, 3))
        if g not in holders:
            continue
        group["skills"].append(draw(skill_specs("mail")))
        if draw(st.booleans()):
            group["deferred_reserve"] = draw(st.integers(0, 2))
        if draw(st.booleans()):
            minutes = draw(st.sampled_from([15, 30, 60]))
            spec.setdefault("roster", []).append(
                {
                    "group": group["name"],
                    "start": "08:00",
                    "end": horizon["end"],
                    "agents": draw(st.integers(1, 3)),
                    "deferred_blocks": [{"name": "mail", "minutes": minutes, "window": ["08:00", horizon["end"]]}],
                }
            )
    if draw(st.booleans()):
        spec["tools"] = [
            {
                "name": "desktop",
                "maintenance": [{"start": "08:30", "minutes": 10}],
                "effects": [{"type": "down", "in_progress": draw(st.sampled_from(["drop", "finish"]))}],
            }
        ]
    return spec


# --- helpers --------------------------------------------------------------------------------------------------


def simulate(spec: dict, seed: int, replications: int = 1) -> bposim.Run:
    """Validate a scenario dict and simulate it."""
    return bposim.simulate(bposim.Scenario.model_validate(spec), seed=seed, replications=replications)


def answered_calls(calls: pd.DataFrame) -> pd.DataFrame:
    return calls[calls["outcome"] == "answered"]


def max_concurrent(starts: np.ndarray, ends: np.ndarray) -> int:
    """The most half-open spans [start, end) that overlap at any moment."""
    if len(starts) == 0:
        return 0
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((steps, times))
    return int(np.cumsum(steps[order]).max())


def requirement_table(counts: list[int], group: str = "team") -> pd.DataFrame:
    """A staffing requirement as `staffing_requirement(...).table` has it: `counts[i]` agents of `group` in interval
    i."""
    return pd.DataFrame({"group": group, "interval": range(len(counts)), "required": counts})


def fix_requirement(monkeypatch, counts: list[int]) -> None:
    """Make the roster optimiser start from this requirement of the team instead of simulating one."""
    from bposim.optimise import requirement

    fixed = SimpleNamespace(table=requirement_table(counts), simulations=0)
    monkeypatch.setattr(requirement, "staffing_requirement", lambda *args, **kwargs: fixed)
