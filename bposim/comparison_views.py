"""How a comparison of two scenarios reads (`bposim.comparison`), for the CLI's table and the HTML report alike:
"service level 78.1% → 82.2%: +4.1 pts [2.8, 5.4]", "ASA 12.3 s → 9.1 s: −3.2 s [−4.0, −2.4]"."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bposim.formatting import MISSING, missing

LABELS = {
    "service_level": "service level",
    "asa_seconds": "ASA",
    "abandon_rate": "abandonment",
    "occupancy": "occupancy",
    "total_cost": "cost",
}
HEADER = ["Call type", "KPI", "A", "B", "B − A [95% CI]", "Unpaired ±"]


@dataclass(frozen=True)
class ComparisonRows:
    """The comparison as text rows under HEADER, with whether each difference's interval excludes 0."""

    header: list[str]
    rows: list[list[str]]
    significant: list[bool]


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The rows to show: every call type's, or with one call type only the overall ones (the same figures)."""
    if table["call_type"].nunique() == 2 and (table["call_type"] == "all").any():
        return table[table["call_type"] == "all"]
    return table


def comparison_rows(table: pd.DataFrame) -> ComparisonRows:
    """The comparison's rows (`shown`) as text under HEADER."""
    table = shown(table)
    rows = [
        [
            row.call_type,
            LABELS.get(row.kpi, row.kpi),
            value_text(row.a, row.unit),
            value_text(row.b, row.unit),
            difference_text(row.difference, row.low, row.high, row.unit),
            "±" + amount_text(row.unpaired_half_width, row.unit),
        ]
        for row in table.itertuples(index=False)
    ]
    return ComparisonRows(HEADER, rows, [bool(flag) for flag in table["significant"]])


def value_text(value: float, unit: str) -> str:
    """A KPI's value: "78.1%", "12.3 s", "12,345 EUR"."""
    if missing(value):
        return MISSING
    if unit == "share":
        return f"{value:.1%}"
    return amount_text(value, unit)


def amount_text(value: float, unit: str, signed: bool = False) -> str:
    """A difference's size: points for shares ("4.1 pts"), seconds ("3.2 s"), money ("1,234 EUR")."""
    if missing(value):
        return MISSING
    sign = "+" if signed else ""
    if unit == "share":
        return f"{_unsigned_zero(value * 100, 1):{sign}.1f} pts"
    if unit == "seconds":
        return f"{_unsigned_zero(value, 1):{sign}.1f} s"
    return f"{_unsigned_zero(value, 0):{sign},.0f} {unit}"


def difference_text(difference: float, low: float, high: float, unit: str) -> str:
    """ "+4.1 pts [2.8, 5.4]" (the paired 95% interval in brackets; none with one replication)."""
    text = amount_text(difference, unit, signed=True)
    if missing(low) or missing(high):
        return text
    scale = 100 if unit == "share" else 1
    digits = 1 if unit in ("share", "seconds") else 0
    low, high = (_unsigned_zero(bound * scale, digits) for bound in (low, high))
    return f"{text} [{low:,.{digits}f}, {high:,.{digits}f}]"


def _unsigned_zero(value: float, digits: int) -> float:
    """`value` rounded to `digits`, a rounded −0 as 0 ("0.0", never "-0.0")."""
    return round(value, digits) + 0.0


def in_points(table: pd.DataFrame) -> pd.DataFrame:
    """The differences in the units a chart shows: shares as percentage points, the rest as they are."""
    scale = table["unit"].eq("share").map({True: 100.0, False: 1.0})
    return table.assign(**{column: table[column] * scale for column in ("difference", "low", "high")})
