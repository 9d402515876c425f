"""Optimisation: staffing requirements per interval, and the cheapest roster of shifts that meets them.

Modules: `requirement` (agents per group and interval: Erlang start, simulation search), `schedule` (the cheapest
shifts covering a requirement, an integer programme), `roster` (the closed loop: propose a roster, simulate it,
raise where it misses, trim), `evidence` (the simulated days decisions are taken on), `trunks` (what trunk lines
allow), `charts`.
"""

from bposim.optimise.requirement import Requirement, RequirementError, staffing_requirement
from bposim.optimise.roster import RosterPlan, WeeklyPlan, optimise_roster
from bposim.optimise.schedule import Pattern, Schedule, ScheduleError, enumerate_patterns, solve_schedule

__all__ = [
    "Requirement",
    "RequirementError",
    "staffing_requirement",
    "Pattern",
    "Schedule",
    "ScheduleError",
    "enumerate_patterns",
    "solve_schedule",
    "RosterPlan",
    "WeeklyPlan",
    "optimise_roster",
]
