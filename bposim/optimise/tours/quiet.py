"""HiGHS's own output kept off the planner's terminal.

scipy runs HiGHS with its log off, but the solver's C++ code still prints a stray debugging line
("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();") straight to the process's standard
output when it repairs an integer solution, as the workable limits' binaries make it do. `quiet_solver` points
file descriptor 1 at the null device while the solver runs, and back afterwards; Python's own `sys.stdout` is
flushed first, so nothing the program printed before is lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

STDOUT = 1


@contextlib.contextmanager
def quiet_solver() -> Iterator[None]:
    """Whatever is written to file descriptor 1 inside the block (by C code too) goes nowhere."""
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.flush()
    try:
        saved = os.dup(STDOUT)
    except OSError:  # no standard output to guard
        yield
        return
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), STDOUT)
        yield
    finally:
        os.dup2(saved, STDOUT)
        os.close(saved)
