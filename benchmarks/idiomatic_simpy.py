"""Reference Erlang-A (M/M/n+M) model written the plain, textbook SimPy way.

One process generates callers with exponential inter-arrival times, each caller is its own SimPy
process that queues for a ``simpy.Resource`` and reneges when its patience runs out first. It is
the yardstick that ``engine_speed.py`` measures the bposim engine against.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

ANSWERED = "answered"
ABANDONED = "abandoned"


class Records:
    """Per-caller records, kept in plain lists."""

    def __init__(self) -> None:
        self.arrival: list[float] = []
        self.wait: list[float] = []
        self.outcome: list[str] = []


def caller(
    env: simpy.Environment,
    agents: simpy.Resource,
    patience: float,
    handle: float,
    records: Records,
) -> Generator[simpy.Event, Any, None]:
    """Queue for an agent, give up after ``patience`` seconds, else hold the agent ``handle`` seconds."""
    arrival = env.now
    with agents.request() as req:
        result = yield req | env.timeout(patience)
        records.arrival.append(arrival)
        records.wait.append(env.now - arrival)
        if req in result:
            records.outcome.append(ANSWERED)
            yield env.timeout(handle)
        else:
            records.outcome.append(ABANDONED)


def source(
    env: simpy.Environment,
    agents: simpy.Resource,
    rng: np.random.Generator,
    arrival_rate: float,
    mean_handle_seconds: float,
    mean_patience_seconds: float,
    n_calls: int,
    records: Records,
) -> Generator[simpy.Event, Any, None]:
    """Generate ``n_calls`` callers with exponential inter-arrival times."""
    mean_gap = 1.0 / arrival_rate
    for _ in range(n_calls):
        yield env.timeout(rng.exponential(mean_gap))
        patience = rng.exponential(mean_patience_seconds)
        handle = rng.exponential(mean_handle_seconds)
        env.process(caller(env, agents, patience, handle, records))


def run_idiomatic(
    agents: int,
    arrival_rate: float,
    mean_handle_seconds: float,
    mean_patience_seconds: float,
    n_calls: int,
    seed: int,
) -> dict:
    """Simulate ``n_calls`` arrivals (``arrival_rate`` per second) until the system drains; summarise them."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    team = simpy.Resource(env, capacity=agents)
    records = Records()
    env.process(source(env, team, rng, arrival_rate, mean_handle_seconds, mean_patience_seconds, n_calls, records))
    env.run()

    answered_waits = [w for w, o in zip(records.wait, records.outcome, strict=True) if o == ANSWERED]
    offered = len(records.outcome)
    answered = len(answered_waits)
    abandoned = offered - answered
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "abandon_rate": abandoned / offered if offered else 0.0,
        "asa_seconds": sum(answered_waits) / answered if answered else 0.0,
        "sim_end_seconds": env.now,
    }


if __name__ == "__main__":
    print(run_idiomatic(50, 0.95 * 50 / 300, 300.0, 180.0, 20_000, seed=1))
