"""The days of one sweep cell as a `Run`: read from the tables the sweep kept, else simulated again from the
experiment file (the same seed gives the same days), so a cell can be shown over the day after the sweep.

Not imported by `bposim.experiment` itself: it loads the engine, which checking an experiment does not need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bposim.experiment.design import Experiment
from bposim.experiment.errors import ExperimentError
from bposim.run import Run, simulate_replication
from bposim.scenario import ScenarioError


def cell_days(directory: Path, manifest: dict[str, Any], cell: int) -> tuple[Run | None, str]:
    """Every replication of a cell of the sweep in `directory` (column `replication`), with how it was had: from
    kept tables, else simulated again from the experiment (the same seed gives the same days). None, with why,
    when neither is possible: no tables kept and the experiment file gone, or changed since the sweep."""
    kept = sorted(
        (
            folder
            for folder in (directory / "tables" / str(cell)).glob("*")
            if folder.name.isdigit() and (folder / "calls.parquet").is_file()
        ),
        key=lambda f: int(f.name),
    )
    if kept and kept[0].name == "0":
        return Run.concat([Run.load(folder, summary={}) for folder in kept], [int(f.name) for f in kept]), (
            "from the tables the sweep kept"
        )
    source = Path(manifest.get("source", ""))
    if not source.is_file():
        return None, (
            f"The sweep kept no tables (keep: summary) and its experiment file {source} is not here to "
            "simulate the day again; run the report where the sweep ran, or sweep with keep: all."
        )
    try:
        experiment = Experiment.from_file(source)
    except (ExperimentError, ScenarioError):
        return None, f"The experiment file {source} no longer loads, so the day cannot be simulated again."
    if experiment.sha256 != manifest.get("experiment_sha256") or experiment.model_sha256 != manifest.get(
        "model_sha256"
    ):
        return None, f"The experiment file {source} or its model changed since the sweep; the day is not shown."
    runs = [simulate_replication(experiment.scenario(cell), experiment.seed, r) for r in range(experiment.replications)]
    return Run.concat(runs, list(range(experiment.replications))), (
        "simulated again from the experiment file (the same seed gives the same days)"
    )
