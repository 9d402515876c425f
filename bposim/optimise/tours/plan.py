"""A solved tour programme as tables: the named schedule, each agent's days, the weekly tours and the coverage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bposim.optimise.coverage import clock
from bposim.optimise.tours.model import TourProblem
from bposim.optimise.tours.programme import break_row, shift_row
from bposim.optimise.tours.roster import Agent

OFF = "off"
ASSIGNMENT_COLUMNS = (
    "agent",
    "contract",
    "group",
    "day",
    "day_name",
    "weekday",
    "shift",
    "hours",
    "start",
    "end",
    "paid_hours",
    "cost",
    "breaks",
)


@dataclass(frozen=True)
class TourPlan:
    """The cheapest weekly roster found: its agents, what they cost, how they cover the requirement, and how far
    from proven cheapest it is (`gap`, the solver's relative gap to its bound; 0 when `optimal`)."""

    problem: TourProblem
    agents: tuple[Agent, ...]
    coverage: pd.DataFrame
    cost: float
    optimal: bool
    gap: float
    seconds: float

    def hours(self, agent: Agent, d: int) -> str:
        """The agent's day as text: "08:00-16:30" or "off"."""
        s = agent.shifts[d]
        if s is None:
            return OFF
        shift = self.problem.shifts[s]
        return f"{clock(shift.start)}-{clock(shift.end)}"

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per agent and day: the shift type ("off" when none), its hours, start and end (seconds after
        midnight, NaN when off), paid hours, cost and breaks ("lunch 12:00, coffee 15:00")."""
        rows = []
        names = self.problem.day_names
        for agent in self.agents:
            contract = self.problem.contracts[agent.contract]
            for d, s in enumerate(agent.shifts):
                shift = None if s is None else self.problem.shifts[s]
                rows.append(
                    {
                        "agent": agent.name,
                        "contract": contract.name,
                        "group": contract.group,
                        "day": d,
                        "day_name": names[d],
                        "weekday": self.problem.days[d].weekday,
                        "shift": OFF if shift is None else shift.name,
                        "hours": self.hours(agent, d),
                        "start": np.nan if shift is None else float(shift.start),
                        "end": np.nan if shift is None else float(shift.end),
                        "paid_hours": 0.0 if shift is None else shift.paid,
                        "cost": 0.0 if shift is None else shift.cost,
                        "breaks": ", ".join(f"{name} {clock(start)}" for name, start, _ in agent.breaks[d]),
                    }
                )
        return pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS))

    @property
    def schedule(self) -> pd.DataFrame:
        """The named schedule: one row per agent (contract, group), one column per day holding "08:00-16:30" or
        "off"."""
        names = self.problem.day_names
        rows = [
            {
                "agent": agent.name,
                "contract": self.problem.contracts[agent.contract].name,
                "group": self.problem.contracts[agent.contract].group,
                **{names[d]: self.hours(agent, d) for d in range(len(names))},
            }
            for agent in self.agents
        ]
        return pd.DataFrame(rows, columns=["agent", "contract", "group", *names])

    @property
    def tours(self) -> pd.DataFrame:
        """The weekly tours worked: week (from 1), contract, the tour ("Mon 08:00-16:30, Tue off, ..."), its
        agents and the paid hours of one of them."""
        counted: Counter = Counter()
        paid = {}
        for agent in self.agents:
            for week, days in enumerate(self.problem.weeks):
                text = ", ".join(f"{self.problem.days[d].name} {self.hours(agent, d)}" for d in days)
                key = (week + 1, self.problem.contracts[agent.contract].name, text)
                counted[key] += 1
                paid[key] = sum(self.problem.shifts[agent.shifts[d]].paid for d in days if agent.shifts[d] is not None)
        rows = [(*key, agents, paid[key]) for key, agents in counted.items()]
        return pd.DataFrame(rows, columns=["week", "contract", "tour", "agents", "paid_hours"])

    @property
    def headcount(self) -> dict[str, int]:
        """Agents per contract."""
        counts = dict.fromkeys((contract.name for contract in self.problem.contracts), 0)
        for agent in self.agents:
            counts[self.problem.contracts[agent.contract].name] += 1
        return counts

    @property
    def paid_hours(self) -> float:
        return float(sum(self.problem.shifts[s].paid for agent in self.agents for s in agent.shifts if s is not None))


def coverage_table(problem: TourProblem, agents: list[Agent], required: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """Per group, day and interval: required agents, agents on the phones (breaks counted off) and logged in,
    counted from the named agents' days."""
    names = problem.day_names
    frames = []
    for group, days in required.items():
        for d, needed in enumerate(days):
            day = problem.days[d]
            scheduled = np.zeros(day.intervals)
            logged_in = np.zeros(day.intervals)
            for agent in agents:
                s = agent.shifts[d]
                if s is None or problem.shifts[s].group != group:
                    continue
                row = shift_row(problem.shifts[s], day)
                for _, start, minutes in agent.breaks[d]:
                    row = row - break_row(start, minutes, day)
                scheduled += row
                logged_in += shift_row(problem.shifts[s], day) > 0
            frames.append(
                pd.DataFrame(
                    {
                        "group": group,
                        "day": d,
                        "day_name": names[d],
                        "interval": np.arange(day.intervals),
                        "interval_start": [clock(day.opens + i * day.interval_seconds) for i in range(day.intervals)],
                        "required": needed,
                        "scheduled": scheduled,
                        "logged_in": logged_in,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
