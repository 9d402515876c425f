"""Running the real command line in a subprocess, shared by the CLI tests, and what a refusal must look like."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command(*args: object) -> list[str]:
    """The command line of `python -m bposim ARGS`."""
    return [sys.executable, "-m", "bposim", *map(str, args)]


def environment() -> dict[str, str]:
    """This environment without forced colours, with UTF-8 output, one BLAS thread (less address space held) and
    this project importable from any working directory."""
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    path = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | {"PYTHONIOENCODING": "utf-8", "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": path}


def bposim(
    *args: object, timeout: float = 300, memory_bytes: int | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bposim ARGS` in `cwd` (the project root unless told), capturing stdout and stderr as text.

    With `memory_bytes`, the process gets at most that much address space, so an input that would eat the
    machine's memory fails the test (a MemoryError, a traceback) instead of the machine.
    """

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        command(*args),
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
        preexec_fn=limit if memory_bytes is not None else None,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *pieces: str, source: object | None = None) -> str:
    """A refusal: exit status 2, no traceback, nothing on stdout, and every piece in the message on stderr (runs of
    white space read as one space); with `source`, every line of stderr is an `error: SOURCE: ...` line. Returns
    the message on one line."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert result.stdout == "", result.stdout
    if source is not None:
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith(f"error: {source}: ") for line in lines), result.stderr
    message = " ".join(result.stderr.split())
    for piece in pieces:
        assert " ".join(piece.split()) in message, (piece, message)
    return message
