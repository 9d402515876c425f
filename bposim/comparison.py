"""Two scenarios on the same days: what changing one into the other does, with paired 95% confidence intervals.

    import bposim
    a = bposim.load_scenario("models/helpdesk.yaml")
    table = bposim.compare(a, a.updated({"agent_groups.team.agents": 13}), replications=20, seed=1)

Both scenarios are simulated with the same seed and the same replication numbers, so replication r of A and of B
see the same callers, handle times and patience wherever the two scenarios do not change them (common random
numbers: each source of randomness has its own stream, `bposim.engine.sources`). Per call type and overall, each KPI
of B minus A is taken replication by replication, and the mean difference gets the Student-t interval of those
differences (`bposim.metrics.mean_and_ci`): the day-to-day noise both share cancels, and the interval is far
narrower than that of two independent estimates.

The table (`compare`): one row per call type ("all" first: the overall KPIs; with several channels, whose overall
rates are not defined, only the KPIs that are) and KPI — service_level, asa_seconds, abandon_rate, occupancy and,
when both scenarios have costs, total_cost (overall only) — with `unit` (share, seconds or the currency), `a` and
`b` (means over the replications), `difference` (mean of B − A per replication), `low` and `high` (its paired
95% interval), `half_width`, `unpaired_half_width` (Welch's interval of a − b as if the runs were independent:
what the common random numbers save), `pairs` (replications with the KPI defined in both) and `significant`
(the interval excludes 0).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bposim import metrics
from bposim.scenario import Scenario

KPIS = ("service_level", "asa_seconds", "abandon_rate", "occupancy", "total_cost")
SHARES = ("service_level", "abandon_rate", "occupancy")
COLUMNS = [
    "call_type",
    "kpi",
    "unit",
    "a",
    "b",
    "difference",
    "low",
    "high",
    "half_width",
    "unpaired_half_width",
    "pairs",
    "significant",
]
OVERALL = "all"


class CompareError(ValueError):
    """Two scenarios that cannot be compared (their call types differ)."""


def call_type_problem(a: Scenario, b: Scenario, name_a: str, name_b: str) -> str | None:
    """Why `a` and `b` (named `name_a`, `name_b`) cannot be compared call type by call type, or None."""
    types_a, types_b = [ct.name for ct in a.call_types], [ct.name for ct in b.call_types]
    if set(types_a) == set(types_b):
        return None
    only_a = [name for name in types_a if name not in types_b]
    only_b = [name for name in types_b if name not in types_a]
    parts = [f"only in {name}: {', '.join(names)}" for name, names in ((name_a, only_a), (name_b, only_b)) if names]
    return (
        f"{name_a} and {name_b} have different call types ({'; '.join(parts)}); a comparison needs the same call "
        "types in both"
    )


def replication_kpis(scenario: Scenario, seed: int = 0, replications: int = 10) -> pd.DataFrame:
    """One row per replication × call type ("all" first) × KPI of `KPIS` the run has: replication, call_type, kpi,
    value (NaN where a KPI is not defined on that replication, e.g. no call answered)."""
    from bposim.run import simulate_replication

    rows = []
    for replication in range(replications):
        summary = simulate_replication(scenario, seed, replication, tables=()).summary
        parts = [(OVERALL, summary), *summary["by_call_type"].items()]
        for call_type, kpis in parts:
            for kpi in KPIS:
                if kpi in kpis and (call_type == OVERALL or kpi != "total_cost"):
                    rows.append((replication, call_type, kpi, float(kpis[kpi])))
    return pd.DataFrame(rows, columns=["replication", "call_type", "kpi", "value"])


def compare(
    scenario_a: Scenario, scenario_b: Scenario, replications: int = 10, seed: int = 0, confidence: float = 0.95
) -> pd.DataFrame:
    """B − A per call type and KPI on the same days, with paired confidence intervals (the module's table).
    Raises `CompareError` when the call types differ."""
    problem = call_type_problem(scenario_a, scenario_b, f"'{scenario_a.name}'", f"'{scenario_b.name}'")
    if problem is not None:
        raise CompareError(problem)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ValueError(f"replications: must be a whole number ≥ 1; got {replications!r}")
    kpis_a = replication_kpis(scenario_a, seed, replications)
    kpis_b = replication_kpis(scenario_b, seed, replications)
    return difference_table(kpis_a, kpis_b, unit_of(scenario_a, scenario_b), confidence)


def unit_of(a: Scenario, b: Scenario) -> dict[str, str]:
    """The unit of each KPI: share, seconds, and the currency of the costs (both scenarios' must agree)."""
    units = {kpi: "share" for kpi in SHARES} | {"asa_seconds": "seconds"}
    currencies = {scenario.costs.currency for scenario in (a, b) if scenario.costs is not None}
    units["total_cost"] = currencies.pop() if len(currencies) == 1 else "cost"
    return units


def difference_table(
    kpis_a: pd.DataFrame, kpis_b: pd.DataFrame, units: dict[str, str], confidence: float = 0.95
) -> pd.DataFrame:
    """The comparison table from the two runs' `replication_kpis`: a KPI is compared where both have it."""
    keys = ["call_type", "kpi", "replication"]
    paired = kpis_a.merge(kpis_b, on=keys, suffixes=("_a", "_b"))
    order = list(dict.fromkeys(kpis_a["call_type"]))
    rows = []
    for (call_type, kpi), part in paired.groupby(["call_type", "kpi"], sort=False):
        a, b = part["value_a"].to_numpy(), part["value_b"].to_numpy()
        both = ~(np.isnan(a) | np.isnan(b))
        if not both.any():
            continue  # not defined here (an overall rate with several channels)
        difference, half = metrics.mean_and_ci((b[both] - a[both]).tolist(), confidence)
        rows.append(
            {
                "call_type": call_type,
                "kpi": kpi,
                "unit": units.get(kpi, ""),
                "a": float(np.nanmean(a)),
                "b": float(np.nanmean(b)),
                "difference": difference,
                "low": difference - half,
                "high": difference + half,
                "half_width": half,
                "unpaired_half_width": welch_half_width(a[both], b[both], confidence),
                "pairs": int(both.sum()),
                "significant": bool(half == half and (difference - half > 0 or difference + half < 0)),
            }
        )
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["call_type"] = pd.Categorical(table["call_type"], categories=order)
    table["kpi"] = pd.Categorical(table["kpi"], categories=KPIS)
    table = table.sort_values(["call_type", "kpi"], kind="stable", ignore_index=True)
    return table.astype({"call_type": str, "kpi": str})


def welch_half_width(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> float:
    """The half-width of Welch's interval for mean(b) − mean(a) from two independent samples (NaN below two each;
    0 when neither varies)."""
    n_a, n_b = len(a), len(b)
    if n_a < 2 or n_b < 2:
        return math.nan
    from scipy import stats

    var_a, var_b = np.var(a, ddof=1) / n_a, np.var(b, ddof=1) / n_b
    spread = var_a + var_b
    if spread == 0:
        return 0.0
    freedom = spread**2 / (var_a**2 / (n_a - 1) + var_b**2 / (n_b - 1))
    return float(stats.t.ppf(0.5 + confidence / 2, freedom) * math.sqrt(spread))
