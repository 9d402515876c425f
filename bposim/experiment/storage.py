"""A sweep's results directory, written so that a sweep killed at any moment loses only the tasks in flight.

Layout: ``manifest.json`` (the experiment's text and hashes, package version, seed, replications, cells, times);
``tasks/rows.jsonl``, one line (a JSON object: the task's results row) per finished task, appended as each task
comes back; with ``keep: all``, ``tables/<cell>/<replication>/<table>.parquet``; and at the end ``results.parquet``
and ``cells.parquet``. Every other file is written under a temporary name and renamed into place (`bposim.files`),
so a file that exists is complete; a line is written whole with one write and flushed at once, so a sweep killed
(Ctrl-C, a kill, out of memory) loses no finished task, and a line cut short (a write killed mid-way, a full disk) is
cut off when the sweep resumes. The file is fsynced at most once a second and when the sweep stops: a power cut may
lose the last second's tasks, which a resumed sweep redoes. (Directories of earlier versions hold a
``tasks/cell<c>-rep<r>.parquet`` file per task: they are read as well, so such a sweep resumes.) The process writing
holds ``.lock`` (another sweep on the same directory is refused); a sweep whose results are all there reads them and
writes nothing, so it also runs on a read-only copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bposim import __version__
from bposim.experiment.errors import ExperimentError
from bposim.experiment.tables import cell_summary, results_table
from bposim.files import (
    DirectoryBusy,
    DirectoryLock,
    cannot_write,
    describe_holder,
    remove_leftovers,
    write_atomically,
    write_text_atomically,
)
from bposim.scenario import Scenario, scenario_text

if TYPE_CHECKING:
    from bposim.experiment.design import Experiment

TASK_FILE = re.compile(r"^cell(\d+)-rep(\d+)\.parquet$")  # a task's row as directories of earlier versions saved it
ROWS_FILE = "rows.jsonl"  # in tasks/: a line per finished task
FSYNC_SECONDS = 1.0  # the longest the rows file goes without an fsync while a sweep runs


def _plain(value: object) -> object:
    """A numpy number in a results row as the Python number JSON writes."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot save {value!r} in a results row")


def row_line(row: dict) -> bytes:
    """A results row as its line of the rows file: JSON (floats written to round-trip to the bit; NaN as NaN)."""
    return (json.dumps(row, default=_plain, separators=(",", ":")) + "\n").encode("utf-8")


def saved_rows(tasks: Path) -> list[dict]:
    """The rows of the finished tasks in a results directory's `tasks/` folder: the rows file's whole lines (a last
    line cut short is not one), then the task files of earlier versions; a task is counted once."""
    rows: list[dict] = []
    log = tasks / ROWS_FILE
    if log.is_file():
        data = log.read_bytes()
        rows = [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines() if line.strip()]
    if tasks.is_dir():
        files = sorted(file for file in tasks.iterdir() if TASK_FILE.match(file.name))
        rows += [row for file in files for row in pd.read_parquet(file).to_dict("records")]
    seen: set[tuple[int, int]] = set()
    unique = []
    for row in rows:
        key = (int(row["cell"]), int(row["replication"]))
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def saved_results(tasks: Path) -> pd.DataFrame:
    """The results table of the finished tasks in a results directory's `tasks/` folder (`saved_rows`)."""
    rows = saved_rows(tasks)
    return results_table([pd.DataFrame(rows)] if rows else [])


