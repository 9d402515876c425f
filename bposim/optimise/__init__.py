"""Optimisation: staffing requirements per interval, and the cheapest roster of shifts that meets them."""

from bposim.optimise.requirement import Requirement, RequirementError, staffing_requirement
from bposim.optimise.roster import RosterPlan, optimise_roster
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
    "optimise_roster",
]
