"""Staffing requirement per interval and group: an Erlang start, refined by simulation with common random numbers,
and verified on days the search never saw.

Modules: `staffing` (`staffing_requirement`, the objective, the verification), `result` (`Requirement` and
`RequirementError`), `erlang_start` (the scenario as Erlang queues, and the Erlang headcounts), `search` (the
simulation refinement: where to add agents and where to take them), `judgement` (what the search days say about a
plan: shortfalls, removals they do not support, whether any staffing can meet a target).
"""

from bposim.optimise.requirement.result import Requirement, RequirementError
from bposim.optimise.requirement.staffing import METHODS, Method, staffing_requirement, with_objective

__all__ = ["METHODS", "Method", "Requirement", "RequirementError", "staffing_requirement", "with_objective"]
