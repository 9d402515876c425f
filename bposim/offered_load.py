"""The load planning counts per call type: its own arrivals, the legs transfers pass on to it, and the repeat
contacts of unresolved journeys coming back from earlier days. From the scenario alone, per interval of a day.

Transferred in. A caller answered at call type i is passed on to j with P_ij, the transfer's probability averaged
over the groups that serve i first (priority 1; every holder when none does), equal weights. The legs reaching
each call type, v, solve v = a + (s P)ᵀ v, a the call types' own arrivals and s the answered share of their legs,
taken as 1: every leg answered, an upper bound close to the truth when the service level is met (the simulation
has the true share). A leg counts in the interval its journey began: the talk before a transfer is short against
an interval (an approximation).

Repeats. A journey ends at call type k when its leg there is answered and not passed on, e_k = v_k (1 − Σ_j P_kj);
it is unresolved with 1 − f_k (f_k the resolution `probability`, or the mean of `by_group` over the groups that
serve k first; proficiency and AI assist are left to the simulation), and comes back with `repeat_probability`
q_k as a new contact of k. Contacts of generation m (first contacts: 0) bring e_k^(m) (1 − f_k) q_k repeats of
generation m + 1 while m < `max_repeats`, and each generation flows through the transfers as the first does, so
the repeats are a geometric series cut at `max_repeats`. That is the steady state, days after the first (day 0 has
none): a plan repeated every day must cover the busy days. Repeats come at the time of day of the journeys that
bring them (a delay of whole days keeps the time of day; one due in closed hours is spread over the next day's:
an approximation). Live call types only: email and case work has a start of its own.

Conferences. A warm transfer holds both agents for its conference: `conference_seconds` adds, per contact of a
call type, the mean conference of the warm transfers it makes (its agent stays on the line) and of those it
receives (its agent talks it before its own talk). The hold before the second agent answers, the target's wait,
is left out (short when the target's service level is met).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bposim.scenario import Scenario
from bposim.scenario.residency import resident_centre


@dataclass(frozen=True)
class OfferedLoad:
    """Per call type × interval, calls per hour: own arrivals, legs transferred in, and repeat contacts; per call
    type × call type × interval the legs passed on from one to the other (`passed[i, j]`); and per call type ×
    interval the seconds of warm-transfer conference a contact adds to its agent's work (`conference_seconds`)."""

    own: np.ndarray
    transferred: np.ndarray
    repeats: np.ndarray
    passed: np.ndarray
    conference_seconds: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.own + self.transferred + self.repeats


def has_journeys(scenario: Scenario) -> bool:
    """Whether some live call type passes callers on or has resolution (else the load is the own arrivals)."""
    return any(ct.live and (ct.transfers or ct.resolution is not None) for ct in scenario.call_types)


def offered_load(scenario: Scenario, own: np.ndarray) -> OfferedLoad:
    """The planning load of `scenario` from its call types' own hourly rates per interval, `own` (types ×
    intervals; email and case rows are left as they are and bring no legs or repeats)."""
    own = np.asarray(own, float)
    size = len(scenario.call_types)
    none = np.zeros_like(own)
    if not has_journeys(scenario):
        return OfferedLoad(own, none, none, np.zeros((size, *own.shape)), none)
    live = np.array([ct.live for ct in scenario.call_types], bool)
    chance = transfer_chances(scenario)
    reach = np.linalg.inv(np.eye(size) - chance.T)  # legs at each call type per arrival: v = reach @ a
    ending = 1.0 - chance.sum(axis=1)  # of the legs answered at k, those ending their journey there
    unresolved, repeat, depth = _repeat_rules(scenario)
    arrivals = np.where(live[:, None], own, 0.0)
    legs = reach @ arrivals
    visits, repeats = legs.copy(), np.zeros_like(own)
    for generation in range(int(depth.max(initial=0))):
        coming = (legs * ending[:, None]) * (unresolved * repeat * (generation < depth))[:, None]
        if not coming.any():
            break
        repeats += coming
        legs = reach @ coming
        visits += legs
    transferred = visits - arrivals - repeats
    passed = visits[:, None, :] * chance[:, :, None]
    conference = _conferences(scenario)  # seconds per caller answered at i, by target j
    received = np.einsum("it,ik->kt", visits, conference)  # conference seconds per hour at each target
    with np.errstate(invalid="ignore", divide="ignore"):
        extra = conference.sum(axis=1)[:, None] + np.where(visits > 0, received / visits, 0.0)
    extra = np.where(visits > 0, extra, 0.0)
    return OfferedLoad(own, np.maximum(transferred, 0.0), repeats, passed, extra)


