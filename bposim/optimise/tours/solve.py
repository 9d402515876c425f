"""Solving the tour programme: checks, HiGHS with a node and a time limit, the named roster, and when nothing
meets the requirement, which of the limits is to blame."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from bposim.optimise.tours.checks import check_coverable, check_problem, required_arrays
from bposim.optimise.tours.model import TourError, TourProblem
from bposim.optimise.tours.plan import TourPlan, coverage_table
from bposim.optimise.tours.programme import Programme, build
from bposim.optimise.tours.quiet import quiet_solver
from bposim.optimise.tours.repeat import block, repeated, repeating_period
from bposim.optimise.tours.roster import agents
from bposim.optimise.tours.weeks import skeletons

DIAGNOSIS_SECONDS = 30.0


def solve_tours(
    problem: TourProblem,
    requirement: pd.DataFrame,
    *,
    time_limit: float = 60.0,
    node_limit: int | None = None,
    mip_rel_gap: float = 1e-6,
    repeat: bool = True,
) -> TourPlan:
    """The cheapest weekly roster whose agents on the phones cover `requirement` (columns group, day, interval,
    required: agents) in every interval, each agent's weeks meeting its contract.

    HiGHS searches until the roster is proven cheapest (within `mip_rel_gap`), `node_limit` branch-and-bound nodes
    are spent or `time_limit` seconds have passed; the plan then holds the cheapest roster found, `optimal`
    False and `gap` its distance to the bound. When the weeks repeat (same days, same requirement) and `repeat`,
    one week is solved (two with alternate weekends) and repeated (`repeat` module: the cheapest roster whose
    weeks repeat, its gap that of the week's programme). Raises TourError for bad input, an interval no contract's
    shift can cover, a contract whose rules no week meets, and limits that leave no roster (naming them)."""
    began = time.perf_counter()
    check_problem(problem)
    required = required_arrays(problem, requirement)
    found = skeletons(problem)
    check_coverable(problem, required, found)
    programme = build(problem, found, required)
    period = repeating_period(problem, required) if repeat else None
    result = _solve_repeated(programme, required, period, time_limit, node_limit, mip_rel_gap) if period else None
    if result is None or result.x is None:
        result = _solve(programme, time_limit, node_limit, mip_rel_gap)
    if result.x is None:
        if result.status == 2:
            raise TourError(_diagnosis(problem, found, required))
        raise TourError(
            f"the tour programme found no roster within {time_limit:g} s"
            + (f" and {node_limit} nodes" if node_limit is not None else "")
            + f" ({result.message}); allow more time or fewer shift types"
        )
    crew = agents(programme, np.round(result.x))
    cost = float(sum(problem.shifts[s].cost for agent in crew for s in agent.shifts if s is not None))
    return TourPlan(
        problem,
        tuple(crew),
        coverage_table(problem, crew, required),
        cost,
        result.status == 0,
        float(getattr(result, "mip_gap", 0.0) or 0.0),
        time.perf_counter() - began,
    )


def _solve(programme: Programme, time_limit: float, node_limit: int | None, mip_rel_gap: float):
    constraints = LinearConstraint(programme.matrix(), programme.lower_bounds, programme.upper_bounds)
    with quiet_solver():
        return milp(
            np.array(programme.cost),
            integrality=np.ones(len(programme.cost)),
            bounds=Bounds(0, np.array(programme.upper)),
            constraints=constraints,
            options={"time_limit": time_limit, "node_limit": node_limit, "mip_rel_gap": mip_rel_gap},
        )


def _solve_repeated(
    programme: Programme,
    required: dict,
    period: int,
    time_limit: float,
    node_limit: int | None,
    mip_rel_gap: float,
) -> OptimizeResult:
    """The programme of the first `period` weeks, cyclic, solved and repeated over the horizon: the result with
    `x` the whole programme's values (None when the repeating weeks have no roster: the whole horizon is then
    solved, which may still find one or say why not)."""
    problem, needed = block(programme.problem, required, period)
    representative = build(problem, skeletons(problem), needed, cyclic=True)
    result = _solve(representative, time_limit, node_limit, mip_rel_gap)
    if result.x is None:
        return result
    values = repeated(programme, representative, np.round(result.x))
    return OptimizeResult(x=values, status=result.status, message=result.message, mip_gap=result.get("mip_gap"))


def _diagnosis(problem: TourProblem, found: list, required: dict) -> str:
    """Which limits leave no roster: the programme solved again without the workable limits, then without the
    headcount limits."""
    limits = problem.limits
    if limits.max_starts_per_day is not None or limits.min_agents_per_line is not None:
        relaxed = _solve(build(problem, found, required, workable=False), DIAGNOSIS_SECONDS, None, 1e-2)
        if relaxed.x is not None:
            parts = []
            if limits.max_starts_per_day is not None:
                parts.append(f"at most {limits.max_starts_per_day} start times per day")
            if limits.min_agents_per_line is not None:
                parts.append(f"at least {limits.min_agents_per_line} agents on every shift line used")
            return f"no roster meets the requirement with {' and '.join(parts)} (limits); without them one does"
    capped = [contract for contract in problem.contracts if contract.max_agents is not None]
    if capped:
        relaxed = _solve(
            build(problem, found, required, headcount=False, workable=False), DIAGNOSIS_SECONDS, None, 1e-2
        )
        if relaxed.x is not None:
            listed = ", ".join(f"{contract.name}: {contract.max_agents}" for contract in capped)
            return f"max_agents too low: no roster meets the requirement with at most {listed} agents"
    return (
        "no roster meets the requirement under the contracts' rules (rest between shifts, start windows, days "
        "worked): allow more shift types or looser rules"
    )
