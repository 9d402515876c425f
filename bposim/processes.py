"""Local worker processes: the cores this process may use, and how many workers a machine can take."""

from __future__ import annotations

import os

WORKERS_PER_CORE = 4  # local worker processes beyond this only share the cores and multiply the memory


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def too_many_workers(workers: int) -> str | None:
    """Why `workers` local processes are too many for this machine, or None when they are not."""
    cores = available_cores()
    if workers <= WORKERS_PER_CORE * cores:
        return None
    return (
        f"{workers:,} worker processes on a machine with {cores} core(s); give at most {WORKERS_PER_CORE * cores} "
        "(each is a Python process of its own)"
    )
