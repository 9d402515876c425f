"""Running an experiment: every cell × replication is a task, run here, in local processes or on Dask.

A task is `simulate_replication(cell_scenario, seed, replication)`, a pure function, so the results table is the
same whatever the executor and the number of workers. Results come back to this process, which saves each as it
finishes (workers need no shared disk and write nothing, so the results directory's lock, held here, never blocks
them) and draws the progress bar.
"""

from __future__ import annotations

import pickle
import re
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bposim.experiment.errors import ExperimentError
from bposim.experiment.storage import ResultsDirectory
from bposim.experiment.tables import kpi_row, results_table
from bposim.processes import available_cores, too_many_workers

if TYPE_CHECKING:
    from bposim.experiment.design import Experiment
    from bposim.scenario import Scenario

KPI_TABLES = ()  # what `kpi_row` reads besides the summary: nothing (the scheduled hours come from the scenario)
KEPT_SCENARIOS = 8  # cell scenarios a worker process keeps unpickled (a sweep's tasks go cell after cell)
CONNECT_TIMEOUT = "5s"  # how long to try reaching a Dask scheduler before giving up
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$")


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back: the task, its KPI columns and, with keep: all, its tables."""

    cell: int
    replication: int
    kpis: dict[str, float | int | bool]
    tables: dict[str, pd.DataFrame] | None


def run_task(scenario: Scenario, seed: int, cell: int, replication: int, keep_tables: bool) -> TaskResult:
    """Simulate one replication of one cell (the same random streams as that replication of every other cell).

    Only with keep: all are all its tables built; otherwise just what its KPI row reads: the summary.
    """
    from bposim.run import Run, simulate_replication  # the engine loads where a task runs, not to check an experiment

    run = simulate_replication(scenario, seed, replication, tables=Run.TABLES if keep_tables else KPI_TABLES)
    tables = {name: getattr(run, name) for name in run.TABLES} if keep_tables else None
    return TaskResult(cell, replication, kpi_row(run), tables)


_worker_scenarios: OrderedDict[tuple[str, int], Scenario] = OrderedDict()


def run_pickled_task(
    sweep: str, pickled: bytes, seed: int, cell: int, replication: int, keep_tables: bool
) -> TaskResult:
    """`run_task` in a worker process, the cell's scenario sent as the bytes the sweep pickled once per cell: a
    worker unpickles each cell's scenario once and keeps it (by sweep and cell), so its tasks meet the same scenario
    object and what depends on it alone is worked out once (`bposim.memo`). Each task is still its own result, saved
    as soon as it is back."""
    key = (sweep, cell)
    scenario = _worker_scenarios.get(key)
    if scenario is None:
        scenario = pickle.loads(pickled)  # bytes this sweep made from its own validated scenario, never a user's file
        _worker_scenarios[key] = scenario
        while len(_worker_scenarios) > KEPT_SCENARIOS:
            _worker_scenarios.popitem(last=False)
    else:
        _worker_scenarios.move_to_end(key)
    return run_task(scenario, seed, cell, replication, keep_tables)


def scheduler_problem(scheduler: str) -> str | None:
    """What is wrong with a --scheduler value ('local', or a Dask scheduler address with host and port), or None."""
    match = _ADDRESS.match(scheduler)
    if scheduler == "local" or scheduler.startswith("inproc://") or (match and 0 < int(match[1]) < 65_536):
        return None
    return (
        f"'{scheduler}' is not a Dask scheduler address; give local (a Dask cluster on this machine) or the "
        "scheduler's address with its port, like tcp://host:8786"
    )


def run_experiment(
    experiment: Experiment,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run the tasks not yet saved in `out` and return the whole results table, sorted by cell and replication."""
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    crowd = too_many_workers(workers) if workers is not None and scheduler is None else None
    if crowd is not None:
        raise ExperimentError("--workers", [f"{crowd}, or a Dask --scheduler for more"])
    problem = scheduler_problem(scheduler) if scheduler is not None else None
    if problem is not None:
        raise ExperimentError("--scheduler", [problem])
    if scheduler is not None and scheduler != "local":
        _connect(scheduler, 0)[0].close()  # a scheduler that does not answer is refused before anything is written
    directory = ResultsDirectory(out, experiment) if out is not None else None
    done = directory.open() if directory is not None else set()
    try:
        jobs = [
            (cell.index, r)
            for cell in experiment.cells
            for r in range(experiment.replications)
            if (cell.index, r) not in done
        ]
        total = len(experiment.cells) * experiment.replications
        rows: list[dict] = []
        with _progress_bar(progress) as bar:
            for note in directory.notes if directory is not None else ():
                if bar is not None:
                    bar.console.print(note, highlight=False)
                else:
                    warnings.warn(note, stacklevel=2)
            if bar is not None and done:
                bar.console.print(
                    f"{out}: all {total} tasks already done; reading the results"
                    if directory.complete
                    else f"Resuming {out}: {len(done)} of {total} tasks already done",
                    highlight=False,
                )
            task = bar.add_task(experiment.name, total=total, completed=len(done)) if bar is not None else None
            for result in _execute(experiment, jobs, workers, scheduler):
                cell = experiment.cells[result.cell]
                row = {
                    "cell": cell.index,
                    **cell.labels,
                    "replication": result.replication,
                    "seed": experiment.seed,
                    **result.kpis,
                }
                if directory is not None:
                    directory.save(result.cell, result.replication, row, result.tables, cell.scenario)
                else:
                    rows.append(row)  # one frame of all rows at the end: a frame a row costs more than a task
                if bar is not None:
                    bar.advance(task)
        return directory.finish() if directory is not None else results_table([pd.DataFrame(rows)] if rows else [])
    finally:
        if directory is not None:
            directory.close()


