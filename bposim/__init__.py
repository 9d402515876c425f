"""bposim: a contact-centre simulator on SimPy, with Erlang baselines.

    import bposim
    scenario = bposim.load_scenario("models/helpdesk.yaml")
    run = bposim.simulate(scenario, seed=1)
    run.summary["service_level"], run.intervals.head()
"""

from bposim import analytic
from bposim.run import Run, simulate
from bposim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Run", "Scenario", "ScenarioError", "analytic", "load_scenario", "simulate"]
__version__ = "0.1.0"
