"""Weekly tour scheduling: the cheapest set of agents' weeks (a shift or a day off for each day) that covers a
requirement per group, day and interval, each week meeting its contract.

Rules. A contract (full time, part time, ...) gives each week's days worked (min-max), the days off held
together (a run of at least k consecutive days off), a weekend rule (Saturday or Sunday off, both off, or both
off every other week), the rest between the end of a shift and the start of the next (across weeks too), a
window the week's start times lie in, the paid hours a week holds at most, and a headcount limit. Limits keep the
roster workable: at most N distinct start times per group and day, at least M agents on any shift line used (a
shift type on a day).

Formulation (an implicit tour model, after Bailey 1985 and Jarrah, Bard & deSilva 1994). Enumerating tours
outright multiplies the days-off patterns by the shift types of each worked day (S^5 for five days). Instead a
skeleton (`weeks`) fixes a contract, a crew, a week, the days worked (a pattern meeting the days, days-off and
weekend rules), a start band (shift types starting within the window of the band's earliest start) and, where
the weekly hours limit can bind, the paid hours of each worked day; every choice of one shift per worked day
among its options meets the weekly rules. The programme (`programme`), all variables integer:

    w[k]              agents on skeleton k;  Σ_k of class (c, r) in week t  w[k] = H[c, r]  (each week, the same
                      agents), Σ_r H[c, r] ≤ max_agents[c]
    y[k, j, s]        agents of k working shift s on its j-th worked day;  Σ_s y[k, j, s] = w[k]
    x[g, d, s]        = Σ y over skeletons working s on day d (a shift line);  z[g, d, s, b, t] agents taking
                      break b at its t-th start, Σ_t z = x (implicit break placement, Aykin 1996)
    coverage          Σ_s a[s, i] x[g, d, s] − Σ break shares · z ≥ required[g, d, i]  (the interval floor; a
                      period target would add rows over the same sums)
    rest              for consecutive worked days j, j+1 and each end e:  Σ_{s ends ≥ e} y[k, j, s] ≤
                      Σ_{s starts ≥ e + rest} y[k, j+1, s]
    limits            u[g, d, τ] binary, Σ_{s starts at τ} x ≤ M·u, Σ_τ u ≤ N;  v binary, m·v ≤ x ≤ M·v

minimising Σ y[k, j, s] · paid hours(s) · cost per paid hour(s). Rest is Hall's condition for matching one day's
agents to the next day's shifts: an agent ending later can follow with fewer shifts, so the sets of agents
ending at e or later are the only ones to check, and the matching exists whenever these rows hold (`roster`
builds it, latest end first). The same rows join one week's last shifts to the next week's first (or its weeks
off), per contract and crew.

Weeks are independent: each week of the horizon (7-day blocks from its first day) has its own tours, tied to the
next only by the same headcount and the rest across the boundary. The weekly rules hold within each week (days
off at the turn of a week are not joined into one run); the "alternate" weekend rule splits a contract into two
crews, crew r having Saturday and Sunday off in the weeks t with t % 2 == r. The big M is the group's headcount
limit, else a bound on the agents a cheapest roster holds (`programme.agent_bound`).

When every week has the same days and the same requirement (as `bposim staff`'s typical day makes them), one week
is solved (two under an "alternate" weekend rule) with its rest rows cyclic, the last week joined to the first, and
repeated over the horizon (`repeat`): the cheapest roster whose weeks repeat, on a programme the horizon's weeks
times smaller.

The programme is solved by HiGHS (`scipy.optimize.milp`) with a node limit and a time limit; when either stops
the search, the plan holds the best roster found and the gap to the solver's bound. What HiGHS prints on its own
is kept off the terminal (`quiet`).
"""

from bposim.optimise.tours.model import BreakWindow, Contract, Day, Limits, ShiftType, TourError, TourProblem
from bposim.optimise.tours.plan import TourPlan
from bposim.optimise.tours.solve import solve_tours

__all__ = [
    "BreakWindow",
    "Contract",
    "Day",
    "Limits",
    "ShiftType",
    "TourError",
    "TourPlan",
    "TourProblem",
    "solve_tours",
]
