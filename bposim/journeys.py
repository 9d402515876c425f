"""The KPIs of journeys, for scenarios with transfers: computed from the call columns of a run by small pure
functions (the rows of `run.calls` hold everything: a journey is the rows of one caller's attempt, leg 1, 2, ...).

Definitions (contacts that arrived during the warm-up are left out, as everywhere):

- journeys: first legs offered (live, not a callback: answered, abandoned, blocked, unserved, dropped or
  disconnected), each with the legs it was passed on to (same call_id and attempt); legs_per_journey their mean
  number of legs.
- journey outcome: the outcome of its last leg (`final_outcomes` counts them: each journey ends in one).
- journey_wait_seconds: the mean over journeys ending answered of their total wait, the sum of their legs' waits
  (the first queue, and each queue passed on to, a warm transfer's hold included).
- journey_service_level: the share of journeys that end answered with a total wait within the first leg's
  threshold_seconds.
- transferred: answered legs passed on to another call type (a next leg exists); transfer_rate = transferred /
  answered legs, overall, per call type (`by_call_type`) and per serving group (`by_group`).
- disconnected: legs cut off when passed on to a call type nobody was free for (per call type: of that type).
- conferences: legs answered by a warm transfer; conference_seconds their mean conference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bposim import metrics
from bposim.engine.records import ANSWERED, CALLBACK, DISCONNECTED, OUTCOMES

RATES = ("legs_per_journey", "journey_wait_seconds", "journey_service_level", "transfer_rate", "conference_seconds")
OFFERED = frozenset(index for index, name in enumerate(OUTCOMES) if name not in ("contained", "callback_requested"))


def journey_kpis(
    calls: dict[str, np.ndarray],
    replication: np.ndarray | None,
    replications: int,
    agent_groups: np.ndarray,
    thresholds: np.ndarray,
    call_types: Sequence[str],
    groups: Sequence[str],
) -> list[dict]:
    """Per replication, the journey KPIs of a run's call columns (with leg, transfer_mode and conference_seconds),
    `replication` of each row (None: one), every agent's group index, and the threshold of each call type code."""
    rep = np.zeros(len(calls["call_id"]), np.int64) if replication is None else replication
    return [
        _replication_kpis(
            {name: column[rep == r] for name, column in calls.items()}, agent_groups, thresholds, call_types, groups
        )
        for r in range(replications)
    ]


def _replication_kpis(
    calls: dict[str, np.ndarray],
    agent_groups: np.ndarray,
    thresholds: np.ndarray,
    call_types: Sequence[str],
    groups: Sequence[str],
) -> dict:
    counted = ~calls["warmup"]
    leg, outcome, call_type = calls["leg"].astype(np.int64), calls["outcome"], calls["call_type"].astype(np.int64)
    journey = _journey_numbers(calls)
    first = counted & (leg == 1) & (calls["path"] != CALLBACK) & np.isin(outcome, list(OFFERED))
    starts = journey[first]
    in_journey = np.isin(journey, starts)
    last = _last_legs(journey, leg, in_journey)
    total_wait = np.bincount(journey[in_journey], calls["wait"][in_journey], minlength=int(journey.max(initial=-1)) + 1)
    legs = np.bincount(journey[in_journey], minlength=len(total_wait))
    ended_answered = outcome[last] == ANSWERED
    waits = total_wait[journey[last]]
    limits = np.full(len(total_wait), math.inf)
    limits[starts] = thresholds[call_type[first]]  # the first leg's threshold
    limit = limits[journey[last]]
    answered = counted & (outcome == ANSWERED)
    passed_on = answered & _passed_on(journey, leg)
    conferenced = counted & ~np.isnan(calls["conference_seconds"])
    group = np.append(agent_groups, -1).astype(np.int64)[calls["agent"].astype(np.int64)]
    summary = {
        "journeys": int(first.sum()),
        "legs_per_journey": _mean(legs[starts]),
        "journey_wait_seconds": _mean(waits[ended_answered]),
        "journey_service_level": _share(int((ended_answered & (waits <= limit)).sum()), int(first.sum())),
        "answered_legs": int(answered.sum()),
        "transferred": int(passed_on.sum()),
        "transfer_rate": _share(int(passed_on.sum()), int(answered.sum())),
        "disconnected": int((counted & (outcome == DISCONNECTED)).sum()),
        "conferences": int(conferenced.sum()),
        "conference_seconds": _mean(calls["conference_seconds"][conferenced]),
        "final_outcomes": {name: int((outcome[last] == code).sum()) for code, name in enumerate(OUTCOMES)},
    }
    summary["by_call_type"] = {
        name: _rates(
            answered & (call_type == code), passed_on, counted & (outcome == DISCONNECTED) & (call_type == code)
        )
        for code, name in enumerate(call_types)
    }
    summary["by_group"] = {
        name: _rates(answered & (group == code), passed_on, None) for code, name in enumerate(groups)
    }
    return summary


def _journey_numbers(calls: dict[str, np.ndarray]) -> np.ndarray:
    """A number per row, the same for the rows of one journey (one caller's attempt: call_id and attempt)."""
    key = calls["call_id"].astype(np.int64) * (int(calls["attempt"].max(initial=0)) + 1) + calls["attempt"]
    _, numbers = np.unique(key, return_inverse=True)
    return numbers.astype(np.int64)


def _last_legs(journey: np.ndarray, leg: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """The row of each kept journey's last leg (its highest leg number), in order of journey number."""
    rows = np.flatnonzero(kept)
    order = np.lexsort((leg[rows], journey[rows]))
    rows = rows[order]
    is_last = np.ones(len(rows), bool)
    is_last[:-1] = journey[rows][1:] != journey[rows][:-1]
    return rows[is_last]


def _passed_on(journey: np.ndarray, leg: np.ndarray) -> np.ndarray:
    """Whether each row's journey has a next leg (leg + 1): the row's caller was passed on after it."""
    width = int(leg.max(initial=0)) + 2
    present = journey * width + leg
    return np.isin(present + 1, present)


def _rates(answered: np.ndarray, passed_on: np.ndarray, disconnected: np.ndarray | None) -> dict:
    """Answered legs, those passed on and the transfer rate (and the legs cut off, per call type)."""
    count = int(answered.sum())
    moved = int((answered & passed_on).sum())
    out = {"answered_legs": count, "transferred": moved, "transfer_rate": _share(moved, count)}
    if disconnected is not None:
        out["disconnected"] = int(disconnected.sum())
    return out


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def pooled(summaries: list[dict]) -> dict:
    """The journey KPIs of several replications: each number the mean over them with its 95% confidence
    half-width under `<key>_ci`, nested parts (per call type, per group, final outcomes) alike."""
    out: dict = {}
    for key, value in summaries[0].items():
        if isinstance(value, dict):
            out[key] = pooled([summary[key] for summary in summaries])
        else:
            mean, half = metrics.mean_and_ci([float(summary[key]) for summary in summaries])
            out[key] = mean
            out[f"{key}_ci"] = half
    return out