def transfer_chances(scenario: Scenario) -> np.ndarray:
    """P[i, j]: the chance a caller answered at call type i is passed on to j, averaged over the groups that serve
    i first (every holder when none does)."""
    index = {ct.name: i for i, ct in enumerate(scenario.call_types)}
    chance = np.zeros((len(index), len(index)))
    for i, call_type in enumerate(scenario.call_types):
        if not call_type.transfers:
            continue
        groups = _first_groups(scenario, call_type.name)
        for transfer in call_type.transfers:
            chance[i, index[transfer.to]] += np.mean([transfer.probability_for(g) for g in groups] or [0.0])
    return chance


def _conferences(scenario: Scenario) -> np.ndarray:
    """C[i, j]: the mean conference seconds per caller answered at i of its warm transfers to j (the chance,
    averaged over the groups that serve i first, × the conference's mean)."""
    index = {ct.name: i for i, ct in enumerate(scenario.call_types)}
    seconds = np.zeros((len(index), len(index)))
    for i, call_type in enumerate(scenario.call_types):
        groups = _first_groups(scenario, call_type.name)
        for transfer in call_type.transfers:
            if transfer.mode == "warm":
                chance = np.mean([transfer.probability_for(g) for g in groups] or [0.0])
                seconds[i, index[transfer.to]] += chance * transfer.conference.mean
    return seconds


def _repeat_rules(scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per call type: the chance an ending contact is unresolved, the repeat probability and max_repeats (0 for
    call types without resolution, and for email and case work)."""
    unresolved, repeat, depth = [], [], []
    for call_type in scenario.call_types:
        rule = call_type.resolution
        if rule is None or not call_type.live:
            unresolved.append(0.0)
            repeat.append(0.0)
            depth.append(0)
            continue
        groups = _first_groups(scenario, call_type.name)
        resolved = np.mean([rule.by_group.get(g, rule.probability) for g in groups] or [rule.probability])
        unresolved.append(1.0 - float(resolved))
        repeat.append(rule.repeat_probability)
        depth.append(rule.max_repeats)
    return np.array(unresolved), np.array(repeat), np.array(depth, int)


def _first_groups(scenario: Scenario, name: str) -> list[str]:
    """The groups that serve a call type first (priority 1), else every group holding the skill."""
    served_by = resident_centre(scenario).agent_groups  # the skills as run
    holders = [(g.name, s.priority) for g in served_by for s in g.skills if s.call_type == name]
    first = [group for group, priority in holders if priority == 1]
    return first or [group for group, _ in holders]


def load_lines(scenario: Scenario, load: OfferedLoad) -> list[str]:
    """One line per call type with legs transferred in or repeats: its mean calls per hour over the day's open
    intervals, own + transferred (from which call types) + repeats ("tier2: 12 calls/h of its own + 7 transferred
    from tier1 + 2 repeats")."""
    names = [ct.name for ct in scenario.call_types]
    open_intervals = load.total.sum(axis=0) > 0
    if not open_intervals.any():
        return []

    def hourly(values: np.ndarray) -> float:
        return float(values[..., open_intervals].mean(axis=-1))

    lines = []
    for k, name in enumerate(names):
        transferred, repeats = hourly(load.transferred[k]), hourly(load.repeats[k])
        if transferred < 0.05 and repeats < 0.05:
            continue
        unit = "contacts/h" if scenario.call_types[k].channel != "voice" else "calls/h"
        text = f"{name}: {hourly(load.own[k]):.3g} {unit} of its own"
        if transferred >= 0.05:
            sources = [names[i] for i in range(len(names)) if i != k and hourly(load.passed[i, k]) >= 0.05]
            if hourly(load.passed[k, k]) >= 0.05:
                sources.append("itself")
            text += f" + {transferred:.3g} transferred from {', '.join(sources)}"
        if repeats >= 0.05:
            text += f" + {repeats:.3g} repeats"
        lines.append(text)
    return lines
