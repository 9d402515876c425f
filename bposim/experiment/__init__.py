"""Experiments: sweeps of a scenario over factors, replicated under common random numbers, resumable on disk.

    from bposim.experiment import Experiment, cell_summary, paired_differences
    experiment = Experiment.from_file("experiments/multiskill_agents_ai.yaml")
    results = experiment.run(out="out/multiskill_agents_ai", workers=2)   # one row per cell × replication
    cell_summary(results)                                                 # means, 95% CIs, share of days on target
    paired_differences(results, baseline=0)                               # each cell minus cell 0, day by day, ± 95% CI

Modules: `design` (files, factors, cells and their checks), `relative` (scale factors of staffing and arrivals,
items added to a list), `runner` (tasks and executors), `storage` (the
resumable results directory), `tables` (results rows and the per-cell summary), `report` (the CLI's table),
`days` (a cell's days again, from kept tables or simulated anew; imported on its own, as it loads the engine).
"""

from bposim.experiment.design import Experiment, ExperimentError, scenario_paths
from bposim.experiment.runner import run_experiment
from bposim.experiment.tables import cell_summary, paired_differences, ranked_cells

__all__ = [
    "Experiment",
    "ExperimentError",
    "cell_summary",
    "paired_differences",
    "ranked_cells",
    "run_experiment",
    "scenario_paths",
]