def _ours(name: str) -> bool:
    """A file a sweep leaves before its manifest exists: its lock, or a temporary file of a write killed mid-way."""
    return name.startswith(".lock") or (name.startswith(".") and name.endswith(".tmp"))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ResultsDirectory:
    """The results of one experiment on disk: which tasks are done, and where each task's output goes."""

    def __init__(self, path: str | Path, experiment: Experiment):
        self.path = Path(path)
        self.experiment = experiment
        self.tasks = self.path / "tasks"
        self.manifest_path = self.path / "manifest.json"
        self.lock = DirectoryLock(self.path)
        self.complete = False
        self.notes: list[str] = []
        self._log: int | None = None  # the rows file's descriptor, open for appending while the sweep runs
        self._synced = 0.0

    def open(self) -> set[tuple[int, int]]:
        """Create the directory or check it holds this experiment's results; return the (cell, replication) done.

        If every task and the combined tables are there already, nothing is written (`complete`); otherwise take the
        directory's lock (an `ExperimentError` naming the holder if another process has it), remove what writers
        killed mid-write left, and stamp the manifest. `close()` releases the lock."""
        manifest = self._read_manifest()
        done = self._done()
        if manifest is not None and self._is_complete(manifest, done):
            self.complete = True
            return done
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"cannot create the results directory ({exc.strerror or exc})"
            raise ExperimentError(str(self.path), [problem]) from None
        try:
            self.lock.acquire()
        except DirectoryBusy as exc:
            problem = f"in use by another sweep ({describe_holder(exc.holder)}); wait for it to finish or stop it"
            if exc.holder.get("host") != socket.gethostname():
                problem += f"; if that process is gone, delete {self.lock.path}"
            raise ExperimentError(str(self.path), [problem]) from None
        try:
            if self.lock.taken_over is not None:
                self.notes.append(
                    f"{self.lock.path}: took over the lock left by "
                    f"{describe_holder(self.lock.taken_over)}, which is no longer running"
                )
            manifest = self._read_manifest()
            remove_leftovers(self.path)
            if manifest is None:
                manifest = self._new_manifest()
            else:
                manifest["resumed"] = [*manifest.get("resumed", []), _now()]
                manifest["finished"] = None
            self._write_manifest(manifest)
            try:
                self.tasks.mkdir(exist_ok=True)
            except OSError as exc:
                raise cannot_write(self.tasks, exc) from None
            self._open_log()
            return self._done()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Sync and close the rows file, and release the directory's lock, if this process holds it."""
        try:
            if self._log is not None:
                log, self._log = self._log, None
                try:
                    os.fsync(log)
                finally:
                    os.close(log)
        finally:
            self.lock.release()

    def _open_log(self) -> None:
        """Open the rows file for appending, a last line cut short (a write killed mid-way) cut off first."""
        path = self.tasks / ROWS_FILE
        try:
            self._log = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0), 0o666)
            size = os.fstat(self._log).st_size
            if size:
                tail = os.pread(self._log, min(size, 1 << 16), max(0, size - (1 << 16)))
                if not tail.endswith(b"\n"):
                    whole = path.read_bytes()
                    os.ftruncate(self._log, whole.rfind(b"\n") + 1)
        except OSError as exc:
            raise cannot_write(path, exc) from None
        self._synced = time.monotonic()

    def _done(self) -> set[tuple[int, int]]:
        """The (cell, replication) of every finished task saved."""
        return {(int(row["cell"]), int(row["replication"])) for row in saved_rows(self.tasks)}

    def _is_complete(self, manifest: dict, done: set[tuple[int, int]]) -> bool:
        """Finished, with every task and the combined tables on disk: nothing left to do or write."""
        tasks = {(cell.index, r) for cell in self.experiment.cells for r in range(self.experiment.replications)}
        return (
            bool(manifest.get("finished"))
            and done >= tasks
            and (self.path / "results.parquet").is_file()
            and (self.path / "cells.parquet").is_file()
        )

    def _read_manifest(self) -> dict | None:
        experiment = self.experiment
        if not self.manifest_path.is_file():
            if self.path.is_dir() and any(not _ours(entry.name) for entry in self.path.iterdir()):
                raise ExperimentError(
                    str(self.path),
                    [
                        "the directory is not empty and has no manifest.json, so it "
                        "does not hold results of a sweep; choose a new directory"
                    ],
                )
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExperimentError(str(self.manifest_path), [f"cannot read the manifest ({exc})"]) from None
        advice = "use another --out directory, or delete this one to start afresh"
        if manifest.get("experiment_sha256") != experiment.sha256:
            raise ExperimentError(
                str(self.path),
                [
                    f"holds the results of a different experiment ('{manifest.get('experiment')}', started "
                    f"{manifest.get('started')}); the experiment file has changed since; {advice}"
                ],
            )
        if manifest.get("model_sha256") != experiment.model_sha256:
            raise ExperimentError(
                str(self.path),
                [
                    f"holds results of '{experiment.name}' for another version of its model (the base scenario has "
                    f"changed since {manifest.get('started')}); {advice}"
                ],
            )
        return manifest

    def _new_manifest(self) -> dict:
        experiment = self.experiment
        return {
            "experiment": experiment.name,
            "source": experiment.source,
            "content": experiment.text,
            "experiment_sha256": experiment.sha256,
            "model_sha256": experiment.model_sha256,
            "bposim_version": __version__,
            "seed": experiment.seed,
            "replications": experiment.replications,
            "keep": experiment.keep,
            "factors": experiment.factor_names,
            "channels": {call_type.name: call_type.channel for call_type in experiment.base.call_types},
            "cells": json.loads(experiment.design.to_json(orient="records")),
            "tasks": len(experiment.cells) * experiment.replications,
            "started": _now(),
            "resumed": [],
            "finished": None,
        }

    def _write_manifest(self, manifest: dict) -> None:
        text = json.dumps(manifest, indent=2) + "\n"
        write_text_atomically(self.manifest_path, text)

    def save(
        self,
        cell: int,
        replication: int,
        row: dict,
        tables: dict[str, pd.DataFrame] | None,
        scenario: Scenario | None = None,
    ) -> None:
        """Save one finished task: its tables (with the cell's scenario, so that `Run.load` reads them back as the
        run they are) first, then its results row, a line appended to the rows file, which marks it done."""
        if tables is not None:
            folder = self.path / "tables" / str(cell) / str(replication)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise cannot_write(folder, exc) from None
            for name, table in tables.items():
                write_atomically(folder / f"{name}.parquet", lambda handle, table=table: table.to_parquet(handle))
            if scenario is not None:
                write_text_atomically(folder / "scenario.yaml", scenario_text(scenario))
        self._append(row_line(row))

    def _append(self, line: bytes) -> None:
        """Append one whole line to the rows file; a write that fails (a full disk) leaves the file as it was."""
        log = self._log
        if log is None:
            raise RuntimeError("the results directory is not open for writing")
        size = os.fstat(log).st_size
        try:
            written = os.write(log, line)
            if written != len(line):
                raise OSError(28, "No space left on device")  # a short write: the disk filled mid-line
            now = time.monotonic()
            if now - self._synced >= FSYNC_SECONDS:
                os.fsync(log)
                self._synced = now
        except OSError as exc:
            with contextlib.suppress(OSError):  # else the line cut short is cut off when the sweep resumes
                os.ftruncate(log, size)
            raise cannot_write(self.tasks / ROWS_FILE, exc) from None

    def finish(self) -> pd.DataFrame:
        """Combine the task rows into results.parquet and cells.parquet, stamp the manifest, return the results (read
        back, without writing, when the directory was complete already)."""
        if self.complete:
            return pd.read_parquet(self.path / "results.parquet")
        if self._log is not None:
            os.fsync(self._log)
        results = saved_results(self.tasks)
        write_atomically(self.path / "results.parquet", lambda handle: results.to_parquet(handle, index=False))
        cells = cell_summary(results)
        write_atomically(self.path / "cells.parquet", lambda handle: cells.to_parquet(handle, index=False))
        manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        manifest["finished"] = _now()
        self._write_manifest(manifest)
        return results
