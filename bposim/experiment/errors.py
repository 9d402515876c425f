"""The experiment's error, at the bottom of the package so that design, runner and storage all import it one way."""

from __future__ import annotations

from bposim.scenario import ScenarioError


class ExperimentError(ScenarioError):
    """An experiment that cannot be run (its file, a factor, a cell, its results directory), one line per problem."""
