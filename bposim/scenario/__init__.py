"""Scenario files: the pydantic models of a contact centre, and their loading from YAML."""

from bposim.scenario.call_types import Arrivals, Busyness, CallType, Retrial, ServiceLevel, ServiceLevelOverride
from bposim.scenario.centre import AgentGroup, Horizon, Routing, Scenario, Skill, Staffing
from bposim.scenario.common import SECONDS_PER_DAY
from bposim.scenario.costs import Costs
from bposim.scenario.loading import (
    ScenarioError,
    format_validation_error,
    load_scenario,
    load_yaml_mapping,
    scenario_text,
)
from bposim.scenario.scheduling import BreakRule, Contract, Scheduling, ShiftPattern, StartTimes, WorkableLimits
from bposim.scenario.technology import AiAssist, Callbacks, Effect, Failures, Maintenance, SelfService, Technology, Tool
from bposim.scenario.workforce import Absence, Break, LearningCurve, Shift, Shrinkage

__all__ = [
    "SECONDS_PER_DAY",
    "Costs",
    "Absence",
    "AgentGroup",
    "AiAssist",
    "Callbacks",
    "Effect",
    "Failures",
    "Maintenance",
    "SelfService",
    "Technology",
    "Tool",
    "Arrivals",
    "Break",
    "Busyness",
    "CallType",
    "Horizon",
    "LearningCurve",
    "Retrial",
    "Routing",
    "Scenario",
    "ScenarioError",
    "ServiceLevel",
    "ServiceLevelOverride",
    "Shift",
    "Shrinkage",
    "Skill",
    "Staffing",
    "format_validation_error",
    "load_scenario",
    "load_yaml_mapping",
    "scenario_text",
    "BreakRule",
    "Contract",
    "WorkableLimits",
    "Scheduling",
    "ShiftPattern",
    "StartTimes",
]
