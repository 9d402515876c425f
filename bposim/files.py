"""Files bposim writes: each one whole or not at all, and a results directory written by one process at a time.

    write_atomically(path, lambda handle: table.to_parquet(handle))   # tables, any bytes
    write_text_atomically(path, text)                                 # reports, JSON, YAML

A file is written under a temporary name in its own directory (``.<name>.<pid>-<thread>-<random>.tmp``), flushed,
fsynced and renamed into place, so a kill or a full disk never leaves a truncated file nor destroys a good one that
was there before. A failure raises `WriteError` naming the file meant and the reason ("out/x/calls.parquet: cannot
write (No space left on device)"). `DirectoryLock` is the ``.lock`` file a sweep holds in its results directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

TEMPORARY_FILE = re.compile(r"^\..+\.(\d+)(?:-\d+-[0-9a-f]+)?\.tmp$")
UNFINISHED_LOCK_SECONDS = 10.0  # a lock file still empty after this long was left by a writer killed mid-way
TAKEOVER_SECONDS = 2.0  # how long to wait for a lock being written or taken over by another process


class WriteError(OSError):
    """A file that could not be written: `filename` is the file meant (never its temporary name), `strerror` why."""

    def __str__(self) -> str:
        return f"{self.filename}: cannot write ({self.strerror})"


def error_reason(exc: OSError) -> str:
    """The reason of an OS error in a few words, e.g. "No space left on device"."""
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc.strerror or exc)


def cannot_write(path: str | Path, exc: OSError) -> WriteError:
    """The `WriteError` for `path` failing with `exc`."""
    return exc if isinstance(exc, WriteError) else WriteError(exc.errno, error_reason(exc), str(path))


def write_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write `path` with `write(handle)` (a binary file) under a temporary name beside it, fsync it, then rename it
    into place; on any failure remove the temporary file, leave `path` as it was and raise (a `WriteError` for an OS
    error). Returns `path`. The directory is not fsynced: after a power cut a rename may be lost (the file there
    before, or none: a sweep redoes that task), never half a file; one fsync a file keeps a sweep's saving fast."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}-{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        with contextlib.suppress(OSError):
            os.fchmod(descriptor, stat.S_IMODE(os.stat(path).st_mode))  # a file replaced keeps its permissions
        with open(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(exc, OSError):
            raise cannot_write(path, exc) from exc
        raise
    return path


def write_text_atomically(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (see `write_atomically`); returns `path`."""
    data = text.encode(encoding)
    return write_atomically(path, lambda handle: handle.write(data))


def check_writable(directory: str | Path) -> None:
    """Raise a `WriteError` naming `directory` if a file cannot be written in it now (read-only, full, no
    permission), so that a long run fails at once rather than at its end. Leaves nothing behind."""
    try:
        with tempfile.TemporaryFile(dir=directory) as probe:
            probe.write(b"\n")
            probe.flush()
    except OSError as exc:
        raise cannot_write(directory, exc) from None


def remove_leftovers(directory: str | Path) -> int:
    """Remove the temporary files under `directory` left by writers no longer running (killed mid-write); return
    how many. Call it only while holding the directory's lock."""
    removed = 0
    for leftover in Path(directory).rglob(".*.tmp"):
        match = TEMPORARY_FILE.match(leftover.name)
        if match and process_alive(int(match[1])):
            continue
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def process_alive(pid: int, start: int | None = None) -> bool:
    """Whether process `pid` runs on this machine (and, given its `start` time in clock ticks, is the same one)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except (OverflowError, OSError):
        return False
    if start is not None:
        now = _process_start(pid)
        return now is None or now == start
    return True


def _process_start(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (Linux); None where that cannot be read."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        return int(text.rpartition(")")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return None


class DirectoryBusy(Exception):
    """Another process holds the directory's lock."""

    def __init__(self, lock: Path, holder: dict | None):
        self.lock = lock
        self.holder = holder or {}
        super().__init__(f"{lock.parent}: in use by {describe_holder(self.holder)}")


