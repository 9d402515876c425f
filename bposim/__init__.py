"""bposim: a contact-centre simulator on SimPy, with Erlang baselines.

    import bposim
    scenario = bposim.load_scenario("models/helpdesk.yaml")
    run = bposim.simulate(scenario, seed=1)
    run.summary["service_level"], run.intervals.head()
    bposim.compare(scenario, scenario.updated({"agent_groups.team.agents": 13}), replications=20)  # B − A, ± 95%

    plan, day = bposim.load_plan("models/plans/capacity_plan.yaml")   # months of hiring over a representative day
    options, results = bposim.compare_plans(plan.options(), day, replications=3)   # cost, margin, P(months meet)

`simulate`, `Run`, `analytic`, `requirement` (agents required per interval, `bposim.planning`) and the capacity
plan (`load_plan`, `plan_capacity`, `what_if`, `compare_plans`, `bposim.capacity`) are imported on
first use, so that reading and checking scenario files (`bposim validate`) starts without loading pandas and SciPy.
"""

from importlib import import_module
from typing import Any

from bposim.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "Experiment",
    "Run",
    "Scenario",
    "ScenarioError",
    "analytic",
    "cell_summary",
    "compare",
    "compare_plans",
    "load_plan",
    "load_scenario",
    "plan_capacity",
    "requirement",
    "run_experiment",
    "simulate",
    "what_if",
]
__version__ = "0.1.0"

_LAZY = {
    "simulate": ("bposim.run", "simulate"),
    "Run": ("bposim.run", "Run"),
    "analytic": ("bposim.analytic", None),
    "Experiment": ("bposim.experiment", "Experiment"),
    "run_experiment": ("bposim.experiment", "run_experiment"),
    "cell_summary": ("bposim.experiment", "cell_summary"),
    "compare": ("bposim.comparison", "compare"),
    "requirement": ("bposim.planning", "requirement"),
    "load_plan": ("bposim.capacity", "load_plan"),
    "plan_capacity": ("bposim.capacity", "plan_capacity"),
    "what_if": ("bposim.capacity", "what_if"),
    "compare_plans": ("bposim.capacity", "compare_plans"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'bposim' has no attribute '{name}'")
    module_name, attribute = _LAZY[name]
    module = import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value
