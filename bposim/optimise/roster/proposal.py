"""A roster proposed for a requirement: the shift scheduling programme's side of the loop.

The loop and the trim hold the requirement as an array (scheduled group × interval of the day); `propose` hands it
to the programme (`schedule.solve_schedule`), and `roster_scenario` turns the shifts it chose into the scenario
that is simulated to judge them (`evaluation`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bposim.optimise.schedule import TOLERANCE, Schedule, solve_schedule
from bposim.scenario import Scenario
from bposim.scenario.residency import resident_centre

# The programme's search for one roster stops after SOLVE_NODES branch-and-bound nodes, so that the roster is the same
# whatever the machine's load (a time limit makes it depend on it: on the programme-sized site, two runs of 20 s each
# under different loads took different rounds). SOLVE_SECONDS only guards against a programme far larger than the
# bundled ones: there 300 nodes take at most 8 s (about 4 s of processor time), and each solve proven cheapest on
# the multi-skill site takes under a second. The gap to the proven bound is reported when the search stops short.
SOLVE_NODES = 300
SOLVE_SECONDS = 120.0


def propose(scenario: Scenario, required: np.ndarray, groups: list[str], cheaper_than: float | None = None) -> Schedule:
    """The cheapest roster covering `required` agents (group × interval, `groups` in order), or the cheapest
    HiGHS finds in SOLVE_NODES nodes (`Schedule.optimal`, `Schedule.gap`); ScheduleError when none can, or, with
    `cheaper_than`, when none can for less (`schedule.solve_schedule`)."""
    table = required_table(required, groups)
    return solve_schedule(scenario, table, time_limit=SOLVE_SECONDS, node_limit=SOLVE_NODES, cheaper_than=cheaper_than)


def roster_scenario(scenario: Scenario, schedule: Schedule) -> Scenario:
    """The scenario staffed by the schedule: its shifts replace the scheduled groups' shifts and plan agents."""
    scheduled = set(schedule.coverage["group"])
    data = scenario.model_dump(mode="python", exclude_none=True)
    data.pop("roster_file", None)
    kept = [shift.model_dump(mode="python") for shift in scenario.roster if shift.group not in scheduled]
    data["roster"] = kept + [shift.model_dump(mode="python") for shift in schedule.roster()]
    for group in data["agent_groups"]:
        if group["name"] in scheduled:
            group["agents"] = 0
    return Scenario.model_validate(data)


def on_phones(schedule: Schedule, groups: list[str], intervals: int) -> np.ndarray:
    """Whole agents the roster has on the phones per group and interval (breaks taken out)."""
    scheduled = schedule.coverage.drop(columns="required").rename(columns={"scheduled": "required"})
    return np.floor(required_array(scheduled, groups, intervals) + TOLERANCE)


def required_array(table: pd.DataFrame, groups: list[str], intervals: int) -> np.ndarray:
    """A requirement table (group, interval, required) as an array over `groups` × intervals; other groups left
    out."""
    required = np.zeros((len(groups), intervals))
    for row in table.itertuples(index=False):
        if row.group in groups:
            required[groups.index(row.group), int(row.interval)] = row.required
    return required


def required_table(required: np.ndarray, groups: list[str]) -> pd.DataFrame:
    """The array back as a requirement table, whole agents."""
    intervals = required.shape[1]
    return pd.DataFrame(
        {
            "group": np.repeat(groups, intervals),
            "interval": np.tile(np.arange(intervals), len(groups)),
            "required": required.ravel().round().astype(int),
        }
    )


def group_to_raise(scenario: Scenario, call_type: str, groups: list[str]) -> str | None:
    """The scheduled group that serves a call type first: best routing priority, no overflow delay, cheapest."""
    rates = {entry.group: entry.per_paid_hour for entry in scenario.costs.groups} if scenario.costs else {}
    candidates = [
        (skill.priority, skill.delay_seconds, rates.get(group.name, 1.0), index, group.name)
        for index, group in enumerate(resident_centre(scenario).agent_groups)  # the skills as run
        if group.name in groups
        for skill in group.skills
        if skill.call_type == call_type
    ]
    return min(candidates)[-1] if candidates else None
