"""The optimiser's simulated days, one process or several: replication r of a seed is the same day wherever it is
simulated (`run.simulate_replication`), so days simulated on worker processes give the tables the serial ones would.

`Simulator(workers)` hands out the days of a batch to `workers` processes (forked on first use, kept until
`close`) and gives them back in the order asked for; with one worker it simulates them in this process. A scenario
with deferred work (email, case) is simulated over the days it is judged on (`deferred.judged`: its horizon, or
more when its first day's items would fall due after it), and its days give the backlog table as well.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd

from bposim.optimise.deferred import has_deferred, judged
from bposim.optimise.progress import Progress
from bposim.run import TABLES
from bposim.scenario import Scenario

if TYPE_CHECKING:
    from bposim.run import Run


class Simulator:
    """Simulates days for the optimiser, on `workers` processes when more than one, and counts them."""

    def __init__(self, workers: int = 1, progress: Progress | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers!r}")
        self.workers = workers
        self.progress = progress or Progress()
        self._pool: Executor | None = None

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes (new ones start if days are asked for again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def tables(
        self, scenario: Scenario, seed: int, replications: list[int]
    ) -> list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
        """The intervals, staffing and backlog tables of each replication (each with its `replication` column; the
        backlog empty without deferred work), over the judged days."""
        return self._map(day_tables, judged(scenario), seed, replications)

    def run(self, scenario: Scenario, seed: int, replications: int, tables: Collection[str] = TABLES) -> Run:
        """`run.simulate(scenario, seed, replications, tables)` over the judged days (with the backlog table when
        there is deferred work), the days shared among the workers."""
        from bposim.run import Run, simulate

        scenario = judged(scenario)
        if has_deferred(scenario):
            tables = {*tables, "backlog"}
        if self.workers == 1 or replications == 1:
            found = simulate(scenario, seed=seed, replications=replications, tables=tables)
            self.progress.simulated(replications * scenario.horizon.days)
            return found
        if scenario.costs is not None:  # Run.concat sums the costs of the days from their cost and calls tables
            tables = {*tables, "costs", "calls"}
        return Run.concat(self._map(partial(day_run, tables=tuple(tables)), scenario, seed, list(range(replications))))

    def _map(self, task, scenario: Scenario, seed: int, replications: list[int]) -> list:
        """`task(scenario, seed, r)` for every r, in order, on the workers when there are several days."""
        days = scenario.horizon.days
        if self.workers == 1 or len(replications) < 2:
            found = []
            for r in replications:
                found.append(task(scenario, seed, r))
                self.progress.simulated(days)
            return found
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=min(self.workers, len(replications)))
        futures = [self._pool.submit(task, scenario, seed, r) for r in replications]
        found = []
        for future in futures:
            found.append(future.result())
            self.progress.simulated(days)
        return found


def day_tables(scenario: Scenario, seed: int, replication: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One replication's intervals, staffing and backlog tables (the backlog only with deferred work), numbered:
    all the search reads of a day."""
    deferred = has_deferred(scenario)
    run = day_run(scenario, seed, replication, tables=("intervals", "staffing", "backlog")[: 3 if deferred else 2])
    backlog = run.backlog.assign(replication=replication) if deferred else run.backlog
    return run.intervals.assign(replication=replication), run.staffing.assign(replication=replication), backlog


def day_run(scenario: Scenario, seed: int, replication: int, tables: Collection[str] = TABLES) -> Run:
    """`run.simulate_replication`, at module level for the worker processes."""
    from bposim.run import simulate_replication

    return simulate_replication(scenario, seed, replication, tables=tables)
