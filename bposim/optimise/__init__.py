"""Optimisation: staffing requirements per interval, and the cheapest roster of shifts that meets them."""

from bposim.optimise.schedule import Pattern, Schedule, ScheduleError, enumerate_patterns, solve_schedule

__all__ = ["Pattern", "Schedule", "ScheduleError", "enumerate_patterns", "solve_schedule"]
