"""Running the real command line in a subprocess, shared by the CLI tests."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bposim(*args: object, timeout: float = 300, memory_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m bposim ARGS` from the project root, capturing stdout and stderr as text.

    With `memory_bytes`, the process gets at most that much address space, so an input that would eat the
    machine's memory fails the test (a MemoryError, a traceback) instead of the machine.
    """
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    env |= {"PYTHONIOENCODING": "utf-8", "OPENBLAS_NUM_THREADS": "1"}  # one BLAS thread: less address space held

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-m", "bposim", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
        preexec_fn=limit if memory_bytes is not None else None,
    )
