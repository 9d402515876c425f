"""Where a roster misses its targets, in words: on the search days when the loop stops, on the fresh days of the
verification, and the trunk lines' part in it."""

from __future__ import annotations

import pandas as pd

from bposim.formatting import points, share
from bposim.optimise.roster.evaluation import worst_first
from bposim.scenario import Scenario
from bposim.scenario.call_types import LIVE_CHANNELS

LISTED = 6  # intervals named in a shortfall, the furthest below target first


def misses_text(misses: pd.DataFrame) -> str:
    """E.g. ``2 interval(s) still miss their target: support 08:00 76.3% < 80% (3.7 points short); ...``."""
    return f"{len(misses)} interval(s) still miss their target: {_listed(misses, spread=False)}"


def fresh_shortfall_text(achieved: pd.DataFrame, by_type: pd.DataFrame, days: int, seed: int) -> str:
    """E.g. ``on 10 fresh days (seed 1000), 2 interval(s) are below target beyond the 95% CI: support 08:00
    71.2% ± 3.1% < 80% (8.8 points short), ...``; "" when none is and no call type is over the day."""
    missed = achieved[~achieved["met"].astype(bool)]
    short_types = by_type[~by_type["met"].astype(bool)]
    if missed.empty and short_types.empty:
        return ""
    parts = []
    if len(missed):
        beyond = "beyond the 95% CI" if days > 1 else "(one day gives no confidence interval)"
        parts.append(f"{len(missed)} interval(s) are below target {beyond}: {_listed(missed, spread=True)}")
    channels = short_types["channel"] if "channel" in short_types else pd.Series("voice", index=short_types.index)
    live = short_types[channels.isin(LIVE_CHANNELS)]
    if len(live):
        parts.append(
            "over the day "
            + ", ".join(
                f"{row.call_type} {share(row.service_level)} < {share(row.target, digits=0)}"
                for row in live.itertuples(index=False)
            )
        )
    parts += [
        f"{row.call_type} {share(row.service_level)} of the items due done by their due time < "
        f"{share(row.target, digits=0)}"
        for row in short_types[~channels.isin(LIVE_CHANNELS)].itertuples(index=False)
    ]
    return f"on {days} fresh day{'' if days == 1 else 's'} (seed {seed}), " + "; ".join(parts)


def busy_signals_text(scenario: Scenario, intervals: pd.DataFrame, misses: pd.DataFrame) -> str:
    """The trunk lines' part in the missed intervals: the share of their attempts that got a busy signal, and
    whether that alone keeps a target out of reach; "" without trunk lines or busy signals."""
    lines = scenario.trunk_lines
    if lines is None or misses.empty:
        return ""
    missed = set(zip(misses["call_type"].astype(str), misses["interval"].astype(int), strict=True))
    keys = zip(intervals["call_type"].astype(str), intervals["interval"].astype(int), strict=True)
    mine = intervals[[key in missed for key in keys]]
    counts = mine.groupby(["call_type", "interval"], observed=True)[["offered", "blocked"]].sum()
    if counts.empty or not counts["blocked"].sum():
        return ""
    turned_away = counts["blocked"] / counts["offered"].where(counts["offered"] > 0)
    targets = misses.set_index(["call_type", "interval"])["target"].reindex(turned_away.index)
    hopeless = turned_away[(1 - turned_away) < targets]
    total = counts["blocked"].sum() / counts["offered"].sum()
    text = (
        f"; trunk_lines: {lines} lines allow at most {lines} calls in the system, and {share(total)} of the "
        "attempts in these intervals got a busy signal"
    )
    if len(hopeless):
        call_type, interval = hopeless.idxmax()
        label = misses.set_index(["call_type", "interval"]).loc[(call_type, interval), "interval_start"]
        text += (
            f" ({share(hopeless.max())} at {call_type} {label}: more lines are needed there, not more agents, "
            "as no staffing answers the callers turned away)"
        )
    return text


def _listed(missed: pd.DataFrame, spread: bool) -> str:
    """The intervals furthest below target, e.g. ``support 08:00 76.3% < 80% (3.7 points short)``, with the 95%
    half-width after the service level when `spread` (where there is one), and how many more there are."""
    worst = worst_first(missed)
    listed = "; ".join(
        f"{row.call_type} {row.interval_start} {share(row.service_level, row.service_level_ci if spread else None)}"
        f" < {share(row.target, digits=0)} ({points(row.gap)} points short)"
        for row in worst.head(LISTED).itertuples(index=False)
    )
    more = f"; and {len(worst) - LISTED} more" if len(worst) > LISTED else ""
    return listed + more
