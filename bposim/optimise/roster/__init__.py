"""The closed loop: the cheapest roster of the scenario's shift patterns whose simulated service level meets the
target in every interval.

Modules: `loop` (`optimise_roster`: the rounds, the trim, the verification), `plan` (`RosterPlan`), `proposal` (a
roster for a requirement, from the shift scheduling programme), `evaluation` (a roster judged by simulation: the
service levels and the misses), `trim` (taking back the slack the shifts left), `shortfall` (where a roster misses,
in words), `weekly` (agents' weeks under contracts on a calendar horizon).
"""

from bposim.optimise.roster.evaluation import call_type_service_levels, interval_service_levels
from bposim.optimise.roster.loop import VERIFICATION_SEED_OFFSET, optimise_roster
from bposim.optimise.roster.plan import RosterPlan
from bposim.optimise.roster.proposal import roster_scenario
from bposim.optimise.roster.weekly import WeeklyPlan

__all__ = [
    "VERIFICATION_SEED_OFFSET",
    "RosterPlan",
    "WeeklyPlan",
    "call_type_service_levels",
    "interval_service_levels",
    "optimise_roster",
    "roster_scenario",
]