def _execute(
    experiment: Experiment, jobs: list[tuple[int, int]], workers: int | None, scheduler: str | None
) -> Iterator[TaskResult]:
    """Task results in the order they finish, from the executor asked for."""
    if not jobs:
        return iter(())
    workers = min(workers or available_cores(), len(jobs))
    keep = experiment.keep == "all"
    if scheduler is not None:
        return _on_dask(experiment, jobs, workers, scheduler, keep)
    if workers == 1:
        return (run_task(experiment.cells[c].scenario, experiment.seed, c, r, keep) for c, r in jobs)
    return _in_processes(experiment, jobs, workers, keep)


def _in_processes(
    experiment: Experiment, jobs: list[tuple[int, int]], workers: int, keep: bool
) -> Iterator[TaskResult]:
    """Tasks on local worker processes; leaving early (an error, Ctrl-C) cancels those not started."""
    sweep = uuid.uuid4().hex
    pickled = {cell: pickle.dumps(experiment.cells[cell].scenario) for cell in sorted({cell for cell, _ in jobs})}
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futures = [
            pool.submit(run_pickled_task, sweep, pickled[cell], experiment.seed, cell, replication, keep)
            for cell, replication in jobs
        ]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _on_dask(
    experiment: Experiment, jobs: list[tuple[int, int]], workers: int, scheduler: str, keep: bool
) -> Iterator[TaskResult]:
    """Tasks on a Dask cluster: an existing one at `scheduler`, or a LocalCluster of `workers` processes."""
    from distributed import as_completed as dask_completed  # Dask loads slowly: only for sweeps on a cluster

    client, cluster = _connect(scheduler, workers)
    futures = []
    try:
        scenarios = client.scatter([cell.scenario for cell in experiment.cells], hash=False)
        futures = [client.submit(run_task, scenarios[c], experiment.seed, c, r, keep, pure=False) for c, r in jobs]
        for future in dask_completed(futures):
            yield future.result()
            future.release()
    finally:
        client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()


def _connect(scheduler: str, workers: int):
    """A Dask client of the scheduler at an address, or of a LocalCluster of `workers` processes (and the cluster,
    else None); a scheduler that cannot be reached or started raises ExperimentError naming --scheduler."""
    from distributed import Client, LocalCluster  # Dask loads slowly: only for sweeps on a cluster

    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster if cluster is not None else scheduler, timeout=CONNECT_TIMEOUT), cluster
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        if scheduler == "local":
            raise ExperimentError("--scheduler", [f"cannot start a local Dask cluster ({exc})"]) from None
        raise ExperimentError(
            "--scheduler",
            [
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one "
                "there, or give local for a Dask cluster on this machine"
            ],
        ) from None


class _RateColumn(ProgressColumn):
    """Tasks finished per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} tasks/s" if speed else "– tasks/s", style="progress.data.speed")


class _NoBar:
    """Stands in for the progress bar when progress=False."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _progress_bar(enabled: bool) -> Progress | _NoBar:
    """A rich progress bar on stderr (it renders in Jupyter too): done/total, rate, elapsed, ETA."""
    if not enabled:
        return _NoBar()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True))
