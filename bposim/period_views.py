"""Service level by period as a planner reads it, for `bposim run` and the reports: per call type, each period's
service level and the chance it meets its target ("P(week of Mon 1 Mar meets 80/20) = 0.93 (0.85–0.97)"), then
every period together. The figures are those of `summary["periods"]` (`bposim.periods`)."""

from __future__ import annotations

import math
from typing import NamedTuple

import plotly.graph_objects as go

from bposim.formatting import MISSING, missing, share
from bposim.periods import wilson

_PLURAL = {"interval": "intervals", "day": "days", "week": "weeks", "month": "months"}


class PeriodRow(NamedTuple):
    """One line of the table: call type, period label, service level (mean ± half-width), target (as "80/20"),
    P(met) with its interval, and whether it is sure to meet (True), sure to miss (False), or neither (None)."""

    call_type: str
    period: str
    service_level: str
    goal: str
    p_met: str
    meets: bool | None


def by_period(summary: dict) -> bool:
    """Whether some call type's target is measured over days, weeks or months (not by the interval)."""
    return any(own["period"] != "interval" for own in summary.get("periods", {}).values())


def goal(own: dict) -> str:
    """A call type's target as planners say it: "80/20" (80% within 20 seconds), or for deferred work "90% in 24 h"."""
    target = f"{own['target'] * 100:g}"
    if own.get("channel") in ("email", "case"):
        return f"{target}% in {own['threshold_seconds'] / 3600:g} h"
    return f"{target}/{own['threshold_seconds']:g}"


def probability(value: float, low: float, high: float) -> str:
    """A probability with its 95% interval: "0.93 (0.85–0.97)"; "—" when missing."""
    if missing(value):
        return MISSING
    return f"{value:.2f} ({low:.2f}–{high:.2f})"


def period_rows(summary: dict) -> list[PeriodRow]:
    """Per call type measured over days, weeks or months: a row per period, then one for all its periods (the
    share of them met, and P(every one met); left out when there is one period); per call type measured by the
    interval, that row alone."""
    rows = []
    for name, own in summary.get("periods", {}).items():
        target = goal(own)
        for item in own.get("by_period") or []:
            label = item["label"] + (" (partial)" if item["partial"] else "")
            rows.append(
                PeriodRow(
                    name,
                    label,
                    share(item["service_level"], item.get("service_level_ci")),
                    target,
                    probability(item["p_met"], item["p_met_low"], item["p_met_high"]),
                    _sure(item["p_met"], item["p_met_low"], item["p_met_high"]),
                )
            )
        count = own["periods"]
        if count == 1 and own.get("by_period"):
            continue  # its one period's row says it all
        half = own.get("periods_met_share_ci")
        rows.append(
            PeriodRow(
                name,
                f"all {count} {_PLURAL[own['period']] if count != 1 else own['period']}",
                f"{share(own['periods_met_share'], None if half == 0 else half, digits=0)} of them met",
                target,
                probability(own["p_all_met"], own["p_all_met_low"], own["p_all_met_high"]),
                _sure(own["p_all_met"], own["p_all_met_low"], own["p_all_met_high"]),
            )
        )
    return rows


def _sure(value: float, low: float, high: float) -> bool | None:
    """Met in every replication (True), in none (False), else neither."""
    if missing(value):
        return None
    return True if value == 1.0 else False if value == 0.0 else None


def sentences(summary: dict, replications: int) -> list[str]:
    """One line per call type measured over days, weeks or months: "voice: P(every week meets 80/20) = 0.93
    (0.85–0.97); weakest, week of Mon 15 Mar: P = 0.80 (...)" over the replications (the weakest period named when
    some period missed)."""
    lines = []
    for name, own in summary.get("periods", {}).items():
        if own["period"] == "interval":
            continue
        text = (
            f"{name}: P(every {own['period']} meets {goal(own)}) = "
            f"{probability(own['p_all_met'], own['p_all_met_low'], own['p_all_met_high'])}"
        )
        items = own.get("by_period") or []
        weakest = min(items, key=lambda item: (item["p_met"], _level(item))) if len(items) > 1 else None
        if weakest is not None and weakest["p_met"] < 1:
            text += (
                f"; weakest, {weakest['label']}: P = "
                f"{probability(weakest['p_met'], weakest['p_met_low'], weakest['p_met_high'])}"
            )
        lines.append(text + f" over {replications} replication{'s' if replications != 1 else ''}.")
    return lines


def _level(item: dict) -> float:
    value = item["service_level"]
    return math.inf if missing(value) else value


def cell_probability(mean: float, replications: int) -> str:
    """P(...) of a sweep cell from the mean of a 0/1 column over its replications, with its Wilson interval."""
    return probability(mean, *wilson(mean, replications))


def period_chart(summary: dict) -> go.Figure | None:
    """Each period's service level per call type measured over days, weeks or months: a bar per period (the mean
    over the replications, with its 95% half-width), the target as a dash across it, the bar dimmed where the period
    met its target in fewer than half the replications; P(met) in the hover. None when no call type has periods."""
    from bposim.charts import PALETTE, styled

    types = [(name, own) for name, own in summary.get("periods", {}).items() if own.get("by_period")]
    if not types:
        return None
    fig = go.Figure()
    for number, (name, own) in enumerate(types):
        items = own["by_period"]
        labels = [item["label"] + (" (partial)" if item["partial"] else "") for item in items]
        fig.add_bar(
            name=f"{name} ({goal(own)} per {own['period']})",
            x=labels,
            y=[item["service_level"] for item in items],
            error_y={"type": "data", "array": [_half(item) for item in items], "visible": True},
            marker={
                "color": PALETTE[number % len(PALETTE)],
                "opacity": [1.0 if item["p_met"] >= 0.5 else 0.35 for item in items],
            },
            offsetgroup=str(number),
            customdata=[probability(item["p_met"], item["p_met_low"], item["p_met_high"]) for item in items],
            hovertemplate=f"{name}, %{{x}}<br>service level %{{y:.1%}}<br>P(met) %{{customdata}}<extra></extra>",
        )
        fig.add_scatter(
            x=labels,
            y=[own["target"]] * len(items),
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 28, "color": "black", "line": {"width": 3}},
            offsetgroup=str(number),
            name="target",
            legendgroup="target",
            showlegend=number == 0,
            hovertemplate=f"{name} target %{{y:.0%}}<extra></extra>",
        )
    return styled(
        fig,
        "Service level by period (bars dimmed: the period met its target in fewer than half the replications)",
        barmode="group",
        scattermode="group",
        yaxis={"tickformat": ".0%", "range": [0, 1.05], "title": "service level"},
        xaxis={"title": None},
        legend={"orientation": "h", "y": -0.15},
    )


def _half(item: dict) -> float:
    half = item.get("service_level_ci")
    return 0.0 if half is None or missing(half) else half