def describe_holder(holder: dict) -> str:
    """'pid 4242 on host h, since 2026-12-06T05:00:00+00:00' from a lock file's contents."""
    if not holder:
        return "a process that is still writing its lock file"
    return f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}, since {holder.get('since', '?')}"


class DirectoryLock:
    """``DIR/.lock``, created with O_CREAT|O_EXCL and holding the pid, host and start time of the one process that
    may write in DIR. A lock whose process is gone (killed, on this host) is taken over; `taken_over` is then what it
    held, for a note."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / ".lock"
        self.held = False
        self.taken_over: dict | None = None
        self._content = b""

    def acquire(self) -> None:
        """Take the lock, or raise `DirectoryBusy` naming the holder (a `WriteError` if the lock cannot be written)."""
        deadline = time.monotonic() + TAKEOVER_SECONDS
        while True:
            try:
                descriptor = os.open(
                    self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644
                )
            except FileExistsError:
                found = self._read()
                if found is None:  # released in the meantime
                    continue
                content, holder, age = found
                if self._stale(holder, age):
                    if self._remove_stale(content):
                        self.taken_over = holder or {}
                        continue
                elif holder is not None:
                    raise DirectoryBusy(self.path, holder) from None
                if time.monotonic() > deadline:
                    raise DirectoryBusy(self.path, holder) from None
                time.sleep(0.01)  # a lock being written, or taken over by another process: look again
                continue
            except OSError as exc:
                raise cannot_write(self.path, exc) from None
            self._content = self._holder_text()
            try:
                with open(descriptor, "wb") as handle:
                    handle.write(self._content)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                with contextlib.suppress(OSError):
                    self.path.unlink()
                raise cannot_write(self.path, exc) from None
            self.held = True
            return

    def release(self) -> None:
        """Remove the lock file if this process holds it (idempotent; never raises)."""
        if not self.held:
            return
        self.held = False
        with contextlib.suppress(OSError):
            if self.path.read_bytes() == self._content:
                self.path.unlink()

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _holder_text(self) -> bytes:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "process_start": _process_start(os.getpid()),
        }
        return (json.dumps(holder) + "\n").encode("utf-8")

    def _read(self) -> tuple[bytes, dict | None, float] | None:
        """The lock file's bytes, its holder (None if unreadable) and its age in seconds; None if it is gone."""
        try:
            content = self.path.read_bytes()
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        except OSError:
            return b"", None, 0.0
        try:
            holder = json.loads(content)
        except ValueError:
            holder = None
        return content, holder if isinstance(holder, dict) else None, age

    @staticmethod
    def _stale(holder: dict | None, age: float) -> bool:
        """A lock left by a process that is gone: on this host and not running, or never finished being written."""
        if holder is None:
            return age > UNFINISHED_LOCK_SECONDS
        if holder.get("host") != socket.gethostname():
            return False
        try:
            pid = int(holder.get("pid"))
            start = holder.get("process_start")
            return not process_alive(pid, int(start) if start is not None else None)
        except (TypeError, ValueError):
            return age > UNFINISHED_LOCK_SECONDS

    def _remove_stale(self, content: bytes) -> bool:
        """Delete the stale lock if it still holds `content`, under ``.lock.takeover`` (a second lock held for an
        instant), so that of several processes taking it over at once none deletes the lock another has just taken.
        Returns whether this process deleted it."""
        guard = self.path.with_name(".lock.takeover")
        try:
            os.close(os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644))
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - guard.stat().st_mtime > UNFINISHED_LOCK_SECONDS:
                    guard.unlink()  # left by a process killed while taking over
            return False
        except OSError as exc:
            raise cannot_write(self.path, exc) from None
        try:
            if self.path.read_bytes() != content:
                return False
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise cannot_write(self.path, exc) from None
        finally:
            with contextlib.suppress(OSError):
                guard.unlink()
