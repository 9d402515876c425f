"""A sweep's results directory, written so that a sweep killed at any moment loses only the tasks in flight.

Layout: ``manifest.json`` (the experiment's text and hashes, package version, seed, replications, cells, times);
``tasks/cell<c>-rep<r>.parquet``, one row per finished task; with ``keep: all``,
``tables/<cell>/<replication>/<table>.parquet``; and at the end ``results.parquet`` and ``cells.parquet``.
Every file is written under a temporary name and renamed into place, so a file that exists is complete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from bposim.experiment.design import ExperimentError
from bposim.experiment.tables import cell_summary, results_table

if TYPE_CHECKING:
    from bposim.experiment.design import Experiment

TASK_FILE = re.compile(r"^cell(\d+)-rep(\d+)\.parquet$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file under a temporary name in its directory, then rename it into place (atomic on POSIX)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(temporary)
    os.replace(temporary, path)


class ResultsDirectory:
    """The results of one experiment on disk: which tasks are done, and where each task's output goes."""

    def __init__(self, path: str | Path, experiment: Experiment):
        self.path = Path(path)
        self.experiment = experiment
        self.tasks = self.path / "tasks"
        self.manifest_path = self.path / "manifest.json"

    def open(self) -> set[tuple[int, int]]:
        """Create the directory or check it holds this experiment's results; return the (cell, replication) done."""
        manifest = self._read_manifest()
        try:
            self.tasks.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problem = f"cannot create the results directory ({exc.strerror or exc})"
            raise ExperimentError(str(self.path), [problem]) from None
        for leftover in self.path.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        if manifest is None:
            manifest = self._new_manifest()
        else:
            manifest["resumed"] = [*manifest.get("resumed", []), _now()]
            manifest["finished"] = None
        self._write_manifest(manifest)
        done = set()
        for file in self.tasks.iterdir():
            match = TASK_FILE.match(file.name)
            if match:
                done.add((int(match[1]), int(match[2])))
        return done

    def _read_manifest(self) -> dict | None:
        experiment = self.experiment
        if not self.manifest_path.is_file():
            if self.path.is_dir() and any(self.path.iterdir()):
                raise ExperimentError(str(self.path), ["the directory is not empty and has no manifest.json, so it "
                                                       "does not hold results of a sweep; choose a new directory"])
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExperimentError(str(self.manifest_path), [f"cannot read the manifest ({exc})"]) from None
        advice = "use another --out directory, or delete this one to start afresh"
        if manifest.get("experiment_sha256") != experiment.sha256:
            raise ExperimentError(str(self.path), [
                f"holds the results of a different experiment ('{manifest.get('experiment')}', started "
                f"{manifest.get('started')}); the experiment file has changed since; {advice}"])  # fmt: skip
        if manifest.get("model_sha256") != experiment.model_sha256:
            raise ExperimentError(str(self.path), [
                f"holds results of '{experiment.name}' for another version of its model (the base scenario has "
                f"changed since {manifest.get('started')}); {advice}"])  # fmt: skip
        return manifest

    def _new_manifest(self) -> dict:
        from bposim import __version__

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
            "cells": json.loads(experiment.design.to_json(orient="records")),
            "tasks": len(experiment.cells) * experiment.replications,
            "started": _now(),
            "resumed": [],
            "finished": None,
        }

    def _write_manifest(self, manifest: dict) -> None:
        text = json.dumps(manifest, indent=2) + "\n"
        write_atomically(self.manifest_path, lambda path: path.write_text(text, encoding="utf-8"))

    def save(self, cell: int, replication: int, row: pd.DataFrame, tables: dict[str, pd.DataFrame] | None) -> None:
        """Save one finished task: its tables first, then its results row, which marks it done."""
        if tables is not None:
            folder = self.path / "tables" / str(cell) / str(replication)
            folder.mkdir(parents=True, exist_ok=True)
            for name, table in tables.items():
                write_atomically(folder / f"{name}.parquet", lambda path, table=table: table.to_parquet(path))
        write_atomically(self.tasks / f"cell{cell}-rep{replication}.parquet", lambda path: row.to_parquet(path))

    def finish(self) -> pd.DataFrame:
        """Combine the task rows into results.parquet and cells.parquet, stamp the manifest, return the results."""
        files = sorted(file for file in self.tasks.iterdir() if TASK_FILE.match(file.name))
        results = results_table([pd.read_parquet(file) for file in files])
        write_atomically(self.path / "results.parquet", lambda path: results.to_parquet(path, index=False))
        cells = cell_summary(results)
        write_atomically(self.path / "cells.parquet", lambda path: cells.to_parquet(path, index=False))
        manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        manifest["finished"] = _now()
        self._write_manifest(manifest)
        return results
